//! `Idempotency-Key` on message posts: retries return the first result.
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    fake_llm::{FakeLlm, Mode},
    helpers::{parse_sse, spawn_app, spawn_app_with_bot, Reply, Sse, TestApp, TestUser},
};

/// A message post (`path` after the chat id: "" or "/stream") with an `Idempotency-Key`.
async fn send(app: &TestApp, user: &TestUser, chat: &str, path: &str, content: &str, key: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/chats/{chat}/messages{path}")))
        .bearer_auth(&user.access)
        .header("Idempotency-Key", key)
        .json(&json!({"content": content}))
        .send()
        .await
        .unwrap()
}

async fn post(app: &TestApp, user: &TestUser, chat: &str, content: &str, key: &str) -> Reply {
    let resp = send(app, user, chat, "", content, key).await;
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.json().await.unwrap_or(Value::Null);
    Reply { status, headers, body }
}

async fn stream(app: &TestApp, user: &TestUser, chat: &str, content: &str, key: &str) -> (StatusCode, Vec<Sse>) {
    let resp = send(app, user, chat, "/stream", content, key).await;
    let status = resp.status();
    (status, parse_sse(&resp.text().await.unwrap()))
}

async fn history(app: &TestApp, user: &TestUser, chat: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/chats/{chat}/messages"), &user.access)
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn a_repeated_direct_post_with_the_same_key_is_stored_once() {
    let app = spawn_app().await;
    let ann = app.signup("idem_ann").await;
    let ben = app.signup("idem_ben").await;
    let cat = app.signup("idem_cat").await;
    let chat = app.direct_chat(&ann, &ben).await;
    let other = app.direct_chat(&ann, &cat).await;

    let first = post(&app, &ann, &chat, "See you at six", "key-1").await.expect(201);
    let again = post(&app, &ann, &chat, "  See you at six ", "key-1").await.expect(201);
    assert_eq!(again, first, "the same message, not a new one");
    assert_eq!(history(&app, &ann, &chat).await.len(), 1);

    let err = post(&app, &ann, &chat, "Something else", "key-1")
        .await
        .expect_error(409, "conflict");
    assert!(err["message"].as_str().unwrap().contains("different message"), "{err}");
    let err = post(&app, &ann, &other, "See you at six", "key-1")
        .await
        .expect_error(409, "conflict");
    assert!(err["message"].as_str().unwrap().contains("another chat"), "{err}");
    // Keys are per user.
    post(&app, &ben, &chat, "See you at six", "key-1").await.expect(201);
    assert_eq!(history(&app, &ann, &chat).await.len(), 2);

    for bad in ["", "has space", &"k".repeat(201), "ключ"] {
        let err = post(&app, &ann, &chat, "Hi", bad).await;
        assert_eq!(err.status, 400, "{bad:?}: {:?}", err.body);
        assert_eq!(err.body["field"], "Idempotency-Key");
    }
}

#[tokio::test]
async fn a_bot_post_retried_after_a_refunded_failure_runs_once_more_and_then_replays() {
    let llm = FakeLlm::start(Mode::Status(500)).await;
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("idem_bot").await;
    let chat = app.bot_chat(&user, None).await;
    post(&app, &user, &chat, "I goed home", "turn-1")
        .await
        .expect_error(502, "bot_upstream_error");
    assert!(
        history(&app, &user, &chat).await.is_empty(),
        "the refunded turn is gone"
    );

    llm.set_mode(Mode::Answer("Welcome back!".into()));
    let first = post(&app, &user, &chat, "I goed home", "turn-1").await.expect(201);
    assert_eq!(first["quota"]["used"], 1);
    let calls = llm.calls();
    let again = post(&app, &user, &chat, "I goed home", "turn-1").await.expect(201);
    assert_eq!(again["message"]["id"], first["message"]["id"]);
    assert_eq!(again["reply"]["id"], first["reply"]["id"]);
    assert_eq!(again["quota"]["used"], 1, "a replay is not counted");
    assert_eq!(llm.calls(), calls, "and does not call the model");
    assert_eq!(history(&app, &user, &chat).await.len(), 2);

    // The streamed endpoint replays the same exchange as `message` then `done`.
    let (status, events) = stream(&app, &user, &chat, "I goed home", "turn-1").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names, ["message", "done"]);
    assert_eq!(events[0].data["id"], first["message"]["id"]);
    assert_eq!(events[1].data["reply"]["id"], first["reply"]["id"]);
    assert_eq!(llm.calls(), calls);
}

#[tokio::test]
async fn a_retry_while_the_first_request_is_still_answered_gets_409() {
    let llm = FakeLlm::start(Mode::Answer("A long and slow answer that takes its time.".into())).await;
    llm.set_chunk_delay(Duration::from_millis(150));
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("idem_slow").await;
    let chat = app.bot_chat(&user, None).await;
    let first = {
        let (app, user, chat) = (&app, &user, &chat);
        async move { stream(app, user, chat, "Tell me a story", "slow-1").await }
    };
    let second = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        post(&app, &user, &chat, "Tell me a story", "slow-1").await
    };
    let ((status, events), retry) = tokio::join!(first, second);
    assert_eq!(status, 200);
    assert_eq!(events.last().unwrap().event, "done");
    let err = retry.expect_error(409, "conflict");
    assert!(
        err["message"].as_str().unwrap().contains("still being processed"),
        "{err}"
    );
    // Once answered, the same key replays it.
    let replay = post(&app, &user, &chat, "Tell me a story", "slow-1").await.expect(201);
    assert_eq!(replay["reply"]["id"], events.last().unwrap().data["reply"]["id"]);
    assert_eq!(replay["quota"]["used"], 1);
}

#[tokio::test]
async fn a_key_older_than_a_day_is_forgotten() {
    use sea_orm::{prelude::Expr, EntityTrait};
    let app = spawn_app().await;
    let ann = app.signup("idem_old_a").await;
    let ben = app.signup("idem_old_b").await;
    let cat = app.signup("idem_old_c").await;
    let chat = app.direct_chat(&ann, &ben).await;
    let other = app.direct_chat(&ann, &cat).await;
    let first = post(&app, &ann, &chat, "Good morning", "daily").await.expect(201);
    // A day and a minute later (the purge has not run yet).
    let db = chattconnect::db::Db::connect(&app.settings).await.unwrap();
    chattconnect::entity::idempotency_key::Entity::update_many()
        .col_expr(
            chattconnect::entity::idempotency_key::Column::CreatedAt,
            Expr::value(chattconnect::db::now() - chrono::Duration::minutes(24 * 60 + 1)),
        )
        .exec(db.w())
        .await
        .unwrap();
    // The same key now starts a new message, even in another chat.
    let again = post(&app, &ann, &other, "Good morning", "daily").await.expect(201);
    assert_ne!(again["id"], first["id"]);
    assert_eq!(history(&app, &ann, &other).await.len(), 1);
    let replay = post(&app, &ann, &other, "Good morning", "daily").await.expect(201);
    assert_eq!(replay["id"], again["id"]);
}
