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

/// How the fake answers the tutor's check requests (recognised by their system prompt).
#[derive(Clone, Debug)]
pub enum CheckMode {
    /// Say the learner's text is already correct.
    Echo,
    /// Answer with this content.
    Answer(String),
    /// Answer with this HTTP status.
    Status(u16),
    /// Refuse `response_format` with 400, as an older server does; answer this
    /// content to a request without it.
    NoJsonMode(String),
    /// Answer each sentence from this list (learner's sentence, answer
    /// content); echo any other.
    PerSentence(Vec<(String, String)>),
    /// Never answer.
    Stall,
}

/// A check answer in the requested shape.
pub fn corrected(text: &str) -> CheckMode {
    CheckMode::Answer(json!({"corrected": text}).to_string())
}

#[derive(Clone)]
struct Shared {
    mode: Arc<Mutex<Mode>>,
    check: Arc<Mutex<CheckMode>>,
    check_requests: Arc<Mutex<Vec<Value>>>,
    abandoned_checks: Arc<AtomicUsize>,
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

impl FakeLlm {
    pub async fn start(mode: Mode) -> FakeLlm {
        let shared = Shared {
            mode: Arc::new(Mutex::new(mode)),
            check: Arc::new(Mutex::new(CheckMode::Echo)),
            check_requests: Arc::new(Mutex::new(Vec::new())),
            abandoned_checks: Arc::new(AtomicUsize::new(0)),
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
            let _ = chattconnect::server::serve(listener, app, limits, std::future::pending(), || ()).await;
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

    pub fn set_check(&self, mode: CheckMode) {
        *self.shared.check.lock().unwrap() = mode;
    }

    /// Check requests received (including ones refused for `response_format`).
    pub fn check_requests(&self) -> Vec<Value> {
        self.shared.check_requests.lock().unwrap().clone()
    }

    /// Check requests whose client hung up before the answer.
    pub fn abandoned_checks(&self) -> usize {
        self.shared.abandoned_checks.load(Ordering::SeqCst)
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

    /// Reply requests (checks are counted by `check_requests`).
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

fn openai_error(code: u16) -> Response {
    (
        StatusCode::from_u16(code).unwrap(),
        Json(json!({"error": {"message": "fake failure", "type": "server_error"}})),
    )
        .into_response()
}

fn whole_answer(text: &str) -> Response {
    Json(json!({"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}))
        .into_response()
}

async fn check(shared: &Shared, body: Value) -> Response {
    shared.check_requests.lock().unwrap().push(body.clone());
    let learner = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .map(|m| m["content"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    let mode = shared.check.lock().unwrap().clone();
    match mode {
        CheckMode::Echo => whole_answer(&json!({"corrected": learner}).to_string()),
        CheckMode::PerSentence(answers) => match answers.iter().find(|(sentence, _)| *sentence == learner) {
            Some((_, answer)) => whole_answer(answer),
            None => whole_answer(&json!({"corrected": learner}).to_string()),
        },
        CheckMode::Answer(text) => whole_answer(&text),
        CheckMode::Status(code) => openai_error(code),
        CheckMode::NoJsonMode(_) if body.get("response_format").is_some() => openai_error(400),
        CheckMode::NoJsonMode(text) => whole_answer(&text),
        CheckMode::Stall => {
            struct Count(Arc<AtomicUsize>);
            impl Drop for Count {
                fn drop(&mut self) {
                    self.0.fetch_add(1, Ordering::SeqCst);
                }
            }
            let _count = Count(shared.abandoned_checks.clone());
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK.into_response()
        }
    }
}

#[handler]
async fn completions(shared: Data<&Shared>, body: Json<Value>) -> Response {
    if body.0["messages"][0]["content"] == chattconnect::bot::check::SYSTEM_PROMPT {
        return check(&shared, body.0).await;
    }
    shared.calls.fetch_add(1, Ordering::SeqCst);
    shared.requests.lock().unwrap().push(body.0.clone());
    let mode = shared.mode.lock().unwrap().clone();
    let delay = *shared.chunk_delay.lock().unwrap();
    let response_delay = *shared.response_delay.lock().unwrap();
    let (text, stall_after) = match mode {
        Mode::Status(code) => {
            tokio::time::sleep(response_delay).await;
            return openai_error(code);
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
        return whole_answer(&text);
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
