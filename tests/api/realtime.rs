use std::time::Duration;

use futures_util::{future::join_all, SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    connect_async,
    tungstenite::{client::IntoClientRequest, Message},
    MaybeTlsStream, WebSocketStream,
};

use crate::helpers::{spawn_app, spawn_app_with, TestApp, TestUser};

pub struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Ws {
    pub async fn open(app: &TestApp, token: &str) -> Ws {
        let url = format!("ws://127.0.0.1:{}/api/v1/ws?access_token={token}", app.port());
        let (stream, _) = connect_async(url).await.expect("websocket connects");
        Ws { stream }
    }

    /// The next JSON event within `wait`, or `None`.
    pub async fn next(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.stream.next()).await.ok()??;
            match frame.ok()? {
                Message::Text(text) => return serde_json::from_str(&text).ok(),
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// Waits for an event of `kind`, skipping others.
    pub async fn expect(&mut self, kind: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(event) if event["type"] == kind => return event,
                Some(_) => continue,
                None => panic!("no {kind} event arrived"),
            }
        }
    }

    /// Asserts that no event at all arrives within `wait`.
    pub async fn expect_nothing(&mut self, wait: Duration) {
        if let Some(event) = self.next(wait).await {
            panic!("unexpected event {event}");
        }
    }

    /// Asserts that no event other than presence arrives within `wait`.
    pub async fn expect_silence(&mut self, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return;
            }
            if let Some(event) = self.next(left).await {
                assert_eq!(event["type"], "presence", "unexpected event {event}");
            }
        }
    }

    /// Waits for the server to close the socket; returns the close code.
    pub async fn close_code(&mut self, wait: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await.ok()? {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }

    pub async fn send(&mut self, event: Value) {
        self.stream.send(Message::Text(event.to_string().into())).await.unwrap();
    }
}

impl TestApp {
    pub fn port(&self) -> u16 {
        self.address.rsplit(':').next().unwrap().parse().unwrap()
    }
}

async fn friends_in_chat(app: &TestApp) -> (TestUser, TestUser, String) {
    let a = app.signup("alina").await;
    let b = app.signup("bruno").await;
    let chat = app.direct_chat(&a, &b).await;
    (a, b, chat)
}

#[tokio::test]
async fn two_friends_see_messages_typing_read_receipts_and_presence() {
    let app = spawn_app().await;
    let (a, b, chat) = friends_in_chat(&app).await;
    let mut wa = Ws::open(&app, &a.access).await;
    let mut wb = Ws::open(&app, &b.access).await;
    // A sees B come online.
    let presence = wa.expect("presence").await;
    assert_eq!(
        (presence["user_id"].as_str(), &presence["online"]),
        (Some(b.id.to_string().as_str()), &json!(true))
    );
    let peer = app.get(&format!("/api/v1/users/{}", b.id), &a.access).await.expect(200);
    assert_eq!(peer["online"], true);

    let sent = app.send(&a, &chat, "Hi Bruno!").await;
    let created = wb.expect("message.created").await;
    assert_eq!(created["chat_id"], chat);
    assert_eq!(created["message"]["content"], "Hi Bruno!");
    // The sender's own socket hears it too (for their other tabs).
    assert_eq!(wa.expect("message.created").await["message"]["id"], sent["id"]);

    wb.send(json!({"type": "typing", "chat_id": chat})).await;
    let typing = wa.expect("typing").await;
    assert_eq!(
        (typing["chat_id"].as_str(), typing["user_id"].as_str()),
        (Some(chat.as_str()), Some(b.id.to_string().as_str()))
    );

    app.post(
        &format!("/api/v1/chats/{chat}/read"),
        &b.access,
        json!({"message_id": sent["id"]}),
    )
    .await;
    let read = wa.expect("read").await;
    assert_eq!(read["user_id"], b.id.to_string());
    assert_eq!(read["message_id"], sent["id"]);

    // Read receipts also work over the socket.
    let second = app.send(&a, &chat, "Still there?").await;
    wb.send(json!({"type": "read", "chat_id": chat, "message_id": second["id"]}))
        .await;
    assert_eq!(wa.expect("read").await["message_id"], second["id"]);
    let chat_view = app.get(&format!("/api/v1/chats/{chat}"), &b.access).await.expect(200);
    assert_eq!(chat_view["unread_count"], 0);

    let edited = app
        .patch(
            &format!("/api/v1/chats/{chat}/messages/{}", sent["id"].as_str().unwrap()),
            &a.access,
            json!({"content": "Hi, Bruno!"}),
        )
        .await
        .expect(200);
    assert_eq!(
        wb.expect("message.updated").await["message"]["content"],
        edited["content"]
    );
    app.delete(
        &format!("/api/v1/chats/{chat}/messages/{}", sent["id"].as_str().unwrap()),
        &a.access,
    )
    .await;
    assert_eq!(wb.expect("message.deleted").await["message_id"], sent["id"]);

    wa.send(json!({"type": "ping"})).await;
    wa.expect("pong").await;

    // B leaves: A sees B go offline.
    drop(wb);
    let gone = wa.expect("presence").await;
    assert_eq!(gone["online"], false);
    let peer = app.get(&format!("/api/v1/users/{}", b.id), &a.access).await.expect(200);
    assert_eq!(peer["online"], false);
}

#[tokio::test]
async fn a_third_users_socket_receives_none_of_it() {
    let app = spawn_app().await;
    let (a, b, chat) = friends_in_chat(&app).await;
    let outsider = app.signup("carmen").await;
    let mut wo = Ws::open(&app, &outsider.access).await;
    let mut wb = Ws::open(&app, &b.access).await;
    let mut wa = Ws::open(&app, &a.access).await;
    app.send(&a, &chat, "private").await;
    wb.expect("message.created").await;
    wa.send(json!({"type": "typing", "chat_id": chat})).await;
    wb.expect("typing").await;
    // Typing into someone else's chat is ignored.
    wo.send(json!({"type": "typing", "chat_id": chat})).await;
    // Not even presence: they are not friends.
    wo.expect_nothing(Duration::from_millis(700)).await;
    wb.expect_silence(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn every_tab_of_a_user_receives_every_event() {
    let app = spawn_app().await;
    let (a, b, chat) = friends_in_chat(&app).await;
    let mut tab1 = Ws::open(&app, &b.access).await;
    let mut tab2 = Ws::open(&app, &b.access).await;
    app.send(&a, &chat, "to all your tabs").await;
    assert_eq!(
        tab1.expect("message.created").await["message"]["content"],
        "to all your tabs"
    );
    assert_eq!(
        tab2.expect("message.created").await["message"]["content"],
        "to all your tabs"
    );
    // Closing one tab does not make the user look offline.
    let mut wa = Ws::open(&app, &a.access).await;
    drop(tab1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.get(&format!("/api/v1/users/{}", b.id), &a.access).await.expect(200)["online"],
        true
    );
    wa.expect_silence(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn friend_requests_arrive_live_on_both_sides() {
    let app = spawn_app().await;
    let a = app.signup("dora").await;
    let b = app.signup("emil").await;
    let mut wa = Ws::open(&app, &a.access).await;
    let mut wb = Ws::open(&app, &b.access).await;
    app.post("/api/v1/friends", &a.access, json!({"username": "emil"}))
        .await
        .expect(201);
    let incoming = wb.expect("friend").await;
    assert_eq!(incoming["friend"]["status"], "incoming");
    assert_eq!(incoming["friend"]["user"]["username"], "dora");
    assert_eq!(wa.expect("friend").await["friend"]["status"], "outgoing");
    app.post(&format!("/api/v1/friends/{}/accept", a.id), &b.access, json!({}))
        .await
        .expect(200);
    assert_eq!(wa.expect("friend").await["friend"]["status"], "accepted");
    app.delete(&format!("/api/v1/friends/{}", a.id), &b.access).await;
    let removed = wa.expect("friend").await;
    assert_eq!(removed["removed"], true);
}

#[tokio::test]
async fn bad_and_expired_tokens_are_refused_before_the_upgrade() {
    let app = spawn_app_with(|s| s.access_token_ttl_secs = 1).await;
    let user = app.signup("frida").await;
    let url = |t: &str| format!("ws://127.0.0.1:{}/api/v1/ws?access_token={t}", app.port());
    for token in ["", "garbage", "eyJhbGciOiJub25lIn0.e30."] {
        match connect_async(url(token)).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 401),
            other => panic!("expected 401, got {:?}", other.map(|_| ())),
        }
    }
    let missing = format!("ws://127.0.0.1:{}/api/v1/ws", app.port());
    assert!(
        matches!(connect_async(missing).await, Err(tokio_tungstenite::tungstenite::Error::Http(r)) if r.status() == 401)
    );
    // The Authorization header works too.
    let mut req = url("").replace("?access_token=", "").into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {}", user.access).parse().unwrap());
    connect_async(req).await.expect("header auth works");
    // Expired (1 s lifetime plus 5 s leeway).
    tokio::time::sleep(Duration::from_secs(7)).await;
    assert!(
        matches!(connect_async(url(&user.access)).await, Err(tokio_tungstenite::tungstenite::Error::Http(r)) if r.status() == 401)
    );
}

#[tokio::test]
async fn a_socket_closes_when_its_token_expires_unless_renewed() {
    let app = spawn_app_with(|s| s.access_token_ttl_secs = 2).await;
    let (a, b, chat) = friends_in_chat(&app).await;
    let mut stale = Ws::open(&app, &b.access).await;
    let mut renewing = Ws::open(&app, &b.access).await;
    let mut refresh = b.refresh.clone();
    let started = tokio::time::Instant::now();
    // The renewing tab sends fresh tokens; the stale one does not.
    while started.elapsed() < Duration::from_secs(4) {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let pair = app.refresh(&refresh).await.expect(200);
        refresh = pair["refresh_token"].as_str().unwrap().to_owned();
        renewing
            .send(json!({"type": "auth", "access_token": pair["access_token"]}))
            .await;
    }
    // The stale socket was closed with 4001 once its token expired.
    let mut closed_with = None;
    while let Ok(Some(frame)) = tokio::time::timeout(Duration::from_secs(2), stale.stream.next()).await {
        if let Ok(Message::Close(Some(frame))) = frame {
            closed_with = Some(u16::from(frame.code));
            break;
        }
    }
    assert_eq!(closed_with, Some(4001));
    // The renewed one still receives.
    app.send(&a, &chat, "still listening?").await;
    assert_eq!(
        renewing.expect("message.created").await["message"]["content"],
        "still listening?"
    );
}

#[tokio::test]
async fn a_reader_that_stops_reading_does_not_delay_the_others() {
    // A queue longer than one burst of 20 posts (committed together, they are
    // announced together), far shorter than the 2,000 posts.
    let app = spawn_app_with(|s| s.ws_queue_capacity = 32).await;
    let (a, b, chat) = friends_in_chat(&app).await;
    let _stuck = Ws::open(&app, &b.access).await; // never read again
    let mut reader = Ws::open(&app, &b.access).await;
    let body = "x".repeat(1990);
    let total = 2000;
    let started = tokio::time::Instant::now();
    let received = tokio::spawn(async move {
        let mut n = 0;
        while n < total {
            match reader.next(Duration::from_secs(20)).await {
                Some(e) if e["type"] == "message.created" => n += 1,
                Some(_) => {}
                None => break,
            }
        }
        n
    });
    for batch in 0..(total / 20) {
        let texts: Vec<String> = (0..20).map(|i| format!("{batch}-{i} {body}")).collect();
        join_all(texts.iter().map(|t| app.send(&a, &chat, t))).await;
    }
    assert_eq!(received.await.unwrap(), total, "the reading socket got every message");
    assert!(started.elapsed() < Duration::from_secs(30));
    let metrics = app.call(reqwest::Method::GET, "/metrics", None, None).await.body;
    let text = metrics.as_str().unwrap();
    assert!(
        text.contains("chattconnect_ws_dropped_slow_total 1"),
        "the stuck socket was dropped: {text}"
    );
}

/// Two instances sharing the database and Redis: an event raised on one reaches
/// a socket on the other.
#[tokio::test]
#[ignore = "needs TEST_REDIS_URL; CI's PostgreSQL + Redis run includes it"]
async fn a_message_posted_on_one_instance_reaches_a_socket_on_another() {
    let (one, two) = two_instances_sharing_redis().await;
    let (a, b, chat) = friends_in_chat(&one).await;
    let mut on_two = Ws::open(&two, &b.access).await;
    let mut on_one = Ws::open(&one, &a.access).await;
    // Presence crosses instances too.
    assert_eq!(on_one.expect("presence").await["online"], true);
    assert_eq!(
        one.get(&format!("/api/v1/users/{}", b.id), &a.access).await.expect(200)["online"],
        true
    );
    one.send(&a, &chat, "across instances").await;
    assert_eq!(
        on_two.expect("message.created").await["message"]["content"],
        "across instances"
    );
    on_two.send(json!({"type": "typing", "chat_id": chat})).await;
    on_one.expect("typing").await;
}

#[tokio::test]
async fn an_instance_whose_redis_is_away_still_serves_its_own_sockets() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let app = spawn_app_with(|s| s.redis_url = Some(format!("redis://127.0.0.1:{port}"))).await;
    let (a, b, chat) = friends_in_chat(&app).await;
    let mut wb = Ws::open(&app, &b.access).await;
    app.send(&a, &chat, "no Redis needed").await;
    assert_eq!(
        wb.expect("message.created").await["message"]["content"],
        "no Redis needed"
    );
    // Not ready: its events would reach only its own sockets, so a load
    // balancer should send its users to an instance that has the bus.
    let ready = app.call(reqwest::Method::GET, "/readyz", None, None).await.expect(503);
    assert_eq!(ready["realtime_bus"], "down", "{ready}");
    assert_eq!(ready["status"], "realtime bus unreachable", "{ready}");
    assert_eq!(ready["database"], "up", "{ready}");
}

#[tokio::test]
async fn a_client_frame_over_64_kib_closes_that_socket_only() {
    let app = spawn_app().await;
    let (a, b, chat) = friends_in_chat(&app).await;
    let mut flooder = Ws::open(&app, &a.access).await;
    let mut wb = Ws::open(&app, &b.access).await;
    let _ = flooder.stream.send(Message::Text("x".repeat(70 * 1024).into())).await;
    let mut closed = false;
    while let Ok(Some(frame)) = tokio::time::timeout(Duration::from_secs(3), flooder.stream.next()).await {
        if matches!(frame, Err(_) | Ok(Message::Close(_))) {
            closed = true;
            break;
        }
    }
    assert!(closed, "the oversized frame ended the connection");
    app.send(&a, &chat, "still fine").await;
    assert_eq!(wb.expect("message.created").await["message"]["content"], "still fine");
}

#[tokio::test]
async fn a_client_that_stops_answering_pings_is_disconnected() {
    let app = spawn_app_with(|s| {
        s.ws_ping_interval_secs = 1;
        s.ws_idle_timeout_secs = 1;
    })
    .await;
    let user = app.signup("sleepy").await;
    let mut ws = Ws::open(&app, &user.access).await;
    // Not reading means not answering the server's pings.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut ended = false;
    while let Ok(next) = tokio::time::timeout(Duration::from_secs(2), ws.stream.next()).await {
        match next {
            None | Some(Err(_)) | Some(Ok(Message::Close(_))) => {
                ended = true;
                break;
            }
            Some(Ok(_)) => continue,
        }
    }
    assert!(ended, "the idle socket was closed by the server");
}

/// A Redis server of the test's own, so that it can be killed and restarted
/// without disturbing the tests that share the machine's Redis.
struct OwnRedis {
    port: u16,
    child: std::process::Child,
}

impl OwnRedis {
    fn start(port: u16) -> OwnRedis {
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed (CI installs it)");
        OwnRedis { port, child }
    }

    async fn ready(&self) {
        for _ in 0..50 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("redis-server did not start");
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// When Redis comes back after an outage, every socket is told to resync, and
/// presence (which lived in the lost Redis) is right again.
#[tokio::test]
#[ignore = "needs redis-server; CI's PostgreSQL + Redis run includes it"]
async fn after_a_redis_restart_sockets_resync_and_presence_is_right() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut redis = OwnRedis::start(port);
    redis.ready().await;
    let url = format!("redis://127.0.0.1:{port}");
    let one = spawn_app_with(|s| s.redis_url = Some(url.clone())).await;
    let two = one.another_instance().await;
    let (a, b, chat) = friends_in_chat(&one).await;
    let mut wa = Ws::open(&one, &a.access).await;
    let mut wb = Ws::open(&two, &b.access).await;
    assert_eq!(wa.expect("presence").await["online"], true);

    redis.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let redis = OwnRedis::start(port);
    redis.ready().await;

    for ws in [&mut wa, &mut wb] {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match ws.next(left).await {
                Some(event) if event["type"] == "resync" => break,
                Some(_) => continue,
                None => panic!("no resync after Redis came back"),
            }
        }
    }
    // Presence was written again: each sees the other online, across instances.
    let path = format!("/api/v1/users/{}", a.id);
    assert_eq!(two.get(&path, &b.access).await.expect(200)["online"], true);
    let path = format!("/api/v1/users/{}", b.id);
    assert_eq!(one.get(&path, &a.access).await.expect(200)["online"], true);
    // And events cross instances again.
    one.send(&a, &chat, "after the outage").await;
    assert_eq!(
        wb.expect("message.created").await["message"]["content"],
        "after the outage"
    );
    drop(redis);
}

/// A password change on one instance ends the sessions on the others at once
/// (their session caches are cleared through Redis), sockets included.
#[tokio::test]
#[ignore = "needs TEST_REDIS_URL; CI's PostgreSQL + Redis run includes it"]
async fn a_session_ended_on_one_instance_is_refused_on_another_at_once() {
    let (one, two) = two_instances_sharing_redis().await;
    let user = one.signup("roamer").await;
    // Instance two has checked (and cached) the session.
    two.get("/api/v1/me", &user.access).await.expect(200);
    let mut ws = Ws::open(&two, &user.access).await;
    ws.send(json!({"type": "ping"})).await;
    ws.expect("pong").await;
    one.put(
        "/api/v1/me/password",
        &user.access,
        json!({"current_password": user.password, "new_password": "another-password"}),
    )
    .await
    .expect(204);
    assert_eq!(ws.close_code(Duration::from_secs(5)).await, Some(4001));
    two.get("/api/v1/me", &user.access)
        .await
        .expect_error(401, "unauthorized");
}

/// Profiles are cached for `session_cache_secs`; a change on one instance is
/// seen at once on another through the bus.
#[tokio::test]
#[ignore = "needs TEST_REDIS_URL; CI's PostgreSQL + Redis run includes it"]
async fn a_profile_changed_on_one_instance_is_seen_at_once_on_another() {
    let (one, two) = two_instances_sharing_redis().await;
    let user = one.signup("changing").await;
    // Both instances have read the profile.
    for app in [&one, &two] {
        assert_eq!(app.get("/api/v1/me", &user.access).await.expect(200)["level"], "B1");
    }
    one.patch(
        "/api/v1/me",
        &user.access,
        json!({"display_name": "Changed Name", "level": "C1"}),
    )
    .await
    .expect(200);
    assert_eq!(
        one.get("/api/v1/me", &user.access).await.expect(200)["display_name"],
        "Changed Name"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let me = two.get("/api/v1/me", &user.access).await.expect(200);
        if me["display_name"] == "Changed Name" {
            assert_eq!(me["level"], "C1");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "instance two still shows {me}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Two instances sharing the database and Redis (on a bus of their own), with
/// caches that would outlive any test: what crosses must cross through Redis.
async fn two_instances_sharing_redis() -> (TestApp, TestApp) {
    let redis = std::env::var("TEST_REDIS_URL").expect("TEST_REDIS_URL is set");
    let prefix = format!("test-{}", uuid::Uuid::now_v7().simple());
    let one = spawn_app_with(|s| {
        s.redis_url = Some(redis.clone());
        s.redis_prefix = prefix.clone();
        s.session_cache_secs = 600;
    })
    .await;
    let two = one.another_instance().await;
    (one, two)
}
