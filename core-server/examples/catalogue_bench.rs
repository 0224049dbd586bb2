//! `GET /courses` under load: 10k published courses (`COURSES=` to change), then for
//! each query 16 concurrent clients (`CLIENTS=`) for 5 s (`SECONDS=`) on loopback,
//! on SQLite, and on PostgreSQL when `PG_URL` names a server this may create throwaway
//! databases on. Prints requests/s and p50/p99 latency per query. Students' and
//! anonymous pages come from the catalogue cache after the first request; `CACHE=0`
//! turns it off to measure the path every change (and every first request) takes.
//!
//! `cargo run --release -p edupro-server --example catalogue_bench`
//! `CACHE=0 COURSES=100000 cargo run --release -p edupro-server --example catalogue_bench`

use std::time::{Duration, Instant};

use edupro_server::store::entity::course;
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter};

mod support;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    support::logging();
    let courses = env("COURSES", 10_000);
    let clients = env("CLIENTS", 16);
    let window = Duration::from_secs(env("SECONDS", 5) as u64);
    let cache = env("CACHE", 30) as u64;
    println!(
        "{courses} published courses, {clients} clients, {window:?} per query, catalogue cache {}",
        if cache == 0 {
            "off".to_owned()
        } else {
            format!("{cache} s")
        }
    );
    bench("SQLite", None, courses, clients, window, cache).await?;
    if let Ok(url) = std::env::var("PG_URL") {
        let db = support::fresh_pg_database(&url).await?;
        bench("PostgreSQL", Some(db), courses, clients, window, cache).await?;
    }
    Ok(())
}

async fn bench(
    name: &str,
    database_url: Option<String>,
    courses: usize,
    clients: usize,
    window: Duration,
    cache: u64,
) -> anyhow::Result<()> {
    let server =
        support::server_with(database_url, |args| args.catalogue_cache = Some(cache)).await?;
    let mut csv = String::from("course_id,short_name,long_name,status\n");
    let topics = ["Algebra", "Biology", "Chemistry", "Drawing", "Economics"];
    for c in 0..courses {
        let topic = topics[c % topics.len()];
        csv.push_str(&format!("c{c},{topic} {c},{topic} for group {c},active\n"));
    }
    let client = reqwest::Client::new();
    let text = client
        .post(format!(
            "{}/api/v1/imports/courses?mode=apply&batch=2000",
            server.base
        ))
        .bearer_auth(&server.token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await?
        .text()
        .await?;
    anyhow::ensure!(
        text.lines()
            .last()
            .unwrap_or_default()
            .contains("\"error\":0"),
        "import failed: {}",
        text.lines().last().unwrap_or_default()
    );
    // Publishing through the API needs a lesson per course; the listing doesn't care.
    course::Entity::update_many()
        .col_expr(course::Column::Status, Expr::value("PUBLISHED"))
        .col_expr(course::Column::PublishedAt, Expr::value(chrono::Utc::now()))
        .filter(Expr::value(true))
        .exec(&server.state.db)
        .await?;
    // A database that has been running has statistics: PostgreSQL's autovacuum analyzes
    // a table after a tenth of it changed, within a minute. Measured right after the
    // bulk UPDATE, the planner would still think every course a DRAFT.
    if server.state.db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        server
            .state
            .db
            .execute_unprepared("ANALYZE courses")
            .await?;
    }

    // Students browse signed in: their requests take the session check too.
    let student: serde_json::Value = client
        .post(format!("{}/api/v1/auth/register", server.base))
        .json(&serde_json::json!({
            "email": "bench-student@school.test", "password": "Corr3ct-Horse!",
            "firstName": "Bench", "lastName": "Student", "role": "STUDENT",
        }))
        .send()
        .await?
        .json()
        .await?;
    let student = student["data"]["accessToken"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("register: {student}"))?
        .to_owned();

    let queries: [(&str, &str, Option<&str>); 6] = [
        ("first page", "/api/v1/courses?limit=20", Some(&student)),
        (
            "page 250",
            "/api/v1/courses?limit=20&page=250",
            Some(&student),
        ),
        (
            "search",
            "/api/v1/courses?limit=20&search=biology",
            Some(&student),
        ),
        (
            "sort=popular",
            "/api/v1/courses?limit=20&sort=popular",
            Some(&student),
        ),
        ("anonymous", "/api/v1/courses?limit=20", None),
        ("as admin", "/api/v1/courses?limit=20", Some(&server.token)),
    ];
    for (label, path, token) in queries {
        let url = format!("{}{path}", server.base);
        let token = token.map(str::to_owned);
        let started = Instant::now();
        let mut workers = Vec::new();
        for _ in 0..clients {
            let (client, url, token) = (client.clone(), url.clone(), token.clone());
            workers.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                while started.elapsed() < window {
                    let t = Instant::now();
                    let mut request = client.get(&url);
                    if let Some(token) = &token {
                        request = request.bearer_auth(token);
                    }
                    let response = request.send().await?;
                    anyhow::ensure!(response.status() == 200, "{}", response.status());
                    response.bytes().await?;
                    latencies.push(t.elapsed());
                }
                Ok::<_, anyhow::Error>(latencies)
            }));
        }
        let mut all = Vec::new();
        for w in workers {
            all.extend(w.await??);
        }
        let elapsed = started.elapsed().as_secs_f64();
        all.sort();
        let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
        println!(
            "{name:10} {label:13} {:>7.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
            all.len() as f64 / elapsed,
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
        );
    }
    Ok(())
}
