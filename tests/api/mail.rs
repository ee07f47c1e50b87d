//! E-mail: confirming an address and "forgot my password", against a real
//! SMTP server the test starts (aiosmtpd from PyPI, printing what it gets).
use std::{process::Stdio, sync::Arc, time::Duration};

use reqwest::Method;
use serde_json::{json, Value};
use tokio::{io::AsyncBufReadExt, process::Child, sync::Mutex};

use crate::helpers::{spawn_app_with, TestApp};

/// An SMTP sink on a free port; everything it receives, as text.
struct Sink {
    _child: Child,
    port: u16,
    received: Arc<Mutex<String>>,
}

impl Sink {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = tokio::process::Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs (pip install aiosmtpd)");
        let received = Arc::new(Mutex::new(String::new()));
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let sink = received.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let mut all = sink.lock().await;
                all.push_str(&line);
                all.push('\n');
            }
        });
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Self {
                    _child: child,
                    port,
                    received,
                };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("aiosmtpd did not start; install it with `pip install aiosmtpd`");
    }

    /// The mail text so far, quoted-printable soft line breaks undone.
    async fn text(&self) -> String {
        self.received.lock().await.replace("=\n", "").replace("=3D", "=")
    }

    /// The token of the `n`th link (from 0) with this path, waiting for it.
    async fn token(&self, path: &str, n: usize) -> String {
        for _ in 0..100 {
            let text = self.text().await;
            if let Some(after) = text.split(path).nth(n + 1) {
                return after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no link #{n} with {path} arrived: {}", self.text().await);
    }
}

async fn post(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> crate::helpers::Reply {
    app.call(Method::POST, path, token, Some(body)).await
}

#[tokio::test]
#[ignore = "needs python3 with aiosmtpd (pip install aiosmtpd); CI's PostgreSQL + Redis run includes it"]
async fn a_confirmed_address_gets_a_reset_link_that_works_once() {
    let sink = Sink::start().await;
    let app = spawn_app_with(|s| {
        s.smtp_url = Some(chattconnect::config::Secret::new(format!(
            "smtp://127.0.0.1:{}",
            sink.port
        )));
        s.public_url = Some("https://chat.example.com".into());
    })
    .await;
    let user = app.signup("mailer_ann").await;
    let bad = app
        .patch("/api/v1/me", &user.access, json!({"email": "not an address"}))
        .await;
    assert_eq!(bad.expect_error(400, "validation_failed")["field"], "email");

    // Setting the address mails a confirmation link; until it is opened the
    // address gets no reset link.
    let me = app
        .patch("/api/v1/me", &user.access, json!({"email": "Ann@Example.com"}))
        .await
        .expect(200);
    assert_eq!(
        (me["email"].as_str(), me["email_confirmed"].as_bool()),
        (Some("ann@example.com"), Some(false))
    );
    let confirm = sink.token("https://chat.example.com/#/confirm-email/", 0).await;
    assert!(sink.text().await.contains("ann@example.com"));
    let forgot = post(
        &app,
        "/api/v1/auth/forgot-password",
        None,
        json!({"login": "mailer_ann"}),
    )
    .await
    .expect(202);
    assert_eq!(forgot["mail"], true);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !sink.text().await.contains("#/reset/"),
        "no reset link for an unconfirmed address"
    );

    assert_eq!(
        post(&app, "/api/v1/auth/confirm-email", None, json!({"token": confirm}))
            .await
            .status,
        204
    );
    assert_eq!(
        app.get("/api/v1/me", &user.access).await.expect(200)["email_confirmed"],
        true
    );
    let again = post(&app, "/api/v1/auth/confirm-email", None, json!({"token": confirm})).await;
    assert_eq!(again.expect_error(400, "validation_failed")["field"], "token");

    // Now "forgot my password", by the address: a reset link arrives; the same
    // answer for an account that does not exist, and no mail for it.
    let forgot = post(
        &app,
        "/api/v1/auth/forgot-password",
        None,
        json!({"login": "ANN@example.com"}),
    )
    .await
    .expect(202);
    assert_eq!(forgot["mail"], true);
    let reset = sink.token("https://chat.example.com/#/reset/", 0).await;
    post(
        &app,
        "/api/v1/auth/forgot-password",
        None,
        json!({"login": "nobody@example.com"}),
    )
    .await
    .expect(202);
    // At most one mail a minute per account.
    post(
        &app,
        "/api/v1/auth/forgot-password",
        None,
        json!({"login": "mailer_ann"}),
    )
    .await
    .expect(202);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        sink.text().await.matches("#/reset/").count(),
        1,
        "{}",
        sink.text().await
    );

    let body = json!({"token": reset, "new_password": "a mailed new secret"});
    post(&app, "/api/v1/auth/reset-password", None, body.clone())
        .await
        .expect(204);
    app.get("/api/v1/me", &user.access)
        .await
        .expect_error(401, "unauthorized");
    app.login("mailer_ann", "a mailed new secret").await.expect(200);
    post(&app, "/api/v1/auth/reset-password", None, body)
        .await
        .expect_error(400, "validation_failed");
}

#[tokio::test]
async fn without_smtp_an_address_is_refused_and_forgot_password_says_ask_the_operator() {
    let app = spawn_app_with(|_| {}).await;
    let user = app.signup("no_mail").await;
    let err = app
        .patch("/api/v1/me", &user.access, json!({"email": "ann@example.com"}))
        .await;
    let err = err.expect_error(400, "validation_failed");
    assert_eq!(err["field"], "email");
    assert!(
        err["message"].as_str().unwrap().contains("does not send e-mail"),
        "{err}"
    );
    let forgot = post(&app, "/api/v1/auth/forgot-password", None, json!({"login": "no_mail"}))
        .await
        .expect(202);
    assert_eq!(forgot["mail"], false);
}
