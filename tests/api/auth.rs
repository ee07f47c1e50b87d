use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn register_returns_the_profile_and_working_tokens() {
    let app = spawn_app().await;
    let body = app
        .register(json!({"username": "maria_g", "password": "correct horse", "display_name": "  María  "}))
        .await
        .expect(201);
    assert_eq!(body["user"]["username"], "maria_g");
    assert_eq!(body["user"]["display_name"], "María");
    assert_eq!(body["user"]["role"], "user");
    assert_eq!(body["user"]["level"], "B1");
    assert_eq!(body["user"]["online"], false);
    assert_eq!(body["tokens"]["token_type"], "Bearer");
    assert_eq!(body["tokens"]["expires_in"], 900);
    let access = body["tokens"]["access_token"].as_str().unwrap();
    let me = app.get("/api/v1/me", access).await.expect(200);
    assert_eq!(me["id"], body["user"]["id"]);
}

#[tokio::test]
async fn display_name_defaults_to_the_username() {
    let app = spawn_app().await;
    let body = app
        .register(json!({"username": "kenji", "password": "password1"}))
        .await
        .expect(201);
    assert_eq!(body["user"]["display_name"], "kenji");
    assert_eq!(body["user"]["level"], "B1", "B1 unless the learner says");
    let chosen = app
        .register(json!({"username": "sakura", "password": "password1", "level": "A2"}))
        .await
        .expect(201);
    assert_eq!(chosen["user"]["level"], "A2");
    assert_eq!(chosen["user"]["daily_goal"], 3);
    app.register(json!({"username": "taro", "password": "password1", "level": "Z9"}))
        .await
        .expect_error(400, "validation_failed");
}

#[tokio::test]
async fn duplicate_username_in_other_letter_case_is_a_conflict() {
    let app = spawn_app().await;
    app.signup("Alice").await;
    app.register(json!({"username": "aLICE", "password": "password1"}))
        .await
        .expect_error(409, "conflict");
}

#[tokio::test]
async fn registration_limits_are_enforced() {
    let app = spawn_app().await;
    let cases = [
        (json!({"username": "ab", "password": "password1"}), "username"),
        (json!({"username": "a".repeat(33), "password": "password1"}), "username"),
        (json!({"username": "bad name", "password": "password1"}), "username"),
        (json!({"username": "emoji😀", "password": "password1"}), "username"),
        (json!({"username": "okname", "password": "short7c"}), "password"),
        (json!({"username": "okname", "password": "p".repeat(129)}), "password"),
        (
            json!({"username": "okname", "password": "password1", "display_name": "   "}),
            "display_name",
        ),
        (
            json!({"username": "okname", "password": "password1", "display_name": "d".repeat(65)}),
            "display_name",
        ),
    ];
    for (body, field) in cases {
        let err = app.register(body.clone()).await.expect_error(400, "validation_failed");
        assert_eq!(err["field"], field, "{body}");
    }
    // The limits themselves are allowed.
    app.register(json!({"username": "abc", "password": "p".repeat(8)}))
        .await
        .expect(201);
    app.register(
        json!({"username": "a.b-c_".repeat(5) + "zz", "password": "p".repeat(128), "display_name": "d".repeat(64)}),
    )
    .await
    .expect(201);
}

#[tokio::test]
async fn wrong_types_and_missing_fields_are_400() {
    let app = spawn_app().await;
    app.register(json!({"username": 42, "password": "password1"}))
        .await
        .expect_error(400, "validation_failed");
    app.register(json!({"username": "someone"}))
        .await
        .expect_error(400, "validation_failed");
}

#[tokio::test]
async fn unknown_json_fields_are_ignored() {
    let app = spawn_app().await;
    app.register(json!({"username": "extra", "password": "password1", "favourite_colour": "blue"}))
        .await
        .expect(201);
}

#[tokio::test]
async fn login_returns_tokens_for_the_right_password() {
    let app = spawn_app().await;
    let user = app.signup("bob").await;
    let tokens = app.login("BOB", &user.password).await.expect(200);
    let me = app
        .get("/api/v1/me", tokens["access_token"].as_str().unwrap())
        .await
        .expect(200);
    assert_eq!(me["username"], "bob");
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_401() {
    let app = spawn_app().await;
    app.signup("carol").await;
    let wrong = app
        .login("carol", "not-the-password")
        .await
        .expect_error(401, "unauthorized");
    let unknown = app
        .login("nobody-here", "not-the-password")
        .await
        .expect_error(401, "unauthorized");
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn refresh_rotates_the_token() {
    let app = spawn_app().await;
    let user = app.signup("dave").await;
    let pair = app.refresh(&user.refresh).await.expect(200);
    let new_refresh = pair["refresh_token"].as_str().unwrap();
    assert_ne!(new_refresh, user.refresh);
    app.get("/api/v1/me", pair["access_token"].as_str().unwrap())
        .await
        .expect(200);
    app.refresh(new_refresh).await.expect(200);
}

#[tokio::test]
async fn reusing_a_refresh_token_is_rejected_and_revokes_its_family() {
    let app = spawn_app().await;
    let user = app.signup("erin").await;
    let second = app.refresh(&user.refresh).await.expect(200);
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    // The first token is replayed (stolen): rejected...
    app.refresh(&user.refresh).await.expect_error(401, "unauthorized");
    // ...and the legitimate successor is revoked with it.
    app.refresh(&second_refresh).await.expect_error(401, "unauthorized");
    // Another sign-in is a different family and still works.
    let other = app.login("erin", &user.password).await.expect(200);
    app.refresh(other["refresh_token"].as_str().unwrap()).await.expect(200);
}

#[tokio::test]
async fn unknown_refresh_token_is_401() {
    let app = spawn_app().await;
    app.refresh("made-up-token").await.expect_error(401, "unauthorized");
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let user = app.signup("frank").await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/auth/logout",
            None,
            Some(json!({"refresh_token": user.refresh})),
        )
        .await;
    assert_eq!(r.status, 204);
    app.refresh(&user.refresh).await.expect_error(401, "unauthorized");
    // Logging out again is harmless.
    let again = app
        .call(
            Method::POST,
            "/api/v1/auth/logout",
            None,
            Some(json!({"refresh_token": user.refresh})),
        )
        .await;
    assert_eq!(again.status, 204);
}

#[tokio::test]
async fn expired_tampered_and_unsigned_access_tokens_are_401() {
    let app = spawn_app_with_short_tokens().await;
    let user = app.signup("grace").await;
    app.get("/api/v1/me", &user.access).await.expect(200);

    // Tampered: change the subject, keep the signature.
    let parts: Vec<&str> = user.access.split('.').collect();
    let mut claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = json!(uuid::Uuid::now_v7().to_string());
    let forged_payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    app.get("/api/v1/me", &tampered).await.expect_error(401, "unauthorized");

    // alg: none with the original claims and no signature.
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    app.get("/api/v1/me", &format!("{none_header}.{}.", parts[1]))
        .await
        .expect_error(401, "unauthorized");

    // Garbage and a missing header.
    app.get("/api/v1/me", "not-a-jwt")
        .await
        .expect_error(401, "unauthorized");
    app.call(Method::GET, "/api/v1/me", None, None)
        .await
        .expect_error(401, "unauthorized");

    // Expired: the token lives 1 s, plus 5 s of leeway.
    tokio::time::sleep(std::time::Duration::from_secs(7)).await;
    app.get("/api/v1/me", &user.access)
        .await
        .expect_error(401, "unauthorized");
}

async fn spawn_app_with_short_tokens() -> crate::helpers::TestApp {
    crate::helpers::spawn_app_with(|s| s.access_token_ttl_secs = 1).await
}

#[tokio::test]
async fn profile_can_be_updated() {
    let app = spawn_app().await;
    let user = app.signup("heidi").await;
    // Read (and cached) before the change; read again after it.
    assert_eq!(app.get("/api/v1/me", &user.access).await.expect(200)["level"], "B1");
    let me = app
        .patch(
            "/api/v1/me",
            &user.access,
            json!({"display_name": " Heidi K. ", "level": "C1"}),
        )
        .await
        .expect(200);
    assert_eq!(me["display_name"], "Heidi K.");
    assert_eq!(me["level"], "C1");
    let read = app.get("/api/v1/me", &user.access).await.expect(200);
    assert_eq!(
        (&read["display_name"], &read["level"]),
        (&me["display_name"], &me["level"])
    );
    // Omitted fields stay.
    let me = app
        .patch("/api/v1/me", &user.access, json!({"level": "A2"}))
        .await
        .expect(200);
    assert_eq!(me["display_name"], "Heidi K.");
    assert_eq!(me["level"], "A2");
    app.patch("/api/v1/me", &user.access, json!({"level": "Z9"}))
        .await
        .expect_error(400, "validation_failed");
    app.patch("/api/v1/me", &user.access, json!({"display_name": ""}))
        .await
        .expect_error(400, "validation_failed");
    // null is not a display name; leaving the field out keeps it.
    app.patch("/api/v1/me", &user.access, json!({"display_name": null}))
        .await
        .expect_error(400, "validation_failed");
}

#[tokio::test]
async fn changing_the_password_revokes_every_refresh_token() {
    let app = spawn_app().await;
    let user = app.signup("ivan").await;
    let other_session = app.login("ivan", &user.password).await.expect(200);

    app.put(
        "/api/v1/me/password",
        &user.access,
        json!({"current_password": "wrong-password", "new_password": "brand-new-pass"}),
    )
    .await
    .expect_error(401, "unauthorized");
    app.put(
        "/api/v1/me/password",
        &user.access,
        json!({"current_password": user.password, "new_password": "short"}),
    )
    .await
    .expect_error(400, "validation_failed");

    let r = app
        .put(
            "/api/v1/me/password",
            &user.access,
            json!({"current_password": user.password, "new_password": "brand-new-pass"}),
        )
        .await;
    assert_eq!(r.status, 204);
    app.refresh(&user.refresh).await.expect_error(401, "unauthorized");
    app.refresh(other_session["refresh_token"].as_str().unwrap())
        .await
        .expect_error(401, "unauthorized");
    app.login("ivan", &user.password)
        .await
        .expect_error(401, "unauthorized");
    app.login("ivan", "brand-new-pass").await.expect(200);
}

#[tokio::test]
async fn times_are_rfc3339_utc_with_a_z() {
    let app = spawn_app().await;
    let body = app
        .register(json!({"username": "clock", "password": "password1"}))
        .await
        .expect(201);
    let created = body["user"]["created_at"].as_str().unwrap();
    assert!(created.ends_with('Z'), "{created}");
    assert!(chrono::DateTime::parse_from_rfc3339(created).is_ok());
}

/// The token of a link printed by `chattconnect admin reset-link`.
async fn reset_link(app: &crate::helpers::TestApp, username: &str) -> (String, String) {
    let out = app.cli(&["admin", "reset-link", username]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let link = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let token = link.split("#/reset/").nth(1).expect("a reset link").to_owned();
    (link, token)
}

#[tokio::test]
async fn a_reset_link_works_once_for_an_hour_and_signs_out_everywhere() {
    let app = crate::helpers::spawn_app_with(|s| s.public_url = Some("https://chat.example.com/".into())).await;
    let user = app.signup("Forgetful").await;
    let other_device = app.login("forgetful", &user.password).await.expect(200);
    let (link, token) = reset_link(&app, "FORGETFUL").await;
    assert!(link.starts_with("https://chat.example.com/#/reset/"), "{link}");
    let reset = |token: &str, password: &str| {
        app.call(
            reqwest::Method::POST,
            "/api/v1/auth/reset-password",
            None,
            Some(json!({"token": token, "new_password": password})),
        )
    };

    // A password that will not do leaves the link unused.
    let err = reset(&token, "short").await.expect_error(400, "validation_failed");
    assert_eq!(err["field"], "new_password");
    reset(&token, "a brand new secret").await.expect(204);
    // Every session is over: this device and the other.
    app.get("/api/v1/me", &user.access)
        .await
        .expect_error(401, "unauthorized");
    let other_access = other_device["access_token"].as_str().unwrap();
    app.get("/api/v1/me", other_access)
        .await
        .expect_error(401, "unauthorized");
    app.login("forgetful", &user.password)
        .await
        .expect_error(401, "unauthorized");
    app.login("forgetful", "a brand new secret").await.expect(200);

    // Once only.
    let err = reset(&token, "yet another secret")
        .await
        .expect_error(400, "validation_failed");
    assert_eq!(err["field"], "token");
    // For an hour only.
    let (_, late) = reset_link(&app, "forgetful").await;
    app.clock.advance(chrono::Duration::minutes(61));
    reset(&late, "too late a secret")
        .await
        .expect_error(400, "validation_failed");
    reset("made-up", "any good secret")
        .await
        .expect_error(400, "validation_failed");

    let unknown = app.cli(&["admin", "reset-link", "nobody"]).await;
    assert!(!unknown.status.success());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&unknown.stdout),
        String::from_utf8_lossy(&unknown.stderr)
    );
    assert!(said.contains("no user named 'nobody'"), "{said}");
}
