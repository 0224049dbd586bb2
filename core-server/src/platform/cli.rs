//! The `edupro-server` command line, shared with the client's embedded `edupro server`.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use sea_orm_migration::MigratorTrait;

use crate::api::Role;
use crate::domain::{Email, Password, PersonName};
use crate::platform::config::ServerArgs;
use crate::platform::state::AppState;
use crate::service::accounts::{self, NewAccount, codes, two_factor};

/// Settings, and what to do (serve unless told otherwise).
#[derive(Debug, Args)]
pub struct ServerCli {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(subcommand)]
    pub command: Option<ServerCommand>,
}

/// Commands besides serving.
#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    /// Serve the API (the default).
    Serve,
    /// Create an ADMIN account. There is no default admin: this is how the first one is
    /// made. Prints the 2FA secret and recovery codes once; with `--token-out`, also
    /// writes an admin-scoped personal access token for CI (no 2FA step needed).
    CreateAdmin(CreateAdminArgs),
}

/// Options of `create-admin`.
#[derive(Debug, Args)]
pub struct CreateAdminArgs {
    /// The admin's email; it is their login.
    #[arg(long)]
    pub email: String,
    /// The admin's first name.
    #[arg(long, default_value = "School")]
    pub first_name: String,
    /// The admin's last name.
    #[arg(long, default_value = "Admin")]
    pub last_name: String,
    /// Read the password from the first line of standard input instead of prompting.
    #[arg(long)]
    pub password_stdin: bool,
    /// Also write a personal access token (scopes read,write,admin; 90 days) to this new
    /// file (mode 0600), for CI: `EDUPRO_TOKEN=$(cat FILE) edupro seed demo`. Its
    /// secret is shown nowhere else; the file must not exist yet.
    #[arg(long, value_name = "FILE")]
    pub token_out: Option<std::path::PathBuf>,
}

impl ServerCli {
    /// Runs the command; exit code 2 for bad settings, 1 for other failures.
    pub fn run(self, runtime: &tokio::runtime::Runtime) -> ExitCode {
        let settings = match self.server.resolve() {
            Ok(settings) => settings,
            Err(err) => {
                eprintln!("edupro-server: error: {err:#}");
                return ExitCode::from(2);
            }
        };
        let outcome = runtime.block_on(async {
            match self.command.unwrap_or(ServerCommand::Serve) {
                ServerCommand::Serve => {
                    crate::platform::telemetry::init(settings.log_format, &settings.log_level)?;
                    crate::Application::build(settings)
                        .await?
                        .run_until_stopped()
                        .await
                }
                ServerCommand::CreateAdmin(args) => create_admin(settings, args).await,
            }
        });
        match outcome {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("edupro-server: error: {err:#}");
                ExitCode::FAILURE
            }
        }
    }
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let first = rpassword::prompt_password("Password for the new admin: ")?;
    let again = rpassword::prompt_password("Same password again: ")?;
    anyhow::ensure!(
        first == again,
        "the two passwords differ; nothing was created"
    );
    Ok(first)
}

async fn create_admin(
    settings: crate::platform::config::Settings,
    args: CreateAdminArgs,
) -> anyhow::Result<()> {
    let email = Email::parse(&args.email).map_err(|m| anyhow::anyhow!("--email: {m}"))?;
    let first_name =
        PersonName::parse(&args.first_name).map_err(|m| anyhow::anyhow!("--first-name: {m}"))?;
    let last_name =
        PersonName::parse(&args.last_name).map_err(|m| anyhow::anyhow!("--last-name: {m}"))?;
    let password = Password::parse(&read_password(args.password_stdin)?)
        .map_err(|m| anyhow::anyhow!("password: {m}"))?;
    // Claimed before the admin exists, so a path that cannot be written fails first;
    // removed again if no admin comes of it.
    let token_file = args
        .token_out
        .as_deref()
        .map(new_private_file)
        .transpose()?;
    let made = make_admin(settings, email, first_name, last_name, password, token_file).await;
    if let (Err(_), Some(path)) = (&made, args.token_out.as_deref()) {
        let _ = std::fs::remove_file(path);
    }
    made
}

async fn make_admin(
    settings: crate::platform::config::Settings,
    email: Email,
    first_name: PersonName,
    last_name: PersonName,
    password: Password,
    token_file: Option<(&std::path::Path, std::fs::File)>,
) -> anyhow::Result<()> {
    let db = crate::store::db::connect(&settings.database, 2).await?;
    crate::store::migration::Migrator::up(&db, None)
        .await
        .context("running database migrations")?;
    let state = AppState::new(db, settings)?;
    let (user, secret) = accounts::create(
        &state.db,
        NewAccount {
            email,
            password: Some(password),
            first_name,
            last_name,
            phone: None,
            role: Role::Admin,
            external_id: None,
        },
    )
    .await
    .map_err(|e| {
        anyhow::anyhow!(
            "{}",
            e.body().errors.map_or(e.to_string(), |f| f
                .iter()
                .map(|f| f.message.clone())
                .collect::<Vec<_>>()
                .join("; "))
        )
    })?;
    let user = codes::mark_email_verified(&state.db, user.id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let secret = secret.context("an admin always gets a 2FA secret")?;
    let enrollment = two_factor::enrollment_with_recovery(&state, &user, secret)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some((path, file)) = token_file {
        write_admin_token(&state, &user, path, file).await?;
    }
    let mut text = format!(
        "Created admin {} ({}).\n\n\
         Two-factor authentication is mandatory for admins. Add this secret to an\n\
         authenticator app now; it is not shown again:\n  secret: {}\n  uri:    {}\n\n\
         Recovery codes (each works once, if the authenticator is lost):\n",
        user.email, user.id, enrollment.secret, enrollment.otpauth_uri
    );
    for code in &enrollment.recovery_codes {
        text.push_str(&format!("  {code}\n"));
    }
    // A closed pipe (`create-admin | head`) is an error to report, not a panic: the
    // secret is shown only here.
    let mut out = std::io::stdout().lock();
    std::io::Write::write_all(&mut out, text.as_bytes())
        .and_then(|()| std::io::Write::flush(&mut out))
        .with_context(|| {
            format!(
                "admin {} was created, but standard output closed before its 2FA secret and \
                 recovery codes were all shown",
                user.email
            )
        })?;
    Ok(())
}

/// Creates `path` for a secret: it must not exist yet, and only its owner may read it.
fn new_private_file(path: &std::path::Path) -> anyhow::Result<(&std::path::Path, std::fs::File)> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(path)
        .with_context(|| format!("--token-out: cannot create {}", path.display()))?;
    Ok((path, file))
}

/// Writes a read,write,admin personal access token of the new admin to `file`.
async fn write_admin_token(
    state: &AppState,
    user: &crate::store::entity::user::Model,
    path: &std::path::Path,
    mut file: std::fs::File,
) -> anyhow::Result<()> {
    use std::io::Write;

    use crate::api::{NewAccessToken, TokenScope};
    use crate::service::accounts::tokens;
    use crate::service::auth::AuthUser;

    let request = tokens::TokenRequest::parse(
        &NewAccessToken {
            name: "create-admin --token-out".into(),
            scopes: vec![TokenScope::Read, TokenScope::Write, TokenScope::Admin],
            expires_in_days: None,
        },
        user.role,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let caller = AuthUser {
        user: user.clone(),
        session_id: None,
        scopes: None,
    };
    let created = tokens::create(state, &caller, request, "local")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    writeln!(file, "{}", created.token)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("--token-out: cannot write {}", path.display()))?;
    Ok(())
}
