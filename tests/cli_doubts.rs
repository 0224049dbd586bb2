//! `edupro doubts …` end to end: the real binary against a spawned server. A student
//! enrolled in a published course asks; the teacher finds it in the queue and answers;
//! the student accepts the answer and the thread reads RESOLVED with it marked. Votes,
//! hiding and reopening; an empty text is refused naming the field.

#![allow(clippy::unwrap_used)]

#[path = "support/cli_harness.rs"]
mod harness;

use harness::{PASSWORD, Run, Server, Terminal, register, spawn_server};
use serde_json::Value;

/// The run's JSON, after checking that it succeeded.
fn ok(run: &Run, what: &str) -> Value {
    assert_eq!(run.code, 0, "{what}: {}{}", run.stdout, run.stderr);
    run.json()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// A course in the classroom: its teacher's and an enrolled student's terminals, and the
/// id of its one lesson.
struct Classroom {
    teacher: Terminal,
    student: Terminal,
    lesson: String,
}

/// `mechanics`, published by a teacher, with one published lesson and a student enrolled.
async fn classroom(server: &Server) -> Classroom {
    register(server, "teacher@doubts.test", "TEACHER").await;
    register(server, "sam@doubts.test", "STUDENT").await;
    let teacher = Terminal::new(server);
    teacher.login("teacher@doubts.test", PASSWORD).await;
    let student = Terminal::new(server);
    student.login("sam@doubts.test", PASSWORD).await;

    ok(
        &teacher
            .run(&["courses", "create", "--title", "Mechanics", "--json"])
            .await,
        "create the course",
    );
    let section = ok(
        &teacher
            .run(&[
                "sections",
                "add",
                "mechanics",
                "--title",
                "Forces",
                "--json",
            ])
            .await,
        "add a section",
    );
    let lesson = ok(
        &teacher
            .run(&[
                "lessons",
                "add",
                &id(&section),
                "--title",
                "Newton's laws",
                "--content",
                "F = ma",
                "--publish",
                "--json",
            ])
            .await,
        "add a lesson",
    );
    ok(
        &teacher
            .run(&["courses", "publish", "mechanics", "--yes", "--json"])
            .await,
        "publish",
    );
    ok(
        &student
            .run(&["enrollments", "add", "mechanics", "--json"])
            .await,
        "enroll",
    );
    Classroom {
        teacher,
        student,
        lesson: id(&lesson),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_student_asks_the_teacher_answers_from_the_queue_and_the_student_accepts() {
    let server = spawn_server().await;
    let Classroom {
        teacher,
        student,
        lesson,
    } = classroom(&server).await;

    // Asked with the text on standard input, about the lesson.
    let asked = student
        .run_with(
            &[
                "doubts",
                "ask",
                "mechanics",
                "--title",
                "Why is F = ma?",
                "--body",
                "-",
                "--lesson",
                &lesson,
                "--json",
            ],
            "Why is force mass times acceleration?\n",
            &[],
        )
        .await;
    let doubt = ok(&asked, "ask");
    assert_eq!(doubt["status"], "OPEN");
    assert_eq!(doubt["body"], "Why is force mass times acceleration?");
    assert_eq!(doubt["lessonId"], lesson.as_str());
    assert_eq!(doubt["courseTitle"], "Mechanics");
    let doubt_id = id(&doubt);

    // The teacher's queue lists it, with its course; piped, a line of tab-separated cells.
    let queue = teacher.run(&["doubts", "queue"]).await;
    assert_eq!(queue.code, 0, "{}", queue.stderr);
    let line = queue
        .stdout
        .lines()
        .find(|l| l.starts_with(&doubt_id))
        .unwrap_or_else(|| panic!("not in the queue:\n{}", queue.stdout));
    let cells: Vec<&str> = line.split('\t').collect();
    assert_eq!(cells[1..4], ["Mechanics", "Why is F = ma?", "Ada Lovelace"]);
    let queued = ok(
        &teacher
            .run(&["doubts", "queue", "--json", "id,status"])
            .await,
        "queue --json",
    );
    assert_eq!(
        queued,
        serde_json::json!([{ "id": doubt_id, "status": "OPEN" }])
    );

    // Answered from a file; the queue is empty again.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("answer.md");
    std::fs::write(&file, "Newton's second law *defines* force that way.\n").unwrap();
    let answer = ok(
        &teacher
            .run(&[
                "doubts",
                "answer",
                &doubt_id,
                "--body-file",
                file.to_str().unwrap(),
                "--json",
            ])
            .await,
        "answer",
    );
    assert_eq!(answer["byStaff"], true);
    assert_eq!(answer["doubtId"], doubt_id.as_str());
    let answer_id = id(&answer);
    let queued = ok(&teacher.run(&["doubts", "queue", "--json"]).await, "queue");
    assert_eq!(queued, serde_json::json!([]));

    // The student finds it answered in the course's list.
    let answered = ok(
        &student
            .run(&[
                "doubts",
                "list",
                "mechanics",
                "--mine",
                "--status",
                "ANSWERED",
                "--json",
            ])
            .await,
        "list",
    );
    assert_eq!(answered.as_array().unwrap().len(), 1, "{answered}");
    assert_eq!(answered[0]["answers"], 1);

    // Accepted: RESOLVED.
    let accepted = ok(
        &student
            .run(&["doubts", "accept", &doubt_id, &answer_id, "--json"])
            .await,
        "accept",
    );
    assert_eq!(accepted["status"], "RESOLVED");
    assert_eq!(accepted["acceptedAnswerId"], answer_id.as_str());

    // The thread, as people read it: the status, and the answer marked accepted and
    // staff, its text and votes, times in --tz.
    let shown = student
        .run(&["doubts", "show", &doubt_id, "--tz", "Asia/Kolkata"])
        .await;
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let text = &shown.stdout;
    assert!(
        text.lines()
            .any(|l| l.starts_with("status") && l.ends_with("RESOLVED")),
        "{text}"
    );
    assert!(
        text.contains(&format!("--- answer {answer_id} [accepted] [staff]\n")),
        "{text}"
    );
    assert!(
        text.contains("  Why is force mass times acceleration?\n"),
        "{text}"
    );
    assert!(
        text.contains("  Newton's second law *defines* force that way.\n"),
        "{text}"
    );
    assert!(text.contains(" IST · 0 votes\n"), "{text}");

    // And as JSON: the doubt and its answers.
    let thread = ok(
        &student.run(&["doubts", "show", &doubt_id, "--json"]).await,
        "show --json",
    );
    assert_eq!(thread["doubt"]["status"], "RESOLVED");
    assert_eq!(thread["answers"][0]["id"], answer_id.as_str());
    assert_eq!(thread["answers"][0]["accepted"], true);
    let title = student
        .run(&["doubts", "show", &doubt_id, "--jq", ".doubt.title"])
        .await;
    assert_eq!(title.stdout, "Why is F = ma?\n", "{}", title.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn votes_are_counted_and_taken_back_staff_hide_and_the_asker_reopens() {
    let server = spawn_server().await;
    let Classroom {
        teacher, student, ..
    } = classroom(&server).await;
    let doubt = ok(
        &student
            .run(&[
                "doubts",
                "ask",
                "mechanics",
                "--title",
                "Units of force?",
                "--body",
                "Is it newtons?",
                "--json",
            ])
            .await,
        "ask",
    );
    let doubt_id = id(&doubt);
    let answer = ok(
        &teacher
            .run(&[
                "doubts",
                "answer",
                &doubt_id,
                "--body",
                "Yes: kg·m/s².",
                "--json",
            ])
            .await,
        "answer",
    );
    let answer_id = id(&answer);

    // The teacher votes for the doubt, the student for the answer; both take it back.
    let voted = ok(
        &teacher.run(&["doubts", "vote", &doubt_id, "--json"]).await,
        "vote",
    );
    assert_eq!(voted["votes"], 1, "{voted}");
    assert_eq!(voted["voted"], true, "{voted}");
    let voted = ok(
        &student
            .run(&["doubts", "vote", &answer_id, "--answer", "--json"])
            .await,
        "vote for the answer",
    );
    assert_eq!(voted["votes"], 1, "{voted}");
    assert_eq!(voted["voted"], true, "{voted}");
    let undone = ok(
        &teacher
            .run(&["doubts", "vote", &doubt_id, "--undo", "--json"])
            .await,
        "undo",
    );
    assert_eq!(undone["votes"], 0, "{undone}");
    assert_eq!(undone["voted"], false, "{undone}");
    let undone = ok(
        &student
            .run(&["doubts", "vote", &answer_id, "--answer", "--undo", "--json"])
            .await,
        "undo the answer's",
    );
    assert_eq!(undone["votes"], 0);

    // Staff hide an answer: the thread marks it for them; unhidden, it is not marked.
    let hidden = ok(
        &teacher
            .run(&["doubts", "hide", &answer_id, "--answer", "--json"])
            .await,
        "hide",
    );
    assert_eq!(hidden["hidden"], true);
    let shown = teacher.run(&["doubts", "show", &doubt_id]).await;
    assert!(
        shown
            .stdout
            .contains(&format!("--- answer {answer_id} [staff] [hidden]\n")),
        "{}{}",
        shown.stdout,
        shown.stderr
    );
    let unhidden = ok(
        &teacher
            .run(&["doubts", "unhide", &answer_id, "--answer", "--json"])
            .await,
        "unhide",
    );
    assert_eq!(unhidden["hidden"], false);
    let hidden = ok(
        &teacher.run(&["doubts", "hide", &doubt_id, "--json"]).await,
        "hide the doubt",
    );
    assert_eq!(hidden["hidden"], true);
    let listed = teacher.run(&["doubts", "list", "mechanics"]).await;
    assert!(
        listed.stdout.contains("\tANSWERED (hidden)\t"),
        "{}{}",
        listed.stdout,
        listed.stderr
    );
    ok(
        &teacher
            .run(&["doubts", "unhide", &doubt_id, "--json"])
            .await,
        "unhide the doubt",
    );

    // Accepted, then reopened: ANSWERED again, nothing accepted.
    ok(
        &student
            .run(&["doubts", "accept", &doubt_id, &answer_id, "--json"])
            .await,
        "accept",
    );
    let reopened = ok(
        &student
            .run(&["doubts", "reopen", &doubt_id, "--json"])
            .await,
        "reopen",
    );
    assert_eq!(reopened["status"], "ANSWERED");
    assert_eq!(reopened["acceptedAnswerId"], Value::Null);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_text_is_refused_naming_the_field_and_nothing_is_asked() {
    let server = spawn_server().await;
    let Classroom { student, .. } = classroom(&server).await;

    let refused = student
        .run(&[
            "doubts",
            "ask",
            "mechanics",
            "--title",
            "Empty",
            "--body",
            "",
        ])
        .await;
    assert_eq!(refused.code, 5, "{}{}", refused.stdout, refused.stderr);
    let first = refused.stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("error: "), "{}", refused.stderr);
    assert!(refused.stderr.contains("body"), "{}", refused.stderr);

    // An empty file is no better.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("empty.md");
    std::fs::write(&file, "\n").unwrap();
    let refused = student
        .run(&[
            "doubts",
            "ask",
            "mechanics",
            "--title",
            "Empty",
            "--body-file",
            file.to_str().unwrap(),
        ])
        .await;
    assert_eq!(refused.code, 5, "{}{}", refused.stdout, refused.stderr);
    assert!(refused.stderr.contains("body"), "{}", refused.stderr);

    // No text at all is a usage error, before any request.
    let missing = student
        .run(&["doubts", "ask", "mechanics", "--title", "Empty"])
        .await;
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(missing.stderr.contains("--body"), "{}", missing.stderr);

    let mine = ok(
        &student
            .run(&["doubts", "list", "mechanics", "--mine", "--json"])
            .await,
        "list",
    );
    assert_eq!(mine, serde_json::json!([]));
}

/// `edupro leaderboard`: a student whose answer was accepted leads the course's board;
/// the school's adds the day's XP and marks the caller; `--hide` takes them off.
#[tokio::test(flavor = "multi_thread")]
async fn an_accepted_answer_puts_its_author_on_the_leaderboards_until_they_hide() {
    let server = spawn_server().await;
    let Classroom {
        teacher, student, ..
    } = classroom(&server).await;
    register(&server, "kim@doubts.test", "STUDENT").await;
    let kim = Terminal::new(&server);
    kim.login("kim@doubts.test", PASSWORD).await;
    ok(
        &kim.run(&["enrollments", "add", "mechanics", "--json"])
            .await,
        "enroll kim",
    );
    let doubt = ok(
        &student
            .run(&[
                "doubts",
                "ask",
                "mechanics",
                "--title",
                "Units?",
                "--body",
                "Of force?",
                "--json",
            ])
            .await,
        "ask",
    );
    let answer = ok(
        &kim.run(&[
            "doubts",
            "answer",
            &id(&doubt),
            "--body",
            "Newtons.",
            "--json",
        ])
        .await,
        "answer",
    );
    ok(
        &student
            .run(&["doubts", "accept", &id(&doubt), &id(&answer), "--json"])
            .await,
        "accept",
    );

    let board = ok(
        &teacher.run(&["leaderboard", "mechanics", "--json"]).await,
        "the course's board",
    );
    let entries = board.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{board}");
    assert_eq!(
        (&entries[0]["rank"], &entries[0]["xp"]),
        (&1.into(), &15.into())
    );

    let school = kim.run(&["leaderboard", "--week"]).await;
    assert_eq!(school.code, 0, "{}", school.stderr);
    assert!(
        school.stderr.contains("School leaderboard since"),
        "{}",
        school.stderr
    );
    let mine = school
        .stdout
        .lines()
        .find(|l| l.contains("(you)"))
        .unwrap_or_else(|| panic!("not marked:\n{}", school.stdout));
    assert!(
        mine.ends_with("\t20"),
        "15 for the answer and 5 for the day: {mine:?}"
    );

    let hidden = kim.run(&["leaderboard", "--hide"]).await;
    assert_eq!(hidden.code, 0, "{}", hidden.stderr);
    let board = ok(
        &teacher.run(&["leaderboard", "mechanics", "--json"]).await,
        "the board without kim",
    );
    assert_eq!(board, serde_json::json!([]));
    let refused = kim.run(&["leaderboard", "--hide", "mechanics"]).await;
    assert_eq!(refused.code, 2, "a usage error: {}", refused.stderr);
}
