use std::time::Duration;

use serde_json::json;

use crate::{helpers::spawn_app, realtime::Ws};

#[tokio::test]
async fn friends_get_one_direct_chat_however_often_they_open_it() {
    let app = spawn_app().await;
    let a = app.signup("kim").await;
    let b = app.signup("lee").await;
    app.befriend(&a, &b).await;
    let chat = app
        .post("/api/v1/chats", &a.access, json!({"kind": "direct", "user_id": b.id}))
        .await
        .expect(201);
    assert_eq!(chat["kind"], "direct");
    assert_eq!(chat["title"], "lee");
    assert_eq!(chat["peer"]["username"], "lee");
    assert!(chat["scenario_id"].is_null());
    assert!(chat["level"].is_null());
    assert!(chat["last_message"].is_null());
    assert_eq!(chat["unread_count"], 0);

    let again = app
        .post("/api/v1/chats", &b.access, json!({"kind": "direct", "user_id": a.id}))
        .await
        .expect(200);
    assert_eq!(again["id"], chat["id"]);
    assert_eq!(again["peer"]["username"], "kim");
}

#[tokio::test]
async fn direct_chats_need_an_accepted_friendship() {
    let app = spawn_app().await;
    let a = app.signup("moe").await;
    let b = app.signup("ned").await;
    app.post("/api/v1/chats", &a.access, json!({"kind": "direct", "user_id": b.id}))
        .await
        .expect_error(403, "forbidden");
    app.post("/api/v1/friends", &a.access, json!({"username": "ned"}))
        .await
        .expect(201);
    app.post("/api/v1/chats", &a.access, json!({"kind": "direct", "user_id": b.id}))
        .await
        .expect_error(403, "forbidden");
    app.post(
        "/api/v1/chats",
        &a.access,
        json!({"kind": "direct", "user_id": uuid::Uuid::now_v7()}),
    )
    .await
    .expect_error(404, "not_found");
    app.post("/api/v1/chats", &a.access, json!({"kind": "direct", "user_id": a.id}))
        .await
        .expect_error(400, "validation_failed");
    app.post("/api/v1/chats", &a.access, json!({"kind": "group"}))
        .await
        .expect_error(400, "validation_failed");
}

#[tokio::test]
async fn bot_chats_can_be_created_renamed_and_deleted() {
    let app = spawn_app().await;
    let a = app.signup("olu").await;
    let chat = app
        .post(
            "/api/v1/chats",
            &a.access,
            json!({"kind": "bot", "scenario_id": "job_interview", "level": "B2"}),
        )
        .await
        .expect(201);
    assert_eq!(chat["kind"], "bot");
    assert_eq!(chat["title"], "Job interview");
    assert_eq!(chat["scenario_id"], "job_interview");
    assert_eq!(chat["level"], "B2");
    assert!(chat["peer"].is_null());
    let id = chat["id"].as_str().unwrap();

    let default = app
        .post("/api/v1/chats", &a.access, json!({"kind": "bot"}))
        .await
        .expect(201);
    assert_eq!(default["scenario_id"], "free_talk");
    assert_eq!(default["level"], "B1", "defaults to the learner's level");

    let renamed = app
        .patch(
            &format!("/api/v1/chats/{id}"),
            &a.access,
            json!({"title": "  Practice for Friday  ", "level": "C1"}),
        )
        .await
        .expect(200);
    assert_eq!(renamed["title"], "Practice for Friday");
    assert_eq!(renamed["level"], "C1");
    assert_eq!(renamed["scenario_id"], "job_interview");

    app.patch(&format!("/api/v1/chats/{id}"), &a.access, json!({"title": " "}))
        .await
        .expect_error(400, "validation_failed");
    app.patch(
        &format!("/api/v1/chats/{id}"),
        &a.access,
        json!({"title": "t".repeat(101)}),
    )
    .await
    .expect_error(400, "validation_failed");
    app.patch(
        &format!("/api/v1/chats/{id}"),
        &a.access,
        json!({"scenario_id": "space_walk"}),
    )
    .await
    .expect_error(400, "validation_failed");
    app.post(
        "/api/v1/chats",
        &a.access,
        json!({"kind": "bot", "scenario_id": "nope"}),
    )
    .await
    .expect_error(400, "validation_failed");

    assert_eq!(app.delete(&format!("/api/v1/chats/{id}"), &a.access).await.status, 204);
    app.get(&format!("/api/v1/chats/{id}"), &a.access)
        .await
        .expect_error(404, "not_found");
}

#[tokio::test]
async fn direct_chats_cannot_be_renamed() {
    let app = spawn_app().await;
    let a = app.signup("pia").await;
    let b = app.signup("quin").await;
    let chat = app.direct_chat(&a, &b).await;
    app.patch(&format!("/api/v1/chats/{chat}"), &a.access, json!({"title": "ours"}))
        .await
        .expect_error(400, "validation_failed");
}

#[tokio::test]
async fn chats_are_listed_by_activity_with_last_message_and_unread_count() {
    let app = spawn_app().await;
    let me = app.signup("rae").await;
    let b = app.signup("sam").await;
    let c = app.signup("tia").await;
    let with_b = app.direct_chat(&me, &b).await;
    let with_c = app.direct_chat(&me, &c).await;
    let bot = app
        .post("/api/v1/chats", &me.access, json!({"kind": "bot"}))
        .await
        .expect(201);

    app.send(&b, &with_b, "hi rae").await;
    app.send(&b, &with_b, "are you there?").await;
    let list = app.get("/api/v1/chats", &me.access).await.expect(200);
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [with_b.as_str(), bot["id"].as_str().unwrap(), with_c.as_str()]);
    assert_eq!(list["items"][0]["last_message"]["content"], "are you there?");
    assert_eq!(list["items"][0]["unread_count"], 2);

    // My own messages are never unread for me; they bump the chat to the top.
    app.send(&me, &with_c, "hello tia").await;
    let list = app.get("/api/v1/chats", &me.access).await.expect(200);
    assert_eq!(list["items"][0]["id"], with_c);
    assert_eq!(list["items"][0]["unread_count"], 0);
    let theirs = app.get("/api/v1/chats", &c.access).await.expect(200);
    assert_eq!(theirs["items"][0]["unread_count"], 1);
}

#[tokio::test]
async fn chat_list_pages_cover_every_chat_once() {
    let app = spawn_app().await;
    let me = app.signup("uma").await;
    for _ in 0..5 {
        app.post("/api/v1/chats", &me.access, json!({"kind": "bot"}))
            .await
            .expect(201);
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/chats?limit=2".to_owned();
    loop {
        let page = app.get(&path, &me.access).await.expect(200);
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/chats?limit=2&cursor={c}"),
            None => break,
        }
    }
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(seen.len(), 5);
    assert_eq!(unique.len(), 5);
    app.get("/api/v1/chats?cursor=%%%", &me.access)
        .await
        .expect_error(400, "validation_failed");
    app.get("/api/v1/chats?limit=0", &me.access)
        .await
        .expect_error(400, "validation_failed");
    app.get("/api/v1/chats?limit=101", &me.access)
        .await
        .expect_error(400, "validation_failed");
}

#[tokio::test]
async fn a_deleted_direct_chat_is_hidden_until_a_new_message_arrives() {
    let app = spawn_app().await;
    let a = app.signup("val").await;
    let b = app.signup("wes").await;
    let chat = app.direct_chat(&a, &b).await;
    app.send(&b, &chat, "first").await;
    assert_eq!(
        app.delete(&format!("/api/v1/chats/{chat}"), &a.access).await.status,
        204
    );
    assert_eq!(
        app.get("/api/v1/chats", &a.access).await.expect(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // The friend still has it, with its history.
    assert_eq!(
        app.get("/api/v1/chats", &b.access).await.expect(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    app.send(&b, &chat, "second").await;
    let list = app.get("/api/v1/chats", &a.access).await.expect(200);
    assert_eq!(list["items"][0]["id"], chat);
    assert_eq!(list["items"][0]["last_message"]["content"], "second");
}

#[tokio::test]
async fn a_third_user_cannot_see_or_touch_another_pairs_chat() {
    let app = spawn_app().await;
    let a = app.signup("xia").await;
    let b = app.signup("yan").await;
    let outsider = app.signup("zoe").await;
    let chat = app.direct_chat(&a, &b).await;
    let msg = app.send(&a, &chat, "private").await;
    let mid = msg["id"].as_str().unwrap();
    let t = &outsider.access;
    app.get(&format!("/api/v1/chats/{chat}"), t)
        .await
        .expect_error(404, "not_found");
    app.patch(&format!("/api/v1/chats/{chat}"), t, json!({"title": "x"}))
        .await
        .expect_error(404, "not_found");
    app.delete(&format!("/api/v1/chats/{chat}"), t)
        .await
        .expect_error(404, "not_found");
    app.get(&format!("/api/v1/chats/{chat}/messages"), t)
        .await
        .expect_error(404, "not_found");
    app.post(&format!("/api/v1/chats/{chat}/messages"), t, json!({"content": "hi"}))
        .await
        .expect_error(404, "not_found");
    app.patch(
        &format!("/api/v1/chats/{chat}/messages/{mid}"),
        t,
        json!({"content": "pwned"}),
    )
    .await
    .expect_error(404, "not_found");
    app.delete(&format!("/api/v1/chats/{chat}/messages/{mid}"), t)
        .await
        .expect_error(404, "not_found");
    app.post(&format!("/api/v1/chats/{chat}/read"), t, json!({"message_id": mid}))
        .await
        .expect_error(404, "not_found");
    // The same answer as for a chat that does not exist at all.
    let missing = app
        .get(&format!("/api/v1/chats/{}", uuid::Uuid::now_v7()), t)
        .await
        .expect_error(404, "not_found");
    let hidden = app
        .get(&format!("/api/v1/chats/{chat}"), t)
        .await
        .expect_error(404, "not_found");
    assert_eq!(missing, hidden);
    // Nothing changed.
    let history = app
        .get(&format!("/api/v1/chats/{chat}/messages"), &b.access)
        .await
        .expect(200);
    assert_eq!(history["items"][0]["content"], "private");
}

/// Every chat on every page gets its own newest message and unread count (the
/// list is built in a constant number of statements, not one lookup per chat).
#[tokio::test]
async fn each_listed_chat_has_its_own_last_message_and_unread_count_across_pages() {
    let app = spawn_app().await;
    let me = app.signup("hub_user").await;
    let mut expected = Vec::new();
    for i in 0..5 {
        let friend = app.signup(&format!("spoke{i}")).await;
        let chat = app.direct_chat(&friend, &me).await;
        for n in 0..=i {
            app.send(&friend, &chat, &format!("from spoke{i}, #{n}")).await;
        }
        if i == 2 {
            // My own reply is the newest message there and is never unread for me.
            app.send(&me, &chat, "my answer").await;
        }
        expected.push((chat, i));
    }
    let seen = app.all_pages("/api/v1/chats?limit=2", &me.access).await;
    assert_eq!(seen.len(), 5);
    // Most recently active first: spoke4's chat, then 3, 2, 1, 0.
    for (chat, (id, i)) in seen.iter().zip(expected.iter().rev()) {
        assert_eq!(chat["id"], id.as_str());
        let last = if *i == 2 {
            "my answer".to_owned()
        } else {
            format!("from spoke{i}, #{i}")
        };
        assert_eq!(chat["last_message"]["content"], last.as_str(), "{chat}");
        let unread = if *i == 2 { 0 } else { i + 1 };
        assert_eq!(chat["unread_count"], unread, "{chat}");
    }
}

/// The chat list shows each direct chat's other person, with their presence
/// while they are friends; after an unfriending the chat keeps its peer but
/// shows them offline, as a stranger.
#[tokio::test]
async fn a_listed_chat_shows_its_peer_and_their_presence_only_to_a_friend() {
    let app = spawn_app().await;
    let gina = app.signup("gina").await;
    let hugo = app.signup("hugo").await;
    let chat = app.direct_chat(&gina, &hugo).await;
    app.send(&hugo, &chat, "hi Gina").await;
    let bot = app.bot_chat(&gina, None).await;
    let _hugo_online = Ws::open(&app, &hugo.access).await;
    let listed = |list: &serde_json::Value, id: &str| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} not listed: {list}"))
    };
    let mut online = false;
    for _ in 0..50 {
        let list = app.get("/api/v1/chats", &gina.access).await.expect(200);
        let direct = listed(&list, &chat);
        assert_eq!(direct["peer"]["id"], hugo.id.to_string(), "{direct}");
        assert_eq!(direct["peer"]["username"], "hugo");
        assert_eq!(direct["title"], direct["peer"]["display_name"]);
        assert!(listed(&list, &bot)["peer"].is_null(), "{list}");
        online = direct["peer"]["online"] == true;
        if online {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(online, "a friend with an open socket is shown online");

    app.delete(&format!("/api/v1/friends/{}", hugo.id), &gina.access)
        .await
        .expect(204);
    let one = app
        .get(&format!("/api/v1/chats/{chat}"), &gina.access)
        .await
        .expect(200);
    assert_eq!(one["peer"]["username"], "hugo", "{one}");
    assert_eq!(one["peer"]["online"], false, "{one}");
    assert_eq!(one["last_message"]["content"], "hi Gina");
    let list = app.get("/api/v1/chats", &gina.access).await.expect(200);
    assert_eq!(listed(&list, &chat)["peer"]["online"], false, "{list}");
}

#[tokio::test]
async fn the_listed_newest_message_follows_edits_and_deletions_and_a_renamed_chat_moves_up() {
    let app = spawn_app().await;
    let me = app.signup("xena").await;
    let b = app.signup("yuri").await;
    let chat = app.direct_chat(&me, &b).await;
    let bot = app
        .post("/api/v1/chats", &me.access, json!({"kind": "bot"}))
        .await
        .expect(201);
    let bot_id = bot["id"].as_str().unwrap();
    let one = app.send(&b, &chat, "one").await;
    let two = app.send(&b, &chat, "two").await;
    let first = async |app: &crate::helpers::TestApp| {
        app.get("/api/v1/chats", &me.access).await.expect(200)["items"][0].clone()
    };
    let listed = first(&app).await;
    assert_eq!(listed["id"], chat);
    assert_eq!(listed["last_message"]["content"], "two");
    assert_eq!(listed["unread_count"], 2);

    let path = |m: &serde_json::Value| format!("/api/v1/chats/{chat}/messages/{}", m["id"].as_str().unwrap());
    app.patch(&path(&two), &b.access, json!({"content": "two, edited"}))
        .await
        .expect(200);
    assert_eq!(first(&app).await["last_message"]["content"], "two, edited");

    // Deleting the newest message shows the one before it; deleting that, none.
    assert_eq!(app.delete(&path(&two), &b.access).await.status, 204);
    let listed = first(&app).await;
    assert_eq!(listed["last_message"]["id"], one["id"]);
    assert_eq!(listed["unread_count"], 1);
    assert_eq!(app.delete(&path(&one), &b.access).await.status, 204);
    let listed = first(&app).await;
    assert_eq!(listed["id"], chat);
    assert!(listed["last_message"].is_null(), "{listed}");
    assert_eq!(listed["unread_count"], 0);
    // The single-chat view reads the same way.
    let one_chat = app.get(&format!("/api/v1/chats/{chat}"), &me.access).await.expect(200);
    assert!(one_chat["last_message"].is_null());

    // A change to the chat itself is activity: the renamed bot chat comes first,
    // and a new message then puts the direct chat back on top.
    let renamed = app
        .patch(
            &format!("/api/v1/chats/{bot_id}"),
            &me.access,
            json!({"title": "Mock interview"}),
        )
        .await
        .expect(200);
    let listed = first(&app).await;
    assert_eq!(listed["id"], bot_id);
    assert_eq!(listed["updated_at"], renamed["updated_at"]);
    let three = app.send(&b, &chat, "three").await;
    let listed = first(&app).await;
    assert_eq!(listed["id"], chat);
    assert_eq!(listed["last_message"]["id"], three["id"]);
    assert_eq!(listed["updated_at"], three["created_at"]);
}
