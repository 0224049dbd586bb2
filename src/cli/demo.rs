//! `edupro demo`: the whole product in one command — an embedded server on SQLite,
//! seeded with demo data, and the TUI signed in as the demo teacher. Off a terminal
//! (tests, CI) or with `--headless` it prints the URL and sign-ins and only serves.

use std::path::{Path, PathBuf};

use clap::Args;
use edupro_server::api::{AuthSession, Login, LoginOutcome, Role, VerifyMfa};
use edupro_server::platform::config::{LogFormat, ServerArgs};
use serde::{Deserialize, Serialize};

use crate::api::ApiClient;
use crate::config::Target;
use crate::credentials::{CredentialStore, StoredCredentials};
use crate::seed::{self, DEMO_DOMAIN, DEMO_PASSWORD};

/// Options of `edupro demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo's database here (reused, and not seeded twice, on the next run)
    /// [default: a fresh temp dir, removed on exit].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Port to serve on [default: 0, a free one; the URL is printed or shown in the
    /// TUI's header]. A demo never takes the real server's 5001 unless asked to.
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// Which deterministic variant of the demo data to make.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Only serve; don't open the terminal UI.
    #[arg(long)]
    pub headless: bool,
}

/// The demo admin's sign-in, kept (0600) in the data dir so a reused dir can reseed.
#[derive(Serialize, Deserialize)]
struct DemoAdmin {
    email: String,
    totp_secret: String,
}

/// Starts the embedded server and seeds it; then opens the TUI as the demo teacher (on
/// a terminal), or prints how to get in and serves until Ctrl-C.
pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let open_tui =
        !args.headless && std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    let temp;
    let data_dir = match args.data_dir {
        Some(dir) => dir,
        None => {
            temp = tempfile::Builder::new().prefix("edupro-demo-").tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let server = ServerArgs {
        data_dir: Some(data_dir.clone()),
        bind: Some(std::net::SocketAddr::from(([127, 0, 0, 1], args.port))),
        log_format: Some(LogFormat::Text),
        // The TUI owns the terminal: server logs would tear its frames.
        log_level: Some(if open_tui { "off" } else { "warn" }.to_owned()),
        ..ServerArgs::default()
    };
    super::server::runtime()?.block_on(async move {
        let settings = server.resolve()?;
        edupro_server::platform::telemetry::init(settings.log_format, &settings.log_level)?;
        let app = edupro_server::Application::build(settings)
            .await
            .map_err(|e| explain_port_taken(e, args.port))?;
        let url = format!("http://{}", app.local_addr());
        let state = app.state();
        let serving = tokio::spawn(app.run_until_stopped());

        let admin = ensure_admin(&state, &data_dir).await?;
        let token = admin_token(&url, &admin).await?;
        let admin_client = ApiClient::with_token(&url, &token)?;
        let (report, teacher) = seed::seed_demo_school(&admin_client, args.seed)
            .await
            .map_err(|e| anyhow::anyhow!("seeding the demo: {e}"))?;

        if open_tui {
            // Quitting the TUI ends the demo (and its server).
            let target = store_teacher(&url, teacher)?;
            return crate::tui::run(target, crate::tui::Options::default()).await;
        }

        let admin_email = &admin.email;
        let totp_secret = &admin.totp_secret;
        let (created, unchanged) = (report.created, report.unchanged);
        crate::output::print(format!(
            "EduPro+ demo running on {url}  (data: {data})
  seeded:   {created} records created, {unchanged} already there
  teacher:  teacher1@{DEMO_DOMAIN} / {DEMO_PASSWORD}
  student:  student1@{DEMO_DOMAIN} / {DEMO_PASSWORD}
  admin:    {admin_email} / {DEMO_PASSWORD}  (2FA secret {totp_secret})
  API docs: {url}/api/v1/docs/

Try it from another terminal:
  export EDUPRO_SERVER={url}
  echo '{DEMO_PASSWORD}' | edupro login --email teacher1@{DEMO_DOMAIN} --password-stdin
  edupro whoami
Press Ctrl-C to stop.
",
            data = data_dir.display()
        ))?;
        serving.await?
    })
}

/// A port in use is the likeliest failure (another demo or server): say so, and how out.
fn explain_port_taken(err: anyhow::Error, port: u16) -> anyhow::Error {
    let taken = err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::AddrInUse)
    });
    if taken {
        anyhow::anyhow!(
            "port {port} is already in use (another `edupro demo` or server?)\n\
             hint: pass --port 0 to pick a free port, or another --port"
        )
    } else {
        err
    }
}

/// Keeps the teacher's tokens under the `demo` profile for the TUI (which refreshes
/// and re-stores them as `edupro login`'s are).
fn store_teacher(url: &str, session: AuthSession) -> anyhow::Result<Target> {
    let target = Target {
        profile: "demo".to_owned(),
        server: url.to_owned(),
    };
    CredentialStore::new(&target.profile).save_quietly(&StoredCredentials {
        server: url.to_owned(),
        access_token: session.access_token,
        refresh_token: Some(session.refresh_token),
        email: Some(session.user.email),
    })?;
    Ok(target)
}

/// The demo admin: created on the first run (2FA is mandatory for admins, so its TOTP
/// secret is kept beside the database), read back on later runs.
async fn ensure_admin(
    state: &edupro_server::platform::state::AppState,
    data_dir: &Path,
) -> anyhow::Result<DemoAdmin> {
    use edupro_server::domain::{Email, Password, PersonName};
    use edupro_server::service::accounts::{self, NewAccount};
    let path = data_dir.join("demo-admin.json");
    if let Ok(text) = std::fs::read_to_string(&path) {
        return Ok(serde_json::from_str(&text)?);
    }
    let email = format!("admin@{DEMO_DOMAIN}");
    let (_, secret) = accounts::create(
        &state.db,
        NewAccount {
            email: Email::parse(&email).map_err(anyhow::Error::msg)?,
            password: Some(Password::parse(DEMO_PASSWORD).map_err(anyhow::Error::msg)?),
            first_name: PersonName::parse("Demo").map_err(anyhow::Error::msg)?,
            last_name: PersonName::parse("Admin").map_err(anyhow::Error::msg)?,
            phone: None,
            role: Role::Admin,
            external_id: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("creating the demo admin: {e}"))?;
    let admin = DemoAdmin {
        email,
        totp_secret: secret.ok_or_else(|| anyhow::anyhow!("admins always get a 2FA secret"))?,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    std::io::Write::write_all(
        &mut options.open(&path)?,
        serde_json::to_string(&admin)?.as_bytes(),
    )?;
    Ok(admin)
}

/// Signs the demo admin in over HTTP, answering the 2FA step with the current code.
async fn admin_token(url: &str, admin: &DemoAdmin) -> anyhow::Result<String> {
    let client = ApiClient::anonymous(url)?;
    let outcome = client
        .login(&Login {
            email: admin.email.clone(),
            password: DEMO_PASSWORD.to_owned(),
        })
        .await?;
    let LoginOutcome::MfaRequired(challenge) = outcome else {
        anyhow::bail!("the demo admin signed in without 2FA, which admins must have");
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    // A code works once per 30 s step; a rerun within the same step uses the next one.
    for step in [now / 30, now / 30 + 1] {
        let code = edupro_server::service::auth::totp::code_at(&admin.totp_secret, step)
            .ok_or_else(|| anyhow::anyhow!("the stored 2FA secret is invalid"))?;
        let verify = VerifyMfa {
            challenge_token: challenge.challenge_token.clone(),
            code,
        };
        if let Ok(session) = client.verify_mfa(&verify).await {
            return Ok(session.access_token);
        }
    }
    anyhow::bail!(
        "the demo admin's 2FA code was refused; remove demo-admin.json's data dir and start again"
    )
}
