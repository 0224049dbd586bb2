//! `edupro login|logout|whoami` and `edupro auth sessions|tokens …`.

use std::io::IsTerminal;

use clap::{Args, Subcommand};
use edupro_server::api::{
    AccessTokenInfo, Login, LoginOutcome, NewAccessToken, SessionInfo, TokenScope, User, VerifyMfa,
};

use super::{Context, read_stdin_line};
use crate::api::ApiClient;
use crate::credentials::{CredentialStore, StoredCredentials};
use crate::error::{ClientError, Result};

/// `edupro login --help`'s examples.
pub const LOGIN_EXAMPLES: &str = "\
Examples:
  # Asks for the email, the password and, with 2FA, the code
  $ edupro login

  # From a script: the password on standard input
  $ echo \"$PASSWORD\" | edupro login --email ada@school.test --password-stdin

  # Another server, remembered as a named profile
  $ edupro login --server https://edupro.school.example --profile school

  # A personal access token instead of a password
  $ edupro login --token-stdin < token.txt";

/// Options of `login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Your email [default: asked for].
    #[arg(long)]
    pub email: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long, conflicts_with = "token_stdin")]
    pub password_stdin: bool,
    /// Sign in with a personal access token read from standard input instead.
    #[arg(long)]
    pub token_stdin: bool,
    /// The current code of your authenticator app, when your account has 2FA
    /// [default: asked for when needed].
    #[arg(long, value_name = "CODE")]
    pub code: Option<String>,
}

fn prompt_line(question: &str) -> Result<String> {
    if !std::io::stdin().is_terminal() {
        return Err(ClientError::Usage(format!(
            "{question} needed, and standard input is not a terminal; pass it as a flag"
        )));
    }
    {
        use std::io::Write;
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "{question}: ").and_then(|()| stderr.flush());
    }
    read_stdin_line(question)
}

/// Signs in and stores the tokens for this profile.
pub async fn login(ctx: &Context, args: LoginArgs) -> Result<()> {
    if let Ok(url) = url::Url::parse(&ctx.target.server)
        && url.scheme() == "http"
        && !matches!(
            url.host_str(),
            Some("localhost" | "127.0.0.1" | "[::1]" | "::1")
        )
    {
        crate::output::eprint_line(&format!(
            "warning: {} is plain http: your password and tokens cross the network unencrypted; use https://",
            ctx.target.server
        ));
    }
    let client = ApiClient::anonymous(&ctx.target.server)?;
    let store = CredentialStore::new(&ctx.target.profile);
    if args.token_stdin {
        let token = read_stdin_line("token")?;
        let me = whoami_with(&ctx.target.server, &token).await?;
        store.save(&StoredCredentials {
            server: ctx.target.server.clone(),
            access_token: token,
            refresh_token: None,
            email: Some(me.email.clone()),
        })?;
        ctx.out.note(&format!(
            "Logged in to {} as {} ({}) with an access token",
            ctx.target.server, me.email, me.role
        ));
        return Ok(());
    }
    let email = match args.email {
        Some(email) => email,
        None => prompt_line("Email")?,
    };
    let password = if args.password_stdin {
        read_stdin_line("password")?
    } else if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password: ").map_err(|e| ClientError::Other(e.into()))?
    } else {
        return Err(ClientError::Usage(
            "standard input is not a terminal: pass --password-stdin and pipe the password".into(),
        ));
    };
    let outcome = client
        .login(&Login { email, password })
        .await
        .map_err(login_failed)?;
    let session = match outcome {
        LoginOutcome::Session(session) => *session,
        LoginOutcome::MfaRequired(challenge) => {
            let code = match args.code {
                Some(code) => code,
                None if std::io::stdin().is_terminal() => prompt_line("Two-factor code")?,
                None => read_stdin_line("two-factor code").map_err(|_| {
                    ClientError::Usage(
                        "this account uses two-factor authentication: pass --code".into(),
                    )
                })?,
            };
            let body = VerifyMfa {
                challenge_token: challenge.challenge_token,
                code,
            };
            client.verify_mfa(&body).await.map_err(login_failed)?
        }
    };
    store.save(&StoredCredentials {
        server: ctx.target.server.clone(),
        access_token: session.access_token,
        refresh_token: Some(session.refresh_token),
        email: Some(session.user.email.clone()),
    })?;
    ctx.out.note(&format!(
        "Logged in to {} as {} ({})",
        ctx.target.server, session.user.email, session.user.role
    ));
    Ok(())
}

/// A refused sign-in is not "not logged in": say so, with the hint that fits.
fn login_failed(err: ClientError) -> ClientError {
    match err {
        ClientError::Api {
            status: 401,
            message,
            ..
        } => ClientError::LoginRefused(message),
        other => other,
    }
}

/// Who `token` belongs to, before it is stored.
async fn whoami_with(server: &str, token: &str) -> Result<User> {
    ApiClient::with_token(server, token)?.me().await
}

/// Signs out on the server (best effort) and forgets the stored tokens.
pub async fn logout(ctx: &Context) -> Result<()> {
    let store = CredentialStore::new(&ctx.target.profile);
    if let Ok(client) = ctx.client()
        && let Err(err) = client.logout().await
    {
        ctx.out.note(&format!(
            "note: the server did not confirm the sign-out ({err})"
        ));
    }
    store.delete()?;
    ctx.out
        .note(&format!("Logged out of {}", ctx.target.server));
    Ok(())
}

/// Prints the signed-in user.
pub async fn whoami(ctx: &Context) -> Result<()> {
    let me = ctx.client()?.me().await?;
    crate::output::print(ctx.out.record(
        &me,
        &[
            ("email", me.email.clone()),
            ("name", me.full_name()),
            ("role", me.role.to_string()),
            ("id", me.id.to_string()),
            ("server", ctx.target.server.clone()),
            ("2fa", yes_no(me.two_factor_enabled)),
        ],
    )?)?;
    Ok(())
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}

/// `edupro auth …`.
#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Your signed-in devices.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Personal access tokens for scripts and CI.
    #[command(subcommand)]
    Tokens(TokensCommand),
}

/// `edupro auth sessions …`.
#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// List active sessions.
    List,
    /// Sign a session out.
    Revoke {
        /// The session's id (`edupro auth sessions list`).
        id: uuid::Uuid,
    },
}

/// `edupro auth tokens …`.
#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create a token; it is printed once.
    Create(CreateTokenArgs),
    /// List your tokens (never their secrets).
    List,
    /// Revoke a token.
    Revoke {
        /// The token's id (`edupro auth tokens list`).
        id: uuid::Uuid,
    },
}

/// Options of `auth tokens create`.
#[derive(Debug, Args)]
pub struct CreateTokenArgs {
    /// A name to recognise it by, e.g. "ci-seed".
    #[arg(long)]
    pub name: String,
    /// Scopes: read, write, admin (repeat or comma-separate).
    #[arg(long = "scope", value_delimiter = ',', default_value = "read")]
    pub scopes: Vec<String>,
    /// Days until it expires.
    #[arg(long, default_value_t = 90)]
    pub expires_in_days: u32,
}

/// Runs `edupro auth …`.
pub async fn run(ctx: &Context, command: AuthCommand) -> Result<()> {
    let client = ctx.client()?;
    match command {
        AuthCommand::Sessions(SessionsCommand::List) => {
            let list = client.sessions().await?;
            crate::output::print(ctx.out.list(
                &list.sessions,
                &[
                    "ID",
                    "CURRENT",
                    "USER AGENT",
                    "IP",
                    "SIGNED IN",
                    "LAST USED",
                ],
                |s: &SessionInfo| {
                    vec![
                        s.id.to_string(),
                        if s.current { "*".into() } else { String::new() },
                        s.user_agent.clone().unwrap_or_default(),
                        s.ip.clone().unwrap_or_default(),
                        ctx.zone.format(s.created_at),
                        ctx.zone.format(s.last_used_at),
                    ]
                },
            )?)?;
        }
        AuthCommand::Sessions(SessionsCommand::Revoke { id }) => {
            client.revoke_session(id).await?;
            ctx.out.note(&format!("Session {id} signed out"));
        }
        AuthCommand::Tokens(TokensCommand::Create(args)) => {
            let scopes = args
                .scopes
                .iter()
                .map(|s| match s.trim() {
                    "read" => Ok(TokenScope::Read),
                    "write" => Ok(TokenScope::Write),
                    "admin" => Ok(TokenScope::Admin),
                    other => Err(ClientError::Usage(format!(
                        "--scope: `{other}` is not one of read, write, admin"
                    ))),
                })
                .collect::<Result<Vec<_>>>()?;
            let body = NewAccessToken {
                name: args.name,
                scopes,
                expires_in_days: Some(args.expires_in_days),
            };
            let token = client.create_access_token(&body).await?;
            if ctx.out.format == crate::output::Format::Json {
                crate::output::print(ctx.out.json(&token)?)?;
            } else {
                crate::output::print(format!("{}\n", token.token))?;
                ctx.out
                    .note("Copy this token now; it is not shown again. Use it as EDUPRO_TOKEN.");
            }
        }
        AuthCommand::Tokens(TokensCommand::List) => {
            let list = client.access_tokens().await?;
            crate::output::print(ctx.out.list(
                &list.tokens,
                &["ID", "NAME", "SCOPES", "CREATED", "EXPIRES", "LAST USED"],
                |t: &AccessTokenInfo| {
                    vec![
                        t.id.to_string(),
                        t.name.clone(),
                        t.scopes
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(","),
                        t.created_at.format("%Y-%m-%d").to_string(),
                        t.expires_at
                            .map(|d| d.format("%Y-%m-%d").to_string())
                            .unwrap_or_default(),
                        t.last_used_at
                            .map(|d| ctx.zone.format(d))
                            .unwrap_or_else(|| "never".into()),
                    ]
                },
            )?)?;
        }
        AuthCommand::Tokens(TokensCommand::Revoke { id }) => {
            client.revoke_access_token(id).await?;
            ctx.out.note(&format!("Token {id} revoked"));
        }
    }
    Ok(())
}
