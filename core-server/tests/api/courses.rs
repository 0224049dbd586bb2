//! The catalogue over HTTP: creating, reading, listing, editing, publishing, archiving
//! and deleting courses; slugs, prices, staff, categories and reviews.

use serde_json::{Value, json};

use crate::catalogue_helpers::{
    add_lesson, add_section, add_staff, course_as, create_course, draft, error_fields, published,
};
use crate::helpers::spawn_app;

#[tokio::test]
async fn a_teacher_creates_a_draft_course_and_becomes_its_owner() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let answer = app
        .post_as(
            &teacher.access_token,
            "/api/v1/courses",
            &json!({
                "title": "Intro to Rust", "description": "Ownership, borrowing, lifetimes.",
                "level": "INTERMEDIATE", "language": "en", "price": 49900, "currency": "inr",
                "tags": ["rust", "systems"], "thumbnail": "https://cdn.school.test/rust.png",
            }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let data = &answer.body["data"];
    assert_eq!(data["title"], "Intro to Rust");
    assert_eq!(data["slug"], "intro-to-rust");
    assert_eq!(data["status"], "DRAFT");
    let id = data["id"].as_str().expect("id");

    let course = course_as(&app, &teacher.access_token, id).await;
    assert_eq!(course["teacher"]["id"], teacher.id.as_str());
    assert_eq!(course["teacher"]["firstName"], "Test");
    assert_eq!(course["level"], "INTERMEDIATE");
    assert_eq!(course["price"], 49900);
    assert_eq!(course["currency"], "INR");
    assert_eq!(course["isFree"], false);
    assert_eq!(course["tags"], json!(["rust", "systems"]));
    assert_eq!(course["thumbnail"], "https://cdn.school.test/rust.png");
    assert_eq!(course["publishedAt"], Value::Null);
    assert_eq!(
        (
            course["totalStudents"].clone(),
            course["rating"].clone(),
            course["totalReviews"].clone()
        ),
        (json!(0), json!(0.0), json!(0))
    );
    assert_eq!(course["sections"], json!([]));

    let staff = app
        .get_as(
            &teacher.access_token,
            &format!("/api/v1/courses/{id}/staff"),
        )
        .await;
    assert_eq!(staff.status, 200, "{}", staff.body);
    assert_eq!(staff.body["data"][0]["userId"], teacher.id.as_str());
    assert_eq!(staff.body["data"][0]["role"], "OWNER");
}

#[tokio::test]
async fn slugs_come_from_the_title_and_are_numbered_when_taken() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let mut slugs = Vec::new();
    for _ in 0..3 {
        let answer = app
            .post_as(
                &teacher.access_token,
                "/api/v1/courses",
                &json!({ "title": "Física: Básica!" }),
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        slugs.push(
            answer.body["data"]["slug"]
                .as_str()
                .expect("slug")
                .to_owned(),
        );
    }
    assert_eq!(
        slugs,
        ["fisica-basica", "fisica-basica-2", "fisica-basica-3"]
    );
    let by_slug = course_as(&app, &teacher.access_token, "fisica-basica-2").await;
    assert_eq!(by_slug["slug"], "fisica-basica-2");
}

#[tokio::test]
async fn a_taken_slug_given_explicitly_is_a_409_naming_slug_on_create_and_on_patch() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let token = &teacher.access_token;
    create_course(
        &app,
        token,
        json!({ "title": "Algebra", "slug": "algebra-one" }),
    )
    .await;
    let again = app
        .post_as(
            token,
            "/api/v1/courses",
            &json!({ "title": "Algebra II", "slug": "algebra-one" }),
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(again.body["code"], "CONFLICT");
    assert_eq!(error_fields(&again.body), ["slug"]);

    let other = draft(&app, token, "Geometry").await;
    let patch = app
        .patch_as(
            token,
            &format!("/api/v1/courses/{other}"),
            &json!({ "slug": "algebra-one" }),
        )
        .await;
    assert_eq!(patch.status, 409, "{}", patch.body);
    assert_eq!(error_fields(&patch.body), ["slug"]);
}

#[tokio::test]
async fn creating_a_course_with_invalid_fields_answers_400_naming_each_field() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let answer = app
        .post_as(
            &teacher.access_token,
            "/api/v1/courses",
            &json!({
                "title": "ab", "slug": "Not A Slug", "price": -5, "currency": "RUPEES",
                "thumbnail": "ftp://files.test/x.png", "language": "x",
                "tags": (0..21).map(|i| format!("t{i}")).collect::<Vec<_>>(),
            }),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.body["code"], "VALIDATION_FAILED");
    let mut fields = error_fields(&answer.body);
    fields.sort();
    assert_eq!(
        fields,
        [
            "currency",
            "language",
            "price",
            "slug",
            "tags",
            "thumbnail",
            "title"
        ]
    );
    let unknown_level = app
        .post_as(
            &teacher.access_token,
            "/api/v1/courses",
            &json!({ "title": "Chemistry", "level": "EXPERT" }),
        )
        .await;
    assert_eq!(unknown_level.status, 400, "{}", unknown_level.body);
    assert_eq!(error_fields(&unknown_level.body), ["level"]);
}

#[tokio::test]
async fn prices_are_minor_units_free_means_zero_and_a_discount_must_be_below_the_price() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let token = &teacher.access_token;
    let free = draft(&app, token, "Free Course").await;
    let course = course_as(&app, token, &free).await;
    assert_eq!(
        (course["price"].clone(), course["isFree"].clone()),
        (json!(0), json!(true))
    );

    let bad = app
        .post_as(
            token,
            "/api/v1/courses",
            &json!({ "title": "Paid", "price": 1000, "discountedPrice": 1000, "isFree": true }),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let mut fields = error_fields(&bad.body);
    fields.sort();
    assert_eq!(fields, ["discountedPrice", "price"]);

    let paid = create_course(
        &app,
        token,
        json!({ "title": "Paid", "price": 99900, "discountedPrice": 49900, "currency": "USD" }),
    )
    .await;
    let course = course_as(&app, token, &paid).await;
    assert_eq!(course["discountedPrice"], 49900);
    // Making it free clears both prices.
    let patched = app
        .patch_as(
            token,
            &format!("/api/v1/courses/{paid}"),
            &json!({ "isFree": true }),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let data = &patched.body["data"];
    assert_eq!(
        (
            data["price"].clone(),
            data["discountedPrice"].clone(),
            data["isFree"].clone()
        ),
        (json!(0), Value::Null, json!(true))
    );
}

#[tokio::test]
async fn publishing_a_course_without_a_published_lesson_is_a_422_that_says_what_to_do() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let token = &teacher.access_token;
    let course = draft(&app, token, "Empty Course").await;
    let section = add_section(&app, token, &course, "Week 1").await;
    add_lesson(&app, token, &section, "Not ready yet", false).await;
    for answer in [
        app.post_as(
            token,
            &format!("/api/v1/courses/{course}/publish"),
            &json!({}),
        )
        .await,
        app.patch_as(
            token,
            &format!("/api/v1/courses/{course}"),
            &json!({ "status": "PUBLISHED" }),
        )
        .await,
    ] {
        assert_eq!(answer.status, 422, "{}", answer.body);
        assert_eq!(answer.body["code"], "UNPROCESSABLE", "{}", answer.body);
        let message = answer.body["message"].as_str().expect("message");
        assert!(message.contains("no published lesson"), "{message}");
    }
    assert_eq!(course_as(&app, token, &course).await["status"], "DRAFT");
}

#[tokio::test]
async fn publishing_sets_published_at_once_and_archiving_and_republishing_keep_it() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let token = &teacher.access_token;
    let (course, _, _) = published(&app, token, "Biology").await;
    let first = course_as(&app, token, &course).await;
    assert_eq!(first["status"], "PUBLISHED");
    let published_at = first["publishedAt"].clone();
    assert!(published_at.is_string(), "{first}");

    let archived = app
        .post_as(
            token,
            &format!("/api/v1/courses/{course}/archive"),
            &json!({}),
        )
        .await;
    assert_eq!(archived.status, 200, "{}", archived.body);
    assert_eq!(archived.body["data"]["status"], "ARCHIVED");
    let again = app
        .post_as(
            token,
            &format!("/api/v1/courses/{course}/publish"),
            &json!({}),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["data"]["status"], "PUBLISHED");
    assert_eq!(again.body["data"]["publishedAt"], published_at);
    // Publishing a published course again changes nothing.
    let twice = app
        .post_as(
            token,
            &format!("/api/v1/courses/{course}/publish"),
            &json!({}),
        )
        .await;
    assert_eq!(twice.status, 200, "{}", twice.body);
}

#[tokio::test]
async fn illegal_status_changes_are_422_and_change_nothing() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let token = &teacher.access_token;
    let fresh = draft(&app, token, "History").await;
    let archive_draft = app
        .post_as(
            token,
            &format!("/api/v1/courses/{fresh}/archive"),
            &json!({}),
        )
        .await;
    assert_eq!(archive_draft.status, 422, "{}", archive_draft.body);
    assert!(
        archive_draft.body["message"]
            .as_str()
            .expect("message")
            .contains("DRAFT course can't become ARCHIVED"),
        "{}",
        archive_draft.body
    );
    let (live, _, _) = published(&app, token, "Geography").await;
    let back_to_draft = app
        .patch_as(
            token,
            &format!("/api/v1/courses/{live}"),
            &json!({ "status": "DRAFT", "title": "Renamed" }),
        )
        .await;
    assert_eq!(back_to_draft.status, 422, "{}", back_to_draft.body);
    let course = course_as(&app, token, &live).await;
    assert_eq!(
        (course["status"].clone(), course["title"].clone()),
        (json!("PUBLISHED"), json!("Geography"))
    );
}

#[tokio::test]
async fn staff_patch_any_field_and_null_clears_a_nullable_one() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let teacher = app.register("TEACHER").await;
    let token = &teacher.access_token;
    let category = app
        .post_as(
            &admin.access_token,
            "/api/v1/categories",
            &json!({ "name": "Science" }),
        )
        .await;
    assert_eq!(category.status, 201, "{}", category.body);
    let category_id = category.body["data"]["id"].as_str().expect("id").to_owned();
    let course = create_course(
        &app,
        token,
        json!({ "title": "Physics", "thumbnail": "https://cdn.school.test/p.png" }),
    )
    .await;
    let answer = app
        .patch_as(
            token,
            &format!("/api/v1/courses/{course}"),
            &json!({
                "title": "Physics I", "description": "Mechanics.", "category": category_id,
                "level": "ADVANCED", "language": "hi-IN", "price": 1500, "currency": "USD",
                "tags": ["physics"], "thumbnail": null,
            }),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let data = &answer.body["data"];
    assert_eq!(data["title"], "Physics I");
    assert_eq!(
        data["slug"], "physics",
        "a new title keeps the slug (links stay valid)"
    );
    assert_eq!(data["description"], "Mechanics.");
    assert_eq!(data["category"]["name"], "Science");
    assert_eq!(data["level"], "ADVANCED");
    assert_eq!(data["language"], "hi-IN");
    assert_eq!(
        (data["price"].clone(), data["isFree"].clone()),
        (json!(1500), json!(false))
    );
    assert_eq!(data["tags"], json!(["physics"]));
    assert_eq!(data["thumbnail"], Value::Null);

    let unknown_category = app
        .patch_as(
            token,
            &format!("/api/v1/courses/{course}"),
            &json!({ "category": uuid::Uuid::now_v7() }),
        )
        .await;
    assert_eq!(unknown_category.status, 400, "{}", unknown_category.body);
    assert_eq!(error_fields(&unknown_category.body), ["category"]);
}

#[tokio::test]
async fn drafts_are_404_to_non_staff_and_unpublished_lessons_show_only_to_staff() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let token = &teacher.access_token;
    let course = draft(&app, token, "Secret Draft").await;
    let hidden = app
        .get_as(&student.access_token, &format!("/api/v1/courses/{course}"))
        .await;
    assert_eq!(hidden.status, 404, "{}", hidden.body);
    assert_eq!(hidden.body["message"], "Course not found");
    assert_eq!(app.get("/api/v1/courses/secret-draft").await.status, 404);

    let (live, section, _) = published(&app, token, "Open Course").await;
    add_lesson(&app, token, &section, "Coming soon", false).await;
    let as_student = course_as(&app, &student.access_token, &live).await;
    let titles: Vec<&str> = as_student["sections"][0]["lessons"]
        .as_array()
        .expect("lessons")
        .iter()
        .map(|l| l["title"].as_str().expect("title"))
        .collect();
    assert_eq!(titles, ["Welcome"]);
    let anonymous = app.get(&format!("/api/v1/courses/{live}")).await;
    assert_eq!(anonymous.status, 200);
    assert_eq!(
        anonymous.body["data"]["sections"][0]["lessons"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let as_owner = course_as(&app, token, &live).await;
    let lesson = &as_owner["sections"][0]["lessons"][1];
    assert_eq!(
        (lesson["title"].clone(), lesson["isPublished"].clone()),
        (json!("Coming soon"), json!(false))
    );
    assert_eq!(lesson["type"], "VIDEO");
    assert_eq!(lesson["duration"], 12);
    assert_eq!(lesson["order"], 2);
}

#[tokio::test]
async fn a_malformed_token_on_a_public_route_is_401_not_anonymous() {
    let app = spawn_app().await;
    let answer = app.get_as("not-a-token", "/api/v1/courses").await;
    assert_eq!(answer.status, 401, "{}", answer.body);
}

/// The titles of `GET path` as `token` (anonymous when `None`).
async fn listed(app: &crate::helpers::TestApp, token: Option<&str>, path: &str) -> Vec<String> {
    let answer = match token {
        Some(t) => app.get_as(t, path).await,
        None => app.get(path).await,
    };
    assert_eq!(answer.status, 200, "{path}: {}", answer.body);
    answer.body["data"]["courses"]
        .as_array()
        .expect("courses")
        .iter()
        .map(|c| c["title"].as_str().expect("title").to_owned())
        .collect()
}

fn sorted(mut titles: Vec<String>) -> Vec<String> {
    titles.sort();
    titles
}

#[tokio::test]
async fn anonymous_users_and_students_list_published_courses_teachers_also_theirs_admins_all() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let owner = app.register("TEACHER").await;
    let co = app.register("TEACHER").await;
    let other = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let mine = draft(&app, &owner.access_token, "Owner Draft").await;
    add_staff(&app, &owner.access_token, &mine, &co.id, "CO_TEACHER").await;
    draft(&app, &other.access_token, "Other Draft").await;
    published(&app, &owner.access_token, "Live Course").await;
    let (gone, _, _) = published(&app, &owner.access_token, "Old Course").await;
    let archived = app
        .post_as(
            &owner.access_token,
            &format!("/api/v1/courses/{gone}/archive"),
            &json!({}),
        )
        .await;
    assert_eq!(archived.status, 200);

    let path = "/api/v1/courses";
    assert_eq!(listed(&app, None, path).await, ["Live Course"]);
    assert_eq!(
        listed(&app, Some(&student.access_token), path).await,
        ["Live Course"]
    );
    assert_eq!(
        sorted(listed(&app, Some(&owner.access_token), path).await),
        ["Live Course", "Old Course", "Owner Draft"]
    );
    assert_eq!(
        sorted(listed(&app, Some(&co.access_token), path).await),
        ["Live Course", "Owner Draft"]
    );
    assert_eq!(
        sorted(listed(&app, Some(&other.access_token), path).await),
        ["Live Course", "Other Draft"]
    );
    assert_eq!(
        sorted(listed(&app, Some(&admin.access_token), path).await),
        ["Live Course", "Old Course", "Other Draft", "Owner Draft"]
    );
    // A status filter narrows what the caller may see; it never widens it.
    assert!(
        listed(
            &app,
            Some(&student.access_token),
            "/api/v1/courses?status=DRAFT"
        )
        .await
        .is_empty()
    );
    assert_eq!(
        listed(
            &app,
            Some(&admin.access_token),
            "/api/v1/courses?status=ARCHIVED"
        )
        .await,
        ["Old Course"]
    );
}

#[tokio::test]
async fn listing_pages_with_the_contracts_pagination_object_and_refuses_a_limit_above_100() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    for i in 0..5 {
        draft(&app, &teacher.access_token, &format!("Course {i}")).await;
    }
    let answer = app
        .get_as(&teacher.access_token, "/api/v1/courses?page=2&limit=2")
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body["data"]["pagination"],
        json!({ "page": 2, "limit": 2, "total": 5, "pages": 3, "hasNext": true, "hasPrev": true })
    );
    // Newest first by default.
    let titles: Vec<&str> = answer.body["data"]["courses"]
        .as_array()
        .expect("courses")
        .iter()
        .map(|c| c["title"].as_str().expect("title"))
        .collect();
    assert_eq!(titles, ["Course 2", "Course 1"]);
    assert!(answer.body["data"]["courses"][0].get("sections").is_none());
    let too_many = app
        .get_as(&teacher.access_token, "/api/v1/courses?limit=1000")
        .await;
    assert_eq!(too_many.status, 400, "{}", too_many.body);
    assert_eq!(too_many.body["errors"][0]["field"], "limit");
    let bad = app.get("/api/v1/courses?level=GURU").await;
    assert_eq!(bad.status, 400, "{}", bad.body);
}

#[tokio::test]
async fn listing_filters_by_category_with_its_subcategories_level_creator_price_and_free() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let a = app.register("TEACHER").await;
    let b = app.register("TEACHER").await;
    let make_category = |body: Value| {
        let app = &app;
        let token = admin.access_token.clone();
        async move {
            let answer = app.post_as(&token, "/api/v1/categories", &body).await;
            assert_eq!(answer.status, 201, "{}", answer.body);
            answer.body["data"]["id"].as_str().expect("id").to_owned()
        }
    };
    let science = make_category(json!({ "name": "Science" })).await;
    let physics = make_category(json!({ "name": "Physics", "parentId": science })).await;
    let arts = make_category(json!({ "name": "Arts" })).await;
    for (token, body) in [
        (
            &a.access_token,
            json!({ "title": "Mechanics", "category": physics, "level": "ADVANCED", "price": 50000 }),
        ),
        (
            &a.access_token,
            json!({ "title": "Lab Safety", "category": science, "price": 0 }),
        ),
        (
            &b.access_token,
            json!({ "title": "Painting", "category": arts, "price": 90000, "discountedPrice": 20000 }),
        ),
    ] {
        create_course(&app, token, body).await;
    }
    let t = Some(admin.access_token.as_str());
    let q = |query: &str| format!("/api/v1/courses?{query}");
    assert_eq!(
        sorted(listed(&app, t, &q("category=science")).await),
        ["Lab Safety", "Mechanics"]
    );
    assert_eq!(
        listed(&app, t, &q(&format!("category={physics}"))).await,
        ["Mechanics"]
    );
    assert_eq!(listed(&app, t, &q("level=ADVANCED")).await, ["Mechanics"]);
    assert_eq!(
        listed(&app, t, &q(&format!("creator={}", b.id))).await,
        ["Painting"]
    );
    assert_eq!(listed(&app, t, &q("free=true")).await, ["Lab Safety"]);
    // Price bounds apply to what a buyer pays: the discounted price when there is one.
    assert_eq!(
        sorted(listed(&app, t, &q("minPrice=10000&maxPrice=60000")).await),
        ["Mechanics", "Painting"]
    );
    assert_eq!(listed(&app, t, &q("minPrice=30000")).await, ["Mechanics"]);
    let unknown = app.get_as(&admin.access_token, &q("category=nope")).await;
    assert_eq!(unknown.status, 400, "{}", unknown.body);
    assert_eq!(error_fields(&unknown.body), ["category"]);
    // A price bound outside what any price can be is refused, naming each bad bound.
    let negative = app
        .get_as(
            &admin.access_token,
            &q("minPrice=-1&maxPrice=1000000000001"),
        )
        .await;
    assert_eq!(negative.status, 400, "{}", negative.body);
    assert_eq!(error_fields(&negative.body), ["minPrice", "maxPrice"]);
}

#[tokio::test]
async fn searching_matches_title_description_and_tags_ignoring_case() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let token = &teacher.access_token;
    create_course(&app, token, json!({ "title": "Rust for Beginners" })).await;
    create_course(
        &app,
        token,
        json!({ "title": "Systems", "description": "Low-level RUST code" }),
    )
    .await;
    create_course(
        &app,
        token,
        json!({ "title": "Web", "tags": ["Rust", "wasm"] }),
    )
    .await;
    create_course(
        &app,
        token,
        json!({ "title": "Python 100%", "tags": ["snake_case"] }),
    )
    .await;
    let t = Some(token.as_str());
    assert_eq!(
        sorted(listed(&app, t, "/api/v1/courses?search=rUsT").await),
        ["Rust for Beginners", "Systems", "Web"]
    );
    assert_eq!(
        listed(&app, t, "/api/v1/courses?search=WASM").await,
        ["Web"]
    );
    // `%` and `_` are text, not wildcards.
    assert_eq!(
        listed(&app, t, "/api/v1/courses?search=100%25").await,
        ["Python 100%"]
    );
    assert_eq!(
        listed(&app, t, "/api/v1/courses?search=e_c").await,
        ["Python 100%"]
    );
    assert!(
        listed(&app, t, "/api/v1/courses?search=haskell")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn sorting_orders_by_price_either_way_and_by_rating() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let token = &teacher.access_token;
    let cheap = create_course(&app, token, json!({ "title": "Cheap", "price": 100 })).await;
    create_course(&app, token, json!({ "title": "Dear", "price": 90000 })).await;
    create_course(&app, token, json!({ "title": "Middle", "price": 5000 })).await;
    let t = Some(token.as_str());
    assert_eq!(
        listed(&app, t, "/api/v1/courses?sort=price").await,
        ["Cheap", "Middle", "Dear"]
    );
    assert_eq!(
        listed(&app, t, "/api/v1/courses?sort=-price").await,
        ["Dear", "Middle", "Cheap"]
    );
    assert_eq!(
        listed(&app, t, "/api/v1/courses?sort=newest").await,
        ["Middle", "Dear", "Cheap"]
    );
    insert_reviews(&app, &cheap, &[5]).await;
    assert_eq!(
        listed(&app, t, "/api/v1/courses?sort=rating").await[0],
        "Cheap"
    );
    assert_eq!(
        listed(&app, t, "/api/v1/courses?sort=popular").await.len(),
        3
    );
}

/// Reviews written straight to the database by new students, then the course's rating
/// recomputed as the review route does, for many reviewers at once without enrolling
/// each (enrollments.rs reviews through HTTP).
async fn insert_reviews(app: &crate::helpers::TestApp, course: &str, ratings: &[i32]) {
    use edupro_server::store::entity::review;
    use sea_orm::{ActiveModelTrait, Set, TransactionTrait};
    let course_id: uuid::Uuid = course.parse().expect("course id");
    let mut students = Vec::new();
    for _ in ratings {
        students.push(app.register("STUDENT").await);
    }
    let txn = app.state.db.begin().await.expect("begin");
    for (rating, student) in ratings.iter().zip(&students) {
        let now = chrono::Utc::now();
        review::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            course_id: Set(course_id),
            student_id: Set(student.id.parse().expect("student id")),
            rating: Set(*rating),
            comment: Set(Some(format!("{rating} stars"))),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .expect("review inserted");
    }
    edupro_server::service::catalogue::recompute_rating(&txn, course_id)
        .await
        .expect("rating recomputed");
    txn.commit().await.expect("commit");
}

#[tokio::test]
async fn the_courses_rating_and_review_count_are_recomputed_from_its_reviews() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let (course, _, _) = published(&app, &teacher.access_token, "Rated").await;
    insert_reviews(&app, &course, &[5, 4, 5]).await;
    let seen = app.get(&format!("/api/v1/courses/{course}")).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert_eq!(seen.body["data"]["rating"], 4.67);
    assert_eq!(seen.body["data"]["totalReviews"], 3);
    let reviews = app
        .get(&format!("/api/v1/courses/{course}/reviews?limit=2"))
        .await;
    assert_eq!(reviews.status, 200, "{}", reviews.body);
    let data = &reviews.body["data"];
    assert_eq!(
        (data["rating"].clone(), data["totalReviews"].clone()),
        (json!(4.67), json!(3))
    );
    assert_eq!(data["reviews"].as_array().map(Vec::len), Some(2));
    assert_eq!(data["pagination"]["total"], 3);
    assert_eq!(data["reviews"][0]["student"]["firstName"], "Test");
}

#[tokio::test]
async fn a_student_not_enrolled_in_a_course_cannot_review_it() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let (course, _, _) = published(&app, &teacher.access_token, "Unreviewed").await;
    let path = format!("/api/v1/courses/{course}/reviews/mine");
    let answer = app
        .call_as(
            &student.access_token,
            reqwest::Method::PUT,
            &path,
            Some(&json!({ "rating": 5, "comment": "Great" })),
        )
        .await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert_eq!(
        answer.body["message"],
        "Only students enrolled in this course can review it"
    );
    let bad = app
        .call_as(
            &student.access_token,
            reqwest::Method::PUT,
            &path,
            Some(&json!({ "rating": 6 })),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(error_fields(&bad.body), ["rating"]);
    let course = app.get(&format!("/api/v1/courses/{course}")).await;
    assert_eq!(course.body["data"]["totalReviews"], 0);
}

#[tokio::test]
async fn the_owner_adds_a_co_teacher_who_edits_but_cannot_delete_the_course_or_manage_staff() {
    let app = spawn_app().await;
    let owner = app.register("TEACHER").await;
    let co = app.register("TEACHER").await;
    let ta = app.register("TEACHER").await;
    let course = draft(&app, &owner.access_token, "Team Taught").await;
    add_staff(&app, &owner.access_token, &course, &co.id, "CO_TEACHER").await;
    let edit = app
        .patch_as(
            &co.access_token,
            &format!("/api/v1/courses/{course}"),
            &json!({ "description": "By two." }),
        )
        .await;
    assert_eq!(edit.status, 200, "{}", edit.body);
    let add = app
        .post_as(
            &co.access_token,
            &format!("/api/v1/courses/{course}/staff"),
            &json!({ "userId": ta.id, "role": "TA" }),
        )
        .await;
    assert_eq!(add.status, 403, "{}", add.body);
    let delete = app
        .delete_as(&co.access_token, &format!("/api/v1/courses/{course}"))
        .await;
    assert_eq!(delete.status, 403, "{}", delete.body);
    let staff = app
        .get_as(&co.access_token, &format!("/api/v1/courses/{course}/staff"))
        .await;
    let roles: Vec<&str> = staff.body["data"]
        .as_array()
        .expect("staff")
        .iter()
        .map(|m| m["role"].as_str().expect("role"))
        .collect();
    assert_eq!(roles, ["OWNER", "CO_TEACHER"]);
    // A co-teacher may leave; then they are no longer staff.
    let leave = app
        .delete_as(
            &co.access_token,
            &format!("/api/v1/courses/{course}/staff/{}", co.id),
        )
        .await;
    assert_eq!(leave.status, 200, "{}", leave.body);
    let after = app
        .patch_as(
            &co.access_token,
            &format!("/api/v1/courses/{course}"),
            &json!({ "description": "Mine?" }),
        )
        .await;
    assert_eq!(after.status, 403, "{}", after.body);
}

#[tokio::test]
async fn only_teachers_join_a_courses_staff_once_and_never_as_a_second_owner() {
    let app = spawn_app().await;
    let owner = app.register("TEACHER").await;
    let co = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let token = &owner.access_token;
    let course = draft(&app, token, "Staffing").await;
    let path = format!("/api/v1/courses/{course}/staff");
    let not_teacher = app
        .post_as(token, &path, &json!({ "userId": student.id, "role": "TA" }))
        .await;
    assert_eq!(not_teacher.status, 422, "{}", not_teacher.body);
    assert!(
        not_teacher.body["message"]
            .as_str()
            .expect("message")
            .contains("Only a TEACHER")
    );
    let second_owner = app
        .post_as(token, &path, &json!({ "userId": co.id, "role": "OWNER" }))
        .await;
    assert_eq!(second_owner.status, 400, "{}", second_owner.body);
    assert_eq!(error_fields(&second_owner.body), ["role"]);
    add_staff(&app, token, &course, &co.id, "TA").await;
    let twice = app
        .post_as(
            token,
            &path,
            &json!({ "userId": co.id, "role": "CO_TEACHER" }),
        )
        .await;
    assert_eq!(twice.status, 409, "{}", twice.body);
    assert_eq!(error_fields(&twice.body), ["userId"]);
    let nobody = app
        .post_as(
            token,
            &path,
            &json!({ "userId": uuid::Uuid::now_v7(), "role": "TA" }),
        )
        .await;
    assert_eq!(nobody.status, 404, "{}", nobody.body);
}

#[tokio::test]
async fn the_owner_cannot_be_removed_from_the_staff_even_by_an_admin() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let owner = app.register("TEACHER").await;
    let course = draft(&app, &owner.access_token, "Owned").await;
    let path = format!("/api/v1/courses/{course}/staff/{}", owner.id);
    for token in [&owner.access_token, &admin.access_token] {
        let answer = app.delete_as(token, &path).await;
        assert_eq!(answer.status, 422, "{}", answer.body);
        assert_eq!(
            answer.body["message"],
            "The owner can't be removed from their course"
        );
    }
    let missing = app
        .delete_as(
            &owner.access_token,
            &format!("/api/v1/courses/{course}/staff/{}", uuid::Uuid::now_v7()),
        )
        .await;
    assert_eq!(missing.status, 404, "{}", missing.body);
}

#[tokio::test]
async fn deleting_a_course_removes_it_with_its_sections_and_lessons() {
    let app = spawn_app().await;
    let owner = app.register("TEACHER").await;
    let token = &owner.access_token;
    let (course, section, lesson) = published(&app, token, "Doomed").await;
    let answer = app
        .delete_as(token, &format!("/api/v1/courses/{course}"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        app.get_as(token, &format!("/api/v1/courses/{course}"))
            .await
            .status,
        404
    );
    assert_eq!(
        app.get_as(token, &format!("/api/v1/lessons/{lesson}"))
            .await
            .status,
        404
    );
    let gone = app
        .patch_as(
            token,
            &format!("/api/v1/sections/{section}"),
            &json!({ "title": "x" }),
        )
        .await;
    assert_eq!(gone.status, 404, "{}", gone.body);
    assert_eq!(
        app.delete_as(token, &format!("/api/v1/courses/{course}"))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn a_lesson_opens_to_anyone_as_a_free_preview_and_otherwise_only_to_staff() {
    let app = spawn_app().await;
    let owner = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let token = &owner.access_token;
    let (course, section, locked) = published(&app, token, "Previewed").await;
    let preview = app
        .post_as(
            token,
            &format!("/api/v1/sections/{section}/lessons"),
            &json!({ "title": "Taster", "type": "TEXT", "content": "Hello", "isFreePreview": true, "isPublished": true }),
        )
        .await;
    assert_eq!(preview.status, 201, "{}", preview.body);
    let preview = preview.body["data"]["id"].as_str().expect("id").to_owned();
    let hidden = add_lesson(&app, token, &section, "Draft lesson", false).await;

    let open = app.get(&format!("/api/v1/lessons/{preview}")).await;
    assert_eq!(open.status, 200, "{}", open.body);
    assert_eq!(open.body["data"]["content"], "Hello");
    let closed = app
        .get_as(&student.access_token, &format!("/api/v1/lessons/{locked}"))
        .await;
    assert_eq!(closed.status, 403, "{}", closed.body);
    assert_eq!(
        app.get_as(&student.access_token, &format!("/api/v1/lessons/{hidden}"))
            .await
            .status,
        404
    );
    let staff = app
        .get_as(token, &format!("/api/v1/lessons/{hidden}"))
        .await;
    assert_eq!(staff.status, 200, "{}", staff.body);
    assert_eq!(staff.body["data"]["courseId"], course.as_str());
}

#[tokio::test]
async fn categories_form_a_tree_that_everyone_reads_and_only_admins_change() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let teacher = app.register("TEACHER").await;
    let token = &admin.access_token;
    let create = |body: Value| {
        let app = &app;
        async move { app.post_as(token, "/api/v1/categories", &body).await }
    };
    let science = create(json!({ "name": "Science" })).await;
    assert_eq!(science.status, 201, "{}", science.body);
    assert_eq!(science.body["data"]["slug"], "science");
    let science = science.body["data"]["id"].as_str().expect("id").to_owned();
    let physics = create(json!({ "name": "Physics", "parentId": science })).await;
    let physics = physics.body["data"]["id"].as_str().expect("id").to_owned();
    let quantum =
        create(json!({ "name": "Quantum", "slug": "quantum-physics", "parentId": physics })).await;
    assert_eq!(quantum.status, 201, "{}", quantum.body);
    let quantum = quantum.body["data"]["id"].as_str().expect("id").to_owned();
    create(json!({ "name": "Arts" })).await;

    let tree = app.get("/api/v1/categories").await;
    assert_eq!(tree.status, 200, "{}", tree.body);
    let roots = &tree.body["data"]["categories"];
    assert_eq!(
        (roots[0]["name"].clone(), roots[1]["name"].clone()),
        (json!("Arts"), json!("Science"))
    );
    assert_eq!(roots[1]["children"][0]["name"], "Physics");
    assert_eq!(
        roots[1]["children"][0]["children"][0]["slug"],
        "quantum-physics"
    );

    let by_teacher = app
        .post_as(
            &teacher.access_token,
            "/api/v1/categories",
            &json!({ "name": "Mine" }),
        )
        .await;
    assert_eq!(by_teacher.status, 403, "{}", by_teacher.body);
    let taken = create(json!({ "name": "Science" })).await;
    assert_eq!(taken.status, 409, "{}", taken.body);
    assert_eq!(error_fields(&taken.body), ["slug"]);
    let cycle = app
        .patch_as(
            token,
            &format!("/api/v1/categories/{science}"),
            &json!({ "parentId": quantum }),
        )
        .await;
    assert_eq!(cycle.status, 422, "{}", cycle.body);
    let moved = app
        .patch_as(
            token,
            &format!("/api/v1/categories/{physics}"),
            &json!({ "parentId": null, "name": "Physics!" }),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(
        (
            moved.body["data"]["parentId"].clone(),
            moved.body["data"]["name"].clone()
        ),
        (Value::Null, json!("Physics!"))
    );
    let with_children = app
        .delete_as(token, &format!("/api/v1/categories/{physics}"))
        .await;
    assert_eq!(with_children.status, 422, "{}", with_children.body);

    let course = create_course(
        &app,
        &teacher.access_token,
        json!({ "title": "Qubits", "category": quantum }),
    )
    .await;
    let deleted = app
        .delete_as(token, &format!("/api/v1/categories/{quantum}"))
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(
        course_as(&app, &teacher.access_token, &course).await["category"],
        Value::Null
    );
}
