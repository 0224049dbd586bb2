//! `edupro doubts list|queue|show|ask|answer|accept|reopen|vote|hide|unhide`: a course's
//! questions and answers. Enrolled students ask and accept an answer; the course's staff
//! and students answer and vote; its staff work through the queue of unanswered doubts
//! and hide abusive posts.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use edupro_server::api::{
    AcceptAnswer, Doubt, DoubtAnswer, DoubtAnswerInput, DoubtFilter, DoubtList, DoubtSort,
    DoubtStatus, DoubtThread, NewDoubt, PersonRef,
};
use uuid::Uuid;

use super::Context;
use super::paging::all_pages;
use crate::api::ApiClient;
use crate::error::{ClientError, Result};
use crate::output::Format;
use crate::when::Zone;

const LIST_EXAMPLES: &str = "\
Examples:
  $ edupro doubts list intro-to-rust
  $ edupro doubts list intro-to-rust --unanswered --sort votes
  $ edupro doubts list intro-to-rust --mine --status RESOLVED
  $ edupro doubts list intro-to-rust --search borrow --limit 10

  # Only the doubts about one lesson, ids and titles as JSON
  $ edupro doubts list intro-to-rust --lesson 0193a1b2-0000-7000-8000-000000000002 \\
      --json id,title";

const QUEUE_EXAMPLES: &str = "\
Examples:
  # What waits for an answer in the courses you teach, oldest first
  $ edupro doubts queue

  # The oldest one's id, to answer it
  $ edupro doubts queue --limit 1 --jq '.[].id'";

const SHOW_EXAMPLES: &str = "\
Examples:
  $ edupro doubts show 0193a1b2-0000-7000-8000-000000000001

  # The answers' ids, the accepted one first
  $ edupro doubts show 0193a1b2-0000-7000-8000-000000000001 --jq '.answers[].id'";

const ASK_EXAMPLES: &str = "\
Examples:
  $ edupro doubts ask intro-to-rust --title \"Why does this move?\" \\
      --body \"After let b = a; I can't use a again.\"

  # About a lesson, with a link, the text from a file
  $ edupro doubts ask intro-to-rust --title \"Lifetimes\" --body-file question.md \\
      --lesson 0193a1b2-0000-7000-8000-000000000002 --link https://play.rust-lang.org/

  # The text from standard input
  $ edupro doubts ask intro-to-rust --title \"Traits\" --body - < question.md";

const ANSWER_EXAMPLES: &str = "\
Examples:
  $ edupro doubts answer 0193a1b2-0000-7000-8000-000000000001 --body \"Use a reference: &a.\"
  $ edupro doubts answer 0193a1b2-0000-7000-8000-000000000001 --body-file answer.md

  # The text from standard input
  $ edupro doubts answer 0193a1b2-0000-7000-8000-000000000001 --body - < answer.md";

const VOTE_EXAMPLES: &str = "\
Examples:
  $ edupro doubts vote 0193a1b2-0000-7000-8000-000000000001
  $ edupro doubts vote 0193a1b2-0000-7000-8000-000000000001 --undo

  # An answer
  $ edupro doubts vote 0193a1b2-0000-7000-8000-000000000003 --answer";

/// `edupro doubts …`.
#[derive(Debug, Subcommand)]
pub enum DoubtsCommand {
    /// A course's doubts, newest first (all pages unless --limit).
    #[command(after_help = LIST_EXAMPLES)]
    List(ListArgs),
    /// Unanswered doubts of the courses you teach, oldest first (admins: every course).
    #[command(after_help = QUEUE_EXAMPLES)]
    Queue {
        /// At most this many doubts.
        #[arg(long)]
        limit: Option<u64>,
    },
    /// A doubt and its answers: the accepted one first, then by votes.
    #[command(after_help = SHOW_EXAMPLES)]
    Show {
        /// The doubt's id (`edupro doubts list`).
        id: Uuid,
    },
    /// Ask a doubt in a course you are enrolled in.
    #[command(after_help = ASK_EXAMPLES)]
    Ask(AskArgs),
    /// Answer a doubt.
    #[command(after_help = ANSWER_EXAMPLES)]
    Answer {
        /// The doubt's id.
        id: Uuid,
        #[command(flatten)]
        text: BodyArgs,
    },
    /// Accept an answer to your doubt: the doubt is RESOLVED.
    Accept {
        /// The doubt's id.
        id: Uuid,
        /// The answer's id (`edupro doubts show`).
        answer: Uuid,
    },
    /// Reopen a resolved doubt (its asker or the course's staff): its answer is no
    /// longer accepted.
    Reopen {
        /// The doubt's id.
        id: Uuid,
    },
    /// Vote for a doubt, or with --answer for an answer (one vote each, not for your
    /// own); --undo takes it back.
    #[command(after_help = VOTE_EXAMPLES)]
    Vote {
        #[command(flatten)]
        target: Target,
        /// Take your vote back.
        #[arg(long)]
        undo: bool,
    },
    /// Hide a doubt or, with --answer, an answer from students (the course's staff and
    /// admins still see it).
    Hide(Target),
    /// Show a hidden doubt or answer to students again.
    Unhide(Target),
}

/// Filters of `doubts list` (those of `GET /courses/{course}/doubts`).
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The course: id, slug or SIS course_id.
    pub course: String,
    /// OPEN, ANSWERED or RESOLVED.
    #[arg(long)]
    pub status: Option<DoubtStatus>,
    /// Only the doubts you asked.
    #[arg(long)]
    pub mine: bool,
    /// Only doubts without an answer yet.
    #[arg(long)]
    pub unanswered: bool,
    /// Match title and body (ignoring case).
    #[arg(long)]
    pub search: Option<String>,
    /// newest (default) or votes.
    #[arg(long)]
    pub sort: Option<DoubtSort>,
    /// Only the doubts about this lesson (its id, from `edupro lessons list`).
    #[arg(long, value_name = "ID")]
    pub lesson: Option<Uuid>,
    /// At most this many doubts.
    #[arg(long)]
    pub limit: Option<u64>,
}

/// Options of `doubts ask`.
#[derive(Debug, Args)]
pub struct AskArgs {
    /// The course: id, slug or SIS course_id.
    pub course: String,
    /// The question in a line (1-200 characters).
    #[arg(long)]
    pub title: String,
    #[command(flatten)]
    pub text: BodyArgs,
    /// The lesson it is about (its id, from `edupro lessons list`).
    #[arg(long, value_name = "ID")]
    pub lesson: Option<Uuid>,
    /// A link that shows the problem (http or https).
    #[arg(long, value_name = "URL")]
    pub link: Option<String>,
}

/// The text of a doubt or an answer: given, from a file, or from standard input.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct BodyArgs {
    /// The text (Markdown); `-` reads it from standard input.
    #[arg(long, allow_hyphen_values = true)]
    pub body: Option<String>,
    /// Read the text from this file (`-`: standard input).
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,
}

impl BodyArgs {
    /// The text as given; a file's or standard input's without its trailing newlines.
    /// An empty text is sent as such: the server names the field.
    fn read(&self, ctx: &Context) -> Result<String> {
        match (&self.body, &self.body_file) {
            (Some(text), _) if text == "-" => read_stdin(ctx),
            (Some(text), _) => Ok(text.clone()),
            (None, Some(path)) if path == Path::new("-") => read_stdin(ctx),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map(|text| text.trim_end().to_owned())
                .map_err(|e| ClientError::Usage(format!("cannot read {}: {e}", path.display()))),
            (None, None) => Err(ClientError::Usage(
                "give the text: --body TEXT, --body-file FILE, or --body - for standard input"
                    .into(),
            )),
        }
    }
}

/// All of standard input, without its trailing newlines.
fn read_stdin(ctx: &Context) -> Result<String> {
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        ctx.out
            .note("Reading the text from standard input; end it with Ctrl-D.");
    }
    let mut text = String::new();
    stdin
        .read_to_string(&mut text)
        .map_err(|e| ClientError::Usage(format!("cannot read standard input: {e}")))?;
    Ok(text.trim_end().to_owned())
}

/// What `vote`, `hide` and `unhide` act on: a doubt, or with `--answer` an answer.
#[derive(Debug, Args)]
pub struct Target {
    /// The doubt's id, or with --answer the answer's.
    pub id: Uuid,
    /// ID is an answer's (`edupro doubts show` lists them).
    #[arg(long)]
    pub answer: bool,
}

fn name(p: &PersonRef) -> String {
    format!("{} {}", p.first_name, p.last_name)
}

/// `1 vote`, `3 votes`, with `(you voted)` when one is the caller's.
fn votes_text(votes: i32, voted: bool) -> String {
    let noun = if votes == 1 { "vote" } else { "votes" };
    format!("{votes} {noun}{}", yours(voted))
}

/// The votes of a record, under the heading `votes`: `3`, or `3 (you voted)`.
fn votes_field(votes: i32, voted: bool) -> String {
    format!("{votes}{}", yours(voted))
}

fn yours(voted: bool) -> &'static str {
    if voted { " (you voted)" } else { "" }
}

/// A doubt's status, with `(hidden)` when staff hid it.
fn status_text(d: &Doubt) -> String {
    if d.hidden {
        format!("{} (hidden)", d.status)
    } else {
        d.status.to_string()
    }
}

/// `text` on one line, cut to `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > max {
        format!("{}…", line.chars().take(max - 1).collect::<String>())
    } else {
        line
    }
}

const HEADERS: [&str; 7] = ["ID", "STATUS", "VOTES", "ANSWERS", "TITLE", "BY", "ASKED"];

fn row(d: &Doubt, zone: Zone) -> Vec<String> {
    vec![
        d.id.to_string(),
        status_text(d),
        d.votes.to_string(),
        d.answers.to_string(),
        one_line(&d.title, 60),
        name(&d.author),
        zone.format_with_zone(d.created_at),
    ]
}

const QUEUE_HEADERS: [&str; 5] = ["ID", "COURSE", "TITLE", "BY", "ASKED"];

fn queue_row(d: &Doubt, zone: Zone) -> Vec<String> {
    vec![
        d.id.to_string(),
        d.course_title.clone(),
        one_line(&d.title, 60),
        name(&d.author),
        zone.format_with_zone(d.created_at),
    ]
}

fn fields(d: &Doubt, zone: Zone) -> Vec<(&'static str, String)> {
    vec![
        ("id", d.id.to_string()),
        ("course", d.course_title.clone()),
        (
            "lesson",
            d.lesson_id.map(|l| l.to_string()).unwrap_or_default(),
        ),
        ("title", d.title.clone()),
        ("status", d.status.to_string()),
        ("asked by", name(&d.author)),
        ("votes", votes_field(d.votes, d.voted)),
        ("answers", d.answers.to_string()),
        (
            "accepted",
            d.accepted_answer_id
                .map(|a| a.to_string())
                .unwrap_or_default(),
        ),
        ("link", d.link.clone().unwrap_or_default()),
        ("hidden", d.hidden.to_string()),
        ("asked", zone.format_with_zone(d.created_at)),
        ("updated", zone.format_with_zone(d.updated_at)),
    ]
}

fn answer_fields(a: &DoubtAnswer, zone: Zone) -> Vec<(&'static str, String)> {
    vec![
        ("id", a.id.to_string()),
        ("doubt", a.doubt_id.to_string()),
        ("by", name(&a.author)),
        ("staff", a.by_staff.to_string()),
        ("votes", votes_field(a.votes, a.voted)),
        ("accepted", a.accepted.to_string()),
        ("hidden", a.hidden.to_string()),
        ("posted", zone.format_with_zone(a.created_at)),
        ("updated", zone.format_with_zone(a.updated_at)),
    ]
}

/// `text` with every line indented by two spaces.
fn indented(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.trim().is_empty() {
                "\n".to_owned()
            } else {
                format!("  {l}\n")
            }
        })
        .collect()
}

/// What `doubts show` prints under the doubt's fields: its text, then each answer with
/// its id, marks (`[accepted]`, `[staff]`, `[hidden]`), author, time and votes.
pub fn thread_text(t: &DoubtThread, zone: Zone) -> String {
    let mut text = format!("\n{}", indented(&t.doubt.body));
    if t.answers.is_empty() {
        text.push_str(&format!(
            "\n(no answers yet: `edupro doubts answer {} --body …`)\n",
            t.doubt.id
        ));
        return text;
    }
    for a in &t.answers {
        let mut marks = String::new();
        for (on, mark) in [
            (a.accepted, " [accepted]"),
            (a.by_staff, " [staff]"),
            (a.hidden, " [hidden]"),
        ] {
            if on {
                marks.push_str(mark);
            }
        }
        text.push_str(&format!(
            "\n--- answer {}{marks}\n{} · {} · {}\n{}",
            a.id,
            name(&a.author),
            zone.format_with_zone(a.created_at),
            votes_text(a.votes, a.voted),
            indented(&a.body)
        ));
    }
    text
}

/// Prints a doubt: JSON as the server has it, else its fields.
fn print_doubt(ctx: &Context, d: &Doubt) -> Result<()> {
    crate::output::print(ctx.out.record(d, &fields(d, ctx.zone))?)?;
    Ok(())
}

/// Prints an answer: JSON as the server has it, else its fields.
fn print_answer(ctx: &Context, a: &DoubtAnswer) -> Result<()> {
    crate::output::print(ctx.out.record(a, &answer_fields(a, ctx.zone))?)?;
    Ok(())
}

/// Runs `edupro doubts …`.
pub async fn run(ctx: &Context, command: DoubtsCommand) -> Result<()> {
    let client = ctx.client()?;
    match command {
        DoubtsCommand::List(args) => {
            let filter = DoubtFilter {
                page: None,
                limit: None,
                lesson: args.lesson,
                status: args.status,
                mine: args.mine.then_some(true),
                unanswered: args.unanswered.then_some(true),
                search: args.search,
                sort: args.sort,
            };
            let doubts = all_pages::<DoubtList, _, _>(args.limit, |at| {
                client.doubts(&args.course, &filter, at)
            })
            .await?;
            crate::output::print(ctx.out.list(&doubts, &HEADERS, |d| row(d, ctx.zone))?)?;
        }
        DoubtsCommand::Queue { limit } => {
            let doubts = all_pages::<DoubtList, _, _>(limit, |at| client.doubt_queue(at)).await?;
            crate::output::print(
                ctx.out
                    .list(&doubts, &QUEUE_HEADERS, |d| queue_row(d, ctx.zone))?,
            )?;
        }
        DoubtsCommand::Show { id } => {
            let thread = client.doubt(id).await?;
            crate::output::print(ctx.out.record(&thread, &fields(&thread.doubt, ctx.zone))?)?;
            if matches!(ctx.out.format, Format::Table | Format::Plain) {
                crate::output::print(thread_text(&thread, ctx.zone))?;
            }
        }
        DoubtsCommand::Ask(args) => {
            let body = NewDoubt {
                title: args.title,
                body: args.text.read(ctx)?,
                link: args.link,
                lesson_id: args.lesson,
            };
            let doubt = client.ask_doubt(&args.course, &body).await?;
            print_doubt(ctx, &doubt)?;
            ctx.out.note(&format!(
                "Asked in {}; see its answers with `edupro doubts show {}`",
                doubt.course_title, doubt.id
            ));
        }
        DoubtsCommand::Answer { id, text } => {
            let body = DoubtAnswerInput {
                body: text.read(ctx)?,
            };
            let answer = client.answer_doubt(id, &body).await?;
            print_answer(ctx, &answer)?;
        }
        DoubtsCommand::Accept { id, answer } => {
            let doubt = client
                .accept_answer(id, &AcceptAnswer { answer_id: answer })
                .await?;
            print_doubt(ctx, &doubt)?;
        }
        DoubtsCommand::Reopen { id } => print_doubt(ctx, &client.reopen_doubt(id).await?)?,
        DoubtsCommand::Vote { target, undo } if target.answer => {
            print_answer(ctx, &client.vote_doubt_answer(target.id, undo).await?)?;
        }
        DoubtsCommand::Vote { target, undo } => {
            print_doubt(ctx, &client.vote_doubt(target.id, undo).await?)?;
        }
        DoubtsCommand::Hide(target) => hide(ctx, &client, target, true).await?,
        DoubtsCommand::Unhide(target) => hide(ctx, &client, target, false).await?,
    }
    Ok(())
}

/// `hide` (`hidden`) or `unhide` a doubt, or with `--answer` an answer.
async fn hide(ctx: &Context, client: &ApiClient, target: Target, hidden: bool) -> Result<()> {
    if target.answer {
        print_answer(ctx, &client.hide_doubt_answer(target.id, hidden).await?)
    } else {
        print_doubt(ctx, &client.hide_doubt(target.id, hidden).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use clap::Parser;

    fn person(first: &str) -> PersonRef {
        PersonRef {
            id: Uuid::nil(),
            first_name: first.into(),
            last_name: "Names".into(),
        }
    }

    fn thread(answers: Vec<DoubtAnswer>) -> DoubtThread {
        let at = Utc.with_ymd_and_hms(2026, 12, 7, 5, 0, 0).unwrap();
        DoubtThread {
            doubt: Doubt {
                id: Uuid::from_u128(1),
                course_id: Uuid::from_u128(9),
                course_title: "Mechanics".into(),
                lesson_id: None,
                title: "Why F = ma?".into(),
                body: "Why?\n\nReally, why?".into(),
                link: None,
                status: DoubtStatus::Resolved,
                author: person("Sam"),
                votes: 1,
                answers: answers.len() as i32,
                accepted_answer_id: Some(Uuid::from_u128(2)),
                voted: false,
                hidden: false,
                created_at: at,
                updated_at: at,
            },
            answers,
        }
    }

    fn answer(n: u128, accepted: bool, by_staff: bool, hidden: bool) -> DoubtAnswer {
        let at = Utc.with_ymd_and_hms(2026, 12, 7, 5, 30, 0).unwrap();
        DoubtAnswer {
            id: Uuid::from_u128(n),
            doubt_id: Uuid::from_u128(1),
            body: "Newton said so.".into(),
            author: person(if by_staff { "Ada" } else { "Kim" }),
            by_staff,
            votes: 3,
            voted: true,
            accepted,
            hidden,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_thread_marks_the_accepted_answer_staff_answers_hidden_ones_and_votes() {
        let text = thread_text(
            &thread(vec![
                answer(2, true, true, false),
                answer(3, false, false, true),
            ]),
            "Asia/Kolkata".parse().unwrap(),
        );
        assert_eq!(
            text,
            "
  Why?

  Really, why?

--- answer 00000000-0000-0000-0000-000000000002 [accepted] [staff]
Ada Names · 2026-12-07 11:00 IST · 3 votes (you voted)
  Newton said so.

--- answer 00000000-0000-0000-0000-000000000003 [hidden]
Kim Names · 2026-12-07 11:00 IST · 3 votes (you voted)
  Newton said so.
"
        );
    }

    #[test]
    fn a_thread_without_answers_says_how_to_answer() {
        let text = thread_text(&thread(vec![]), Zone::UTC);
        assert!(
            text.ends_with(
                "(no answers yet: `edupro doubts answer 00000000-0000-0000-0000-000000000001 --body …`)\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_hidden_doubt_says_so_in_the_list() {
        let mut t = thread(vec![]);
        t.doubt.hidden = true;
        assert_eq!(row(&t.doubt, Zone::UTC)[1], "RESOLVED (hidden)");
        assert_eq!(votes_text(1, false), "1 vote");
        assert_eq!(votes_field(2, true), "2 (you voted)");
    }

    #[test]
    fn long_titles_fit_one_line_of_a_table() {
        assert_eq!(one_line("a\nb  c", 60), "a b c");
        assert_eq!(one_line(&"x".repeat(70), 60).chars().count(), 60);
    }

    #[test]
    fn the_text_is_given_once_and_a_leading_hyphen_is_text() {
        let parse = |args: &[&str]| {
            crate::cli::Cli::try_parse_from(
                [
                    "edupro",
                    "doubts",
                    "answer",
                    "00000000-0000-0000-0000-000000000001",
                ]
                .iter()
                .chain(args),
            )
        };
        assert!(parse(&[]).is_err(), "no text accepted");
        assert!(parse(&["--body", "a", "--body-file", "f"]).is_err());
        let cli = parse(&["--body", "- a list item"]).unwrap();
        let crate::cli::Command::Doubts(DoubtsCommand::Answer { text, .. }) = cli.command else {
            panic!("not doubts answer");
        };
        assert_eq!(text.body.as_deref(), Some("- a list item"));
    }
}
