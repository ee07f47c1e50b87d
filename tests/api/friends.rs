use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_request_is_outgoing_for_the_sender_and_incoming_for_the_receiver() {
    let app = spawn_app().await;
    let a = app.signup("amy").await;
    let b = app.signup("ben").await;
    let f = app
        .post("/api/v1/friends", &a.access, json!({"username": "BEN"}))
        .await
        .expect(201);
    assert_eq!(f["status"], "outgoing");
    assert_eq!(f["user"]["username"], "ben");

    let theirs = app.get("/api/v1/friends", &b.access).await.expect(200);
    assert_eq!(theirs["items"][0]["status"], "incoming");
    assert_eq!(theirs["items"][0]["user"]["id"], a.id.to_string());

    let accepted = app
        .post(&format!("/api/v1/friends/{}/accept", a.id), &b.access, json!({}))
        .await
        .expect(200);
    assert_eq!(accepted["status"], "accepted");
    let mine = app.get("/api/v1/friends?status=accepted", &a.access).await.expect(200);
    assert_eq!(mine["items"][0]["user"]["username"], "ben");
    let pending = app.get("/api/v1/friends?status=incoming", &a.access).await.expect(200);
    assert_eq!(pending["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn asking_someone_who_asked_you_accepts_at_once() {
    let app = spawn_app().await;
    let a = app.signup("cat").await;
    let b = app.signup("dan").await;
    app.post("/api/v1/friends", &a.access, json!({"username": "dan"}))
        .await
        .expect(201);
    let f = app
        .post("/api/v1/friends", &b.access, json!({"username": "cat"}))
        .await
        .expect(201);
    assert_eq!(f["status"], "accepted");
}

#[tokio::test]
async fn friend_request_conflicts_and_unknown_users() {
    let app = spawn_app().await;
    let a = app.signup("eve").await;
    let b = app.signup("fay").await;
    app.post("/api/v1/friends", &a.access, json!({"username": "eve"}))
        .await
        .expect_error(409, "conflict");
    app.post("/api/v1/friends", &a.access, json!({"username": "ghost"}))
        .await
        .expect_error(404, "not_found");
    app.post("/api/v1/friends", &a.access, json!({"username": "fay"}))
        .await
        .expect(201);
    app.post("/api/v1/friends", &a.access, json!({"username": "fay"}))
        .await
        .expect_error(409, "conflict");
    app.post(&format!("/api/v1/friends/{}/accept", a.id), &b.access, json!({}))
        .await
        .expect(200);
    app.post("/api/v1/friends", &b.access, json!({"username": "eve"}))
        .await
        .expect_error(409, "conflict");
}

#[tokio::test]
async fn only_the_receiver_can_accept() {
    let app = spawn_app().await;
    let a = app.signup("gil").await;
    let b = app.signup("hal").await;
    app.post("/api/v1/friends", &a.access, json!({"username": "hal"}))
        .await
        .expect(201);
    app.post(&format!("/api/v1/friends/{}/accept", b.id), &a.access, json!({}))
        .await
        .expect_error(404, "not_found");
}

#[tokio::test]
async fn decline_cancel_and_unfriend_remove_the_link() {
    let app = spawn_app().await;
    let a = app.signup("ida").await;
    let b = app.signup("jon").await;
    // Decline.
    app.post("/api/v1/friends", &a.access, json!({"username": "jon"}))
        .await
        .expect(201);
    assert_eq!(
        app.delete(&format!("/api/v1/friends/{}", a.id), &b.access).await.status,
        204
    );
    assert_eq!(
        app.get("/api/v1/friends", &a.access).await.expect(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // Cancel.
    app.post("/api/v1/friends", &a.access, json!({"username": "jon"}))
        .await
        .expect(201);
    assert_eq!(
        app.delete(&format!("/api/v1/friends/{}", b.id), &a.access).await.status,
        204
    );
    // Unfriend.
    app.befriend(&a, &b).await;
    assert_eq!(
        app.delete(&format!("/api/v1/friends/{}", a.id), &b.access).await.status,
        204
    );
    assert_eq!(
        app.get("/api/v1/friends", &b.access).await.expect(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // Nothing left to remove.
    app.delete(&format!("/api/v1/friends/{}", a.id), &b.access)
        .await
        .expect_error(404, "not_found");
}

#[tokio::test]
async fn friend_list_pages_cover_everyone_once() {
    let app = spawn_app().await;
    let me = app.signup("popular").await;
    for i in 0..5 {
        let f = app.signup(&format!("fan{i}")).await;
        app.post("/api/v1/friends", &f.access, json!({"username": "popular"}))
            .await
            .expect(201);
    }
    let first = app.get("/api/v1/friends?limit=2", &me.access).await.expect(200);
    let mut ids: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["user"]["id"].to_string())
        .collect();
    let mut cursor = first["next_cursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let page = app
            .get(&format!("/api/v1/friends?limit=2&cursor={c}"), &me.access)
            .await
            .expect(200);
        ids.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["user"]["id"].to_string()),
        );
        cursor = page["next_cursor"].as_str().map(str::to_owned);
    }
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(ids.len(), 5);
    assert_eq!(unique.len(), 5);
}
