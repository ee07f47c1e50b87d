//! The model itself: a quantized GGUF model run by candle on the CPU, with the
//! tokenizer and the chat template read from the same file.
use std::{
    collections::HashSet,
    fs::File,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::{bail, Context};
use candle_core::{
    quantized::{gguf_file, tokenizer::TokenizerFromGguf},
    Tensor,
};
use candle_transformers::{
    generation::{LogitsProcessor, Sampling},
    utils::apply_repeat_penalty,
};
use serde_json::Value;
use tokenizers::{pre_tokenizers::byte_level::ByteLevel, Tokenizer};

use super::{
    batch::{Batcher, Priority},
    transformer::{Cache, Transformer, Want, MAX_POSITIONS},
    Generator, Job, Output,
};

/// Architectures whose quantized weights candle reads (SmolLM2 and Llama 3 are
/// `llama`, Qwen2.5 is `qwen2`).
const ARCHITECTURES: [&str; 2] = ["llama", "qwen2"];
/// Pre-tokenizers candle builds exactly; other byte-level BPE models get
/// GPT-2's split without the prefix space its default adds.
const KNOWN_PRE_TOKENIZERS: [&str; 4] = ["qwen2", "llama3", "smaug-bpe", "lfm2"];
/// Tokens that end a turn in the common chat templates.
const END_OF_TURN: [&str; 4] = ["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end|>"];
/// The prompt is read in slices of this many tokens, so a request cancelled
/// during a long prompt stops after the current slice.
const PREFILL_CHUNK: usize = 64;
/// Memory for the model's states kept to resume later prompts from: where a
/// prompt parts from a recent one (every check starts with the same
/// instructions and examples), and a conversation's prompt and answer (its
/// next prompt starts with both). The least recently used go first.
const SNAPSHOT_BYTES: usize = 256 << 20;
/// Recent prompts compared with a new one to find where they part.
const RECENT_PROMPTS: usize = 8;
/// A shared start shorter than this is not worth a snapshot.
const MIN_SHARED: usize = 32;
/// Tokens guessed at once when an answer copies its input (a check's
/// corrected sentence is mostly the learner's), at first and at most. On a
/// CPU each guessed token costs about a sixth of a pass of its own, so a
/// wrong guess is not free: the run grows while guesses are right and
/// shrinks after one is wrong (a learner's mistakes come in clusters).
const GUESS_FIRST: usize = 6;
const GUESS_MOST: usize = 16;
const GUESS_LEAST: usize = 3;
/// Recent tokens the repeat penalty looks at.
const REPEAT_WINDOW: usize = 64;
/// The template used when a file carries none: ChatML, which most small
/// instruct models are tuned on.
const CHATML: &str = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + \
'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

/// What a GGUF file says about itself, read without loading the weights.
#[derive(Clone, Debug)]
pub struct ModelInfo {
    pub path: PathBuf,
    pub name: String,
    pub architecture: String,
    pub parameters: u64,
    pub file_bytes: u64,
    pub context: usize,
    /// Why the file cannot be loaded although its header reads (a download
    /// cut short, say), found without loading the weights.
    pub damage: Option<String>,
}

impl ModelInfo {
    /// Whether this build can run it.
    pub fn supported(&self) -> bool {
        ARCHITECTURES.contains(&self.architecture.as_str())
    }

    /// Whether the server can load it: a supported architecture, whole.
    pub fn usable(&self) -> bool {
        self.supported() && self.damage.is_none()
    }

    /// Why the server cannot load it, in a sentence; `None` when it can.
    pub fn problem(&self) -> Option<String> {
        if let Some(damage) = &self.damage {
            return Some(damage.clone());
        }
        (!self.supported()).then(|| {
            format!(
                "it is a `{}` model; this build runs {}",
                self.architecture,
                ARCHITECTURES.join(" and ")
            )
        })
    }
}

/// Where the file is shorter than its own table of tensors says: the weights
/// must all lie within it.
fn damage(content: &gguf_file::Content, file_bytes: u64) -> Option<String> {
    let mut needed = content.tensor_data_offset;
    for (name, t) in &content.tensor_infos {
        let (block, size) = (t.ggml_dtype.block_size() as u64, t.ggml_dtype.type_size() as u64);
        let elements = t.shape.elem_count() as u64;
        if block == 0 || !elements.is_multiple_of(block) {
            return Some(format!("tensor {name} has a shape its type cannot hold"));
        }
        let end = content
            .tensor_data_offset
            .checked_add(t.offset)
            .and_then(|o| o.checked_add(elements / block * size));
        match end {
            Some(end) => needed = needed.max(end),
            None => return Some(format!("tensor {name} lies beyond any file")),
        }
    }
    (needed > file_bytes).then(|| {
        format!(
            "the file is cut short: its tensors need {needed} bytes, it has {file_bytes} (an interrupted copy or download?)"
        )
    })
}

fn read_content(path: &Path) -> anyhow::Result<(File, gguf_file::Content)> {
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let content = gguf_file::Content::read(&mut file)
        .map_err(|e| anyhow::anyhow!("{} is not a GGUF model file: {e}", path.display()))?;
    Ok((file, content))
}

fn text(content: &gguf_file::Content, key: &str) -> Option<String> {
    content.metadata.get(key)?.to_string().ok().cloned()
}

fn number(content: &gguf_file::Content, key: &str) -> Option<u64> {
    let value = content.metadata.get(key)?;
    value.to_u64().ok().or_else(|| value.to_u32().ok().map(u64::from))
}

fn info_of(path: &Path, file: &File, content: &gguf_file::Content) -> ModelInfo {
    let architecture = text(content, "general.architecture").unwrap_or_default();
    let name = text(content, "general.name").unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let parameters = content.tensor_infos.values().map(|t| t.shape.elem_count() as u64).sum();
    let context = number(content, &format!("{architecture}.context_length")).unwrap_or(2048) as usize;
    let file_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    ModelInfo {
        path: path.to_owned(),
        name,
        architecture,
        parameters,
        file_bytes,
        context,
        damage: damage(content, file_bytes),
    }
}

/// Reads a model file's description (fast: the weights are not loaded).
pub fn describe(path: &Path) -> anyhow::Result<ModelInfo> {
    let (file, content) = read_content(path)?;
    Ok(info_of(path, &file, &content))
}

/// How one request is sampled.
#[derive(Clone, Debug)]
pub struct Sampler {
    pub temperature: f64,
    pub top_k: usize,
    pub top_p: f64,
    pub repeat_penalty: f32,
}

impl Sampler {
    /// Conversation: varied but on topic (llama.cpp's defaults for top-k and
    /// top-p); small models loop without a repeat penalty.
    pub const CHAT: Self = Self {
        temperature: 0.7,
        top_k: 40,
        top_p: 0.95,
        repeat_penalty: 1.1,
    };
    /// Structured answers: the most likely token every time.
    pub const EXACT: Self = Self {
        temperature: 0.0,
        top_k: 1,
        top_p: 1.0,
        repeat_penalty: 1.0,
    };

    fn processor(&self) -> LogitsProcessor {
        let sampling = if self.temperature <= 0.0 {
            Sampling::ArgMax
        } else {
            // Top-k first: sorting 40 candidates, not the whole vocabulary.
            Sampling::TopKThenTopP {
                k: self.top_k,
                p: self.top_p,
                temperature: self.temperature,
            }
        };
        LogitsProcessor::from_sampling(rand::random(), sampling)
    }
}

/// Timings of one generation, for the log and the benchmark.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub prompt_tokens: usize,
    /// Prompt tokens read; the others were resumed from a kept state.
    pub read: usize,
    pub tokens: usize,
    pub prefill: Duration,
    pub decode: Duration,
    /// Tokens guessed from the guide, and how many of them were right.
    pub guessed: usize,
    pub guessed_right: usize,
}

impl Stats {
    pub fn tokens_per_second(&self) -> f64 {
        self.tokens as f64 / self.decode.as_secs_f64().max(1e-9)
    }
}

/// Model states after reading the start of recent prompts, most recently
/// used last, within `SNAPSHOT_BYTES`; and the recent prompts themselves, to
/// see where a new one parts from them.
#[derive(Default)]
struct Snapshots {
    entries: Vec<(Vec<u32>, Cache)>,
    recent: std::collections::VecDeque<Vec<u32>>,
}

impl Snapshots {
    /// Where `ids` parts from the recent prompt it shares most with (the end
    /// of the shared instructions and examples of two checks, say), when that
    /// is worth keeping; then remembers `ids`.
    fn fork(&mut self, ids: &[u32]) -> Option<usize> {
        let shared = self
            .recent
            .iter()
            .map(|r| r.iter().zip(ids).take_while(|(a, b)| a == b).count())
            .max()
            .unwrap_or(0);
        if self.recent.len() == RECENT_PROMPTS {
            self.recent.pop_front();
        }
        self.recent.push_back(ids.to_vec());
        (shared >= MIN_SHARED && shared < ids.len()).then_some(shared)
    }

    /// A copy of the state that has read the longest start of `ids`, cut
    /// back to leave at least one token to read (the next token's logits come
    /// from reading it), or an empty one.
    fn resume(&mut self, ids: &[u32]) -> Cache {
        let best = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, (read, _))| read.len() <= ids.len() && ids.starts_with(read))
            .max_by_key(|(_, (read, _))| read.len())
            .map(|(i, _)| i);
        match best {
            Some(i) => {
                let entry = self.entries.remove(i);
                let mut cache = entry.1.clone();
                self.entries.push(entry);
                if cache.len() >= ids.len() && cache.truncate(ids.len() - 1).is_err() {
                    return Cache::default();
                }
                cache
            }
            None => Cache::default(),
        }
    }

    /// Keeps `cache` (which has read `read`); cheap, as the copy shares its
    /// tensors until the next token is read.
    fn keep(&mut self, read: &[u32], cache: &Cache) {
        if let Some(i) = self.entries.iter().position(|(r, _)| r == read) {
            let entry = self.entries.remove(i);
            self.entries.push(entry);
            return;
        }
        self.entries.push((read.to_vec(), cache.clone()));
        while self.bytes() > SNAPSHOT_BYTES && self.entries.len() > 1 {
            self.entries.remove(0);
        }
    }

    /// Drops the state that has read `read`, if kept.
    fn forget(&mut self, read: &[u32]) {
        self.entries.retain(|(r, _)| r != read);
    }

    fn bytes(&self) -> usize {
        self.entries.iter().map(|(_, c)| c.bytes()).sum()
    }
}

pub struct Engine {
    model: Batcher,
    tokenizer: Tokenizer,
    templates: minijinja::Environment<'static>,
    bos: String,
    eos: String,
    stop: HashSet<u32>,
    context: usize,
    snapshots: std::sync::Mutex<Snapshots>,
    pub info: ModelInfo,
}

impl Engine {
    /// Loads a model file: weights, tokenizer and chat template.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let (mut file, content) = read_content(path)?;
        let info = info_of(path, &file, &content);
        if let Some(problem) = info.problem() {
            bail!("{} cannot be used: {problem}", path.display());
        }
        let mut tokenizer = Tokenizer::from_gguf(&content)
            .map_err(|e| anyhow::anyhow!("cannot read the tokenizer in {}: {e}", path.display()))?;
        let pre = text(&content, "tokenizer.ggml.pre").unwrap_or_default();
        if !KNOWN_PRE_TOKENIZERS.contains(&pre.as_str()) {
            tokenizer.with_pre_tokenizer(Some(ByteLevel::new(false, true, true)));
        }
        let token = |key: &str| {
            number(&content, key)
                .and_then(|id| tokenizer.id_to_token(id as u32))
                .unwrap_or_default()
        };
        let (bos, eos) = (
            token("tokenizer.ggml.bos_token_id"),
            token("tokenizer.ggml.eos_token_id"),
        );
        let mut stop: HashSet<u32> = END_OF_TURN.iter().filter_map(|t| tokenizer.token_to_id(t)).collect();
        stop.extend(tokenizer.token_to_id(&eos));
        let template = text(&content, "tokenizer.chat_template").unwrap_or_else(|| {
            tracing::info!(model = %info.name, "the model file has no chat template; using ChatML");
            CHATML.to_owned()
        });
        let mut templates = minijinja::Environment::new();
        minijinja_contrib::add_to_environment(&mut templates);
        templates.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        templates.add_function(
            "raise_exception",
            |message: String| -> Result<String, minijinja::Error> {
                Err(minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, message))
            },
        );
        templates
            .add_template_owned("chat", template)
            .context("the model's chat template does not parse")?;
        let context = info.context.min(MAX_POSITIONS);
        let model = Transformer::load(&content, &mut file, &info.architecture)?;
        Ok(Self {
            model: Batcher::start(model)?,
            tokenizer,
            templates,
            bos,
            eos,
            stop,
            context,
            snapshots: std::sync::Mutex::default(),
            info,
        })
    }

    /// Reads the start prompts `a` and `b` share (the tutor's instructions
    /// and examples, before the learner's sentence) and keeps the state after
    /// it, so no learner's request reads it; candle also packs its weights
    /// for its kernels on these first passes. Requests go first: it reads
    /// only while none runs, and keeps the state after each slice, so a
    /// request that comes meanwhile resumes from as far as it got. Returns
    /// the tokens read.
    pub fn prepare(&self, a: &[Value], b: &[Value]) -> anyhow::Result<usize> {
        let a = self.encode(&self.prompt(a, "")?)?;
        let b = self.encode(&self.prompt(b, "")?)?;
        let shared = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
        let start = &a[..shared.min(self.context - 1)];
        if start.len() < MIN_SHARED {
            return Ok(0);
        }
        let snapshots = || self.snapshots.lock().unwrap_or_else(|e| e.into_inner());
        let mut cache = Cache::default();
        while cache.len() < start.len() {
            while self.model.busy() {
                std::thread::sleep(Duration::from_millis(20));
            }
            let (pos, end) = (cache.len(), (cache.len() + PREFILL_CHUNK).min(start.len()));
            self.model.forward(&start[pos..end], &mut cache, Want::Last)?;
            let mut s = snapshots();
            s.forget(&start[..pos]);
            s.keep(&start[..end], &cache);
        }
        snapshots().fork(start);
        Ok(start.len())
    }

    /// The conversation as the model was trained to read it, ending where the
    /// assistant's turn starts, followed by `prefill` (words put in its mouth).
    pub fn prompt(&self, messages: &[Value], prefill: &str) -> anyhow::Result<String> {
        let rendered = self.templates.get_template("chat")?.render(minijinja::context! {
            messages => minijinja::value::Serde(messages),
            add_generation_prompt => true,
            bos_token => &self.bos,
            eos_token => &self.eos,
        })?;
        Ok(rendered + prefill)
    }

    fn encode(&self, text: &str) -> anyhow::Result<Vec<u32>> {
        Ok(self
            .tokenizer
            .encode(text, false)
            .map_err(|e| anyhow::anyhow!("tokenizing failed: {e}"))?
            .get_ids()
            .to_vec())
    }

    /// Generates after `prompt` until the model ends its turn, `max_tokens`
    /// are out, or `output` says stop. With a `guide` (greedy sampling only),
    /// runs of its tokens are guessed as the answer's next tokens and checked
    /// in one pass; the answer is the same as without one, only sooner.
    pub fn generate(
        &self,
        prompt: &str,
        max_tokens: usize,
        sampler: &Sampler,
        guide: Option<&str>,
        output: &mut dyn Output,
    ) -> anyhow::Result<Stats> {
        // A conversation's next prompt starts with this one and its answer:
        // keep the state after both (a check's prompt is never read again).
        let conversation = sampler.temperature > 0.0;
        // A learner waits for a reply's first words, not for a check's.
        let priority = if conversation {
            Priority::Reply
        } else {
            Priority::Queued
        };
        let ids = self.encode(prompt)?;
        if ids.is_empty() || ids.len() + 1 >= self.context {
            bail!(
                "the prompt has {} tokens; the model reads at most {}",
                ids.len(),
                self.context
            );
        }
        let guide = match guide.filter(|_| sampler.temperature <= 0.0) {
            Some(text) => self.encode(text)?,
            None => Vec::new(),
        };
        let max_tokens = max_tokens.min(self.context - ids.len() - 1);
        let mut stats = Stats {
            prompt_tokens: ids.len(),
            ..Stats::default()
        };
        let started = Instant::now();
        let _running = self.model.running();
        let snapshots = || self.snapshots.lock().unwrap_or_else(|e| e.into_inner());
        let (mut cache, fork) = {
            let mut s = snapshots();
            (s.resume(&ids), s.fork(&ids))
        };
        stats.read = ids.len() - cache.len();
        // The answer's first tokens, guessed from the guide and read in the
        // prompt's last pass.
        let opening = opening(&guide, max_tokens);
        let mut logits = None;
        while cache.len() < ids.len() {
            if output.cancelled() {
                return Ok(stats);
            }
            let pos = cache.len();
            let mut end = (pos + PREFILL_CHUNK).min(ids.len());
            if let Some(fork) = fork.filter(|&f| f > pos && f < end) {
                end = fork;
            }
            logits = Some(if end == ids.len() {
                let read = [&ids[pos..end], opening].concat();
                self.model
                    .forward_as(priority, &read, &mut cache, ending_with(opening))?
            } else {
                self.model
                    .forward_as(priority, &ids[pos..end], &mut cache, Want::Last)?
            });
            if Some(end) == fork {
                snapshots().keep(&ids[..end], &cache);
            }
        }
        let logits = logits.context("no logits after the prompt")?;
        if conversation {
            snapshots().keep(&ids, &cache);
        }
        stats.prefill = started.elapsed();
        let decoding = Instant::now();
        let mut answer = Answer {
            tokens: Vec::with_capacity(max_tokens),
            shown: 0,
        };
        let tokenizer = &self.tokenizer;
        let mut emit = |token| answer.push(token, tokenizer, output);
        let step = Step {
            model: &self.model,
            stop: &self.stop,
            sampler,
            guide: &guide,
            max_tokens,
        };
        let (tokens, guessed, right) = step.decode(&mut cache, logits, opening, &mut emit)?;
        if conversation && cache.len() > ids.len() {
            let mut read = ids.clone();
            read.extend_from_slice(&answer.tokens[..cache.len() - ids.len()]);
            snapshots().keep(&read, &cache);
        }
        stats.tokens = tokens;
        (stats.guessed, stats.guessed_right) = (guessed, right);
        stats.decode = decoding.elapsed();
        Ok(stats)
    }
}

/// Decoding after the prompt: one token at a time, or with a guide, the
/// guessed run of tokens checked in one pass.
struct Step<'a> {
    model: &'a Batcher,
    stop: &'a HashSet<u32>,
    sampler: &'a Sampler,
    guide: &'a [u32],
    max_tokens: usize,
}

impl Step<'_> {
    /// Generates from `first`, passing each token to `emit` until it says
    /// stop; returns the tokens made, guessed and guessed right. `first` holds
    /// the logits after what `cache` read, or, when the prompt's pass also
    /// read an `opening` guess, a row after the prompt and after each of its
    /// tokens.
    fn decode(
        &self,
        cache: &mut Cache,
        first: Tensor,
        opening: &[u32],
        emit: &mut dyn FnMut(u32) -> anyhow::Result<bool>,
    ) -> anyhow::Result<(usize, usize, usize)> {
        let mut processor = self.sampler.processor();
        let mut tokens: Vec<u32> = Vec::with_capacity(self.max_tokens);
        let (mut guessed, mut right) = (opening.len(), 0);
        let mut run = GUESS_FIRST;
        let mut logits = first;
        // A guess read at the end of the last pass: `logits` holds its rows.
        let mut pending = opening.to_vec();
        loop {
            if !pending.is_empty() {
                let base = cache.len() - pending.len();
                let (kept, go_on) = self.keep(&logits, &pending, &mut processor, &mut tokens, emit)?;
                right += kept;
                if !go_on {
                    break;
                }
                cache.truncate(base + kept)?;
                logits = logits.get(kept)?;
                run = next_run(run, kept == pending.len());
            }
            if tokens.len() >= self.max_tokens {
                break;
            }
            if self.sampler.repeat_penalty != 1.0 {
                let recent = &tokens[tokens.len().saturating_sub(REPEAT_WINDOW)..];
                logits = apply_repeat_penalty(&logits, self.sampler.repeat_penalty, recent)?;
            }
            let next = processor.sample(&logits)?;
            if self.stop.contains(&next) {
                break;
            }
            tokens.push(next);
            if !emit(next)? {
                break;
            }
            // Read the token and a guess of the ones after it in one pass.
            pending = guess(self.guide, &tokens, run.min(self.max_tokens - tokens.len()));
            guessed += pending.len();
            let read = [&[next], pending.as_slice()].concat();
            logits = self.model.forward(&read, cache, ending_with(&pending))?;
        }
        Ok((tokens.len(), guessed, right))
    }

    /// Checks a guess read in one pass, where `rows[i]` holds the logits
    /// before `guess[i]`: keeps the guessed tokens greedy decoding would have
    /// chosen, up to the first it would not, and passes them to `emit`.
    /// Returns how many were right, and whether to go on (no end of turn,
    /// and `emit` said yes).
    fn keep(
        &self,
        rows: &Tensor,
        guess: &[u32],
        processor: &mut LogitsProcessor,
        tokens: &mut Vec<u32>,
        emit: &mut dyn FnMut(u32) -> anyhow::Result<bool>,
    ) -> anyhow::Result<(usize, bool)> {
        for (i, &token) in guess.iter().enumerate() {
            if processor.sample(&rows.get(i)?)? != token {
                return Ok((i, true));
            }
            if self.stop.contains(&token) {
                return Ok((i + 1, false));
            }
            tokens.push(token);
            if !emit(token)? {
                return Ok((i + 1, false));
            }
        }
        Ok((guess.len(), true))
    }
}

/// The next guess's length: longer after a guess that was all right, shorter
/// after one that was not.
fn next_run(run: usize, all_right: bool) -> usize {
    if all_right {
        (run * 2).min(GUESS_MOST)
    } else {
        (run / 2).max(GUESS_LEAST)
    }
}

/// The answer's first tokens guessed from `guide` (a corrected sentence
/// starts like the learner's), read in the prompt's last pass.
fn opening(guide: &[u32], max_tokens: usize) -> &[u32] {
    &guide[..guide.len().min(GUESS_FIRST).min(max_tokens)]
}

/// The logits wanted from a read that ends with `guess`: after its last
/// token, and with a guess, before and after each guessed token.
fn ending_with(guess: &[u32]) -> Want {
    if guess.is_empty() {
        Want::Last
    } else {
        Want::Tail(guess.len() + 1)
    }
}

/// The answer so far, and how much of its text was passed on.
struct Answer {
    tokens: Vec<u32>,
    shown: usize,
}

impl Answer {
    /// Adds a token and passes on any new text; `false` when the output says stop.
    fn push(&mut self, token: u32, tokenizer: &Tokenizer, output: &mut dyn Output) -> anyhow::Result<bool> {
        self.tokens.push(token);
        // Decoding the whole answer each time keeps characters that span
        // tokens whole; an unfinished one shows as U+FFFD until complete.
        let text = tokenizer
            .decode(&self.tokens, true)
            .map_err(|e| anyhow::anyhow!("decoding failed: {e}"))?;
        if text.len() > self.shown && text.is_char_boundary(self.shown) && !text.ends_with('\u{FFFD}') {
            let keep_going = output.text(&text[self.shown..]);
            self.shown = text.len();
            return Ok(keep_going);
        }
        Ok(true)
    }
}

/// The tokens that followed the answer's last words where they occur in
/// `guide` (the longest match of its last three, two or one tokens, the latest
/// occurrence first), at most `n`.
fn guess(guide: &[u32], answer: &[u32], n: usize) -> Vec<u32> {
    for size in (1..=3).rev() {
        if answer.len() < size || guide.len() <= size {
            continue;
        }
        let tail = &answer[answer.len() - size..];
        if let Some(at) = (0..=guide.len() - size).rev().find(|&i| &guide[i..i + size] == tail) {
            let from = at + size;
            return guide[from..(from + n).min(guide.len())].to_vec();
        }
    }
    Vec::new()
}

impl Generator for Engine {
    fn prepare(&self, a: &[Value], b: &[Value]) -> anyhow::Result<usize> {
        Engine::prepare(self, a, b)
    }

    fn run(&self, job: &Job, output: &mut dyn Output) -> anyhow::Result<Stats> {
        let prompt = self.prompt(&job.messages, &job.prefill)?;
        let sampler = if job.shape.is_free() {
            Sampler::CHAT
        } else {
            Sampler::EXACT
        };
        self.generate(&prompt, job.max_tokens, &sampler, job.guide.as_deref(), output)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::bot::local::transformer::tests::tiny_model;

    fn greedy(model: &Batcher, prompt: &[u32], guide: &[u32], max_tokens: usize) -> (Vec<u32>, usize) {
        let mut cache = Cache::default();
        let opening = opening(guide, max_tokens);
        let read = [prompt, opening].concat();
        let logits = model.forward(&read, &mut cache, ending_with(opening)).unwrap();
        let step = Step {
            model,
            stop: &HashSet::new(),
            sampler: &Sampler::EXACT,
            guide,
            max_tokens,
        };
        let mut out = Vec::new();
        let (n, _, right) = step
            .decode(&mut cache, logits, opening, &mut |t| {
                out.push(t);
                Ok(true)
            })
            .unwrap();
        assert_eq!(n, out.len());
        (out, right)
    }

    #[test]
    fn guided_decoding_gives_exactly_what_token_by_token_greedy_decoding_gives() {
        for architecture in ["llama", "qwen2"] {
            let file = tiny_model(architecture, 11);
            let mut reader = Cursor::new(&file);
            let content = gguf_file::Content::read(&mut reader).unwrap();
            let model = Batcher::start(Transformer::load(&content, &mut reader, architecture).unwrap()).unwrap();
            for prompt in [vec![1u32, 2, 3, 4, 5], vec![40, 41, 7, 7, 7, 90], vec![17]] {
                let (plain, _) = greedy(&model, &prompt, &[], 24);
                // A perfect guide, one with mistakes, and one unrelated.
                let mut wrong = plain.clone();
                for i in (3..wrong.len()).step_by(5) {
                    wrong[i] = (wrong[i] + 1) % 96;
                }
                let unrelated: Vec<u32> = (0..30).collect();
                for guide in [&plain, &wrong, &unrelated] {
                    let (guided, _) = greedy(&model, &prompt, guide, 24);
                    assert_eq!(guided, plain, "{architecture} {prompt:?}");
                }
                let (_, right) = greedy(&model, &prompt, &plain, 24);
                assert!(right > 0, "a perfect guide is used");
            }
        }
    }

    #[test]
    fn a_prompt_is_resumed_where_it_parts_from_a_recent_one() {
        let mut snapshots = Snapshots::default();
        let instructions: Vec<u32> = (0..40).collect();
        let check = |sentence: &[u32]| [instructions.as_slice(), sentence].concat();
        assert_eq!(snapshots.fork(&check(&[100, 101])), None, "nothing to compare with yet");
        assert_eq!(
            snapshots.fork(&check(&[200, 201, 202])),
            Some(40),
            "the shared instructions"
        );
        assert_eq!(snapshots.fork(&[7, 8, 9]), None, "too little in common");
        // A kept state resumes any prompt that starts with what it read.
        let cache = Cache::default();
        snapshots.keep(&instructions, &cache);
        assert_eq!(snapshots.entries.len(), 1);
        snapshots.resume(&check(&[300]));
        assert_eq!(snapshots.entries.last().unwrap().0, instructions);
        snapshots.keep(&instructions, &cache);
        assert_eq!(snapshots.entries.len(), 1, "kept once");
        // A state read further replaces a partial one (reading ahead slice by slice).
        snapshots.forget(&instructions[..39]);
        assert_eq!(snapshots.entries.len(), 1, "only that very state is forgotten");
        snapshots.forget(&instructions);
        assert!(snapshots.entries.is_empty());
    }

    #[test]
    fn guesses_continue_the_guide_where_the_answer_left_it() {
        let guide = [10, 11, 12, 13, 14, 11, 12, 15];
        // The last two tokens' latest match wins over an earlier one.
        assert_eq!(guess(&guide, &[1, 11, 12], 3), vec![15]);
        assert_eq!(guess(&guide, &[1, 13], 2), vec![14, 11]);
        assert_eq!(guess(&guide, &[99], 4), Vec::<u32>::new());
        assert_eq!(guess(&[], &[1], 4), Vec::<u32>::new());
        assert_eq!(guess(&guide, &[10], 0), Vec::<u32>::new());
    }
}
