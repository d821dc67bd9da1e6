//! The questions the UI and the drift gauge ask the index: similar regressions, clusters, drift.

use super::analysis::{self, Cluster, ClusterItem, DriftThresholds, PromptSample, RouteDrift};
use super::{
    Collection, Filter, Hit, IndexError, PointId, PromptPayload, RegressionPayload, VectorIndex,
};

impl VectorIndex {
    /// The `k` regressions whose candidate answers are nearest to diff `diff_id`'s, best first
    /// (the diff itself left out). None when that diff is not indexed (only regression and minor
    /// diffs are). `filter` narrows the candidates (e.g. one candidate).
    pub async fn similar_regressions(
        &self,
        diff_id: i64,
        k: usize,
        filter: Option<Filter>,
    ) -> Result<Option<Vec<Hit>>, IndexError> {
        let id = PointId::Num(diff_id as u64);
        let Some(point) = self.get(Collection::Regressions, id).await? else {
            return Ok(None);
        };
        let mut hits = self
            .search(Collection::Regressions, &point.vector, k + 1, filter)
            .await?;
        hits.retain(|h| h.id != id);
        hits.truncate(k);
        Ok(Some(hits))
    }

    /// Clusters of `candidate`'s regressions indexed since `since_ms` (at most
    /// `index.cluster_max_points` of the most recent), largest first.
    pub async fn regression_clusters(
        &self,
        candidate: &str,
        since_ms: i64,
    ) -> Result<Vec<Cluster>, IndexError> {
        let filter = Filter::default()
            .eq("candidate", candidate)
            .time(Some(since_ms), None);
        let records = self
            .recent(
                Collection::Regressions,
                Some(filter),
                self.config.cluster_max_points,
            )
            .await?;
        let items: Vec<ClusterItem> = records
            .into_iter()
            .filter_map(|r| {
                let p: RegressionPayload = r.payload_as()?;
                Some(ClusterItem {
                    diff_id: p.diff_id,
                    vector: r.vector,
                    finding_kinds: p.finding_kinds,
                    excerpt: p.excerpt,
                    route: p.route,
                })
            })
            .collect();
        Ok(analysis::cluster_regressions(
            &items,
            self.config.cluster_threshold,
        ))
    }

    /// Prompt drift per route at `now_ms`: the recent window `[now − recent, now)` against the
    /// baseline `[now − recent − baseline, now − recent)` (each at most `drift.max_prompts`, most
    /// recent first).
    pub async fn prompt_drift(&self, now_ms: i64) -> Result<Vec<RouteDrift>, IndexError> {
        let d = &self.config.drift;
        let recent_ms = (d.recent_secs * 1000.0) as i64;
        let baseline_ms = (d.baseline_secs * 1000.0) as i64;
        let split = now_ms - recent_ms;
        let read = |gte: i64, lt: i64| async move {
            let records = self
                .recent(
                    Collection::Prompts,
                    Some(Filter::default().time(Some(gte), Some(lt))),
                    d.max_prompts,
                )
                .await?;
            Ok::<_, IndexError>(
                records
                    .into_iter()
                    .filter_map(|r| {
                        let p: PromptPayload = r.payload_as()?;
                        Some(PromptSample {
                            route: p.route,
                            vector: r.vector,
                            tokens: p.prompt_tokens,
                        })
                    })
                    .collect::<Vec<_>>(),
            )
        };
        let recent = read(split, now_ms + 1).await?;
        let baseline = read(split - baseline_ms, split).await?;
        Ok(analysis::drift_by_route(
            &recent,
            &baseline,
            DriftThresholds {
                min_prompts: d.min_prompts,
                centroid_distance: d.centroid_threshold,
                length_p_value: d.length_p_value,
            },
        ))
    }
}
