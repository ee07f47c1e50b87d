//! Building the application: connect, migrate, assemble state and routes, bind.
use std::{
    future::Future,
    io::Write,
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use poem::{
    endpoint::EmbeddedFilesEndpoint, error::ResponseError, get, handler, http::header, middleware::CatchPanic,
    web::Data, Endpoint, EndpointExt, IntoResponse, Request, Response, Route,
};
use rust_embed::RustEmbed;

use crate::{
    api,
    auth::{jwt::JwtKeys, password, profiles::Profiles, sessions::Sessions},
    bot::{
        client::BotClient,
        quota::{Clock, QuotaService},
    },
    config::Settings,
    db::{lease::Lease, Db},
    error::{ApiError, BotError},
    lifecycle::{self, Lifecycle, Phase},
    metrics::Metrics,
    middleware,
    ratelimit::RateLimits,
    realtime::Realtime,
    request_id, security, server,
    state::AppState,
    tutor::Tutor,
};

/// The browser app, compiled into the binary.
#[derive(RustEmbed)]
#[folder = "static/"]
struct Assets;

pub struct Application {
    listener: tokio::net::TcpListener,
    port: u16,
    state: AppState,
    limits: server::Limits,
}

impl Application {
    /// Connects to the database, runs migrations and binds the listener, so the
    /// port is known (and real) before serving starts.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let secret = jwt_secret(&settings)?;
        let db = Db::connect(&settings).await?;
        db.migrate(&settings).await?;
        let lease = Lease::acquire(&settings).await?;
        tokio::task::spawn_blocking(password::warm_up).await?;
        let counters = Metrics::new();
        let bot = BotClient::from_settings(&settings, &counters).await?;
        match &bot {
            Ok(bot) => {
                tracing::info!(model = %bot.describe(), "bot configured");
                crate::bot::check::prepare(bot);
            }
            Err(reason) => tracing::warn!(
                models = %settings.models_dir().display(),
                %reason,
                "no bot: bot endpoints answer 503, everything else works"
            ),
        }
        let jwt = JwtKeys::new(&secret, &settings.jwt_issuer, settings.access_token_ttl_secs);
        let realtime = Realtime::start(&settings)?;
        let state = AppState {
            sessions: Sessions::new(
                Duration::from_secs(settings.session_cache_secs),
                db.clone(),
                jwt.clone(),
                realtime.clone(),
                settings.refresh_token_ttl_days,
            ),
            jwt,
            profiles: Profiles::new(Duration::from_secs(settings.session_cache_secs)),
            db,
            metrics: counters,
            bot,
            quota: QuotaService::new(
                settings.bot_daily_limit,
                settings.quota_tz()?,
                Clock::default(),
                Duration::from_secs(settings.bot_total_timeout_secs + 60),
            ),
            limits: RateLimits::new(&settings),
            realtime,
            tutor: Tutor::new(),
            mailer: crate::mail::Mailer::from_settings(&settings)?,
            lease,
            lifecycle: Lifecycle::default(),
            settings: Arc::new(settings),
        };
        // Sessions ended on another instance reach this one through the bus.
        state.realtime.on_sessions_ended(state.sessions.forgetter());
        let profiles = state.profiles.clone();
        state.realtime.on_profile_changed(move |user| profiles.forget(user));
        let open_files = server::raise_open_file_limit();
        let limits = server::Limits {
            header_timeout: Duration::from_secs(state.settings.http_header_timeout_secs.max(1)),
            max_connections: server::effective_max_connections(state.settings.max_connections, open_files),
            drain_timeout: Duration::from_secs(state.settings.shutdown_timeout_secs),
        };
        if limits.max_connections < state.settings.max_connections {
            tracing::warn!(
                max_connections = limits.max_connections,
                open_files,
                "the open-file limit lowers the connection cap"
            );
        }
        let listener = tokio::net::TcpListener::bind(state.settings.bind)
            .await
            .with_context(|| format!("binding {}", state.settings.bind))?;
        let port = listener.local_addr().context("reading the bound port")?.port();
        Ok(Self {
            listener,
            port,
            state,
            limits,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until Ctrl-C or SIGTERM.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `signal` completes, then drains requests and closes the database.
    pub async fn run_until(self, signal: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let state = self.state.clone();
        let limits = state.limits.clone();
        let db = state.db.clone();
        let janitor = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                limits.cleanup();
                if let Err(e) = crate::db::idempotency::purge(db.w(), crate::db::now()).await {
                    tracing::warn!(error = %e, "purging old idempotency keys failed");
                }
            }
        });
        // Bot work left in flight by a process that died is ended before the
        // first request is served (at start: this process's own predecessor,
        // so nobody sees its unit still held), and then within seconds.
        if let Err(e) = crate::bot::recovery::sweep(&state).await {
            tracing::warn!(error = %e, "ending bot requests of stopped processes failed");
        }
        let recovering = state.clone();
        let recovery = tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + RECOVERY_EVERY, RECOVERY_EVERY);
            loop {
                tick.tick().await;
                if let Err(e) = crate::bot::recovery::sweep(&recovering).await {
                    tracing::warn!(error = %e, "ending bot requests of stopped processes failed");
                }
            }
        });
        // Lounges' online counts reach their members here at most once a second.
        let counting = state.clone();
        let lounges = tokio::spawn(async move {
            let mut ticker = crate::service::lounges::OnlineTicker::new();
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = ticker.tick(&counting.db, &counting.realtime).await {
                    tracing::warn!(error = %e, "counting the lounges' members online failed");
                }
            }
        });
        tracing::info!(port = self.port, "listening");
        // SIGTERM: drain (readyz 503, still serving) for the grace period, then close.
        let life = state.lifecycle.clone();
        let grace = Duration::from_secs(state.settings.shutdown_grace_secs);
        let stopping = async move {
            signal.await;
            life.enter(Phase::Draining);
            tracing::info!(
                grace_secs = grace.as_secs(),
                "draining: /readyz answers 503, requests are still served"
            );
            tokio::time::sleep(grace).await;
            life.enter(Phase::Closing);
        };
        // Once the listener is closed, sockets are told to reconnect (elsewhere).
        let sockets = state.realtime.clone();
        let on_closed = move || {
            tracing::info!("listener closed: sockets closed with 1012, finishing requests in flight");
            sockets.restart_sockets();
        };
        let result = server::serve(self.listener, routes(self.state), self.limits, stopping, on_closed).await;
        janitor.abort();
        recovery.abort();
        lounges.abort();
        // Bot quota still held by this process (a stream cut by the timeout) is settled now.
        match crate::bot::recovery::settle_own(&state, Duration::from_secs(3)).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(ended = n, "settled bot requests cut off by the shutdown"),
            Err(e) => tracing::warn!(error = %e, "settling this process's bot requests failed"),
        }
        state.realtime.shutdown().await;
        state.lease.release().await;
        state.db.clone().close().await;
        tracing::info!("stopped");
        result
    }
}

/// How often bot work of processes that died is looked for.
const RECOVERY_EVERY: Duration = Duration::from_secs(3);

/// Every route of the service, with its middleware.
pub fn routes(state: AppState) -> impl Endpoint {
    let api = api::service();
    let spec = api::spec_json();
    let docs = api::swagger_ui_html();
    let max_body = state.settings.max_body_bytes;
    let body_deadline = Duration::from_secs(state.settings.http_body_timeout_secs.max(1));
    let headers = Arc::new(security::Headers::new(&docs, state.settings.behind_https));
    let cors = security::OptInCors::new(&state.settings.cors_allowed_origins);
    let life = state.lifecycle.clone();
    Route::new()
        .nest_no_strip("/api/v1", api)
        .at(
            "/openapi.json",
            poem::endpoint::make_sync(move |_| Response::builder().content_type("application/json").body(spec.clone())),
        )
        .at(
            "/docs",
            poem::endpoint::make_sync(move |_| poem::web::Html(docs.clone())),
        )
        .at("/healthz", get(api::health::healthz))
        .at("/readyz", get(api::health::readyz))
        .at("/metrics", get(metrics))
        .nest("/", EmbeddedFilesEndpoint::<Assets>::new())
        .around(record_metrics)
        .around(move |ep, req| lifecycle::close_connections_when_draining(ep, req, life.clone()))
        .around(move |ep, req| middleware::read_body(ep, req, max_body, body_deadline))
        .around(uniform_errors)
        .around(request_id::traced)
        .with(CatchPanic::new())
        // A box keeps the type of the whole stack short enough for the compiler.
        .boxed()
        .with(cors)
        .around(move |ep, req| security::with_headers(ep, req, headers.clone()))
        .data(state)
}

#[handler]
fn metrics(state: Data<&AppState>) -> Response {
    state.metrics.ws_connections.set(state.realtime.connections() as i64);
    state.metrics.ws_dropped_slow.set(state.realtime.dropped_slow() as i64);
    Response::builder()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}

/// Any error that did not come from a handler (routing, parsing, auth, limits)
/// is answered in the contract's `{error, message}` shape.
async fn uniform_errors<E: Endpoint>(ep: E, req: Request) -> poem::Result<Response> {
    let path = req.uri().path().to_owned();
    match ep.call(req).await {
        Ok(resp) => Ok(resp.into_response()),
        Err(err) if err.is::<ApiError>() || err.is::<BotError>() => Err(err),
        // Not failures: a conditional GET of a static file answers 304 this way.
        Err(err) if !err.status().is_client_error() && !err.status().is_server_error() => Ok(err.into_response()),
        Err(err) if err.status() == poem::http::StatusCode::METHOD_NOT_ALLOWED => {
            let mut resp = ApiError::from_poem(&err).as_response();
            if let Some(methods) = allowed_methods(&path).and_then(|m| m.parse().ok()) {
                resp.headers_mut().insert(header::ALLOW, methods);
            }
            Ok(resp)
        }
        Err(err) => Err(ApiError::from_poem(&err).into()),
    }
}

/// The methods of an API path, read from the spec, for the `Allow` header
/// that a 405 must carry.
fn allowed_methods(path: &str) -> Option<String> {
    let (_, item) = api::path_item(path)?;
    let methods: Vec<String> = item.as_object()?.keys().map(|m| m.to_uppercase()).collect();
    Some(methods.join(", "))
}

/// One log line per request: method, path and status, never the query string
/// (the WebSocket's `access_token` travels there).
async fn record_metrics<E: Endpoint>(ep: E, req: Request) -> poem::Result<Response> {
    // The two counters alone: cloning the whole state per request costs
    // a dozen atomic increments on lines both cores share.
    let counters = req
        .data::<AppState>()
        .map(|s| (s.metrics.http_requests.clone(), s.metrics.http_duration.clone()));
    let method = req.method().to_string();
    let start = Instant::now();
    let result = ep.call(req).await.map(IntoResponse::into_response);
    if let Some((requests, duration)) = counters {
        let (status, operation) = match &result {
            Ok(resp) => (
                resp.status(),
                resp.data::<poem_openapi::OperationId>().map_or("other", |op| op.0),
            ),
            Err(err) => (
                err.status(),
                err.data::<poem_openapi::OperationId>().map_or("other", |op| op.0),
            ),
        };
        requests
            .with_label_values(&[method.as_str(), operation, status.as_str()])
            .inc();
        duration
            .with_label_values(&[operation])
            .observe(start.elapsed().as_secs_f64());
    }
    result
}

/// The configured JWT secret, or one generated on first start and kept under the
/// data directory (mode 0600), so tokens survive restarts.
fn jwt_secret(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &settings.jwt_secret {
        anyhow::ensure!(secret.expose().len() >= 32, "JWT_SECRET must be at least 32 characters");
        return Ok(secret.expose().as_bytes().to_vec());
    }
    let path = settings.data_dir.join("jwt_secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        anyhow::ensure!(
            existing.len() >= 32,
            "{} is too short; delete it to regenerate",
            path.display()
        );
        return Ok(existing.as_bytes().to_vec());
    }
    let secret = hex::encode(rand::random::<[u8; 32]>());
    write_private(&path, &secret)?;
    tracing::warn!(path = %path.display(), "JWT_SECRET is not set; generated one and stored it (mode 0600). Set JWT_SECRET when running several instances.");
    Ok(secret.into_bytes())
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}
