//! A decoder-only transformer over quantized GGUF weights: the llama family
//! (Llama 3, SmolLM2) and qwen2 (Qwen2.5), which differ only in attention
//! biases and how rotary positions pair up.
//!
//! Unlike candle's models, the attention cache lives outside the model
//! (`Cache`), so one model serves several sequences, a cache can be copied to
//! resume a prompt that starts the same way (the copy shares its tensors), and
//! a cache can be cut back after a guess of several tokens was checked in one
//! pass. The maths follows candle's `quantized_llama` and `quantized_qwen2`,
//! and the tests hold it to their output.
use std::sync::Arc;

use anyhow::{bail, Context};
use candle_core::{
    quantized::{ggml_file, gguf_file, GgmlDType, QMatMul, QTensor},
    DType, Device, Module, Tensor,
};
use candle_transformers::quantized_nn::RmsNorm;

/// Positions the rotary tables cover: the longest prompt and answer read.
pub const MAX_POSITIONS: usize = 4096;

struct Layer {
    q: Weight,
    k: Weight,
    v: Weight,
    /// qwen2 has biases on q, k and v; llama has none.
    biases: Option<(Tensor, Tensor, Tensor)>,
    o: Weight,
    attention_norm: RmsNorm,
    gate: Weight,
    up: Weight,
    down: Weight,
    ffn_norm: RmsNorm,
}

/// A weight's product; `rows` the weight's own when a zero row was added to
/// keep it on the file's blocks (see `Loader::weight`).
struct Weight {
    matmul: QMatMul,
    rows: Option<usize>,
}

impl Weight {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let columns = x.dim(candle_core::D::Minus1)?;
        let y = if self.in_pieces() && x.elem_count() / columns > ROWS_AT_ONCE {
            // The input's rows in pieces, the pieces' results in one tensor.
            let flat = x.reshape(((), columns))?;
            let parts = pieces(flat.dim(0)?)
                .map(|(at, n)| self.matmul.forward(&flat.narrow(0, at, n)?))
                .collect::<candle_core::Result<Vec<_>>>()?;
            let y = Tensor::cat(&parts, 0)?;
            let mut dims = x.dims().to_vec();
            dims.pop();
            dims.push(y.dim(1)?);
            y.reshape(dims)?
        } else {
            self.matmul.forward(x)?
        };
        match self.rows {
            Some(n) => y.narrow(candle_core::D::Minus1, 0, n),
            None => Ok(y),
        }
    }

    /// Whether products with this weight take at most `ROWS_AT_ONCE` rows at a time.
    fn in_pieces(&self) -> bool {
        cfg!(target_arch = "x86_64") && matches!(&self.matmul, QMatMul::QTensor(t) if t.dtype() == GgmlDType::Q4K)
    }
}

/// Rows of a Q4_K product at most, on x86-64. From 32 rows on, candle
/// multiplies a Q4_K weight with AMX where the processor has it (Intel Xeon
/// since Sapphire Rapids), from a third copy of the weight packed for it the
/// first time: 10 bits a weight, beside the file's 4.5 and the 6 of the tiles
/// it uses for fewer rows. For a 1.5B model that is 1.4 GB more, past
/// llama.cpp's whole server. In pieces of at most 28 rows (its tile kernel
/// takes 4 at a time) every product keeps to the tiles; AMX multiplies 64-256
/// rows 1.1-1.7x faster, and most reads are short since prompts are resumed
/// (README, "The built-in model").
const ROWS_AT_ONCE: usize = 28;

/// `(first row, rows)` of each piece of a product of `rows` rows.
fn pieces(rows: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..rows)
        .step_by(ROWS_AT_ONCE)
        .map(move |at| (at, (rows - at).min(ROWS_AT_ONCE)))
}

/// What was read so far: each layer's keys and values, `[1, kv_heads,
/// positions, head_dim]`. Cloning shares the tensors (copy on append).
#[derive(Clone, Default)]
pub struct Cache {
    layers: Vec<(Tensor, Tensor)>,
    len: usize,
}

impl Cache {
    /// Tokens read.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets everything after the first `len` tokens.
    pub fn truncate(&mut self, len: usize) -> candle_core::Result<()> {
        if len >= self.len {
            return Ok(());
        }
        for (k, v) in &mut self.layers {
            *k = k.narrow(2, 0, len)?;
            *v = v.narrow(2, 0, len)?;
        }
        self.len = len;
        Ok(())
    }

    /// Memory the keys and values take.
    pub fn bytes(&self) -> usize {
        self.layers
            .iter()
            .map(|(k, _)| k.elem_count() * 2 * k.dtype().size_in_bytes())
            .sum()
    }
}

/// Which logits a read returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// After the last token read: `[vocabulary]`.
    Last,
    /// After each of the last `n` tokens read: `[n, vocabulary]` (a guess of
    /// `n - 1` tokens after the one before it is checked in one pass).
    Tail(usize),
}

impl Want {
    /// Rows of logits returned.
    fn rows(self) -> usize {
        match self {
            Want::Last => 1,
            Want::Tail(n) => n,
        }
    }
}

/// Tokens to read after what `cache` holds, and the logits wanted.
pub struct Read<'a> {
    pub tokens: &'a [u32],
    pub cache: &'a mut Cache,
    pub want: Want,
}

pub struct Transformer {
    embeddings: Arc<QTensor>,
    layers: Vec<Layer>,
    norm: RmsNorm,
    output: Weight,
    cos: Tensor,
    sin: Tensor,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
    /// Rotary pairs (i, i + d/2) as in qwen2, not (2i, 2i + 1) as in llama.
    neox: bool,
}

/// Quantizations candle has fast kernels for; others (Q4_1, Q5_0, Q5_1, ...)
/// run scalar code several times slower and are converted to Q8_0, tensor by
/// tensor as they load (8 bits hold 4 or 5 exactly).
fn fast(dtype: GgmlDType) -> bool {
    use GgmlDType::*;
    matches!(
        dtype,
        F32 | F16 | BF16 | Q4_0 | Q8_0 | Q2K | Q3K | Q4K | Q5K | Q6K | Q8K
    )
}

struct Loader<'a, R> {
    content: &'a gguf_file::Content,
    reader: &'a mut R,
    architecture: &'a str,
}

impl<R: std::io::Read + std::io::Seek> Loader<'_, R> {
    fn tensor(&mut self, name: &str) -> anyhow::Result<QTensor> {
        let info = self
            .content
            .tensor_infos
            .get(name)
            .with_context(|| format!("the model file has no tensor {name}"))?;
        let tensor = self
            .content
            .tensor(self.reader, name, &Device::Cpu)
            .with_context(|| format!("cannot read tensor {name}"))?;
        let convertible = info.shape.dims().last().is_some_and(|d| d % 32 == 0);
        Ok(if !fast(tensor.dtype()) && convertible {
            QTensor::quantize(&tensor.dequantize(&Device::Cpu)?, GgmlDType::Q8_0)?
        } else {
            tensor
        })
    }

    /// A weight for products. Q6_K weights get one zero row more, which
    /// keeps candle from repacking them: it repacks a weight for products of
    /// several rows in tiles of 16 rows (10 bits a weight for Q6_K, kept beside
    /// the file's 6.6), and only when the rows fill whole tiles. On the file's
    /// blocks a Q6_K product reads a prompt a little slower, and a Q4_K_M
    /// model of 1.5B parameters needs about 530 MiB less (README, "The
    /// built-in model"). Q4_K weights are repacked (6 bits a weight, beside the
    /// file's 4.5): on the file's blocks candle reads prompts far slower.
    fn weight(&mut self, name: &str) -> anyhow::Result<Weight> {
        let tensor = self.tensor(name)?;
        let (rows, columns) = tensor.shape().dims2()?;
        let dtype = tensor.dtype();
        if dtype != GgmlDType::Q6K || rows % 2 == 1 {
            return Ok(Weight {
                matmul: QMatMul::from_qtensor(tensor)?,
                rows: None,
            });
        }
        let mut bytes = tensor.data()?.into_owned();
        drop(tensor);
        bytes.resize(bytes.len() + columns / dtype.block_size() * dtype.type_size(), 0);
        let padded = ggml_file::qtensor_from_ggml(dtype, &bytes, vec![rows + 1, columns], &Device::Cpu)?;
        Ok(Weight {
            matmul: QMatMul::from_qtensor(padded)?,
            rows: Some(rows),
        })
    }

    fn dense(&mut self, name: &str) -> anyhow::Result<Tensor> {
        Ok(self.tensor(name)?.dequantize(&Device::Cpu)?)
    }

    fn number(&self, key: &str) -> anyhow::Result<f64> {
        let key = format!("{}.{key}", self.architecture);
        let value = self
            .content
            .metadata
            .get(&key)
            .with_context(|| format!("the model file has no {key}"))?;
        value
            .to_f32()
            .map(f64::from)
            .or_else(|_| value.to_u32().map(f64::from))
            .or_else(|_| value.to_u64().map(|v| v as f64))
            .map_err(|e| anyhow::anyhow!("{key}: {e}"))
    }
}

impl Transformer {
    /// Reads the weights of a `llama` or `qwen2` model.
    pub fn load<R: std::io::Read + std::io::Seek>(
        content: &gguf_file::Content,
        reader: &mut R,
        architecture: &str,
    ) -> anyhow::Result<Self> {
        if !["llama", "qwen2"].contains(&architecture) {
            bail!("unsupported architecture {architecture}");
        }
        let mut l = Loader {
            content,
            reader,
            architecture,
        };
        let heads = l.number("attention.head_count")? as usize;
        let kv_heads = l.number("attention.head_count_kv")? as usize;
        let embedding = l.number("embedding_length")? as usize;
        let blocks = l.number("block_count")? as usize;
        let eps = l.number("attention.layer_norm_rms_epsilon")?;
        let rope_base = l.number("rope.freq_base").unwrap_or(10_000.0);
        let head_dim = embedding / heads;
        let rope_dim = l.number("rope.dimension_count").map_or(head_dim, |d| d as usize);
        // Kept quantized: only the rows of the tokens read are expanded.
        let embeddings = Arc::new(l.tensor("token_embd.weight")?);
        let output = if content.tensor_infos.contains_key("output.weight") {
            l.weight("output.weight")?
        } else {
            // Tied embeddings: the output layer is the embedding table, shared.
            Weight {
                matmul: QMatMul::from_arc(embeddings.clone())?,
                rows: None,
            }
        };
        let norm = RmsNorm::from_qtensor(l.tensor("output_norm.weight")?, eps)?;
        let mut layers = Vec::with_capacity(blocks);
        for i in 0..blocks {
            let p = format!("blk.{i}");
            let biases = if architecture == "qwen2" {
                Some((
                    l.dense(&format!("{p}.attn_q.bias"))?,
                    l.dense(&format!("{p}.attn_k.bias"))?,
                    l.dense(&format!("{p}.attn_v.bias"))?,
                ))
            } else {
                None
            };
            layers.push(Layer {
                q: l.weight(&format!("{p}.attn_q.weight"))?,
                k: l.weight(&format!("{p}.attn_k.weight"))?,
                v: l.weight(&format!("{p}.attn_v.weight"))?,
                biases,
                o: l.weight(&format!("{p}.attn_output.weight"))?,
                attention_norm: RmsNorm::from_qtensor(l.tensor(&format!("{p}.attn_norm.weight"))?, eps)?,
                gate: l.weight(&format!("{p}.ffn_gate.weight"))?,
                up: l.weight(&format!("{p}.ffn_up.weight"))?,
                down: l.weight(&format!("{p}.ffn_down.weight"))?,
                ffn_norm: RmsNorm::from_qtensor(l.tensor(&format!("{p}.ffn_norm.weight"))?, eps)?,
            });
        }
        let (cos, sin) = rotary_tables(rope_dim, rope_base as f32)?;
        Ok(Self {
            embeddings,
            layers,
            norm,
            output,
            cos,
            sin,
            heads,
            kv_heads,
            head_dim,
            neox: architecture == "qwen2",
        })
    }

    /// Reads `tokens` after what `cache` holds and returns the logits of the
    /// next token after the last of them, or after each of the last few.
    pub fn forward(&self, tokens: &[u32], cache: &mut Cache, want: Want) -> anyhow::Result<Tensor> {
        let mut logits = self.forward_many(&mut [Read { tokens, cache, want }])?;
        Ok(logits.remove(0))
    }

    /// `forward` for several sequences in one pass: their rows go through
    /// every weight together (each weight is read from memory once for all of
    /// them, which is most of a step's cost), and each attends to its own cache.
    pub fn forward_many(&self, reads: &mut [Read<'_>]) -> anyhow::Result<Vec<Tensor>> {
        let mut all = Vec::new();
        for r in reads.iter() {
            if r.tokens.is_empty() {
                bail!("nothing to read");
            }
            if r.cache.len + r.tokens.len() > MAX_POSITIONS {
                bail!("the sequence is longer than {MAX_POSITIONS} tokens");
            }
            if let Want::Tail(n) = r.want {
                if n == 0 || n > r.tokens.len() {
                    bail!("logits after {n} of {} tokens read", r.tokens.len());
                }
            }
            all.extend_from_slice(r.tokens);
        }
        let rows = all.len();
        let ids = Tensor::new(all.as_slice(), &Device::Cpu)?;
        let mut x = self.embeddings.embedding(&ids)?.unsqueeze(0)?;
        let tables = reads
            .iter()
            .map(|r| {
                let (n, at) = (r.tokens.len(), r.cache.len);
                let mask = (n > 1).then(|| causal_mask(n, at)).transpose()?;
                Ok((mask, self.cos.narrow(0, at, n)?, self.sin.narrow(0, at, n)?))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        for (i, layer) in self.layers.iter().enumerate() {
            let residual = x.clone();
            let h = layer.attention_norm.forward(&x)?;
            let (mut q, mut k, mut v) = (layer.q.forward(&h)?, layer.k.forward(&h)?, layer.v.forward(&h)?);
            if let Some((bq, bk, bv)) = &layer.biases {
                q = q.broadcast_add(bq)?;
                k = k.broadcast_add(bk)?;
                v = v.broadcast_add(bv)?;
            }
            let mut attended = Vec::with_capacity(reads.len());
            let mut row = 0;
            for (r, (mask, cos, sin)) in reads.iter_mut().zip(&tables) {
                let n = r.tokens.len();
                let part = |t: &Tensor, heads: usize| -> candle_core::Result<Tensor> {
                    t.narrow(1, row, n)?
                        .reshape((1, n, heads, self.head_dim))?
                        .transpose(1, 2)?
                        .contiguous()
                };
                let (q, k, v) = (
                    part(&q, self.heads)?,
                    part(&k, self.kv_heads)?,
                    part(&v, self.kv_heads)?,
                );
                let (q, k) = (self.rotate(&q, cos, sin)?, self.rotate(&k, cos, sin)?);
                attended.push(self.attend(&q, k, v, mask.as_ref(), r.cache, i)?);
                row += n;
            }
            let attended = Tensor::cat(&attended, 1)?;
            x = (layer.o.forward(&attended)? + residual)?;
            let residual = x.clone();
            let h = layer.ffn_norm.forward(&x)?;
            let mlp = layer
                .down
                .forward(&(candle_nn::ops::silu(&layer.gate.forward(&h)?)? * layer.up.forward(&h)?)?)?;
            x = (mlp + residual)?;
        }
        let x = self.norm.forward(&x)?.squeeze(0)?;
        // The rows whose logits are wanted: each sequence's last, or last few.
        let mut wanted = Vec::new();
        let mut row = 0;
        for r in reads.iter_mut() {
            let n = r.tokens.len();
            r.cache.len += n;
            wanted.extend((row + n - r.want.rows()..row + n).map(|i| i as u32));
            row += n;
        }
        debug_assert_eq!(row, rows);
        let picked = x.index_select(&Tensor::new(wanted.as_slice(), &Device::Cpu)?, 0)?;
        let logits = self.output.forward(&picked)?;
        let mut out = Vec::with_capacity(reads.len());
        let mut at = 0;
        for r in reads.iter() {
            out.push(match r.want {
                Want::Last => logits.get(at)?,
                Want::Tail(n) => logits.narrow(0, at, n)?,
            });
            at += r.want.rows();
        }
        Ok(out)
    }

    /// Attention of one sequence's queries over its cache plus its new keys
    /// and values (which join the cache of layer `layer`).
    fn attend(
        &self,
        q: &Tensor,
        k: Tensor,
        v: Tensor,
        mask: Option<&Tensor>,
        cache: &mut Cache,
        layer: usize,
    ) -> anyhow::Result<Tensor> {
        let n = q.dim(2)?;
        let (k, v) = match cache.layers.get(layer) {
            Some((ck, cv)) => (Tensor::cat(&[ck, &k], 2)?, Tensor::cat(&[cv, &v], 2)?),
            None => (k, v),
        };
        if layer < cache.layers.len() {
            cache.layers[layer] = (k.clone(), v.clone());
        } else {
            cache.layers.push((k.clone(), v.clone()));
        }
        // The query heads that share a key and value head read them together
        // (`[1, kv_heads, repeat * n, head_dim]`), so the cache is never
        // copied out once per query head.
        let repeat = self.heads / self.kv_heads;
        let q = q.reshape((1, self.kv_heads, repeat * n, self.head_dim))?;
        let mut scores = (q.matmul(&k.t()?)? / (self.head_dim as f64).sqrt())?;
        if let Some(mask) = mask {
            let positions = scores.dim(3)?;
            scores = scores
                .reshape((1, self.kv_heads, repeat, n, positions))?
                .broadcast_add(mask)?
                .reshape((1, self.kv_heads, repeat * n, positions))?;
        }
        let weights = candle_nn::ops::softmax_last_dim(&scores)?;
        Ok(weights
            .matmul(&v.contiguous()?)?
            .reshape((1, self.heads, n, self.head_dim))?
            .transpose(1, 2)?
            .reshape((1, n, self.heads * self.head_dim))?)
    }

    fn rotate(&self, x: &Tensor, cos: &Tensor, sin: &Tensor) -> candle_core::Result<Tensor> {
        if self.neox {
            candle_nn::rotary_emb::rope(x, cos, sin)
        } else {
            candle_nn::rotary_emb::rope_i(x, cos, sin)
        }
    }
}

fn rotary_tables(dim: usize, base: f32) -> candle_core::Result<(Tensor, Tensor)> {
    let theta: Vec<f32> = (0..dim)
        .step_by(2)
        .map(|i| 1.0 / base.powf(i as f32 / dim as f32))
        .collect();
    let theta = Tensor::new(theta.as_slice(), &Device::Cpu)?;
    let angles = Tensor::arange(0, MAX_POSITIONS as u32, &Device::Cpu)?
        .to_dtype(DType::F32)?
        .reshape((MAX_POSITIONS, 1))?
        .matmul(&theta.reshape((1, theta.elem_count()))?)?;
    Ok((angles.cos()?, angles.sin()?))
}

/// `[n, at + n]`: 0 where query `i` (at position `at + i`) may look, -inf after.
fn causal_mask(n: usize, at: usize) -> candle_core::Result<Tensor> {
    let values: Vec<f32> = (0..n)
        .flat_map(|i| (0..at + n).map(move |j| if j > at + i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(values, (n, at + n), &Device::Cpu)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Cursor;

    use candle_core::quantized::gguf_file::Value;
    use candle_transformers::models::{quantized_llama, quantized_qwen2};

    use super::*;

    /// A small model with random weights in a GGUF file, for `architecture`.
    pub fn tiny_model(architecture: &str, seed: u64) -> Vec<u8> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        // 256 wide: a Q6_K row holds 256 weights.
        let (embedding, heads, kv_heads, blocks, vocab, ffn) = (256usize, 4u32, 2u32, 2u32, 96usize, 128usize);
        let mut random = |shape: &[usize], scale: f32| {
            let n: usize = shape.iter().product();
            let values: Vec<f32> = (0..n).map(|_| rng.random_range(-scale..scale)).collect();
            Tensor::from_vec(values, shape, &Device::Cpu).unwrap()
        };
        let q = |t: Tensor, dtype| QTensor::quantize(&t, dtype).unwrap();
        let mut tensors: Vec<(String, QTensor)> = vec![
            (
                "token_embd.weight".into(),
                q(random(&[vocab, embedding], 1.0), GgmlDType::Q8_0),
            ),
            (
                "output_norm.weight".into(),
                q(random(&[embedding], 1.0).abs().unwrap(), GgmlDType::F32),
            ),
            (
                "output.weight".into(),
                // Q6_K, as in most files (kept on the file's blocks, see `Loader::weight`).
                q(
                    random(&[vocab, embedding], 0.3),
                    if architecture == "qwen2" {
                        GgmlDType::Q6K
                    } else {
                        GgmlDType::Q4_0
                    },
                ),
            ),
        ];
        let kv = embedding / heads as usize * kv_heads as usize;
        for i in 0..blocks {
            let p = format!("blk.{i}");
            let mut add = |name: &str, t: QTensor| tensors.push((format!("{p}.{name}"), t));
            add(
                "attn_q.weight",
                q(random(&[embedding, embedding], 0.3), GgmlDType::Q8_0),
            );
            add("attn_k.weight", q(random(&[kv, embedding], 0.3), GgmlDType::Q8_0));
            add("attn_v.weight", q(random(&[kv, embedding], 0.3), GgmlDType::Q4_1));
            add(
                "attn_output.weight",
                q(random(&[embedding, embedding], 0.3), GgmlDType::Q8_0),
            );
            add(
                "attn_norm.weight",
                q(random(&[embedding], 1.0).abs().unwrap(), GgmlDType::F32),
            );
            // Q4_K in qwen2, as in a Q4_K_M file (products of many rows in pieces).
            let ffn_in = if architecture == "qwen2" {
                GgmlDType::Q4K
            } else {
                GgmlDType::Q8_0
            };
            add("ffn_gate.weight", q(random(&[ffn, embedding], 0.3), ffn_in));
            add("ffn_up.weight", q(random(&[ffn, embedding], 0.3), ffn_in));
            add("ffn_down.weight", q(random(&[embedding, ffn], 0.3), GgmlDType::Q8_0));
            add(
                "ffn_norm.weight",
                q(random(&[embedding], 1.0).abs().unwrap(), GgmlDType::F32),
            );
            if architecture == "qwen2" {
                add("attn_q.bias", q(random(&[embedding], 0.5), GgmlDType::F32));
                add("attn_k.bias", q(random(&[kv], 0.5), GgmlDType::F32));
                add("attn_v.bias", q(random(&[kv], 0.5), GgmlDType::F32));
            }
        }
        let a = architecture;
        let metadata: Vec<(String, Value)> = vec![
            ("general.architecture".into(), Value::String(a.into())),
            (format!("{a}.attention.head_count"), Value::U32(heads)),
            (format!("{a}.attention.head_count_kv"), Value::U32(kv_heads)),
            (format!("{a}.embedding_length"), Value::U32(embedding as u32)),
            (format!("{a}.block_count"), Value::U32(blocks)),
            (format!("{a}.context_length"), Value::U32(4096)),
            (format!("{a}.attention.layer_norm_rms_epsilon"), Value::F32(1e-5)),
            (format!("{a}.rope.freq_base"), Value::F32(10_000.0)),
            (
                format!("{a}.rope.dimension_count"),
                Value::U32(embedding as u32 / heads),
            ),
            (format!("{a}.feed_forward_length"), Value::U32(ffn as u32)),
        ];
        let metadata: Vec<(&str, &Value)> = metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let tensors: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let mut buffer = Cursor::new(Vec::new());
        gguf_file::write(&mut buffer, &metadata, &tensors).unwrap();
        buffer.into_inner()
    }

    fn ours(file: &[u8], architecture: &str) -> Transformer {
        let mut reader = Cursor::new(file);
        let content = gguf_file::Content::read(&mut reader).unwrap();
        Transformer::load(&content, &mut reader, architecture).unwrap()
    }

    type Forward = Box<dyn FnMut(&[u32], usize) -> Vec<f32>>;

    /// candle's own model on the same file (with Q4_1 converted as ours does,
    /// so both read the same numbers).
    fn candles(file: &[u8], architecture: &str) -> Forward {
        let mut reader = Cursor::new(file);
        let content = gguf_file::Content::read(&mut reader).unwrap();
        let mut tensors = Vec::new();
        for name in content.tensor_infos.keys() {
            let t = content.tensor(&mut reader, name, &Device::Cpu).unwrap();
            let t = if fast(t.dtype()) {
                t
            } else {
                QTensor::quantize(&t.dequantize(&Device::Cpu).unwrap(), GgmlDType::Q8_0).unwrap()
            };
            tensors.push((name.clone(), t));
        }
        let metadata: Vec<(&str, &Value)> = content.metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let mut converted = Cursor::new(Vec::new());
        gguf_file::write(&mut converted, &metadata, &refs).unwrap();
        converted.set_position(0);
        let content = gguf_file::Content::read(&mut converted).unwrap();
        let run = |out: candle_core::Result<Tensor>| out.unwrap().squeeze(0).unwrap().to_vec1::<f32>().unwrap();
        if architecture == "llama" {
            let mut m = quantized_llama::ModelWeights::from_gguf(content, &mut converted, &Device::Cpu).unwrap();
            Box::new(move |tokens, pos| {
                run(m.forward(&Tensor::new(tokens, &Device::Cpu).unwrap().unsqueeze(0).unwrap(), pos))
            })
        } else {
            let mut m = quantized_qwen2::ModelWeights::from_gguf(content, &mut converted, &Device::Cpu).unwrap();
            Box::new(move |tokens, pos| {
                run(m.forward(&Tensor::new(tokens, &Device::Cpu).unwrap().unsqueeze(0).unwrap(), pos))
            })
        }
    }

    fn close(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        let worst = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
        assert!(worst < 1e-3, "logits differ by up to {worst}");
    }

    #[test]
    fn logits_match_candles_models_for_both_architectures() {
        for architecture in ["llama", "qwen2"] {
            let file = tiny_model(architecture, 7);
            let model = ours(&file, architecture);
            let mut reference = candles(&file, architecture);
            let mut cache = Cache::default();
            // A prompt in one pass (longer than a piece of a product), then
            // token by token, as generation reads them.
            let prompt: Vec<u32> = (0..40).map(|i| (i * 37 + 1) % 96).collect();
            close(
                &model
                    .forward(&prompt, &mut cache, Want::Last)
                    .unwrap()
                    .to_vec1()
                    .unwrap(),
                &reference(&prompt, 0),
            );
            for (i, token) in [11u32, 42, 95].into_iter().enumerate() {
                let ours = model
                    .forward(&[token], &mut cache, Want::Last)
                    .unwrap()
                    .to_vec1()
                    .unwrap();
                close(&ours, &reference(&[token], prompt.len() + i));
            }
            assert_eq!(cache.len(), prompt.len() + 3);
        }
    }

    #[test]
    fn sequences_read_together_get_what_each_gets_alone() {
        for architecture in ["llama", "qwen2"] {
            let model = ours(&tiny_model(architecture, 5), architecture);
            let (a, b) = ([4u32, 9, 16, 25], [7u32, 14]);
            let (mut alone_a, mut alone_b) = (Cache::default(), Cache::default());
            let la: Vec<f32> = model.forward(&a, &mut alone_a, Want::Last).unwrap().to_vec1().unwrap();
            let lb = model.forward(&b, &mut alone_b, Want::Tail(b.len())).unwrap();
            // Then one more token each, together.
            let (mut ca, mut cb) = (Cache::default(), Cache::default());
            let first = model
                .forward_many(&mut [
                    Read {
                        tokens: &a,
                        cache: &mut ca,
                        want: Want::Last,
                    },
                    Read {
                        tokens: &b,
                        cache: &mut cb,
                        want: Want::Tail(b.len()),
                    },
                ])
                .unwrap();
            close(&first[0].to_vec1().unwrap(), &la);
            assert_eq!(first[1].dims(), lb.dims());
            close(
                &first[1].flatten_all().unwrap().to_vec1().unwrap(),
                &lb.flatten_all().unwrap().to_vec1().unwrap(),
            );
            let next = model
                .forward_many(&mut [
                    Read {
                        tokens: &[1],
                        cache: &mut ca,
                        want: Want::Last,
                    },
                    Read {
                        tokens: &[2, 3],
                        cache: &mut cb,
                        want: Want::Last,
                    },
                ])
                .unwrap();
            close(
                &next[0].to_vec1().unwrap(),
                &model
                    .forward(&[1], &mut alone_a, Want::Last)
                    .unwrap()
                    .to_vec1()
                    .unwrap(),
            );
            close(
                &next[1].to_vec1().unwrap(),
                &model
                    .forward(&[2, 3], &mut alone_b, Want::Last)
                    .unwrap()
                    .to_vec1()
                    .unwrap(),
            );
            assert_eq!((ca.len(), cb.len()), (5, 4));
        }
    }

    #[test]
    fn q4k_products_of_many_rows_go_in_pieces_of_at_most_28_rows() {
        for rows in [1, 27, 28, 29, 56, 61, 300] {
            let p: Vec<(usize, usize)> = pieces(rows).collect();
            assert_eq!(p.iter().map(|&(_, n)| n).sum::<usize>(), rows, "{p:?}");
            assert!(p.windows(2).all(|w| w[0].0 + w[0].1 == w[1].0), "{p:?}");
            assert!(p.iter().all(|&(_, n)| n > 0 && n <= ROWS_AT_ONCE), "{p:?}");
            // All but the last a multiple of the 4 rows candle's tile kernel takes.
            assert!(p.iter().rev().skip(1).all(|&(_, n)| n % 4 == 0), "{p:?}");
        }
        let weight = |dtype| {
            let values: Vec<f32> = (0..64 * 256).map(|i| ((i * 7919) % 201) as f32 / 100.0 - 1.0).collect();
            let t = Tensor::from_vec(values, (64, 256), &Device::Cpu).unwrap();
            Weight {
                matmul: QMatMul::from_qtensor(QTensor::quantize(&t, dtype).unwrap()).unwrap(),
                rows: None,
            }
        };
        let q4k = weight(GgmlDType::Q4K);
        assert_eq!(q4k.in_pieces(), cfg!(target_arch = "x86_64"));
        assert!(!weight(GgmlDType::Q8_0).in_pieces());
        // 61 rows in pieces give what each row gives alone.
        let values: Vec<f32> = (0..61 * 256)
            .map(|i| ((i * 104_729) % 173) as f32 / 86.0 - 1.0)
            .collect();
        let x = Tensor::from_vec(values, (1, 61, 256), &Device::Cpu).unwrap();
        let all = q4k.forward(&x).unwrap();
        assert_eq!(all.dims(), [1, 61, 64]);
        for row in 0..61 {
            let alone = q4k.matmul.forward(&x.narrow(1, row, 1).unwrap()).unwrap();
            close(
                &alone.flatten_all().unwrap().to_vec1().unwrap(),
                &all.narrow(1, row, 1).unwrap().flatten_all().unwrap().to_vec1().unwrap(),
            );
        }
    }

    #[test]
    fn q6k_weights_stay_on_the_files_blocks_and_give_the_vocabularys_logits() {
        let model = ours(&tiny_model("qwen2", 3), "qwen2");
        // The tiny qwen2 model's output layer is Q6_K, 96 rows: kept with a
        // zero row more, so candle never repacks it, and cut back after.
        assert_eq!(model.output.rows, Some(96));
        let QMatMul::QTensor(weight) = &model.output.matmul else {
            panic!("the output layer stays quantized")
        };
        assert_eq!(weight.shape().dims2().unwrap(), (97, 256));
        let rows = model
            .forward(&[3, 8, 13], &mut Cache::default(), Want::Tail(3))
            .unwrap();
        assert_eq!(rows.dims(), [3, 96]);
        // Other quantizations are left as they are.
        assert!(model.layers.iter().all(|l| l.down.rows.is_none()));
    }

    #[test]
    fn a_copied_or_cut_back_cache_reads_on_exactly_like_a_fresh_one() {
        for architecture in ["llama", "qwen2"] {
            let model = ours(&tiny_model(architecture, 3), architecture);
            let all = [3u32, 8, 13, 21, 34, 55, 89, 1];
            let mut fresh = Cache::default();
            let expected: Vec<f32> = model.forward(&all, &mut fresh, Want::Last).unwrap().to_vec1().unwrap();
            // Resumed from a copy after the first five tokens.
            let mut start = Cache::default();
            model.forward(&all[..5], &mut start, Want::Last).unwrap();
            let mut resumed = start.clone();
            let got: Vec<f32> = model
                .forward(&all[5..], &mut resumed, Want::Last)
                .unwrap()
                .to_vec1()
                .unwrap();
            close(&got, &expected);
            // The copy was not changed by reading on from it.
            assert_eq!(start.len(), 5);
            // A guess of three wrong tokens read and cut back.
            let mut guessed = start.clone();
            let every = model.forward(&[all[5], 0, 0, 0], &mut guessed, Want::Tail(4)).unwrap();
            assert_eq!(every.dims(), [4, 96]);
            guessed.truncate(6).unwrap();
            let got: Vec<f32> = model
                .forward(&all[6..], &mut guessed, Want::Last)
                .unwrap()
                .to_vec1()
                .unwrap();
            close(&got, &expected);
            // Each row of a pass over several tokens is the next-token logits after it.
            let mut one_by_one = start.clone();
            let row0: Vec<f32> = model
                .forward(&[all[5]], &mut one_by_one, Want::Last)
                .unwrap()
                .to_vec1()
                .unwrap();
            close(&every.get(0).unwrap().to_vec1().unwrap(), &row0);
            // The last rows of a read alone are those rows of the whole read.
            let tail = model
                .forward(&[all[5], 0, 0, 0], &mut start.clone(), Want::Tail(2))
                .unwrap();
            assert_eq!(tail.dims(), [2, 96]);
            close(
                &tail.flatten_all().unwrap().to_vec1().unwrap(),
                &every.narrow(0, 2, 2).unwrap().flatten_all().unwrap().to_vec1().unwrap(),
            );
        }
    }
}
