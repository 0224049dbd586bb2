//! `edupro users list|show|create|deactivate|reactivate|role`.

use clap::{Args, Subcommand};
use edupro_server::api::{ChangeRole, CreatedUser, NewUser, Role, User, UserFilter, UserList};

use super::{Context, read_stdin_line};
use crate::api::ApiClient;
use crate::error::Result;

const LIST_EXAMPLES: &str = "\
Examples:
  $ edupro users list
  $ edupro users list --role TEACHER --active true
  $ edupro users list --search ada --limit 5

  # Emails only, one a line
  $ edupro users list --jq '.[].email'

  # Id and email of each deactivated user, as JSON
  $ edupro users list --active false --json id,email";

const CREATE_EXAMPLES: &str = "\
Examples:
  # They are mailed a code to set their password
  $ edupro users create --email kid@school.test --first-name Kid --last-name One

  # A teacher, with a password from standard input
  $ echo \"$PASSWORD\" | edupro users create --email ada@school.test \\
      --first-name Ada --last-name Lovelace --role TEACHER --password-stdin

  # Many at once: see `edupro import users --help`";

/// `edupro users …`.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List users (all pages unless --limit).
    #[command(after_help = LIST_EXAMPLES)]
    List(ListArgs),
    /// Show one user.
    Show {
        /// The user: id, email or SIS user_id.
        user: String,
    },
    /// Create a user. Without --password-stdin they are mailed a code to set one.
    #[command(after_help = CREATE_EXAMPLES)]
    Create(CreateArgs),
    /// Deactivate a user: they are signed out and can't sign in.
    /// Asks first (--yes to skip).
    Deactivate {
        /// The user: id, email or SIS user_id.
        user: String,
        #[command(flatten)]
        yes: super::confirm::YesArg,
    },
    /// Reactivate a user.
    Reactivate {
        /// The user: id, email or SIS user_id.
        user: String,
    },
    /// Change a user's role (their sessions end).
    Role {
        /// The user: id, email or SIS user_id.
        user: String,
        /// ADMIN, TEACHER, STUDENT or PARENT.
        role: Role,
    },
}

/// Filters of `users list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this role: ADMIN, TEACHER, STUDENT or PARENT.
    #[arg(long)]
    pub role: Option<Role>,
    /// Match email or name.
    #[arg(long)]
    pub search: Option<String>,
    /// Only active (true) or deactivated (false) users.
    #[arg(long)]
    pub active: Option<bool>,
    /// At most this many users.
    #[arg(long)]
    pub limit: Option<u64>,
}

/// Options of `users create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Their email; it is their login.
    #[arg(long)]
    pub email: String,
    /// Their first name.
    #[arg(long)]
    pub first_name: String,
    /// Their last name.
    #[arg(long)]
    pub last_name: String,
    /// ADMIN, TEACHER, STUDENT or PARENT.
    #[arg(long, default_value = "STUDENT")]
    pub role: Role,
    /// A phone number, with its country code (+91…).
    #[arg(long)]
    pub phone: Option<String>,
    /// Read their password from standard input.
    #[arg(long)]
    pub password_stdin: bool,
}

const HEADERS: [&str; 7] = ["ID", "EMAIL", "NAME", "ROLE", "ACTIVE", "2FA", "CREATED"];

fn row(u: &User) -> Vec<String> {
    vec![
        u.id.to_string(),
        u.email.clone(),
        u.full_name(),
        u.role.to_string(),
        if u.is_active { "yes" } else { "no" }.into(),
        if u.two_factor_enabled { "on" } else { "" }.into(),
        u.created_at.format("%Y-%m-%d").to_string(),
    ]
}

fn fields(u: &User, zone: crate::when::Zone) -> Vec<(&'static str, String)> {
    vec![
        ("id", u.id.to_string()),
        ("email", u.email.clone()),
        ("name", u.full_name()),
        ("role", u.role.to_string()),
        ("active", u.is_active.to_string()),
        ("email verified", u.is_email_verified.to_string()),
        ("2fa", u.two_factor_enabled.to_string()),
        ("phone", u.phone.clone().unwrap_or_default()),
        (
            "last login",
            u.last_login
                .map(|d| zone.format_with_zone(d))
                .unwrap_or_default(),
        ),
        ("created", zone.format_with_zone(u.created_at)),
    ]
}

/// Every page of `GET /users` (or up to `limit` users).
pub async fn list_all(client: &ApiClient, args: &ListArgs) -> Result<Vec<User>> {
    let filter = UserFilter {
        role: args.role,
        search: args.search.clone(),
        is_active: args.active,
        ..UserFilter::default()
    };
    super::paging::all_pages::<UserList, _, _>(args.limit, |at| client.users(&filter, at)).await
}

/// Runs `edupro users …`.
pub async fn run(ctx: &Context, command: UsersCommand) -> Result<()> {
    let client = ctx.client()?;
    match command {
        UsersCommand::List(args) => {
            let users = list_all(&client, &args).await?;
            crate::output::print(ctx.out.list(&users, &HEADERS, row)?)?;
        }
        UsersCommand::Show { user } => {
            let user = client.user(&user).await?;
            crate::output::print(ctx.out.record(&user, &fields(&user, ctx.zone))?)?;
        }
        UsersCommand::Create(args) => {
            let password = if args.password_stdin {
                Some(read_stdin_line("password")?)
            } else {
                None
            };
            let body = NewUser {
                email: args.email,
                password: password.clone(),
                first_name: args.first_name,
                last_name: args.last_name,
                phone: args.phone,
                role: args.role,
            };
            let CreatedUser { user, two_factor } = client.create_user(&body).await?;
            crate::output::print(ctx.out.record(&user, &fields(&user, ctx.zone))?)?;
            if password.is_none() {
                ctx.out.note(&format!(
                    "{} was mailed a code to set their password",
                    user.email
                ));
            }
            if let Some(tf) = two_factor {
                ctx.out.note(&format!(
                    "New admin: give them this 2FA secret (shown once): {}\n  {}\nRecovery codes: {}",
                    tf.secret,
                    tf.otpauth_uri,
                    tf.recovery_codes.join(" ")
                ));
            }
        }
        UsersCommand::Deactivate { user, yes } => {
            let user = client.user(&user).await?;
            let id = user.id;
            if super::confirm::must_ask(yes, "deactivate the user")? {
                super::confirm::ask(&format!(
                    "Deactivate {} ({}, {})? They are signed out everywhere, their tokens stop working, and they cannot sign in until reactivated.",
                    user.full_name(),
                    user.email,
                    user.role
                ))?;
            }
            let user = client.deactivate_user(id).await?;
            crate::output::print(ctx.out.record(&user, &fields(&user, ctx.zone))?)?;
        }
        UsersCommand::Reactivate { user } => {
            let id = super::keys::user(&client, &user).await?;
            let user = client.reactivate_user(id).await?;
            crate::output::print(ctx.out.record(&user, &fields(&user, ctx.zone))?)?;
        }
        UsersCommand::Role { user, role } => {
            let id = super::keys::user(&client, &user).await?;
            let user = client.change_role(id, &ChangeRole { role }).await?;
            crate::output::print(ctx.out.record(&user, &fields(&user, ctx.zone))?)?;
        }
    }
    Ok(())
}
