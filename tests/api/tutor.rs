//! The tutor's check as its own endpoint, the mistake notebook and progress.
use std::time::Duration;

use serde_json::{json, Value};

use crate::{
    fake_llm::{corrected, CheckMode, FakeLlm, Mode},
    helpers::{spawn_app, spawn_app_with_bot, TestApp, TestUser},
};

async fn check(app: &TestApp, user: &TestUser, text: &str) -> crate::helpers::Reply {
    app.post("/api/v1/bot/check", &user.access, json!({"text": text})).await
}

async fn quota(app: &TestApp, user: &TestUser) -> Value {
    app.get("/api/v1/bot/quota", &user.access).await.expect(200)
}

#[tokio::test]
async fn a_draft_is_checked_without_storing_anything_and_costs_one_request() {
    let llm = FakeLlm::start(Mode::Answer("unused".into())).await;
    llm.set_check(corrected("She doesn't like apples."));
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("drafter").await;
    let reply = check(&app, &user, "  She don't like apples.  ").await;
    assert_eq!(reply.headers["ratelimit-remaining"], "4");
    let body = reply.expect(200);
    assert_eq!(
        body["feedback"],
        json!({
            "status": "corrected",
            "corrected_text": "She doesn't like apples.",
            "corrections": [{"original": "don't", "corrected": "doesn't", "kind": "grammar",
                             "explanation": "With he, she and it, use ‘doesn't’ (not ‘don't’)."}],
            "unchecked_sentences": []
        })
    );
    assert_eq!(body["quota"]["used"], 1);
    assert_eq!(llm.calls(), 0, "no reply was asked for");
    assert_eq!(llm.check_requests().len(), 1);
    // Nothing was stored: no chat, no notebook entry, no practice.
    let chats = app.get("/api/v1/chats", &user.access).await.expect(200);
    assert_eq!(chats["items"], json!([]));
    let notebook = app.get("/api/v1/me/mistakes", &user.access).await.expect(200);
    assert_eq!(notebook["items"], json!([]));
    let progress = app.get("/api/v1/me/progress?days=1", &user.access).await.expect(200);
    assert_eq!(progress["messages"], 0);

    // A correct draft: no mistakes, the text comes back as it is.
    llm.set_check(CheckMode::Echo);
    let body = check(&app, &user, "See you at six!").await.expect(200);
    assert_eq!(
        body["feedback"],
        json!({"status": "no_mistakes", "corrected_text": "See you at six!", "corrections": [], "unchecked_sentences": []})
    );
    assert_eq!(body["quota"]["used"], 2);
}

#[tokio::test]
async fn each_sentence_is_checked_alone_and_one_that_fails_leaves_the_others_checked() {
    let llm = FakeLlm::start(Mode::Answer("unused".into())).await;
    llm.set_check(CheckMode::PerSentence(vec![
        ("I has a cat.".into(), json!({"corrected": "I have a cat."}).to_string()),
        ("It are black.".into(), "{\"corrected\": ".into()),
    ]));
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("sentences").await;
    let text = "I has a cat. It are black. She sleep a lot!";
    let body = check(&app, &user, text).await.expect(200);
    let f = &body["feedback"];
    assert_eq!(f["status"], "corrected");
    // The first sentence from the model; the second only by the rules (the
    // model's answer was cut off); the third echoed by the model, fixed by the rules.
    assert_eq!(f["corrected_text"], "I have a cat. It is black. She sleeps a lot!");
    assert_eq!(f["unchecked_sentences"], json!(["It are black."]));
    let originals: Vec<&str> = f["corrections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["original"].as_str().unwrap())
        .collect();
    assert_eq!(originals, ["has", "are", "sleep"]);
    let asked: Vec<String> = llm
        .check_requests()
        .iter()
        .map(|r| {
            r["messages"].as_array().unwrap().last().unwrap()["content"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(asked, ["I has a cat.", "It are black.", "She sleep a lot!"]);
    assert_eq!(body["quota"]["used"], 1, "one check, one request");

    // Checked again: the two sentences the model answered come from the
    // cache; only the one that failed is asked again.
    check(&app, &user, text).await.expect(200);
    assert_eq!(llm.check_requests().len(), 4);
    // Another learner's check of the same text is not answered from this one's cache.
    let other = app.signup("other_learner").await;
    check(&app, &other, text).await.expect(200);
    assert_eq!(llm.check_requests().len(), 7);
}

#[tokio::test]
async fn the_corrected_sentence_is_kept_whatever_follows_it_and_rules_fix_what_the_model_missed() {
    let llm = FakeLlm::start(Mode::Answer("unused".into())).await;
    // Keys repeated inside a note and the answer cut off (seen from a 1.5B model).
    llm.set_check(CheckMode::Answer(
        r#"{"corrected": "Yesterday I goed to the cinema with my friend.", "notes": [{"wrong": "freind", "right": "friend", "why": "x", "wrong": "#.into(),
    ));
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("robust").await;
    let body = check(&app, &user, "Yesterday I goed to the cinema with my freind.")
        .await
        .expect(200);
    assert_eq!(
        body["feedback"]["corrected_text"],
        "Yesterday I went to the cinema with my friend."
    );
    let corrections = body["feedback"]["corrections"].as_array().unwrap();
    assert_eq!(corrections.len(), 2, "{body}");
    assert_eq!(
        corrections[0]["explanation"],
        "‘go’ is irregular: its past tense is ‘went’."
    );
    assert_eq!(corrections[1]["explanation"], "‘freind’ is spelt ‘friend’.");
}

#[tokio::test]
async fn a_failed_or_unusable_check_is_an_error_and_not_counted() {
    let llm = FakeLlm::start(Mode::Answer("unused".into())).await;
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("unlucky").await;
    llm.set_check(CheckMode::Status(500));
    check(&app, &user, "I has a cat.")
        .await
        .expect_error(502, "bot_upstream_error");
    llm.set_check(corrected("Cats are lovely animals, do you have one?"));
    let err = check(&app, &user, "I has a cat.")
        .await
        .expect_error(502, "bot_upstream_error");
    assert!(err["message"].as_str().unwrap().contains("not counted"), "{err}");
    llm.set_check(CheckMode::Answer("{\"corrected\": ".into()));
    check(&app, &user, "I has a cat.")
        .await
        .expect_error(502, "bot_upstream_error");
    let q = quota(&app, &user).await;
    assert_eq!(q["used"], 0, "{q}");
}

#[tokio::test]
async fn a_server_without_json_mode_is_asked_again_with_a_plain_prompt_and_remembered() {
    let llm = FakeLlm::start(Mode::Answer("unused".into())).await;
    llm.set_check(CheckMode::NoJsonMode(
        "```json\n{\"corrected\": \"I have a cat.\"}\n```".into(),
    ));
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("oldserver").await;
    let body = check(&app, &user, "I has a cat.").await.expect(200);
    assert_eq!(body["feedback"]["corrections"][0]["original"], "has");
    check(&app, &user, "i has a cat").await.expect(200);
    let requests = llm.check_requests();
    let with_schema: Vec<bool> = requests.iter().map(|r| r.get("response_format").is_some()).collect();
    assert_eq!(with_schema, [true, false, false], "refused once, then never sent again");
    assert_eq!(quota(&app, &user).await["used"], 2);
}

#[tokio::test]
async fn checks_share_the_daily_quota_and_validate_their_input() {
    let llm = FakeLlm::start(Mode::Answer("Sure!".into())).await;
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("counter").await;
    let chat = app.bot_chat(&user, None).await;
    for i in 0..3 {
        app.send(&user, &chat, &format!("message {i}")).await;
    }
    check(&app, &user, "one").await.expect(200);
    check(&app, &user, "two").await.expect(200);
    let err = check(&app, &user, "three")
        .await
        .expect_error(429, "daily_quota_exceeded");
    assert_eq!(err["remaining"], 0);
    assert_eq!(llm.check_requests().len(), 5, "three exchanges and two checks");

    let err = check(&app, &user, "   ").await.expect_error(400, "validation_failed");
    assert_eq!(err["field"], "text");
    let long = "x".repeat(2001);
    check(&app, &user, &long).await.expect_error(400, "validation_failed");

    let app = spawn_app().await;
    let user = app.signup("nobot").await;
    check(&app, &user, "Hello").await.expect_error(503, "bot_unavailable");
}

#[tokio::test]
async fn a_client_that_leaves_during_a_check_gets_its_request_back() {
    let llm = FakeLlm::start(Mode::Answer("unused".into())).await;
    llm.set_check(CheckMode::Stall);
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("impatient").await;
    let gone = app
        .client
        .post(app.url("/api/v1/bot/check"))
        .bearer_auth(&user.access)
        .json(&json!({"text": "I has a cat."}))
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(gone.is_err(), "the client gave up");
    for _ in 0..50 {
        if llm.abandoned_checks() == 1 && quota(&app, &user).await["used"] == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the check was not cancelled and refunded: abandoned {}, quota {}",
        llm.abandoned_checks(),
        quota(&app, &user).await
    );
}

#[tokio::test]
async fn the_notebook_keeps_every_correction_newest_first_and_pages_by_chat() {
    let llm = FakeLlm::start(Mode::Answer("Go on!".into())).await;
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("notebook").await;
    let other = app.signup("stranger").await;
    let first = app.bot_chat(&user, None).await;
    let second = app.bot_chat(&user, Some("restaurant")).await;
    llm.set_check(corrected("Yesterday I went to the cinema with my friend."));
    app.send(&user, &first, "Yesterday I goed to the cinema with my freind.")
        .await;
    llm.set_check(corrected("I would like the soup, please."));
    let sent = app.send(&user, &second, "I would like the soup please.").await;

    let page = app.get("/api/v1/me/mistakes", &user.access).await.expect(200);
    let items = page["items"].as_array().unwrap();
    let summary: Vec<(&str, &str, &str)> = items
        .iter()
        .map(|m| {
            (
                m["original"].as_str().unwrap(),
                m["corrected"].as_str().unwrap(),
                m["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("soup", "soup,", "punctuation"),
            ("freind", "friend", "spelling"),
            ("goed", "went", "grammar")
        ]
    );
    assert_eq!(items[0]["chat_id"], second.as_str());
    assert_eq!(items[0]["message_id"], sent["message"]["id"]);
    assert!(items[0]["created_at"].is_string() && items[0]["explanation"].is_string());

    let only_first = app
        .get(&format!("/api/v1/me/mistakes?chat_id={first}"), &user.access)
        .await
        .expect(200);
    assert_eq!(only_first["items"].as_array().unwrap().len(), 2);
    let paged = app.all_pages("/api/v1/me/mistakes?limit=1", &user.access).await;
    let ids: Vec<&Value> = paged.iter().map(|m| &m["id"]).collect();
    let all: Vec<&Value> = items.iter().map(|m| &m["id"]).collect();
    assert_eq!(ids, all, "each entry on exactly one page, same order");
    app.get("/api/v1/me/mistakes?cursor=nonsense", &user.access)
        .await
        .expect_error(400, "validation_failed");

    let theirs = app.get("/api/v1/me/mistakes", &other.access).await.expect(200);
    assert_eq!(theirs["items"], json!([]), "a notebook is private");

    // Deleting a practice chat takes its corrections with it.
    app.delete(&format!("/api/v1/chats/{second}"), &user.access)
        .await
        .expect(204);
    let page = app.get("/api/v1/me/mistakes", &user.access).await.expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn progress_counts_practice_per_day_with_rates_and_kinds() {
    let llm = FakeLlm::start(Mode::Answer("Go on!".into())).await;
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("progressing").await;
    let chat = app.bot_chat(&user, None).await;
    // 10 words, two mistakes.
    llm.set_check(corrected("Yesterday I went to the cinema with my best friend."));
    app.send(&user, &chat, "Yesterday I goed to the cinema with my best freind.")
        .await;
    // 5 words, checked, none.
    llm.set_check(CheckMode::Echo);
    app.send(&user, &chat, "It was a great film.").await;
    // 4 words, not checked: counted as practice, not in the rate.
    llm.set_check(CheckMode::Status(500));
    app.send(&user, &chat, "Have you seen it?").await;

    let p = app.get("/api/v1/me/progress?days=7", &user.access).await.expect(200);
    let days = p["days"].as_array().unwrap();
    assert_eq!(days.len(), 7, "one entry per day, today last");
    for d in &days[..6] {
        assert_eq!(
            (d["messages"].as_u64(), d["mistakes_per_100_words"].is_null()),
            (Some(0), true)
        );
    }
    let today = &days[6];
    assert_eq!(today["messages"], 3);
    assert_eq!(today["words"], 19);
    assert_eq!(today["mistakes"], 2);
    assert_eq!(today["mistakes_per_100_words"], 13.3, "2 mistakes in 15 checked words");
    assert_eq!(
        today["kinds"],
        json!([{"kind": "grammar", "count": 1}, {"kind": "spelling", "count": 1}])
    );
    assert!(days[5]["date"].as_str().unwrap() < today["date"].as_str().unwrap());
    assert_eq!(
        (p["messages"].as_u64(), p["words"].as_u64(), p["mistakes"].as_u64()),
        (Some(3), Some(19), Some(2))
    );
    assert_eq!(p["mistakes_per_100_words"], 13.3);
    assert_eq!(p["checked_words"], 15, "the rate's base is shown with it");
    assert_eq!(p["kinds"], today["kinds"]);

    let default = app.get("/api/v1/me/progress", &user.access).await.expect(200);
    assert_eq!(default["days"].as_array().unwrap().len(), 30);
    for bad in ["0", "366", "many"] {
        app.get(&format!("/api/v1/me/progress?days={bad}"), &user.access)
            .await
            .expect_error(400, "validation_failed");
    }
}

#[tokio::test]
async fn a_summary_counts_the_practice_reaches_goals_and_adds_the_tutors_words() {
    let llm = FakeLlm::start(Mode::Answer("Coming right up!".into())).await;
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("diner").await;
    let chat = app.bot_chat(&user, Some("restaurant")).await;
    let summary_path = format!("/api/v1/chats/{chat}/summary");
    let err = app
        .post(&summary_path, &user.access, json!({}))
        .await
        .expect_error(409, "conflict");
    assert!(
        err["message"].as_str().unwrap().contains("nothing to summarise"),
        "{err}"
    );

    llm.set_check(corrected("Can I have a water, please"));
    app.send(&user, &chat, "Can I have a water please").await;
    llm.set_check(CheckMode::Echo);
    app.send(&user, &chat, "I would like the chicken.").await;

    llm.set_mode(Mode::Answer(
        json!({"went_well": "You ordered politely and clearly.",
               "phrases": ["Could I have the bill, please?", "x", "What do you recommend?"]})
        .to_string(),
    ));
    let reply = app.post(&summary_path, &user.access, json!({})).await;
    assert_eq!(reply.headers["ratelimit-remaining"], "2");
    let s = reply.expect(200);
    assert_eq!(
        (s["messages"].as_u64(), s["words"].as_u64(), s["mistakes"].as_u64()),
        (Some(2), Some(11), Some(1))
    );
    assert_eq!(s["went_well"], "You ordered politely and clearly.");
    assert_eq!(
        s["phrases"],
        json!([
            "Could I have the bill, please?",
            "What do you recommend?",
            "Can I have a water, please"
        ]),
        "the tutor's phrases, topped up with the learner's corrected sentence"
    );
    assert_eq!(
        s["goals"],
        json!([
            {"goal": "Order a drink", "reached": true},
            {"goal": "Order a main course", "reached": true},
            {"goal": "Ask for the bill", "reached": false}
        ])
    );
    assert_eq!(
        s["recurring_mistakes"],
        json!([{"kind": "punctuation", "count": 1, "examples": [{"original": "water", "corrected": "water,"}]}])
    );
    assert_eq!(s["quota"]["used"], 3, "two exchanges and the summary");
    let request = llm.last_request();
    assert_eq!(request["response_format"]["type"], "json_schema");
    let transcript = request["messages"][1]["content"].as_str().unwrap();
    assert!(
        transcript.starts_with("Learner: Can I have a water please\nPartner: Coming right up!"),
        "{transcript}"
    );

    // An unusable answer still gives a summary, from the counts.
    llm.set_mode(Mode::Answer("Great job!!!".into()));
    let s = app.post(&summary_path, &user.access, json!({})).await.expect(200);
    assert_eq!(
        s["went_well"],
        "You wrote 2 messages (11 words) in English, and 1 of the 2 the tutor checked had no mistakes."
    );
    assert_eq!(s["phrases"], json!(["Can I have a water, please"]));
    // A failing model: an error, not counted.
    llm.set_mode(Mode::Status(500));
    app.post(&summary_path, &user.access, json!({}))
        .await
        .expect_error(502, "bot_upstream_error");
    assert_eq!(quota(&app, &user).await["used"], 4);

    // Only for one's own bot chats.
    let friend = app.signup("waiter").await;
    app.post(&summary_path, &friend.access, json!({}))
        .await
        .expect_error(404, "not_found");
    let direct = app.direct_chat(&user, &friend).await;
    app.post(&format!("/api/v1/chats/{direct}/summary"), &user.access, json!({}))
        .await
        .expect_error(400, "validation_failed");
}

#[tokio::test]
async fn a_practice_chats_goals_tick_as_they_are_reached_for_free() {
    let llm = FakeLlm::start(Mode::Answer("Coming right up!".into())).await;
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("goal_getter").await;
    let chat = app.bot_chat(&user, Some("restaurant")).await;
    let goals_path = format!("/api/v1/chats/{chat}/goals");
    let none = app.get(&goals_path, &user.access).await.expect(200);
    assert_eq!(
        none,
        json!({"items": [
            {"goal": "Order a drink", "reached": false},
            {"goal": "Order a main course", "reached": false},
            {"goal": "Ask for the bill", "reached": false}
        ], "next_cursor": null})
    );
    app.send(&user, &chat, "Can you bring me the bill please?").await;
    let page = app.get(&goals_path, &user.access).await.expect(200);
    assert_eq!(page["items"][2], json!({"goal": "Ask for the bill", "reached": true}));
    assert_eq!(page["items"][0]["reached"], false);
    let quota = app.get("/api/v1/bot/quota", &user.access).await.expect(200);
    assert_eq!(quota["used"], 1, "reading the goals costs nothing: {quota}");

    // A friend chat has no goals; someone else's chat is not found.
    let friend = app.signup("goal_friend").await;
    let direct = app.direct_chat(&user, &friend).await;
    app.get(&format!("/api/v1/chats/{direct}/goals"), &user.access)
        .await
        .expect_error(400, "validation_failed");
    app.get(&goals_path, &friend.access)
        .await
        .expect_error(404, "not_found");
}

#[tokio::test]
async fn a_review_opens_again_for_free_and_works_with_no_practice_left() {
    let llm = FakeLlm::start(Mode::Answer("Coming right up!".into())).await;
    let app = spawn_app_with_bot(&llm, |s| s.bot_daily_limit = 2).await;
    let user = app.signup("reviewer").await;
    let chat = app.bot_chat(&user, Some("restaurant")).await;
    let path = format!("/api/v1/chats/{chat}/summary");
    app.get(&path, &user.access).await.expect_error(409, "conflict");

    llm.set_check(corrected("Can I have a water, please"));
    app.send(&user, &chat, "Can I have a water please").await;
    // The free review: from the chat alone, no model call, nothing counted.
    let calls = llm.calls();
    let free = app.get(&path, &user.access).await.expect(200);
    assert_eq!(llm.calls(), calls, "no model call");
    assert_eq!(free["by_tutor"], false);
    assert_eq!(
        free["went_well"],
        "You wrote 1 message (6 words) in English, and the tutor corrected it."
    );
    assert_eq!(free["phrases"], json!(["Can I have a water, please"]));
    assert_eq!(free["goals"][0], json!({"goal": "Order a drink", "reached": true}));
    assert_eq!(free["quota"]["used"], 1);

    // The tutor's words cost one request and are kept.
    llm.set_mode(Mode::Answer(
        json!({"went_well": "You ordered politely.", "phrases": ["What do you recommend?"]}).to_string(),
    ));
    let asked = app.post(&path, &user.access, json!({})).await.expect(200);
    assert_eq!(
        (asked["by_tutor"].as_bool(), asked["quota"]["used"].as_u64()),
        (Some(true), Some(2))
    );
    let again = app.get(&path, &user.access).await.expect(200);
    assert_eq!(again["went_well"], "You ordered politely.");
    assert_eq!(
        again["phrases"],
        json!(["What do you recommend?", "Can I have a water, please"])
    );
    assert_eq!(again["by_tutor"], true);
    assert_eq!(
        again["quota"]["remaining"], 0,
        "no practice left, and the review still opens"
    );
    app.post(&path, &user.access, json!({}))
        .await
        .expect_error(429, "daily_quota_exceeded");
}
