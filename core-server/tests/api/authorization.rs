//! The authorization matrix: every users endpoint, the admin endpoints and the auth
//! endpoints that need a caller, × seven callers → the status each must get.
//!
//! One world serves the whole table. Before each row it is put back the way the table
//! assumes (everyone signed in, S active, P linked to S and not to C), so a destructive
//! cell (the admin deactivating S, unlinking S) can't change a later row's answers.
//! Within a row the admin goes last, after everyone it might affect.

use std::fmt::Write as _;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, TestUser, spawn_app};

/// The callers, in the order of each row's expected statuses.
const ACTORS: [&str; 7] = ["anon", "S", "S2", "P", "P2", "T", "A"];

/// One row: method, path and JSON body (placeholders `{S}`, `{P}`, `{C}`, `{EMAIL}`),
/// then the expected status for each of [`ACTORS`].
type Row = (Method, &'static str, Option<&'static str>, [u16; 7]);

fn matrix() -> Vec<Row> {
    use Method as M;
    const ADMIN_ONLY: [u16; 7] = [401, 403, 403, 403, 403, 403, 200];
    const ANY_USER: [u16; 7] = [401, 200, 200, 200, 200, 200, 200];
    vec![
        (M::GET, "/users", None, ADMIN_ONLY),
        (
            M::POST,
            "/users",
            Some(r#"{"email":"{EMAIL}","firstName":"New","lastName":"User","role":"STUDENT"}"#),
            [401, 403, 403, 403, 403, 403, 201],
        ),
        // Self, a linked parent, an admin. (Teachers: once courses exist, their students.)
        (
            M::GET,
            "/users/{S}",
            None,
            [401, 200, 403, 200, 403, 403, 200],
        ),
        (
            M::PATCH,
            "/users/me",
            Some(r#"{"bio":"Matrix bio."}"#),
            ANY_USER,
        ),
        // S is a student already: the admin's change is harmless.
        (
            M::PATCH,
            "/users/{S}/role",
            Some(r#"{"role":"STUDENT"}"#),
            ADMIN_ONLY,
        ),
        (M::POST, "/users/{S}/deactivate", Some("{}"), ADMIN_ONLY),
        (M::POST, "/users/{S}/reactivate", Some("{}"), ADMIN_ONLY),
        (
            M::POST,
            "/users/{P}/children",
            Some(r#"{"childId":"{C}"}"#),
            [401, 403, 403, 403, 403, 403, 201],
        ),
        (
            M::GET,
            "/users/{P}/children",
            None,
            [401, 403, 403, 200, 403, 403, 200],
        ),
        (M::DELETE, "/users/{P}/children/{S}", None, ADMIN_ONLY),
        (M::GET, "/admin/audit", None, ADMIN_ONLY),
        (M::GET, "/admin/outbox", None, ADMIN_ONLY),
        (M::GET, "/auth/me", None, ANY_USER),
        (M::GET, "/auth/sessions", None, ANY_USER),
        (M::GET, "/auth/tokens", None, ANY_USER),
        // Last: it ends each caller's session.
        (M::POST, "/auth/logout", Some("{}"), ANY_USER),
    ]
}

/// The seven callers and the extra student C, on one server.
struct World {
    app: TestApp,
    /// S, S2, P, P2, T, A (the anonymous caller has no user).
    users: Vec<TestUser>,
    /// A student linked to nobody, for the admin to link.
    c: TestUser,
}

impl World {
    async fn new() -> Self {
        let app = spawn_app().await;
        let mut users = Vec::new();
        for role in ["STUDENT", "STUDENT", "PARENT", "PARENT", "TEACHER"] {
            users.push(app.register(role).await);
        }
        users.push(app.admin().await);
        let c = app.register("STUDENT").await;
        Self { app, users, c }
    }

    fn user(&self, actor: &str) -> &TestUser {
        let index = ACTORS
            .iter()
            .position(|a| *a == actor)
            .expect("known actor");
        &self.users[index - 1]
    }

    fn admin_token(&self) -> String {
        self.user("A").access_token.clone()
    }

    /// `template` with the ids of S, P and C, and a fresh email for `{EMAIL}`.
    fn expand(&self, template: &str) -> String {
        template
            .replace("{S}", &self.user("S").id)
            .replace("{P}", &self.user("P").id)
            .replace("{C}", &self.c.id)
            .replace(
                "{EMAIL}",
                &format!("matrix-{}@school.test", uuid::Uuid::now_v7().simple()),
            )
    }

    /// Puts the world back the way every row assumes it.
    async fn restore(&mut self) {
        let app = &self.app;
        let admin = self.admin_token();
        let (s, p, c) = (
            self.user("S").id.clone(),
            self.user("P").id.clone(),
            self.c.id.clone(),
        );
        let seen = app.get_as(&admin, &format!("/api/v1/users/{s}")).await;
        assert_eq!(seen.status, 200, "restore: admin reads S: {}", seen.body);
        if seen.body["data"]["isActive"] == false {
            let answer = app
                .post_as(&admin, &format!("/api/v1/users/{s}/reactivate"), &json!({}))
                .await;
            assert_eq!(answer.status, 200, "restore: reactivate S: {}", answer.body);
        }
        let link = app
            .post_as(
                &admin,
                &format!("/api/v1/users/{p}/children"),
                &json!({ "childId": s }),
            )
            .await;
        assert!(
            [201, 409].contains(&link.status),
            "restore: link P to S: {}",
            link.body
        );
        let unlink = app
            .delete_as(&admin, &format!("/api/v1/users/{p}/children/{c}"))
            .await;
        assert!(
            [200, 404].contains(&unlink.status),
            "restore: unlink C from P: {}",
            unlink.body
        );
        for user in &mut self.users {
            if app
                .get_as(&user.access_token, "/api/v1/auth/me")
                .await
                .status
                == 200
            {
                continue;
            }
            assert!(
                user.totp_secret.is_none(),
                "restore: the admin lost its session before the last row"
            );
            let answer = app.login(&user.email, PASSWORD).await;
            assert_eq!(
                answer.status, 200,
                "restore: sign in again: {}",
                answer.body
            );
            *user = TestUser::from_session(&answer.body["data"], PASSWORD, None);
        }
    }

    /// One cell: `actor` calls `method path` with `body`.
    async fn call(
        &self,
        actor: &str,
        method: &Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let url = self.app.url(&format!("/api/v1{path}"));
        let mut request = self.app.client.request(method.clone(), url);
        if actor != "anon" {
            request = request.bearer_auth(&self.user(actor).access_token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let answer = self.app.send(request).await;
        (answer.status, answer.body)
    }
}

#[tokio::test]
async fn every_caller_gets_the_status_the_authorization_matrix_gives_on_every_endpoint() {
    let mut world = World::new().await;
    let rows = matrix();
    let mut mismatches = Vec::new();
    let mut table = String::new();
    let _ = writeln!(
        table,
        "{:<40} {}",
        "endpoint",
        ACTORS.map(|a| format!("{a:>5}")).join(" ")
    );

    for (method, template, body, expected) in &rows {
        world.restore().await;
        let path = world.expand(template);
        let mut actual = [0u16; 7];
        for (i, actor) in ACTORS.iter().enumerate() {
            let body = body.map(|b| {
                serde_json::from_str::<Value>(&world.expand(b)).expect("row body is JSON")
            });
            let (status, answer) = world.call(actor, method, &path, body.as_ref()).await;
            actual[i] = status;
            if status != expected[i] {
                mismatches.push(format!(
                    "{method} {template} as {actor}: expected {}, got {status}: {}",
                    expected[i], answer["message"]
                ));
            }
            // The envelope holds on every cell, allowed or not.
            let success = (200..300).contains(&status);
            assert_eq!(
                answer["success"], success,
                "{method} {template} as {actor}: {answer}"
            );
        }
        let cells: Vec<String> = actual
            .iter()
            .zip(expected)
            .map(|(a, e)| {
                if a == e {
                    format!("{a:>5}")
                } else {
                    format!("{:>5}", format!("{a}≠{e}"))
                }
            })
            .collect();
        let _ = writeln!(
            table,
            "{:<40} {}",
            format!("{method} {template}"),
            cells.join(" ")
        );
    }

    assert!(
        mismatches.is_empty(),
        "{} cell(s) of the authorization matrix differ (actual≠expected):\n{table}\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
