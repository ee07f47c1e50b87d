//! The tutor against a real model: llama.cpp's server with SmolLM2-135M-Instruct,
//! the smallest model a self-hoster might run. CI starts it and sets
//! `TEST_LLM_BASE_URL`; the answers are whatever the model says, so these tests
//! check shape and honesty (schema-valid feedback, corrections that quote the
//! learner), not wording.
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp, TestUser};

async fn app_with_real_model() -> TestApp {
    let base = std::env::var("TEST_LLM_BASE_URL").expect("TEST_LLM_BASE_URL must point at a real model server");
    spawn_app_with(|s| {
        s.bot_base_url = Some(base);
        s.bot_model = "local".into();
        // Short answers keep two busy cores fast enough.
        s.bot_max_tokens = 48;
        s.bot_first_token_timeout_secs = 120;
        s.bot_total_timeout_secs = 180;
    })
    .await
}

/// Feedback as the contract describes it, with every `original` quoted from `learner`.
fn assert_honest_feedback(feedback: &Value, learner: &str) {
    let status = feedback["status"].as_str().expect("a status");
    assert!(
        ["corrected", "no_mistakes", "unchecked"].contains(&status),
        "{feedback}"
    );
    let corrections = feedback["corrections"].as_array().expect("a list");
    match status {
        "unchecked" => assert!(
            feedback["corrected_text"].is_null() && corrections.is_empty(),
            "{feedback}"
        ),
        "no_mistakes" => assert!(
            corrections.is_empty() && feedback["corrected_text"].is_string(),
            "{feedback}"
        ),
        _ => assert!(
            !corrections.is_empty() && feedback["corrected_text"].is_string(),
            "{feedback}"
        ),
    }
    for c in corrections {
        let original = c["original"].as_str().unwrap();
        assert!(
            !original.is_empty() && learner.contains(original),
            "{original:?} is not in {learner:?}"
        );
        assert!(!c["corrected"].as_str().unwrap().is_empty() && c["explanation"].is_string() && c["kind"].is_string());
    }
}

/// A plain and a streamed exchange in a restaurant practice with a real model,
/// checked for shape and honest feedback; returns the learner, the chat and how
/// many pieces the streamed reply came in.
pub async fn plain_and_streamed_exchange(app: &TestApp, username: &str) -> (TestUser, String, usize) {
    let user = app.signup(username).await;
    let chat = app.bot_chat(&user, Some("restaurant")).await;
    let learner = "Yesterday I goed to the cinema with my freind.";
    let body = app.send(&user, &chat, learner).await;
    let reply = body["reply"]["content"].as_str().unwrap();
    assert!(!reply.trim().is_empty(), "{body}");
    assert_honest_feedback(&body["reply"]["feedback"], learner);
    assert_eq!(body["quota"]["used"], 1);
    println!("plain reply: {reply:?}\nfeedback: {}", body["reply"]["feedback"]);

    let learner = "I want order a pizza please.";
    let (status, _, events, raw) = app.stream(&user, &chat, learner).await;
    assert_eq!(status, 200, "{raw}");
    assert_eq!(events[0].event, "message");
    let deltas = events.iter().filter(|e| e.event == "delta").count();
    assert!(deltas > 0, "{raw}");
    let done = events.last().unwrap();
    assert_eq!(done.event, "done", "{raw}");
    assert_honest_feedback(&done.data["reply"]["feedback"], learner);
    assert_eq!(done.data["quota"]["used"], 2);
    (user, chat, deltas)
}

#[tokio::test]
#[ignore = "needs TEST_LLM_BASE_URL (a real OpenAI-compatible server); CI starts one"]
async fn a_real_small_model_replies_plain_and_streamed_with_honest_feedback() {
    let app = app_with_real_model().await;
    let (user, chat, _) = plain_and_streamed_exchange(&app, "real_learner").await;
    let quota = app.get("/api/v1/bot/quota", &user.access).await.expect(200);
    assert_eq!(quota["used"], 2);

    let summary = app
        .post(&format!("/api/v1/chats/{chat}/summary"), &user.access, json!({}))
        .await
        .expect(200);
    println!("summary: {summary}");
    assert!(summary["went_well"].as_str().unwrap().len() >= 10, "{summary}");
    let phrases = summary["phrases"].as_array().unwrap();
    assert!(!phrases.is_empty() && phrases.len() <= 3, "{summary}");
    for p in phrases {
        let words = p.as_str().unwrap().split_whitespace().count();
        assert!((2..=15).contains(&words), "{p}");
    }
    assert_eq!(
        summary["goals"][1],
        json!({"goal": "Order a main course", "reached": true})
    );
    assert_eq!(summary["quota"]["used"], 3);
}

#[tokio::test]
#[ignore = "needs TEST_LLM_BASE_URL (a real OpenAI-compatible server); CI starts one"]
async fn a_real_small_model_checks_a_draft() {
    let app = app_with_real_model().await;
    let user = app.signup("real_drafter").await;
    let learner = "She don't like apples.";
    let reply = app
        .post("/api/v1/bot/check", &user.access, json!({"text": learner}))
        .await;
    let body = reply.expect(200);
    println!("check: {body}");
    assert_honest_feedback(&body["feedback"], learner);
    // Greedy decoding of this pinned model fixes this one.
    assert_eq!(body["feedback"]["corrected_text"], "She doesn't like apples.");
    assert_eq!(body["feedback"]["corrections"][0]["original"], "don't");
    assert_eq!(body["quota"]["used"], 1);
}
