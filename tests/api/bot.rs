use std::time::Duration;

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::json;

use crate::{
    fake_llm::{corrected, CheckMode, FakeLlm, Mode},
    helpers::{spawn_app, spawn_app_with_bot, TestApp, TestUser},
};

async fn ask(app: &TestApp, user: &TestUser, chat: &str, content: &str) -> crate::helpers::Reply {
    app.post(
        &format!("/api/v1/chats/{chat}/messages"),
        &user.access,
        json!({"content": content}),
    )
    .await
}

#[tokio::test]
async fn without_a_bot_configured_bot_requests_get_503_and_say_how_to_configure_one() {
    let app = spawn_app().await;
    let user = app.signup("nobot").await;
    let chat = app.bot_chat(&user, None).await;
    let err = ask(&app, &user, &chat, "Hello")
        .await
        .expect_error(503, "bot_unavailable");
    assert!(err["message"].as_str().unwrap().contains("BOT_BASE_URL"));
    let (status, _, _, body) = app.stream(&user, &chat, "Hello").await;
    assert_eq!(status, 503, "{body}");
    // Nothing was stored or counted, and the rest of the service works.
    let history = app
        .get(&format!("/api/v1/chats/{chat}/messages"), &user.access)
        .await
        .expect(200);
    assert_eq!(history["items"].as_array().unwrap().len(), 0);
    assert_eq!(app.get("/api/v1/bot/quota", &user.access).await.expect(200)["used"], 0);
}

#[tokio::test]
async fn scenarios_are_listed() {
    let app = spawn_app().await;
    let user = app.signup("lister").await;
    let page = app.get("/api/v1/bot/scenarios", &user.access).await.expect(200);
    assert!(page["next_cursor"].is_null(), "one page: {page}");
    let list = &page["items"];
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    for id in [
        "free_talk",
        "job_interview",
        "restaurant",
        "hotel_check_in",
        "small_talk_at_work",
        "doctor_visit",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    assert!(list[1]["opening_line"].as_str().unwrap().len() > 10);
    assert_eq!(
        list[2]["goals"],
        json!(["Order a drink", "Order a main course", "Ask for the bill"])
    );
}

#[tokio::test]
async fn a_plain_reply_is_stored_with_feedback_and_counted() {
    let llm = FakeLlm::start(Mode::Answer("Nice! What did you do there?".into())).await;
    llm.set_check(corrected("Yesterday I went to the office."));
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("learner").await;
    let chat = app.bot_chat(&user, Some("job_interview")).await;
    app.patch(&format!("/api/v1/chats/{chat}"), &user.access, json!({"level": "A2"}))
        .await
        .expect(200);

    let reply = ask(&app, &user, &chat, "Yesterday I goed to the office.").await;
    assert_eq!(reply.headers["ratelimit-limit"], "5");
    assert_eq!(reply.headers["ratelimit-remaining"], "4");
    assert!(
        reply.headers["ratelimit-reset"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            <= 86_400
    );
    let body = reply.expect(201);
    assert_eq!(body["message"]["content"], "Yesterday I goed to the office.");
    assert_eq!(body["message"]["role"], "user");
    assert_eq!(body["reply"]["role"], "assistant");
    assert!(body["reply"]["sender_id"].is_null());
    assert_eq!(body["reply"]["content"], "Nice! What did you do there?");
    let feedback = &body["reply"]["feedback"];
    assert_eq!(feedback["status"], "corrected");
    assert_eq!(feedback["corrected_text"], "Yesterday I went to the office.");
    assert_eq!(
        feedback["corrections"],
        json!([{"original": "goed", "corrected": "went", "kind": "grammar",
                "explanation": "‘go’ is irregular: its past tense is ‘went’."}])
    );
    // The reply and the check together cost one unit.
    assert_eq!(body["quota"]["used"], 1);
    let checks = llm.check_requests();
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0]["response_format"]["type"], "json_schema");
    assert_eq!(
        checks[0]["messages"].as_array().unwrap().last().unwrap()["content"],
        "Yesterday I goed to the office."
    );
    assert_eq!(body["quota"]["remaining"], 4);

    // The model saw the scenario, the level, the opening line and the message.
    let request = llm.last_request();
    assert_eq!(request["model"], "fake-model");
    let messages = request["messages"].as_array().unwrap();
    let system = messages[0]["content"].as_str().unwrap();
    assert!(
        system.contains("hiring manager") && system.contains("CEFR A2"),
        "{system}"
    );
    assert_eq!(messages[1]["role"], "assistant");
    assert_eq!(messages.last().unwrap()["content"], "Yesterday I goed to the office.");

    // Both turns are in the history, with the feedback.
    let history = app
        .get(&format!("/api/v1/chats/{chat}/messages"), &user.access)
        .await
        .expect(200);
    assert_eq!(history["items"][0]["content"], "Nice! What did you do there?");
    assert_eq!(history["items"][0]["feedback"], body["reply"]["feedback"]);
    assert_eq!(history["items"][1]["content"], "Yesterday I goed to the office.");

    // The next request carries the history.
    ask(&app, &user, &chat, "I worked.").await.expect(201);
    let messages = llm.last_request()["messages"].as_array().unwrap().clone();
    let contents: Vec<&str> = messages.iter().map(|m| m["content"].as_str().unwrap()).collect();
    assert!(contents.contains(&"Nice! What did you do there?"));
    assert!(
        !contents[0].contains("JSON") && !contents[0].contains("corrections"),
        "the reply prompt asks for a reply only: {}",
        contents[0]
    );
}

#[tokio::test]
async fn a_check_that_gives_nothing_usable_keeps_the_reply_marked_unchecked() {
    for (check, name) in [
        (CheckMode::Answer("{oops".into()), "garbled"),
        (CheckMode::Status(500), "failing"),
        // An answer to the message instead of a correction of it.
        (
            corrected("I usually drink coffee in the morning, and you?"),
            "answering",
        ),
    ] {
        let llm = FakeLlm::start(Mode::Answer("Tell me more!".into())).await;
        llm.set_check(check);
        let app = spawn_app_with_bot(&llm, |_| {}).await;
        let user = app.signup(name).await;
        let chat = app.bot_chat(&user, None).await;
        let body = ask(&app, &user, &chat, "I like tea very much").await.expect(201);
        assert_eq!(body["reply"]["content"], "Tell me more!", "{name}");
        assert_eq!(
            body["reply"]["feedback"],
            json!({"status": "unchecked", "corrected_text": null, "corrections": [], "unchecked_sentences": []}),
            "{name}"
        );
        assert_eq!(body["quota"]["used"], 1, "{name}: the reply counts");
    }
}

#[tokio::test]
async fn a_correct_message_is_marked_as_having_no_mistakes() {
    let llm = FakeLlm::start(Mode::Answer("Lovely!".into())).await;
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("flawless").await;
    let chat = app.bot_chat(&user, None).await;
    let body = ask(&app, &user, &chat, "I went to the park with my sister.")
        .await
        .expect(201);
    assert_eq!(
        body["reply"]["feedback"],
        json!({"status": "no_mistakes", "corrected_text": "I went to the park with my sister.", "corrections": [],
               "unchecked_sentences": []})
    );
}

#[tokio::test]
async fn the_check_is_sent_once_the_replys_first_words_came() {
    // A model with one slot answers the reply first, and the built-in one
    // never reads the check's sentence while the learner waits for words.
    let llm = FakeLlm::start(Mode::Answer("Where?".into())).await;
    llm.set_chunk_delay(Duration::from_millis(1500));
    llm.set_check(corrected("I went to Paris."));
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("patient").await;
    let chat = app.bot_chat(&user, None).await;
    let ((status, _, events, raw), checks_before_words) =
        tokio::join!(app.stream(&user, &chat, "I goed to Paris."), async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            llm.check_requests().len()
        });
    assert_eq!(status, 200, "{raw}");
    assert_eq!(
        checks_before_words, 0,
        "the check was sent before the reply's first words"
    );
    assert_eq!(llm.check_requests().len(), 1);
    let done = events.last().unwrap();
    assert_eq!(done.event, "done", "{raw}");
    assert_eq!(done.data["reply"]["content"], "Where?");
    assert_eq!(done.data["reply"]["feedback"]["status"], "corrected");
}

#[tokio::test]
async fn a_streamed_reply_arrives_in_deltas_and_is_stored() {
    let llm = FakeLlm::start(Mode::Answer(
        "That sounds like a lovely trip. Where did you stay?".into(),
    ))
    .await;
    llm.set_check(corrected("I went to Paris."));
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("streamer").await;
    let chat = app.bot_chat(&user, None).await;
    let (status, headers, events, raw) = app.stream(&user, &chat, "I goed to Paris.").await;
    assert_eq!(status, 200, "{raw}");
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    assert_eq!(headers["ratelimit-remaining"], "4");
    assert_eq!(events[0].event, "message");
    assert_eq!(events[0].data["content"], "I goed to Paris.");
    let text: String = events
        .iter()
        .filter(|e| e.event == "delta")
        .map(|e| e.data["text"].as_str().unwrap())
        .collect();
    assert!(
        events.iter().filter(|e| e.event == "delta").count() > 3,
        "several deltas: {raw}"
    );
    assert_eq!(text.trim(), "That sounds like a lovely trip. Where did you stay?");
    let done = events.last().unwrap();
    assert_eq!(done.event, "done");
    assert_eq!(
        done.data["reply"]["content"],
        "That sounds like a lovely trip. Where did you stay?"
    );
    assert_eq!(done.data["reply"]["feedback"]["status"], "corrected");
    assert_eq!(done.data["reply"]["feedback"]["corrections"][0]["original"], "goed");
    assert_eq!(done.data["quota"]["remaining"], 4);
    let history = app
        .get(&format!("/api/v1/chats/{chat}/messages"), &user.access)
        .await
        .expect(200);
    assert_eq!(history["items"][0]["id"], done.data["reply"]["id"]);
    assert_eq!(history["items"][1]["id"], events[0].data["id"]);
}

#[tokio::test]
async fn the_sixth_request_of_the_day_is_rejected_with_429_and_no_model_call() {
    let llm = FakeLlm::start(Mode::Answer("Sure!".into())).await;
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("eager").await;
    let chat = app.bot_chat(&user, None).await;
    for i in 0..5 {
        ask(&app, &user, &chat, &format!("message {i}")).await.expect(201);
    }
    let sixth = ask(&app, &user, &chat, "one more").await;
    assert_eq!(sixth.headers["ratelimit-remaining"], "0");
    assert_eq!(sixth.headers["ratelimit-limit"], "5");
    let retry: u64 = sixth.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 86_400);
    let err = sixth.expect_error(429, "daily_quota_exceeded");
    assert_eq!(err["limit"], 5);
    assert_eq!(err["remaining"], 0);
    assert!(err["resets_at"].as_str().unwrap().contains('T'));
    assert_eq!(llm.calls(), 5, "no model call for the sixth request");
    // The streaming endpoint is refused the same way, before any stream starts.
    let (status, _, _, body) = app.stream(&user, &chat, "and another").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(llm.calls(), 5);
    // The rejected messages were not stored.
    let history = app
        .get(&format!("/api/v1/chats/{chat}/messages?limit=100"), &user.access)
        .await
        .expect(200);
    assert_eq!(history["items"].as_array().unwrap().len(), 10);
    let quota = app.get("/api/v1/bot/quota", &user.access).await.expect(200);
    assert_eq!(quota["used"], 5);
    assert_eq!(quota["remaining"], 0);
}

async fn concurrent_asks(apps: &[&TestApp], user: &TestUser, chat: &str, n: usize) -> (usize, usize) {
    let requests = (0..n).map(|i| {
        let app = apps[i % apps.len()];
        async move { ask(app, user, chat, &format!("concurrent {i}")).await.status.as_u16() }
    });
    let statuses = join_all(requests).await;
    let ok = statuses.iter().filter(|s| **s == 201).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(ok + limited, n, "unexpected statuses: {statuses:?}");
    (ok, limited)
}

#[tokio::test]
async fn a_hundred_concurrent_requests_by_one_user_give_exactly_five_successes() {
    let llm = FakeLlm::start(Mode::Answer("Ok!".into())).await;
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("racer").await;
    let chat = app.bot_chat(&user, None).await;
    let (ok, limited) = concurrent_asks(&[&app], &user, &chat, 100).await;
    assert_eq!(ok, 5);
    assert_eq!(limited, 95);
    assert_eq!(llm.calls(), 5);
}

#[tokio::test]
async fn the_quota_holds_across_two_instances_sharing_the_database() {
    let llm = FakeLlm::start(Mode::Answer("Ok!".into())).await;
    let one = spawn_app_with_bot(&llm, |_| {}).await;
    let two = one.another_instance().await;
    let user = one.signup("twin").await;
    let chat = one.bot_chat(&user, None).await;
    let (ok, _) = concurrent_asks(&[&one, &two], &user, &chat, 100).await;
    assert_eq!(ok, 5);
    assert_eq!(llm.calls(), 5);
}

#[tokio::test]
async fn the_count_survives_a_restart() {
    let llm = FakeLlm::start(Mode::Answer("Ok!".into())).await;
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("durable").await;
    let chat = app.bot_chat(&user, None).await;
    for _ in 0..3 {
        ask(&app, &user, &chat, "hi").await.expect(201);
    }
    let app = app.restart().await;
    assert_eq!(app.get("/api/v1/bot/quota", &user.access).await.expect(200)["used"], 3);
    ask(&app, &user, &chat, "hi").await.expect(201);
    ask(&app, &user, &chat, "hi").await.expect(201);
    ask(&app, &user, &chat, "hi")
        .await
        .expect_error(429, "daily_quota_exceeded");
}

async fn assert_refunded(app: &TestApp, user: &TestUser, chat: &str) {
    let quota = app.get("/api/v1/bot/quota", &user.access).await.expect(200);
    assert_eq!(quota["used"], 0, "the failed request was refunded");
    let history = app
        .get(&format!("/api/v1/chats/{chat}/messages"), &user.access)
        .await
        .expect(200);
    assert_eq!(
        history["items"].as_array().unwrap().len(),
        0,
        "a failed exchange leaves no trace"
    );
}

#[tokio::test]
async fn an_upstream_500_gives_502_and_refunds() {
    let llm = FakeLlm::start(Mode::Status(500)).await;
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("unlucky").await;
    let chat = app.bot_chat(&user, None).await;
    let reply = ask(&app, &user, &chat, "hello").await;
    assert_eq!(reply.headers["ratelimit-remaining"], "5");
    let err = reply.expect_error(502, "bot_upstream_error");
    assert!(
        !err["message"].as_str().unwrap().contains("fake failure"),
        "upstream details stay in the log"
    );
    assert_eq!(llm.calls(), 1);
    assert_refunded(&app, &user, &chat).await;

    // Streamed: the stream starts, then reports the error as an event.
    let (status, _, events, raw) = app.stream(&user, &chat, "hello").await;
    assert_eq!(status, 200, "{raw}");
    let last = events.last().unwrap();
    assert_eq!(last.event, "error");
    assert_eq!(last.data["error"], "bot_upstream_error");
    assert_refunded(&app, &user, &chat).await;

    // Once the model recovers, the learner still has the full allowance.
    llm.set_mode(Mode::Answer("Back again!".into()));
    assert_eq!(
        ask(&app, &user, &chat, "hello").await.expect(201)["quota"]["remaining"],
        4
    );
}

#[tokio::test]
async fn a_stall_past_the_first_token_timeout_gives_504_and_refunds() {
    let llm = FakeLlm::start(Mode::Stall).await;
    let app = spawn_app_with_bot(&llm, |s| s.bot_first_token_timeout_secs = 1).await;
    let user = app.signup("patient").await;
    let chat = app.bot_chat(&user, None).await;
    ask(&app, &user, &chat, "hello?")
        .await
        .expect_error(504, "bot_upstream_timeout");
    assert_refunded(&app, &user, &chat).await;
}

#[tokio::test]
async fn a_refused_connection_gives_503_and_refunds() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let app = crate::helpers::spawn_app_with(|s| {
        s.bot_base_url = Some(format!("http://127.0.0.1:{port}/v1"));
    })
    .await;
    let user = app.signup("offline").await;
    let chat = app.bot_chat(&user, None).await;
    ask(&app, &user, &chat, "anyone?")
        .await
        .expect_error(503, "bot_unavailable");
    assert_refunded(&app, &user, &chat).await;
}

#[tokio::test]
async fn a_reply_that_started_and_then_stalled_is_kept_and_counts() {
    let llm = FakeLlm::start(Mode::StallAfter("Well, let me think about".into())).await;
    let app = spawn_app_with_bot(&llm, |s| s.bot_total_timeout_secs = 2).await;
    let user = app.signup("halfway").await;
    let chat = app.bot_chat(&user, None).await;
    ask(&app, &user, &chat, "Tell me a story")
        .await
        .expect_error(504, "bot_upstream_timeout");
    let quota = app.get("/api/v1/bot/quota", &user.access).await.expect(200);
    assert_eq!(quota["used"], 1, "a reply that started counts");
    let history = app
        .get(&format!("/api/v1/chats/{chat}/messages"), &user.access)
        .await
        .expect(200);
    assert_eq!(history["items"][0]["content"], "Well, let me think about");
    // The check had finished: the learner's message was still checked.
    assert_eq!(history["items"][0]["feedback"]["status"], "no_mistakes");
}

#[tokio::test]
async fn a_client_that_disconnects_mid_stream_cancels_upstream_and_the_partial_reply_is_kept() {
    let answer = "This is a long answer that keeps going. ".repeat(5);
    let llm = FakeLlm::start(Mode::Answer(answer.clone())).await;
    llm.set_chunk_delay(Duration::from_millis(100));
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("leaver").await;
    let chat = app.bot_chat(&user, None).await;
    let mut body = app.open_stream(&user, &chat, "Talk to me").await;
    body.until(|events| events.iter().any(|e| e.event == "delta")).await;
    drop(body);
    // The server notices, stops the model call and stores what was said.
    let mut stored = serde_json::Value::Null;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let history = app
            .get(&format!("/api/v1/chats/{chat}/messages"), &user.access)
            .await
            .expect(200);
        if history["items"][0]["role"] == "assistant" {
            stored = history["items"][0].clone();
            break;
        }
    }
    let content = stored["content"].as_str().expect("partial reply stored");
    assert!(
        !content.is_empty() && answer.starts_with(content),
        "a prefix of the answer: {content}"
    );
    assert!(content.len() < 200, "only part of the answer: {content}");
    // The request counts, so the learner's message was still checked.
    assert_eq!(stored["feedback"]["status"], "no_mistakes", "{stored}");
    for _ in 0..30 {
        if llm.abandoned() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(llm.abandoned(), "the upstream request was cancelled");
    assert_eq!(app.get("/api/v1/bot/quota", &user.access).await.expect(200)["used"], 1);
}

#[tokio::test]
async fn midnight_resets_the_count() {
    let llm = FakeLlm::start(Mode::Answer("Ok!".into())).await;
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("nightowl").await;
    let chat = app.bot_chat(&user, None).await;
    for _ in 0..5 {
        ask(&app, &user, &chat, "hi").await.expect(201);
    }
    let err = ask(&app, &user, &chat, "hi")
        .await
        .expect_error(429, "daily_quota_exceeded");
    let resets_at: chrono::DateTime<chrono::Utc> = err["resets_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        resets_at.format("%H:%M:%S").to_string(),
        "00:00:00",
        "midnight UTC by default"
    );
    app.clock.advance(chrono::Duration::hours(24));
    let body = ask(&app, &user, &chat, "a new day").await.expect(201);
    assert_eq!(body["quota"]["used"], 1);
    assert_eq!(body["quota"]["remaining"], 4);
}

#[tokio::test]
async fn the_quota_day_follows_quota_timezone() {
    let app = crate::helpers::spawn_app_with(|s| s.quota_timezone = "Asia/Tokyo".into()).await;
    let user = app.signup("tokyo").await;
    let quota = app.get("/api/v1/bot/quota", &user.access).await.expect(200);
    let resets_at: chrono::DateTime<chrono::Utc> = quota["resets_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        resets_at.format("%H:%M").to_string(),
        "15:00",
        "Tokyo midnight is 15:00 UTC"
    );
}

fn promote(app: &TestApp, username: &str) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_chattconnect"));
    cmd.args(["admin", "promote", username])
        .env("DATABASE_URL", &app.settings.database_url)
        .env("DATA_DIR", &app.settings.data_dir);
    if let Some(schema) = &app.settings.database_schema {
        cmd.env("DATABASE_SCHEMA", schema);
    }
    cmd.output().unwrap()
}

#[tokio::test]
async fn admins_made_on_the_command_line_can_grant_extra_requests() {
    let llm = FakeLlm::start(Mode::Answer("Ok!".into())).await;
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let admin = app.signup("boss").await;
    let user = app.signup("worker").await;
    let path = format!("/api/v1/admin/users/{}/quota", user.id);

    // Not an admin yet: 403, for reading and for granting.
    app.get(&path, &admin.access).await.expect_error(403, "forbidden");
    app.post(&path, &user.access, json!({"extra": 2}))
        .await
        .expect_error(403, "forbidden");

    let out = promote(&app, "BOSS");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let unknown = promote(&app, "nobody");
    assert!(!unknown.status.success());
    assert_eq!(app.get("/api/v1/me", &admin.access).await.expect(200)["role"], "admin");

    let chat = app.bot_chat(&user, None).await;
    for _ in 0..5 {
        ask(&app, &user, &chat, "hi").await.expect(201);
    }
    ask(&app, &user, &chat, "hi")
        .await
        .expect_error(429, "daily_quota_exceeded");
    let q = app.get(&path, &admin.access).await.expect(200);
    assert_eq!((q["used"].as_u64(), q["remaining"].as_u64()), (Some(5), Some(0)));
    let q = app.post(&path, &admin.access, json!({"extra": 2})).await.expect(200);
    assert_eq!((q["limit"].as_u64(), q["remaining"].as_u64()), (Some(7), Some(2)));
    ask(&app, &user, &chat, "hi").await.expect(201);
    ask(&app, &user, &chat, "hi").await.expect(201);
    ask(&app, &user, &chat, "hi")
        .await
        .expect_error(429, "daily_quota_exceeded");

    app.post(&path, &admin.access, json!({"extra": 0}))
        .await
        .expect_error(400, "validation_failed");
    app.post(&path, &admin.access, json!({"extra": -1}))
        .await
        .expect_error(400, "validation_failed");
    app.get(
        &format!("/api/v1/admin/users/{}/quota", uuid::Uuid::now_v7()),
        &admin.access,
    )
    .await
    .expect_error(404, "not_found");
}

#[tokio::test]
async fn a_login_burst_gets_429_with_retry_after() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.rate_login_per_ip = 100;
        s.rate_login_per_username = 3;
    })
    .await;
    let user = app.signup("target").await;
    for _ in 0..3 {
        app.login("target", "wrong-password")
            .await
            .expect_error(401, "unauthorized");
    }
    let limited = app.login("target", &user.password).await;
    let retry: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    let body = limited.expect_error(429, "rate_limited");
    assert_eq!(body["retry_after"].as_u64(), Some(retry));
    // Other usernames from the same address are unaffected.
    app.signup("bystander").await;
    app.login("bystander", "bystander-password").await.expect(200);
}

#[tokio::test]
async fn registering_one_username_over_and_over_is_limited() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.rate_register_per_ip = 100;
        s.rate_login_per_username = 2;
    })
    .await;
    app.signup("wanted").await;
    app.register(json!({"username": "WANTED", "password": "password1"}))
        .await
        .expect_error(409, "conflict");
    app.register(json!({"username": "wanted", "password": "password1"}))
        .await
        .expect_error(429, "rate_limited");
    app.signup("other").await;
}

#[tokio::test]
async fn login_and_register_are_limited_per_address() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.rate_login_per_ip = 2;
        s.rate_register_per_ip = 2;
    })
    .await;
    app.signup("first").await;
    app.signup("second").await;
    app.register(json!({"username": "third", "password": "password1"}))
        .await
        .expect_error(429, "rate_limited");
    app.login("first", "x-password").await.expect_error(401, "unauthorized");
    app.login("second", "x-password")
        .await
        .expect_error(401, "unauthorized");
    app.login("anyone", "x-password")
        .await
        .expect_error(429, "rate_limited");
}

#[tokio::test]
async fn bursts_of_bot_requests_are_limited_without_using_the_quota() {
    let llm = FakeLlm::start(Mode::Answer("Ok!".into())).await;
    let app = spawn_app_with_bot(&llm, |s| s.rate_bot_per_user = 2).await;
    let user = app.signup("burst").await;
    let chat = app.bot_chat(&user, None).await;
    ask(&app, &user, &chat, "1").await.expect(201);
    ask(&app, &user, &chat, "2").await.expect(201);
    let limited = ask(&app, &user, &chat, "3").await;
    assert!(limited.headers.contains_key("retry-after"));
    assert_eq!(limited.headers["ratelimit-remaining"], "3");
    limited.expect_error(429, "rate_limited");
    assert_eq!(app.get("/api/v1/bot/quota", &user.access).await.expect(200)["used"], 2);
}

#[tokio::test]
async fn bursts_of_direct_messages_are_limited() {
    let app = crate::helpers::spawn_app_with(|s| s.rate_messages_per_user = 3).await;
    let a = app.signup("chatty").await;
    let b = app.signup("quiet").await;
    let chat = app.direct_chat(&a, &b).await;
    for i in 0..3 {
        app.send(&a, &chat, &format!("m{i}")).await;
    }
    app.post(
        &format!("/api/v1/chats/{chat}/messages"),
        &a.access,
        json!({"content": "too many"}),
    )
    .await
    .expect_error(429, "rate_limited");
    // The friend is not affected.
    app.send(&b, &chat, "hi").await;
}

#[tokio::test]
async fn bot_messages_cannot_be_edited_and_direct_chats_cannot_stream() {
    let llm = FakeLlm::start(Mode::Answer("Ok!".into())).await;
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let a = app.signup("editor").await;
    let b = app.signup("friend").await;
    let chat = app.bot_chat(&a, None).await;
    let body = ask(&app, &a, &chat, "hello").await.expect(201);
    let mine = body["message"]["id"].as_str().unwrap();
    app.patch(
        &format!("/api/v1/chats/{chat}/messages/{mine}"),
        &a.access,
        json!({"content": "x"}),
    )
    .await
    .expect_error(403, "forbidden");
    let direct = app.direct_chat(&a, &b).await;
    let (status, _, _, _) = app.stream(&a, &direct, "hi").await;
    assert_eq!(status, 400);
    let r = app.call(Method::GET, "/api/v1/bot/quota", None, None).await;
    r.expect_error(401, "unauthorized");
}
