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
}

/// Client generators (openapi-python-client among them) drop a whole model when
/// a property wraps an enum in `allOf`; `allOf` is only used for the standard
/// nullable object reference. Every field that can be `null` says so.
#[tokio::test]
async fn nullable_fields_are_declared_in_a_form_client_generators_accept() {
    let spec: serde_json::Value = serde_json::from_str(&chattconnect::api::spec_json()).unwrap();
    let schemas = &spec["components"]["schemas"];
    for (name, schema) in schemas.as_object().unwrap() {
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            if let Some(all_of) = property["allOf"].as_array() {
                assert_eq!(
                    property["nullable"], true,
                    "{name}.{field}: allOf only for nullable refs: {property}"
                );
                let target = all_of[0]["$ref"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("#/components/schemas/");
                assert_eq!(
                    schemas[target]["type"], "object",
                    "{name}.{field}: allOf around a non-object {target}"
                );
            }
        }
    }
    for (name, field) in [
        ("Chat", "peer"),
        ("Chat", "level"),
        ("Chat", "scenario_id"),
        ("Chat", "last_message"),
        ("Message", "sender_id"),
        ("Message", "edited_at"),
        ("Message", "feedback"),
        ("Feedback", "tip"),
        ("ChatPage", "next_cursor"),
        ("MessagePage", "next_cursor"),
    ] {
        assert_eq!(
            schemas[name]["properties"][field]["nullable"], true,
            "{name}.{field} must be nullable"
        );
    }
}
