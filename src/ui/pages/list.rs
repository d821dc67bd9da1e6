//! `/diffs`: the regressions list — filters, sort, keyset pagination, counts, bulk triage.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{fmt_opt, render, urlencode};
use crate::domain::{FindingKind, Verdict};
use crate::store::{DiffFilter, DiffListRow, DiffSort, TRIAGE_STATES};
use crate::ui::auth::Principal;
use crate::ui::error::ApiError;
use crate::ui::{UiError, UiState};

/// Counting stops here (pages stay fast on huge tables).
const COUNT_CAP: i64 = 10_000;
/// Most diffs one bulk action changes.
const BULK_LIMIT: i64 = 5_000;

/// Query string of the list page and API (all optional).
#[derive(Debug, Deserialize, Serialize, Default, Clone)]
pub struct ListQuery {
    pub candidate: Option<String>,
    pub verdict: Option<String>,
    pub kind: Option<String>,
    pub route: Option<String>,
    pub model: Option<String>,
    pub team: Option<String>,
    pub feature: Option<String>,
    /// `YYYY-MM-DD` (UTC) or RFC 3339.
    pub since: Option<String>,
    pub until: Option<String>,
    pub min_score: Option<String>,
    pub triage: Option<String>,
    /// A corpus run id: only that run's items.
    pub run: Option<String>,
    /// `newest` (default) or `score`.
    pub sort: Option<String>,
    /// Cursor: `ID` (newest) or `SCORE:ID` (score).
    pub before: Option<String>,
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn parse_time(s: &str, end_of_day: bool) -> Result<DateTime<Utc>, UiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        UiError::BadRequest(format!("{s:?} is not a date (YYYY-MM-DD) or RFC 3339 time"))
    })?;
    let d = if end_of_day {
        d.succ_opt().unwrap_or(d)
    } else {
        d
    };
    Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc())
}

impl ListQuery {
    /// The store filter this query asks for.
    pub fn filter(&self, page_size: i64) -> Result<DiffFilter, UiError> {
        let verdict = non_empty(&self.verdict)
            .map(|v| v.parse::<Verdict>())
            .transpose()
            .map_err(UiError::BadRequest)?;
        let sort = match non_empty(&self.sort).as_deref() {
            None | Some("newest") => DiffSort::Newest,
            Some("score") => DiffSort::Score,
            Some(other) => {
                return Err(UiError::BadRequest(format!(
                    "unknown sort {other:?}: use newest or score"
                )))
            }
        };
        let before = match non_empty(&self.before) {
            None => None,
            Some(cursor) => {
                let bad = || {
                    UiError::BadRequest("`before` must be a cursor from the previous page".into())
                };
                match cursor.split_once(':') {
                    Some((score, id)) => Some((
                        id.parse().map_err(|_| bad())?,
                        Some(score.parse().map_err(|_| bad())?),
                    )),
                    None => Some((cursor.parse().map_err(|_| bad())?, None)),
                }
            }
        };
        let triage = non_empty(&self.triage);
        if let Some(t) = &triage {
            if t != "untriaged" && !TRIAGE_STATES.contains(&t.as_str()) {
                return Err(UiError::BadRequest(format!("unknown triage state {t:?}")));
            }
        }
        Ok(DiffFilter {
            candidate: non_empty(&self.candidate),
            verdict,
            finding_kind: non_empty(&self.kind),
            route: non_empty(&self.route),
            model: non_empty(&self.model),
            team: non_empty(&self.team),
            feature: non_empty(&self.feature),
            since: non_empty(&self.since)
                .map(|s| parse_time(&s, false))
                .transpose()?,
            until: non_empty(&self.until)
                .map(|s| parse_time(&s, true))
                .transpose()?,
            min_score: non_empty(&self.min_score)
                .map(|s| s.parse::<f64>())
                .transpose()
                .map_err(|_| UiError::BadRequest("`min_score` must be a number in 0..1".into()))?,
            triage,
            run: non_empty(&self.run)
                .map(|r| r.parse::<i64>())
                .transpose()
                .map_err(|_| UiError::BadRequest("`run` must be a run id".into()))?,
            sort,
            before,
            limit: page_size,
        })
    }

    /// This query as a query string, without the cursor.
    pub fn query_string(&self) -> String {
        let pairs = [
            ("candidate", &self.candidate),
            ("verdict", &self.verdict),
            ("kind", &self.kind),
            ("route", &self.route),
            ("model", &self.model),
            ("team", &self.team),
            ("feature", &self.feature),
            ("since", &self.since),
            ("until", &self.until),
            ("min_score", &self.min_score),
            ("triage", &self.triage),
            ("run", &self.run),
            ("sort", &self.sort),
        ];
        pairs
            .iter()
            .filter_map(|(k, v)| non_empty(v).map(|v| format!("{k}={}", urlencode(&v))))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// A list row ready for display.
pub struct RowView {
    pub id: i64,
    pub created: String,
    pub candidate: String,
    pub verdict: String,
    pub score: String,
    pub similarity: String,
    pub semantic: String,
    pub finding: String,
    pub kind: String,
    pub triage: String,
    pub route: String,
    pub model: String,
}

/// An option of a filter select.
pub struct SelectOption {
    pub value: String,
    pub selected: bool,
}

fn options<'a>(
    values: impl IntoIterator<Item = &'a str>,
    current: &Option<String>,
) -> Vec<SelectOption> {
    values
        .into_iter()
        .map(|v| SelectOption {
            value: v.to_owned(),
            selected: current.as_deref() == Some(v),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage {
    csrf: String,
    q: ListQuery,
    rows: Vec<RowView>,
    count: String,
    candidate_options: Vec<SelectOption>,
    verdict_options: Vec<SelectOption>,
    kind_options: Vec<SelectOption>,
    triage_options: Vec<SelectOption>,
    sort_options: Vec<SelectOption>,
    next: Option<String>,
    query_string: String,
}

fn row_view(r: DiffListRow) -> RowView {
    RowView {
        id: r.id,
        created: r.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
        candidate: r.candidate,
        verdict: r.verdict,
        score: format!("{:.2}", r.score),
        similarity: fmt_opt(r.text_similarity, 2),
        semantic: fmt_opt(r.semantic_similarity, 2),
        finding: r.first_finding.unwrap_or_default(),
        kind: r.first_kind.unwrap_or_default(),
        triage: r.triage_state.unwrap_or_default(),
        route: r.path,
        model: r.model.unwrap_or_default(),
    }
}

fn cursor(rows: &[DiffListRow], f: &DiffFilter) -> Option<String> {
    if (rows.len() as i64) < f.limit {
        return None;
    }
    rows.last().map(|r| match f.sort {
        DiffSort::Newest => r.id.to_string(),
        DiffSort::Score => format!("{}:{}", r.score, r.id),
    })
}

fn count_label(n: i64) -> String {
    if n >= COUNT_CAP {
        format!("{COUNT_CAP}+")
    } else {
        n.to_string()
    }
}

/// `GET /diffs`.
pub async fn page(
    State(state): State<Arc<UiState>>,
    Extension(principal): Extension<Principal>,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, UiError> {
    let filter = q.filter(state.page_size)?;
    let rows = state.store.list_diffs(&filter).await?;
    let count = state.store.count_matching(&filter, COUNT_CAP).await?;
    let next = cursor(&rows, &filter);
    let kinds: Vec<&str> = ALL_KINDS.iter().map(|k| k.as_str()).collect();
    render(&ListPage {
        csrf: principal.csrf().to_owned(),
        candidate_options: options(state.candidates.iter().map(String::as_str), &q.candidate),
        verdict_options: options(Verdict::ALL.iter().map(|v| v.as_str()), &q.verdict),
        kind_options: options(kinds, &q.kind),
        triage_options: options(["untriaged", "confirmed", "acceptable", "noise"], &q.triage),
        sort_options: options(["newest", "score"], &q.sort),
        rows: rows.into_iter().map(row_view).collect(),
        count: count_label(count),
        next,
        query_string: q.query_string(),
        q,
    })
}

/// `GET /api/diffs`: the same list as JSON, with the cursor for the next page and the count.
pub async fn api(
    State(state): State<Arc<UiState>>,
    Query(q): Query<ListQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let filter = q.filter(state.page_size)?;
    let rows = state.store.list_diffs(&filter).await?;
    let count = state.store.count_matching(&filter, COUNT_CAP).await?;
    let next = cursor(&rows, &filter);
    Ok(Json(
        serde_json::json!({"diffs": rows, "next_before": next, "count": count, "count_capped": count >= COUNT_CAP}),
    ))
}

/// Bulk triage of every diff matching the current filter.
#[derive(Debug, Deserialize)]
pub struct BulkForm {
    csrf: Option<String>,
    state: String,
    note: Option<String>,
    #[serde(default)]
    query: String,
}

/// `POST /diffs/triage`.
pub async fn bulk(
    State(state): State<Arc<UiState>>,
    Extension(principal): Extension<Principal>,
    Form(form): Form<BulkForm>,
) -> Result<Response, UiError> {
    if !principal.check_csrf(form.csrf.as_deref()) {
        return Err(UiError::Forbidden);
    }
    let new_state = match form.state.as_str() {
        "clear" => None,
        s if TRIAGE_STATES.contains(&s) => Some(s),
        other => {
            return Err(UiError::BadRequest(format!(
                "unknown triage state {other:?}"
            )))
        }
    };
    let q: ListQuery =
        serde_urlencoded::from_str(&form.query).map_err(|e| UiError::BadRequest(e.to_string()))?;
    let mut filter = q.filter(state.page_size)?;
    filter.before = None;
    let ids = state.store.matching_ids(&filter, BULK_LIMIT).await?;
    let note = form
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    state.store.triage(&ids, new_state, note).await?;
    Ok(Redirect::to(&format!("/diffs?{}", q.query_string())).into_response())
}

/// Every finding kind, for the filter.
const ALL_KINDS: [FindingKind; 22] = [
    FindingKind::CandidateError,
    FindingKind::Incompatible,
    FindingKind::ResponseShape,
    FindingKind::ChoicesCount,
    FindingKind::FinishReason,
    FindingKind::EmptyAnswer,
    FindingKind::Refusal,
    FindingKind::ToolCallDropped,
    FindingKind::ToolCallAdded,
    FindingKind::ToolName,
    FindingKind::HallucinatedTool,
    FindingKind::ToolArguments,
    FindingKind::InvalidJson,
    FindingKind::JsonStructure,
    FindingKind::TextDivergence,
    FindingKind::LengthRatio,
    FindingKind::SemanticDivergence,
    FindingKind::NumbersChanged,
    FindingKind::Negation,
    FindingKind::LanguageSwitch,
    FindingKind::Formatting,
    FindingKind::SchemaViolation,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_round_trip_and_validate() {
        let q = ListQuery {
            candidate: Some("groq".into()),
            verdict: Some("regression".into()),
            since: Some("2026-01-02".into()),
            sort: Some("score".into()),
            before: Some("0.5:42".into()),
            ..ListQuery::default()
        };
        let f = q.filter(50).unwrap();
        assert_eq!(f.before, Some((42, Some(0.5))));
        assert_eq!(f.sort, DiffSort::Score);
        assert_eq!(f.since.unwrap().to_rfc3339(), "2026-01-02T00:00:00+00:00");
        assert_eq!(
            q.query_string(),
            "candidate=groq&verdict=regression&since=2026-01-02&sort=score"
        );
        let bad = ListQuery {
            verdict: Some("awful".into()),
            ..ListQuery::default()
        };
        assert!(bad.filter(50).is_err());
        let bad = ListQuery {
            since: Some("yesterday".into()),
            ..ListQuery::default()
        };
        assert!(bad.filter(50).is_err());
    }
}
