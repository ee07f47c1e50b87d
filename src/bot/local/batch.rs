//! Several sequences through the model together. Each running request asks
//! for its next pass from its own thread; the model's thread gathers the
//! passes asked for at about the same time into one `forward_many`, so a
//! practice reply and the tutor's check of the same message advance side by
//! side for about the cost of one (reading the weights is most of a step).
//! Reads of several tokens take turns (see `choose`).
use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicUsize, Ordering},
        mpsc, Arc,
    },
    time::{Duration, Instant},
};

use anyhow::{anyhow, Context};
use candle_core::Tensor;

use super::transformer::{Cache, Read, Transformer, Want, MAX_POSITIONS};

/// The nice value the model's threads run at (Linux keeps one per thread, and
/// threads inherit it from the thread that starts them, as candle's helpers
/// do on the first pass). The web server's threads keep 0.
pub const MODEL_NICE: i32 = 19;

/// Lowers the calling thread to Linux's idle scheduling policy (`SCHED_IDLE`)
/// at `MODEL_NICE`: a web server thread that wakes while every core computes
/// takes a core from an idle-policy thread at once, where a nice value alone
/// only weighs its share, so the scheduler may let the model finish its slice
/// first (milliseconds). The model uses all cores when the server is quiet
/// and gives way the moment it is not. Where the policy is refused, the nice
/// value alone. Linux only: elsewhere the same calls would lower the whole
/// process.
pub fn yield_to_requests() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::{
            set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy, ThreadPriority,
            ThreadSchedulePolicy,
        };
        let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
        if let Err(e) = set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, idle) {
            tracing::debug!(error = ?e, "the idle scheduling policy is refused; lowering the nice value only");
        }
        if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), MODEL_NICE) {
            tracing::warn!(error = %e, "cannot lower the model threads' priority");
        }
    }
}

/// How long a pass waits for the other running sequences to ask for theirs
/// (sampling between passes takes well under a millisecond).
const GATHER: Duration = Duration::from_millis(3);

/// Which reads of several tokens go first (see `choose`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    /// A reply's prompt: a learner waits for its first words.
    Reply,
    /// Anything else (a check's sentence, a guess, reading ahead).
    Queued,
}

/// How many later reads a queued read lets go first at most.
const PASSED_OVER_AT_MOST: u32 = 2;

struct Pass {
    tokens: Vec<u32>,
    cache: Cache,
    want: Want,
    priority: Priority,
    /// Reads that went before this one, though asked for later.
    passed_over: u32,
    done: mpsc::SyncSender<anyhow::Result<(Tensor, Cache)>>,
}

/// A handle on the model's thread; cheap to clone.
#[derive(Clone)]
pub struct Batcher {
    passes: mpsc::Sender<Pass>,
    running: Arc<AtomicUsize>,
    /// Passes through the model so far.
    made: Arc<AtomicUsize>,
}

/// A sequence being generated: counted while alive, so a pass waits for the
/// others only while there are others.
pub struct Running {
    running: Arc<AtomicUsize>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.running.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Batcher {
    /// Starts the model's thread; it ends when the last handle is gone.
    pub fn start(model: Transformer) -> anyhow::Result<Self> {
        let (passes, rx) = mpsc::channel::<Pass>();
        let running = Arc::new(AtomicUsize::new(0));
        let made = Arc::new(AtomicUsize::new(0));
        let (others, count) = (running.clone(), made.clone());
        std::thread::Builder::new()
            .name("chattconnect-model-pass".into())
            .spawn(move || {
                // Before the first pass, so candle's helper threads inherit it.
                yield_to_requests();
                serve(&model, &rx, &others, &count)
            })?;
        Ok(Self { passes, running, made })
    }

    /// Passes through the model so far.
    pub fn passes(&self) -> usize {
        self.made.load(Ordering::SeqCst)
    }

    /// Whether any sequence is running.
    pub fn busy(&self) -> bool {
        self.running.load(Ordering::SeqCst) > 0
    }

    /// Marks a sequence as running until the guard is dropped.
    pub fn running(&self) -> Running {
        self.running.fetch_add(1, Ordering::SeqCst);
        Running {
            running: self.running.clone(),
        }
    }

    /// `Transformer::forward`, in a pass shared with whatever else runs.
    pub fn forward(&self, tokens: &[u32], cache: &mut Cache, want: Want) -> anyhow::Result<Tensor> {
        self.forward_as(Priority::Queued, tokens, cache, want)
    }

    /// `forward` for a read of `priority`.
    pub fn forward_as(
        &self,
        priority: Priority,
        tokens: &[u32],
        cache: &mut Cache,
        want: Want,
    ) -> anyhow::Result<Tensor> {
        // Checked here, so one sequence's mistake never fails the others' pass.
        anyhow::ensure!(!tokens.is_empty(), "nothing to read");
        anyhow::ensure!(
            cache.len() + tokens.len() <= MAX_POSITIONS,
            "the sequence is longer than {MAX_POSITIONS} tokens"
        );
        let (done, result) = mpsc::sync_channel(1);
        self.passes
            .send(Pass {
                tokens: tokens.to_vec(),
                cache: std::mem::take(cache),
                want,
                priority,
                passed_over: 0,
                done,
            })
            .map_err(|_| anyhow!("the model's thread has stopped"))?;
        let (logits, read) = result.recv().context("the model's thread has stopped")??;
        *cache = read;
        Ok(logits)
    }
}

/// Which of the passes asked for run now: every pass of one token (a step of
/// generation costs little more beside another pass than alone, as reading
/// the weights is most of it), and one of the reads of several tokens (a
/// prompt, or a guess to check). A pass of many tokens costs about what its
/// tokens cost, together or apart, so running two at once only makes the
/// first wait for the second. The read that runs is a reply's prompt, the
/// first asked for, since a learner waits for its first words: the reply's
/// new turn is read before the check's sentence, whichever came first. Else
/// the first asked for. No read waits for ever: one that two later reads went
/// before goes next. The others wait, in the order they came, in `waiting`.
fn choose(asked: Vec<Pass>, waiting: &mut VecDeque<Pass>) -> Vec<Pass> {
    let mut batch = Vec::with_capacity(asked.len() + 1);
    for pass in asked {
        if pass.tokens.len() > 1 {
            waiting.push_back(pass);
        } else {
            batch.push(pass);
        }
    }
    let next = waiting
        .iter()
        .position(|p| p.passed_over >= PASSED_OVER_AT_MOST)
        .or_else(|| waiting.iter().position(|p| p.priority == Priority::Reply))
        .or((!waiting.is_empty()).then_some(0));
    if let Some(i) = next {
        for pass in waiting.iter_mut().take(i) {
            pass.passed_over += 1;
        }
        batch.extend(waiting.remove(i));
    }
    batch
}

fn serve(model: &Transformer, passes: &mpsc::Receiver<Pass>, running: &AtomicUsize, made: &AtomicUsize) {
    let mut waiting = VecDeque::new();
    loop {
        let mut asked = Vec::new();
        if waiting.is_empty() {
            match passes.recv() {
                Ok(pass) => asked.push(pass),
                Err(_) => return,
            }
        }
        made.fetch_add(1, Ordering::SeqCst);
        let deadline = Instant::now() + GATHER;
        while asked.len() + waiting.len() < running.load(Ordering::SeqCst) {
            match passes.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(pass) => asked.push(pass),
                Err(_) => break,
            }
        }
        let mut batch = choose(asked, &mut waiting);
        let mut caches: Vec<Cache> = batch.iter_mut().map(|p| std::mem::take(&mut p.cache)).collect();
        let result = {
            let mut reads: Vec<Read<'_>> = batch
                .iter()
                .zip(caches.iter_mut())
                .map(|(p, cache)| Read {
                    tokens: &p.tokens,
                    cache,
                    want: p.want,
                })
                .collect();
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| model.forward_many(&mut reads)))
        };
        match result {
            Ok(Ok(logits)) => {
                for ((pass, logits), cache) in batch.into_iter().zip(logits).zip(caches) {
                    let _ = pass.done.send(Ok((logits, cache)));
                }
            }
            Ok(Err(e)) => {
                let message = format!("{e:#}");
                for pass in batch {
                    let _ = pass.done.send(Err(anyhow!("{message}")));
                }
            }
            Err(_) => {
                for pass in batch {
                    let _ = pass.done.send(Err(anyhow!("the model panicked")));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use candle_core::quantized::gguf_file;

    use super::*;
    use crate::bot::local::transformer::tests::tiny_model;

    /// The nice value and scheduling policy in a thread's `/proc/.../stat`.
    #[cfg(target_os = "linux")]
    fn nice_and_policy(task: &std::path::Path) -> (i32, u32) {
        let stat = std::fs::read_to_string(task.join("stat")).unwrap();
        // After the name in parentheses: state is field 3, nice field 19, policy field 41.
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
        (fields[16].parse().unwrap(), fields[38].parse().unwrap())
    }

    /// Linux's `SCHED_IDLE` and `SCHED_OTHER` in `/proc/.../stat`.
    const SCHED_IDLE: u32 = 5;
    const SCHED_OTHER: u32 = 0;

    #[test]
    #[cfg(target_os = "linux")]
    fn the_models_threads_give_way_to_the_web_servers() {
        let file = tiny_model("llama", 4);
        let mut reader = Cursor::new(&file);
        let content = gguf_file::Content::read(&mut reader).unwrap();
        let batcher = Batcher::start(Transformer::load(&content, &mut reader, "llama").unwrap()).unwrap();
        let mut cache = Cache::default();
        batcher.forward(&[1, 2, 3], &mut cache, Want::Last).unwrap();
        // Thread names are cut to 15 bytes: "chattconnect-model-pass" reads "chattconnect-mo".
        let model: Vec<(i32, u32)> = std::fs::read_dir("/proc/self/task")
            .unwrap()
            .flatten()
            .filter(|t| std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.starts_with("chattconnect-mo")))
            .map(|t| nice_and_policy(&t.path()))
            .collect();
        assert!(!model.is_empty(), "the model's thread is running");
        assert!(model.iter().all(|&m| m == (MODEL_NICE, SCHED_IDLE)), "{model:?}");
        assert_eq!(
            nice_and_policy(std::path::Path::new("/proc/thread-self")),
            (0, SCHED_OTHER),
            "the caller keeps its priority"
        );
    }

    #[test]
    fn reads_of_several_tokens_run_one_at_a_time_a_replys_first_with_every_single_step_beside() {
        let pass = |n: usize, priority| Pass {
            tokens: vec![1; n],
            cache: Cache::default(),
            want: Want::Last,
            priority,
            passed_over: 0,
            done: mpsc::sync_channel(1).0,
        };
        let (q, r) = (Priority::Queued, Priority::Reply);
        let sizes = |passes: &mut dyn Iterator<Item = &Pass>| passes.map(|p| p.tokens.len()).collect::<Vec<_>>();
        let mut waiting = VecDeque::new();
        // A check's sentence, a step of a reply, another check's sentence and
        // a step of a second reply: both steps and the first sentence run now.
        let batch = choose(vec![pass(30, q), pass(1, r), pass(40, q), pass(1, q)], &mut waiting);
        assert_eq!(sizes(&mut batch.iter()), [1, 1, 30]);
        assert_eq!(sizes(&mut waiting.iter()), [40]);
        // A reply's new turn goes before the sentence asked for earlier.
        let batch = choose(vec![pass(25, r), pass(1, q)], &mut waiting);
        assert_eq!(sizes(&mut batch.iter()), [1, 25]);
        assert_eq!(sizes(&mut waiting.iter()), [40]);
        // And another one; then the sentence, passed over twice, goes first;
        // then the reply that came after it, then the rest in order.
        assert_eq!(
            sizes(&mut choose(vec![pass(26, r), pass(50, q)], &mut waiting).iter()),
            [26]
        );
        assert_eq!(sizes(&mut choose(vec![pass(27, r)], &mut waiting).iter()), [40]);
        assert_eq!(sizes(&mut choose(vec![], &mut waiting).iter()), [27]);
        assert_eq!(sizes(&mut choose(vec![pass(1, q)], &mut waiting).iter()), [1, 50]);
        // Steps alone all run together.
        assert_eq!(choose(vec![pass(1, r), pass(1, q), pass(1, q)], &mut waiting).len(), 3);
        assert!(waiting.is_empty());
    }

    fn tiny_batcher() -> Batcher {
        let file = tiny_model("qwen2", 9);
        let mut reader = Cursor::new(&file);
        let content = gguf_file::Content::read(&mut reader).unwrap();
        Batcher::start(Transformer::load(&content, &mut reader, "qwen2").unwrap()).unwrap()
    }

    /// Reads `tokens(0..n)` one after another on one cache, alone, then as two
    /// sequences at once; checks that each got what it got alone, and returns
    /// the passes the two took.
    fn alone_then_two_at_once(batcher: &Batcher, n: u32, tokens: impl Fn(u32) -> Vec<u32> + Sync) -> usize {
        let run = || -> Vec<Vec<f32>> {
            let mut cache = Cache::default();
            (0..n)
                .map(|i| {
                    batcher
                        .forward(&tokens(i), &mut cache, Want::Last)
                        .unwrap()
                        .to_vec1()
                        .unwrap()
                })
                .collect()
        };
        let alone = {
            let _running = batcher.running();
            run()
        };
        let before = batcher.passes();
        let guards: Vec<Running> = (0..2).map(|_| batcher.running()).collect();
        let together: Vec<Vec<Vec<f32>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..2).map(|_| scope.spawn(run)).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        drop(guards);
        for got in &together {
            for (a, b) in got.iter().zip(&alone) {
                let worst = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
                assert!(worst < 1e-3, "{worst}");
            }
        }
        batcher.passes() - before
    }

    #[test]
    fn reads_of_several_tokens_asked_at_once_take_passes_of_their_own() {
        let batcher = tiny_batcher();
        let reads = 6;
        let passes = alone_then_two_at_once(&batcher, reads, |i| vec![i, i + 1, i + 2]);
        assert_eq!(passes, reads as usize * 2, "no two reads shared a pass");
    }

    #[test]
    fn sequences_running_at_once_share_their_passes() {
        let batcher = tiny_batcher();
        let steps = 12;
        // Each got what it gets alone, and most passes served both.
        let passes = alone_then_two_at_once(&batcher, steps as u32, |i| vec![i]);
        assert!(passes < steps * 2 * 3 / 4, "{passes} passes for {} steps", steps * 2);
        // A sequence too long for the model fails alone.
        let mut cache = Cache::default();
        assert!(batcher
            .forward(&vec![1; MAX_POSITIONS + 1], &mut cache, Want::Last)
            .is_err());
    }
}
