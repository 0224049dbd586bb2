//! `edupro webhooks …` end to end: the real binary against a spawned server. An admin
//! adds an endpoint (the secret printed once), lists it, pings it and sees the
//! delivery; a bad event type is refused naming the field; a teacher is refused.

#![allow(clippy::unwrap_used)]

#[path = "support/cli_harness.rs"]
mod harness;

use harness::{PASSWORD, Terminal, logged_in_admin, register, spawn_server};

#[tokio::test]
async fn an_admin_adds_lists_and_pings_a_webhook() {
    let server = spawn_server().await;
    let admin = logged_in_admin(&server).await;

    let added = admin
        .run(&[
            "webhooks",
            "add",
            "http://127.0.0.1:9/hook",
            "--event",
            "course.enrolled",
            "--event",
            "class.started",
            "--description",
            "Warehouse",
        ])
        .await;
    assert_eq!(added.code, 0, "{}{}", added.stdout, added.stderr);
    assert!(
        added.stdout.contains("secret       whsec_"),
        "{}",
        added.stdout
    );
    assert!(added.stderr.contains("not shown again"), "{}", added.stderr);

    let list = admin.run(&["webhooks", "list", "--json"]).await;
    assert_eq!(list.code, 0, "{}", list.stderr);
    let hooks = list.json();
    assert_eq!(hooks.as_array().unwrap().len(), 1, "{hooks}");
    let hook = &hooks[0];
    assert_eq!(hook["url"], "http://127.0.0.1:9/hook");
    assert_eq!(
        hook["events"],
        serde_json::json!(["course.enrolled", "live_class.started"])
    );
    assert!(hook.get("secret").is_none(), "{hook}");
    let id = hook["id"].as_str().unwrap().to_owned();

    let table = admin.run(&["webhooks", "list"]).await;
    assert!(
        table.stdout.contains("http://127.0.0.1:9/hook"),
        "{}",
        table.stdout
    );

    let ping = admin.run(&["webhooks", "test", &id, "--json"]).await;
    assert_eq!(ping.code, 0, "{}", ping.stderr);
    assert_eq!(ping.json()["eventType"], "webhook.test");
    let deliveries = admin.run(&["webhooks", "deliveries", &id, "--json"]).await;
    assert_eq!(deliveries.code, 0, "{}", deliveries.stderr);
    assert_eq!(deliveries.json().as_array().unwrap().len(), 1);

    let bad = admin
        .run(&["webhooks", "add", "https://hooks.test/x", "--event", "nope"])
        .await;
    assert_eq!(bad.code, 5, "{}", bad.stderr);
    assert!(bad.stderr.contains("events"), "{}", bad.stderr);

    register(&server, "teacher@hooks.test", "TEACHER").await;
    let teacher = Terminal::new(&server);
    teacher.login("teacher@hooks.test", PASSWORD).await;
    let refused = teacher.run(&["webhooks", "list"]).await;
    assert_eq!(refused.code, 3, "{}", refused.stderr);
}
