use std::collections::HashSet;

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn messages_are_stored_and_listed_newest_first() {
    let app = spawn_app().await;
    let a = app.signup("anna").await;
    let b = app.signup("boris").await;
    let chat = app.direct_chat(&a, &b).await;
    let m = app.send(&a, &chat, "  Hello Boris!  ").await;
    assert_eq!(m["content"], "Hello Boris!");
    assert_eq!(m["sender_id"], a.id.to_string());
    assert_eq!(m["role"], "user");
    assert_eq!(m["chat_id"], chat);
    assert!(m["edited_at"].is_null());
    assert!(m["feedback"].is_null());
    app.send(&b, &chat, "Hi Anna").await;
    let history = app
        .get(&format!("/api/v1/chats/{chat}/messages"), &b.access)
        .await
        .expect(200);
    let contents: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["Hi Anna", "Hello Boris!"]);
}

#[tokio::test]
async fn message_content_limits() {
    let app = spawn_app().await;
    let a = app.signup("carla").await;
    let b = app.signup("dmitri").await;
    let chat = app.direct_chat(&a, &b).await;
    let path = format!("/api/v1/chats/{chat}/messages");
    for bad in [
        json!({"content": ""}),
        json!({"content": "   \n "}),
        json!({"content": "x".repeat(2001)}),
        json!({"content": 7}),
        json!({}),
    ] {
        app.post(&path, &a.access, bad)
            .await
            .expect_error(400, "validation_failed");
    }
    app.post(&path, &a.access, json!({"content": "x".repeat(2000)}))
        .await
        .expect(201);
    // 2000 characters, not bytes.
    app.post(&path, &a.access, json!({"content": "é".repeat(2000)}))
        .await
        .expect(201);
    app.post(
        &path,
        &a.access,
        json!({"content": format!("  {}  ", "y".repeat(2000))}),
    )
    .await
    .expect(201);
}

#[tokio::test]
async fn pagination_returns_every_message_exactly_once() {
    let app = spawn_app().await;
    let a = app.signup("elena").await;
    let b = app.signup("farid").await;
    let chat = app.direct_chat(&a, &b).await;
    let mut sent = Vec::new();
    for i in 0..23 {
        let sender = if i % 2 == 0 { &a } else { &b };
        sent.push(
            app.send(sender, &chat, &format!("message {i}")).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut received = Vec::new();
    let mut path = format!("/api/v1/chats/{chat}/messages?limit=5");
    loop {
        let page = app.get(&path, &a.access).await.expect(200);
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 5);
        received.extend(items.iter().map(|m| m["id"].as_str().unwrap().to_owned()));
        // Messages posted while paging do not disturb older pages.
        if received.len() == 10 {
            app.send(&a, &chat, "late arrival").await;
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/chats/{chat}/messages?limit=5&cursor={c}"),
            None => break,
        }
    }
    sent.reverse();
    assert_eq!(received, sent, "newest first, each exactly once");
    let unique: HashSet<_> = received.iter().collect();
    assert_eq!(unique.len(), 23);
}

#[tokio::test]
async fn authors_can_edit_and_delete_their_own_messages_only() {
    let app = spawn_app().await;
    let a = app.signup("gosia").await;
    let b = app.signup("hamid").await;
    let chat = app.direct_chat(&a, &b).await;
    let m = app.send(&a, &chat, "I goed home").await;
    let mid = m["id"].as_str().unwrap();
    let path = format!("/api/v1/chats/{chat}/messages/{mid}");

    app.patch(&path, &b.access, json!({"content": "hijack"}))
        .await
        .expect_error(403, "forbidden");
    app.delete(&path, &b.access).await.expect_error(403, "forbidden");

    let edited = app
        .patch(&path, &a.access, json!({"content": "I went home"}))
        .await
        .expect(200);
    assert_eq!(edited["content"], "I went home");
    assert!(edited["edited_at"].is_string());
    app.patch(&path, &a.access, json!({"content": ""}))
        .await
        .expect_error(400, "validation_failed");

    assert_eq!(app.delete(&path, &a.access).await.status, 204);
    let history = app
        .get(&format!("/api/v1/chats/{chat}/messages"), &a.access)
        .await
        .expect(200);
    assert_eq!(history["items"].as_array().unwrap().len(), 0);
    app.delete(&path, &a.access).await.expect_error(404, "not_found");
    app.patch(
        &format!("/api/v1/chats/{chat}/messages/{}", uuid::Uuid::now_v7()),
        &a.access,
        json!({"content": "x"}),
    )
    .await
    .expect_error(404, "not_found");
}

#[tokio::test]
async fn reading_clears_the_unread_count_and_never_moves_back() {
    let app = spawn_app().await;
    let a = app.signup("ines").await;
    let b = app.signup("jakub").await;
    let chat = app.direct_chat(&a, &b).await;
    let first = app.send(&b, &chat, "one").await;
    let _second = app.send(&b, &chat, "two").await;
    let third = app.send(&b, &chat, "three").await;
    let path = format!("/api/v1/chats/{chat}");
    let unread =
        async |app: &crate::helpers::TestApp| app.get(&path, &a.access).await.expect(200)["unread_count"].clone();
    assert_eq!(unread(&app).await, 3);
    let read = |mid: &serde_json::Value| json!({"message_id": mid});
    assert_eq!(
        app.post(&format!("/api/v1/chats/{chat}/read"), &a.access, read(&first["id"]))
            .await
            .status,
        204
    );
    assert_eq!(unread(&app).await, 2);
    assert_eq!(
        app.post(&format!("/api/v1/chats/{chat}/read"), &a.access, read(&third["id"]))
            .await
            .status,
        204
    );
    assert_eq!(unread(&app).await, 0);
    // Marking an older message read does not bring the others back.
    app.post(&format!("/api/v1/chats/{chat}/read"), &a.access, read(&first["id"]))
        .await;
    assert_eq!(unread(&app).await, 0);
    app.post(
        &format!("/api/v1/chats/{chat}/read"),
        &a.access,
        json!({"message_id": uuid::Uuid::now_v7()}),
    )
    .await
    .expect_error(404, "not_found");
}

#[tokio::test]
async fn an_acknowledged_message_survives_a_restart() {
    let app = spawn_app().await;
    let a = app.signup("lars").await;
    let b = app.signup("mina").await;
    let chat = app.direct_chat(&a, &b).await;
    let m = app.send(&a, &chat, "remember me").await;
    let app = app.restart().await;
    // Tokens stay valid: the generated JWT secret was kept in the data directory.
    let history = app
        .get(&format!("/api/v1/chats/{chat}/messages"), &b.access)
        .await
        .expect(200);
    assert_eq!(history["items"][0]["id"], m["id"]);
    assert_eq!(history["items"][0]["content"], "remember me");
}

#[tokio::test]
async fn two_instances_sharing_a_database_serve_the_same_history() {
    let one = spawn_app().await;
    let two = one.another_instance().await;
    let a = one.signup("nora").await;
    let b = two.signup("omar").await;
    let chat = one.direct_chat(&a, &b).await;
    one.send(&a, &chat, "sent via instance one").await;
    two.send(&b, &chat, "sent via instance two").await;
    let history = two
        .get(&format!("/api/v1/chats/{chat}/messages"), &a.access)
        .await
        .expect(200);
    let contents: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["sent via instance two", "sent via instance one"]);
}
