use std::collections::HashSet;

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn users_can_be_listed_and_searched_by_prefix() {
    let app = spawn_app().await;
    let me = app.signup("zed").await;
    for name in ["anna", "annabel", "bob_99", "Annika"] {
        app.signup(name).await;
    }
    let all = app.get("/api/v1/users", &me.access).await.expect(200);
    let names: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["anna", "annabel", "Annika", "bob_99", "zed"]);
    assert!(all["next_cursor"].is_null());

    let found = app.get("/api/v1/users?q=ANN", &me.access).await.expect(200);
    assert_eq!(found["items"].as_array().unwrap().len(), 3);
    let none = app.get("/api/v1/users?q=%25", &me.access).await.expect(200);
    assert_eq!(none["items"].as_array().unwrap().len(), 0, "% is matched literally");
}

#[tokio::test]
async fn user_search_matches_display_names_too() {
    let app = spawn_app().await;
    let me = app.signup("searcher").await;
    app.register(serde_json::json!({"username": "u123", "password": "password1", "display_name": "Olga Petrova"}))
        .await
        .expect(201);
    let found = app.get("/api/v1/users?q=olg", &me.access).await.expect(200);
    assert_eq!(found["items"][0]["username"], "u123");
}

#[tokio::test]
async fn user_pages_cover_everyone_exactly_once() {
    let app = spawn_app().await;
    let me = app.signup("pager").await;
    for i in 0..7 {
        app.signup(&format!("user{i}")).await;
    }
    let mut seen = HashSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/users?limit=3&cursor={c}"),
            None => "/api/v1/users?limit=3".into(),
        };
        let page = app.get(&path, &me.access).await.expect(200);
        for u in page["items"].as_array().unwrap() {
            assert!(seen.insert(u["id"].as_str().unwrap().to_owned()), "duplicate {u}");
        }
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 8);
    assert_eq!(pages, 3);
    // An empty cursor is the first page.
    let first = app.get("/api/v1/users?limit=3&cursor=", &me.access).await.expect(200);
    assert_eq!(first["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn one_user_can_be_fetched_and_unknown_ids_are_404() {
    let app = spawn_app().await;
    let me = app.signup("viewer").await;
    let other = app.signup("viewed").await;
    let u = app
        .get(&format!("/api/v1/users/{}", other.id), &me.access)
        .await
        .expect(200);
    assert_eq!(u["username"], "viewed");
    assert!(u.get("role").is_none(), "public profiles do not show the role");
    app.get(&format!("/api/v1/users/{}", uuid::Uuid::now_v7()), &me.access)
        .await
        .expect_error(404, "not_found");
    app.get("/api/v1/users/not-a-uuid", &me.access)
        .await
        .expect_error(400, "validation_failed");
}

/// The indexed search keeps the contract: case-insensitive prefixes of either
/// name (Unicode too), wildcards taken literally, each person once, paged.
#[tokio::test]
async fn search_is_a_literal_case_insensitive_prefix_of_either_name_paged_without_repeats() {
    let app = spawn_app().await;
    let me = app.signup("searcher").await;
    let names = [
        ("emil_a", "Émile Zola"),
        ("emma_b", "Emma B"),
        ("zed", "Émilie du Châtelet"),
        ("pct", "100% sure"),
        ("under_score", "Under Score"),
        ("emx", "Emx Both"),
    ];
    for (username, display) in names {
        let user = app.signup(username).await;
        app.patch("/api/v1/me", &user.access, json!({"display_name": display}))
            .await
            .expect(200);
    }
    let find = |q: &str| {
        let path = format!("/api/v1/users?q={}&limit=100", urlencode(q));
        let app = &app;
        let token = me.access.clone();
        async move {
            let page = app.get(&path, &token).await.expect(200);
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["username"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(find("ÉMIL").await, ["emil_a", "zed"], "Unicode display names, any case");
    assert_eq!(find("émili").await, ["zed"]);
    assert_eq!(
        find("EM").await,
        ["emil_a", "emma_b", "emx"],
        "username prefixes, ordered by username"
    );
    assert_eq!(find("emx").await, ["emx"], "a match on both names appears once");
    assert_eq!(find("100%").await, ["pct"], "% is literal");
    assert_eq!(find("1%").await, Vec::<String>::new());
    assert_eq!(find("under_").await, ["under_score"], "_ is literal");
    assert_eq!(find("unders").await, Vec::<String>::new());

    // Paging through a search gives each match once.
    let seen: Vec<String> = app
        .all_pages("/api/v1/users?q=e&limit=2", &me.access)
        .await
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen, ["emil_a", "emma_b", "emx"]);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A prefix that many display names share is served by walking the username
/// order (not by sorting every match): the results are the same as for a rare
/// prefix, in order, each once, across pages.
#[tokio::test]
async fn a_common_prefix_pages_through_many_matches_in_order() {
    let app = spawn_app().await;
    let me = app.signup("viewer").await;
    let people: Vec<(String, String)> = (0..1100)
        .map(|i| (format!("u{:04}", (i * 7919) % 1100), format!("Member {i}")))
        .chain([
            ("member_zz".to_owned(), "Zed".to_owned()),
            ("other".to_owned(), "Nobody".to_owned()),
        ])
        .collect();
    app.insert_users(&people).await;
    let mut expected: Vec<String> = people
        .iter()
        .filter(|(u, d)| u.starts_with("member") || d.to_lowercase().starts_with("member"))
        .map(|(u, _)| u.clone())
        .collect();
    expected.sort();
    let seen: Vec<String> = app
        .all_pages("/api/v1/users?q=MEMBER&limit=100", &me.access)
        .await
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen.len(), 1101);
    assert_eq!(seen, expected);
}
