//! A JSON response written straight from the value's serde form.
//!
//! poem-openapi's `Json<T>` turns `T` into a `serde_json::Value` tree (a map per
//! object) and then writes that tree: for a page of 50 chats this was a fifth
//! of the request's CPU (bench/throughput.sh under `perf`). `JsonOut<T>` has the
//! same place in the spec (`T`'s schema, `application/json; charset=utf-8`) and
//! writes the same text, serialized once; the tests below hold every page type
//! to byte-for-byte the same JSON as poem-openapi's.
use poem::{error::ResponseError, IntoResponse, Response};
use poem_openapi::{
    payload::Payload,
    registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry},
    types::Type,
    ApiResponse,
};

/// A 200 response with `T` as JSON, for the list endpoints.
#[derive(Debug, Clone)]
pub struct JsonOut<T>(pub T);

const CONTENT_TYPE: &str = "application/json; charset=utf-8";

impl<T: Type> Payload for JsonOut<T> {
    const CONTENT_TYPE: &'static str = CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: serde::Serialize + Send> IntoResponse for JsonOut<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => Response::builder().content_type(CONTENT_TYPE).body(body),
            // Not expected (every field serializes); answered like any internal error.
            Err(e) => crate::error::ApiError::internal(e).as_response(),
        }
    }
}

impl<T: Type + serde::Serialize + Send> ApiResponse for JsonOut<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: CONTENT_TYPE,
                    schema: <Self as Payload>::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use poem_openapi::types::ToJSON;
    use uuid::Uuid;

    use super::super::types::*;

    /// The text poem-openapi's `Json` would write, and the one `JsonOut` writes.
    fn both<T: ToJSON + serde::Serialize>(value: &T) -> (String, String) {
        let theirs = serde_json::to_string(&value.to_json().unwrap()).unwrap();
        let ours = serde_json::to_string(value).unwrap();
        (theirs, ours)
    }

    fn user(online: bool) -> User {
        User {
            id: Uuid::now_v7(),
            username: "ana_b".into(),
            display_name: "Ana \"B\" \u{e9}\u{1F600}\n".into(),
            created_at: Utc.with_ymd_and_hms(2026, 11, 21, 9, 30, 0).unwrap().into(),
            online,
        }
    }

    fn message(feedback: Option<Feedback>, edited: bool) -> Message {
        let at = Utc.timestamp_micros(1_795_000_000_123_456).unwrap();
        Message {
            id: Uuid::now_v7(),
            chat_id: Uuid::now_v7(),
            seq: 41,
            sender_id: feedback.is_none().then(Uuid::now_v7),
            role: if feedback.is_some() {
                MessageRole::Assistant
            } else {
                MessageRole::User
            },
            content: "I goed to \\ the <shop> \u{0001}".into(),
            created_at: at.into(),
            edited_at: edited.then(|| at.into()),
            peer_corrections: if edited {
                vec![crate::domain::chat::PeerCorrection {
                    chat_id: Uuid::now_v7(),
                    message_id: Uuid::now_v7(),
                    corrector_id: Uuid::now_v7(),
                    corrector_name: "Bo \"B\"".into(),
                    corrected_text: "I went to the shop.".into(),
                    note: "past ‘go’".into(),
                    corrections: Vec::new(),
                    thanked: true,
                    created_at: at.into(),
                }]
            } else {
                Vec::new()
            },
            feedback,
            reply_to_id: None,
            reply_to: None,
            reactions: if edited {
                vec![crate::domain::chat::Reaction {
                    emoji: "👍".into(),
                    count: 2,
                    mine: true,
                }]
            } else {
                Vec::new()
            },
        }
    }

    fn feedbacks() -> Vec<Option<Feedback>> {
        vec![
            None,
            Some(Feedback::unchecked()),
            Some(Feedback::checked("I went.".into(), Vec::new())),
            Some(Feedback::checked(
                "I went to the shop.".into(),
                vec![Correction {
                    original: "goed".into(),
                    corrected: "went".into(),
                    explanation: "irregular past".into(),
                    kind: MistakeKind::WordOrder,
                }],
            )),
        ]
    }

    #[test]
    fn chat_pages_are_written_as_poem_openapi_writes_them() {
        let mut items = Vec::new();
        for (i, feedback) in feedbacks().into_iter().enumerate() {
            let created = Utc.with_ymd_and_hms(2026, 12, 2, 8, 0, i as u32).unwrap();
            let direct = chat_model(i % 2 == 0, created);
            let peer = (i % 2 == 0).then(|| user(i == 0));
            let last = (i != 1).then(|| message(feedback, i == 3));
            items.push(Chat::build(direct, peer, last, i as u64 * 7));
        }
        for next_cursor in [None, Some("abc".to_owned())] {
            let page = ChatPage {
                items: items.clone(),
                next_cursor,
            };
            let (theirs, ours) = both(&page);
            assert_eq!(ours, theirs);
        }
        let (theirs, ours) = both(&ChatPage {
            items: Vec::new(),
            next_cursor: None,
        });
        assert_eq!(ours, theirs);
    }

    fn chat_model(direct: bool, at: chrono::DateTime<Utc>) -> crate::entity::chat::Model {
        crate::entity::chat::Model {
            id: Uuid::now_v7(),
            kind: if direct { ChatKind::Direct } else { ChatKind::Bot },
            title: (!direct).then(|| "Job interview".into()),
            scenario_id: (!direct).then(|| "job_interview".into()),
            level: (!direct).then_some(Level::C1),
            direct_key: None,
            created_at: at,
            updated_at: at,
            last_message_id: None,
            last_seq: 0,
            extras: 0,
        }
    }

    #[test]
    fn message_user_friend_and_mistake_pages_are_written_as_poem_openapi_writes_them() {
        let messages = MessagePage {
            items: feedbacks()
                .into_iter()
                .enumerate()
                .map(|(i, f)| message(f, i % 2 == 1))
                .collect(),
            next_cursor: Some("c".into()),
        };
        let (theirs, ours) = both(&messages);
        assert_eq!(ours, theirs);
        let users = UserPage {
            items: vec![user(true), user(false)],
            next_cursor: None,
        };
        let (theirs, ours) = both(&users);
        assert_eq!(ours, theirs);
        let friends = FriendPage {
            items: [FriendStatus::Accepted, FriendStatus::Incoming, FriendStatus::Outgoing]
                .into_iter()
                .map(|status| Friend {
                    user: user(status == FriendStatus::Accepted),
                    status,
                    since: Utc.timestamp_micros(1_795_000_000_000_001).unwrap().into(),
                })
                .collect(),
            next_cursor: None,
        };
        let (theirs, ours) = both(&friends);
        assert_eq!(ours, theirs);
        let mistakes = super::super::tutor::MistakePage {
            items: vec![super::super::tutor::Mistake {
                id: Uuid::now_v7(),
                chat_id: Uuid::now_v7(),
                message_id: Uuid::now_v7(),
                source: crate::domain::kinds::MistakeSource::Peer,
                corrector_id: Some(Uuid::now_v7()),
                kind: MistakeKind::MissingWord,
                original: "I going".into(),
                corrected: "I am going".into(),
                explanation: "\"to be\" before -ing".into(),
                sentence: "Tomorrow I going home.".into(),
                created_at: Utc.timestamp_micros(1_795_000_000_000_000).unwrap().into(),
            }],
            next_cursor: Some("n".into()),
        };
        let (theirs, ours) = both(&mistakes);
        assert_eq!(ours, theirs);
    }

    #[test]
    fn every_level_is_written_as_poem_openapi_writes_it() {
        use sea_orm::Iterable;
        for level in Level::iter() {
            let (theirs, ours) = both(&level);
            assert_eq!(ours, theirs);
        }
    }
}
