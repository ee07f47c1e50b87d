//! The LLM client: any OpenAI-compatible chat-completions endpoint through
//! async-openai, streamed, with our own lenient chunk type (`byot`) so that
//! OpenAI, Ollama, vLLM and llama.cpp server all parse.
use std::{
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use async_openai::{config::OpenAIConfig, error::OpenAIError, middleware::ReqwestService, Client};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::config::Settings;

/// Why the model produced no (or no more) text.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum UpstreamError {
    /// Connection refused, DNS failure, connect timeout: the server is not there.
    #[error("the bot server cannot be reached")]
    Unreachable,
    /// It answered with an error status or something we cannot read.
    #[error("the bot server answered with an error")]
    Failed,
    /// It did not answer in time.
    #[error("the bot server did not answer in time")]
    Timeout,
}

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

pub type TextStream = Pin<Box<dyn Stream<Item = Result<String, UpstreamError>> + Send>>;

#[derive(Clone)]
pub struct BotClient {
    client: Client<OpenAIConfig>,
    model: String,
    max_tokens: u32,
    pub first_token_timeout: Duration,
    pub total_timeout: Duration,
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
    /// `None` when no bot is configured (`BOT_BASE_URL` unset).
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Option<Self>> {
        let Some(base_url) = settings.bot_base_url.as_deref().filter(|u| !u.is_empty()) else {
            return Ok(None);
        };
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
        Ok(Some(Self {
            client,
            model: settings.bot_model.clone(),
            max_tokens: settings.bot_max_tokens,
            first_token_timeout: Duration::from_secs(settings.bot_first_token_timeout_secs),
            total_timeout: Duration::from_secs(settings.bot_total_timeout_secs),
            json_schema: Arc::new(AtomicBool::new(true)),
        }))
    }

    /// Starts a streamed completion. Dropping the stream cancels the request.
    pub async fn stream(&self, messages: Vec<Value>) -> Result<TextStream, UpstreamError> {
        let request = json!({
            "model": self.model,
            "messages": messages,
            "stream": true,
            "max_tokens": self.max_tokens,
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
}

impl BotClient {
    /// One unstreamed completion whose answer should follow `schema`: sent as
    /// `response_format` (OpenAI, Ollama, vLLM and llama.cpp's server constrain
    /// the output to it), and again without it if the server refuses the field.
    /// Dropping the future cancels the request.
    pub async fn complete_json(
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
