//! The model itself: a quantized GGUF model run by candle on the CPU, with the
//! tokenizer and the chat template read from the same file.
use std::{
    collections::HashSet,
    fs::File,
    io::{Cursor, Read, Seek},
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::{bail, Context};
use candle_core::{
    quantized::{gguf_file, tokenizer::TokenizerFromGguf, GgmlDType, QTensor},
    Device, Tensor,
};
use candle_transformers::{
    generation::{LogitsProcessor, Sampling},
    models::{quantized_llama, quantized_qwen2},
    utils::apply_repeat_penalty,
};
use serde_json::Value;
use tokenizers::{pre_tokenizers::byte_level::ByteLevel, Tokenizer};

use super::{Generator, Job, Output};

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
/// Model states kept after reading the start of recent prompts. A chat's next
/// prompt starts with the last one (same instructions, history plus one
/// turn), and every check starts with the same instructions and examples, so
/// most of a prompt is usually read already.
const SNAPSHOTS: usize = 16;
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
}

impl ModelInfo {
    /// Whether this build can run it.
    pub fn supported(&self) -> bool {
        ARCHITECTURES.contains(&self.architecture.as_str())
    }
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
    ModelInfo {
        path: path.to_owned(),
        name,
        architecture,
        parameters,
        file_bytes: file.metadata().map(|m| m.len()).unwrap_or(0),
        context,
    }
}

/// Reads a model file's description (fast: the weights are not loaded).
pub fn describe(path: &Path) -> anyhow::Result<ModelInfo> {
    let (file, content) = read_content(path)?;
    Ok(info_of(path, &file, &content))
}

/// Quantizations candle has SIMD kernels for. Others (Q4_1, Q5_0, Q5_1, ...)
/// run scalar code, several times slower; they are converted to Q8_0 when the
/// model loads, which keeps their values (8 bits hold 4 or 5) for more memory.
fn fast(dtype: GgmlDType) -> bool {
    use GgmlDType::*;
    matches!(
        dtype,
        F32 | F16 | BF16 | Q4_0 | Q8_0 | Q2K | Q3K | Q4K | Q5K | Q6K | Q8K
    )
}

/// The model file with slow quantizations converted, in memory; `None` when
/// every tensor already has a fast kernel.
fn converted(
    content: &gguf_file::Content,
    file: &mut File,
) -> anyhow::Result<Option<(gguf_file::Content, Cursor<Vec<u8>>)>> {
    let slow = |t: &gguf_file::TensorInfo| !fast(t.ggml_dtype) && t.shape.dims().last().is_some_and(|d| d % 32 == 0);
    let count = content.tensor_infos.values().filter(|t| slow(t)).count();
    if count == 0 {
        return Ok(None);
    }
    let started = Instant::now();
    let mut tensors = Vec::with_capacity(content.tensor_infos.len());
    for (name, info) in &content.tensor_infos {
        let tensor = content.tensor(file, name, &Device::Cpu)?;
        let tensor = if slow(info) {
            QTensor::quantize(&tensor.dequantize(&Device::Cpu)?, GgmlDType::Q8_0)?
        } else {
            tensor
        };
        tensors.push((name.as_str(), tensor));
    }
    let metadata: Vec<_> = content.metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let tensors: Vec<_> = tensors.iter().map(|(n, t)| (*n, t)).collect();
    let mut buffer = Cursor::new(Vec::new());
    gguf_file::write(&mut buffer, &metadata, &tensors)?;
    buffer.rewind()?;
    let content = gguf_file::Content::read(&mut buffer)?;
    tracing::info!(
        tensors = count,
        ms = started.elapsed().as_millis() as u64,
        "converted the model's slow quantizations to Q8_0"
    );
    Ok(Some((content, buffer)))
}

fn weights<R: Read + Seek>(
    architecture: &str,
    content: gguf_file::Content,
    reader: &mut R,
) -> candle_core::Result<Weights> {
    let device = Device::Cpu;
    Ok(match architecture {
        "llama" => Weights::Llama(quantized_llama::ModelWeights::from_gguf(content, reader, &device)?),
        _ => Weights::Qwen2(quantized_qwen2::ModelWeights::from_gguf(content, reader, &device)?),
    })
}

enum Weights {
    Llama(quantized_llama::ModelWeights),
    Qwen2(quantized_qwen2::ModelWeights),
}

impl Weights {
    /// Logits for the token after `tokens`, which start at position `pos`.
    fn forward(&mut self, tokens: &[u32], pos: usize) -> candle_core::Result<Tensor> {
        let input = Tensor::new(tokens, &Device::Cpu)?.unsqueeze(0)?;
        let logits = match self {
            Self::Llama(m) => m.forward(&input, pos)?,
            Self::Qwen2(m) => m.forward(&input, pos)?,
        };
        logits.squeeze(0)
    }

    /// A copy sharing the weights, for resuming later; candle's qwen2 cannot
    /// be copied (its prompts are read faster anyway: Q4_K has a batched kernel).
    fn snapshot(&self) -> Option<Self> {
        match self {
            Self::Llama(m) => Some(Self::Llama(m.clone())),
            Self::Qwen2(_) => None,
        }
    }

    fn clear(&mut self) {
        match self {
            Self::Llama(m) => m.clear_kv_cache(),
            Self::Qwen2(m) => m.clear_kv_cache(),
        }
    }
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
    pub tokens: usize,
    pub prefill: Duration,
    pub decode: Duration,
}

impl Stats {
    pub fn tokens_per_second(&self) -> f64 {
        self.tokens as f64 / self.decode.as_secs_f64().max(1e-9)
    }
}

pub struct Engine {
    weights: Weights,
    tokenizer: Tokenizer,
    templates: minijinja::Environment<'static>,
    bos: String,
    eos: String,
    stop: HashSet<u32>,
    context: usize,
    /// The model after reading `tokens` (a multiple of `PREFILL_CHUNK`), most
    /// recently used last.
    snapshots: Vec<(Vec<u32>, Weights)>,
    pub info: ModelInfo,
}

impl Engine {
    /// Loads a model file: weights, tokenizer and chat template.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let (mut file, content) = read_content(path)?;
        let info = info_of(path, &file, &content);
        if !info.supported() {
            bail!(
                "{} is a `{}` model; this build runs {}",
                path.display(),
                info.architecture,
                ARCHITECTURES.join(" and ")
            );
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
        let context = match info.architecture.as_str() {
            // candle's llama precomputes rotary tables for this many positions.
            "llama" => info.context.min(quantized_llama::MAX_SEQ_LEN),
            _ => info.context,
        };
        let weights = match converted(&content, &mut file)? {
            Some((content, mut buffer)) => weights(&info.architecture, content, &mut buffer)?,
            None => weights(&info.architecture, content, &mut file)?,
        };
        Ok(Self {
            weights,
            tokenizer,
            templates,
            bos,
            eos,
            stop,
            context,
            snapshots: Vec::new(),
            info,
        })
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

    /// Generates after `prompt` until the model ends its turn, `max_tokens`
    /// are out, or `output` says stop.
    pub fn generate(
        &mut self,
        prompt: &str,
        max_tokens: usize,
        sampler: &Sampler,
        output: &mut dyn Output,
    ) -> anyhow::Result<Stats> {
        let ids = self
            .tokenizer
            .encode(prompt, false)
            .map_err(|e| anyhow::anyhow!("tokenizing the prompt failed: {e}"))?
            .get_ids()
            .to_vec();
        if ids.is_empty() || ids.len() + 1 >= self.context {
            bail!(
                "the prompt has {} tokens; the model reads at most {}",
                ids.len(),
                self.context
            );
        }
        let max_tokens = max_tokens.min(self.context - ids.len());
        let mut stats = Stats {
            prompt_tokens: ids.len(),
            ..Stats::default()
        };
        let started = Instant::now();
        let mut pos = self.resume(&ids);
        let mut logits = None;
        while pos < ids.len() {
            if output.cancelled() {
                return Ok(stats);
            }
            let end = ((pos / PREFILL_CHUNK + 1) * PREFILL_CHUNK).min(ids.len());
            logits = Some(self.weights.forward(&ids[pos..end], pos)?);
            pos = end;
            if pos % PREFILL_CHUNK == 0 && pos < ids.len() {
                self.keep(&ids[..pos]);
            }
        }
        let mut logits = logits.context("no logits after the prompt")?;
        stats.prefill = started.elapsed();
        let decoding = Instant::now();
        let mut processor = sampler.processor();
        let mut tokens: Vec<u32> = Vec::with_capacity(max_tokens);
        let mut shown = 0;
        while tokens.len() < max_tokens {
            if sampler.repeat_penalty != 1.0 {
                let recent = &tokens[tokens.len().saturating_sub(REPEAT_WINDOW)..];
                logits = apply_repeat_penalty(&logits, sampler.repeat_penalty, recent)?;
            }
            let next = processor.sample(&logits)?;
            if self.stop.contains(&next) {
                break;
            }
            tokens.push(next);
            stats.tokens = tokens.len();
            // Decoding the whole reply each time keeps characters that span
            // tokens whole; an unfinished one shows as U+FFFD until complete.
            let text = self
                .tokenizer
                .decode(&tokens, true)
                .map_err(|e| anyhow::anyhow!("decoding failed: {e}"))?;
            if text.len() > shown && text.is_char_boundary(shown) && !text.ends_with('\u{FFFD}') {
                if !output.text(&text[shown..]) {
                    break;
                }
                shown = text.len();
            }
            logits = self.weights.forward(&[next], ids.len() + tokens.len() - 1)?;
        }
        stats.decode = decoding.elapsed();
        Ok(stats)
    }
}

impl Engine {
    /// Restores the model state that has read the longest start of `ids`
    /// (leaving at least one token to read); returns how many tokens that is.
    fn resume(&mut self, ids: &[u32]) -> usize {
        let best = self
            .snapshots
            .iter()
            .enumerate()
            .filter(|(_, (read, _))| read.len() < ids.len() && ids.starts_with(read))
            .max_by_key(|(_, (read, _))| read.len())
            .map(|(i, _)| i);
        match best {
            Some(i) => {
                let snapshot = self.snapshots.remove(i);
                if let Some(weights) = snapshot.1.snapshot() {
                    self.weights = weights;
                }
                let read = snapshot.0.len();
                self.snapshots.push(snapshot);
                read
            }
            None => {
                self.weights.clear();
                0
            }
        }
    }

    /// Keeps the current state (after reading `read`) for later prompts that
    /// start the same way. Cheap: weights are shared, the cache is copied on write.
    fn keep(&mut self, read: &[u32]) {
        if self.snapshots.iter().any(|(r, _)| r == read) {
            return;
        }
        let Some(weights) = self.weights.snapshot() else {
            return;
        };
        if self.snapshots.len() == SNAPSHOTS {
            self.snapshots.remove(0);
        }
        self.snapshots.push((read.to_vec(), weights));
    }
}

impl Generator for Engine {
    fn run(&mut self, job: &Job, output: &mut dyn Output) -> anyhow::Result<Stats> {
        let prompt = self.prompt(&job.messages, &job.prefill)?;
        let sampler = if job.exact { Sampler::EXACT } else { Sampler::CHAT };
        self.generate(&prompt, job.max_tokens, &sampler, output)
    }
}
