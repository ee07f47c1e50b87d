//! What every response tells a browser: a strict policy for the app and for
//! Swagger UI, no sniffing, no framing, no referrer; HSTS and CORS only when
//! the operator turns them on.
use reqwest::Method;

use crate::helpers::{spawn_app, spawn_app_with};

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let user = app.signup("headers").await;
    let answers = [
        app.call(Method::GET, "/", None, None).await,
        app.call(Method::GET, "/js/app.js", None, None).await,
        app.call(Method::GET, "/api/v1/me", Some(&user.access), None).await,
        app.call(Method::GET, "/api/v1/me", None, None).await,
        app.call(Method::GET, "/no/such/page", None, None).await,
        app.call(Method::GET, "/openapi.json", None, None).await,
    ];
    for reply in &answers {
        let policy = header(&reply.headers, "content-security-policy");
        assert!(policy.contains("default-src 'none'"), "{policy}");
        assert!(
            policy.contains("script-src 'self';"),
            "no inline script at all: {policy}"
        );
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(
            !policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"),
            "{policy}"
        );
        assert_eq!(header(&reply.headers, "x-content-type-options"), "nosniff");
        assert_eq!(header(&reply.headers, "x-frame-options"), "DENY");
        assert_eq!(header(&reply.headers, "referrer-policy"), "no-referrer");
        assert!(
            reply.headers.get("strict-transport-security").is_none(),
            "HSTS is opt-in"
        );
    }
    assert_eq!(answers[3].status, 401, "errors carry them too");

    // The app's page has no inline script for the policy to block.
    let page = app.call(Method::GET, "/", None, None).await.body;
    let page = page.as_str().unwrap();
    assert!(!page.contains("<script>"), "{page}");
}

#[tokio::test]
async fn swagger_ui_runs_its_own_inline_code_and_nothing_else() {
    let app = spawn_app().await;
    let docs = app.call(Method::GET, "/docs", None, None).await;
    assert_eq!(docs.status, 200);
    let policy = header(&docs.headers, "content-security-policy");
    // One hash for each inline script (the bundle, the start-up code with
    // the spec) and style: a script injected anywhere else would not run.
    let directive = |name: &str| {
        policy
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with(name))
            .unwrap_or_else(|| panic!("no {name}: {policy}"))
            .to_owned()
    };
    assert_eq!(directive("script-src ").matches("'sha256-").count(), 2, "{policy}");
    assert_eq!(directive("style-src ").matches("'sha256-").count(), 1, "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
}

#[tokio::test]
async fn hsts_is_sent_when_the_service_is_behind_https() {
    let app = spawn_app_with(|s| s.behind_https = true).await;
    let reply = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(
        header(&reply.headers, "strict-transport-security"),
        "max-age=31536000; includeSubDomains"
    );
}

#[tokio::test]
async fn cors_answers_only_the_listed_origins() {
    let app = spawn_app_with(|s| s.cors_allowed_origins = vec!["https://app.example.com".into()]).await;
    let user = app.signup("cors_user").await;
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, app.url("/api/v1/me"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let allowed_methods = allowed.headers()["access-control-allow-methods"].to_str().unwrap();
    assert!(allowed_methods.contains("POST"), "{allowed_methods}");

    let call = |origin: &'static str| {
        app.client
            .get(app.url("/api/v1/me"))
            .bearer_auth(&user.access)
            .header("origin", origin)
            .send()
    };
    let listed = call("https://app.example.com").await.unwrap();
    assert_eq!(listed.status(), 200);
    assert_eq!(
        listed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let exposed = listed.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(exposed.contains("retry-after"), "{exposed}");

    // Another site gets no CORS headers, so its page cannot read the answer;
    // the app's own requests (same origin) are served as before.
    let other = call("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let own = call("http://127.0.0.1").await.unwrap();
    assert_eq!(own.status(), 200);
    app.login("cors_user", &user.password).await.expect(200);
}

#[tokio::test]
async fn cors_is_off_by_default() {
    let app = spawn_app().await;
    let reply = app
        .client
        .get(app.url("/healthz"))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert!(reply.headers().get("access-control-allow-origin").is_none());
}
