//! Turns the framework's parse errors into sentences that name the field.
//!
//! poem-openapi rejects a malformed path, query or body with precise but
//! internal wording (`failed to parse path 'param0'`, `minimum(1, exclusive:
//! false)`, `Expected input type "string", found null. (occurred while parsing
//! "NewMessage")`) and, for bodies, without the field. The spec knows every
//! parameter and schema, so the request is checked against it again here to
//! find the first field at fault and say what it must be.
use serde_json::{Map, Value};

use crate::error::ApiError;

fn spec() -> &'static Value {
    super::spec_value()
}

/// The spec's operation for `method` and a concrete `path`, with its template.
fn operation(method: &str, path: &str) -> Option<(&'static str, &'static Value)> {
    let (template, item) = super::path_item(path)?;
    Some((template, item.get(method.to_ascii_lowercase())?))
}

/// A 400 from the framework, described against the spec; `None` when the
/// request cannot be matched (the caller keeps its generic message).
pub fn parse_error(method: &str, path: &str, body: Option<&[u8]>, raw: &str) -> Option<ApiError> {
    let (template, op) = operation(method, path)?;
    if let Some(name) = raw.split('`').nth(1).filter(|_| raw.contains('`')) {
        return Some(param_error(template, op, name, raw));
    }
    let body = body?;
    let schema = op.pointer("/requestBody/content/application~1json/schema")?;
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return Some(ApiError::Validation {
                message: format!("the request body is not valid JSON: {e}"),
                field: None,
            })
        }
    };
    let (field, message) = check(schema, &value, None)?;
    Some(match field {
        Some(field) => ApiError::validation(field, message),
        None => ApiError::Validation { message, field: None },
    })
}

/// A path or query parameter. poem names path parameters by position
/// (`param0`); the template gives their real names.
fn param_error(template: &str, op: &Value, name: &str, raw: &str) -> ApiError {
    let name = match name.strip_prefix("param").and_then(|n| n.parse::<usize>().ok()) {
        Some(index) => template
            .split('/')
            .filter(|s| s.starts_with('{'))
            .nth(index)
            .map(|s| s.trim_matches(|c| c == '{' || c == '}').to_owned())
            .unwrap_or_else(|| name.to_owned()),
        None => name.to_owned(),
    };
    let schema = op["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == name.as_str()))
        .map(|p| p["schema"].clone())
        .unwrap_or_default();
    let message = if raw.contains("minimum(") {
        format!("{name} must be at least {}", number(&schema["minimum"]))
    } else if raw.contains("maximum(") {
        format!("{name} must be at most {}", number(&schema["maximum"]))
    } else if raw.contains("maxLength(") {
        format!("{name} must be at most {} characters", number(&schema["maxLength"]))
    } else {
        must_be(&name, resolve(&schema))
    };
    ApiError::validation(name, message)
}

/// A limit from the spec as people write it (`1`, not `1.0`).
fn number(value: &Value) -> String {
    match value.as_f64() {
        Some(n) if n.fract() == 0.0 => format!("{}", n as i64),
        Some(n) => n.to_string(),
        None => value.to_string(),
    }
}

fn resolve(schema: &Value) -> &Value {
    let mut schema = schema;
    for _ in 0..8 {
        if let Some(name) = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
            schema = &spec()["components"]["schemas"][name];
        } else if let Some([only]) = schema["allOf"].as_array().map(Vec::as_slice) {
            schema = only;
        } else {
            break;
        }
    }
    schema
}

/// "`name` must be ..." from a schema.
fn must_be(name: &str, schema: &Value) -> String {
    if let Some(values) = schema["enum"].as_array() {
        let list: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
        return format!("{name} must be one of {}", list.join(", "));
    }
    let what = match (schema["type"].as_str(), schema["format"].as_str()) {
        (_, Some("uuid")) => "a UUID",
        (Some("string"), _) => "a string",
        (Some("integer"), _) => "a whole number",
        (Some("number"), _) => "a number",
        (Some("boolean"), _) => "true or false",
        (Some("array"), _) => "a list",
        _ => "an object",
    };
    format!("{name} must be {what}")
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The first field of `value` that breaks `schema`: `(field, sentence)`.
fn check(schema: &Value, value: &Value, field: Option<&str>) -> Option<(Option<String>, String)> {
    let schema = resolve(schema);
    let label = field.unwrap_or("the request body");
    let fail = |message: String| Some((field.map(str::to_owned), message));
    if schema.get("oneOf").is_some() {
        let property = schema["discriminator"]["propertyName"].as_str().unwrap_or("kind");
        let tags: Vec<&str> = schema["discriminator"]["mapping"]
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let tag = value.get(property).and_then(Value::as_str);
        let chosen = tag.and_then(|t| schema["discriminator"]["mapping"][t].as_str());
        return match chosen {
            Some(target) => check(&serde_json::json!({"$ref": target}), value, field),
            None if value.is_object() => Some((
                Some(property.to_owned()),
                format!("{property} must be one of {}", tags.join(", ")),
            )),
            None => fail(format!("{label} must be an object, not {}", describe(value))),
        };
    }
    if let Some(values) = schema["enum"].as_array() {
        if !values.contains(value) {
            return fail(must_be(label, schema));
        }
        return None;
    }
    match schema["type"].as_str() {
        Some("object") | None if schema.get("properties").is_some() => {
            let Value::Object(map) = value else {
                return fail(format!("{label} must be an object, not {}", describe(value)));
            };
            check_object(schema, map)
        }
        Some("string") => match value {
            Value::String(s) if schema["format"] == "uuid" && uuid::Uuid::parse_str(s).is_err() => {
                fail(format!("{label} must be a UUID"))
            }
            Value::String(_) => None,
            other => fail(format!("{label} must be a string, not {}", describe(other))),
        },
        Some("integer") => match value.as_i64() {
            Some(n) if schema["minimum"].as_f64().is_some_and(|min| (n as f64) < min) => {
                fail(format!("{label} must be at least {}", number(&schema["minimum"])))
            }
            Some(n) if schema["maximum"].as_f64().is_some_and(|max| (n as f64) > max) => {
                fail(format!("{label} must be at most {}", number(&schema["maximum"])))
            }
            Some(n) if n < 0 && schema["format"].as_str().is_some_and(|f| f.starts_with("uint")) => {
                fail(format!("{label} must not be negative"))
            }
            Some(_) => None,
            None => fail(format!("{label} must be a whole number, not {}", describe(value))),
        },
        Some("boolean") if !value.is_boolean() => fail(format!("{label} must be true or false")),
        _ => None,
    }
}

fn check_object(schema: &Value, map: &Map<String, Value>) -> Option<(Option<String>, String)> {
    let props = schema["properties"].as_object()?;
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for name in &required {
        if !map.contains_key(*name) {
            return Some((Some((*name).to_owned()), format!("{name} is required")));
        }
    }
    for (name, prop) in props {
        match map.get(name) {
            None => continue,
            Some(Value::Null) if prop["nullable"] != true => {
                return Some((
                    Some(name.clone()),
                    if required.contains(&name.as_str()) {
                        format!("{name} is required and must not be null")
                    } else {
                        format!("{name} must not be null; leave it out to keep it unchanged")
                    },
                ));
            }
            Some(Value::Null) => continue,
            Some(value) => {
                if let Some(problem) = check(prop, value, Some(name)) {
                    return Some(problem);
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(method: &str, path: &str, body: &str) -> ApiError {
        parse_error(method, path, Some(body.as_bytes()), "parse request payload error").expect("described")
    }

    fn field_and_message(err: ApiError) -> (String, String) {
        let b = err.body();
        (b.field.unwrap_or_default(), b.message)
    }

    #[test]
    fn body_errors_name_their_field() {
        let id = "/api/v1/chats/01937c4e-8f1a-7000-8000-000000000000/messages";
        assert_eq!(
            field_and_message(body("POST", id, r#"{"content": null}"#)),
            ("content".into(), "content is required and must not be null".into())
        );
        assert_eq!(
            field_and_message(body("POST", id, "{}")),
            ("content".into(), "content is required".into())
        );
        assert_eq!(
            field_and_message(body("POST", id, r#"{"content": 5}"#)),
            ("content".into(), "content must be a string, not a number".into())
        );
        assert_eq!(
            field_and_message(body("POST", "/api/v1/chats", r#"{"kind": "bot", "level": "Z9"}"#)),
            ("level".into(), "level must be one of A1, A2, B1, B2, C1, C2".into())
        );
        assert_eq!(
            field_and_message(body("POST", "/api/v1/chats", r#"{"user_id": "x"}"#)).0,
            "kind"
        );
        assert_eq!(
            field_and_message(body(
                "POST",
                "/api/v1/chats",
                r#"{"kind": "direct", "user_id": "nope"}"#
            )),
            ("user_id".into(), "user_id must be a UUID".into())
        );
    }

    #[test]
    fn parameter_errors_use_the_real_names() {
        let err = parse_error(
            "GET",
            "/api/v1/chats/not-a-uuid",
            None,
            "failed to parse path `param0`: failed to parse \"string_uuid\"",
        )
        .unwrap();
        assert_eq!(field_and_message(err), ("id".into(), "id must be a UUID".into()));
        let err = parse_error(
            "GET",
            "/api/v1/chats",
            None,
            "`limit`: verification failed. minimum(1, exclusive: false)",
        )
        .unwrap();
        assert_eq!(
            field_and_message(err),
            ("limit".into(), "limit must be at least 1".into())
        );
        let err = parse_error(
            "GET",
            "/api/v1/friends",
            None,
            "`status`: failed to parse \"FriendStatus\"",
        )
        .unwrap();
        assert_eq!(
            field_and_message(err),
            (
                "status".into(),
                "status must be one of accepted, incoming, outgoing".into()
            )
        );
    }
}
