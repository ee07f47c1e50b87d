//! A local OpenAI-compatible server the tests start and control: it streams a
//! scripted answer in chunks, fails, stalls, and counts calls.
use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use futures_util::StreamExt;
use poem::{
    handler,
    http::StatusCode,
    post,
    web::{
        sse::{Event, SSE},
        Data, Json,
    },
    EndpointExt, IntoResponse, Response, Route,
};
use serde_json::{json, Value};

#[derive(Clone, Debug)]
pub enum Mode {
    /// Stream (or return) this answer.
    Answer(String),
    /// Answer with this HTTP status and an OpenAI-style error body.
    Status(u16),
    /// Accept the request and never send a byte of the answer.
    Stall,
    /// Stream this much of the answer, then stall.
    StallAfter(String),
}

#[derive(Clone)]
struct Shared {
    mode: Arc<Mutex<Mode>>,
    chunk_delay: Arc<Mutex<Duration>>,
    calls: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<Value>>>,
    /// Set when a client hung up before a stream finished.
    abandoned: Arc<AtomicBool>,
    /// Requests whose client hung up before the answer was complete.
    abandoned_count: Arc<AtomicUsize>,
    /// Wait before answering an error status.
    response_delay: Arc<Mutex<Duration>>,
}

pub struct FakeLlm {
    pub base_url: String,
    shared: Shared,
    _server: tokio::task::JoinHandle<()>,
}

/// A typical answer: reply, marker, feedback JSON.
pub fn answer_with_feedback(reply: &str) -> String {
    format!(
        "{reply}\n###FEEDBACK###\n{}",
        json!({
            "corrections": [{"original": "I goed", "corrected": "I went", "explanation": "'go' is irregular: go, went, gone."}],
            "tip": "Use the past simple for finished actions."
        })
    )
}

impl FakeLlm {
    pub async fn start(mode: Mode) -> FakeLlm {
        let shared = Shared {
            mode: Arc::new(Mutex::new(mode)),
            chunk_delay: Arc::new(Mutex::new(Duration::ZERO)),
            calls: Arc::new(AtomicUsize::new(0)),
            requests: Arc::new(Mutex::new(Vec::new())),
            abandoned: Arc::new(AtomicBool::new(false)),
            abandoned_count: Arc::new(AtomicUsize::new(0)),
            response_delay: Arc::new(Mutex::new(Duration::ZERO)),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = Route::new()
            .at("/v1/chat/completions", post(completions))
            .data(shared.clone());
        // The service's own server loop: unlike poem's, it notices a client
        // that hangs up while its request is being answered.
        let limits = chattconnect::server::Limits {
            header_timeout: Duration::from_secs(30),
            max_connections: 10_000,
            drain_timeout: Duration::from_secs(1),
        };
        let server = tokio::spawn(async move {
            let _ = chattconnect::server::serve(listener, app, limits, std::future::pending()).await;
        });
        FakeLlm {
            base_url: format!("http://127.0.0.1:{port}/v1"),
            shared,
            _server: server,
        }
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = mode;
    }

    pub fn set_chunk_delay(&self, delay: Duration) {
        *self.shared.chunk_delay.lock().unwrap() = delay;
    }

    pub fn set_response_delay(&self, delay: Duration) {
        *self.shared.response_delay.lock().unwrap() = delay;
    }

    /// How many requests the client abandoned before their answer was complete.
    pub fn abandoned_requests(&self) -> usize {
        self.shared.abandoned_count.load(Ordering::SeqCst)
    }

    pub fn calls(&self) -> usize {
        self.shared.calls.load(Ordering::SeqCst)
    }

    pub fn last_request(&self) -> Value {
        self.shared
            .requests
            .lock()
            .unwrap()
            .last()
            .cloned()
            .unwrap_or(Value::Null)
    }

    pub fn abandoned(&self) -> bool {
        self.shared.abandoned.load(Ordering::SeqCst)
    }
}

/// Notes an abandoned request when dropped before the end.
struct Watch {
    finished: bool,
    abandoned: Arc<AtomicBool>,
    count: Arc<AtomicUsize>,
}

impl Watch {
    fn new(shared: &Shared) -> Self {
        Self {
            finished: false,
            abandoned: shared.abandoned.clone(),
            count: shared.abandoned_count.clone(),
        }
    }
}

impl Watch {
    fn finish(&mut self) {
        self.finished = true;
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if !self.finished {
            self.abandoned.store(true, Ordering::SeqCst);
            self.count.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn chunk(text: &str) -> Event {
    Event::message(
        json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": "fake",
               "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
        .to_string(),
    )
}

#[handler]
async fn completions(shared: Data<&Shared>, body: Json<Value>) -> Response {
    shared.calls.fetch_add(1, Ordering::SeqCst);
    shared.requests.lock().unwrap().push(body.0.clone());
    let mode = shared.mode.lock().unwrap().clone();
    let delay = *shared.chunk_delay.lock().unwrap();
    let response_delay = *shared.response_delay.lock().unwrap();
    let (text, stall_after) = match mode {
        Mode::Status(code) => {
            tokio::time::sleep(response_delay).await;
            let status = StatusCode::from_u16(code).unwrap();
            return (
                status,
                Json(json!({"error": {"message": "fake failure", "type": "server_error"}})),
            )
                .into_response();
        }
        Mode::Stall => {
            let _watch = Watch::new(&shared);
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return StatusCode::OK.into_response();
        }
        Mode::Answer(text) => (text, false),
        Mode::StallAfter(text) => (text, true),
    };
    if body.0["stream"] != json!(true) {
        return Json(json!({"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}))
            .into_response();
    }
    let pieces: Vec<String> = text
        .chars()
        .collect::<Vec<_>>()
        .chunks(7)
        .map(|c| c.iter().collect())
        .collect();
    let mut watch = Watch::new(&shared);
    let stream = async_stream_events(pieces, delay, stall_after).map(move |event| {
        if event.is_none() {
            watch.finish();
        }
        event.unwrap_or_else(|| Event::message("[DONE]"))
    });
    SSE::new(stream).into_response()
}

/// The answer's chunks (with `delay` between them), then `None` for `[DONE]`,
/// or a stall in place of `[DONE]`.
fn async_stream_events(
    pieces: Vec<String>,
    delay: Duration,
    stall_after: bool,
) -> impl futures_util::Stream<Item = Option<Event>> + Send {
    futures_util::stream::unfold((pieces.into_iter(), false), move |(mut it, done)| async move {
        if done {
            return None;
        }
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        match it.next() {
            Some(piece) => Some((Some(chunk(&piece)), (it, false))),
            None if stall_after => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                None
            }
            None => Some((None, (it, true))),
        }
    })
}
