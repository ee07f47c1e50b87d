use reqwest::Method;

use crate::helpers::spawn_app;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");

/// The committed spec is what the server serves. Run with `UPDATE_OPENAPI=1` to
/// rewrite `openapi/openapi.json` after changing the API on purpose.
#[tokio::test]
async fn served_spec_matches_the_committed_spec() {
    let app = spawn_app().await;
    let served = app.call(Method::GET, "/openapi.json", None, None).await.expect(200);
    let generated = chattconnect::api::spec_json();
    assert_eq!(served, serde_json::from_str::<serde_json::Value>(&generated).unwrap());
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(COMMITTED, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(COMMITTED).expect("openapi/openapi.json is committed");
    assert!(
        committed == generated,
        "openapi/openapi.json differs from the served spec; run `UPDATE_OPENAPI=1 cargo test --test api openapi` and commit it"
    );
}

#[tokio::test]
async fn every_operation_has_an_id_a_summary_and_a_tag() {
    let spec: serde_json::Value = serde_json::from_str(&chattconnect::api::spec_json()).unwrap();
    let mut ids = std::collections::HashSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        assert!(path.starts_with("/api/v1/"), "{path}");
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
            assert!(op["summary"].is_string(), "{method} {path} has no summary");
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{method} {path} has no tag"
            );
        }
    }
    assert_eq!(spec["components"]["securitySchemes"]["bearerAuth"]["scheme"], "bearer");
    // Swagger UI lists tags as the spec orders them: signing up first,
    // administration last, not alphabetically.
    let tags: Vec<&str> = spec["tags"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(tags.first(), Some(&"Auth"), "{tags:?}");
    assert_eq!(tags.last(), Some(&"Admin"), "{tags:?}");
}

/// A nullable reference is `allOf` with that one reference and `nullable`
/// (a second `{nullable: true}` member makes generators copy the model, e.g.
/// `ChatPeerType1`), and a field that can be `null` is always present, so it is
/// required: generated clients then type it `User | None`, not `User | None | Unset`.
#[tokio::test]
async fn nullable_fields_are_declared_in_a_form_client_generators_accept() {
    let spec: serde_json::Value = serde_json::from_str(&chattconnect::api::spec_json()).unwrap();
    let schemas = &spec["components"]["schemas"];
    for (name, schema) in schemas.as_object().unwrap() {
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            if let Some(all_of) = property["allOf"].as_array() {
                assert_eq!(
                    property["nullable"], true,
                    "{name}.{field}: allOf only for nullable refs"
                );
                assert_eq!(all_of.len(), 1, "{name}.{field}: one reference only: {property}");
                assert!(all_of[0]["$ref"].is_string(), "{name}.{field}: {property}");
            }
            if property["nullable"] == true {
                let required = schema["required"].as_array().cloned().unwrap_or_default();
                assert!(
                    required.contains(&field.as_str().into()),
                    "{name}.{field} is nullable but not required"
                );
            }
        }
    }
    for key in spec.to_string().split("\"content\":").skip(1) {
        assert!(
            !key.starts_with("{\"application/json; charset"),
            "content keys are plain application/json"
        );
    }
    for (name, field) in [
        ("Chat", "peer"),
        ("Chat", "level"),
        ("Chat", "scenario_id"),
        ("Chat", "last_message"),
        ("Message", "sender_id"),
        ("Message", "edited_at"),
        ("Message", "feedback"),
        ("Feedback", "corrected_text"),
        ("ProgressDay", "mistakes_per_100_words"),
        ("ChatPage", "next_cursor"),
        ("MessagePage", "next_cursor"),
    ] {
        assert_eq!(
            schemas[name]["properties"][field]["nullable"], true,
            "{name}.{field} must be nullable"
        );
    }
}

/// Swagger UI's "Try it out" fills in each request body's example: every body
/// has one, and the server takes it (no 400), whatever the operation then says.
#[tokio::test]
async fn every_request_body_has_an_example_the_server_accepts() {
    let spec: serde_json::Value = serde_json::from_str(&chattconnect::api::spec_json()).unwrap();
    let app = crate::helpers::spawn_app().await;
    // The examples speak of alice (registered by the register example) and bob.
    let bob = app.signup("bob").await;
    let mut bodies = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if let Some(content) = op["requestBody"]["content"].as_object() {
                let example = content["application/json"]["example"].clone();
                assert!(example.is_object(), "{method} {path} has no request example");
                bodies.push((
                    op["operationId"].as_str().unwrap().to_owned(),
                    method.clone(),
                    path.clone(),
                    example,
                ));
            }
        }
    }
    // Register and log in first, change the password last (it ends the session).
    let rank = |id: &str| match id {
        "register" => 0,
        "login" => 1,
        "changePassword" => 3,
        _ => 2,
    };
    bodies.sort_by_key(|(id, ..)| rank(id));
    let mut alice = None::<String>;
    let (mut chat, mut direct, mut message, mut group) = (String::new(), String::new(), String::new(), String::new());
    for (id, method, path, example) in bodies {
        if id == "login" {
            let reply = app.login("alice", "correct horse battery").await.expect(200);
            let token = reply["access_token"].as_str().unwrap().to_owned();
            chat = app
                .post("/api/v1/chats", &token, serde_json::json!({"kind": "bot"}))
                .await
                .expect(201)["id"]
                .as_str()
                .unwrap()
                .to_owned();
            let alice_user = crate::helpers::TestUser {
                id: app.get("/api/v1/me", &token).await.expect(200)["id"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap(),
                username: "alice".into(),
                password: "correct horse battery".into(),
                access: token.clone(),
                refresh: String::new(),
            };
            direct = app.direct_chat(&bob, &alice_user).await;
            message = app.send(&alice_user, &direct, "Hello Bob").await["id"]
                .as_str()
                .unwrap()
                .to_owned();
            app.delete(&format!("/api/v1/friends/{}", bob.id), &token)
                .await
                .expect(204);
            let (carol, dave) = (app.signup("carol").await, app.signup("dave").await);
            app.befriend(&alice_user, &carol).await;
            app.befriend(&alice_user, &dave).await;
            group = app
                .post(
                    "/api/v1/chats",
                    &token,
                    serde_json::json!({"kind": "group", "title": "Club", "member_ids": [carol.id, dave.id]}),
                )
                .await
                .expect(201)["id"]
                .as_str()
                .unwrap()
                .to_owned();
            alice = Some(token);
        }
        let chat_id = match id.as_str() {
            "editMessage" => &direct,
            "addChatMember" => &group,
            _ => &chat,
        };
        let concrete = path
            .replace("/admin/users/{id}", &format!("/admin/users/{}", bob.id))
            .replace("{id}", chat_id)
            .replace("{mid}", &message)
            .replace("{user_id}", &bob.id.to_string());
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let reply = app
            .call(method, &concrete, alice.as_deref(), Some(example.clone()))
            .await;
        if id == "resetPassword" || id == "confirmEmail" {
            // Well formed; only its token is not one the server made.
            assert_eq!(reply.body["field"], "token", "{id}: {}", reply.body);
            continue;
        }
        assert_ne!(
            reply.status.as_u16(),
            400,
            "{id}: the example {example} was refused: {}",
            reply.body
        );
    }
}

#[tokio::test]
async fn parse_errors_name_their_field_in_a_sentence() {
    let app = crate::helpers::spawn_app().await;
    let user = app.signup("precise").await;
    let chat = app.bot_chat(&user, None).await;
    let cases = [
        (
            reqwest::Method::GET,
            "/api/v1/chats/not-a-uuid".to_owned(),
            None,
            "id",
            "id must be a UUID",
        ),
        (
            reqwest::Method::GET,
            "/api/v1/chats?limit=0".into(),
            None,
            "limit",
            "limit must be at least 1",
        ),
        (
            reqwest::Method::GET,
            "/api/v1/chats?limit=500".into(),
            None,
            "limit",
            "limit must be at most 100",
        ),
        (
            reqwest::Method::GET,
            "/api/v1/friends?status=weird".into(),
            None,
            "status",
            "status must be one of accepted, incoming, outgoing",
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/chats/{chat}/messages"),
            Some(serde_json::json!({"content": null})),
            "content",
            "content is required and must not be null",
        ),
        (
            reqwest::Method::POST,
            "/api/v1/chats".into(),
            Some(serde_json::json!({"kind": "bot", "level": "Z9"})),
            "level",
            "level must be one of A1, A2, B1, B2, C1, C2",
        ),
        (
            reqwest::Method::POST,
            "/api/v1/chats".into(),
            Some(serde_json::json!({"user_id": "x"})),
            "kind",
            "kind must be one of",
        ),
    ];
    for (method, path, body, field, sentence) in cases {
        let err = app
            .call(method.clone(), &path, Some(&user.access), body)
            .await
            .expect_error(400, "validation_failed");
        assert_eq!(err["field"], field, "{method} {path}: {err}");
        assert!(
            err["message"].as_str().unwrap().starts_with(sentence),
            "{method} {path}: {err}"
        );
    }
}

/// Swagger UI shows each error with an example that fits it: a 401 or 404 has
/// no quota fields, the quota 429 has them, and every example's code is one
/// its response describes.
#[tokio::test]
async fn error_examples_fit_their_status() {
    let app = spawn_app().await;
    let spec = app.call(Method::GET, "/openapi.json", None, None).await.expect(200);
    let media = |path: &str, method: &str, status: &str| {
        spec["paths"][path][method]["responses"][status]["content"]["application/json"].clone()
    };
    let unauthorized = media("/api/v1/me", "get", "401")["example"].clone();
    assert_eq!(unauthorized["error"], "unauthorized");
    assert!(
        unauthorized.get("limit").is_none() && unauthorized.get("resets_at").is_none(),
        "{unauthorized}"
    );
    let missing = media("/api/v1/chats/{id}", "get", "404")["example"].clone();
    assert_eq!(
        missing.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["error", "message"],
        "{missing}"
    );
    let limited = media("/api/v1/chats/{id}/messages", "post", "429")["examples"].clone();
    assert_eq!(limited["rate_limited"]["value"]["retry_after"], 30);
    assert!(limited["rate_limited"]["value"].get("limit").is_none());
    let quota = &limited["daily_quota_exceeded"]["value"];
    assert_eq!(
        (quota["limit"].as_u64(), quota["remaining"].as_u64()),
        (Some(5), Some(0))
    );
    // Every error response of every operation has an example.
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                let Some(json) = response["content"].get("application/json") else {
                    continue;
                };
                if status.starts_with(['4', '5'])
                    && json["schema"]["$ref"]
                        .as_str()
                        .is_some_and(|r| r.ends_with("ErrorBody"))
                {
                    assert!(
                        json.get("example").is_some() || json.get("examples").is_some(),
                        "{method} {path} {status} has no example"
                    );
                }
            }
        }
    }
}
