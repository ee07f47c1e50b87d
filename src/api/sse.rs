//! A `text/event-stream` response as the spec should describe it: a string
//! body (so generated clients hand the caller the raw stream rather than try to
//! parse it as JSON), with the event data types registered in the components.
use poem::{IntoResponse, Response};
use poem_openapi::{
    payload::Payload,
    registry::{MetaSchema, MetaSchemaRef, Registry},
    types::Type,
};

use super::messages::StreamEvent;

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
