use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = spawn_app().await;
    assert_eq!(app.call(Method::GET, "/healthz", None, None).await.status, 200);
    // With Redis configured, ready once the bus has subscribed (a moment after start).
    let mut ready = app.call(Method::GET, "/readyz", None, None).await;
    for _ in 0..100 {
        if ready.status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        ready = app.call(Method::GET, "/readyz", None, None).await;
    }
    let ready = ready.expect(200);
    assert_eq!(
        (&ready["status"], &ready["database"]),
        (&json!("ready"), &json!("up")),
        "{ready}"
    );
    assert_eq!(ready["model"], "not_configured", "this app has no bot");
    // Without Redis there is no bus to report; with it (CI's PostgreSQL + Redis run) it is up.
    let bus = ready["realtime_bus"].as_str().unwrap();
    assert_eq!(
        bus,
        if app.settings.redis_url.is_some() {
            "up"
        } else {
            "not_configured"
        }
    );
    app.call(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(serde_json::json!({"username": "x", "password": "y"})),
    )
    .await;
    let metrics = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(metrics.status, 200);
    let text = metrics.body.as_str().unwrap();
    assert!(
        text.contains(r#"chattconnect_http_requests_total{method="POST",operation="login",status="401"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn the_browser_app_and_the_docs_are_served() {
    let app = spawn_app().await;
    let index = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(index.status(), 200);
    assert!(index.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(index.text().await.unwrap().contains("ChattConnect"));
    let docs = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
}

#[tokio::test]
async fn a_conditional_get_of_the_app_answers_304_not_an_error() {
    let app = spawn_app().await;
    let first = app.client.get(app.url("/")).send().await.unwrap();
    let etag = first.headers().get("etag").expect("static files have an ETag").clone();
    let again = app
        .client
        .get(app.url("/"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
}

#[cfg(unix)]
#[tokio::test]
async fn the_generated_jwt_secret_is_kept_private_in_the_data_directory() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app().await;
    let path = app.settings.data_dir.join("jwt_secret");
    let mode = std::fs::metadata(&path)
        .expect("secret file exists")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(std::fs::read_to_string(&path).unwrap().trim().len() >= 32);
}
