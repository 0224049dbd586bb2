//! Enrollments over HTTP: self-enrollment in free courses (402 for paid ones), staff
//! enrolling and removing students, rosters, my-courses, lesson progress and its math,
//! what enrollment opens (archived courses, lessons, reviews, teachers seeing students),
//! and the domain events each change writes — only when the change commits.

use reqwest::Method;
use serde_json::{Value, json};

use crate::catalogue_helpers::{
    add_lesson, add_section, add_staff, draft, error_fields, published,
};
use crate::helpers::{TestApp, spawn_app};

/// Enrolls the student behind `token` in `course` through `POST /enrollments`; the
/// enrollment's id.
pub async fn enroll(app: &TestApp, token: &str, course: &str) -> String {
    let answer = app
        .post_as(token, "/api/v1/enrollments", &json!({ "courseId": course }))
        .await;
    assert_eq!(answer.status, 201, "enroll: {}", answer.body);
    answer.body["data"]["enrollmentId"]
        .as_str()
        .expect("enrollment id")
        .to_owned()
}

/// Enrolls `student` in `course` as the staff member or admin behind `token`.
pub async fn staff_enroll(app: &TestApp, token: &str, course: &str, student: &str) -> Value {
    let answer = app
        .post_as(
            token,
            &format!("/api/v1/courses/{course}/enrollments"),
            &json!({ "studentId": student }),
        )
        .await;
    assert_eq!(answer.status, 201, "staff enroll: {}", answer.body);
    answer.body["data"].clone()
}

/// Reports progress on `lesson`; the answer.
pub async fn progress(
    app: &TestApp,
    token: &str,
    enrollment: &str,
    lesson: &str,
    completed: bool,
    time_spent: i64,
) -> crate::helpers::Answer {
    app.post_as(
        token,
        &format!("/api/v1/enrollments/{enrollment}/progress"),
        &json!({ "lessonId": lesson, "completed": completed, "timeSpent": time_spent }),
    )
    .await
}

/// The stored domain events of `kind`, oldest first, as `(seq, payload)`.
pub async fn stored_events(app: &TestApp, kind: &str) -> Vec<(i64, Value)> {
    use edupro_server::store::entity::domain_event;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    domain_event::Entity::find()
        .filter(domain_event::Column::Kind.eq(kind))
        .order_by_asc(domain_event::Column::Seq)
        .all(&app.state.db)
        .await
        .expect("domain events read")
        .into_iter()
        .map(|e| (e.seq, e.payload))
        .collect()
}

/// The course's `totalStudents` as its owner sees it.
async fn total_students(app: &TestApp, token: &str, course: &str) -> i64 {
    let answer = app
        .get_as(token, &format!("/api/v1/courses/{course}"))
        .await;
    assert_eq!(answer.status, 200, "get course: {}", answer.body);
    answer.body["data"]["totalStudents"]
        .as_i64()
        .expect("totalStudents")
}

#[tokio::test]
async fn a_student_enrolls_in_a_free_published_course_and_finds_it_in_my_courses() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let (course, _, _) = published(&app, &teacher.access_token, "Free Rust").await;
    let answer = app
        .post_as(
            &student.access_token,
            "/api/v1/enrollments",
            &json!({ "courseId": course }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let data = &answer.body["data"];
    assert_eq!(data["courseId"], course);
    assert_eq!(data["studentId"], student.id);
    assert_eq!(data["progress"], 0);
    assert_eq!(data["status"], "ACTIVE");
    assert!(data["enrolledAt"].is_string(), "{data}");
    let mine = app
        .get_as(&student.access_token, "/api/v1/enrollments/my-courses")
        .await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    let first = &mine.body["data"]["enrollments"][0];
    assert_eq!(first["id"], data["enrollmentId"]);
    assert_eq!(first["courseId"], course);
    assert_eq!(first["progress"], 0);
    assert_eq!(first["status"], "ACTIVE");
    assert_eq!(first["course"]["title"], "Free Rust");
    assert!(first.get("lastAccessedAt").is_some(), "{first}");
    assert!(first["course"].get("thumbnail").is_some(), "{first}");
    assert_eq!(mine.body["data"]["pagination"]["total"], 1);
    assert_eq!(
        total_students(&app, &teacher.access_token, &course).await,
        1
    );
}

#[tokio::test]
async fn a_paid_course_answers_402_naming_its_price_and_enrolls_nobody() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let t = &teacher.access_token;
    let course = crate::catalogue_helpers::create_course(
        &app,
        t,
        json!({ "title": "Paid Rust", "price": 49900 }),
    )
    .await;
    let section = add_section(&app, t, &course, "Week 1").await;
    add_lesson(&app, t, &section, "One", true).await;
    let publish = app
        .post_as(t, &format!("/api/v1/courses/{course}/publish"), &json!({}))
        .await;
    assert_eq!(publish.status, 200, "{}", publish.body);
    let answer = app
        .post_as(
            &student.access_token,
            "/api/v1/enrollments",
            &json!({ "courseId": course, "paymentId": "pay_123" }),
        )
        .await;
    assert_eq!(answer.status, 402, "{}", answer.body);
    assert_eq!(answer.body["code"], "PAYMENT_REQUIRED");
    let message = answer.body["message"].as_str().expect("message");
    assert!(message.contains("INR 499.00"), "{message}");
    assert!(message.contains("payment"), "{message}");
    assert_eq!(total_students(&app, t, &course).await, 0);
    assert!(stored_events(&app, "course.enrolled").await.is_empty());
}

#[tokio::test]
async fn drafts_and_archived_courses_answer_404_to_a_student_who_is_not_enrolled() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let t = &teacher.access_token;
    let unpublished = draft(&app, t, "Not Yet").await;
    let (archived, _, _) = published(&app, t, "Gone").await;
    let archive = app
        .post_as(
            t,
            &format!("/api/v1/courses/{archived}/archive"),
            &json!({}),
        )
        .await;
    assert_eq!(archive.status, 200, "{}", archive.body);
    for course in [&unpublished, &archived] {
        let answer = app
            .post_as(
                &student.access_token,
                "/api/v1/enrollments",
                &json!({ "courseId": course }),
            )
            .await;
        assert_eq!(answer.status, 404, "{}", answer.body);
        assert_eq!(answer.body["message"], "Course not found");
    }
    let unknown = app
        .post_as(
            &student.access_token,
            "/api/v1/enrollments",
            &json!({ "courseId": uuid::Uuid::now_v7() }),
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
}

#[tokio::test]
async fn enrolling_twice_is_a_409_naming_course_id() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let (course, _, _) = published(&app, &teacher.access_token, "Twice").await;
    enroll(&app, &student.access_token, &course).await;
    let again = app
        .post_as(
            &student.access_token,
            "/api/v1/enrollments",
            &json!({ "courseId": course }),
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(error_fields(&again.body), ["courseId"]);
    assert_eq!(
        again.body["message"],
        "You are already enrolled in this course"
    );
    assert_eq!(
        total_students(&app, &teacher.access_token, &course).await,
        1
    );
}

#[tokio::test]
async fn a_missing_course_id_is_a_400_naming_it() {
    let app = spawn_app().await;
    let student = app.register("STUDENT").await;
    let answer = app
        .post_as(&student.access_token, "/api/v1/enrollments", &json!({}))
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(
        answer.body.to_string().contains("courseId"),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn a_removed_student_enrolling_again_gets_the_same_enrollment_back_with_its_progress() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let t = &teacher.access_token;
    let (course, section, first) = published(&app, t, "Comeback").await;
    add_lesson(&app, t, &section, "Two", true).await;
    let enrollment = enroll(&app, &student.access_token, &course).await;
    let done = progress(&app, &student.access_token, &enrollment, &first, true, 60).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.body["data"]["courseProgress"], 50);

    let removed = app
        .delete_as(
            t,
            &format!("/api/v1/courses/{course}/enrollments/{}", student.id),
        )
        .await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(removed.body["data"]["status"], "CANCELLED");
    assert_eq!(removed.body["data"]["progress"], 50);
    assert_eq!(total_students(&app, t, &course).await, 0);
    let mine = app
        .get_as(&student.access_token, "/api/v1/enrollments/my-courses")
        .await;
    assert_eq!(mine.body["data"]["enrollments"], json!([]), "{}", mine.body);
    let cancelled = app
        .get_as(
            &student.access_token,
            "/api/v1/enrollments/my-courses?status=CANCELLED",
        )
        .await;
    assert_eq!(
        cancelled.body["data"]["enrollments"][0]["status"],
        "CANCELLED"
    );
    let blocked = progress(&app, &student.access_token, &enrollment, &first, true, 0).await;
    assert_eq!(blocked.status, 422, "{}", blocked.body);
    assert_eq!(
        blocked.body["message"],
        "This enrollment is CANCELLED; enroll again to record progress"
    );

    let again = app
        .post_as(
            &student.access_token,
            "/api/v1/enrollments",
            &json!({ "courseId": course }),
        )
        .await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.body["data"]["enrollmentId"], enrollment);
    assert_eq!(again.body["data"]["progress"], 50);
    assert_eq!(again.body["data"]["status"], "ACTIVE");
    assert_eq!(total_students(&app, t, &course).await, 1);
}

#[tokio::test]
async fn only_students_enroll_themselves() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let parent = app.register("PARENT").await;
    let (course, _, _) = published(&app, &teacher.access_token, "Students Only").await;
    for token in [&teacher.access_token, &parent.access_token] {
        let answer = app
            .post_as(token, "/api/v1/enrollments", &json!({ "courseId": course }))
            .await;
        assert_eq!(answer.status, 403, "{}", answer.body);
        assert!(
            answer.body["message"]
                .as_str()
                .expect("message")
                .contains("Only students enroll themselves"),
            "{}",
            answer.body
        );
    }
}

#[tokio::test]
async fn staff_enroll_students_even_in_drafts_and_paid_courses_and_remove_them_keeping_progress() {
    let app = spawn_app().await;
    let owner = app.register("TEACHER").await;
    let co = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let o = &owner.access_token;
    let course = crate::catalogue_helpers::create_course(
        &app,
        o,
        json!({ "title": "Manual", "price": 10000 }),
    )
    .await;
    add_staff(&app, o, &course, &co.id, "CO_TEACHER").await;
    let data = staff_enroll(&app, &co.access_token, &course, &student.id).await;
    assert_eq!(data["studentId"], student.id);
    assert_eq!(data["status"], "ACTIVE");
    let twice = app
        .post_as(
            o,
            &format!("/api/v1/courses/{course}/enrollments"),
            &json!({ "studentId": student.id }),
        )
        .await;
    assert_eq!(twice.status, 409, "{}", twice.body);
    assert_eq!(error_fields(&twice.body), ["studentId"]);
    assert_eq!(
        twice.body["message"],
        "This student is already enrolled in this course"
    );
    let not_student = app
        .post_as(
            o,
            &format!("/api/v1/courses/{course}/enrollments"),
            &json!({ "studentId": co.id }),
        )
        .await;
    assert_eq!(not_student.status, 422, "{}", not_student.body);
    assert_eq!(
        not_student.body["message"],
        "Only STUDENTs enroll in courses; this user is a TEACHER"
    );
    let nobody = app
        .post_as(
            o,
            &format!("/api/v1/courses/{course}/enrollments"),
            &json!({ "studentId": uuid::Uuid::now_v7() }),
        )
        .await;
    assert_eq!(nobody.status, 404, "{}", nobody.body);

    let path = format!("/api/v1/courses/{course}/enrollments/{}", student.id);
    let removed = app.delete_as(&co.access_token, &path).await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(removed.body["data"]["status"], "CANCELLED");
    let again = app.delete_as(o, &path).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["message"], "Already removed");
    let stranger = app.register("STUDENT").await;
    let missing = app
        .delete_as(
            o,
            &format!("/api/v1/courses/{course}/enrollments/{}", stranger.id),
        )
        .await;
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert_eq!(
        missing.body["message"],
        "This student is not enrolled in this course"
    );
    assert_eq!(stored_events(&app, "enrollment.cancelled").await.len(), 1);
}

#[tokio::test]
async fn an_archived_course_takes_no_new_enrollments_from_staff() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let t = &teacher.access_token;
    let (course, _, _) = published(&app, t, "Closed").await;
    let archive = app
        .post_as(t, &format!("/api/v1/courses/{course}/archive"), &json!({}))
        .await;
    assert_eq!(archive.status, 200, "{}", archive.body);
    let answer = app
        .post_as(
            t,
            &format!("/api/v1/courses/{course}/enrollments"),
            &json!({ "studentId": student.id }),
        )
        .await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert_eq!(
        answer.body["message"],
        "This course is archived and takes no new enrollments"
    );
}

#[tokio::test]
async fn the_roster_is_paged_and_filtered_by_status_with_each_students_progress() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let t = &teacher.access_token;
    let (course, _, lesson) = published(&app, t, "Roster").await;
    let mut students = Vec::new();
    for _ in 0..3 {
        let s = app.register("STUDENT").await;
        staff_enroll(&app, t, &course, &s.id).await;
        students.push(s);
    }
    let mine = app
        .get_as(&students[0].access_token, "/api/v1/enrollments/my-courses")
        .await;
    let enrollment = mine.body["data"]["enrollments"][0]["id"]
        .as_str()
        .expect("enrollment id")
        .to_owned();
    let done = progress(
        &app,
        &students[0].access_token,
        &enrollment,
        &lesson,
        true,
        5,
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.body);
    app.delete_as(
        t,
        &format!("/api/v1/courses/{course}/enrollments/{}", students[2].id),
    )
    .await;

    let page = app
        .get_as(t, &format!("/api/v1/courses/{course}/enrollments?limit=2"))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let data = &page.body["data"];
    assert_eq!(data["pagination"]["total"], 3);
    assert_eq!(data["pagination"]["hasNext"], true);
    assert_eq!(data["enrollments"][0]["student"]["id"], students[0].id);
    assert_eq!(
        data["enrollments"][0]["student"]["email"],
        students[0].email
    );
    assert_eq!(data["enrollments"][0]["progress"], 100);
    assert_eq!(data["enrollments"][0]["status"], "COMPLETED");
    assert_eq!(data["enrollments"][1]["progress"], 0);
    let cancelled = app
        .get_as(
            t,
            &format!("/api/v1/courses/{course}/enrollments?status=CANCELLED"),
        )
        .await;
    let rows = cancelled.body["data"]["enrollments"]
        .as_array()
        .expect("rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["student"]["id"], students[2].id);
    assert_eq!(total_students(&app, t, &course).await, 2);
}

#[tokio::test]
async fn progress_counts_only_published_lessons_and_completes_the_course_at_100_percent() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let t = &teacher.access_token;
    let s = &student.access_token;
    let (course, week1, l1) = published(&app, t, "Progress Math").await;
    let l2 = add_lesson(&app, t, &week1, "Two", true).await;
    let week2 = add_section(&app, t, &course, "Week 2").await;
    let l3 = add_lesson(&app, t, &week2, "Three", true).await;
    let hidden = add_lesson(&app, t, &week2, "Draft lesson", false).await;
    let enrollment = enroll(&app, s, &course).await;

    let unpublished = progress(&app, s, &enrollment, &hidden, true, 10).await;
    assert_eq!(unpublished.status, 400, "{}", unpublished.body);
    assert_eq!(error_fields(&unpublished.body), ["lessonId"]);
    let (other, _, foreign) = published(&app, t, "Elsewhere").await;
    let _ = other;
    let elsewhere = progress(&app, s, &enrollment, &foreign, true, 10).await;
    assert_eq!(elsewhere.status, 400, "{}", elsewhere.body);
    assert_eq!(error_fields(&elsewhere.body), ["lessonId"]);
    let negative = progress(&app, s, &enrollment, &l1, true, -1).await;
    assert_eq!(negative.status, 400, "{}", negative.body);
    assert_eq!(error_fields(&negative.body), ["timeSpent"]);

    let first = progress(&app, s, &enrollment, &l1, true, 120).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let data = &first.body["data"];
    assert_eq!(data["courseProgress"], 33);
    assert_eq!(
        data["xpEarned"], 15,
        "the lesson's 10 and the day's first activity's 5"
    );
    assert_eq!(data["lessonProgress"]["completed"], true);
    assert!(data["lessonProgress"]["completedAt"].is_string(), "{data}");
    assert_eq!(data["lessonProgress"]["timeSpent"], 120);
    assert_eq!(data["status"], "ACTIVE");

    // Time adds up; the same lesson again earns nothing.
    let again = progress(&app, s, &enrollment, &l1, true, 30).await;
    assert_eq!(again.body["data"]["xpEarned"], 0);
    assert_eq!(again.body["data"]["lessonProgress"]["timeSpent"], 150);
    assert_eq!(
        again.body["data"]["lessonProgress"]["completedAt"],
        data["lessonProgress"]["completedAt"]
    );
    // Un-completing lowers the progress; completing again earns no more XP.
    let undone = progress(&app, s, &enrollment, &l1, false, 0).await;
    assert_eq!(undone.body["data"]["courseProgress"], 0);
    assert_eq!(
        undone.body["data"]["lessonProgress"]["completedAt"],
        Value::Null
    );
    let redone = progress(&app, s, &enrollment, &l1, true, 0).await;
    assert_eq!(redone.body["data"]["xpEarned"], 0);
    assert_eq!(redone.body["data"]["courseProgress"], 33);

    let second = progress(&app, s, &enrollment, &l2, true, 0).await;
    assert_eq!(second.body["data"]["courseProgress"], 66);
    let last = progress(&app, s, &enrollment, &l3, true, 0).await;
    assert_eq!(last.status, 200, "{}", last.body);
    assert_eq!(last.body["data"]["courseProgress"], 100);
    assert_eq!(last.body["data"]["status"], "COMPLETED");
    assert_eq!(
        last.body["data"]["xpEarned"], 110,
        "the lesson's 10 and the completed course's 100"
    );

    let mine = app.get_as(s, "/api/v1/enrollments/my-courses").await;
    let row = &mine.body["data"]["enrollments"][0];
    assert_eq!(row["status"], "COMPLETED");
    assert_eq!(row["progress"], 100);
    assert!(row["completedAt"].is_string(), "{row}");
    assert!(row["lastAccessedAt"].is_string(), "{row}");
    let me = app.get_as(s, "/api/v1/users/me").await;
    assert_eq!(
        me.body["data"]["studentProfile"]["totalXp"], 135,
        "{}",
        me.body
    );
    // A completed course still counts as a student of the course.
    assert_eq!(total_students(&app, t, &course).await, 1);
    assert_eq!(stored_events(&app, "enrollment.completed").await.len(), 1);
}

#[tokio::test]
async fn only_the_enrolled_student_records_progress() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let other = app.register("STUDENT").await;
    let (course, _, lesson) = published(&app, &teacher.access_token, "Mine Only").await;
    let enrollment = enroll(&app, &student.access_token, &course).await;
    for token in [&other.access_token, &teacher.access_token] {
        let answer = progress(&app, token, &enrollment, &lesson, true, 0).await;
        assert_eq!(answer.status, 403, "{}", answer.body);
        assert_eq!(
            answer.body["message"],
            "Only the enrolled student records their progress"
        );
    }
    let missing = progress(
        &app,
        &student.access_token,
        &uuid::Uuid::now_v7().to_string(),
        &lesson,
        true,
        0,
    )
    .await;
    assert_eq!(missing.status, 404, "{}", missing.body);
}

#[tokio::test]
async fn an_enrolled_student_opens_published_lessons_and_keeps_an_archived_course() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let outsider = app.register("STUDENT").await;
    let t = &teacher.access_token;
    let (course, section, lesson) = published(&app, t, "Kept").await;
    let hidden = add_lesson(&app, t, &section, "Unpublished", false).await;
    let locked = app
        .get_as(&student.access_token, &format!("/api/v1/lessons/{lesson}"))
        .await;
    assert_eq!(locked.status, 403, "{}", locked.body);
    enroll(&app, &student.access_token, &course).await;
    let open = app
        .get_as(&student.access_token, &format!("/api/v1/lessons/{lesson}"))
        .await;
    assert_eq!(open.status, 200, "{}", open.body);
    assert_eq!(open.body["data"]["url"], "https://video.school.test/v/1");
    let unpublished = app
        .get_as(&student.access_token, &format!("/api/v1/lessons/{hidden}"))
        .await;
    assert_eq!(unpublished.status, 404, "{}", unpublished.body);

    let archive = app
        .post_as(t, &format!("/api/v1/courses/{course}/archive"), &json!({}))
        .await;
    assert_eq!(archive.status, 200, "{}", archive.body);
    let kept = app
        .get_as(&student.access_token, &format!("/api/v1/courses/{course}"))
        .await;
    assert_eq!(kept.status, 200, "{}", kept.body);
    assert_eq!(kept.body["data"]["status"], "ARCHIVED");
    let titles: Vec<&str> = kept.body["data"]["sections"][0]["lessons"]
        .as_array()
        .expect("lessons")
        .iter()
        .filter_map(|l| l["title"].as_str())
        .collect();
    assert_eq!(titles, ["Welcome"]);
    let gone = app
        .get_as(&outsider.access_token, &format!("/api/v1/courses/{course}"))
        .await;
    assert_eq!(gone.status, 404, "{}", gone.body);
    let still_open = app
        .get_as(&student.access_token, &format!("/api/v1/lessons/{lesson}"))
        .await;
    assert_eq!(still_open.status, 200, "{}", still_open.body);
}

#[tokio::test]
async fn an_enrolled_student_reviews_the_course_and_the_rating_follows() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let (course, _, _) = published(&app, &teacher.access_token, "Reviewed").await;
    enroll(&app, &student.access_token, &course).await;
    let path = format!("/api/v1/courses/{course}/reviews/mine");
    let first = app
        .call_as(
            &student.access_token,
            Method::PUT,
            &path,
            Some(&json!({ "rating": 4, "comment": "Solid" })),
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["data"]["rating"], 4);
    assert_eq!(first.body["data"]["student"]["id"], student.id);
    let edited = app
        .call_as(
            &student.access_token,
            Method::PUT,
            &path,
            Some(&json!({ "rating": 5 })),
        )
        .await;
    assert_eq!(edited.status, 200, "{}", edited.body);
    let seen = app.get(&format!("/api/v1/courses/{course}")).await;
    assert_eq!(seen.body["data"]["rating"], 5.0);
    assert_eq!(seen.body["data"]["totalReviews"], 1);
}

#[tokio::test]
async fn a_course_with_enrollments_cannot_be_deleted() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let t = &teacher.access_token;
    let (course, _, _) = published(&app, t, "Kept Alive").await;
    enroll(&app, &student.access_token, &course).await;
    let answer = app.delete_as(t, &format!("/api/v1/courses/{course}")).await;
    assert_eq!(answer.status, 409, "{}", answer.body);
    assert_eq!(error_fields(&answer.body), ["enrollments"]);
    assert_eq!(
        answer.body["message"],
        "This course has 1 enrollment(s) and can't be deleted; archive it instead"
    );
    let still = app.get_as(t, &format!("/api/v1/courses/{course}")).await;
    assert_eq!(still.status, 200, "{}", still.body);
}

#[tokio::test]
async fn a_teacher_sees_the_students_of_their_courses_and_no_others() {
    let app = spawn_app().await;
    let owner = app.register("TEACHER").await;
    let ta = app.register("TEACHER").await;
    let stranger = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let unrelated = app.register("STUDENT").await;
    let (course, _, _) = published(&app, &owner.access_token, "Seen").await;
    add_staff(&app, &owner.access_token, &course, &ta.id, "TA").await;
    let path = format!("/api/v1/users/{}", student.id);
    let before = app.get_as(&owner.access_token, &path).await;
    assert_eq!(before.status, 403, "{}", before.body);
    enroll(&app, &student.access_token, &course).await;
    for token in [&owner.access_token, &ta.access_token] {
        let seen = app.get_as(token, &path).await;
        assert_eq!(seen.status, 200, "{}", seen.body);
        assert_eq!(seen.body["data"]["email"], student.email);
    }
    let refused = app.get_as(&stranger.access_token, &path).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let other = app
        .get_as(
            &owner.access_token,
            &format!("/api/v1/users/{}", unrelated.id),
        )
        .await;
    assert_eq!(other.status, 403, "{}", other.body);
}

#[tokio::test]
async fn each_enrollment_change_writes_its_event_and_announces_it_after_the_commit() {
    let app = spawn_app().await;
    let mut events = app.state.events.subscribe();
    let teacher = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let t = &teacher.access_token;
    let (course, _, lesson) = published(&app, t, "Eventful").await;
    let enrollment = enroll(&app, &student.access_token, &course).await;
    let done = progress(&app, &student.access_token, &enrollment, &lesson, true, 0).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let removed = app
        .delete_as(
            t,
            &format!("/api/v1/courses/{course}/enrollments/{}", student.id),
        )
        .await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    let archived = app
        .post_as(t, &format!("/api/v1/courses/{course}/archive"), &json!({}))
        .await;
    assert_eq!(archived.status, 200, "{}", archived.body);

    let expected = [
        "course.published",
        "course.enrolled",
        "enrollment.completed",
        // The completion's XP: a new level, and the first lesson's and course's badges.
        "level.reached",
        "achievement.unlocked",
        "achievement.unlocked",
        "enrollment.cancelled",
        "course.archived",
    ];
    let mut announced = Vec::new();
    for _ in expected {
        let event = events.try_recv().expect("an announced event");
        announced.push(event);
    }
    assert!(events.try_recv().is_err(), "no further events");
    let kinds: Vec<&str> = announced.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, expected);
    let seqs: Vec<i64> = announced.iter().map(|e| e.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let enrolled = &announced[1].payload;
    assert_eq!(enrolled["courseId"], course);
    assert_eq!(enrolled["studentId"], student.id);
    assert_eq!(enrolled["enrollmentId"], enrollment);
    assert_eq!(announced[6].payload["actorId"], teacher.id);
    assert_eq!(announced[0].payload["title"], "Eventful");
    // The rows are the record: the same events, stored.
    for event in &announced {
        let stored = stored_events(&app, &event.kind).await;
        assert!(
            stored
                .iter()
                .any(|(seq, payload)| *seq == event.seq && *payload == event.payload),
            "{} not stored as announced",
            event.kind
        );
    }
}

#[tokio::test]
async fn a_change_that_fails_writes_no_event_and_announces_nothing() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let first = app.register("STUDENT").await;
    let second = app.register("STUDENT").await;
    let t = &teacher.access_token;
    let (course, _, _) = published(&app, t, "Rolled Back").await;
    let batch = app
        .post_as(
            t,
            &format!("/api/v1/courses/{course}/batches"),
            &json!({ "name": "Solo", "capacity": 1 }),
        )
        .await;
    assert_eq!(batch.status, 201, "{}", batch.body);
    let batch = batch.body["data"]["id"]
        .as_str()
        .expect("batch id")
        .to_owned();
    let seated = app
        .post_as(
            t,
            &format!("/api/v1/courses/{course}/enrollments"),
            &json!({ "studentId": first.id, "batchId": batch }),
        )
        .await;
    assert_eq!(seated.status, 201, "{}", seated.body);
    assert_eq!(stored_events(&app, "course.enrolled").await.len(), 1);

    let mut events = app.state.events.subscribe();
    // The enrollment row and its event are written, then the full batch fails the
    // whole transaction.
    let full = app
        .post_as(
            t,
            &format!("/api/v1/courses/{course}/enrollments"),
            &json!({ "studentId": second.id, "batchId": batch }),
        )
        .await;
    assert_eq!(full.status, 409, "{}", full.body);
    assert_eq!(error_fields(&full.body), ["capacity"]);
    assert_eq!(full.body["message"], "Batch \"Solo\" is full (capacity 1)");
    assert!(events.try_recv().is_err(), "nothing announced");
    assert_eq!(stored_events(&app, "course.enrolled").await.len(), 1);
    let roster = app
        .get_as(t, &format!("/api/v1/courses/{course}/enrollments"))
        .await;
    assert_eq!(
        roster.body["data"]["pagination"]["total"], 1,
        "{}",
        roster.body
    );
    assert_eq!(total_students(&app, t, &course).await, 1);
    let mine = app
        .get_as(&second.access_token, "/api/v1/enrollments/my-courses")
        .await;
    assert_eq!(mine.body["data"]["enrollments"], json!([]));
}
