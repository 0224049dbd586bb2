//! The error envelope on the paths every client meets: unknown routes, wrong methods.

use crate::helpers::spawn_app;

#[tokio::test]
async fn an_unknown_route_is_a_json_404_in_the_envelope() {
    let app = spawn_app().await;
    let answer = app.get("/api/v1/definitely-not-here").await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.body["success"], false);
    assert_eq!(answer.body["code"], "NOT_FOUND");
    assert!(
        answer.body["message"]
            .as_str()
            .unwrap()
            .contains("/api/v1/definitely-not-here")
    );
}

#[tokio::test]
async fn a_path_outside_the_api_is_a_json_404_too() {
    let app = spawn_app().await;
    let answer = app.send(app.client.delete(app.url("/wp-admin"))).await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.header("content-type"), Some("application/json"));
}
