//! The server killed with `kill -9` in the middle of work, and started again:
//! keyed retries post exactly once, and bot work the dead process left in
//! flight is ended as the contract says (the turn removed, the unit refunded).
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::{json, Value};

use crate::{
    fake_llm::{FakeLlm, Mode},
    helpers::{parse_sse, spawn_process_with, TestApp, TestUser},
};

/// Posts `content` with `key`; the status, or `None` when no answer came
/// (the server was killed under it).
async fn keyed_post(app: &TestApp, user: &TestUser, chat: &str, key: &str, content: &str) -> Option<u16> {
    let sent = app
        .client
        .post(app.url(&format!("/api/v1/chats/{chat}/messages")))
        .bearer_auth(&user.access)
        .header("Idempotency-Key", key)
        .json(&json!({"content": content}))
        .send()
        .await
        .ok()?;
    Some(sent.status().as_u16())
}

#[tokio::test]
async fn keyed_posts_cut_off_by_kill_9_are_stored_exactly_once_when_retried() {
    let app = spawn_process_with(|_| {}).await;
    let alice = app.signup("crash_alice").await;
    let bob = app.signup("crash_bob").await;
    let chat = app.direct_chat(&alice, &bob).await;

    // 32 writers post keyed messages one after another until the server dies;
    // each remembers the post that got no answer.
    let unanswered: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let writers: Vec<_> = (0..32)
        .map(|w| {
            let (app_address, user, chat, unanswered) =
                (app.address.clone(), alice.clone(), chat.clone(), unanswered.clone());
            let client = app.client.clone();
            tokio::spawn(async move {
                for i in 0.. {
                    let (key, content) = (format!("w{w}-{i}"), format!("writer {w} message {i}"));
                    let sent = client
                        .post(format!("{app_address}/api/v1/chats/{chat}/messages"))
                        .bearer_auth(&user.access)
                        .header("Idempotency-Key", &key)
                        .json(&json!({"content": content}))
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == 201 => continue,
                        Ok(r) => panic!("{key}: {}", r.status()),
                        Err(_) => {
                            unanswered.lock().unwrap().push((key, content));
                            return i;
                        }
                    }
                }
                unreachable!()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let app = app.kill_and_start_again().await;
    let mut acknowledged = 0;
    for writer in writers {
        acknowledged += writer.await.unwrap();
    }
    assert!(acknowledged > 32, "the writers were under way: {acknowledged}");

    // Every unanswered post is retried with its key: the new process knows at
    // once that the old one is gone, so no retry waits or is refused.
    let unanswered = unanswered.lock().unwrap().clone();
    assert_eq!(unanswered.len(), 32);
    for (key, content) in &unanswered {
        assert_eq!(keyed_post(&app, &alice, &chat, key, content).await, Some(201), "{key}");
    }
    let messages = app
        .all_pages(&format!("/api/v1/chats/{chat}/messages?limit=100"), &alice.access)
        .await;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for m in &messages {
        *seen.entry(m["content"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "posted twice: {twice:?}");
    assert_eq!(
        messages.len(),
        acknowledged as usize + 32,
        "every acknowledged and retried post, once"
    );
}

#[tokio::test]
async fn a_keyed_bot_turn_killed_mid_reply_is_removed_refunded_and_retried_anew() {
    let llm = FakeLlm::start(Mode::Stall).await;
    let app = spawn_process_with(|s| {
        s.bot_base_url = Some(llm.base_url.clone());
        s.bot_model = "fake".into();
    })
    .await;
    let user = app.signup("crash_learner").await;
    let chat = app.bot_chat(&user, None).await;

    // The learner's turn is stored and the model is thinking when the server dies.
    let mut stream = app
        .client
        .post(app.url(&format!("/api/v1/chats/{chat}/messages/stream")))
        .bearer_auth(&user.access)
        .header("Idempotency-Key", "practice-1")
        .json(&json!({"content": "I goed to the market yesterday."}))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut seen = String::new();
    while !parse_sse(&seen).iter().any(|e| e.event == "message") {
        let chunk = stream.chunk().await.unwrap().expect("the stream goes on");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let quota = app.get("/api/v1/bot/quota", &user.access).await.expect(200);
    assert_eq!(quota["used"], 1);
    let app = app.kill_and_start_again().await;

    // The new process ends what the dead one left: no reply will come, so the
    // turn is removed and the unit given back. At start, or (on PostgreSQL,
    // while the dead process's session is still being closed) at the next
    // sweep, seconds later.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let quota = app.get("/api/v1/bot/quota", &user.access).await.expect(200);
        if quota["used"] == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never refunded: {quota}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let page = app
        .get(&format!("/api/v1/chats/{chat}/messages"), &user.access)
        .await
        .expect(200);
    assert_eq!(page["items"], json!([]), "the turn without a reply is gone");

    // The retry with the same key runs anew, on the plain endpoint too.
    llm.set_mode(Mode::Answer("Nice! What did you buy?".into()));
    let retried = app
        .client
        .post(app.url(&format!("/api/v1/chats/{chat}/messages")))
        .bearer_auth(&user.access)
        .header("Idempotency-Key", "practice-1")
        .json(&json!({"content": "I goed to the market yesterday."}))
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), 201);
    let body: Value = retried.json().await.unwrap();
    assert_eq!(body["reply"]["content"], "Nice! What did you buy?", "{body}");
    assert_eq!(body["quota"]["used"], 1, "{body}");
    let page = app
        .get(&format!("/api/v1/chats/{chat}/messages"), &user.access)
        .await
        .expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 2, "{page}");
}
