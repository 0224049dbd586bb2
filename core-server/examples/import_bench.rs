//! Bulk-import throughput through the HTTP API: 100k users (`ROWS=` to change), then
//! `ROWS/100` courses and `ENROLLMENTS=` (default `ROWS`) enrollments of those users in
//! those courses, each planned, applied and re-applied, on SQLite, and on PostgreSQL
//! when `PG_URL` names a database this may create throwaway databases in (`SQLITE=0`
//! runs PostgreSQL alone). Prints rows/s; run with `--release`.
//!
//! `cargo run --release -p edupro-server --example import_bench`

use std::time::Instant;

mod support;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    support::logging();
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
    let courses = (rows / 100).max(1);
    let mut courses_csv = String::from("course_id,short_name,long_name,status\n");
    for c in 0..courses {
        courses_csv.push_str(&format!("crs-{c},BENCH {c},Bench course {c},active\n"));
    }
    let enrollments: usize = std::env::var("ENROLLMENTS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(rows);
    let mut enrollments_csv = String::from("course_id,user_id,role,status\n");
    // Each user in consecutive courses, so no (course, user) pair repeats.
    for e in 0..enrollments {
        let user = e % rows;
        let course = (user + e / rows) % courses;
        enrollments_csv.push_str(&format!("crs-{course},sis-{user},student,active\n"));
    }
    println!(
        "{rows} users ({} KiB), {courses} courses, {enrollments} enrollments ({} KiB)",
        csv.len() / 1024,
        enrollments_csv.len() / 1024
    );
    let files = [
        ("users", csv.as_str(), rows),
        ("courses", courses_csv.as_str(), courses),
        ("enrollments", enrollments_csv.as_str(), enrollments),
    ];
    if std::env::var("SQLITE").as_deref() != Ok("0") {
        bench("SQLite", None, &files).await?;
    }
    if let Ok(url) = std::env::var("PG_URL") {
        let db = support::fresh_pg_database(&url).await?;
        bench("PostgreSQL", Some(db), &files).await?;
    }
    Ok(())
}

async fn bench(
    name: &str,
    database_url: Option<String>,
    files: &[(&str, &str, usize)],
) -> anyhow::Result<()> {
    let (base, token, _dir) = support::start(database_url).await?;
    let client = reqwest::Client::new();
    for &(kind, csv, rows) in files {
        for (label, mode) in [
            ("plan", "plan"),
            ("apply", "apply"),
            ("re-run (unchanged)", "apply"),
        ] {
            let started = Instant::now();
            let text = client
                .post(format!(
                    "{base}/api/v1/imports/{kind}?mode={mode}&batch=1000"
                ))
                .bearer_auth(&token)
                .header("content-type", "text/csv")
                .body(csv.to_owned())
                .send()
                .await?
                .text()
                .await?;
            let elapsed = started.elapsed().as_secs_f64();
            let summary = text.lines().last().unwrap_or_default();
            anyhow::ensure!(summary.contains("\"summary\""), "no summary: {summary}");
            anyhow::ensure!(summary.contains("\"error\":0"), "rows failed: {summary}");
            println!(
                "{name:10} {kind:11} {label:20} {:>9.0} rows/s  ({elapsed:.2} s)",
                rows as f64 / elapsed
            );
        }
    }
    Ok(())
}
