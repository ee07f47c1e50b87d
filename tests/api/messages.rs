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

/// Many writers post to one chat at once while its other member catches up
/// with `after=` and marks what it saw read, over and over. Commit order is the
/// order: the reader sees every message exactly once, in `seq` order, and no
/// message ever sits at or below the reader's marker without having been seen
/// (with ids made before the insert, PostgreSQL put up to 7 there per run).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_posts_never_fall_below_a_read_marker_unseen_and_catching_up_sees_each_once() {
    let app = crate::helpers::spawn_app_with(|s| s.database_max_connections = 16).await;
    let a = app.signup("writer").await;
    let b = app.signup("reader").await;
    let chat = app.direct_chat(&a, &b).await;
    const WRITERS: usize = 16;
    const EACH: usize = 40;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers = futures_util::future::join_all((0..WRITERS).map(|w| {
        let (app, a, chat) = (&app, &a, &chat);
        async move {
            for i in 0..EACH {
                app.send(a, chat, &format!("w{w} #{i}")).await;
            }
        }
    }));
    // (marker seq, what the reader had seen when it set it)
    let mut markers: Vec<(i64, HashSet<String>)> = Vec::new();
    let mut seen: Vec<(i64, String)> = Vec::new();
    let reader = async {
        let mut newest = 0i64;
        loop {
            let finished = done.load(std::sync::atomic::Ordering::SeqCst);
            let mut path = format!("/api/v1/chats/{chat}/messages?limit=20&after={newest}");
            loop {
                let page = app.get(&path, &b.access).await.expect(200);
                for m in page["items"].as_array().unwrap() {
                    let seq = m["seq"].as_i64().unwrap();
                    assert!(seq > newest, "catch-up went backwards: {seq} after {newest}");
                    newest = seq;
                    seen.push((seq, m["id"].as_str().unwrap().to_owned()));
                }
                match page["next_cursor"].as_str() {
                    Some(c) => path = format!("/api/v1/chats/{chat}/messages?limit=20&cursor={c}"),
                    None => break,
                }
            }
            if let Some((seq, id)) = seen.last() {
                if markers.last().map(|(s, _)| s) != Some(seq) {
                    app.post(
                        &format!("/api/v1/chats/{chat}/read"),
                        &b.access,
                        json!({"message_id": id}),
                    )
                    .await;
                    markers.push((*seq, seen.iter().map(|(_, id)| id.clone()).collect()));
                }
            }
            if finished {
                break;
            }
            tokio::task::yield_now().await;
        }
    };
    let writers = async {
        writers.await;
        done.store(true, std::sync::atomic::Ordering::SeqCst);
    };
    tokio::join!(writers, reader);

    let all = app
        .all_pages(&format!("/api/v1/chats/{chat}/messages?limit=100"), &a.access)
        .await;
    assert_eq!(all.len(), WRITERS * EACH);
    let ids: HashSet<&str> = seen.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(ids.len(), seen.len(), "the reader saw a message twice");
    assert_eq!(ids.len(), all.len(), "the reader missed messages");
    assert!(
        markers.len() > 2,
        "the reader marked the chat read while posts went on: {} times",
        markers.len()
    );
    for (marker, seen_then) in &markers {
        for m in &all {
            if m["seq"].as_i64().unwrap() <= *marker {
                assert!(
                    seen_then.contains(m["id"].as_str().unwrap()),
                    "{} is at or below the marker {marker} but was never seen",
                    m["id"]
                );
            }
        }
    }
    // The unread count is what lies above the reader's marker: nothing here.
    let listed = app.get(&format!("/api/v1/chats/{chat}"), &b.access).await.expect(200);
    assert_eq!(listed["unread_count"], 0);
    let mut seqs: Vec<i64> = all.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    seqs.reverse();
    assert_eq!(
        seqs,
        (1..=all.len() as i64).collect::<Vec<_>>(),
        "numbered 1, 2, ... with no gap"
    );
}

#[tokio::test]
async fn catching_up_lists_forwards_from_a_seq_and_old_cursors_still_work() {
    let app = spawn_app().await;
    let a = app.signup("olek").await;
    let b = app.signup("pia").await;
    let chat = app.direct_chat(&a, &b).await;
    let mut sent = Vec::new();
    for i in 0..7 {
        sent.push(app.send(&a, &chat, &format!("m{i}")).await);
    }
    let seqs: Vec<i64> = sent.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    // After the third: the other four, oldest first, three to a page.
    let base = format!("/api/v1/chats/{chat}/messages");
    let first = app
        .get(&format!("{base}?limit=3&after={}", seqs[2]), &b.access)
        .await
        .expect(200);
    let contents = |page: &serde_json::Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["content"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(contents(&first), ["m3", "m4", "m5"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!("{base}?limit=3&cursor={cursor}"), &b.access)
        .await
        .expect(200);
    assert_eq!(contents(&second), ["m6"]);
    assert!(second["next_cursor"].is_null());
    // Caught up: nothing after the newest.
    let none = app
        .get(&format!("{base}?after={}", seqs[6]), &b.access)
        .await
        .expect(200);
    assert!(none["items"].as_array().unwrap().is_empty());
    app.get(&format!("{base}?after=-1"), &b.access)
        .await
        .expect_error(400, "validation_failed");
    // A cursor given out before messages had a seq (the message id) still pages back.
    use base64::Engine;
    let legacy = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sent[4]["id"].as_str().unwrap());
    let older = app
        .get(&format!("{base}?limit=10&cursor={legacy}"), &b.access)
        .await
        .expect(200);
    assert_eq!(contents(&older), ["m3", "m2", "m1", "m0"]);
    app.get(&format!("{base}?cursor=YjEyYQ"), &b.access)
        .await
        .expect_error(400, "validation_failed");
}
