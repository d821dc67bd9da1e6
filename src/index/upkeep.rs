//! The index's background task: flush (and optimise) every `index.flush_secs`; every
//! `index.drift.interval_secs` apply the retention windows and refresh the
//! `shadowtap_prompt_drift{route}` gauge; flush once more at shutdown.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::VectorIndex;
use crate::telemetry::Metrics;

/// Set the drift gauge from a fresh drift report; returns the report.
pub async fn update_drift_gauge(
    index: &VectorIndex,
    metrics: &Metrics,
) -> Result<Vec<super::analysis::RouteDrift>, super::IndexError> {
    let report = index
        .prompt_drift(chrono::Utc::now().timestamp_millis())
        .await?;
    for r in &report {
        if let Some(d) = r.centroid_distance {
            metrics.prompt_drift.with_label_values(&[&r.route]).set(d);
        }
    }
    Ok(report)
}

/// Run until `shutdown`, then flush.
pub async fn run(index: VectorIndex, metrics: Metrics, shutdown: CancellationToken) {
    let mut flush = tokio::time::interval(Duration::from_secs_f64(index.config().flush_secs));
    let mut drift =
        tokio::time::interval(Duration::from_secs_f64(index.config().drift.interval_secs));
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    drift.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = flush.tick() => {
                if let Err(e) = index.maintain().await {
                    tracing::warn!(error = %e, "vector index upkeep failed");
                }
            }
            _ = drift.tick() => {
                if let Err(e) = index.expire(chrono::Utc::now().timestamp_millis()).await {
                    tracing::warn!(error = %e, "vector index retention failed");
                }
                if let Err(e) = update_drift_gauge(&index, &metrics).await {
                    tracing::warn!(error = %e, "prompt drift update failed");
                }
            }
        }
    }
    match index.flush().await {
        Ok(()) => tracing::debug!("vector index flushed"),
        Err(e) => tracing::warn!(error = %e, "final vector index flush failed"),
    }
}
