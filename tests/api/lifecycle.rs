//! Graceful restarts: on its stop signal an instance drains (`/readyz` 503,
//! still serving), closes its listener and its sockets (1012), lets requests
//! in flight finish, and settles the bot quota it still holds.
use std::time::Duration;

use reqwest::Method;
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::{
    fake_llm::{FakeLlm, Mode},
    helpers::{spawn_app_with, spawn_app_with_bot},
    realtime::Ws,
};

#[tokio::test]
async fn on_its_stop_signal_an_instance_answers_readyz_503_at_once_but_still_serves() {
    let mut app = spawn_app_with(|s| s.shutdown_grace_secs = 3).await;
    let user = app.signup("drainer").await;
    let ready = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, 200);
    assert_ne!(
        ready.headers.get("connection").map(|v| v.to_str().unwrap()),
        Some("close")
    );

    app.begin_stop();
    let mut draining = app.call(Method::GET, "/readyz", None, None).await;
    for _ in 0..50 {
        if draining.status == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        draining = app.call(Method::GET, "/readyz", None, None).await;
    }
    assert_eq!(draining.status, 503);
    assert_eq!(draining.body["status"], "draining", "{}", draining.body);
    // Everything else is still answered, on connections that then close, so a
    // proxy keeps none of them for later.
    let me = app.call(Method::GET, "/api/v1/me", Some(&user.access), None).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.headers["connection"], "close");

    app.stop().await;
    let after = app.client.get(app.url("/healthz")).send().await;
    assert!(after.is_err(), "the listener is closed once the instance stopped");
}

#[tokio::test]
async fn sockets_are_closed_with_1012_while_a_bot_stream_in_flight_finishes() {
    let answer = "Sure, let us practise a job interview together. ".repeat(3);
    let llm = FakeLlm::start(Mode::Answer(answer.clone())).await;
    llm.set_chunk_delay(Duration::from_millis(60));
    let mut app = spawn_app_with_bot(&llm, |s| {
        s.shutdown_grace_secs = 0;
        s.shutdown_timeout_secs = 30;
    })
    .await;
    let user = app.signup("streamer").await;
    let chat = app.bot_chat(&user, None).await;
    let mut ws = Ws::open(&app, &user.access).await;
    let mut stream = app.open_stream(&user, &chat, "Can we practise?").await;
    stream.until(|events| events.iter().any(|e| e.event == "delta")).await;

    app.begin_stop();
    assert_eq!(ws.close_code(Duration::from_secs(3)).await, Some(1012));
    // The listener is closed: a new client is refused, so a proxy tries another instance.
    assert!(app.client.get(app.url("/healthz")).send().await.is_err());
    // The reply that had started is streamed to its end.
    let events = stream.until(|events| events.iter().any(|e| e.event == "done")).await;
    let said: String = events
        .iter()
        .filter(|e| e.event == "delta")
        .filter_map(|e| e.data["text"].as_str())
        .collect();
    assert_eq!(said.trim(), answer.trim());
    app.stop().await;
}

#[tokio::test]
async fn bot_quota_held_by_a_stream_cut_off_by_the_shutdown_is_settled_before_exit() {
    let llm = FakeLlm::start(Mode::StallAfter("Well, let me think about".into())).await;
    let mut app = spawn_app_with_bot(&llm, |s| {
        s.shutdown_grace_secs = 0;
        s.shutdown_timeout_secs = 1;
        s.bot_total_timeout_secs = 600;
    })
    .await;
    let user = app.signup("cutoff").await;
    let chat = app.bot_chat(&user, None).await;
    let mut stream = app.open_stream(&user, &chat, "Tell me a story").await;
    stream.until(|events| events.iter().any(|e| e.event == "delta")).await;
    let db = chattconnect::db::Db::connect(&app.settings).await.unwrap();
    let held = || async {
        chattconnect::entity::bot_reservation::Entity::find()
            .count(db.r())
            .await
            .unwrap()
    };
    assert_eq!(held().await, 1, "the stream holds one unit of quota");
    app.stop().await;
    // No other instance runs: this process settled its own unit as it stopped.
    assert_eq!(held().await, 0, "nothing is left in flight");
    let app = app.restart().await;
    let quota = app.get("/api/v1/bot/quota", &user.access).await.expect(200);
    assert_eq!(quota["used"], 1, "a reply that had started counts, once");
}
