//! Prometheus metrics, kept in the application state (never global), served at `/metrics`.
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    /// Open WebSockets on this instance.
    pub ws_connections: IntGauge,
    /// WebSockets dropped because their queue was full.
    pub ws_dropped_slow: IntGauge,
    /// Text pieces (about one token each) the local model has generated.
    pub bot_local_tokens: IntCounter,
    /// Requests waiting for the local model.
    pub bot_local_waiting: IntGauge,
    /// Prompt tokens the local model read (the rest were resumed from kept states).
    pub bot_local_prompt_read: IntCounter,
    /// Tokens of the tutor's instructions the local model read ahead at start.
    pub bot_local_prepared: IntGauge,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("chattconnect".into()), None).expect("valid registry");
        let http_requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by operation and status"),
            &["method", "operation", "status"],
        )
        .expect("valid metric");
        let http_duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency by operation"),
            &["operation"],
        )
        .expect("valid metric");
        let ws_connections = IntGauge::new("ws_connections", "Open WebSockets on this instance").expect("valid metric");
        let ws_dropped_slow = IntGauge::new(
            "ws_dropped_slow_total",
            "WebSockets dropped because their queue was full",
        )
        .expect("valid metric");
        let bot_local_tokens = IntCounter::new(
            "bot_local_tokens_total",
            "Text pieces (about one token each) the local model generated",
        )
        .expect("valid metric");
        let bot_local_waiting =
            IntGauge::new("bot_local_waiting", "Requests waiting for the local model").expect("valid metric");
        let bot_local_prompt_read = IntCounter::new(
            "bot_local_prompt_read_total",
            "Prompt tokens the local model read (the rest were resumed from kept states)",
        )
        .expect("valid metric");
        let bot_local_prepared = IntGauge::new(
            "bot_local_prepared_tokens",
            "Tokens of the tutor's instructions the local model read ahead at start",
        )
        .expect("valid metric");
        for metric in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_duration.clone()),
            Box::new(ws_connections.clone()),
            Box::new(ws_dropped_slow.clone()),
            Box::new(bot_local_tokens.clone()),
            Box::new(bot_local_waiting.clone()),
            Box::new(bot_local_prompt_read.clone()),
            Box::new(bot_local_prepared.clone()),
        ] {
            registry.register(metric).expect("register metric");
        }
        Self {
            registry,
            http_requests,
            http_duration,
            ws_connections,
            ws_dropped_slow,
            bot_local_tokens,
            bot_local_waiting,
            bot_local_prompt_read,
            bot_local_prepared,
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
