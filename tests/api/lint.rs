//! `POST /lint`: the tutor's rules as the learner types, free and without a model.
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with};

fn suggestions(body: &Value) -> Vec<(String, String, String)> {
    body["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["original"].as_str().unwrap().to_owned(),
                s["replacement"].as_str().unwrap().to_owned(),
                s["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_draft_gets_its_mistakes_with_places_fixes_and_reasons_without_a_model_or_quota() {
    // No bot is configured at all: the rules need none.
    let app = spawn_app().await;
    let user = app.signup("typist").await;
    let text = "Yesterday I goed to the park with my freind.";
    let body = app
        .post("/api/v1/lint", &user.access, json!({"text": text}))
        .await
        .expect(200);
    assert_eq!(body["corrected_text"], "Yesterday I went to the park with my friend.");
    assert_eq!(
        suggestions(&body),
        vec![
            ("goed".into(), "went".into(), "grammar".into()),
            ("freind".into(), "friend".into(), "spelling".into())
        ]
    );
    let goed = &body["suggestions"][0];
    assert_eq!((goed["offset"].as_u64(), goed["length"].as_u64()), (Some(12), Some(4)));
    assert_eq!(goed["rule"], "irregular_past");
    assert_eq!(goed["explanation"], "‘go’ is irregular: its past tense is ‘went’.");
    assert_eq!(body["suggestions"][1]["explanation"], "‘freind’ is spelt ‘friend’.");
    let quota = app.get("/api/v1/bot/quota", &user.access).await.expect(200);
    assert_eq!(quota["used"], 0);
}

#[tokio::test]
async fn offsets_count_characters_and_names_chat_style_and_correct_text_are_left_alone() {
    let app = spawn_app().await;
    let user = app.signup("zurich").await;
    let text = "Ça va? I goed to Zürich 😀 with Anna.";
    let body = app
        .post("/api/v1/lint", &user.access, json!({"text": text}))
        .await
        .expect(200);
    assert_eq!(
        suggestions(&body),
        vec![("goed".into(), "went".into(), "grammar".into())]
    );
    let offset = body["suggestions"][0]["offset"].as_u64().unwrap() as usize;
    let chars: Vec<char> = text.chars().collect();
    assert_eq!(chars[offset..offset + 4].iter().collect::<String>(), "goed");

    for fine in [
        "hello how are you",
        "lol that was so funny haha",
        "See you on Monday at the station.",
        "",
        "   ",
    ] {
        let body = app
            .post("/api/v1/lint", &user.access, json!({"text": fine}))
            .await
            .expect(200);
        assert_eq!(body["suggestions"], json!([]), "{fine}");
        assert_eq!(body["corrected_text"], fine);
    }
}

#[tokio::test]
async fn the_learner_mistakes_the_model_used_to_miss_are_found() {
    let app = spawn_app().await;
    let user = app.signup("learner").await;
    for (text, fixed) in [
        ("Can you explain me the rule?", "Can you explain to me the rule?"),
        ("We discussed about the problem.", "We discussed the problem."),
        (
            "If I will have time, I will call you.",
            "If I have time, I will call you.",
        ),
        ("I have to make my homework.", "I have to do my homework."),
        ("I have went there two years ago.", "I went there two years ago."),
        ("I will see you in monday.", "I will see you on Monday."),
        ("He said me that he was tired.", "He told me that he was tired."),
        ("I need an information.", "I need information."),
    ] {
        let body = app
            .post("/api/v1/lint", &user.access, json!({"text": text}))
            .await
            .expect(200);
        assert_eq!(body["corrected_text"], fixed, "{body}");
        for s in body["suggestions"].as_array().unwrap() {
            assert!(!s["explanation"].as_str().unwrap().is_empty(), "{text}: {s}");
        }
    }
}

#[tokio::test]
async fn lint_needs_a_session_checks_its_input_and_is_burst_limited() {
    let app = spawn_app_with(|s| s.rate_lint_per_user = 2).await;
    let user = app.signup("burst").await;
    let reply = app
        .call(reqwest::Method::POST, "/api/v1/lint", None, Some(json!({"text": "hi"})))
        .await;
    reply.expect_error(401, "unauthorized");
    let err = app
        .post("/api/v1/lint", &user.access, json!({"text": "x".repeat(2001)}))
        .await
        .expect_error(400, "validation_failed");
    assert_eq!(err["field"], "text");
    app.post("/api/v1/lint", &user.access, json!({"text": 5}))
        .await
        .expect_error(400, "validation_failed");
    // The over-long text above used the first of two; this is the second.
    app.post("/api/v1/lint", &user.access, json!({"text": "one"}))
        .await
        .expect(200);
    let reply = app.post("/api/v1/lint", &user.access, json!({"text": "two"})).await;
    assert!(reply.headers.contains_key("retry-after"), "{:?}", reply.headers);
    reply.expect_error(429, "rate_limited");
}
