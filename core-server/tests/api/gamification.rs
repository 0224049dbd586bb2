//! XP, levels, streaks and leaderboards over HTTP: each award once per cause (even
//! under concurrent requests), a regrade taking a pass's XP back, and leaderboards with
//! ties and students who hide.

use serde_json::{Value, json};

use crate::catalogue_helpers::{error_fields, published};
use crate::enrollments::{enroll, progress};
use crate::helpers::{TestApp, TestUser, spawn_app};
use crate::realtime_helpers::{inbox, wait_for_title};
use crate::tests_helpers::{pick, published_test, question, start, submit};

async fn profile(app: &TestApp, user: &TestUser) -> Value {
    let me = app.get_as(&user.access_token, "/api/v1/auth/me").await;
    assert_eq!(me.status, 200, "{}", me.body);
    me.body["data"]["studentProfile"].clone()
}

async fn board(app: &TestApp, user: &TestUser, path: &str) -> Vec<(String, u64, i64)> {
    let answer = app.get_as(&user.access_token, path).await;
    assert_eq!(answer.status, 200, "{path}: {}", answer.body);
    answer.body["data"]["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["student"]["id"].as_str().expect("id").to_owned(),
                e["rank"].as_u64().expect("rank"),
                e["xp"].as_i64().expect("xp"),
            )
        })
        .collect()
}

#[tokio::test]
async fn completing_a_lesson_awards_xp_once_even_when_reported_concurrently() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let (course, _, lesson) = published(&app, &teacher.access_token, "Algebra").await;
    let student = app.register("STUDENT").await;
    let before = profile(&app, &student).await;
    assert_eq!(
        (&before["totalXp"], &before["level"]),
        (&json!(0), &json!(1))
    );
    let enrollment = enroll(&app, &student.access_token, &course).await;
    let reports =
        (0..6).map(|_| progress(&app, &student.access_token, &enrollment, &lesson, true, 30));
    let answers = futures_util::future::join_all(reports).await;
    assert!(
        answers.iter().all(|a| a.status == 200),
        "{:?}",
        answers.iter().map(|a| &a.body).collect::<Vec<_>>()
    );
    let earned: i64 = answers
        .iter()
        .map(|a| a.body["data"]["xpEarned"].as_i64().expect("xpEarned"))
        .sum();
    // The lesson (10), the course it completes (100), the day's activity (5): once each.
    assert_eq!(earned, 115);
    let after = profile(&app, &student).await;
    assert_eq!(after["totalXp"], 115);
    assert_eq!(after["level"], 2, "100 XP reaches level 2");
    assert_eq!(after["currentStreak"], 1);
    assert_eq!(after["longestStreak"], 1);
    assert!(after["lastActiveOn"].is_string(), "{after}");
    // Badges unlock once each, and the student hears of them and of the new level.
    let badges: Vec<&str> = after["badges"]
        .as_array()
        .expect("badges")
        .iter()
        .map(|b| b["code"].as_str().expect("code"))
        .collect();
    assert_eq!(badges, ["FIRST_LESSON", "COURSE_COMPLETED"], "{after}");
    let badge = wait_for_title(&app, &student, "Badge unlocked: First steps").await;
    assert_eq!(badge["type"], "ACHIEVEMENT_UNLOCKED");
    let level = wait_for_title(&app, &student, "Level 2").await;
    assert_eq!(level["type"], "LEVEL_UP");
    assert_eq!(level["message"], "You reached level 2 with 115 XP.");
    let unlocked: Vec<Value> = inbox(&app, &student)
        .await
        .into_iter()
        .filter(|n| n["type"] == "ACHIEVEMENT_UNLOCKED")
        .collect();
    assert_eq!(unlocked.len(), 2, "{unlocked:?}");
    // Reporting again earns nothing more.
    let again = progress(&app, &student.access_token, &enrollment, &lesson, true, 30).await;
    assert_eq!(again.body["data"]["xpEarned"], 0);
    assert_eq!(profile(&app, &student).await["totalXp"], 115);
}

#[tokio::test]
async fn a_regrade_that_turns_a_pass_into_a_fail_takes_its_xp_back() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let token = &teacher.access_token;
    let (course, _, _) = published(&app, token, "Physics").await;
    let student = app.register("STUDENT").await;
    enroll(&app, &student.access_token, &course).await;
    let doc = json!({
        "courseId": course, "title": "Quick check", "type": "QUIZ", "passingMarks": 2,
        "questions": [{ "type": "MCQ", "questionText": "Unit of force?", "marks": 2,
            "options": [ { "text": "Joule" }, { "text": "Newton", "isCorrect": true } ] }]
    });
    let test = published_test(&app, token, &doc).await;
    let attempt = start(&app, &student.access_token, &test).await;
    let answer = pick(question(&attempt, "Unit"), &["Newton"]);
    let id = attempt["id"].as_str().expect("attempt id");
    let done = submit(&app, &student.access_token, id, vec![answer]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    // Passed (50) and perfect (25), and the day's activity (5).
    assert_eq!(profile(&app, &student).await["totalXp"], 80);

    let t = app.get_as(token, &format!("/api/v1/tests/{test}")).await;
    let q = &t.body["data"]["questions"][0];
    let joule = q["options"][0]["id"].clone();
    let path = format!("/api/v1/questions/{}/regrade", q["id"].as_str().expect("q"));
    let regraded = app
        .post_as(token, &path, &json!({ "correctOptions": [joule] }))
        .await;
    assert_eq!(regraded.status, 200, "{}", regraded.body);
    assert_eq!(
        profile(&app, &student).await["totalXp"],
        5,
        "only the day's XP stays"
    );
    // Regrading back awards it again, once.
    let newton = q["options"][1]["id"].clone();
    for _ in 0..2 {
        app.post_as(token, &path, &json!({ "correctOptions": [newton] }))
            .await;
    }
    assert_eq!(profile(&app, &student).await["totalXp"], 80);
}

#[tokio::test]
async fn leaderboards_rank_ties_alike_leave_out_who_hides_and_count_the_week() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let (course, _, lesson) = published(&app, &teacher.access_token, "Geometry").await;
    let mut students = Vec::new();
    for _ in 0..3 {
        let s = app.register("STUDENT").await;
        let e = enroll(&app, &s.access_token, &course).await;
        students.push((s, e));
    }
    // The first two complete the course's only lesson: 110 XP in the course each.
    for (s, e) in &students[..2] {
        let done = progress(&app, &s.access_token, e, &lesson, true, 10).await;
        assert_eq!(done.status, 200, "{}", done.body);
    }
    // The third's answer to the first's doubt is accepted: 15 XP in the course.
    let (asker, answerer) = (&students[0].0, &students[2].0);
    let doubt = app
        .post_as(
            &asker.access_token,
            &format!("/api/v1/courses/{course}/doubts"),
            &json!({ "title": "Angles", "body": "Why 180?" }),
        )
        .await;
    let doubt = doubt.body["data"]["id"].as_str().expect("doubt").to_owned();
    let reply = app
        .post_as(
            &answerer.access_token,
            &format!("/api/v1/doubts/{doubt}/answers"),
            &json!({ "body": "Triangles." }),
        )
        .await;
    let accept = app
        .post_as(
            &asker.access_token,
            &format!("/api/v1/doubts/{doubt}/accept"),
            &json!({ "answerId": reply.body["data"]["id"] }),
        )
        .await;
    assert_eq!(accept.status, 200, "{}", accept.body);

    let name = |i: usize| students[i].0.id.clone();
    let course_board = format!("/api/v1/courses/{course}/leaderboard");
    let mut top = board(&app, &teacher, &course_board).await;
    top[..2].sort();
    let mut expected = vec![(name(0), 1, 110), (name(1), 1, 110), (name(2), 3, 15)];
    expected[..2].sort();
    assert_eq!(top, expected, "equal XP, equal rank; the next rank skips");
    let weekly = board(&app, &teacher, &format!("{course_board}?period=week")).await;
    assert_eq!(weekly.len(), 3, "all of it was earned this week");
    // The school's board adds each student's daily activity (5).
    let school = board(&app, &students[2].0, "/api/v1/leaderboard").await;
    assert_eq!(school.last(), Some(&(name(2), 3, 20)));

    // The first hides: gone from every board, and the others move up.
    let hide = app
        .call_as(
            &students[0].0.access_token,
            reqwest::Method::PUT,
            "/api/v1/leaderboard/visibility",
            Some(&json!({ "hidden": true })),
        )
        .await;
    assert_eq!(hide.status, 200, "{}", hide.body);
    let after = board(&app, &teacher, &course_board).await;
    assert_eq!(after, vec![(name(1), 1, 110), (name(2), 2, 15)]);
    let mine = app.get_as(&students[0].0.access_token, &course_board).await;
    assert_eq!(mine.body["data"]["hidden"], true);
    assert_eq!(mine.body["data"]["me"], Value::Null);

    // Outsiders do not see a course's board; a batch must be the course's.
    let outsider = app.register("STUDENT").await;
    let refused = app.get_as(&outsider.access_token, &course_board).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let stray = app
        .get_as(
            &teacher.access_token,
            &format!("{course_board}?batch={}", uuid::Uuid::now_v7()),
        )
        .await;
    assert_eq!(stray.status, 400, "{}", stray.body);
    assert_eq!(error_fields(&stray.body), ["batch"]);
}
