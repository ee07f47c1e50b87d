//! A `text/event-stream` response as the spec should describe it: a string
//! body (so generated clients hand the caller the raw stream rather than try to
//! parse it as JSON), with the event data types registered in the components.
use std::time::Duration;

use futures_util::{stream::BoxStream, StreamExt};
use poem::{web::sse::Event as SseEvent, IntoResponse, Response};
use poem_openapi::{
    payload::{EventStream, Payload},
    registry::{MetaSchema, MetaSchemaRef, Registry},
    types::{ToJSON, Type},
    Object, Union,
};
use tokio_stream::wrappers::ReceiverStream;

use super::{bot::Quota, types::Message};
use crate::{
    bot::{
        exchange::{self, Started},
        quota::QuotaStatus,
    },
    entity::message,
    error::ErrorBody,
};

/// Reply text as it arrives.
#[derive(Debug, Object)]
pub struct StreamDelta {
    pub text: String,
}

/// The stored reply and the quota after this request.
#[derive(Debug, Object)]
pub struct StreamDone {
    pub reply: Message,
    pub quota: Quota,
}

/// The data of one server-sent event; the event name tells which.
#[derive(Debug, Union)]
pub enum StreamEvent {
    /// Event `message`: the learner's stored turn.
    Message(Message),
    /// Event `delta`.
    Delta(StreamDelta),
    /// Event `done`.
    Done(StreamDone),
    /// Event `error`: the exchange failed; the body says whether it counted.
    Error(ErrorBody),
}

/// The events of a retried turn that was already answered.
pub fn replayed(
    message: message::Model,
    reply: message::Model,
    quota: &QuotaStatus,
) -> BoxStream<'static, StreamEvent> {
    let events = vec![
        StreamEvent::Message(message.into()),
        StreamEvent::Done(StreamDone {
            reply: reply.into(),
            quota: quota.into(),
        }),
    ];
    futures_util::stream::iter(events).boxed()
}

/// The events of a new exchange: the stored turn, then the reply as it comes.
pub fn live(started: Started) -> BoxStream<'static, StreamEvent> {
    let first = futures_util::stream::once(async move { StreamEvent::Message(started.message) });
    let rest = ReceiverStream::new(started.events).map(|event| match event {
        exchange::Event::Delta(text) => StreamEvent::Delta(StreamDelta { text }),
        exchange::Event::Done { reply, quota } => StreamEvent::Done(StreamDone {
            reply: *reply,
            quota: (&quota).into(),
        }),
        exchange::Event::Failed(e) => StreamEvent::Error(e.body()),
    });
    first.chain(rest).boxed()
}

/// `events` as a `text/event-stream` body, with keep-alive comments.
pub fn body(events: BoxStream<'static, StreamEvent>) -> EventStreamBody {
    let events = EventStream::new(events)
        .keep_alive(Duration::from_secs(15))
        .to_event(|event| {
            let name = match &event {
                StreamEvent::Message(_) => "message",
                StreamEvent::Delta(_) => "delta",
                StreamEvent::Done(_) => "done",
                StreamEvent::Error(_) => "error",
            };
            let data = event.to_json().map(|v| v.to_string()).unwrap_or_default();
            SseEvent::message(data).event_type(name)
        });
    EventStreamBody(events.into_response())
}

/// The already-built event stream response.
pub struct EventStreamBody(pub Response);

impl Payload for EventStreamBody {
    const CONTENT_TYPE: &'static str = "text/event-stream";

    fn schema_ref() -> MetaSchemaRef {
        let mut schema = MetaSchema::new("string");
        schema.description = Some(
            "Server-sent events. Each has an `event:` name and one `data:` line of JSON: \
             `message` (default name) carries a `Message`, `delta` a `StreamDelta`, `done` a \
             `StreamDone`, `error` an `ErrorBody` (see `StreamEvent`). Comment lines (`:`) keep the \
             connection alive.",
        );
        MetaSchemaRef::Inline(Box::new(schema))
    }

    fn register(registry: &mut Registry) {
        <StreamEvent as Type>::register(registry);
    }
}

impl IntoResponse for EventStreamBody {
    fn into_response(self) -> Response {
        self.0
    }
}
