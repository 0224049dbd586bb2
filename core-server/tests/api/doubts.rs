//! Doubts over HTTP: asking, answering, accepting, votes, hiding, the teacher's queue,
//! who may do what, and the notifications they make for staff, askers and answerers.

use serde_json::{Value, json};

use crate::catalogue_helpers::{add_staff, error_fields, published};
use crate::helpers::{TestApp, TestUser, spawn_app};
use crate::realtime_helpers::{classroom, inbox, wait_for_title};
use crate::tests_helpers::{published_test, question, start, submit, write};

async fn ask(app: &TestApp, student: &TestUser, course: &str, title: &str) -> Value {
    let answer = app
        .post_as(
            &student.access_token,
            &format!("/api/v1/courses/{course}/doubts"),
            &json!({ "title": title, "body": "Why does `x` move?\n\nI tried twice." }),
        )
        .await;
    assert_eq!(answer.status, 201, "ask: {}", answer.body);
    answer.body["data"].clone()
}

async fn reply(app: &TestApp, user: &TestUser, doubt: &str, body: &str) -> Value {
    let answer = app
        .post_as(
            &user.access_token,
            &format!("/api/v1/doubts/{doubt}/answers"),
            &json!({ "body": body }),
        )
        .await;
    assert_eq!(answer.status, 201, "answer: {}", answer.body);
    answer.body["data"].clone()
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn a_doubt_is_asked_answered_accepted_and_reopened_with_its_notifications() {
    let app = spawn_app().await;
    let room = classroom(&app, "Physics", 2).await;
    let (asker, peer) = (&room.students[0], &room.students[1]);
    let doubt = ask(&app, asker, &room.course, "Why is velocity a vector?").await;
    assert_eq!(doubt["status"], "OPEN");
    assert_eq!(doubt["courseTitle"], "Physics");
    assert_eq!(doubt["body"], "Why does `x` move?\n\nI tried twice.");
    let doubt_id = id(&doubt);

    // The teacher hears of the doubt and of each student who enrolled themselves.
    let asked = wait_for_title(&app, &room.teacher, "New doubt: Why is velocity a vector?").await;
    assert_eq!(asked["type"], "DOUBT_ASKED");
    assert_eq!(asked["actionUrl"], format!("/doubts/{doubt_id}"));
    let enrolled = wait_for_title(&app, &room.teacher, "New student in Physics").await;
    assert_eq!(enrolled["type"], "STUDENT_ENROLLED");
    // The queue has it, oldest first.
    let queue = app
        .get_as(&room.teacher.access_token, "/api/v1/doubts/queue")
        .await;
    assert_eq!(queue.status, 200, "{}", queue.body);
    assert_eq!(queue.body["data"]["doubts"][0]["id"], doubt_id);

    let by_teacher = reply(&app, &room.teacher, &doubt_id, "It has a direction.").await;
    assert_eq!(by_teacher["byStaff"], true);
    let by_peer = reply(&app, peer, &doubt_id, "Because of **direction**.").await;
    assert_eq!(by_peer["byStaff"], false);
    let answered = wait_for_title(&app, asker, "New answer: Why is velocity a vector?").await;
    assert_eq!(answered["type"], "DOUBT_ANSWERED");
    let queue = app
        .get_as(&room.teacher.access_token, "/api/v1/doubts/queue")
        .await;
    assert_eq!(
        queue.body["data"]["doubts"],
        json!([]),
        "answered leaves the queue"
    );

    // Only the asker accepts, and only an answer to this doubt.
    let path = format!("/api/v1/doubts/{doubt_id}/accept");
    let body = json!({ "answerId": id(&by_peer) });
    let not_asker = app.post_as(&peer.access_token, &path, &body).await;
    assert_eq!(not_asker.status, 403, "{}", not_asker.body);
    let stray = app
        .post_as(&asker.access_token, &path, &json!({ "answerId": doubt_id }))
        .await;
    assert_eq!(stray.status, 400, "{}", stray.body);
    assert_eq!(error_fields(&stray.body), ["answerId"]);
    let accepted = app.post_as(&asker.access_token, &path, &body).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert_eq!(accepted.body["data"]["status"], "RESOLVED");
    assert_eq!(accepted.body["data"]["acceptedAnswerId"], id(&by_peer));
    let note = wait_for_title(&app, peer, "Answer accepted: Why is velocity a vector?").await;
    assert_eq!(note["type"], "ANSWER_ACCEPTED");

    let thread = app
        .get_as(&asker.access_token, &format!("/api/v1/doubts/{doubt_id}"))
        .await;
    assert_eq!(thread.status, 200, "{}", thread.body);
    let answers = thread.body["data"]["answers"].as_array().expect("answers");
    assert_eq!(answers.len(), 2);
    assert_eq!(
        answers[0]["id"],
        id(&by_peer),
        "the accepted answer comes first"
    );
    assert_eq!(answers[0]["accepted"], true);

    let reopened = app
        .post_as(
            &asker.access_token,
            &format!("/api/v1/doubts/{doubt_id}/reopen"),
            &json!({}),
        )
        .await;
    assert_eq!(reopened.body["data"]["status"], "ANSWERED");
    assert_eq!(reopened.body["data"]["acceptedAnswerId"], Value::Null);
}

#[tokio::test]
async fn who_may_see_ask_answer_and_hide_doubts() {
    let app = spawn_app().await;
    let room = classroom(&app, "Chemistry", 2).await;
    let (asker, peer) = (&room.students[0], &room.students[1]);
    let outsider = app.register("STUDENT").await;
    let other_teacher = app.register("TEACHER").await;
    let ta = app.register("TEACHER").await;
    add_staff(&app, &room.teacher.access_token, &room.course, &ta.id, "TA").await;
    let admin = app.admin().await;
    let doubt_id = id(&ask(&app, asker, &room.course, "Moles?").await);
    let list = format!("/api/v1/courses/{}/doubts", room.course);
    let thread = format!("/api/v1/doubts/{doubt_id}");

    // Reading: enrolled students, staff and admins; not others, nor anonymous callers.
    for (who, user, status) in [
        ("asker", asker, 200),
        ("peer", peer, 200),
        ("teacher", &room.teacher, 200),
        ("ta", &ta, 200),
        ("admin", &admin, 200),
        ("outsider", &outsider, 403),
        ("other teacher", &other_teacher, 403),
    ] {
        let listed = app.get_as(&user.access_token, &list).await;
        assert_eq!(listed.status, status, "{who} lists: {}", listed.body);
        let read = app.get_as(&user.access_token, &thread).await;
        assert_eq!(read.status, status, "{who} reads: {}", read.body);
    }
    assert_eq!(app.get(&list).await.status, 401);
    // Asking: enrolled students only.
    for (who, user) in [("teacher", &room.teacher), ("outsider", &outsider)] {
        let answer = app
            .post_as(
                &user.access_token,
                &list,
                &json!({ "title": "t", "body": "b" }),
            )
            .await;
        assert_eq!(answer.status, 403, "{who} asks: {}", answer.body);
    }
    // Answering: not outsiders.
    let answer = app
        .post_as(
            &outsider.access_token,
            &format!("{thread}/answers"),
            &json!({ "body": "guess" }),
        )
        .await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    // Hiding: staff only; a hidden doubt is gone for students and takes no answers.
    let hide = format!("{thread}/hide");
    assert_eq!(
        app.post_as(&peer.access_token, &hide, &json!({}))
            .await
            .status,
        403
    );
    let hidden = app.post_as(&ta.access_token, &hide, &json!({})).await;
    assert_eq!(hidden.status, 200, "{}", hidden.body);
    assert_eq!(hidden.body["data"]["hidden"], true);
    assert_eq!(app.get_as(&asker.access_token, &thread).await.status, 404);
    let listed = app.get_as(&peer.access_token, &list).await;
    assert_eq!(listed.body["data"]["doubts"], json!([]));
    let staff_list = app.get_as(&room.teacher.access_token, &list).await;
    assert_eq!(staff_list.body["data"]["doubts"][0]["hidden"], true);
    let refused = app
        .post_as(
            &room.teacher.access_token,
            &format!("{thread}/answers"),
            &json!({ "body": "no" }),
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);

    // A student removed from the course loses access at once.
    let unhide = app
        .post_as(
            &room.teacher.access_token,
            &format!("{thread}/unhide"),
            &json!({}),
        )
        .await;
    assert_eq!(unhide.status, 200);
    let removed = app
        .delete_as(
            &room.teacher.access_token,
            &format!("/api/v1/courses/{}/enrollments/{}", room.course, peer.id),
        )
        .await;
    assert!(removed.status < 300, "{}", removed.body);
    assert_eq!(app.get_as(&peer.access_token, &thread).await.status, 403);
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_nothing_is_written() {
    let app = spawn_app().await;
    let room = classroom(&app, "Biology", 1).await;
    let student = &room.students[0];
    let path = format!("/api/v1/courses/{}/doubts", room.course);
    let answer = app
        .post_as(
            &student.access_token,
            &path,
            &json!({ "title": "  ", "body": "x".repeat(20_001), "link": "ftp://x" }),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(error_fields(&answer.body), ["title", "body", "link"]);
    let (_, _, other_lesson) = published(&app, &room.teacher.access_token, "Other").await;
    let answer = app
        .post_as(
            &student.access_token,
            &path,
            &json!({ "title": "t", "body": "b", "lessonId": other_lesson }),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(error_fields(&answer.body), ["lessonId"]);
    let listed = app.get_as(&room.teacher.access_token, &path).await;
    assert_eq!(listed.body["data"]["pagination"]["total"], 0);

    let doubt_id = id(&ask(&app, student, &room.course, "Cells").await);
    let empty = app
        .post_as(
            &room.teacher.access_token,
            &format!("/api/v1/doubts/{doubt_id}/answers"),
            &json!({ "body": "\n \t" }),
        )
        .await;
    assert_eq!(empty.status, 400, "{}", empty.body);
    assert_eq!(error_fields(&empty.body), ["body"]);
    let thread = app
        .get_as(&student.access_token, &format!("/api/v1/doubts/{doubt_id}"))
        .await;
    assert_eq!(thread.body["data"]["answers"], json!([]));
    assert_eq!(thread.body["data"]["doubt"]["status"], "OPEN");
}

#[tokio::test]
async fn votes_are_one_per_person_never_ones_own_and_order_the_list() {
    let app = spawn_app().await;
    let room = classroom(&app, "History", 3).await;
    let [a, b, c] = [&room.students[0], &room.students[1], &room.students[2]];
    let first = id(&ask(&app, a, &room.course, "Rome").await);
    let second = id(&ask(&app, b, &room.course, "Greece").await);
    let vote = |doubt: &str| format!("/api/v1/doubts/{doubt}/vote");

    let own = app
        .post_as(&a.access_token, &vote(&first), &json!({}))
        .await;
    assert_eq!(own.status, 403, "{}", own.body);
    let given = app
        .post_as(&c.access_token, &vote(&first), &json!({}))
        .await;
    assert_eq!(given.status, 200, "{}", given.body);
    assert_eq!(given.body["data"]["votes"], 1);
    assert_eq!(given.body["data"]["voted"], true);
    let twice = app
        .post_as(&c.access_token, &vote(&first), &json!({}))
        .await;
    assert_eq!(twice.status, 409, "{}", twice.body);
    app.post_as(&b.access_token, &vote(&first), &json!({}))
        .await;

    let path = format!("/api/v1/courses/{}/doubts", room.course);
    let newest = app.get_as(&c.access_token, &path).await;
    let titles = |v: &Value| -> Vec<String> {
        v["data"]["doubts"]
            .as_array()
            .expect("doubts")
            .iter()
            .map(|d| d["title"].as_str().expect("title").to_owned())
            .collect()
    };
    assert_eq!(titles(&newest.body), ["Greece", "Rome"]);
    let by_votes = app
        .get_as(&c.access_token, &format!("{path}?sort=votes"))
        .await;
    assert_eq!(titles(&by_votes.body), ["Rome", "Greece"]);
    let mine = app
        .get_as(&b.access_token, &format!("{path}?mine=true"))
        .await;
    assert_eq!(titles(&mine.body), ["Greece"]);
    let found = app
        .get_as(&c.access_token, &format!("{path}?search=GREE"))
        .await;
    assert_eq!(titles(&found.body), ["Greece"]);

    let back = app.delete_as(&c.access_token, &vote(&first)).await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(back.body["data"]["votes"], 1);
    assert_eq!(back.body["data"]["voted"], false);
    // Taking back a vote one has not given changes nothing.
    let again = app.delete_as(&c.access_token, &vote(&first)).await;
    assert_eq!(again.body["data"]["votes"], 1);

    // Answer votes: the same rules.
    let reply = reply(&app, &room.teacher, &second, "Athens.").await;
    let path = format!("/api/v1/doubt-answers/{}/vote", id(&reply));
    assert_eq!(
        app.post_as(&a.access_token, &path, &json!({})).await.status,
        200
    );
    assert_eq!(
        app.post_as(&a.access_token, &path, &json!({})).await.status,
        409
    );
    let own = app
        .post_as(&room.teacher.access_token, &path, &json!({}))
        .await;
    assert_eq!(own.status, 403);
}

#[tokio::test]
async fn concurrent_votes_of_one_person_count_once() {
    let app = spawn_app().await;
    let room = classroom(&app, "Art", 2).await;
    let doubt = id(&ask(&app, &room.students[0], &room.course, "Colour").await);
    let voter = &room.students[1];
    let path = format!("/api/v1/doubts/{doubt}/vote");
    let empty = json!({});
    let tries = (0..5).map(|_| app.post_as(&voter.access_token, &path, &empty));
    let statuses: Vec<u16> = futures_util::future::join_all(tries)
        .await
        .iter()
        .map(|a| a.status)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
    let thread = app
        .get_as(&voter.access_token, &format!("/api/v1/doubts/{doubt}"))
        .await;
    assert_eq!(thread.body["data"]["doubt"]["votes"], 1);
}

#[tokio::test]
async fn authors_edit_within_the_window_and_delete_what_nobody_else_answered() {
    let app = spawn_app().await;
    let room = classroom(&app, "Music", 2).await;
    let (asker, peer) = (&room.students[0], &room.students[1]);
    let doubt = id(&ask(&app, asker, &room.course, "Scales").await);
    let path = format!("/api/v1/doubts/{doubt}");
    let edited = app
        .patch_as(
            &asker.access_token,
            &path,
            &json!({ "title": "Major scales", "link": "https://example.org/scales" }),
        )
        .await;
    assert_eq!(edited.status, 200, "{}", edited.body);
    assert_eq!(edited.body["data"]["title"], "Major scales");
    assert_eq!(edited.body["data"]["link"], "https://example.org/scales");
    let not_mine = app
        .patch_as(&peer.access_token, &path, &json!({ "title": "x" }))
        .await;
    assert_eq!(not_mine.status, 403);

    reply(&app, peer, &doubt, "C D E F G A B").await;
    let kept = app.delete_as(&asker.access_token, &path).await;
    assert_eq!(kept.status, 409, "{}", kept.body);
    let other = id(&ask(&app, asker, &room.course, "Chords").await);
    let gone = app
        .delete_as(&asker.access_token, &format!("/api/v1/doubts/{other}"))
        .await;
    assert_eq!(gone.status, 200, "{}", gone.body);
    let read = app
        .get_as(&asker.access_token, &format!("/api/v1/doubts/{other}"))
        .await;
    assert_eq!(read.status, 404);
}

#[tokio::test]
async fn staff_hear_of_attempts_waiting_for_marks_and_of_reviews() {
    let app = spawn_app().await;
    let room = classroom(&app, "Essays", 1).await;
    let student = &room.students[0];
    let doc = json!({
        "courseId": room.course,
        "title": "Essay 1",
        "type": "QUIZ",
        "durationMinutes": 30,
        "questions": [{ "type": "LONG_ANSWER", "questionText": "Explain inertia.", "marks": 5 }]
    });
    let test = published_test(&app, &room.teacher.access_token, &doc).await;
    let attempt = start(&app, &student.access_token, &test).await;
    let essay = write(question(&attempt, "Explain"), "Things keep moving.");
    let attempt_id = attempt["id"].as_str().expect("attempt id");
    let submitted = submit(&app, &student.access_token, attempt_id, vec![essay]).await;
    assert_eq!(submitted.status, 200, "{}", submitted.body);
    let owed = wait_for_title(&app, &room.teacher, "To grade: Essay 1").await;
    assert_eq!(owed["type"], "ATTEMPT_SUBMITTED");
    assert!(
        owed["message"]
            .as_str()
            .expect("message")
            .contains("1 answer waits"),
        "{owed}"
    );

    let review = app
        .call_as(
            &student.access_token,
            reqwest::Method::PUT,
            &format!("/api/v1/courses/{}/reviews/mine", room.course),
            Some(&json!({ "rating": 4, "comment": "Good" })),
        )
        .await;
    assert!(review.status < 300, "{}", review.body);
    let reviewed = wait_for_title(&app, &room.teacher, "New review of Essays").await;
    assert_eq!(reviewed["type"], "COURSE_REVIEWED");
    assert!(
        reviewed["message"]
            .as_str()
            .expect("m")
            .ends_with("rated Essays 4/5.")
    );
    // The student hears of none of it.
    let theirs: Vec<Value> = inbox(&app, student).await;
    assert!(
        theirs
            .iter()
            .all(|n| n["type"] != "ATTEMPT_SUBMITTED" && n["type"] != "COURSE_REVIEWED"),
        "{theirs:?}"
    );
}
