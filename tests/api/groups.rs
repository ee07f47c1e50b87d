//! Practising together: groups of friends, public lounges, and members who
//! correct each other's messages.
use std::time::Duration;

use serde_json::{json, Value};

use crate::{
    fake_llm::{FakeLlm, Mode},
    helpers::{spawn_app, spawn_app_with, spawn_app_with_bot, TestApp, TestUser},
    realtime::Ws,
};

/// `owner` befriends each of `others` and makes a group with them.
async fn group(app: &TestApp, owner: &TestUser, others: &[&TestUser], title: &str) -> Value {
    for other in others {
        app.befriend(owner, other).await;
    }
    let ids: Vec<String> = others.iter().map(|u| u.id.to_string()).collect();
    app.post(
        "/api/v1/chats",
        &owner.access,
        json!({"kind": "group", "title": title, "member_ids": ids}),
    )
    .await
    .expect(201)
}

async fn history(app: &TestApp, user: &TestUser, chat: &str) -> Vec<Value> {
    let mut page = app
        .get(&format!("/api/v1/chats/{chat}/messages?limit=100"), &user.access)
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .clone();
    page.reverse();
    page
}

fn contents(messages: &[Value]) -> Vec<(String, String)> {
    messages
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_owned(),
                m["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn members(app: &TestApp, user: &TestUser, chat: &str) -> Vec<(String, String)> {
    app.all_pages(&format!("/api/v1/chats/{chat}/members?limit=2"), &user.access)
        .await
        .iter()
        .map(|m| {
            (
                m["user"]["username"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_group_is_made_with_friends_only_and_every_member_talks_in_it() {
    let app = spawn_app().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let cat = app.signup("cat").await;
    let dan = app.signup("dan").await;
    app.befriend(&ann, &bob).await;
    let create = |ids: Value| {
        app.post(
            "/api/v1/chats",
            &ann.access,
            json!({"kind": "group", "title": " Book club ", "member_ids": ids}),
        )
    };
    // Too few, oneself, twice the same, or someone who is not a friend.
    let few = create(json!([bob.id])).await.expect_error(400, "validation_failed");
    assert_eq!(few["field"], "member_ids");
    create(json!([bob.id, ann.id]))
        .await
        .expect_error(400, "validation_failed");
    create(json!([bob.id, bob.id]))
        .await
        .expect_error(400, "validation_failed");
    create(json!([bob.id, cat.id])).await.expect_error(403, "forbidden");
    let untitled = app
        .post(
            "/api/v1/chats",
            &ann.access,
            json!({"kind": "group", "title": "  ", "member_ids": [bob.id, cat.id]}),
        )
        .await
        .expect_error(400, "validation_failed");
    assert_eq!(untitled["field"], "title");

    app.befriend(&ann, &cat).await;
    let chat = create(json!([bob.id, cat.id])).await.expect(201);
    assert_eq!(chat["kind"], "group");
    assert_eq!(chat["title"], "Book club");
    assert_eq!(chat["member_count"], 3);
    assert_eq!(chat["my_role"], "owner");
    assert_eq!(chat["peer"], Value::Null);
    let id = chat["id"].as_str().unwrap();

    // Bob and Cat see it; Dan does not.
    let bobs = app.get(&format!("/api/v1/chats/{id}"), &bob.access).await.expect(200);
    assert_eq!(bobs["my_role"], "member");
    assert_eq!(bobs["unread_count"], 1, "the creation note is unread for Bob");
    assert_eq!(bobs["last_sender_name"], "ann");
    app.get(&format!("/api/v1/chats/{id}"), &dan.access)
        .await
        .expect_error(404, "not_found");
    app.get(&format!("/api/v1/chats/{id}/members"), &dan.access)
        .await
        .expect_error(404, "not_found");

    app.send(&bob, id, "Hello everyone").await;
    app.send(&cat, id, "Hi Bob").await;
    let list = app.get("/api/v1/chats", &ann.access).await.expect(200);
    let listed = &list["items"][0];
    assert_eq!(listed["id"], id);
    assert_eq!(listed["last_message"]["content"], "Hi Bob");
    assert_eq!(listed["last_sender_name"], "cat");
    assert_eq!(listed["unread_count"], 2);
    assert_eq!(
        contents(&history(&app, &ann, id).await),
        [
            ("system".into(), "ann created the group “Book club”".into()),
            ("user".into(), "Hello everyone".into()),
            ("user".into(), "Hi Bob".into()),
        ]
    );
    assert_eq!(
        members(&app, &cat, id).await,
        [
            ("ann".into(), "owner".into()),
            ("bob".into(), "member".into()),
            ("cat".into(), "member".into()),
        ]
    );
    // Members edit and delete their own messages, never others' or notes.
    let mine = app.send(&bob, id, "Helo").await;
    let path = format!("/api/v1/chats/{id}/messages/{}", mine["id"].as_str().unwrap());
    app.patch(&path, &cat.access, json!({"content": "x"}))
        .await
        .expect_error(403, "forbidden");
    let edited = app
        .patch(&path, &bob.access, json!({"content": "Hello"}))
        .await
        .expect(200);
    assert_eq!(edited["content"], "Hello");
    let note = &history(&app, &ann, id).await[0];
    app.delete(
        &format!("/api/v1/chats/{id}/messages/{}", note["id"].as_str().unwrap()),
        &ann.access,
    )
    .await
    .expect_error(403, "forbidden");
    app.delete(&path, &bob.access).await.expect(204);
}

#[tokio::test]
async fn members_add_their_friends_the_owner_removes_and_renames_and_the_last_one_out_deletes_it() {
    let app = spawn_app().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let cat = app.signup("cat").await;
    let dan = app.signup("dan").await;
    let eve = app.signup("eve").await;
    let chat = group(&app, &ann, &[&bob, &cat], "Travel").await;
    let id = chat["id"].as_str().unwrap().to_owned();
    let add = |who: &TestUser, whom: &TestUser| {
        let (path, token, body) = (
            format!("/api/v1/chats/{id}/members"),
            who.access.clone(),
            json!({"user_id": whom.id}),
        );
        let app = &app;
        async move { app.post(&path, &token, body).await }
    };
    // Bob may add his own friend, not a stranger; nobody is added twice.
    add(&bob, &dan).await.expect_error(403, "forbidden");
    app.befriend(&bob, &dan).await;
    let added = add(&bob, &dan).await.expect(201);
    assert_eq!(added["user"]["username"], "dan");
    assert_eq!(added["role"], "member");
    add(&bob, &dan).await.expect_error(409, "conflict");
    // Eve, not a member, can do nothing here.
    app.befriend(&eve, &ann).await;
    add(&eve, &ann).await.expect_error(404, "not_found");

    // Dan sees the chat, with what he missed counted as read: only the note
    // of his joining is new to him.
    let dans = app.get(&format!("/api/v1/chats/{id}"), &dan.access).await.expect(200);
    assert_eq!(
        (dans["member_count"].as_u64(), dans["unread_count"].as_u64()),
        (Some(4), Some(1))
    );

    // Only the owner renames and removes others.
    app.patch(&format!("/api/v1/chats/{id}"), &bob.access, json!({"title": "Mine"}))
        .await
        .expect_error(403, "forbidden");
    app.patch(&format!("/api/v1/chats/{id}"), &ann.access, json!({"level": "B2"}))
        .await
        .expect_error(400, "validation_failed");
    let renamed = app
        .patch(&format!("/api/v1/chats/{id}"), &ann.access, json!({"title": "Trips"}))
        .await
        .expect(200);
    assert_eq!(renamed["title"], "Trips");
    app.delete(&format!("/api/v1/chats/{id}/members/{}", cat.id), &bob.access)
        .await
        .expect_error(403, "forbidden");
    app.delete(&format!("/api/v1/chats/{id}/members/{}", cat.id), &ann.access)
        .await
        .expect(204);
    app.delete(&format!("/api/v1/chats/{id}/members/{}", cat.id), &ann.access)
        .await
        .expect_error(404, "not_found");
    // Cat sees the chat no more: not its messages, not its members, cannot post.
    for path in [
        format!("/api/v1/chats/{id}"),
        format!("/api/v1/chats/{id}/messages"),
        format!("/api/v1/chats/{id}/members"),
    ] {
        app.get(&path, &cat.access).await.expect_error(404, "not_found");
    }
    app.post(
        &format!("/api/v1/chats/{id}/messages"),
        &cat.access,
        json!({"content": "hi"}),
    )
    .await
    .expect_error(404, "not_found");

    // The owner leaves: the longest-standing member (Bob) takes over.
    app.delete(&format!("/api/v1/chats/{id}/members/{}", ann.id), &ann.access)
        .await
        .expect(204);
    assert_eq!(
        members(&app, &bob, &id).await,
        [("bob".into(), "owner".into()), ("dan".into(), "member".into())]
    );
    assert_eq!(
        contents(&history(&app, &bob, &id).await)
            .into_iter()
            .filter(|(role, _)| role == "system")
            .map(|(_, text)| text)
            .collect::<Vec<_>>(),
        [
            "ann created the group “Travel”",
            "bob added dan",
            "ann renamed the group to “Trips”",
            "ann removed cat",
            "ann left; bob is now the owner",
        ]
    );
    // Leaving with DELETE /chats/{id} works too; the last one out deletes it.
    app.delete(&format!("/api/v1/chats/{id}"), &dan.access)
        .await
        .expect(204);
    app.delete(&format!("/api/v1/chats/{id}/members/{}", bob.id), &bob.access)
        .await
        .expect(204);
    app.get(&format!("/api/v1/chats/{id}"), &bob.access)
        .await
        .expect_error(404, "not_found");
}

#[tokio::test]
async fn every_member_gets_the_groups_events() {
    let app = spawn_app().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let cat = app.signup("cat").await;
    let dan = app.signup("dan").await;
    let chat = group(&app, &ann, &[&bob, &cat], "Live").await;
    let id = chat["id"].as_str().unwrap().to_owned();
    let mut bob_ws = Ws::open(&app, &bob.access).await;
    let mut cat_ws = Ws::open(&app, &cat.access).await;
    let mut dan_ws = Ws::open(&app, &dan.access).await;

    app.send(&ann, &id, "Welcome").await;
    for ws in [&mut bob_ws, &mut cat_ws] {
        assert_eq!(ws.expect("message.created").await["message"]["content"], "Welcome");
    }
    bob_ws.send(json!({"type": "typing", "chat_id": id})).await;
    assert_eq!(cat_ws.expect("typing").await["user_id"], bob.id.to_string());

    app.befriend(&ann, &dan).await;
    app.post(
        &format!("/api/v1/chats/{id}/members"),
        &ann.access,
        json!({"user_id": dan.id}),
    )
    .await
    .expect(201);
    let joined = dan_ws.expect("member.joined").await;
    assert_eq!(
        (
            joined["chat_id"].as_str(),
            joined["member"]["user"]["username"].as_str()
        ),
        (Some(id.as_str()), Some("dan"))
    );
    assert_eq!(
        bob_ws.expect("member.joined").await["member"]["user"]["username"],
        "dan"
    );

    app.patch(&format!("/api/v1/chats/{id}"), &ann.access, json!({"title": "Renamed"}))
        .await
        .expect(200);
    assert_eq!(cat_ws.expect("chat.renamed").await["title"], "Renamed");

    app.delete(&format!("/api/v1/chats/{id}/members/{}", cat.id), &ann.access)
        .await
        .expect(204);
    let left = cat_ws.expect("member.left").await;
    assert_eq!(left["user_id"], cat.id.to_string());
    assert_eq!(left["chat_deleted"], false);
    assert_eq!(dan_ws.expect("member.left").await["user_id"], cat.id.to_string());
    // After leaving, Cat hears nothing more from the group.
    app.send(&ann, &id, "After Cat left").await;
    assert_eq!(
        dan_ws.expect("message.created").await["message"]["content"],
        "After Cat left"
    );
    cat_ws.expect_silence(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn lounges_are_listed_joined_counted_and_left() {
    let app = spawn_app().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let lounges = app.get("/api/v1/lounges", &ann.access).await.expect(200);
    let items = lounges["items"].as_array().unwrap();
    let titles: Vec<&str> = items.iter().map(|l| l["title"].as_str().unwrap()).collect();
    assert_eq!(
        titles,
        [
            "Open lounge",
            "Beginners' lounge (A1–A2)",
            "Intermediate lounge (B1–B2)",
            "Advanced lounge (C1–C2)"
        ]
    );
    assert!(items.iter().all(|l| l["member_count"] == 0 && l["joined"] == false));
    let paged = app.all_pages("/api/v1/lounges?limit=3", &ann.access).await;
    assert_eq!(paged.len(), 4);
    let open = items[0]["id"].as_str().unwrap().to_owned();

    let chat = app
        .post(&format!("/api/v1/lounges/{open}/join"), &ann.access, json!({}))
        .await
        .expect(200);
    assert_eq!(
        (chat["kind"].as_str(), chat["title"].as_str()),
        (Some("lounge"), Some("Open lounge"))
    );
    app.post(&format!("/api/v1/lounges/{open}/join"), &ann.access, json!({}))
        .await
        .expect(200);
    app.post(&format!("/api/v1/lounges/{open}/join"), &bob.access, json!({}))
        .await
        .expect(200);
    app.post(
        &format!("/api/v1/lounges/{}/join", uuid::Uuid::now_v7()),
        &bob.access,
        json!({}),
    )
    .await
    .expect_error(404, "not_found");
    let list = app.get("/api/v1/chats", &bob.access).await.expect(200);
    assert_eq!(list["items"][0]["kind"], "lounge");

    // Bob is online; Ann counts him but, not being his friend, does not see him so.
    let bob_ws = Ws::open(&app, &bob.access).await;
    let mut ann_ws = Ws::open(&app, &ann.access).await;
    // The online count is pushed to members when it changes.
    let mut count = ann_ws.expect("lounge.online").await;
    while count["online_count"] != 2 {
        count = ann_ws.expect("lounge.online").await;
    }
    assert_eq!(count["chat_id"], open);
    let first = &app.get("/api/v1/lounges", &ann.access).await.expect(200)["items"][0];
    assert_eq!(
        (first["member_count"].as_u64(), first["online_count"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(first["joined"], true);
    let people = app
        .get(&format!("/api/v1/chats/{open}/members"), &ann.access)
        .await
        .expect(200);
    let bob_there = people["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user"]["username"] == "bob")
        .unwrap();
    assert_eq!(bob_there["user"]["online"], false);
    drop(bob_ws);
    let mut count = ann_ws.expect("lounge.online").await;
    while count["online_count"] != 1 {
        count = ann_ws.expect("lounge.online").await;
    }

    // Posting reaches members; renaming is not theirs.
    app.send(&bob, &open, "Hi all").await;
    assert_eq!(ann_ws.expect("message.created").await["message"]["content"], "Hi all");
    app.patch(&format!("/api/v1/chats/{open}"), &ann.access, json!({"title": "Mine"}))
        .await
        .expect_error(400, "validation_failed");
    // Bob cannot remove Ann (not an admin); he leaves.
    app.delete(&format!("/api/v1/chats/{open}/members/{}", ann.id), &bob.access)
        .await
        .expect_error(403, "forbidden");
    app.delete(&format!("/api/v1/chats/{open}/members/{}", bob.id), &bob.access)
        .await
        .expect(204);
    app.get(&format!("/api/v1/chats/{open}"), &bob.access)
        .await
        .expect_error(404, "not_found");
    let first = &app.get("/api/v1/lounges", &bob.access).await.expect(200)["items"][0];
    assert_eq!(
        (first["member_count"].as_u64(), first["joined"].as_bool()),
        (Some(1), Some(false))
    );
}

#[tokio::test]
async fn the_fourth_same_message_of_five_mutes_a_member_of_a_lounge_for_ten_minutes() {
    let app = spawn_app().await;
    let ann = app.signup("ann").await;
    let open = app.get("/api/v1/lounges", &ann.access).await.expect(200)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(&format!("/api/v1/lounges/{open}/join"), &ann.access, json!({}))
        .await
        .expect(200);
    for text in ["Buy now", "buy  NOW", "hello", "BUY NOW "] {
        app.send(&ann, &open, text).await;
    }
    let muted = app
        .post(
            &format!("/api/v1/chats/{open}/messages"),
            &ann.access,
            json!({"content": "buy now"}),
        )
        .await;
    assert_eq!(muted.headers["retry-after"], "600");
    let body = muted.expect_error(429, "muted");
    assert_eq!(body["retry_after"], 600);
    // Anything else is refused too while the mute lasts.
    let again = app
        .post(
            &format!("/api/v1/chats/{open}/messages"),
            &ann.access,
            json!({"content": "sorry"}),
        )
        .await;
    let left: u64 = again.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((590..=600).contains(&left), "{left}");
    again.expect_error(429, "muted");
    assert_eq!(
        history(&app, &ann, &open).await.len(),
        4,
        "the refused messages are not stored"
    );
}

#[tokio::test]
async fn admins_mute_and_remove_lounge_members_and_make_lounges() {
    let app = spawn_app().await;
    let boss = app.signup("boss").await;
    let ann = app.signup("ann").await;
    let made = app.cli(&["admin", "lounge", "create", "Film club"]).await;
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let id = String::from_utf8(made.stdout).unwrap().trim().to_owned();
    let listed = app.all_pages("/api/v1/lounges", &ann.access).await;
    assert_eq!(listed.last().unwrap()["id"], id);
    assert_eq!(listed.last().unwrap()["title"], "Film club");
    app.post(&format!("/api/v1/lounges/{id}/join"), &ann.access, json!({}))
        .await
        .expect(200);
    let mute = |minutes: u32| {
        let (path, token, body) = (
            format!("/api/v1/admin/lounges/{id}/mutes"),
            boss.access.clone(),
            json!({"user_id": ann.id, "minutes": minutes}),
        );
        let app = &app;
        async move { app.post(&path, &token, body).await }
    };
    mute(5).await.expect_error(403, "forbidden");
    let promoted = app.cli(&["admin", "promote", "boss"]).await;
    assert!(promoted.status.success());
    mute(100_000).await.expect_error(400, "validation_failed");
    let muted = mute(5).await.expect(200);
    assert!(muted["muted_until"].is_string());
    let refused = app
        .post(
            &format!("/api/v1/chats/{id}/messages"),
            &ann.access,
            json!({"content": "hi"}),
        )
        .await;
    let left: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((290..=300).contains(&left), "{left}");
    refused.expect_error(429, "muted");
    assert_eq!(mute(0).await.expect(200)["muted_until"], Value::Null);
    app.send(&ann, &id, "hi").await;
    // An admin removes a member without being in the lounge.
    app.delete(&format!("/api/v1/chats/{id}/members/{}", ann.id), &boss.access)
        .await
        .expect(204);
    app.get(&format!("/api/v1/chats/{id}"), &ann.access)
        .await
        .expect_error(404, "not_found");
    app.post(
        &format!("/api/v1/admin/lounges/{id}/mutes"),
        &boss.access,
        json!({"user_id": ann.id, "minutes": 5}),
    )
    .await
    .expect_error(404, "not_found");
}

#[tokio::test]
async fn a_member_corrects_anothers_message_and_it_reaches_the_authors_notebook() {
    let app = spawn_app().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let cat = app.signup("cat").await;
    let chat = group(&app, &ann, &[&bob, &cat], "Grammar").await;
    let id = chat["id"].as_str().unwrap().to_owned();
    let message = app.send(&bob, &id, "Yesterday I goed to the cinema.").await;
    let mid = message["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/chats/{id}/messages/{mid}/corrections");
    let mut bob_ws = Ws::open(&app, &bob.access).await;

    // Not one's own message; not a rewrite; not the same text.
    app.post(
        &path,
        &bob.access,
        json!({"corrected_text": "Yesterday I went to the cinema."}),
    )
    .await
    .expect_error(403, "forbidden");
    let same = app
        .post(
            &path,
            &ann.access,
            json!({"corrected_text": " Yesterday I goed to the cinema. "}),
        )
        .await
        .expect_error(400, "validation_failed");
    assert_eq!(same["field"], "corrected_text");
    app.post(
        &path,
        &ann.access,
        json!({"corrected_text": "Completely different words here instead."}),
    )
    .await
    .expect_error(400, "validation_failed");

    let made = app
        .post(
            &path,
            &ann.access,
            json!({"corrected_text": "Yesterday I went to the cinema.", "note": "irregular verb!"}),
        )
        .await
        .expect(201);
    assert_eq!(made["corrector_name"], "ann");
    assert_eq!(made["corrections"][0]["original"], "goed");
    assert_eq!(made["corrections"][0]["corrected"], "went");
    assert_eq!(made["note"], "irregular verb!");
    let live = bob_ws.expect("message.corrected").await;
    assert_eq!(live["correction"]["corrected_text"], "Yesterday I went to the cinema.");

    // The correction is shown with the message, and in Bob's notebook.
    let shown = &history(&app, &cat, &id).await[1];
    assert_eq!(shown["peer_corrections"][0]["corrector_id"], ann.id.to_string());
    let notebook = app.get("/api/v1/me/mistakes", &bob.access).await.expect(200);
    let entry = &notebook["items"][0];
    assert_eq!(
        (entry["source"].as_str(), entry["original"].as_str()),
        (Some("peer"), Some("goed"))
    );
    assert_eq!(entry["corrector_id"], ann.id.to_string());
    assert_eq!(entry["message_id"], mid);
    // Free: nobody's quota moved.
    assert_eq!(app.get("/api/v1/bot/quota", &ann.access).await.expect(200)["used"], 0);

    // A second correction by Ann replaces her first, in the notebook too.
    let replaced = app
        .post(
            &path,
            &ann.access,
            json!({"corrected_text": "Yesterday, I went to the cinema."}),
        )
        .await
        .expect(200);
    assert_eq!(replaced["note"], "");
    let notebook = app.get("/api/v1/me/mistakes", &bob.access).await.expect(200);
    let originals: Vec<&str> = notebook["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["original"].as_str().unwrap())
        .collect();
    assert_eq!(originals.iter().filter(|o| **o == "goed").count(), 1, "{originals:?}");

    // Only Bob thanks; everyone sees it.
    let thanks = format!("{path}/{}/thanks", ann.id);
    app.put(&thanks, &cat.access, json!({}))
        .await
        .expect_error(403, "forbidden");
    app.put(&format!("{path}/{}/thanks", cat.id), &bob.access, json!({}))
        .await
        .expect_error(404, "not_found");
    assert_eq!(
        app.put(&thanks, &bob.access, json!({})).await.expect(200)["thanked"],
        true
    );
    let shown = &history(&app, &cat, &id).await[1];
    assert_eq!(shown["peer_corrections"][0]["thanked"], true);

    // Nobody corrects the bot, nor a system note.
    let note = history(&app, &ann, &id).await[0]["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/v1/chats/{id}/messages/{note}/corrections"),
        &bob.access,
        json!({"corrected_text": "ann made the group"}),
    )
    .await
    .expect_error(403, "forbidden");
}

#[tokio::test]
async fn a_removed_member_cannot_correct_and_a_direct_chat_corrects_too() {
    let app = spawn_app_with(|_| {}).await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let chat = app.direct_chat(&ann, &bob).await;
    let message = app.send(&bob, &chat, "She go to school.").await;
    let path = format!(
        "/api/v1/chats/{chat}/messages/{}/corrections",
        message["id"].as_str().unwrap()
    );
    app.post(&path, &ann.access, json!({"corrected_text": "She goes to school."}))
        .await
        .expect(201);
    // After unfriending, the chat is read-only: no corrections either.
    app.delete(&format!("/api/v1/friends/{}", bob.id), &ann.access)
        .await
        .expect(204);
    app.post(&path, &ann.access, json!({"corrected_text": "She went to school."}))
        .await
        .expect_error(403, "forbidden");
}

/// Two instances sharing PostgreSQL and Redis: a group's events reach members
/// wherever their sockets are.
#[tokio::test]
#[ignore = "needs TEST_REDIS_URL; CI's PostgreSQL + Redis run includes it"]
async fn a_groups_events_reach_members_on_every_instance() {
    let redis = std::env::var("TEST_REDIS_URL").expect("TEST_REDIS_URL is set");
    let prefix = format!("test-{}", uuid::Uuid::now_v7().simple());
    let one = spawn_app_with(|s| {
        s.redis_url = Some(redis.clone());
        s.redis_prefix = prefix.clone();
    })
    .await;
    let two = one.another_instance().await;
    let ann = one.signup("ann").await;
    let bob = one.signup("bob").await;
    let cat = one.signup("cat").await;
    let chat = group(&one, &ann, &[&bob, &cat], "Across").await;
    let id = chat["id"].as_str().unwrap().to_owned();
    let mut bob_ws = Ws::open(&two, &bob.access).await;
    let mut cat_ws = Ws::open(&one, &cat.access).await;
    let message = one.send(&ann, &id, "One message, two instances").await;
    for ws in [&mut bob_ws, &mut cat_ws] {
        assert_eq!(ws.expect("message.created").await["message"]["id"], message["id"]);
    }
    let mid = message["id"].as_str().unwrap();
    two.post(
        &format!("/api/v1/chats/{id}/messages/{mid}/corrections"),
        &bob.access,
        json!({"corrected_text": "One message, two servers"}),
    )
    .await
    .expect(201);
    assert_eq!(
        cat_ws.expect("message.corrected").await["correction"]["corrector_name"],
        "bob"
    );
    two.delete(&format!("/api/v1/chats/{id}/members/{}", bob.id), &bob.access)
        .await
        .expect(204);
    assert_eq!(cat_ws.expect("member.left").await["user_id"], bob.id.to_string());
    assert_eq!(bob_ws.expect("member.left").await["user_id"], bob.id.to_string());
    let unread = one.get(&format!("/api/v1/chats/{id}"), &cat.access).await.expect(200);
    assert_eq!(unread["unread_count"], 3, "creation note, message, Bob's leaving");
}

#[tokio::test]
async fn replies_quote_their_message_and_reactions_are_counted_per_emoji() {
    let app = spawn_app().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let cat = app.signup("cat").await;
    let dan = app.signup("dan").await;
    let chat = group(&app, &ann, &[&bob, &cat], "Plans").await;
    let id = chat["id"].as_str().unwrap().to_owned();
    let question = app.send(&bob, &id, "Who is coming on Friday?").await;
    let qid = question["id"].as_str().unwrap().to_owned();
    let mut cat_ws = Ws::open(&app, &cat.access).await;

    // A reply quotes what it answers, in the answer, the event and the history.
    let reply = app
        .post(
            &format!("/api/v1/chats/{id}/messages"),
            &ann.access,
            json!({"content": "Me!", "reply_to": qid}),
        )
        .await
        .expect(201);
    assert_eq!(reply["reply_to_id"], qid);
    assert_eq!(reply["reply_to"]["content"], "Who is coming on Friday?");
    assert_eq!(reply["reply_to"]["sender_id"], bob.id.to_string());
    let live = cat_ws.expect("message.created").await;
    assert_eq!(live["message"]["reply_to"]["id"], qid);
    let shown = history(&app, &cat, &id).await;
    assert_eq!(shown.last().unwrap()["reply_to"]["content"], "Who is coming on Friday?");
    assert_eq!(shown[1]["reply_to"], Value::Null, "{}", shown[1]);
    // Only to a message of the same chat; never in a bot chat.
    let elsewhere = app
        .post(
            "/api/v1/chats",
            &ann.access,
            json!({"kind": "direct", "user_id": bob.id}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong = app
        .post(
            &format!("/api/v1/chats/{elsewhere}/messages"),
            &ann.access,
            json!({"content": "?", "reply_to": qid}),
        )
        .await
        .expect_error(400, "validation_failed");
    assert_eq!(wrong["field"], "reply_to");
    let practice = app.bot_chat(&ann, None).await;
    app.post(
        &format!("/api/v1/chats/{practice}/messages"),
        &ann.access,
        json!({"content": "?", "reply_to": qid}),
    )
    .await
    .expect_error(400, "validation_failed");

    // Reactions: counted per emoji, with mine, in a fixed order.
    let react = |emoji: &str| format!("/api/v1/chats/{id}/messages/{qid}/reactions/{emoji}");
    app.put(&react("👍"), &ann.access, json!({})).await.expect(204);
    app.put(&react("👍"), &ann.access, json!({})).await.expect(204);
    app.put(&react("❤️"), &cat.access, json!({})).await.expect(204);
    app.put(&react("👍"), &cat.access, json!({})).await.expect(204);
    let event = cat_ws.expect("message.reaction").await;
    assert_eq!(
        (event["emoji"].as_str(), event["added"].as_bool()),
        (Some("👍"), Some(true))
    );
    let bad = app
        .put(&react("💩"), &ann.access, json!({}))
        .await
        .expect_error(400, "validation_failed");
    assert_eq!(bad["field"], "emoji");
    app.put(&react("👍"), &dan.access, json!({}))
        .await
        .expect_error(404, "not_found");
    let seen = |page: Vec<Value>| page[1]["reactions"].clone();
    assert_eq!(
        seen(history(&app, &ann, &id).await),
        json!([{"emoji": "👍", "count": 2, "mine": true}, {"emoji": "❤️", "count": 1, "mine": false}])
    );
    app.delete(&react("👍"), &cat.access).await.expect(204);
    assert_eq!(
        seen(history(&app, &cat, &id).await),
        json!([{"emoji": "👍", "count": 1, "mine": false}, {"emoji": "❤️", "count": 1, "mine": true}])
    );
    let note = history(&app, &ann, &id).await[0]["id"].as_str().unwrap().to_owned();
    app.put(
        &format!("/api/v1/chats/{id}/messages/{note}/reactions/👍"),
        &bob.access,
        json!({}),
    )
    .await
    .expect_error(403, "forbidden");

    // The question deleted: the reply keeps its id, with nothing to quote.
    app.delete(&format!("/api/v1/chats/{id}/messages/{qid}"), &bob.access)
        .await
        .expect(204);
    let last = history(&app, &ann, &id).await.pop().unwrap();
    assert_eq!(
        (last["reply_to_id"].as_str(), &last["reply_to"]),
        (Some(qid.as_str()), &Value::Null)
    );
}

#[tokio::test]
async fn nobody_corrects_the_bot() {
    let llm = FakeLlm::start(Mode::Answer("Nice to meet you!".into())).await;
    let app = spawn_app_with_bot(&llm, |_| {}).await;
    let ann = app.signup("ann").await;
    let chat = app.bot_chat(&ann, None).await;
    let turn = app.send(&ann, &chat, "Hello, I am Ann.").await;
    for message in [&turn["message"], &turn["reply"]] {
        app.post(
            &format!(
                "/api/v1/chats/{chat}/messages/{}/corrections",
                message["id"].as_str().unwrap()
            ),
            &ann.access,
            json!({"corrected_text": "Hello, I'm Ann."}),
        )
        .await
        .expect_error(403, "forbidden");
    }
}
