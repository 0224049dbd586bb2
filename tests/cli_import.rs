//! `edupro import` end to end: the real binary against a spawned server (SQLite, or
//! PostgreSQL with EDUPRO_TEST_DATABASE_URL): plan, apply, re-run, revert, bad files.
//! The harness is tests/cli.rs's.

#![allow(clippy::unwrap_used)]

#[path = "support/cli_harness.rs"]
mod harness;

use harness::{logged_in_admin, spawn_server};
use serde_json::Value;

const USERS: &str = "user_id,email,first_name,last_name,role,status\n\
u1,ann@cli.test,Ann,One,student,active\n\
u2,bob@cli.test,Bob,Two,teacher,active\n";

fn write_file(dir: &tempfile::TempDir, name: &str, text: &[u8]) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_then_apply_then_a_rerun_that_changes_nothing_then_revert() {
    let server = spawn_server().await;
    let term = logged_in_admin(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(&dir, "users.csv", USERS.as_bytes());

    let plan = term.run(&["import", "users", &file, "--dry-run"]).await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stdout.contains("line 2\tcreate\tu1"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("line 3\tcreate\tu2"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(
            "Plan for 2 rows: 2 to create. Nothing was written; run again without --dry-run to apply."
        ),
        "{}",
        plan.stdout
    );
    let listed = term
        .run(&["users", "list", "--search", "cli.test", "--json"])
        .await;
    assert_eq!(listed.json().as_array().unwrap().len(), 0);

    let json_plan = term
        .run(&["import", "users", &file, "--dry-run", "--json"])
        .await;
    let lines: Vec<Value> = json_plan
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{}", json_plan.stdout);
    assert_eq!(lines[0]["outcome"], "create");
    assert_eq!(lines[2]["type"], "summary");

    let apply = term.run(&["import", "users", &file]).await;
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    assert!(apply.stdout.contains("2 created"), "{}", apply.stdout);
    let listed = term
        .run(&["users", "list", "--search", "cli.test", "--json"])
        .await;
    assert_eq!(listed.json().as_array().unwrap().len(), 2);

    let again = term.run(&["import", "users", &file]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again
            .stdout
            .contains("2 rows: all unchanged; nothing written."),
        "{}",
        again.stdout
    );
    // --verbose lists every row, unchanged ones too.
    let verbose = term.run(&["import", "users", &file, "--verbose"]).await;
    assert!(
        verbose.stdout.contains("line 3\tunchanged\tu2"),
        "{}",
        verbose.stdout
    );
    let table = term.run(&["import", "list"]).await;
    let newest = table.stdout.lines().next().unwrap().to_owned();
    assert!(
        newest.contains("\t0\t0\t2\t0\tno (nothing written)\t"),
        "{newest}"
    );
    let first_apply = table.stdout.lines().nth(2).unwrap().to_owned();
    assert!(
        first_apply.contains("\t2\t0\t0\t0\tyes\t"),
        "{}",
        table.stdout
    );

    let runs = term.run(&["import", "list", "--json"]).await;
    let runs = runs.json();
    assert_eq!(runs[0]["counts"]["unchanged"], 2);
    let applied = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["counts"]["create"] == 2 && r["mode"] == "apply")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revert = term.run(&["import", "revert", &applied, "--yes"]).await;
    assert_eq!(revert.code, 0, "{}", revert.stderr);
    assert!(revert.stdout.contains("deleted"), "{}", revert.stdout);
    let listed = term
        .run(&["users", "list", "--search", "cli.test", "--json"])
        .await;
    assert_eq!(listed.json().as_array().unwrap().len(), 0);
    let twice = term.run(&["import", "revert", &applied, "--yes"]).await;
    assert_eq!(twice.code, 5, "{}", twice.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_rows_exit_6_with_their_lines_on_stderr_and_in_the_errors_file() {
    let server = spawn_server().await;
    let term = logged_in_admin(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        &dir,
        "users.csv",
        b"user_id,email,first_name,last_name\nok1,ok1@cli.test,Ok,One\nbad,bad@cli.test,Short\nbad2,not-an-email,Bad,Email\n",
    );
    let errors = dir.path().join("errors.csv");
    let run = term
        .run(&[
            "import",
            "courses",
            &file,
            "--errors",
            errors.to_str().unwrap(),
        ])
        .await;
    // A users file sent as courses: a bad header, refused before anything is written.
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("is the header row missing, or is this another kind of file?"),
        "{}",
        run.stderr
    );

    let run = term
        .run(&[
            "import",
            "users",
            &file,
            "--errors",
            errors.to_str().unwrap(),
        ])
        .await;
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr.contains("line 3: line: has 3 columns"),
        "{}",
        run.stderr
    );
    // A row that could be read names its key, even when its key column is all it has.
    assert!(
        run.stderr
            .contains("line 4 (bad2): email: must be an email address"),
        "{}",
        run.stderr
    );
    let written = std::fs::read_to_string(&errors).unwrap();
    assert!(
        written.starts_with("line,key,field,message\n3,"),
        "{written}"
    );
    assert_eq!(written.lines().count(), 3, "{written}");
}

#[tokio::test(flavor = "multi_thread")]
async fn enrollments_import_after_users_and_courses() {
    let server = spawn_server().await;
    let term = logged_in_admin(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let users = write_file(&dir, "users.csv", USERS.as_bytes());
    let courses = write_file(
        &dir,
        "courses.csv",
        b"course_id,short_name,long_name,status\nK1,CLI 1,Command Lines,active\n",
    );
    let enrollments = write_file(
        &dir,
        "enrollments.csv",
        b"course_id,user_id,role,status,batch\nK1,u1,student,active,\nK1,u2,ta,active,\nK1,u9,student,active,\n",
    );
    for (kind, file) in [("users", &users), ("courses", &courses)] {
        let done = term.run(&["import", kind, file]).await;
        assert_eq!(done.code, 0, "{kind}: {}", done.stderr);
    }
    let plan = term
        .run(&["import", "enrollments", &enrollments, "--dry-run"])
        .await;
    assert_eq!(plan.code, 6, "a failed row exits 6: {}", plan.stderr);
    assert!(
        plan.stdout.contains("line 2\tcreate\tK1/u1"),
        "{}",
        plan.stdout
    );
    assert!(plan.stderr.contains("line 4"), "{}", plan.stderr);
    assert!(plan.stderr.contains("`u9`"), "{}", plan.stderr);

    let apply = term.run(&["import", "enrollments", &enrollments]).await;
    assert_eq!(apply.code, 6, "{}", apply.stderr);
    assert!(apply.stdout.contains("2 created"), "{}", apply.stdout);
    let rerun = term
        .run(&["import", "enrollments", &enrollments, "--json"])
        .await;
    let summary: Value = serde_json::from_str(rerun.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["counts"]["unchanged"], 2, "{}", rerun.stdout);
    assert_eq!(summary["counts"]["create"], 0, "{}", rerun.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_file_is_explained_an_unclosed_quote_a_missing_header_a_wrong_delimiter() {
    let server = spawn_server().await;
    let term = logged_in_admin(&server).await;
    let dir = tempfile::tempdir().unwrap();

    // The quote on line 2 never closes: line 2 fails as such, line 3 is still read.
    let file = write_file(
        &dir,
        "quote.csv",
        b"user_id,email,first_name,last_name\nq1,q1@cli.test,\"Ann,One\nq2,q2@cli.test,Bob,Two\n",
    );
    let run = term.run(&["import", "users", &file]).await;
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("line 2: line: has a quote (\") that is never closed"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("Imported 2 rows: 1 created, 1 failed."),
        "{}",
        run.stdout
    );
    let shown = term.run(&["users", "show", "q2", "--json"]).await;
    assert_eq!(shown.json()["email"], "q2@cli.test", "{}", shown.stderr);

    let file = write_file(&dir, "headless.csv", b"h1,h1@cli.test,Ann,One\n");
    let run = term.run(&["import", "users", &file]).await;
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr.contains("is the header row missing"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.stderr.matches("header:").count(),
        1,
        "one hint, not one per value: {}",
        run.stderr
    );

    let file = write_file(
        &dir,
        "semicolons.csv",
        b"user_id;email;first_name;last_name\ns1;s1@cli.test;Ann;One\n",
    );
    let run = term.run(&["import", "users", &file]).await;
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr.contains("the file looks `;`-separated"),
        "{}",
        run.stderr
    );
}
