//! The embedded provider: a GGUF model run inside this process, so a fresh
//! install has a tutor with no model server and no API key.
//!
//! Generation runs on its own thread (candle adds `BOT_LOCAL_THREADS - 1`
//! helpers for the maths), never on the async runtime, and under Linux's idle
//! scheduling policy (`batch::yield_to_requests`), so the model uses every
//! core while the web server is quiet and a request never waits for it. Requests wait their turn
//! in a bounded first-come-first-served queue; a full queue is refused at once
//! with a time to come back, and a request whose client left stops at the next
//! token (or is skipped if it was still waiting).
pub mod batch;
pub mod engine;
pub mod transformer;

use std::{
    panic::AssertUnwindSafe,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::Instant,
};

use serde_json::Value;
use tokio::sync::{
    mpsc::{self, error::TrySendError},
    OwnedSemaphorePermit, Semaphore,
};
use tokio_stream::wrappers::ReceiverStream;

use self::engine::{Engine, ModelInfo, Stats};
use super::provider::{TextStream, UpstreamError};
use crate::metrics::Metrics;

/// Where generated text goes; it also tells the generator when to stop.
pub trait Output {
    /// The client left: stop before the next step.
    fn cancelled(&self) -> bool;
    /// New text; `false` means stop here.
    fn text(&mut self, piece: &str) -> bool;
}

/// Something that turns a job into text (the model, or a stand-in in tests);
/// several jobs may run at once.
pub trait Generator: Send + Sync + 'static {
    fn run(&self, job: &Job, output: &mut dyn Output) -> anyhow::Result<Stats>;

    /// Reads ahead the start prompts `a` and `b` share, so requests that
    /// start the same way resume after it; returns the tokens read.
    fn prepare(&self, _a: &[Value], _b: &[Value]) -> anyhow::Result<usize> {
        Ok(0)
    }
}

/// What an answer looks like, and so how it is sampled and where it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Conversation: sampled, until the model ends its turn.
    Free,
    /// A JSON object: most likely tokens only, until the object closes.
    Json,
    /// The first string of a JSON object (the prefill opens it): most likely
    /// tokens only, until the string closes; nothing after it can go wrong.
    JsonString,
}

impl Shape {
    pub fn is_free(self) -> bool {
        self == Self::Free
    }
}

/// One request waiting for, or being answered by, the model.
pub struct Job {
    pub messages: Vec<Value>,
    /// The start of the answer, put in the model's mouth (the opening of a
    /// JSON object for structured answers).
    pub prefill: String,
    pub max_tokens: usize,
    pub shape: Shape,
    /// Text the answer is expected to copy much of (the learner's sentence
    /// for a check): guessed ahead, so the answer comes sooner.
    pub guide: Option<String>,
    tx: mpsc::Sender<Result<String, UpstreamError>>,
}

/// Finds where the top-level JSON object (or array) of an answer ends, or
/// (`string_only`) where the string being written ends.
#[derive(Default)]
struct JsonEnd {
    depth: u32,
    in_string: bool,
    escaped: bool,
    string_only: bool,
}

impl JsonEnd {
    /// The byte offset just past the closing bracket (or quote), once `piece`
    /// closes it.
    fn feed(&mut self, piece: &str) -> Option<usize> {
        for (i, c) in piece.char_indices() {
            if self.in_string {
                match (self.escaped, c) {
                    (true, _) => self.escaped = false,
                    (false, '\\') => self.escaped = true,
                    (false, '"') if self.string_only => return Some(i + 1),
                    (false, '"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => self.in_string = true,
                '{' | '[' => self.depth += 1,
                '}' | ']' if self.depth > 0 => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        return Some(i + c.len_utf8());
                    }
                }
                _ => {}
            }
        }
        None
    }
}

/// Sends a job's text to whoever waits for it.
struct Sink<'a> {
    tx: &'a mpsc::Sender<Result<String, UpstreamError>>,
    json: Option<JsonEnd>,
    metrics: &'a Metrics,
}

impl Output for Sink<'_> {
    fn cancelled(&self) -> bool {
        self.tx.is_closed()
    }

    fn text(&mut self, piece: &str) -> bool {
        let end = self.json.as_mut().and_then(|j| j.feed(piece));
        let piece = end.map_or(piece, |end| &piece[..end]);
        self.metrics.bot_local_tokens.inc();
        self.tx.blocking_send(Ok(piece.to_owned())).is_ok() && end.is_none()
    }
}

/// Jobs one admitted request has in the model at once at most: a practice
/// reply and the check of one sentence (a check's sentences go one by one).
const JOBS_PER_REQUEST: usize = 2;

struct Shared {
    jobs: mpsc::Sender<Job>,
    capacity: usize,
    parallel: usize,
    /// One permit per request the model takes on (answering or waiting): a
    /// request is admitted, or refused as busy, before anything is stored.
    admission: Arc<Semaphore>,
    /// Moving average of how long one job takes, for `Retry-After`.
    job_millis: AtomicU64,
    info: ModelInfo,
    metrics: Metrics,
    generator: Arc<dyn Generator>,
    /// Reading ahead (`prepare`) has started and not yet ended.
    warming: AtomicBool,
}

/// A handle on the model's queue; cheap to clone.
#[derive(Clone)]
pub struct LocalModel {
    shared: Arc<Shared>,
}

impl LocalModel {
    /// Loads `path` (this takes a while: call it off the async runtime) and
    /// starts its generation thread.
    pub fn load(path: &Path, queue: usize, parallel: usize, metrics: Metrics) -> anyhow::Result<Self> {
        let started = Instant::now();
        // Loaded on a thread of the model's priority: candle starts its
        // helper threads on first use, while loading, and they inherit it.
        let file = path.to_owned();
        let engine = std::thread::Builder::new()
            .name("chattconnect-model-load".into())
            .spawn(move || {
                batch::yield_to_requests();
                Engine::load(&file)
            })?
            .join()
            .map_err(|_| anyhow::anyhow!("loading the model panicked"))??;
        tracing::info!(
            model = %engine.info.name,
            file = %path.display(),
            load_ms = started.elapsed().as_millis() as u64,
            "local model loaded"
        );
        let info = engine.info.clone();
        Self::start(engine, info, queue, parallel, metrics)
    }

    /// Serves jobs with `generator`, `parallel` at a time (a practice reply
    /// and its check), at most `queue` more waiting.
    pub fn start(
        generator: impl Generator,
        info: ModelInfo,
        queue: usize,
        parallel: usize,
        metrics: Metrics,
    ) -> anyhow::Result<Self> {
        let parallel = parallel.max(1);
        // An admitted request may hold a few jobs at once (its reply and the
        // checks of its sentences): the channel has room for all of them.
        let capacity = (queue.max(1) + parallel) * JOBS_PER_REQUEST;
        let (jobs, rx) = mpsc::channel(capacity);
        let generator = Arc::new(generator);
        let shared = Arc::new(Shared {
            jobs,
            capacity,
            parallel,
            admission: Arc::new(Semaphore::new(queue.max(1) + parallel)),
            job_millis: AtomicU64::new(5_000),
            info,
            metrics,
            generator: generator.clone(),
            warming: AtomicBool::new(false),
        });
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for i in 0..parallel {
            let (generator, rx, weak) = (generator.clone(), rx.clone(), Arc::downgrade(&shared));
            std::thread::Builder::new()
                .name(format!("chattconnect-model-{i}"))
                .spawn(move || {
                    batch::yield_to_requests();
                    serve(&*generator, &rx, &weak)
                })?;
        }
        Ok(Self { shared })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.shared.info
    }

    /// Reads ahead, at the model's priority and beside any request, the start
    /// the prompts `a` and `b` share (see `Generator::prepare`).
    pub fn prepare(&self, a: Vec<Value>, b: Vec<Value>) {
        self.shared.warming.store(true, Ordering::SeqCst);
        let shared = self.shared.clone();
        let spawned = std::thread::Builder::new()
            .name("chattconnect-model-prep".into())
            .spawn(move || {
                batch::yield_to_requests();
                let started = Instant::now();
                match shared.generator.prepare(&a, &b) {
                    Ok(tokens) => {
                        shared.metrics.bot_local_prepared.set(tokens as i64);
                        tracing::info!(
                            tokens,
                            ms = started.elapsed().as_millis() as u64,
                            "local model read the tutor's instructions ahead"
                        );
                    }
                    Err(e) => tracing::warn!(error = %format!("{e:#}"), "local model could not read ahead"),
                }
                shared.warming.store(false, Ordering::SeqCst);
            });
        if let Err(e) = spawned {
            self.shared.warming.store(false, Ordering::SeqCst);
            tracing::warn!(error = %e, "local model could not read ahead");
        }
    }

    /// Still reading ahead what every check starts with.
    pub fn warming(&self) -> bool {
        self.shared.warming.load(Ordering::SeqCst)
    }

    /// Jobs waiting for the model (not counting the ones it is answering).
    pub fn waiting(&self) -> usize {
        self.shared.capacity - self.shared.jobs.capacity()
    }

    /// When a refused request should come back: the queue's expected wait.
    pub fn retry_after(&self) -> u64 {
        let per_job = self.shared.job_millis.load(Ordering::Relaxed);
        let rounds = (self.waiting() / self.shared.parallel) as u64 + 1;
        (rounds * per_job).div_ceil(1000).clamp(1, 120)
    }

    /// A place for one request (answered now or waiting), held until the
    /// permit is dropped; or, when all are taken, when to come back.
    pub fn admit(&self) -> Result<OwnedSemaphorePermit, u64> {
        self.shared
            .admission
            .clone()
            .try_acquire_owned()
            .map_err(|_| self.retry_after())
    }

    fn submit(
        &self,
        messages: Vec<Value>,
        prefill: String,
        max_tokens: u32,
        shape: Shape,
        guide: Option<String>,
    ) -> Result<mpsc::Receiver<Result<String, UpstreamError>>, UpstreamError> {
        let (tx, rx) = mpsc::channel(256);
        let job = Job {
            messages,
            prefill,
            max_tokens: max_tokens as usize,
            shape,
            guide,
            tx,
        };
        let sent = self.shared.jobs.try_send(job);
        self.shared.metrics.bot_local_waiting.set(self.waiting() as i64);
        match sent {
            Ok(()) => Ok(rx),
            Err(TrySendError::Full(_)) => Err(UpstreamError::Busy {
                retry_after: self.retry_after(),
            }),
            Err(TrySendError::Closed(_)) => Err(UpstreamError::Failed),
        }
    }

    /// A streamed reply. Dropping the stream stops the generation.
    pub fn stream(&self, messages: Vec<Value>, max_tokens: u32) -> Result<TextStream, UpstreamError> {
        let rx = self.submit(messages, String::new(), max_tokens, Shape::Free, None)?;
        Ok(Box::pin(ReceiverStream::new(rx)))
    }

    /// A structured answer: the model starts inside the JSON object `schema`
    /// describes and stops when the object closes. Dropping the future stops
    /// the generation.
    pub async fn complete_json(
        &self,
        messages: Vec<Value>,
        schema: &Value,
        max_tokens: u32,
    ) -> Result<String, UpstreamError> {
        self.answer(messages, schema, max_tokens, Shape::Json, None).await
    }

    /// The first field of `schema`'s object, a string, likely to copy much of
    /// `guide`: the answer ends with that string (`{"field": "..."`).
    pub async fn complete_string(
        &self,
        messages: Vec<Value>,
        schema: &Value,
        max_tokens: u32,
        guide: &str,
    ) -> Result<String, UpstreamError> {
        self.answer(messages, schema, max_tokens, Shape::JsonString, Some(guide.to_owned()))
            .await
    }

    async fn answer(
        &self,
        messages: Vec<Value>,
        schema: &Value,
        max_tokens: u32,
        shape: Shape,
        guide: Option<String>,
    ) -> Result<String, UpstreamError> {
        let prefill = prefill(schema);
        let mut rx = self.submit(messages, prefill.clone(), max_tokens, shape, guide)?;
        let mut answer = prefill;
        while let Some(piece) = rx.recv().await {
            answer.push_str(&piece?);
        }
        Ok(answer)
    }
}

/// The start of an answer to `schema`, put in the model's mouth: the object's
/// first required field, and the opening quote when it is a string. Small
/// models then write the value instead of wandering off; ending on the quote
/// (not on a space) keeps the tokens the ones they were trained on.
fn prefill(schema: &Value) -> String {
    let Some(Value::String(key)) = schema["required"].get(0) else {
        return "{".to_owned();
    };
    let quote = if schema["properties"][key]["type"] == "string" {
        "\""
    } else {
        ""
    };
    format!("{{{}: {quote}", Value::from(key.as_str()))
}

/// One of the generation threads: takes the next job in order of arrival
/// and answers it, until the last handle is gone.
fn serve(generator: &impl Generator, jobs: &std::sync::Mutex<mpsc::Receiver<Job>>, shared: &std::sync::Weak<Shared>) {
    loop {
        let (job, waiting) = {
            let mut jobs = jobs.lock().unwrap_or_else(|e| e.into_inner());
            match jobs.blocking_recv() {
                Some(job) => (job, jobs.len()),
                None => break,
            }
        };
        let Some(shared) = shared.upgrade() else { break };
        shared.metrics.bot_local_waiting.set(waiting as i64);
        if job.tx.is_closed() {
            // The client left while the job waited.
            continue;
        }
        let started = Instant::now();
        let mut json = (!job.shape.is_free()).then(|| JsonEnd {
            string_only: job.shape == Shape::JsonString,
            ..JsonEnd::default()
        });
        if let Some(scanner) = json.as_mut() {
            scanner.feed(&job.prefill);
        }
        let mut sink = Sink {
            tx: &job.tx,
            json,
            metrics: &shared.metrics,
        };
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| generator.run(&job, &mut sink)));
        match result {
            Ok(Ok(stats)) => {
                shared.metrics.bot_local_prompt_read.inc_by(stats.read as u64);
                tracing::debug!(
                    prompt_tokens = stats.prompt_tokens,
                    read = stats.read,
                    tokens = stats.tokens,
                    prefill_ms = stats.prefill.as_millis() as u64,
                    decode_ms = stats.decode.as_millis() as u64,
                    guessed = stats.guessed,
                    guessed_right = stats.guessed_right,
                    tokens_per_second = format_args!("{:.1}", stats.tokens_per_second()),
                    "local model answered"
                )
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %format!("{e:#}"), "local model failed");
                let _ = job.tx.blocking_send(Err(UpstreamError::Failed));
            }
            Err(_) => {
                tracing::error!("local model panicked; the next request starts afresh");
                let _ = job.tx.blocking_send(Err(UpstreamError::Failed));
            }
        }
        let took = started.elapsed().as_millis() as u64;
        let before = shared.job_millis.load(Ordering::Relaxed);
        shared.job_millis.store((before * 3 + took) / 4, Ordering::Relaxed);
    }
}

/// The model to run when no remote bot is configured: `BOT_LOCAL_MODEL`, or
/// the first usable GGUF file in `dir` (by name), or else the first file there
/// (its `problem()` says why it cannot run).
pub fn find(configured: Option<&Path>, dir: &Path) -> anyhow::Result<Option<ModelInfo>> {
    if let Some(path) = configured.filter(|p| !p.as_os_str().is_empty()) {
        anyhow::ensure!(path.is_file(), "BOT_LOCAL_MODEL {} is not a file", path.display());
        return engine::describe(path).map(Some);
    }
    let models = installed(dir)?;
    Ok(match models.iter().position(ModelInfo::usable) {
        Some(i) => Some(models[i].clone()),
        // None usable: the first file says why.
        None => models.into_iter().next(),
    })
}

/// The GGUF files in `dir`, by name; one that cannot be used says why in
/// `damage` (a header that does not read, a file cut short).
pub fn installed(dir: &Path) -> anyhow::Result<Vec<ModelInfo>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(anyhow::anyhow!("cannot read {}: {e}", dir.display())),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("gguf")) && p.is_file())
        .collect();
    paths.sort();
    Ok(paths
        .iter()
        .map(|p| {
            engine::describe(p).unwrap_or_else(|e| ModelInfo {
                path: p.clone(),
                name: p
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                architecture: String::new(),
                parameters: 0,
                file_bytes: p.metadata().map(|m| m.len()).unwrap_or(0),
                context: 0,
                damage: Some(format!("{e:#}")),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use std::{
        sync::{atomic::AtomicUsize, mpsc as std_mpsc, Mutex},
        time::Duration,
    };

    use futures_util::StreamExt;
    use serde_json::json;

    use super::*;

    fn info() -> ModelInfo {
        ModelInfo {
            path: PathBuf::from("test.gguf"),
            name: "test".into(),
            architecture: "llama".into(),
            parameters: 0,
            file_bytes: 0,
            context: 2048,
            damage: None,
        }
    }

    /// Emits "tok " up to `max_tokens` times, counting what it produced; each
    /// job first waits for a go from the test when `gate` is set.
    struct Counting {
        produced: Arc<AtomicUsize>,
        gate: Option<Mutex<std_mpsc::Receiver<()>>>,
        delay: Duration,
    }

    impl Generator for Counting {
        fn run(&self, job: &Job, output: &mut dyn Output) -> anyhow::Result<Stats> {
            if let Some(gate) = &self.gate {
                gate.lock().unwrap().recv()?;
            }
            for _ in 0..job.max_tokens {
                if output.cancelled() {
                    break;
                }
                self.produced.fetch_add(1, Ordering::SeqCst);
                if !output.text("tok ") {
                    break;
                }
                std::thread::sleep(self.delay);
            }
            Ok(Stats::default())
        }
    }

    fn counting(delay: Duration, gated: bool) -> (Counting, Arc<AtomicUsize>, Option<std_mpsc::Sender<()>>) {
        let produced = Arc::new(AtomicUsize::new(0));
        let (go, gate) = std_mpsc::channel();
        let generator = Counting {
            produced: produced.clone(),
            gate: gated.then(|| Mutex::new(gate)),
            delay,
        };
        (generator, produced, gated.then_some(go))
    }

    fn hello() -> Vec<Value> {
        vec![json!({"role": "user", "content": "hello"})]
    }

    #[tokio::test]
    async fn a_stream_yields_the_generated_text_in_order() {
        let (generator, _, _) = counting(Duration::ZERO, false);
        let model = LocalModel::start(generator, info(), 2, 1, Metrics::new()).unwrap();
        let pieces: Vec<String> = model.stream(hello(), 3).unwrap().map(|p| p.unwrap()).collect().await;
        assert_eq!(pieces.concat(), "tok tok tok ");
    }

    #[tokio::test]
    async fn requests_beyond_the_queue_are_refused_before_they_start_with_a_time_to_come_back() {
        let (generator, _, go) = counting(Duration::ZERO, true);
        let go = go.unwrap();
        // One answered at a time, one more waiting.
        let model = LocalModel::start(generator, info(), 1, 1, Metrics::new()).unwrap();
        let first = model.admit().expect("a place for the first");
        let first_stream = model.stream(hello(), 1).unwrap();
        let second = model.admit().expect("a place in the queue");
        let Err(retry_after) = model.admit() else {
            panic!("the queue is full")
        };
        assert!((1..=120).contains(&retry_after));
        // An admitted request's jobs (its reply and a check) always get in.
        let second_reply = model.stream(hello(), 1).unwrap();
        let second_check = model.stream(hello(), 1).unwrap();
        for _ in 0..3 {
            go.send(()).unwrap();
        }
        for stream in [first_stream, second_reply, second_check] {
            let text: Vec<_> = stream.collect().await;
            assert_eq!(text.len(), 1);
        }
        drop(first);
        assert!(model.admit().is_ok(), "a finished request frees its place");
        drop(second);
        let (a, b) = (model.admit(), model.admit());
        assert!(a.is_ok() && b.is_ok(), "every place is free again");
    }

    #[tokio::test]
    async fn two_requests_are_answered_at_once_and_a_third_waits() {
        /// Holds each job until two are inside at the same time.
        struct Meet(std::sync::Barrier, AtomicUsize);
        impl Generator for Meet {
            fn run(&self, _: &Job, output: &mut dyn Output) -> anyhow::Result<Stats> {
                let n = self.1.fetch_add(1, Ordering::SeqCst);
                if n < 2 {
                    self.0.wait();
                }
                output.text(&format!("job {n}"));
                Ok(Stats::default())
            }
        }
        let model = LocalModel::start(
            Meet(std::sync::Barrier::new(2), AtomicUsize::new(0)),
            info(),
            2,
            2,
            Metrics::new(),
        )
        .unwrap();
        let (a, b) = (model.stream(hello(), 1).unwrap(), model.stream(hello(), 1).unwrap());
        // Both finish only if they ran at the same time.
        let (a, b): (Vec<_>, Vec<_>) = tokio::time::timeout(Duration::from_secs(10), async {
            tokio::join!(a.collect(), b.collect())
        })
        .await
        .expect("the two requests ran side by side");
        let mut got = vec![a[0].clone().unwrap(), b[0].clone().unwrap()];
        got.sort();
        assert_eq!(got, ["job 0", "job 1"]);
        let third: Vec<_> = model.stream(hello(), 1).unwrap().collect().await;
        assert_eq!(third, vec![Ok("job 2".to_owned())]);
    }

    #[tokio::test]
    async fn a_dropped_stream_stops_the_generation_at_the_next_token() {
        let (generator, produced, _) = counting(Duration::from_millis(5), false);
        let model = LocalModel::start(generator, info(), 2, 1, Metrics::new()).unwrap();
        let mut stream = model.stream(hello(), 100_000).unwrap();
        assert_eq!(stream.next().await.unwrap().unwrap(), "tok ");
        drop(stream);
        // The next job only runs once the dropped one has stopped.
        let after: Vec<_> = model.stream(hello(), 1).unwrap().collect().await;
        assert_eq!(after.len(), 1);
        let total = produced.load(Ordering::SeqCst);
        assert!(
            total < 1_000,
            "generation went on after the client left: {total} tokens"
        );
    }

    #[tokio::test]
    async fn a_job_whose_client_left_while_waiting_is_skipped() {
        let (generator, produced, go) = counting(Duration::ZERO, true);
        let go = go.unwrap();
        let model = LocalModel::start(generator, info(), 2, 1, Metrics::new()).unwrap();
        let first = model.stream(hello(), 1).unwrap();
        drop(model.stream(hello(), 50).unwrap());
        go.send(()).unwrap();
        let _: Vec<_> = first.collect().await;
        go.send(()).unwrap();
        let third: Vec<_> = model.stream(hello(), 2).unwrap().collect().await;
        assert_eq!(third.len(), 2);
        assert_eq!(
            produced.load(Ordering::SeqCst),
            3,
            "the abandoned job generated nothing"
        );
    }

    #[tokio::test]
    async fn a_failing_or_panicking_model_fails_the_request_and_keeps_serving() {
        struct Flaky(AtomicUsize);
        impl Generator for Flaky {
            fn run(&self, _: &Job, output: &mut dyn Output) -> anyhow::Result<Stats> {
                match self.0.fetch_add(1, Ordering::SeqCst) + 1 {
                    1 => anyhow::bail!("out of memory"),
                    2 => panic!("a bug"),
                    _ => {
                        output.text("fine");
                        Ok(Stats::default())
                    }
                }
            }
        }
        let model = LocalModel::start(Flaky(AtomicUsize::new(0)), info(), 2, 1, Metrics::new()).unwrap();
        for _ in 0..2 {
            let items: Vec<_> = model.stream(hello(), 5).unwrap().collect().await;
            assert_eq!(items, vec![Err(UpstreamError::Failed)]);
        }
        let items: Vec<_> = model.stream(hello(), 5).unwrap().collect().await;
        assert_eq!(items, vec![Ok("fine".to_owned())]);
    }

    #[tokio::test]
    async fn a_structured_answer_starts_with_the_first_field_and_ends_with_the_object() {
        struct Json;
        impl Generator for Json {
            fn run(&self, job: &Job, output: &mut dyn Output) -> anyhow::Result<Stats> {
                assert_eq!(job.shape, Shape::Json);
                for piece in [
                    "I {went} \\\"home\\\".\"",
                    ", \"notes\": []}",
                    " and then I kept talking {",
                ] {
                    if !output.text(piece) {
                        break;
                    }
                }
                Ok(Stats::default())
            }
        }
        let model = LocalModel::start(Json, info(), 2, 1, Metrics::new()).unwrap();
        let schema = json!({"type": "object", "required": ["corrected", "notes"], "properties": {"corrected": {"type": "string"}}});
        assert_eq!(prefill(&schema), r#"{"corrected": ""#);
        assert_eq!(
            prefill(&json!({"required": ["n"], "properties": {"n": {"type": "integer"}}})),
            r#"{"n": "#
        );
        assert_eq!(prefill(&json!({"type": "object"})), "{");
        let answer = model.complete_json(hello(), &schema, 50).await.unwrap();
        assert_eq!(answer, r#"{"corrected": "I {went} \"home\".", "notes": []}"#);
        let value: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(value["corrected"], "I {went} \"home\".");
    }

    #[tokio::test]
    async fn a_check_answer_ends_with_its_string_so_no_key_can_follow_or_repeat() {
        /// A model that goes on after the sentence, repeating the key.
        struct Rambling;
        impl Generator for Rambling {
            fn run(&self, job: &Job, output: &mut dyn Output) -> anyhow::Result<Stats> {
                assert_eq!(job.shape, Shape::JsonString);
                assert_eq!(job.guide.as_deref(), Some("I goed home."));
                for piece in ["I went \\\"home\\\".", "\", \"corrected\": \"again", "\"}"] {
                    if !output.text(piece) {
                        break;
                    }
                }
                Ok(Stats::default())
            }
        }
        let model = LocalModel::start(Rambling, info(), 2, 1, Metrics::new()).unwrap();
        let schema =
            json!({"type": "object", "required": ["corrected"], "properties": {"corrected": {"type": "string"}}});
        let answer = model
            .complete_string(hello(), &schema, 50, "I goed home.")
            .await
            .unwrap();
        assert_eq!(answer, r#"{"corrected": "I went \"home\".""#);
        assert_eq!(crate::bot::check::read(&answer).as_deref(), Some("I went \"home\"."));
    }

    #[test]
    fn the_end_of_a_json_object_is_found_across_pieces() {
        let mut end = JsonEnd::default();
        assert_eq!(end.feed("{\"a\": [1, {\"b\": \"}\"}"), None);
        assert_eq!(end.feed("]}"), Some(2));
        let mut end = JsonEnd::default();
        assert_eq!(end.feed("{\"é\": \"\\\\\"} tail"), Some(12));
    }

    #[test]
    fn models_are_found_by_setting_then_in_the_models_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = |found: anyhow::Result<Option<ModelInfo>>| found.unwrap().map(|m| m.path);
        assert_eq!(path(find(None, dir.path())), None);
        assert_eq!(path(find(None, &dir.path().join("missing"))), None);
        std::fs::write(dir.path().join("broken.gguf"), b"not a model").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"hello").unwrap();
        let broken = find(None, dir.path())
            .unwrap()
            .expect("a file that cannot be used says why");
        assert!(!broken.usable());
        let why = broken.problem().unwrap();
        assert!(why.contains("not a GGUF model file"), "{why}");
        let explicit = dir.path().join("notes.txt");
        let error = find(Some(&explicit), dir.path()).unwrap_err();
        assert!(format!("{error:#}").contains("not a GGUF model file"), "{error:#}");
        let error = find(Some(&dir.path().join("gone.gguf")), dir.path()).unwrap_err();
        assert!(error.to_string().contains("gone.gguf is not a file"), "{error}");
    }
}
