use futures_util::stream;
use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn bodies_over_64_kib_are_rejected_with_413() {
    let app = spawn_app().await;
    let user = app.signup("big").await;
    let huge = json!({"display_name": "x".repeat(70 * 1024)});
    app.patch("/api/v1/me", &user.access, huge)
        .await
        .expect_error(413, "payload_too_large");

    // The same without a Content-Length header (chunked).
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..70).map(|_| Ok(vec![b' '; 1024])).collect();
    let resp = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "payload_too_large");

    // Just under the cap is accepted by the limiter (and then validated).
    let ok = json!({"display_name": "x".repeat(60 * 1024)});
    app.patch("/api/v1/me", &user.access, ok)
        .await
        .expect_error(400, "validation_failed");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_error_format() {
    let app = spawn_app().await;
    let missing = app.call(Method::GET, "/api/v1/nowhere", None, None).await;
    assert_eq!(missing.headers["content-type"], "application/json; charset=utf-8");
    missing.expect_error(404, "not_found");
    let r = app.call(Method::DELETE, "/api/v1/auth/login", None, None).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.headers["allow"], "POST", "a 405 says what is allowed");
    let r = app
        .call(
            Method::PUT,
            &format!("/api/v1/chats/{}", uuid::Uuid::now_v7()),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 405);
    let allow = r.headers["allow"].to_str().unwrap().to_owned();
    for method in ["GET", "PATCH", "DELETE"] {
        assert!(allow.contains(method), "{allow}");
    }
    assert!(r.body["message"].is_string());
}

#[tokio::test]
async fn malformed_json_is_a_400_in_the_error_format() {
    let app = spawn_app().await;
    let resp = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "validation_failed");
}
