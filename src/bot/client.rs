//! The LLM client, with two providers behind one interface: any
//! OpenAI-compatible chat-completions endpoint through async-openai (streamed,
//! with our own lenient chunk type (`byot`) so that OpenAI, Ollama, vLLM and
//! llama.cpp server all parse), or a GGUF model run in this process.
use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use async_openai::{config::OpenAIConfig, error::OpenAIError, middleware::ReqwestService, Client};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};

use tokio::sync::OwnedSemaphorePermit;

use super::local::LocalModel;
use super::provider::{TextStream, UpstreamError};
use crate::{config::Settings, metrics::Metrics};

#[derive(Debug, Default, Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: Option<ChunkDelta>,
    /// Some servers send whole messages instead of deltas.
    #[serde(default)]
    message: Option<ChunkDelta>,
}

#[derive(Debug, Default, Deserialize)]
struct ChunkDelta {
    #[serde(default)]
    content: Option<String>,
}

/// Why bot endpoints answer 503 on a server with no bot configured.
const NO_BOT: &str = "no bot is configured on this server: run `chattconnect model pull` (or put a GGUF model in \
data/models) for a built-in tutor, or set BOT_BASE_URL (and BOT_MODEL, BOT_API_KEY) to an OpenAI-compatible API";

#[derive(Clone)]
pub struct BotClient {
    provider: Provider,
    max_tokens: u32,
    pub first_token_timeout: Duration,
    pub total_timeout: Duration,
}

#[derive(Clone)]
enum Provider {
    Remote(Box<Remote>),
    Local(LocalModel),
}

/// An OpenAI-compatible server.
#[derive(Clone)]
struct Remote {
    client: Client<OpenAIConfig>,
    model: String,
    /// Cleared when the server refuses `response_format` (an older server):
    /// later checks ask for JSON in the prompt only.
    json_schema: Arc<AtomicBool>,
}

/// A server that refused the request itself (not one that failed on it): the
/// sign that `response_format` is not supported.
fn refused(e: &OpenAIError) -> bool {
    matches!(e, OpenAIError::ApiError(api) if matches!(api.status_code.as_u16(), 400 | 404 | 415 | 422 | 501))
}

impl BotClient {
    /// The configured bot: the server at `BOT_BASE_URL` if set, else the GGUF
    /// model at `BOT_LOCAL_MODEL` or the first usable one in `data/models`;
    /// or why there is none (no model, or a model file that cannot be loaded),
    /// which bot endpoints then say in their 503. A bad model file never stops
    /// the server: everything else works without a bot. Loading a local model
    /// takes a while; it happens off the async runtime.
    pub async fn from_settings(settings: &Settings, metrics: &Metrics) -> anyhow::Result<Result<Self, String>> {
        let provider = if let Some(base_url) = settings.bot_base_url.as_deref().filter(|u| !u.is_empty()) {
            Provider::Remote(Box::new(Remote::new(settings, base_url)?))
        } else {
            let dir = settings.models_dir();
            let info = match super::local::find(settings.bot_local_model.as_deref(), &dir) {
                Ok(Some(info)) => info,
                Ok(None) => return Ok(Err(NO_BOT.into())),
                Err(e) => return Ok(Err(format!("the built-in model cannot be used: {e:#}"))),
            };
            if let Some(problem) = info.problem() {
                return Ok(Err(format!(
                    "the built-in model {} cannot be used: {problem}. Replace it (`chattconnect model pull`) or remove it",
                    info.path.display()
                )));
            }
            let (queue, parallel, metrics) = (settings.bot_local_queue, settings.bot_local_parallel, metrics.clone());
            let path = info.path.clone();
            let loaded = tokio::task::spawn_blocking(move || LocalModel::load(&path, queue, parallel, metrics)).await?;
            match loaded {
                Ok(model) => Provider::Local(model),
                Err(e) => {
                    return Ok(Err(format!(
                        "the built-in model {} could not be loaded: {e:#}",
                        info.path.display()
                    )))
                }
            }
        };
        Ok(Ok(Self {
            provider,
            max_tokens: settings.bot_max_tokens,
            first_token_timeout: Duration::from_secs(settings.bot_first_token_timeout_secs),
            total_timeout: Duration::from_secs(settings.bot_total_timeout_secs),
        }))
    }

    /// Has a built-in model read ahead, in the background, the start the
    /// prompts `a` and `b` share; a remote model reuses prompts itself.
    pub fn prepare(&self, a: Vec<Value>, b: Vec<Value>) {
        if let Provider::Local(model) = &self.provider {
            model.prepare(a, b);
        }
    }

    /// A built-in model still reading ahead (see `prepare`).
    pub fn warming(&self) -> bool {
        matches!(&self.provider, Provider::Local(model) if model.warming())
    }

    /// What answers: the remote model's name, or the local model's.
    pub fn describe(&self) -> String {
        match &self.provider {
            Provider::Remote(r) => format!("{} (remote)", r.model),
            Provider::Local(m) => format!("{} (local, {})", m.info().name, m.info().path.display()),
        }
    }

    /// Whether the model runs in this process (one request at a time).
    pub fn is_local(&self) -> bool {
        matches!(self.provider, Provider::Local(_))
    }

    /// A place for one request with the built-in model, kept until the
    /// returned guard is dropped (a remote server needs none); or, when there
    /// is no place, when to come back.
    pub fn admit(&self) -> Result<Option<OwnedSemaphorePermit>, u64> {
        match &self.provider {
            Provider::Remote(_) => Ok(None),
            Provider::Local(m) => m.admit().map(Some),
        }
    }

    /// Starts a streamed completion. Dropping the stream cancels the request.
    pub async fn stream(&self, messages: Vec<Value>) -> Result<TextStream, UpstreamError> {
        match &self.provider {
            Provider::Remote(r) => r.stream(messages, self.max_tokens).await,
            Provider::Local(m) => m.stream(messages, self.max_tokens),
        }
    }

    /// A check's answer: `schema`'s object, whose first field is a string
    /// that copies much of `guide` (the built-in model guesses ahead from it,
    /// and stops when that string is complete). Dropping the future cancels
    /// the request.
    pub async fn correct(
        &self,
        messages: Vec<Value>,
        schema: Value,
        max_tokens: u32,
        guide: &str,
    ) -> Result<String, UpstreamError> {
        match &self.provider {
            Provider::Remote(r) => r.complete_json(messages, schema, max_tokens).await,
            Provider::Local(m) => m.complete_string(messages, &schema, max_tokens, guide).await,
        }
    }

    /// One unstreamed completion whose answer should follow `schema`.
    /// Dropping the future cancels the request.
    pub async fn complete_json(
        &self,
        messages: Vec<Value>,
        schema: Value,
        max_tokens: u32,
    ) -> Result<String, UpstreamError> {
        match &self.provider {
            Provider::Remote(r) => r.complete_json(messages, schema, max_tokens).await,
            Provider::Local(m) => m.complete_json(messages, &schema, max_tokens).await,
        }
    }
}

impl Remote {
    fn new(settings: &Settings, base_url: &str) -> anyhow::Result<Self> {
        // Set explicitly: async-openai would otherwise read OPENAI_* variables.
        let config = OpenAIConfig::new()
            .with_api_base(base_url.trim_end_matches('/'))
            .with_api_key(
                settings
                    .bot_api_key
                    .as_ref()
                    .map(|k| k.expose().to_owned())
                    .unwrap_or_default(),
            );
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(settings.bot_connect_timeout_secs))
            .build()?;
        // No hidden retries (async-openai retries 5xx and refused connections by
        // default): a failure refunds the request and the learner decides, and
        // retries would silently eat the first-token time budget.
        let client = Client::with_config(config)
            .with_http_client(http.clone())
            .with_http_service(ReqwestService::new(http));
        Ok(Self {
            client,
            model: settings.bot_model.clone(),
            json_schema: Arc::new(AtomicBool::new(true)),
        })
    }

    async fn stream(&self, messages: Vec<Value>, max_tokens: u32) -> Result<TextStream, UpstreamError> {
        let request = json!({
            "model": self.model,
            "messages": messages,
            "stream": true,
            "max_tokens": max_tokens,
            "temperature": 0.7,
        });
        let stream = self
            .client
            .chat()
            .create_stream_byot::<Value, Chunk>(request)
            .await
            .map_err(classify)?;
        Ok(Box::pin(stream.map(|item| {
            match item {
                Ok(chunk) if chunk.error.is_some() => {
                    tracing::warn!(error = ?chunk.error, "bot server sent an error mid-stream");
                    Err(UpstreamError::Failed)
                }
                Ok(chunk) => Ok(chunk
                    .choices
                    .into_iter()
                    .filter_map(|c| c.delta.or(c.message).and_then(|d| d.content))
                    .collect::<String>()),
                Err(e) => Err(classify(e)),
            }
        })))
    }

    /// One unstreamed completion whose answer should follow `schema`: sent as
    /// `response_format` (OpenAI, Ollama, vLLM and llama.cpp's server constrain
    /// the output to it), and again without it if the server refuses the field.
    /// Dropping the future cancels the request.
    async fn complete_json(
        &self,
        messages: Vec<Value>,
        schema: Value,
        max_tokens: u32,
    ) -> Result<String, UpstreamError> {
        let mut request = json!({
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": 0,
        });
        if self.json_schema.load(Ordering::Relaxed) {
            request["response_format"] = json!({
                "type": "json_schema",
                "json_schema": {"name": "feedback", "schema": schema, "strict": true},
            });
            match self.send(request.clone()).await {
                Err(e) if refused(&e) => {
                    tracing::info!("the bot server refused response_format; checking with a plain prompt from now on");
                    self.json_schema.store(false, Ordering::Relaxed);
                    if let Some(map) = request.as_object_mut() {
                        map.remove("response_format");
                    }
                }
                other => return other.map_err(classify),
            }
        }
        self.send(request).await.map_err(classify)
    }

    async fn send(&self, request: Value) -> Result<String, OpenAIError> {
        let answer: Chunk = self.client.chat().create_byot(request).await?;
        Ok(answer
            .choices
            .into_iter()
            .filter_map(|c| c.message.or(c.delta).and_then(|d| d.content))
            .collect())
    }
}

/// The JSON object in a model's answer, also when it sits in a code fence or
/// after some chatter; `None` when there is none of type `T`.
pub fn json_object<T: serde::de::DeserializeOwned>(answer: &str) -> Option<T> {
    let (start, end) = answer.find('{').zip(answer.rfind('}'))?;
    if start >= end {
        return None;
    }
    serde_json::from_str(&answer[start..=end]).ok()
}

fn classify(err: OpenAIError) -> UpstreamError {
    match &err {
        OpenAIError::Reqwest(e) if e.is_connect() => {
            tracing::warn!(error = %e, "bot server unreachable");
            UpstreamError::Unreachable
        }
        OpenAIError::Reqwest(e) if e.is_timeout() => UpstreamError::Timeout,
        OpenAIError::ApiError(api) => {
            tracing::warn!(status = %api.status_code, message = %api.api_error.message, "bot server returned an error");
            UpstreamError::Failed
        }
        _ => {
            tracing::warn!(error = %err, "bot request failed");
            UpstreamError::Failed
        }
    }
}
