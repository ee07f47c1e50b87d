//! `spawn_app()` starts the real server on a random port with its own database:
//! a fresh SQLite file, or a fresh PostgreSQL schema when `TEST_DATABASE_URL` is set.
use std::{sync::Arc, time::Duration};

use chattconnect::{bot::quota::Clock, config::Settings, startup::Application};

use crate::fake_llm::FakeLlm;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::{sync::oneshot, task::JoinHandle};
use uuid::Uuid;

pub struct TestApp {
    pub address: String,
    /// The quota clock; tests move it forward to cross midnight.
    pub clock: Clock,
    backend: sea_orm::DbBackend,
    pub settings: Settings,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<()>>,
    /// The server's own process, when it runs as the real binary.
    process: Option<tokio::process::Child>,
    _dir: Arc<tempfile::TempDir>,
}

/// A signed-up user and their tokens.
#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: Uuid,
    pub username: String,
    pub password: String,
    pub access: String,
    pub refresh: String,
}

/// The response of a call: status, headers and parsed JSON body (or `Null`).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The status, headers and body (JSON when it parses) of a response.
    pub async fn read(resp: reqwest::Response) -> Self {
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(if text.is_empty() {
            Value::Null
        } else {
            Value::String(text)
        });
        Reply { status, headers, body }
    }

    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        self.body
    }

    /// Asserts an error reply in the contract's shape, with the request id of
    /// its `X-Request-Id` header, and returns it without that id (which every
    /// request has its own of), so that two answers can be compared.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str) -> Value {
        let request_id = self.headers.get("x-request-id").map(|v| v.to_str().unwrap().to_owned());
        let mut body = self.expect(status);
        assert_eq!(body["error"], code, "unexpected error code: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "missing message: {body}"
        );
        let in_body = body.as_object_mut().and_then(|o| o.remove("request_id"));
        assert!(request_id.is_some(), "no X-Request-Id header: {body}");
        assert_eq!(
            in_body.as_ref().and_then(Value::as_str),
            request_id.as_deref(),
            "request ids differ: {body}"
        );
        body
    }
}

pub fn test_settings(dir: &tempfile::TempDir) -> Settings {
    // Burst limits are generous here; the tests of those limits set their own.
    let mut settings = Settings {
        bind: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        log_format: "pretty".into(),
        rate_login_per_ip: 10_000,
        rate_login_per_username: 10_000,
        rate_register_per_ip: 10_000,
        rate_bot_per_user: 10_000,
        rate_messages_per_user: 10_000,
        bot_first_token_timeout_secs: 5,
        bot_total_timeout_secs: 10,
        // Stopping a test server drains nothing: no load balancer waits on it.
        shutdown_grace_secs: 0,
        ..Settings::default()
    };
    let url = std::env::var("TEST_DATABASE_URL").unwrap_or_default();
    if std::env::var_os("TEST_REQUIRE_SERVICES").is_some() && !url.starts_with("postgres") {
        panic!("TEST_REQUIRE_SERVICES is set but TEST_DATABASE_URL is not a PostgreSQL URL");
    }
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            settings.database_url = url;
            settings.database_schema = Some(format!("t_{}", Uuid::now_v7().simple()));
            settings.database_max_connections = 5;
        }
        _ => {
            settings.database_url = format!("sqlite://{}/test.db?mode=rwc", dir.path().display());
        }
    }
    settings
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut settings = test_settings(&dir);
    configure(&mut settings);
    start(settings, dir).await
}

async fn start(settings: Settings, dir: Arc<tempfile::TempDir>) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        // Logging stays on for the whole test process.
        std::mem::forget(chattconnect::telemetry::init("pretty"));
    }
    let app = Application::build(settings.clone()).await.expect("application builds");
    let port = app.port();
    let backend = app.state().db.backend();
    let clock = app.state().quota.clock().clone();
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        app.run_until(async {
            let _ = rx.await;
        })
        .await
        .expect("server runs");
    });
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        clock,
        backend,
        settings,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        shutdown: Some(tx),
        handle: Some(handle),
        process: None,
        _dir: dir,
    }
}

/// The settings as the binary reads them from its environment.
fn environment(settings: &Settings) -> Vec<(String, String)> {
    let Value::Object(fields) = serde_json::to_value(settings).unwrap() else {
        unreachable!("settings are an object")
    };
    fields
        .into_iter()
        .filter_map(|(key, value)| {
            let text = match value {
                Value::Null => return None,
                Value::String(s) => s,
                Value::Array(items) => items.iter().filter_map(|i| i.as_str()).collect::<Vec<_>>().join(","),
                other => other.to_string(),
            };
            Some((key.to_uppercase(), text))
        })
        .collect()
}

/// Starts the real binary as its own process on `settings` (a fresh port),
/// so a test can kill it with `kill -9`; returns once it is ready.
async fn start_process(mut settings: Settings, dir: Arc<tempfile::TempDir>) -> TestApp {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    settings.bind = format!("127.0.0.1:{port}").parse().unwrap();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_chattconnect"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(environment(&settings))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the server binary starts");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let address = format!("http://127.0.0.1:{port}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let ready = client.get(format!("{address}/readyz")).send().await;
        if ready.is_ok_and(|r| r.status() == 200) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server process did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let backend = if settings.is_sqlite() {
        sea_orm::DbBackend::Sqlite
    } else {
        sea_orm::DbBackend::Postgres
    };
    TestApp {
        address,
        clock: Clock::default(),
        backend,
        settings,
        client,
        shutdown: None,
        handle: None,
        process: Some(child),
        _dir: dir,
    }
}

/// A client of a server this test does not run (instances behind a proxy).
pub fn client_of(address: String, settings: Settings) -> TestApp {
    TestApp {
        address,
        clock: Clock::default(),
        backend: sea_orm::DbBackend::Postgres,
        settings,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        shutdown: None,
        handle: None,
        process: None,
        _dir: Arc::new(tempfile::tempdir().expect("temp dir")),
    }
}

/// The server as its own process (the real binary), to be killed and started again.
pub async fn spawn_process_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut settings = test_settings(&dir);
    configure(&mut settings);
    start_process(settings, dir).await
}

/// An app whose bot is the fake LLM server.
pub async fn spawn_app_with_bot(llm: &FakeLlm, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let base = llm.base_url.clone();
    spawn_app_with(move |s| {
        s.bot_base_url = Some(base);
        s.bot_model = "fake-model".into();
        configure(s);
    })
    .await
}

/// One server-sent event: its name and parsed JSON data.
#[derive(Debug)]
pub struct Sse {
    pub event: String,
    pub data: Value,
}

pub fn parse_sse(body: &str) -> Vec<Sse> {
    body.split("\n\n")
        .filter_map(|block| {
            let mut event = "message".to_owned();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(e) = line.strip_prefix("event:") {
                    event = e.trim().to_owned();
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
            (!data.is_empty()).then(|| Sse {
                event,
                data: serde_json::from_str(&data).unwrap_or(Value::String(data)),
            })
        })
        .collect()
}

/// A bot message's event stream, read as it arrives; dropping it is the
/// client leaving.
pub struct LiveStream {
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    seen: String,
}

impl LiveStream {
    /// Reads on until the complete events so far satisfy `done`; returns them.
    pub async fn until(&mut self, done: impl Fn(&[Sse]) -> bool) -> Vec<Sse> {
        loop {
            let complete = self.seen.rfind("\n\n").map_or("", |end| &self.seen[..end]);
            let events = parse_sse(complete);
            if done(&events) {
                return events;
            }
            let chunk = futures_util::StreamExt::next(&mut self.body)
                .await
                .expect("the stream goes on")
                .unwrap();
            self.seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

impl TestApp {
    /// Stops the server and starts a new one on the same database and data directory.
    pub async fn restart(mut self) -> TestApp {
        self.stop().await;
        let mut settings = self.settings.clone();
        settings.bind = "127.0.0.1:0".parse().unwrap();
        start(settings, self._dir.clone()).await
    }

    /// Kills the server's process with SIGKILL (`kill -9`): no shutdown, no
    /// cleanup; then starts the binary again on the same database and data
    /// directory, as a supervisor would.
    pub async fn kill_and_start_again(mut self) -> TestApp {
        let mut child = self.process.take().expect("the server runs as its own process");
        child.start_kill().unwrap();
        child.wait().await.unwrap();
        start_process(self.settings.clone(), self._dir.clone()).await
    }

    /// Another server instance sharing this one's database.
    pub async fn another_instance(&self) -> TestApp {
        let mut settings = self.settings.clone();
        settings.bind = "127.0.0.1:0".parse().unwrap();
        start(settings, self._dir.clone()).await
    }

    /// Sends the server its stop signal (SIGTERM, as it were) without waiting.
    pub fn begin_stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Stops the server and waits until it has shut down.
    pub async fn stop(&mut self) {
        self.begin_stop();
        if let Some(handle) = self.handle.take() {
            let _ = handle.await;
        }
    }

    /// Deletes a user's row straight from the database, as an operator might.
    pub async fn delete_user_row(&self, id: Uuid) {
        use sea_orm::EntityTrait;
        let db = chattconnect::db::Db::connect(&self.settings).await.expect("database");
        chattconnect::entity::user::Entity::delete_by_id(id)
            .exec(db.w())
            .await
            .expect("user deleted");
    }

    /// Adds people straight to the database (no password hashing), as a bulk
    /// import would: `(username, display name)`.
    pub async fn insert_users(&self, people: &[(String, String)]) {
        let db = chattconnect::db::Db::connect(&self.settings).await.expect("database");
        for (username, display) in people {
            chattconnect::db::users::insert(
                db.w(),
                username,
                display,
                chattconnect::domain::kinds::Level::B1,
                "not-a-hash".into(),
            )
            .await
            .expect("user inserted");
        }
    }

    /// Runs the command line (the real binary) on this app's settings.
    pub async fn cli(&self, args: &[&str]) -> std::process::Output {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_chattconnect"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(environment(&self.settings))
            .env("NO_COLOR", "1")
            .output()
            .await
            .expect("the binary runs")
    }

    pub fn state_backend(&self) -> sea_orm::DbBackend {
        self.backend
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        Reply::read(req.send().await.expect("request sent")).await
    }

    /// Every item of a paged list, following `next_cursor` from `path` (which
    /// already has a query string) to the last page.
    pub async fn all_pages(&self, path: &str, token: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut next = path.to_owned();
        for _ in 0..1000 {
            let page = self.get(&next, token).await.expect(200);
            items.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(c) => next = format!("{path}&cursor={c}"),
                None => return items,
            }
        }
        panic!("{path} never reached its last page");
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(token), Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    pub async fn register(&self, body: Value) -> Reply {
        self.call(Method::POST, "/api/v1/auth/register", None, Some(body)).await
    }

    pub async fn login(&self, username: &str, password: &str) -> Reply {
        self.call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": username, "password": password})),
        )
        .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Reply {
        self.call(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": refresh_token})),
        )
        .await
    }

    /// Registers `username` with a fixed password and returns their tokens.
    pub async fn signup(&self, username: &str) -> TestUser {
        let password = format!("{username}-password");
        let body = self
            .register(json!({"username": username, "password": password}))
            .await
            .expect(201);
        TestUser {
            id: body["user"]["id"].as_str().unwrap().parse().unwrap(),
            username: username.to_owned(),
            password,
            access: body["tokens"]["access_token"].as_str().unwrap().to_owned(),
            refresh: body["tokens"]["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    /// Makes `a` and `b` friends: `a` asks, `b` accepts.
    pub async fn befriend(&self, a: &TestUser, b: &TestUser) {
        self.post("/api/v1/friends", &a.access, json!({"username": b.username}))
            .await
            .expect(201);
        self.post(&format!("/api/v1/friends/{}/accept", a.id), &b.access, json!({}))
            .await
            .expect(200);
    }

    /// Friends `a` and `b` and opens their direct chat; returns its id.
    pub async fn direct_chat(&self, a: &TestUser, b: &TestUser) -> String {
        self.befriend(a, b).await;
        let chat = self
            .post("/api/v1/chats", &a.access, json!({"kind": "direct", "user_id": b.id}))
            .await
            .expect(201);
        chat["id"].as_str().unwrap().to_owned()
    }

    /// Starts a bot chat (`free_talk` unless `scenario` is given); returns its id.
    pub async fn bot_chat(&self, user: &TestUser, scenario: Option<&str>) -> String {
        let mut body = json!({"kind": "bot"});
        if let Some(s) = scenario {
            body["scenario_id"] = json!(s);
        }
        let chat = self.post("/api/v1/chats", &user.access, body).await.expect(201);
        chat["id"].as_str().unwrap().to_owned()
    }

    fn stream_request(&self, user: &TestUser, chat_id: &str, content: &str) -> reqwest::RequestBuilder {
        self.client
            .post(self.url(&format!("/api/v1/chats/{chat_id}/messages/stream")))
            .bearer_auth(&user.access)
            .json(&json!({"content": content}))
    }

    /// Posts to the streaming endpoint and reads the whole event stream.
    pub async fn stream(
        &self,
        user: &TestUser,
        chat_id: &str,
        content: &str,
    ) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Vec<Sse>, String) {
        let resp = self.stream_request(user, chat_id, content).send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        (status, headers, parse_sse(&text), text)
    }

    /// Posts to the streaming endpoint and returns the stream as it starts (200).
    pub async fn open_stream(&self, user: &TestUser, chat_id: &str, content: &str) -> LiveStream {
        match self.try_open_stream(user, chat_id, content).await {
            Ok(stream) => stream,
            Err(reply) => panic!("the stream did not start: {} {}", reply.status, reply.body),
        }
    }

    /// Posts to the streaming endpoint: the stream if it started (200), else the error.
    pub async fn try_open_stream(&self, user: &TestUser, chat_id: &str, content: &str) -> Result<LiveStream, Reply> {
        let resp = self.stream_request(user, chat_id, content).send().await.unwrap();
        if resp.status() != 200 {
            return Err(Reply::read(resp).await);
        }
        Ok(LiveStream {
            body: Box::pin(resp.bytes_stream()),
            seen: String::new(),
        })
    }

    pub async fn send(&self, user: &TestUser, chat_id: &str, content: &str) -> Value {
        self.post(
            &format!("/api/v1/chats/{chat_id}/messages"),
            &user.access,
            json!({"content": content}),
        )
        .await
        .expect(201)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
