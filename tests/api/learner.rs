//! A reason to come back: the daily goal and streak, and practising one's own
//! mistakes (Leitner boxes).
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::{
    fake_llm::{corrected, FakeLlm, Mode},
    helpers::{spawn_app_with_bot, TestApp, TestUser},
};

async fn progress(app: &TestApp, user: &TestUser) -> Value {
    app.get("/api/v1/me/progress?days=3", &user.access).await.expect(200)
}

fn goal_and_streak(p: &Value) -> (u64, u64, bool, u64) {
    (
        p["goal"]["messages_per_day"].as_u64().unwrap(),
        p["goal"]["today"].as_u64().unwrap(),
        p["goal"]["met"].as_bool().unwrap(),
        p["streak"].as_u64().unwrap(),
    )
}

#[tokio::test]
async fn the_streak_counts_days_with_the_goal_met_in_the_quota_time_zone() {
    let llm = FakeLlm::start(Mode::Answer("Go on!".into())).await;
    let app = spawn_app_with_bot(&llm, |s| s.quota_timezone = "Asia/Tokyo".into()).await;
    let user = app.signup("streaker").await;
    let chat = app.bot_chat(&user, None).await;
    assert_eq!(
        goal_and_streak(&progress(&app, &user).await),
        (3, 0, false, 0),
        "3 a day by default"
    );
    for bad in [json!(0), json!(6), json!(-1), json!("two")] {
        app.patch("/api/v1/me", &user.access, json!({"daily_goal": bad}))
            .await
            .expect_error(400, "validation_failed");
    }
    let me = app
        .patch("/api/v1/me", &user.access, json!({"daily_goal": 2}))
        .await
        .expect(200);
    assert_eq!(me["daily_goal"], 2);
    assert_eq!(app.get("/api/v1/me", &user.access).await.expect(200)["daily_goal"], 2);

    // A minute before midnight in Tokyo (15:00 UTC): the goal met that day.
    let quota = app.get("/api/v1/bot/quota", &user.access).await.expect(200);
    let midnight: DateTime<Utc> = quota["resets_at"].as_str().unwrap().parse().unwrap();
    app.clock.advance(midnight - app.clock.now() - Duration::seconds(60));
    app.send(&user, &chat, "Hello there.").await;
    assert_eq!(goal_and_streak(&progress(&app, &user).await), (2, 1, false, 0));
    app.send(&user, &chat, "How are you?").await;
    assert_eq!(goal_and_streak(&progress(&app, &user).await), (2, 2, true, 1));

    // Two minutes later it is the next day there: the streak stands until
    // that day ends, and grows when its goal is met.
    app.clock.advance(Duration::seconds(120));
    assert_eq!(goal_and_streak(&progress(&app, &user).await), (2, 0, false, 1));
    app.send(&user, &chat, "Good morning.").await;
    assert_eq!(goal_and_streak(&progress(&app, &user).await), (2, 1, false, 1));
    app.send(&user, &chat, "I slept well.").await;
    assert_eq!(goal_and_streak(&progress(&app, &user).await), (2, 2, true, 2));

    // Raising the goal counts today against the new one, not past days.
    app.patch("/api/v1/me", &user.access, json!({"daily_goal": 3}))
        .await
        .expect(200);
    assert_eq!(goal_and_streak(&progress(&app, &user).await), (3, 2, false, 1));
    app.send(&user, &chat, "Then I had breakfast.").await;
    assert_eq!(goal_and_streak(&progress(&app, &user).await), (3, 3, true, 2));

    // A whole day without practice ends it.
    app.clock.advance(Duration::hours(48));
    assert_eq!(goal_and_streak(&progress(&app, &user).await), (3, 0, false, 0));
}

async fn review(app: &TestApp, user: &TestUser) -> Vec<Value> {
    app.all_pages("/api/v1/me/review?limit=1", &user.access).await
}

async fn answer(app: &TestApp, user: &TestUser, id: &Value, answer: &str) -> Value {
    app.post(
        &format!("/api/v1/me/review/{}", id.as_str().unwrap()),
        &user.access,
        json!({"answer": answer}),
    )
    .await
    .expect(200)
}

#[tokio::test]
async fn mistakes_come_back_as_exercises_spaced_by_leitner_boxes_for_free() {
    let llm = FakeLlm::start(Mode::Answer("Nice!".into())).await;
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let user = app.signup("reviewer").await;
    let stranger = app.signup("nosy").await;
    let chat = app.bot_chat(&user, None).await;
    assert!(review(&app, &user).await.is_empty());
    llm.set_check(corrected("Yesterday I went to the cinema."));
    app.send(&user, &chat, "Yesterday I goed to the cinema.").await;

    let notebook = app.get("/api/v1/me/mistakes", &user.access).await.expect(200);
    assert_eq!(notebook["items"][0]["sentence"], "Yesterday I goed to the cinema.");

    let due = review(&app, &user).await;
    assert_eq!(due.len(), 1, "{notebook}");
    let item = &due[0];
    let id = item["id"].clone();
    assert_eq!(id, notebook["items"][0]["id"]);
    assert_eq!(
        (item["exercise"].as_str(), item["prompt"].as_str(), item["box"].as_i64()),
        (Some("choose"), Some("Yesterday I ___ to the cinema."), Some(0))
    );
    let choices: Vec<&str> = item["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(choices.len(), 3);
    assert!(choices.contains(&"went") && choices.contains(&"goed"), "{choices:?}");
    assert_eq!(progress(&app, &user).await["review_due"], 1);

    // Wrong: back to box 0 and still due today, with the right answer shown.
    let wrong = answer(&app, &user, &id, "goed").await;
    assert_eq!(
        (
            wrong["correct"].as_bool(),
            wrong["expected"].as_str(),
            wrong["box"].as_i64()
        ),
        (Some(false), Some("went"), Some(0))
    );
    assert_eq!(review(&app, &user).await.len(), 1);
    // Right: box 1, back tomorrow.
    let right = answer(&app, &user, &id, " Went ").await;
    assert_eq!(
        (right["correct"].as_bool(), right["box"].as_i64()),
        (Some(true), Some(1))
    );
    assert!(review(&app, &user).await.is_empty());
    assert_eq!(progress(&app, &user).await["review_due"], 0);

    // Tomorrow it is asked the other way: the sentence to write again.
    app.clock.advance(Duration::hours(24));
    let due = review(&app, &user).await;
    assert_eq!(due.len(), 1);
    assert_eq!(
        (
            due[0]["exercise"].as_str(),
            due[0]["prompt"].as_str(),
            due[0]["choices"].clone()
        ),
        (Some("rewrite"), Some("Yesterday I goed to the cinema."), json!([]))
    );
    let right = answer(&app, &user, &id, "yesterday I went to  the cinema").await;
    assert_eq!(
        (right["correct"].as_bool(), right["box"].as_i64()),
        (Some(true), Some(2))
    );
    let due_day = right["due"].as_str().unwrap().to_owned();
    app.clock.advance(Duration::hours(48));
    assert!(review(&app, &user).await.is_empty(), "box 2 waits three days");
    app.clock.advance(Duration::hours(24));
    assert_eq!(review(&app, &user).await.len(), 1, "due on {due_day}");

    // Private, validated, and free: only the one practice message was counted.
    app.post(
        &format!("/api/v1/me/review/{}", id.as_str().unwrap()),
        &stranger.access,
        json!({"answer": "went"}),
    )
    .await
    .expect_error(404, "not_found");
    app.post(
        &format!("/api/v1/me/review/{}", id.as_str().unwrap()),
        &user.access,
        json!({"answer": "  "}),
    )
    .await
    .expect_error(400, "validation_failed");
    app.get("/api/v1/me/review?cursor=bad", &user.access)
        .await
        .expect_error(400, "validation_failed");
    assert_eq!(llm.check_requests().len(), 1);
}
