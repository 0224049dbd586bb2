//! The OpenAPI document is the contract, and the harness's check of it has teeth: every
//! answer through `TestApp::send` is validated (see `helpers/contract.rs`); these tests
//! show the check rejects what the document does not allow, and pin the defects the
//! document once had (enum spellings, the bearer scheme, dangling `$ref`s).

use serde_json::{Value, json};

use crate::catalogue_helpers::draft;
use crate::helpers::contract::Exchange;
use crate::helpers::spawn_app;

#[tokio::test]
async fn the_contract_check_rejects_answers_the_document_does_not_allow() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let id = draft(&app, &teacher.access_token, "Contract 101").await;
    let path = format!("/api/v1/courses/{id}");
    let answer = app.get_as(&teacher.access_token, &path).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let check = |status: u16, body: &Value| {
        app.contract.check(&Exchange {
            method: "GET",
            path: &path,
            status,
            content_type: Some("application/json"),
            body: &serde_json::to_vec(body).expect("serialises"),
            ..Exchange::default()
        })
    };
    // The real answer passes: the check is not rejecting everything either.
    check(200, &answer.body).expect("the server's own answer keeps the contract");

    // An enum in the Rust spelling rather than the wire's.
    let mut wrong = answer.body.clone();
    wrong["data"]["level"] = json!("Beginner");
    let err = check(200, &wrong).expect_err("a PascalCase level is rejected");
    assert!(err.contains("Beginner"), "{err}");

    // A field the document does not list, a required one missing, one of the wrong type.
    let mut wrong = answer.body.clone();
    wrong["data"]["secretNotes"] = json!("internal");
    let err = check(200, &wrong).expect_err("an undocumented field is rejected");
    assert!(err.contains("secretNotes"), "{err}");
    let mut wrong = answer.body.clone();
    wrong["data"].as_object_mut().expect("data").remove("title");
    check(200, &wrong).expect_err("a course without a title is rejected");
    let mut wrong = answer.body.clone();
    wrong["data"]["id"] = json!(42);
    check(200, &wrong).expect_err("a numeric id is rejected");

    // A status the operation does not list, an error body that is not an ErrorBody.
    let err = check(418, &json!({})).expect_err("an unlisted status is rejected");
    assert!(err.contains("418") && err.contains("not listed"), "{err}");
    let err = check(
        404,
        &json!({"success": false, "message": "gone", "code": "GONE"}),
    )
    .expect_err("an unknown error code is rejected");
    assert!(err.contains("GONE"), "{err}");

    // The wrong content type; a path no operation serves.
    app.contract
        .check(&Exchange {
            method: "GET",
            path: &path,
            status: 200,
            content_type: Some("text/html"),
            body: b"<p>hi</p>",
            ..Exchange::default()
        })
        .expect_err("an unlisted content type is rejected");
    app.contract
        .check(&Exchange {
            method: "GET",
            path: "/nowhere",
            status: 200,
            content_type: Some("application/json"),
            body: b"{}",
            ..Exchange::default()
        })
        .expect_err("a path no operation serves cannot answer 200");

    // A request the server accepted, though the document spells its enum otherwise.
    let created = json!({ "success": true, "data": {
        "id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "title": "Contract 102",
        "slug": "contract-102", "status": "DRAFT",
    }});
    let created = serde_json::to_vec(&created).expect("json");
    let request = |level: &str| {
        serde_json::to_vec(&json!({ "title": "Contract 102", "level": level })).expect("json")
    };
    let accepted = |body: &[u8]| {
        app.contract.check(&Exchange {
            method: "POST",
            path: "/api/v1/courses",
            request_type: Some("application/json"),
            request_body: Some(body),
            status: 201,
            content_type: Some("application/json"),
            body: &created,
        })
    };
    accepted(&request("BEGINNER")).expect("the wire's spelling is the document's");
    let err = accepted(&request("Beginner")).expect_err("another spelling is rejected");
    assert!(err.contains("request body"), "{err}");
}

/// Each wire enum is listed with the spellings serde reads and writes.
#[tokio::test]
async fn the_documents_enums_are_spelled_as_on_the_wire() {
    use edupro_server::api::*;
    fn spellings<T: std::fmt::Display>(all: &[T]) -> Value {
        all.iter().map(|v| json!(v.to_string())).collect()
    }
    let app = spawn_app().await;
    let document = app.get("/api/v1/openapi.json").await.body;
    let schemas = &document["components"]["schemas"];
    let expected = [
        ("CourseLevel", spellings(CourseLevel::ALL)),
        ("CourseStatus", spellings(CourseStatus::ALL)),
        ("LessonType", spellings(LessonType::ALL)),
        ("StaffRole", spellings(StaffRole::ALL)),
        ("CourseSort", spellings(CourseSort::ALL)),
        ("TestType", spellings(TestType::ALL)),
        ("TestStatus", spellings(TestStatus::ALL)),
        ("QuestionType", spellings(QuestionType::ALL)),
        (
            "MultipleSelectScoring",
            spellings(MultipleSelectScoring::ALL),
        ),
        ("ShowAnswers", spellings(ShowAnswers::ALL)),
        ("AttemptStatus", spellings(AttemptStatus::ALL)),
        ("AnswerOutcome", spellings(AnswerOutcome::ALL)),
    ];
    for (name, spellings) in expected {
        assert_eq!(schemas[name]["enum"], spellings, "{name}");
    }
    assert_eq!(
        schemas["SeriesScope"]["enum"],
        json!(["occurrence", "following", "series"])
    );
    for value in CourseLevel::ALL {
        assert_eq!(json!(value), json!(value.as_str()), "serde agrees");
    }
}

#[tokio::test]
async fn every_ref_resolves_and_token_operations_name_the_bearer_scheme() {
    let app = spawn_app().await;
    let document = app.get("/api/v1/openapi.json").await.body;
    let text = document.to_string();
    let mut dangling: Vec<&str> = text
        .split("\"$ref\":\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|reference| {
            document
                .pointer(reference.trim_start_matches('#'))
                .is_none()
        })
        .collect();
    dangling.dedup();
    assert!(dangling.is_empty(), "unresolvable: {dangling:?}");

    let bearer = &document["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["type"], "http", "{bearer}");
    assert_eq!(bearer["scheme"], "bearer", "{bearer}");
    let me = &document["paths"]["/api/v1/auth/me"]["get"];
    assert_eq!(me["security"], json!([{ "bearer": [] }]), "{me}");
}

/// The statuses the shared extractors, middleware and rate limiter give are listed where
/// they can occur, each with the error envelope: 400 wherever there is input, 401 and
/// 403 wherever a token is read, 404 wherever a path names a resource, 429 on every
/// rate-limited operation.
#[tokio::test]
async fn every_operation_documents_the_errors_it_can_give() {
    let app = spawn_app().await;
    let document = app.get("/api/v1/openapi.json").await.body;
    let rate_limited = [
        ("post", "/api/v1/auth/register"),
        ("post", "/api/v1/auth/login"),
        ("post", "/api/v1/auth/2fa/verify"),
        ("post", "/api/v1/auth/2fa/confirm"),
        ("post", "/api/v1/auth/2fa/disable"),
        ("post", "/api/v1/auth/refresh-token"),
        ("post", "/api/v1/auth/forgot-password"),
        ("post", "/api/v1/auth/reset-password"),
        ("post", "/api/v1/auth/verify-email"),
        ("post", "/api/v1/auth/resend-otp"),
        ("get", "/api/v1/ws"),
    ];
    let mut missing = Vec::new();
    let mut operations = 0;
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let Some(responses) = operation["responses"].as_object() else {
                continue;
            };
            operations += 1;
            let mut expect = |status: &str, why: &str| match responses.get(status) {
                None => missing.push(format!("{method} {path}: {status} ({why})")),
                Some(response) => {
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    if schema != "#/components/schemas/ErrorBody" {
                        missing.push(format!("{method} {path}: {status} without ErrorBody"));
                    }
                }
            };
            let has_input = operation["requestBody"].is_object()
                || operation["parameters"]
                    .as_array()
                    .is_some_and(|p| !p.is_empty());
            if has_input {
                expect("400", "input");
            }
            let bearer = operation["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            if bearer {
                expect("401", "a token");
                expect("403", "a token");
            }
            if path.contains('{') {
                expect("404", "a path parameter");
            }
            if operation["requestBody"].is_object() {
                expect("413", "a body");
                expect("415", "a body");
            }
            if rate_limited.contains(&(method.as_str(), path.as_str())) {
                expect("429", "rate-limited");
            }
        }
    }
    assert!(operations > 100, "{operations} operations");
    assert!(missing.is_empty(), "undocumented: {missing:#?}");
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["bearerFormat"], "JWT", "{schemes}");
}

/// The bounds the server enforces are in the document, so a request valid by the
/// document is not refused for its size or range.
#[tokio::test]
async fn the_documents_bounds_are_the_servers() {
    let app = spawn_app().await;
    let document = app.get("/api/v1/openapi.json").await.body;
    let schemas = &document["components"]["schemas"];
    let review = &schemas["ReviewInput"]["properties"]["rating"];
    assert_eq!(
        (&review["minimum"], &review["maximum"]),
        (&json!(1), &json!(5))
    );
    let batch = &schemas["NewBatch"]["properties"]["capacity"];
    assert_eq!(batch["maximum"], json!(100_000), "{batch}");
    let password = &schemas["Register"]["properties"]["password"];
    assert_eq!(password["minLength"], json!(8), "{password}");
    let list = &document["paths"]["/api/v1/courses"]["get"]["parameters"];
    let limit = list
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "limit"))
        .expect("limit");
    assert_eq!(limit["schema"]["maximum"], json!(100), "{limit}");
    assert_eq!(limit["schema"]["minimum"], json!(1), "{limit}");
    let import = &document["paths"]["/api/v1/imports/{kind}"]["post"]["parameters"];
    let param = |name: &str| {
        import
            .as_array()
            .and_then(|p| p.iter().find(|p| p["name"] == name))
            .map(|p| p["schema"].clone())
            .expect("a parameter")
    };
    assert_eq!(param("batch")["maximum"], json!(5000));
    assert_eq!(param("maxErrors")["maximum"], json!(u64::MAX));
    let xp = &schemas["StudentProfile"]["properties"]["totalXp"];
    assert_eq!(
        (&xp["minimum"], &xp["maximum"]),
        (&json!(i64::MIN), &json!(i64::MAX))
    );
}

/// Every integer a request may carry (parameters and bodies, through their `$ref`s) has
/// both bounds, and they are the server's: without them a client (or a fuzzer) may send
/// a number valid by the document but wider than the type the server parses it into.
#[tokio::test]
async fn every_integer_a_request_carries_is_bounded() {
    fn walk<'a>(
        document: &'a Value,
        at: String,
        value: &'a Value,
        seen: &mut Vec<&'a str>,
        unbounded: &mut Vec<String>,
    ) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    if !seen.contains(&reference.as_str()) {
                        seen.push(reference);
                        if let Some(target) = document.pointer(reference.trim_start_matches('#')) {
                            walk(document, reference.clone(), target, seen, unbounded);
                        }
                    }
                    return;
                }
                let integer = match map.get("type") {
                    Some(Value::String(t)) => t == "integer",
                    Some(Value::Array(types)) => types.iter().any(|t| t == "integer"),
                    _ => false,
                };
                if integer && !(map.contains_key("maximum") && map.contains_key("minimum")) {
                    unbounded.push(at.clone());
                }
                for (key, inner) in map {
                    walk(document, format!("{at}/{key}"), inner, seen, unbounded);
                }
            }
            Value::Array(items) => {
                for (i, inner) in items.iter().enumerate() {
                    let name = inner["name"].as_str().map_or(i.to_string(), str::to_owned);
                    walk(document, format!("{at}/{name}"), inner, seen, unbounded);
                }
            }
            _ => {}
        }
    }
    let app = spawn_app().await;
    let document = app.get("/api/v1/openapi.json").await.body;
    let (mut seen, mut unbounded) = (Vec::new(), Vec::new());
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            for part in ["parameters", "requestBody"] {
                let at = format!("{method} {path} {part}");
                walk(&document, at, &operation[part], &mut seen, &mut unbounded);
            }
        }
    }
    assert!(seen.len() > 20, "{seen:?}");
    assert!(
        unbounded.is_empty(),
        "integers without both bounds: {unbounded:#?}"
    );
}

/// An integer spelled as a whole float (`5.0`, the same number to JSON Schema) is read.
#[tokio::test]
async fn an_integer_spelled_as_a_whole_float_is_accepted() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    let course = draft(&app, &teacher.access_token, "Floats as integers").await;
    let path = format!("/api/v1/courses/{course}/batches");
    let created = app
        .post_as(
            &teacher.access_token,
            &path,
            &json!({"name": "Evenings", "capacity": 30.0}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["data"]["capacity"], 30);
    let fraction = app
        .post_as(
            &teacher.access_token,
            &path,
            &json!({"name": "Mornings", "capacity": 30.5}),
        )
        .await;
    assert_eq!(fraction.status, 400, "{}", fraction.body);
}

/// A documented path asked with a method it does not have answers 405 with `Allow`,
/// also with an `Idempotency-Key` (which only a route's write may claim).
#[tokio::test]
async fn a_method_a_path_does_not_have_is_405_with_allow() {
    let app = spawn_app().await;
    let teacher = app.register("TEACHER").await;
    for (method, key) in [("TRACE", None), ("PUT", Some("k-1")), ("PUT", Some("k-1"))] {
        let mut request = app
            .client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).expect("a method"),
                app.url("/api/v1/courses/01a24e8e-54e8-70d5-9c5a-2d1706a9d8f6"),
            )
            .bearer_auth(&teacher.access_token)
            .json(&json!({"title": "x"}));
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let answer = request.send().await.expect("an answer");
        assert_eq!(answer.status(), 405, "{method}");
        assert_eq!(
            answer.headers()["allow"].to_str().ok(),
            Some("DELETE, GET, PATCH"),
            "{method}"
        );
        let body: Value = answer.json().await.expect("json");
        assert_eq!(body["code"], "METHOD_NOT_ALLOWED", "{body}");
    }
    let unknown = app
        .client
        .get(app.url("/api/v1/nothing-here"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(unknown.status(), 404);
}
