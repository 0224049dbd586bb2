//! Health, readiness, metrics, request ids, OpenAPI, CORS, compression, headers.

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_reports_ok_with_version_uptime_and_a_connected_database() {
    let app = spawn_app().await;
    let answer = app.get("/health").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["status"], "OK");
    assert_eq!(answer.body["services"]["database"], "connected");
    assert_eq!(answer.body["services"]["databaseBackend"], app.backend);
    assert_eq!(answer.body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(answer.body["environment"], "development");
    assert!(answer.body["uptime"].as_f64().unwrap() >= 0.0);
    assert!(answer.body["timestamp"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn ready_says_yes_when_the_database_answers() {
    let app = spawn_app().await;
    let answer = app.get("/ready").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["ready"], true);
}

#[tokio::test]
async fn every_response_carries_a_fresh_request_id() {
    let app = spawn_app().await;
    let first = app.get("/health").await;
    let second = app.get("/no/such/route").await;
    let (a, b) = (
        first.header("x-request-id").unwrap(),
        second.header("x-request-id").unwrap(),
    );
    assert!(uuid::Uuid::parse_str(a).is_ok(), "{a}");
    assert_ne!(a, b);
}

#[tokio::test]
async fn a_request_id_sent_by_the_client_is_echoed_back() {
    let app = spawn_app().await;
    let answer = app
        .send(
            app.client
                .get(app.url("/health"))
                .header("x-request-id", "ci-run-42.step:7"),
        )
        .await;
    assert_eq!(answer.header("x-request-id"), Some("ci-run-42.step:7"));
}

#[tokio::test]
async fn a_request_id_that_could_forge_log_lines_is_replaced() {
    let app = spawn_app().await;
    let answer = app
        .send(
            app.client
                .get(app.url("/health"))
                .header("x-request-id", "evil id with spaces"),
        )
        .await;
    let id = answer.header("x-request-id").unwrap();
    assert_ne!(id, "evil id with spaces");
    assert!(uuid::Uuid::parse_str(id).is_ok());
}

#[tokio::test]
async fn metrics_expose_request_counts_latency_and_pool_gauges() {
    let app = spawn_app().await;
    app.get("/health").await;
    let response = app.send_raw(app.client.get(app.url("/metrics"))).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/health",status="200"}"#),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket{"),
        "{text}"
    );
    assert!(
        text.contains(r#"db_pool_connections{state="in_use"}"#),
        "{text}"
    );
    assert!(
        text.contains(r#"db_pool_connections{state="idle"}"#),
        "{text}"
    );
}

#[tokio::test]
async fn the_openapi_document_is_version_3_1_and_lists_the_operations_routes() {
    let app = spawn_app().await;
    let answer = app.get("/api/v1/openapi.json").await;
    assert_eq!(answer.status, 200);
    assert!(answer.body["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in ["/health", "/ready", "/metrics"] {
        assert!(
            answer.body["paths"][path]["get"].is_object(),
            "missing {path}"
        );
    }
    assert!(answer.body["components"]["schemas"]["ErrorBody"].is_object());
}

#[tokio::test]
async fn the_interactive_api_viewer_is_served_without_internet_access() {
    let app = spawn_app().await;
    let redirect = app
        .client
        .get(app.url("/api/v1/docs"))
        .send()
        .await
        .unwrap();
    assert!(redirect.status().is_redirection());
    let page = app
        .client
        .get(app.url("/api/v1/docs/"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("swagger-ui"));
    let bundle = app
        .client
        .get(app.url("/api/v1/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), 200);
}

#[tokio::test]
async fn security_headers_are_on_every_response() {
    let app = spawn_app().await;
    for path in ["/health", "/nowhere"] {
        let answer = app.get(path).await;
        assert_eq!(
            answer.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(answer.header("x-frame-options"), Some("DENY"), "{path}");
    }
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn cors_allows_configured_origins_and_no_others() {
    let app = crate::helpers::spawn_app_with(|args| {
        args.cors_origins = Some(vec!["https://app.school.example".into()]);
    })
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/health"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .send()
    };
    let allowed = preflight("https://app.school.example").await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.school.example"
    );
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert!(refused.status().is_client_error());
}

/// A pooled connection carries the settings `db.rs` gives it: on SQLite the 32 MiB
/// page cache, on PostgreSQL custom plans (a generic plan kept from a nearly empty table
/// made bulk imports scan whole tables).
#[tokio::test]
async fn pooled_connections_carry_the_servers_settings() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_app().await;
    let db = &app.state.db;
    let (sql, expected) = if app.backend == "postgres" {
        ("SHOW plan_cache_mode", "force_custom_plan".to_owned())
    } else {
        ("PRAGMA cache_size", "-32768".to_owned())
    };
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("a row");
    let value = row
        .try_get_by_index::<String>(0)
        .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
        .expect("a value");
    assert_eq!(value, expected, "{sql}");
}
