//! What an attacker, a flaky network or an ended session must not get away with.
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{
    fake_llm::{FakeLlm, Mode},
    helpers::{spawn_app, spawn_app_with, spawn_app_with_bot, TestApp},
    realtime::Ws,
};

/// Reads until the server closes the connection; `None` if it is still open after `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at((started + wait).into(), stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_request_head_is_disconnected() {
    let app = spawn_app_with(|s| s.http_header_timeout_secs = 1).await;
    let mut slow = TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    // Trickling bytes does not keep it alive: the deadline is for the whole head.
    let trickle = async {
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if slow.write_all(b"a").await.is_err() {
                break;
            }
        }
    };
    trickle.await;
    let closed = closed_within(&mut slow, Duration::from_secs(3)).await;
    assert!(closed.is_some(), "the slow connection is still open");

    // A connection that sends nothing at all is closed too.
    let mut silent = TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap();
    let closed = closed_within(&mut silent, Duration::from_secs(4)).await;
    assert!(closed.is_some(), "the silent connection is still open");

    // Everyone else is served as usual.
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn connections_over_the_cap_wait_and_are_served_when_a_slot_frees() {
    let app = spawn_app_with(|s| {
        s.max_connections = 2;
        s.http_header_timeout_secs = 1;
    })
    .await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    let _a = TcpStream::connect(&addr).await.unwrap();
    let _b = TcpStream::connect(&addr).await.unwrap();
    // Both slots are held by idle connections until the header timeout frees them.
    let started = Instant::now();
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "the request waited for a free slot ({:?})",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_slow_request_body_gets_408() {
    let app = spawn_app_with(|s| s.http_body_timeout_secs = 1).await;
    let mut conn = TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap();
    conn.write_all(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user",
    )
    .await
    .unwrap();
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut response)).await;
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"error\":\"request_timeout\""), "{text}");
}

#[tokio::test]
async fn one_account_cannot_open_more_sockets_than_allowed() {
    let app = spawn_app_with(|s| s.ws_max_per_user = 3).await;
    let user = app.signup("hoarder").await;
    let other = app.signup("neighbour").await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(Ws::open(&app, &user.access).await);
    }
    let mut refused = Ws::open(&app, &user.access).await;
    assert_eq!(refused.close_code(Duration::from_secs(5)).await, Some(4008));
    // Someone else still gets in, and so does this account once a tab closes.
    let mut neighbour = Ws::open(&app, &other.access).await;
    neighbour.send(json!({"type": "ping"})).await;
    neighbour.expect("pong").await;
    drop(open.pop());
    let mut again = None;
    for _ in 0..50 {
        let mut ws = Ws::open(&app, &user.access).await;
        ws.send(json!({"type": "ping"})).await;
        if ws
            .next(Duration::from_secs(2))
            .await
            .is_some_and(|e| e["type"] == "pong")
        {
            again = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(again.is_some(), "a freed slot can be used again");
}

#[tokio::test]
async fn the_instance_refuses_sockets_over_its_total_cap() {
    let app = spawn_app_with(|s| s.ws_max_connections = 2).await;
    let a = app.signup("first1").await;
    let b = app.signup("second2").await;
    let c = app.signup("third3").await;
    let _wa = Ws::open(&app, &a.access).await;
    let _wb = Ws::open(&app, &b.access).await;
    let mut wc = Ws::open(&app, &c.access).await;
    assert_eq!(wc.close_code(Duration::from_secs(5)).await, Some(1013));
}

#[tokio::test]
async fn a_nul_character_is_refused_everywhere_with_the_field_named() {
    let app = spawn_app().await;
    let nul = "a\u{0}b";
    // No account needed.
    let err = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": nul, "password": "whatever1"})),
        )
        .await
        .expect_error(400, "validation_failed");
    assert_eq!(err["field"], "username");
    let err = app
        .register(json!({"username": "nully", "password": "secret-pass", "display_name": nul}))
        .await
        .expect_error(400, "validation_failed");
    assert_eq!(err["field"], "display_name");

    let a = app.signup("nulsender").await;
    let b = app.signup("nulreader").await;
    let chat = app.direct_chat(&a, &b).await;
    let sent = app.send(&a, &chat, "clean").await;
    let cases = [
        (
            Method::POST,
            format!("/api/v1/chats/{chat}/messages"),
            json!({"content": nul}),
            "content",
        ),
        (
            Method::PATCH,
            format!("/api/v1/chats/{chat}/messages/{}", sent["id"].as_str().unwrap()),
            json!({"content": nul}),
            "content",
        ),
        (
            Method::PATCH,
            "/api/v1/me".into(),
            json!({"display_name": nul}),
            "display_name",
        ),
        (
            Method::POST,
            "/api/v1/chats".into(),
            json!({"kind": "bot", "title": nul}),
            "title",
        ),
        (
            Method::POST,
            "/api/v1/friends".into(),
            json!({"username": nul}),
            "username",
        ),
    ];
    for (method, path, body, field) in cases {
        let err = app
            .call(method.clone(), &path, Some(&a.access), Some(body))
            .await
            .expect_error(400, "validation_failed");
        assert_eq!(err["field"], field, "{method} {path}");
    }
    let err = app
        .get("/api/v1/users?q=a%00b", &a.access)
        .await
        .expect_error(400, "validation_failed");
    assert_eq!(err["field"], "q");
    // Nothing was stored, and the original message is intact.
    let history = app
        .get(&format!("/api/v1/chats/{chat}/messages"), &a.access)
        .await
        .expect(200);
    assert_eq!(history["items"].as_array().unwrap().len(), 1);
    assert_eq!(history["items"][0]["content"], "clean");
}

#[tokio::test]
async fn an_overlong_search_gets_400_not_500() {
    let app = spawn_app().await;
    let user = app.signup("searcher").await;
    let long = "a".repeat(50_000);
    let err = app
        .get(&format!("/api/v1/users?q={long}"), &user.access)
        .await
        .expect_error(400, "validation_failed");
    assert!(err["message"].as_str().unwrap().contains('q'), "{err}");
    let err = app
        .get(&format!("/api/v1/users?q={}", "a".repeat(101)), &user.access)
        .await
        .expect_error(400, "validation_failed");
    assert!(err["message"].as_str().unwrap().contains("100"), "{err}");
    app.get(&format!("/api/v1/users?q={}", "a".repeat(100)), &user.access)
        .await
        .expect(200);
}

#[tokio::test]
async fn after_unfriending_the_chat_is_read_only_for_both() {
    let app = spawn_app().await;
    let e = app.signup("emil").await;
    let f = app.signup("freya").await;
    let chat = app.direct_chat(&e, &f).await;
    let sent = app.send(&e, &chat, "Hello Freya").await;
    let mid = sent["id"].as_str().unwrap().to_owned();
    let mut wf = Ws::open(&app, &f.access).await;

    app.delete(&format!("/api/v1/friends/{}", e.id), &f.access)
        .await
        .expect(204);
    app.delete(&format!("/api/v1/chats/{chat}"), &f.access)
        .await
        .expect(204);

    for user in [&e, &f] {
        app.post(
            &format!("/api/v1/chats/{chat}/messages"),
            &user.access,
            json!({"content": "still there?"}),
        )
        .await
        .expect_error(403, "forbidden");
    }
    app.patch(
        &format!("/api/v1/chats/{chat}/messages/{mid}"),
        &e.access,
        json!({"content": "edited"}),
    )
    .await
    .expect_error(403, "forbidden");
    // Typing frames no longer reach F, and F's chat list stays without the chat.
    let mut we = Ws::open(&app, &e.access).await;
    we.send(json!({"type": "typing", "chat_id": chat})).await;
    while let Some(event) = wf.next(Duration::from_millis(800)).await {
        assert_ne!(event["type"], "typing", "{event}");
        assert_ne!(event["type"], "message.created", "{event}");
    }
    let chats = app.get("/api/v1/chats", &f.access).await.expect(200);
    assert!(chats["items"].as_array().unwrap().is_empty(), "{chats}");
    // The history stays readable.
    let history = app
        .get(&format!("/api/v1/chats/{chat}/messages"), &e.access)
        .await
        .expect(200);
    assert_eq!(history["items"][0]["content"], "Hello Freya");

    // Friends again: the chat opens again.
    app.befriend(&e, &f).await;
    app.send(&e, &chat, "We are back").await;
}

/// Waits until the user's quota shows `used` (the exchange finishes in the background).
async fn wait_for_used(app: &TestApp, token: &str, used: u64) -> serde_json::Value {
    let mut quota = serde_json::Value::Null;
    for _ in 0..60 {
        quota = app.get("/api/v1/bot/quota", token).await.expect(200);
        if quota["used"] == used {
            return quota;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("quota never showed used = {used}: {quota}");
}

/// The model call was cancelled, the unit refunded and nothing stored.
async fn assert_cancelled_and_refunded(app: &TestApp, llm: &FakeLlm, token: &str, chat: &str) {
    for _ in 0..50 {
        if llm.abandoned_requests() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(llm.abandoned_requests(), 1, "the model call was cancelled");
    let quota = wait_for_used(app, token, 0).await;
    assert_eq!(quota["remaining"], 5);
    let history = app
        .get(&format!("/api/v1/chats/{chat}/messages"), token)
        .await
        .expect(200);
    assert!(
        history["items"].as_array().unwrap().is_empty(),
        "nothing stored: {history}"
    );
}

#[tokio::test]
async fn a_plain_bot_request_abandoned_before_the_first_token_is_refunded() {
    let llm = FakeLlm::start(Mode::Stall).await;
    let app = spawn_app_with_bot(&llm, |s| s.bot_first_token_timeout_secs = 30).await;
    let user = app.signup("impatient").await;
    let chat = app.bot_chat(&user, None).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(700))
        .build()
        .unwrap();
    let result = client
        .post(app.url(&format!("/api/v1/chats/{chat}/messages")))
        .bearer_auth(&user.access)
        .json(&json!({"content": "Are you there?"}))
        .send()
        .await;
    assert!(result.is_err(), "the client gave up");
    assert_cancelled_and_refunded(&app, &llm, &user.access, &chat).await;
}

#[tokio::test]
async fn a_streamed_bot_request_abandoned_before_the_first_token_is_refunded() {
    let llm = FakeLlm::start(Mode::Stall).await;
    let app = spawn_app_with_bot(&llm, |s| s.bot_first_token_timeout_secs = 30).await;
    let user = app.signup("streamleaver").await;
    let chat = app.bot_chat(&user, None).await;
    let mut body = app.open_stream(&user, &chat, "Hello?").await;
    // The learner's turn arrives, then nothing while the model is silent.
    let events = body.until(|events| !events.is_empty()).await;
    // The first event is the learner's stored turn (SSE's default event name, `message`).
    assert_eq!(events[0].event, "message");
    assert_eq!(events[0].data["role"], "user", "{:?}", events[0]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(body);
    assert_cancelled_and_refunded(&app, &llm, &user.access, &chat).await;
}

#[tokio::test]
async fn under_a_failing_upstream_nobody_is_told_the_day_is_used_up() {
    let llm = FakeLlm::start(Mode::Status(500)).await;
    llm.set_response_delay(Duration::from_millis(300));
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("unlucky").await;
    let chat = app.bot_chat(&user, None).await;
    let path = format!("/api/v1/chats/{chat}/messages");
    let replies = join_all((0..30).map(|_| app.post(&path, &user.access, json!({"content": "hello"})))).await;
    let mut upstream = 0;
    let mut busy = 0;
    for reply in replies {
        match reply.status.as_u16() {
            502 => upstream += 1,
            429 => {
                assert_eq!(reply.body["error"], "rate_limited", "{}", reply.body);
                let retry: u64 = reply.headers["retry-after"].to_str().unwrap().parse().unwrap();
                assert!(retry <= 5, "a short wait: {retry}");
                busy += 1;
            }
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert!(upstream >= 5 && upstream + busy == 30, "{upstream} × 502, {busy} × 429");
    let quota = app.get("/api/v1/bot/quota", &user.access).await.expect(200);
    assert_eq!(quota["used"], 0, "{quota}");
}

#[tokio::test]
async fn the_day_used_up_still_says_so() {
    let llm = FakeLlm::start(Mode::Answer("Sure!".into())).await;
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("regular").await;
    let chat = app.bot_chat(&user, None).await;
    for _ in 0..5 {
        app.send(&user, &chat, "hi").await;
    }
    app.post(
        &format!("/api/v1/chats/{chat}/messages"),
        &user.access,
        json!({"content": "one more"}),
    )
    .await
    .expect_error(429, "daily_quota_exceeded");
}

#[tokio::test]
async fn a_password_change_ends_every_session_at_once() {
    let app = spawn_app().await;
    let user = app.signup("rotator").await;
    let other_tab = app.login(&user.username, &user.password).await.expect(200);
    let other_access = other_tab["access_token"].as_str().unwrap().to_owned();
    let mut ws = Ws::open(&app, &other_access).await;
    ws.send(json!({"type": "ping"})).await;
    ws.expect("pong").await;

    app.put(
        "/api/v1/me/password",
        &user.access,
        json!({"current_password": user.password, "new_password": "a-brand-new-one"}),
    )
    .await
    .expect(204);
    for token in [&user.access, &other_access] {
        app.get("/api/v1/me", token).await.expect_error(401, "unauthorized");
    }
    assert_eq!(ws.close_code(Duration::from_secs(5)).await, Some(4001));
    // A new sign-in works.
    let fresh = app.login(&user.username, "a-brand-new-one").await.expect(200);
    app.get("/api/v1/me", fresh["access_token"].as_str().unwrap())
        .await
        .expect(200);
}

#[tokio::test]
async fn logout_ends_only_that_session() {
    let app = spawn_app().await;
    let user = app.signup("leaving").await;
    let laptop = app.login(&user.username, &user.password).await.expect(200);
    let laptop_access = laptop["access_token"].as_str().unwrap().to_owned();
    let mut phone_ws = Ws::open(&app, &user.access).await;
    let mut laptop_ws = Ws::open(&app, &laptop_access).await;

    app.call(
        Method::POST,
        "/api/v1/auth/logout",
        None,
        Some(json!({"refresh_token": user.refresh})),
    )
    .await
    .expect(204);
    app.get("/api/v1/me", &user.access)
        .await
        .expect_error(401, "unauthorized");
    assert_eq!(phone_ws.close_code(Duration::from_secs(5)).await, Some(4001));
    app.get("/api/v1/me", &laptop_access).await.expect(200);
    laptop_ws.send(json!({"type": "ping"})).await;
    laptop_ws.expect("pong").await;
    // A signed-out token cannot open a socket either.
    let url = format!("ws://127.0.0.1:{}/api/v1/ws?access_token={}", app.port(), user.access);
    assert!(tokio_tungstenite::connect_async(url).await.is_err());
}

#[tokio::test]
async fn a_token_of_an_account_that_no_longer_exists_gets_401() {
    let app = spawn_app().await;
    let user = app.signup("ghost").await;
    app.delete_user_row(user.id).await;
    for path in [
        "/api/v1/me",
        "/api/v1/chats",
        "/api/v1/friends",
        "/api/v1/bot/quota",
        "/api/v1/users",
    ] {
        app.get(path, &user.access).await.expect_error(401, "unauthorized");
    }
}

#[tokio::test]
async fn presence_is_shown_to_friends_only() {
    let app = spawn_app().await;
    let watched = app.signup("watched").await;
    let friend = app.signup("friendly").await;
    let stranger = app.signup("stranger").await;
    let requester = app.signup("requester").await;
    app.befriend(&watched, &friend).await;
    app.post("/api/v1/friends", &requester.access, json!({"username": "watched"}))
        .await
        .expect(201);
    let mut ws = Ws::open(&app, &watched.access).await;
    ws.send(json!({"type": "ping"})).await;
    ws.expect("pong").await;

    let path = format!("/api/v1/users/{}", watched.id);
    assert_eq!(app.get(&path, &friend.access).await.expect(200)["online"], true);
    assert_eq!(app.get(&path, &watched.access).await.expect(200)["online"], true);
    for outsider in [&stranger, &requester] {
        assert_eq!(app.get(&path, &outsider.access).await.expect(200)["online"], false);
        let found = app.get("/api/v1/users?q=watched", &outsider.access).await.expect(200);
        assert_eq!(found["items"][0]["online"], false, "{found}");
    }
    let outgoing = app
        .get("/api/v1/friends?status=outgoing", &requester.access)
        .await
        .expect(200);
    assert_eq!(outgoing["items"][0]["user"]["online"], false, "{outgoing}");
    let found = app.get("/api/v1/users?q=watched", &friend.access).await.expect(200);
    assert_eq!(found["items"][0]["online"], true);
}

#[tokio::test]
async fn a_deleted_accounts_sockets_are_closed_on_every_instance() {
    let app = spawn_app_with(|s| {
        s.ws_ping_interval_secs = 1;
        s.session_cache_secs = 1;
    })
    .await;
    let other = app.another_instance().await;
    let user = app.signup("vanishing").await;
    let mut here = Ws::open(&app, &user.access).await;
    let mut there = Ws::open(&other, &user.access).await;
    app.delete_user_row(user.id).await;
    for ws in [&mut here, &mut there] {
        assert_eq!(ws.close_code(Duration::from_secs(10)).await, Some(4001));
    }
}

#[tokio::test]
async fn a_query_value_that_is_not_utf8_is_refused_and_named() {
    let app = spawn_app().await;
    let me = app.signup("bytes_in_query").await;
    let refused = app
        .get("/api/v1/users?q=%FF%FE", &me.access)
        .await
        .expect_error(400, "validation_failed");
    assert_eq!(refused["field"], "q", "{refused}");
    // Real UTF-8, percent-encoded, is fine.
    app.get("/api/v1/users?q=%C3%A9", &me.access).await.expect(200);
}

#[tokio::test]
async fn a_bad_value_is_echoed_as_a_short_prefix_only() {
    let app = spawn_app().await;
    let me = app.signup("long_echo").await;
    let scenario = "x".repeat(10_000);
    let refused = app
        .post(
            "/api/v1/chats",
            &me.access,
            json!({"kind": "bot", "scenario_id": scenario}),
        )
        .await
        .expect_error(400, "validation_failed");
    let message = refused["message"].as_str().unwrap();
    assert!(message.len() < 200, "{message}");
    assert!(message.contains(&format!("'{}…'", "x".repeat(40))), "{message}");
}
