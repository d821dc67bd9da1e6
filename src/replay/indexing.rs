//! The worker's writes to the vector index: each replayed exchange's prompt and the candidate
//! answer of each regression/minor diff. Best effort by design: a failure is logged and counted
//! in `shadowtap_index_failures_total{collection}` and never fails or delays the delivery's ack
//! beyond the attempt itself.

use crate::domain::{DiffOutcome, Exchange};
use crate::index::{points, Collection, IndexPoint};
use crate::openai::ChatView;

use super::{tokens, Worker};

impl Worker {
    /// Embed and store `points_of` texts in `collection`; log and count failures.
    async fn index_texts(
        &self,
        collection: Collection,
        texts: &[&str],
        build: impl FnOnce(Vec<Vec<f32>>) -> Vec<IndexPoint>,
    ) {
        let (Some(index), Some(semantic)) = (&self.index, &self.semantic) else {
            return;
        };
        let result = match semantic.text_vectors(texts).await {
            Ok(vectors) => {
                let points = build(vectors);
                let n = points.len() as u64;
                index.upsert(collection, points).await.map(|()| n)
            }
            Err(e) => Err(crate::index::IndexError::Operation {
                op: "embed",
                message: e.to_string(),
            }),
        };
        match result {
            Ok(n) => self
                .metrics
                .index_points
                .with_label_values(&[collection.as_str()])
                .inc_by(n),
            Err(e) => {
                self.metrics
                    .index_failures
                    .with_label_values(&[collection.as_str()])
                    .inc();
                tracing::warn!(collection = collection.as_str(), error = %e, "vector index write failed");
            }
        }
    }

    /// Index the prompt of a replayed exchange (its last user message).
    pub(super) async fn index_prompt(&self, ex: &Exchange) {
        if self.index.is_none() {
            return;
        }
        let Some(request) = ex.request.json() else {
            return;
        };
        let Some(text) = points::prompt_text(request) else {
            return;
        };
        let route = points::route_of(&ex.path);
        let admitted = self
            .prompt_sample
            .lock()
            .expect("prompt sample lock")
            .admit(route, ex.captured_at.timestamp_millis());
        if !admitted {
            return; // drift reads a sample; indexing every prompt would only grow the index
        }
        let prompt_tokens = ex
            .response
            .json()
            .and_then(ChatView::parse)
            .and_then(|c| c.prompt_tokens)
            .unwrap_or_else(|| u64::from(tokens::prompt_tokens(request)));
        let prompt_tokens = u32::try_from(prompt_tokens).unwrap_or(u32::MAX);
        self.index_texts(Collection::Prompts, &[text.as_str()], |mut v| {
            vec![points::prompt_point(ex, prompt_tokens, v.remove(0))]
        })
        .await;
    }

    /// Index the candidate answer of a freshly stored diff if it is a regression or minor.
    pub(super) async fn index_regression(
        &self,
        ex: &Exchange,
        replay_id: i64,
        candidate: &str,
        answer: Option<&serde_json::Value>,
        outcome: &DiffOutcome,
    ) {
        if self.index.is_none() || !points::is_indexed(outcome.verdict) {
            return;
        }
        let diff_id = match self.store.diff_id_of_replay(replay_id).await {
            Ok(Some(id)) => id,
            Ok(None) => return,
            Err(e) => {
                self.metrics
                    .index_failures
                    .with_label_values(&[Collection::Regressions.as_str()])
                    .inc();
                tracing::warn!(error = %e, "cannot find the diff to index");
                return;
            }
        };
        let text = points::answer_text(answer);
        self.index_texts(Collection::Regressions, &[text.as_str()], |mut v| {
            vec![points::regression_point(
                diff_id,
                ex,
                candidate,
                outcome,
                &text,
                v.remove(0),
            )]
        })
        .await;
    }
}
