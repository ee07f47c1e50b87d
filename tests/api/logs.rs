//! Secrets never reach the log: run the real binary, make requests that carry
//! secrets, and read everything it printed.
use std::{
    io::Read,
    process::{Child, Command, Stdio},
    thread::JoinHandle,
    time::Duration,
};

use sea_orm::{ConnectionTrait, Database};

/// The real binary on a free port with SQLite in `dir`, its output collected.
struct Server {
    base: String,
    child: Child,
    output: Vec<JoinHandle<String>>,
}

impl Server {
    async fn start(dir: &tempfile::TempDir, env: &[(&str, &str)]) -> Self {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_chattconnect"))
            .arg("serve")
            .env("DATABASE_URL", database_url(dir))
            .env("DATA_DIR", dir.path())
            .env("BIND", format!("127.0.0.1:{port}"))
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Drain the output as it comes, so a full pipe never blocks the server.
        let drain = |mut pipe: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut out = String::new();
                let _ = pipe.read_to_string(&mut out);
                out
            })
        };
        let output = vec![
            drain(Box::new(child.stdout.take().unwrap())),
            drain(Box::new(child.stderr.take().unwrap())),
        ];
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        for _ in 0..100 {
            if client.get(format!("{base}/readyz")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Server { base, child, output }
    }

    /// Signs up `username`: the `{user, tokens}` answer.
    async fn register(&self, username: &str, password: &str) -> serde_json::Value {
        reqwest::Client::new()
            .post(format!("{}/api/v1/auth/register", self.base))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Stops the server and returns everything it printed.
    async fn stop(mut self) -> String {
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.output.into_iter().map(|t| t.join().unwrap()).collect()
    }
}

fn database_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}/app.db?mode=rwc", dir.path().display())
}

/// A request that fails inside the server answers with its request id, and the
/// one log line of the failure carries the same id, the route and the caller.
#[tokio::test]
async fn an_internal_error_names_its_request_in_the_response_and_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir, &[("LOG_FORMAT", "json"), ("RUST_LOG", "info")]).await;
    let client = reqwest::Client::new();
    let registered = server.register("traced", "a-long-enough-password").await;
    let user_id = registered["user"]["id"].as_str().unwrap().to_owned();
    let access = registered["tokens"]["access_token"].as_str().unwrap().to_owned();
    // Break the database under the running server: the notebook's table goes.
    let db = Database::connect(database_url(&dir)).await.unwrap();
    db.execute_unprepared("ALTER TABLE mistakes RENAME TO mistakes_gone")
        .await
        .unwrap();
    let resp = client
        .get(format!("{}/api/v1/me/mistakes", server.base))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 500);
    let header = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "internal");
    assert_eq!(body["request_id"], header.as_str(), "{body}");
    // A request id the client chose is kept.
    let own = client
        .get(format!("{}/api/v1/me/mistakes", server.base))
        .bearer_auth(&access)
        .header("X-Request-Id", "support-ticket-42")
        .send()
        .await
        .unwrap();
    assert_eq!(own.headers()["x-request-id"], "support-ticket-42");
    let log = server.stop().await;
    let lines: Vec<serde_json::Value> = log.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let errors: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["level"] == "ERROR" && l["span"]["request_id"] == header.as_str())
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "the failure is logged once, in its request's span: {log}"
    );
    let (span, fields) = (&errors[0]["span"], &errors[0]["fields"]);
    assert_eq!(span["user_id"], user_id.as_str(), "{span}");
    assert_eq!(span["method"], "GET");
    assert_eq!(span["path"], "/api/v1/me/mistakes");
    // The line names the request itself too, so it does so at any log level.
    assert_eq!(fields["request_id"], header.as_str(), "{fields}");
    assert_eq!(fields["user_id"], user_id.as_str(), "{fields}");
    assert!(
        lines
            .iter()
            .any(|l| l["span"]["request_id"] == "support-ticket-42" && l["level"] == "ERROR"),
        "{log}"
    );
}

#[tokio::test]
async fn tokens_passwords_and_keys_never_appear_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &dir,
        &[
            ("RUST_LOG", "debug"),
            ("JWT_SECRET", "jwt-secret-value-that-must-stay-hidden-0123456789"),
            ("BOT_BASE_URL", "http://127.0.0.1:9/v1"),
            ("BOT_API_KEY", "sk-bot-key-that-must-stay-hidden"),
        ],
    )
    .await;
    let (base, client) = (server.base.clone(), reqwest::Client::new());
    let registered = server.register("logged", "password-that-must-stay-hidden").await;
    let access = registered["tokens"]["access_token"].as_str().unwrap().to_owned();
    let refresh = registered["tokens"]["refresh_token"].as_str().unwrap().to_owned();
    client
        .get(format!("{base}/api/v1/ws?access_token={access}"))
        .send()
        .await
        .unwrap();
    client
        .post(format!("{base}/api/v1/auth/refresh"))
        .json(&serde_json::json!({"refresh_token": refresh}))
        .send()
        .await
        .unwrap();
    client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "logged", "password": "password-that-must-stay-hidden"}))
        .send()
        .await
        .unwrap();
    let chat: serde_json::Value = client
        .post(format!("{base}/api/v1/chats"))
        .bearer_auth(&access)
        .json(&serde_json::json!({"kind": "bot"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The bot call fails (nothing listens on port 9) and is logged.
    client
        .post(format!("{base}/api/v1/chats/{}/messages", chat["id"].as_str().unwrap()))
        .bearer_auth(&access)
        .json(&serde_json::json!({"content": "hello"}))
        .send()
        .await
        .unwrap();
    let log = server.stop().await;
    assert!(log.contains("/api/v1/ws"), "the requests were logged: {log}");
    // Written to a pipe, not a terminal: plain text, no colour codes; and the
    // start says where the app is, not only the API docs.
    assert!(!log.contains('\u{1b}'), "no ANSI escape codes in a piped log");
    assert!(
        log.contains(&format!("ChattConnect is at {base}/ (API docs at {base}/docs)")),
        "{log}"
    );
    for secret in [
        access.as_str(),
        refresh.as_str(),
        "password-that-must-stay-hidden",
        "jwt-secret-value-that-must-stay-hidden",
        "sk-bot-key-that-must-stay-hidden",
    ] {
        assert!(!log.contains(secret), "a secret reached the log");
    }
}
