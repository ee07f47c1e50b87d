//! Secrets never reach the log: run the real binary, make requests that carry
//! secrets, and read everything it printed.
use std::{
    io::Read,
    process::{Command, Stdio},
    time::Duration,
};

#[tokio::test]
async fn tokens_passwords_and_keys_never_appear_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_chattconnect"))
        .arg("serve")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/app.db?mode=rwc", dir.path().display()),
        )
        .env("DATA_DIR", dir.path())
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "debug")
        .env("JWT_SECRET", "jwt-secret-value-that-must-stay-hidden-0123456789")
        .env("BOT_BASE_URL", "http://127.0.0.1:9/v1")
        .env("BOT_API_KEY", "sk-bot-key-that-must-stay-hidden")
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
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client.get(format!("{base}/readyz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let registered: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/register"))
        .json(&serde_json::json!({"username": "logged", "password": "password-that-must-stay-hidden"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
    tokio::time::sleep(Duration::from_millis(300)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let log = stdout.join().unwrap() + &stderr.join().unwrap();
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
