//! `edupro grade queue|show|set`: the long answers waiting for your marks, across your
//! courses, oldest first. `--blind` hides who wrote them.

use clap::{Args, Subcommand};
use edupro_server::api::{GradeAnswer, GradingFilter, GradingItem};
use uuid::Uuid;

use super::Context;
use crate::api;
use crate::error::Result;

/// `edupro grade --help`'s examples.
pub const EXAMPLES: &str = "\
Examples:
  # What waits for your marks, oldest first
  $ edupro grade queue

  # The oldest answer in full, without the student's name
  $ edupro grade queue --next --blind
  $ edupro grade show 0193a1b2-0000-7000-8000-000000000001 --blind

  # Marks and feedback; prints the next ungraded answer's id
  $ edupro grade set 0193a1b2-0000-7000-8000-000000000001 --marks 7.5 --feedback \"Good proof\"";

/// `edupro grade …`.
#[derive(Debug, Subcommand)]
pub enum GradeCommand {
    /// Ungraded answers of your courses (`--next` for the oldest one only).
    Queue(QueueArgs),
    /// One answer in full.
    Show {
        /// The answer's id (`edupro grade queue`).
        id: Uuid,
        /// Hide the student.
        #[arg(long)]
        blind: bool,
    },
    /// Give an answer its marks (and feedback); prints the next ungraded answer's id.
    Set {
        /// The answer's id (`edupro grade queue`).
        id: Uuid,
        /// 0 to the question's marks, two decimals at most.
        #[arg(long)]
        marks: f64,
        /// A comment the student sees with the marks.
        #[arg(long)]
        feedback: Option<String>,
    },
}

/// Filters of `grade queue`.
#[derive(Debug, Args)]
pub struct QueueArgs {
    /// Only this course's answers (id, slug or SIS course_id).
    #[arg(long = "course", value_name = "COURSE")]
    pub course: Option<String>,
    /// Only this test's answers (id, or COURSE/TITLE).
    #[arg(long = "test", value_name = "TEST")]
    pub test: Option<String>,
    /// Hide students' names.
    #[arg(long)]
    pub blind: bool,
    /// Only the oldest ungraded answer.
    #[arg(long)]
    pub next: bool,
}

impl QueueArgs {
    async fn filter(&self, client: &crate::api::ApiClient) -> Result<GradingFilter> {
        let course_id = match &self.course {
            Some(c) => Some(super::keys::course(client, c).await?),
            None => None,
        };
        let test_id = match &self.test {
            Some(t) => Some(super::keys::test(client, t).await?),
            None => None,
        };
        Ok(GradingFilter {
            course_id,
            test_id,
            blind: self.blind,
            ..GradingFilter::default()
        })
    }
}

const HEADERS: [&str; 6] = ["ANSWER", "TEST", "Q", "STUDENT", "MAX", "ANSWER TEXT"];

fn row(i: &GradingItem) -> Vec<String> {
    let mut text: String = i.answer.clone().unwrap_or_default();
    if text.chars().count() > 60 {
        text = format!("{}…", text.chars().take(59).collect::<String>());
    }
    vec![
        i.answer_id.to_string(),
        i.test_title.clone(),
        i.question_order.to_string(),
        i.student
            .as_ref()
            .map(|s| format!("{} {}", s.first_name, s.last_name))
            .unwrap_or_else(|| "(hidden)".into()),
        i.max_marks.to_string(),
        text.replace('\n', " "),
    ]
}

fn fields(i: &GradingItem) -> Vec<(&'static str, String)> {
    vec![
        ("answer", i.answer_id.to_string()),
        ("attempt", i.attempt_id.to_string()),
        ("test", i.test_title.clone()),
        (
            "question",
            format!("{}. {}", i.question_order, i.question_text),
        ),
        (
            "student",
            i.student
                .as_ref()
                .map(|s| format!("{} {} <{}>", s.first_name, s.last_name, s.email))
                .unwrap_or_else(|| "(hidden)".into()),
        ),
        ("max marks", i.max_marks.to_string()),
        (
            "marks",
            i.marks.map(|m| m.to_string()).unwrap_or_else(|| "-".into()),
        ),
        ("feedback", i.feedback.clone().unwrap_or_default()),
        ("text", i.answer.clone().unwrap_or_default()),
    ]
}

/// Runs `edupro grade …`.
pub async fn run(ctx: &Context, command: GradeCommand) -> Result<()> {
    let client = ctx.client()?;
    match command {
        GradeCommand::Queue(args) if args.next => {
            let next = client.next_ungraded(&args.filter(&client).await?).await?;
            match &next.item {
                Some(item) => crate::output::print(ctx.out.record(item, &fields(item))?)?,
                None => ctx.out.note("nothing to grade"),
            }
        }
        GradeCommand::Queue(args) => {
            let filter = args.filter(&client).await?;
            let mut items = Vec::new();
            let mut page = 1;
            loop {
                let queue = client.grading_queue(&filter, api::page(page, 100)).await?;
                items.extend(queue.items);
                if !queue.pagination.has_next {
                    break;
                }
                page += 1;
            }
            crate::output::print(ctx.out.list(&items, &HEADERS, row)?)?;
        }
        GradeCommand::Show { id, blind } => {
            let item = client.grading_item(id, blind).await?;
            crate::output::print(ctx.out.record(&item, &fields(&item))?)?;
        }
        GradeCommand::Set {
            id,
            marks,
            feedback,
        } => {
            let graded = client
                .grade_answer(id, &GradeAnswer { marks, feedback })
                .await?;
            let mut f = fields(&graded.item);
            f.push(("attempt score", graded.attempt_score.to_string()));
            f.push(("attempt graded", graded.grading_complete.to_string()));
            crate::output::print(ctx.out.record(&graded, &f)?)?;
            let next = client.next_ungraded(&GradingFilter::default()).await?;
            match next.item {
                Some(item) => ctx.out.note(&format!(
                    "next: edupro grade show {} ({} waiting)",
                    item.answer_id, next.remaining
                )),
                None => ctx.out.note("all answers graded"),
            }
        }
    }
    Ok(())
}
