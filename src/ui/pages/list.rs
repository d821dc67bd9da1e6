//! `/`: per-candidate verdict summary and the diff list (filters, keyset pagination).

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse};
use axum::Json;
use serde::Deserialize;

use super::{fmt_opt, render};
use crate::domain::Verdict;
use crate::store::{DiffFilter, DiffListRow};
use crate::ui::error::ApiError;
use crate::ui::{UiError, UiState};

/// Query string of the list page and API.
#[derive(Debug, Deserialize, Default)]
pub struct ListQuery {
    candidate: Option<String>,
    verdict: Option<String>,
    before: Option<String>,
}

impl ListQuery {
    fn filter(&self, page_size: i64) -> Result<DiffFilter, UiError> {
        let non_empty = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let verdict = non_empty(&self.verdict)
            .map(|v| v.parse::<Verdict>())
            .transpose()
            .map_err(UiError::BadRequest)?;
        let before = non_empty(&self.before)
            .map(|b| b.parse::<i64>())
            .transpose()
            .map_err(|_| UiError::BadRequest("`before` must be a diff id".into()))?;
        Ok(DiffFilter {
            candidate: non_empty(&self.candidate),
            verdict,
            before,
            limit: page_size,
        })
    }
}

/// Verdict counts of one candidate.
pub struct CandidateSummary {
    pub name: String,
    pub total: i64,
    /// (verdict, count) in display order, zeros included.
    pub counts: Vec<(&'static str, i64)>,
    pub regression_rate: String,
}

/// A list row ready for display.
pub struct RowView {
    pub id: i64,
    pub created: String,
    pub candidate: String,
    pub verdict: String,
    pub score: String,
    pub similarity: String,
    pub finding: String,
    pub route: String,
    pub model: String,
}

/// An option of a filter select.
pub struct SelectOption {
    pub value: String,
    pub selected: bool,
}

fn options<'a>(values: impl IntoIterator<Item = &'a str>, current: &str) -> Vec<SelectOption> {
    values
        .into_iter()
        .map(|v| SelectOption {
            value: v.to_owned(),
            selected: v == current,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage {
    summary: Vec<CandidateSummary>,
    rows: Vec<RowView>,
    candidate_options: Vec<SelectOption>,
    verdict_options: Vec<SelectOption>,
    verdicts: Vec<&'static str>,
    candidate: String,
    verdict: String,
    next_before: Option<i64>,
}

async fn summaries(state: &UiState) -> Result<Vec<CandidateSummary>, UiError> {
    let mut by_candidate: BTreeMap<String, BTreeMap<String, i64>> = state
        .candidates
        .iter()
        .map(|c| (c.clone(), BTreeMap::new()))
        .collect();
    for vc in state.store.verdict_counts(None).await? {
        by_candidate
            .entry(vc.candidate)
            .or_default()
            .insert(vc.verdict, vc.count);
    }
    Ok(by_candidate
        .into_iter()
        .map(|(name, counts)| {
            let total: i64 = counts.values().sum();
            let regressions = counts.get("regression").copied().unwrap_or(0)
                + counts.get("incompatible").copied().unwrap_or(0);
            CandidateSummary {
                name,
                total,
                counts: Verdict::ALL
                    .iter()
                    .map(|v| (v.as_str(), counts.get(v.as_str()).copied().unwrap_or(0)))
                    .collect(),
                regression_rate: if total == 0 {
                    "—".into()
                } else {
                    format!("{:.1}%", 100.0 * regressions as f64 / total as f64)
                },
            }
        })
        .collect())
}

fn row_view(r: DiffListRow) -> RowView {
    RowView {
        id: r.id,
        created: r.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
        candidate: r.candidate,
        verdict: r.verdict,
        score: format!("{:.2}", r.score),
        similarity: fmt_opt(r.text_similarity, 2),
        finding: r.first_finding.unwrap_or_default(),
        route: r.path,
        model: r.model.unwrap_or_default(),
    }
}

/// `GET /`.
pub async fn page(
    State(state): State<Arc<UiState>>,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, UiError> {
    let filter = q.filter(state.page_size)?;
    let rows = state.store.list_diffs(&filter).await?;
    let next_before = (rows.len() as i64 == filter.limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let summary = summaries(&state).await?;
    let candidate = filter.candidate.unwrap_or_default();
    let verdict = filter
        .verdict
        .map(|v| v.as_str().to_owned())
        .unwrap_or_default();
    render(&ListPage {
        candidate_options: options(summary.iter().map(|s| s.name.as_str()), &candidate),
        verdict_options: options(Verdict::ALL.iter().map(|v| v.as_str()), &verdict),
        summary,
        rows: rows.into_iter().map(row_view).collect(),
        verdicts: Verdict::ALL.iter().map(|v| v.as_str()).collect(),
        candidate,
        verdict,
        next_before,
    })
}

/// `GET /api/diffs`: the same list as JSON, with the cursor for the next page.
pub async fn api(
    State(state): State<Arc<UiState>>,
    Query(q): Query<ListQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let filter = q.filter(state.page_size)?;
    let rows = state.store.list_diffs(&filter).await?;
    let next_before = (rows.len() as i64 == filter.limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    Ok(Json(
        serde_json::json!({"diffs": rows, "next_before": next_before}),
    ))
}

/// `GET /api/summary`: verdict counts per candidate.
pub async fn summary_api(State(state): State<Arc<UiState>>) -> Result<impl IntoResponse, ApiError> {
    let s = summaries(&state).await?;
    let out: Vec<_> = s
        .into_iter()
        .map(|c| {
            let counts: serde_json::Map<String, serde_json::Value> = c
                .counts
                .iter()
                .map(|(v, n)| (v.to_string(), (*n).into()))
                .collect();
            serde_json::json!({"candidate": c.name, "total": c.total, "verdicts": counts})
        })
        .collect();
    Ok(Json(serde_json::json!({ "candidates": out })))
}
