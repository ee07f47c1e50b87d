//! The cluster as `deploy/` sets it up: two instances on PostgreSQL + Redis
//! behind nginx (`deploy/cluster.sh`), restarted one after the other under a
//! steady load, as an upgrade does. Nobody may notice: no failed request, every
//! socket back within 2 s, no message lost or doubled, the quota exact.
use std::{
    collections::{HashMap, HashSet},
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::{connect_async, tungstenite::Message};
use uuid::Uuid;

use crate::{
    fake_llm::{FakeLlm, Mode},
    helpers::{client_of, parse_sse, test_settings, TestApp, TestUser},
};

/// `deploy/cluster.sh` with this test's settings; stopped when dropped.
struct Cluster {
    env: Vec<(String, String)>,
    dir: tempfile::TempDir,
}

impl Cluster {
    async fn run(&self, args: &[&str]) {
        Self::run_with(&self.env, args).await;
    }

    async fn run_with(env: &[(String, String)], args: &[&str]) {
        let out = tokio::process::Command::new("bash")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/cluster.sh"))
            .args(args)
            .envs(env.iter().cloned())
            .output()
            .await
            .expect("bash runs");
        assert!(
            out.status.success(),
            "cluster.sh {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Cluster {
    /// Two instances behind nginx on `port`, on a schema of their own, the bot
    /// at `bot_base_url`, every rate limit off; the restart's grace 1 s.
    async fn start(port: u16, bot_base_url: &str) -> Self {
        let database = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL is set");
        let redis = std::env::var("TEST_REDIS_URL").expect("TEST_REDIS_URL is set");
        let dir = tempfile::tempdir().unwrap();
        let schema = format!("t_{}", Uuid::now_v7().simple());
        let env: Vec<(String, String)> = [
            ("CLUSTER_DIR", dir.path().join("cluster").display().to_string()),
            ("PORT", port.to_string()),
            ("BASE_PORT", free_ports(2).to_string()),
            ("CHATTCONNECT_BIN", env!("CARGO_BIN_EXE_chattconnect").to_owned()),
            ("DATABASE_URL", database),
            ("DATABASE_SCHEMA", schema.clone()),
            ("DATABASE_MAX_CONNECTIONS", "10".into()),
            ("REDIS_URL", redis),
            ("REDIS_PREFIX", schema),
            ("BOT_BASE_URL", bot_base_url.to_owned()),
            ("BOT_MODEL", "fake-model".into()),
            ("BOT_DAILY_LIMIT", "1000".into()),
            ("SHUTDOWN_GRACE_SECS", "1".into()),
            ("SHUTDOWN_TIMEOUT_SECS", "20".into()),
            ("RATE_LOGIN_PER_IP", "0".into()),
            ("RATE_LOGIN_PER_USERNAME", "0".into()),
            ("RATE_REGISTER_PER_IP", "0".into()),
            ("RATE_MESSAGES_PER_USER", "0".into()),
            ("RATE_BOT_PER_USER", "0".into()),
            ("RUST_LOG", "warn".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let cluster = Cluster { env, dir };
        cluster.run(&["start", "2"]).await;
        cluster
    }

    /// Instance `i`'s port (1-based), as cluster.sh wrote it.
    fn instance_port(&self, i: usize) -> u16 {
        let path = self.dir().join(format!("instance-{i}.port"));
        std::fs::read_to_string(path).unwrap().trim().parse().unwrap()
    }

    /// Kills instance `i` (SIGKILL) and waits until its port refuses connections.
    async fn kill(&self, i: usize) {
        let pid = std::fs::read_to_string(self.dir().join(format!("instance-{i}.pid"))).unwrap();
        let status = std::process::Command::new("kill")
            .args(["-KILL", pid.trim()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -KILL {pid}");
        let port = self.instance_port(i);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// nginx's error log, each distinct message once (without its time,
    /// connection and client), at most `n` of them.
    fn nginx_errors(&self, n: usize) -> String {
        fn message(line: &str) -> &str {
            let message = line
                .split_once(": *")
                .and_then(|(_, rest)| rest.split_once(' '))
                .map_or(line, |(_, message)| message);
            message.split_once(", client:").map_or(message, |(message, _)| message)
        }
        let log = std::fs::read_to_string(self.dir().join("nginx/logs/error.log")).unwrap_or_default();
        let mut seen = HashSet::new();
        let lines: Vec<&str> = log.lines().filter(|line| seen.insert(message(line))).take(n).collect();
        lines.join("\n")
    }

    fn dir(&self) -> std::path::PathBuf {
        self.dir.path().join("cluster")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/cluster.sh"))
            .arg("stop")
            .envs(self.env.iter().cloned())
            .output();
    }
}

/// The first of `n` free ports in a row, below Linux's ephemeral range
/// (32768 and up), where the servers other tests start with port 0 land: an
/// instance's port is free while it restarts, and another test's server must
/// not take it then (its clients would get 502s, and that test a stranger).
fn free_ports(n: u16) -> u16 {
    for _ in 0..1000 {
        let port = 20_000 + rand::random::<u16>() % 12_000;
        let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
        if (port..port + n).all(free) {
            return port;
        }
    }
    panic!("no {n} free ports in a row below 32768");
}

/// What went wrong, as the clients saw it.
#[derive(Default)]
struct Seen {
    failures: Mutex<Vec<String>>,
    posted: Mutex<HashMap<String, String>>,
    streams: AtomicUsize,
    logins: AtomicUsize,
    pages: AtomicUsize,
}

impl Seen {
    fn fail(&self, what: String) {
        self.failures.lock().unwrap().push(what);
    }
}

/// One learner's socket: what it received live, what it caught up on after
/// each reconnect, and how each close went.
#[derive(Default)]
struct SocketLog {
    live: Vec<String>,
    caught_up: Vec<String>,
    closes: Vec<(Option<u16>, Duration)>,
}

async fn socket_client(
    app: Arc<TestApp>,
    ws_base: String,
    user: TestUser,
    group: String,
    stop: Arc<AtomicBool>,
    seen: Arc<Seen>,
) -> SocketLog {
    let mut log = SocketLog::default();
    // Events of different posts may arrive out of `seq` order (each is
    // published by the instance that stored it): catch up from the highest
    // seq up to which every message is held, not from the highest seen.
    let mut held = std::collections::BTreeSet::new();
    let mut upto: i64 = 0;
    let advance = |held: &std::collections::BTreeSet<i64>, upto: &mut i64| {
        while held.contains(&(*upto + 1)) {
            *upto += 1;
        }
    };

    let mut closed_at: Option<(Instant, Option<u16>)> = None;
    while !stop.load(Ordering::SeqCst) {
        let url = format!("{ws_base}/api/v1/ws?access_token={}", user.access);
        let mut stream = match connect_async(url).await {
            Ok((stream, _)) => stream,
            Err(e) => {
                seen.fail(format!("{}: socket refused: {e}", user.username));
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        if let Some((at, code)) = closed_at.take() {
            log.closes.push((code, at.elapsed()));
        }
        // Once connected, catch up on what was said before (while away), as the app does.
        let mut next = format!("/api/v1/chats/{group}/messages?after={upto}&limit=100");
        loop {
            let page = app.get(&next, &user.access).await;
            if page.status != 200 {
                seen.fail(format!("{}: catching up: {} {}", user.username, page.status, page.body));
                break;
            }
            for m in page.body["items"].as_array().unwrap() {
                held.insert(m["seq"].as_i64().unwrap());
                log.caught_up.push(m["id"].as_str().unwrap().to_owned());
            }
            match page.body["next_cursor"].as_str() {
                Some(c) => next = format!("/api/v1/chats/{group}/messages?after={upto}&limit=100&cursor={c}"),
                None => break,
            }
        }
        advance(&held, &mut upto);
        let code = loop {
            let frame = tokio::select! {
                f = stream.next() => f,
                _ = tokio::time::sleep(Duration::from_millis(100)) => {
                    if stop.load(Ordering::SeqCst) { return log } else { continue }
                }
            };
            match frame {
                Some(Ok(Message::Text(text))) => {
                    let event: Value = serde_json::from_str(&text).unwrap();
                    if event["type"] == "message.created" && event["chat_id"] == group.as_str() {
                        held.insert(event["message"]["seq"].as_i64().unwrap());
                        advance(&held, &mut upto);
                        log.live.push(event["message"]["id"].as_str().unwrap().to_owned());
                    }
                }
                Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break None,
            }
        };
        closed_at = Some((Instant::now(), code));
        // The app's rule: at once after 1012 (a restart), else after a backoff.
        if code != Some(1012) {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    log
}

#[tokio::test]
#[ignore = "needs PostgreSQL, Redis and nginx; CI's PostgreSQL + Redis pass runs it"]
async fn a_rolling_restart_behind_nginx_is_noticed_by_nobody() {
    let llm = FakeLlm::start(Mode::Answer("Good morning! Tell me about your last job. ".repeat(2))).await;
    llm.set_chunk_delay(Duration::from_millis(40));
    let port = free_ports(1);
    let cluster = Cluster::start(port, &llm.base_url).await;

    let base = format!("http://127.0.0.1:{port}");
    let settings = test_settings(&tempfile::tempdir().unwrap());
    let app = Arc::new(client_of(base, settings));
    // A group of 20 people, each with a socket open; one more learner talks to the bot.
    let owner = app.signup("host").await;
    let mut members = vec![owner.clone()];
    for i in 1..20 {
        let user = app.signup(&format!("member{i}")).await;
        app.befriend(&owner, &user).await;
        members.push(user);
    }
    let ids: Vec<String> = members[1..].iter().map(|u| u.id.to_string()).collect();
    let group = app
        .post(
            "/api/v1/chats",
            &owner.access,
            json!({"kind": "group", "title": "Night shift", "member_ids": ids}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let learner = app.signup("learner").await;
    let bot_chat = app.bot_chat(&learner, None).await;

    let stop = Arc::new(AtomicBool::new(false));
    let sockets_stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Seen::default());
    let sockets: Vec<_> = members
        .iter()
        .map(|user| {
            tokio::spawn(socket_client(
                app.clone(),
                format!("ws://127.0.0.1:{port}"),
                user.clone(),
                group.clone(),
                sockets_stop.clone(),
                seen.clone(),
            ))
        })
        .collect();
    let mut load = Vec::new();
    // Posts with an Idempotency-Key, from four members.
    for poster in members[1..5].iter().cloned() {
        let (app, group, stop, seen) = (app.clone(), group.clone(), stop.clone(), seen.clone());
        load.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                let content = format!("{} says {i}", poster.username);
                let resp = app
                    .client
                    .post(app.url(&format!("/api/v1/chats/{group}/messages")))
                    .bearer_auth(&poster.access)
                    .header("Idempotency-Key", Uuid::now_v7().to_string())
                    .json(&json!({"content": content}))
                    .send()
                    .await;
                match resp {
                    Ok(r) if r.status() == 201 => {
                        let body: Value = r.json().await.unwrap();
                        let id = body["id"].as_str().unwrap().to_owned();
                        seen.posted.lock().unwrap().insert(id, content);
                    }
                    Ok(r) => seen.fail(format!("post: {} {}", r.status(), r.text().await.unwrap_or_default())),
                    Err(e) => seen.fail(format!("post: {e}")),
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }));
    }
    // Pages of history, sign-ins, and bot replies streamed one after another.
    {
        let (app, group, stop, seen, reader) = (app.clone(), group.clone(), stop.clone(), seen.clone(), owner.clone());
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let r = app
                    .call(
                        reqwest::Method::GET,
                        &format!("/api/v1/chats/{group}/messages?limit=50"),
                        Some(&reader.access),
                        None,
                    )
                    .await;
                match r.status.as_u16() {
                    200 => seen.pages.fetch_add(1, Ordering::SeqCst),
                    s => {
                        seen.fail(format!("page: {s} {}", r.body));
                        0
                    }
                };
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    {
        let (app, stop, seen, who) = (app.clone(), stop.clone(), seen.clone(), members[6].clone());
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let r = app.login(&who.username, &who.password).await;
                match r.status.as_u16() {
                    200 => seen.logins.fetch_add(1, Ordering::SeqCst),
                    s => {
                        seen.fail(format!("login: {s} {}", r.body));
                        0
                    }
                };
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }));
    }
    {
        let (app, stop, seen, learner, chat) = (
            app.clone(),
            stop.clone(),
            seen.clone(),
            learner.clone(),
            bot_chat.clone(),
        );
        load.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                let resp = app
                    .client
                    .post(app.url(&format!("/api/v1/chats/{chat}/messages/stream")))
                    .bearer_auth(&learner.access)
                    .header("Idempotency-Key", Uuid::now_v7().to_string())
                    .json(&json!({"content": format!("Question number {i}, please.")}))
                    .send()
                    .await;
                let text = match resp {
                    Ok(r) if r.status() == 200 => r.text().await,
                    // After a failure, a pause: the log then shows the first
                    // failure, not a thousand repeats of it.
                    Ok(r) => {
                        seen.fail(format!("stream: {} {}", r.status(), r.text().await.unwrap_or_default()));
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                    Err(e) => {
                        seen.fail(format!("stream: {e}"));
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                match text {
                    Ok(body) if parse_sse(&body).iter().any(|e| e.event == "done") => {
                        seen.streams.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(body) => seen.fail(format!("stream ended without done: {body}")),
                    Err(e) => seen.fail(format!("stream cut: {e}")),
                }
            }
        }));
    }

    // Steady load first, then each instance restarted in turn, then more load.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = seen.posted.lock().unwrap().len();
    let restart = Instant::now();
    cluster.run(&["restart"]).await;
    let restart_took = restart.elapsed();
    let during = seen.posted.lock().unwrap().len() - before;
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::SeqCst);
    for task in load {
        task.await.unwrap();
    }
    // Events of the last posts reach the sockets.
    tokio::time::sleep(Duration::from_secs(1)).await;
    sockets_stop.store(true, Ordering::SeqCst);
    let logs: Vec<SocketLog> = futures_util::future::join_all(sockets)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();

    let failures = seen.failures.lock().unwrap().clone();
    assert!(
        failures.is_empty(),
        "clients saw {} failures, the first: {:#?}\nnginx's error log, each message once:\n{}",
        failures.len(),
        &failures[..failures.len().min(20)],
        cluster.nginx_errors(30)
    );
    assert!(during >= 20, "the load went on during the restart ({during} posts)");
    assert!(seen.streams.load(Ordering::SeqCst) >= 3, "bot replies streamed");
    assert!(seen.logins.load(Ordering::SeqCst) >= 10 && seen.pages.load(Ordering::SeqCst) >= 20);

    // Each acknowledged post is in the history exactly once, and nothing else is.
    let posted = seen.posted.lock().unwrap().clone();
    let history: Vec<Value> = app
        .all_pages(&format!("/api/v1/chats/{group}/messages?limit=100"), &owner.access)
        .await
        .into_iter()
        .filter(|m| m["role"] == "user")
        .collect();
    let mut contents = HashSet::new();
    for m in &history {
        assert!(
            contents.insert(m["content"].as_str().unwrap().to_owned()),
            "stored twice: {m}"
        );
        let id = m["id"].as_str().unwrap();
        assert_eq!(posted.get(id).map(String::as_str), m["content"].as_str(), "{m}");
    }
    assert_eq!(history.len(), posted.len(), "every acknowledged post is stored");

    // Every socket was closed with 1012 and back within 2 s, and after
    // catching up it had every message, none of them twice live.
    for (user, log) in members.iter().zip(&logs) {
        assert!(!log.closes.is_empty(), "{}'s socket was never restarted", user.username);
        for (code, took) in &log.closes {
            assert_eq!(*code, Some(1012), "{}'s socket closed otherwise", user.username);
            assert!(
                *took < Duration::from_secs(2),
                "{} was back after {took:?}",
                user.username
            );
        }
        let live: HashSet<&String> = log.live.iter().collect();
        assert_eq!(live.len(), log.live.len(), "{} got an event twice", user.username);
        let all: HashSet<String> = log.live.iter().chain(&log.caught_up).cloned().collect();
        let missing: Vec<i64> = history
            .iter()
            .filter(|m| !all.contains(m["id"].as_str().unwrap()))
            .map(|m| m["seq"].as_i64().unwrap())
            .collect();
        assert!(
            missing.is_empty(),
            "{} misses the messages numbered {missing:?} (closes: {:?})",
            user.username,
            log.closes
        );
    }

    // The quota counts each reply once: no unit left in flight, none lost.
    let streams = seen.streams.load(Ordering::SeqCst);
    let quota = app.get("/api/v1/bot/quota", &learner.access).await.expect(200);
    assert_eq!(quota["used"], streams, "{quota}");
    let turns = app
        .all_pages(&format!("/api/v1/chats/{bot_chat}/messages?limit=100"), &learner.access)
        .await;
    assert_eq!(turns.iter().filter(|m| m["role"] == "user").count(), streams);
    assert_eq!(turns.iter().filter(|m| m["role"] == "assistant").count(), streams);
    eprintln!(
        "rolling restart: {restart_took:?}; {} posts ({during} during the restart), {streams} bot replies, {} sign-ins, {} pages; {} socket reconnects",
        posted.len(),
        seen.logins.load(Ordering::SeqCst),
        seen.pages.load(Ordering::SeqCst),
        logs.iter().map(|l| l.closes.len()).sum::<usize>()
    );
    drop(cluster);
}

#[tokio::test]
#[ignore = "needs PostgreSQL, Redis and nginx; CI's PostgreSQL + Redis pass runs it"]
async fn an_instance_back_after_all_were_down_is_served_at_once() {
    // nginx leaves an instance that refused a connection out for fail_timeout
    // (5 s). When every instance refused, the backup lines (the same
    // instances, never left out) are what lets it serve the first one back
    // at once instead of answering 502 "no live upstreams" until then.
    let port = free_ports(1);
    let cluster = Cluster::start(port, "http://127.0.0.1:9/v1").await;
    // New connections each time, so the requests reach both nginx workers
    // (each keeps its own count of failures).
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let through_nginx = || async {
        let resp = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            .unwrap();
        resp.status().as_u16()
    };
    assert_eq!(through_nginx().await, 200);

    cluster.kill(1).await;
    cluster.kill(2).await;
    for _ in 0..10 {
        assert_eq!(through_nginx().await, 502, "no instance runs");
    }
    let refused = Instant::now();
    // `restart` starts each again in turn (the first one right away).
    let restart = {
        let env = cluster.env.clone();
        tokio::spawn(async move { Cluster::run_with(&env, &["restart"]).await })
    };
    let first = cluster.instance_port(1);
    let ready = |port: u16| async move {
        let url = format!("http://127.0.0.1:{port}/readyz");
        matches!(reqwest::get(url).await, Ok(r) if r.status() == 200)
    };
    while !ready(first).await {
        assert!(
            refused.elapsed() < Duration::from_secs(60),
            "instance 1 never came back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let back = refused.elapsed();
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(through_nginx().await);
    }
    assert!(
        statuses.iter().all(|&s| s == 200),
        "instance 1 was back {back:?} after both refused, and nginx answered {statuses:?}\n{}",
        cluster.nginx_errors(20)
    );
    if back >= Duration::from_secs(4) {
        eprintln!("instance 1 took {back:?} to start: about nginx's fail_timeout, so this run could not tell");
    }
    restart.await.unwrap();
}
