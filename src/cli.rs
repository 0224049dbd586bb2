//! Command-line interface: global options, one module per noun, and dispatch.

pub mod assessments;
pub mod auth;
pub mod batches;
pub mod buy;
pub mod completions;
pub mod confirm;
pub mod coupons;
pub mod courses;
#[cfg(feature = "embedded-server")]
pub mod demo;
pub mod doubts;
pub mod enrollments;
pub mod grade;
pub mod import;
pub mod keys;
pub mod leaderboard;
pub mod lessons;
pub mod live;
pub mod notifications;
pub mod paging;
pub mod payments;
pub mod sections;
pub mod seed;
#[cfg(feature = "embedded-server")]
pub mod server;
pub mod stats;
pub mod tui;
pub mod users;
pub mod watch;
pub mod webhooks;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::api::ApiClient;
use crate::config::{Target, resolve_target};
use crate::error::{ClientError, Result};
use crate::output::{JsonOptions, Output, eprint_line};

const AFTER_HELP: &str = "\
Examples:
  $ edupro login --email ada@school.test
  $ edupro courses list --status PUBLISHED
  $ edupro users list --json id,email --jq '.[].email'
  $ edupro import users users.csv --dry-run
  $ edupro tui

Exit codes:
  0  ok
  1  error (server unreachable, unexpected answer)
  2  usage (bad flags or arguments), or a confirmation declined or missing (--yes)
  3  not logged in, or not allowed
  4  not found
  5  conflict or validation failure (the field is named), or payment required
  6  an import finished with failed rows
  A closed pipe (`edupro users list | head -2`) ends edupro quietly by SIGPIPE, as
  it ends gh and git (a shell reports 141).

Environment:
  EDUPRO_SERVER   server URL (default http://127.0.0.1:5001)
  EDUPRO_TOKEN    a personal access token to use instead of stored credentials (CI)
  EDUPRO_KEYRING  `file` keeps credentials in a 0600 file instead of the OS keyring
  NO_COLOR        disable colour";

/// EduPro+ from the terminal: manage courses, live classes, tests and users.
#[derive(Debug, Parser)]
#[command(name = "edupro", version, about, propagate_version = true, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes; `--help` lists them after the command's own.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Server URL [default: the profile's server, else http://127.0.0.1:5001].
    #[arg(long, env = "EDUPRO_SERVER", global = true, value_name = "URL")]
    pub server: Option<String>,
    /// Named profile from ~/.config/edupro/config.toml.
    #[arg(long, env = "EDUPRO_PROFILE", global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Print JSON (lists as arrays); with FIELDS (`--json id,title`) only those
    /// fields of each object. An unknown field lists the available ones. Give a bare
    /// `--json` after the command's arguments (`courses show rust --json`).
    #[arg(
        long,
        global = true,
        conflicts_with = "csv",
        value_name = "FIELDS",
        num_args = 0..=1,
        default_missing_value = ""
    )]
    pub json: Option<String>,
    /// Filter the JSON through a jq expression (implies --json): strings print
    /// unquoted, other values as compact JSON, one a line (`--jq '.[].email'`).
    #[arg(long, global = true, conflicts_with = "csv", value_name = "EXPR")]
    pub jq: Option<String>,
    /// Print CSV with a header row.
    #[arg(long, global = true)]
    pub csv: bool,
    /// Print only data; no notes on stderr.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// No colour (also NO_COLOR).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Time zone that dates are typed and shown in, an IANA name like Asia/Kolkata
    /// [default: the system's].
    #[arg(long, env = "EDUPRO_TZ", global = true, value_name = "ZONE")]
    pub tz: Option<crate::when::Zone>,
}

/// Every `edupro` command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in; tokens go to the OS keyring.
    #[command(after_help = auth::LOGIN_EXAMPLES)]
    Login(auth::LoginArgs),
    /// Sign out of this server and forget the tokens.
    Logout,
    /// Show who you are signed in as.
    Whoami,
    /// Sessions and personal access tokens.
    #[command(subcommand)]
    Auth(auth::AuthCommand),
    /// Users and roles (admins).
    #[command(subcommand)]
    Users(users::UsersCommand),
    /// Bulk import of users and courses from CSV or JSON lines (admins).
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Live classes: schedule, run, attendance, calendar feed.
    #[command(subcommand)]
    Live(live::LiveCommand),
    /// Tests of your courses: create from a file, export, publish, results, gradebook.
    #[command(subcommand)]
    Tests(assessments::TestsCommand),
    /// The grading queue: long answers waiting for your marks.
    #[command(subcommand, after_help = grade::EXAMPLES)]
    Grade(grade::GradeCommand),
    /// Doubts: a course's questions and answers, and the queue of unanswered ones.
    #[command(subcommand)]
    Doubts(doubts::DoubtsCommand),
    /// Analytics over a range of days: a course's, a student's, or the school's.
    #[command(subcommand)]
    Stats(stats::StatsCommand),
    /// Who earned the most XP: a course, a batch or the school; this week or all time.
    #[command(after_help = leaderboard::EXAMPLES)]
    Leaderboard(leaderboard::LeaderboardArgs),
    /// Create deterministic demo data (safe to re-run).
    #[command(subcommand)]
    Seed(seed::SeedCommand),
    /// Your notifications: list them, mark them read.
    #[command(subcommand)]
    Notifications(notifications::NotificationsCommand),
    /// Print notifications as they arrive (reconnects by itself; Ctrl-C stops).
    #[command(after_help = watch::EXAMPLES)]
    Watch(watch::WatchArgs),
    /// Print a shell completion script.
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff) to stdout.
    Man,
    /// Run EduPro+ in one command: an embedded server on SQLite, ready to explore.
    #[cfg(feature = "embedded-server")]
    Demo(demo::DemoArgs),
    /// Run the EduPro+ server in this process (the same flags as `edupro-server`).
    #[cfg(feature = "embedded-server")]
    Server(Box<server::ServerCommand>),
    /// Courses: the catalogue, and the ones you teach.
    #[command(subcommand)]
    Courses(courses::CoursesCommand),
    /// A course's sections.
    #[command(subcommand)]
    Sections(sections::SectionsCommand),
    /// The lessons of a course's sections.
    #[command(subcommand)]
    Lessons(lessons::LessonsCommand),
    /// Who is enrolled in a course; your own courses.
    #[command(subcommand)]
    Enrollments(enrollments::EnrollmentsCommand),
    /// Enroll in a course (students): a free one at once, a paid one is bought.
    #[command(after_help = buy::ENROLL_EXAMPLES)]
    Enroll(buy::BuyArgs),
    /// Buy a paid course (students): shows the price, asks, pays.
    #[command(after_help = buy::BUY_EXAMPLES)]
    Buy(buy::BuyArgs),
    /// Payments for paid courses, and refunds.
    #[command(subcommand)]
    Payments(payments::PaymentsCommand),
    /// Coupons: a percentage or an amount off a course's price.
    #[command(subcommand)]
    Coupons(coupons::CouponsCommand),
    /// Revenue by course and month, net of refunds, with totals per currency.
    #[command(after_help = payments::REVENUE_EXAMPLES)]
    Revenue(payments::RevenueArgs),
    /// A course's batches (cohorts) and their members.
    #[command(subcommand)]
    Batches(batches::BatchesCommand),
    /// The full-screen terminal UI (signs in first when needed).
    Tui(tui::TuiArgs),
    /// Outgoing webhooks (admins): endpoints, their deliveries, resend, a test ping.
    #[command(subcommand)]
    Webhooks(webhooks::WebhooksCommand),
}

/// What a command needs: where, how to print, and a client.
pub struct Context {
    pub target: Target,
    pub out: Output,
    /// Where dates are typed and shown (`--tz`).
    pub zone: crate::when::Zone,
}

impl Context {
    /// A client with the stored credentials (or `EDUPRO_TOKEN`).
    pub fn client(&self) -> Result<ApiClient> {
        ApiClient::authenticated(&self.target)
    }
}

/// Runs a parsed command and turns its outcome into the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let json = match (&cli.global.json, &cli.global.jq) {
        (None, None) => None,
        (fields, jq) => match JsonOptions::parse(fields.as_deref(), jq.as_deref()) {
            Ok(options) => Some(options),
            Err(err) => return report(&err),
        },
    };
    let out = Output::new(json, cli.global.csv, cli.global.quiet, cli.global.no_color);
    let outcome = match cli.command {
        #[cfg(feature = "embedded-server")]
        Command::Server(args) => return server::run(*args),
        #[cfg(feature = "embedded-server")]
        Command::Demo(args) => demo::run(args).map_err(ClientError::Other),
        Command::Completions(args) => completions::run(args),
        Command::Man => completions::man(),
        command => with_runtime(cli.global, out, command),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.is_output_closed() => end_quietly_on_closed_pipe(),
        Err(err) => report(&err),
    }
}

/// Ends the process as `gh` and `git` do when their reader goes away: killed by
/// SIGPIPE, silently (a shell reports 141, `head` and `grep -q` pipelines stay quiet).
/// Rust ignores SIGPIPE so that writes fail with `BrokenPipe` instead; the client
/// keeps it ignored (a socket write must never kill it) and raises it here, once,
/// after every destructor of the command has run. Where it cannot, exits 141.
fn end_quietly_on_closed_pipe() -> ExitCode {
    #[cfg(unix)]
    {
        let _ = signal_hook::low_level::emulate_default_handler(signal_hook::consts::SIGPIPE);
    }
    ExitCode::from(crate::error::exit::BROKEN_PIPE)
}

fn with_runtime(global: GlobalArgs, out: Output, command: Command) -> Result<()> {
    let target = resolve_target(global.server.as_deref(), global.profile.as_deref())
        .map_err(|e| ClientError::Usage(format!("{e:#}")))?;
    let zone = global.tz.unwrap_or_else(crate::when::Zone::system);
    let ctx = Context { target, out, zone };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ClientError::Other(e.into()))?;
    runtime.block_on(async move {
        match command {
            Command::Login(args) => auth::login(&ctx, args).await,
            Command::Logout => auth::logout(&ctx).await,
            Command::Whoami => auth::whoami(&ctx).await,
            Command::Auth(cmd) => auth::run(&ctx, cmd).await,
            Command::Users(cmd) => users::run(&ctx, cmd).await,
            Command::Seed(cmd) => seed::run(&ctx, cmd).await,
            Command::Import(cmd) => import::run(&ctx, cmd).await,
            Command::Courses(cmd) => courses::run(&ctx, cmd).await,
            Command::Sections(cmd) => sections::run(&ctx, cmd).await,
            Command::Lessons(cmd) => lessons::run(&ctx, cmd).await,
            Command::Enrollments(cmd) => enrollments::run(&ctx, cmd).await,
            Command::Enroll(args) => buy::enroll(&ctx, args).await,
            Command::Buy(args) => buy::buy(&ctx, args).await,
            Command::Payments(cmd) => payments::run(&ctx, cmd).await,
            Command::Coupons(cmd) => coupons::run(&ctx, cmd).await,
            Command::Revenue(args) => payments::revenue(&ctx, args).await,
            Command::Batches(cmd) => batches::run(&ctx, cmd).await,
            Command::Tui(args) => tui::run(&ctx, args).await,
            Command::Live(cmd) => live::run(&ctx, cmd).await,
            Command::Notifications(cmd) => notifications::run(&ctx, cmd).await,
            Command::Watch(args) => watch::run(&ctx, args).await,
            Command::Tests(cmd) => assessments::run(&ctx, cmd).await,
            Command::Grade(cmd) => grade::run(&ctx, cmd).await,
            Command::Doubts(cmd) => doubts::run(&ctx, cmd).await,
            Command::Leaderboard(args) => leaderboard::run(&ctx, args).await,
            Command::Stats(cmd) => stats::run(&ctx, cmd).await,
            Command::Webhooks(cmd) => webhooks::run(&ctx, cmd).await,
            _ => Err(ClientError::Usage(
                "this command runs without a server".into(),
            )),
        }
    })
}

/// Prints `error: …`, the per-field problems and a hint; returns the exit code.
pub fn report(err: &ClientError) -> ExitCode {
    for line in report_lines(err) {
        eprint_line(&line);
    }
    ExitCode::from(err.exit_code())
}

/// The lines [`report`] prints. A field problem that only repeats the headline
/// (`error: User with this email already exists`, then the same under `email:`) is
/// not printed twice: the headline names the field instead
/// (`error: email: User with this email already exists`).
fn report_lines(err: &ClientError) -> Vec<String> {
    if let ClientError::Cancelled = err {
        return vec!["Cancelled; nothing was changed.".to_owned()];
    }
    let mut lines = vec![format!("error: {err}")];
    if let ClientError::Api {
        message, errors, ..
    } = err
    {
        let same = |a: &str| {
            let plain = |s: &str| s.trim().trim_end_matches('.').to_lowercase();
            plain(a) == plain(message)
        };
        let (repeats, adds): (Vec<_>, Vec<_>) =
            errors.iter().partition(|field| same(&field.message));
        if !repeats.is_empty() {
            let fields: Vec<&str> = repeats.iter().map(|f| f.field.as_str()).collect();
            lines[0] = format!("error: {}: {message}", fields.join(", "));
        }
        lines.extend(
            adds.iter()
                .map(|field| format!("  {}: {}", field.field, field.message)),
        );
    }
    if let Some(hint) = err.hint() {
        lines.push(format!("hint: {hint}"));
    }
    lines
}

/// Reads one line from stdin (for `--password-stdin` and friends).
pub fn read_stdin_line(what: &str) -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| ClientError::Other(anyhow::anyhow!("reading {what} from stdin: {e}")))?;
    let line = line.trim_end_matches(['\r', '\n']).to_owned();
    if line.is_empty() {
        return Err(ClientError::Usage(format!("no {what} on standard input")));
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    fn api_error(message: &str, errors: &[(&str, &str)]) -> ClientError {
        ClientError::Api {
            status: 409,
            message: message.to_owned(),
            errors: errors
                .iter()
                .map(|(field, message)| edupro_server::api::FieldError {
                    field: (*field).to_owned(),
                    message: (*message).to_owned(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_field_error_that_repeats_the_headline_is_not_printed_twice() {
        let err = api_error(
            "User with this email already exists",
            &[("email", "User with this email already exists.")],
        );
        assert_eq!(
            report_lines(&err),
            ["error: email: User with this email already exists"]
        );
    }

    #[test]
    fn field_errors_that_add_something_are_printed_under_the_headline() {
        let err = api_error(
            "Validation failed",
            &[
                ("email", "must be an email address"),
                ("title", "too short"),
            ],
        );
        assert_eq!(
            report_lines(&err),
            [
                "error: Validation failed",
                "  email: must be an email address",
                "  title: too short"
            ]
        );
    }

    /// `path arg` for each argument or subcommand of `cmd` without a description.
    fn undescribed(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{path} {}", arg.get_id()));
            }
        }
        for sub in cmd.get_subcommands() {
            let path = format!("{path} {}", sub.get_name());
            if sub.get_about().is_none() && sub.get_long_about().is_none() {
                missing.push(path.clone());
            }
            undescribed(sub, &path, missing);
        }
    }

    #[test]
    fn every_argument_of_every_command_is_described() {
        let mut cmd = Cli::command();
        cmd.build();
        let mut missing = Vec::new();
        undescribed(&cmd, "edupro", &mut missing);
        assert!(missing.is_empty(), "no help text:\n{}", missing.join("\n"));
    }

    /// What `edupro ARGS --help` prints.
    fn help(args: &[&str]) -> String {
        let argv = std::iter::once("edupro")
            .chain(args.iter().copied())
            .chain(["--help"]);
        match Cli::try_parse_from(argv) {
            Err(err) if err.kind() == clap::error::ErrorKind::DisplayHelp => err.to_string(),
            other => panic!("{args:?} --help did not print help: {other:?}"),
        }
    }

    #[test]
    fn the_main_commands_end_their_help_with_examples() {
        for args in [
            &[][..],
            &["login"],
            &["courses", "list"],
            &["courses", "create"],
            &["courses", "show"],
            &["users", "list"],
            &["users", "create"],
            &["import", "users"],
            &["import", "courses"],
            &["import", "enrollments"],
            &["live", "schedule"],
            &["grade"],
            &["doubts", "list"],
            &["doubts", "ask"],
            &["doubts", "answer"],
            &["webhooks", "add"],
            &["watch"],
            &["seed", "demo"],
        ] {
            let text = help(args);
            assert!(
                text.contains("\nExamples:\n  $ edupro ") || text.contains("\nExamples:\n  # "),
                "{args:?}:\n{text}"
            );
        }
    }

    /// The `edupro …` command lines of a help text's examples, continuation lines
    /// joined, split as a shell would (quotes, no expansion), pipes and redirects cut.
    fn example_command_lines(text: &str) -> Vec<Vec<String>> {
        let mut commands = Vec::new();
        let mut pending = String::new();
        for line in text.lines().map(str::trim) {
            if let Some(command) = line.strip_prefix("$ ") {
                pending = command.to_owned();
            } else if !pending.is_empty() {
                pending.push(' ');
                pending.push_str(line);
            } else {
                continue;
            }
            if let Some(open) = pending.strip_suffix('\\') {
                pending = open.trim_end().to_owned();
                continue;
            }
            let line = std::mem::take(&mut pending);
            let from_edupro = &line[line.find("edupro ").expect("an edupro command")..];
            let mut words = Vec::new();
            let (mut word, mut quote) = (String::new(), None);
            for c in from_edupro.chars() {
                match (quote, c) {
                    (None, '\'' | '"') => quote = Some(c),
                    (Some(q), c) if c == q => quote = None,
                    (None, ' ') => {
                        words.extend((!word.is_empty()).then(|| std::mem::take(&mut word)))
                    }
                    (None, '|' | '<') => break,
                    _ => word.push(c),
                }
            }
            words.extend((!word.is_empty()).then_some(word));
            commands.push(words);
        }
        commands
    }

    #[test]
    fn every_example_in_the_help_parses() {
        fn visit(cmd: &clap::Command, path: &mut Vec<String>, checked: &mut usize) {
            let args: Vec<&str> = path.iter().map(String::as_str).collect();
            for words in example_command_lines(&help(&args)) {
                if let Err(err) = Cli::try_parse_from(&words) {
                    panic!("{words:?} (in `{}` --help): {err}", path.join(" "));
                }
                *checked += 1;
            }
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                path.push(sub.get_name().to_owned());
                visit(sub, path, checked);
                path.pop();
            }
        }
        let mut checked = 0;
        visit(&Cli::command(), &mut Vec::new(), &mut checked);
        assert!(checked > 30, "only {checked} examples found");
    }

    #[test]
    fn a_commands_own_flags_come_before_the_global_options() {
        let text = help(&["users", "list"]);
        let own = text.find("--role <ROLE>").expect("--role");
        let heading = text.find("\nGlobal options:\n").expect("the heading");
        let global = text.find("--server <URL>").expect("--server");
        assert!(own < heading && heading < global, "{text}");
        assert!(text.find("--json [<FIELDS>]").expect("--json") > heading);
    }

    #[test]
    fn import_users_help_lists_the_roles_and_statuses_the_csv_accepts_and_ndjson() {
        let text = help(&["import", "users"]);
        for word in [
            "student",
            "teacher",
            "parent",
            "active",
            "suspended",
            "deleted",
            "NDJSON",
        ] {
            assert!(text.contains(word), "{word}:\n{text}");
        }
        let text = help(&["import", "enrollments"]);
        for word in ["ta;", "completed", "inactive", "NDJSON"] {
            assert!(text.contains(word), "{word}:\n{text}");
        }
    }

    #[test]
    fn help_documents_the_exit_codes() {
        let help = Cli::command().render_long_help().to_string();
        assert!(
            help.contains("Exit codes:") && help.contains("3  not logged in"),
            "{help}"
        );
    }
}
