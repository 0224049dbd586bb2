//! Bulk-import throughput through the HTTP API: 100k users (`ROWS=` to change) planned,
//! applied and re-applied on SQLite, and on PostgreSQL when `PG_URL` names a database
//! this may create throwaway databases in. Prints rows/s; run with `--release`.
//!
//! `cargo run --release -p edupro-server --example import_bench`

use std::time::Instant;

use edupro_server::Application;
use edupro_server::accounts::{self, NewAccount};
use edupro_server::api::Role;
use edupro_server::config::ServerArgs;
use edupro_server::domain::{Email, Password, PersonName};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rows: usize = std::env::var("ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(100_000);
    let mut csv = String::from("user_id,email,first_name,last_name,role,status\n");
    for i in 0..rows {
        csv.push_str(&format!(
            "sis-{i},student{i}@bench.test,Student,Number{i},student,active\n"
        ));
    }
    println!("{rows} users, {} KiB of CSV", csv.len() / 1024);
    bench("SQLite", None, &csv, rows).await?;
    if let Ok(url) = std::env::var("PG_URL") {
        let db = fresh_pg_database(&url).await?;
        bench("PostgreSQL", Some(db), &csv, rows).await?;
    }
    Ok(())
}

async fn bench(
    name: &str,
    database_url: Option<String>,
    csv: &str,
    rows: usize,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let settings = ServerArgs {
        data_dir: Some(dir.path().to_path_buf()),
        bind: Some("127.0.0.1:0".parse()?),
        database_url,
        log_level: Some("warn".into()),
        ..ServerArgs::default()
    }
    .resolve()?;
    let app = Application::build(settings).await?;
    let base = format!("http://{}", app.local_addr());
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    let (admin, _) = accounts::create(
        &state.db,
        NewAccount {
            email: Email::parse("bench-admin@school.test").map_err(anyhow::Error::msg)?,
            password: Some(Password::parse("Corr3ct-Horse!").map_err(anyhow::Error::msg)?),
            first_name: PersonName::parse("Bench").map_err(anyhow::Error::msg)?,
            last_name: PersonName::parse("Admin").map_err(anyhow::Error::msg)?,
            phone: None,
            role: Role::Admin,
            external_id: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let session = accounts::start_session(
        &state,
        &admin,
        None,
        "127.0.0.1",
        accounts::SignIn::Password,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let client = reqwest::Client::new();
    for (label, mode) in [
        ("plan", "plan"),
        ("apply", "apply"),
        ("re-run (unchanged)", "apply"),
    ] {
        let started = Instant::now();
        let text = client
            .post(format!(
                "{base}/api/v1/imports/users?mode={mode}&batch=1000"
            ))
            .bearer_auth(&session.access_token)
            .header("content-type", "text/csv")
            .body(csv.to_owned())
            .send()
            .await?
            .text()
            .await?;
        let elapsed = started.elapsed().as_secs_f64();
        let summary = text.lines().last().unwrap_or_default();
        anyhow::ensure!(summary.contains("\"summary\""), "no summary: {summary}");
        println!(
            "{name:10} {label:20} {:>9.0} rows/s  ({elapsed:.2} s)",
            rows as f64 / elapsed
        );
    }
    Ok(())
}

async fn fresh_pg_database(admin_url: &str) -> anyhow::Result<String> {
    use sqlx::Connection;
    let name = format!("edupro_bench_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
        .execute(&mut conn)
        .await?;
    let mut url = url::Url::parse(admin_url)?;
    url.set_path(&name);
    Ok(url.to_string())
}
