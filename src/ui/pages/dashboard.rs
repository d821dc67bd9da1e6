//! `/`: per candidate — verdicts next to the noise floor, regression rate over time, latency and
//! cost against production, error classes, top findings, and a cut-over readiness summary.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};

use super::vectors::{drift_text, kinds_text, DashboardVectors};
use super::{fmt_opt, ms, ratio, render};
use crate::domain::Verdict;
use crate::replay::CONTROL;
use crate::store::{Count, DailyVerdicts, PerformanceSample};
use crate::ui::auth::Principal;
use crate::ui::error::ApiError;
use crate::ui::{svg, UiError, UiState};

/// Below this many diffs a readiness verdict would be guesswork.
const MIN_DIFFS_FOR_READINESS: i64 = 50;

/// `?days=` window.
#[derive(Debug, Deserialize)]
pub struct Window {
    days: Option<i32>,
}

impl Window {
    fn days(&self) -> i32 {
        self.days.unwrap_or(14).clamp(1, 365)
    }
}

/// Everything shown for one candidate.
#[derive(Debug, Serialize)]
pub struct CandidateCard {
    pub name: String,
    pub total: i64,
    pub counts: Vec<(&'static str, i64)>,
    pub regression_rate: Option<f64>,
    pub mean_semantic: Option<f64>,
    /// (day, regression rate) for the window.
    pub daily: Vec<(String, Option<f64>)>,
    pub performance: PerformanceSample,
    pub errors: Vec<Count>,
    pub top_findings: Vec<Count>,
    /// Cost per 1,000 requests (candidate, production) in USD.
    pub cost_per_1k: (Option<f64>, Option<f64>),
    /// Projected monthly cost at the window's volume (candidate, production) in USD.
    pub monthly: (Option<f64>, Option<f64>),
    /// Today's spend against the daily cap, when the candidate has one.
    pub budget: Option<BudgetToday>,
    pub ready: bool,
    pub readiness: Vec<String>,
    #[serde(skip)]
    pub bar_svg: String,
    #[serde(skip)]
    pub daily_svg: String,
}

/// A candidate's spend of the current UTC day against its daily cap.
#[derive(Debug, Serialize)]
pub struct BudgetToday {
    pub cap_usd: f64,
    pub spent_usd: f64,
    /// The cap is reached: workers skip this candidate until midnight UTC.
    pub exhausted: bool,
}

impl BudgetToday {
    /// "$spent of $cap" for the template.
    pub fn text(&self) -> String {
        format!(
            "{} of {}",
            CandidateCard::usd(&Some(self.spent_usd)),
            CandidateCard::usd(&Some(self.cap_usd))
        )
    }
}

/// Noise measured by the control replay.
#[derive(Debug, Serialize, Default)]
pub struct NoiseFloor {
    pub control_diffs: i64,
    pub mean_semantic: Option<f64>,
    pub flag_rate: Option<f64>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    csrf: String,
    days: i32,
    cards: Vec<CandidateCard>,
    noise: NoiseFloor,
    /// Regression clusters per candidate and prompt drift per route (the vector index).
    vectors: DashboardVectors,
}

fn flagged(counts: &BTreeMap<String, i64>) -> i64 {
    counts.get("regression").copied().unwrap_or(0)
        + counts.get("incompatible").copied().unwrap_or(0)
}

fn rate(counts: &BTreeMap<String, i64>) -> Option<f64> {
    let total: i64 = counts.values().sum();
    (total > 0).then(|| flagged(counts) as f64 / total as f64)
}

/// Readiness: blockers in plain words (empty = ready).
fn readiness(
    card: &CandidateCard,
    noise: &NoiseFloor,
    counts: &BTreeMap<String, i64>,
) -> Vec<String> {
    let mut blockers = Vec::new();
    if card.total < MIN_DIFFS_FOR_READINESS {
        blockers.push(format!(
            "only {} replays so far — at least {MIN_DIFFS_FOR_READINESS} are needed for a verdict",
            card.total
        ));
        return blockers;
    }
    let allowed = noise.flag_rate.map_or(0.02, |n| (2.0 * n).max(0.02));
    if let Some(r) = card.regression_rate.filter(|r| *r > allowed) {
        blockers.push(format!(
            "{:.1}% regressions (allowed {:.1}%: twice the noise floor, at least 2%)",
            r * 100.0,
            allowed * 100.0
        ));
    }
    let incompatible = counts.get("incompatible").copied().unwrap_or(0);
    if incompatible > 0 {
        blockers.push(format!(
            "{incompatible} requests the candidate cannot serve (incompatible)"
        ));
    }
    let errors = counts.get("error").copied().unwrap_or(0);
    if errors as f64 > 0.05 * card.total as f64 {
        blockers.push(format!(
            "{errors} replays failed (rate limits, timeouts, outages)"
        ));
    }
    if let (Some(c), Some(p)) = (card.performance.cand_p95, card.performance.prod_p95) {
        if p > 0.0 && c > 1.5 * p {
            blockers.push(format!("p95 latency {:.1}× production's", c / p));
        }
    }
    blockers
}

/// What the dashboard reads from the database for one candidate.
struct CandidateQueries {
    budget: Option<BudgetToday>,
    performance: PerformanceSample,
    errors: Vec<Count>,
    top_findings: Vec<Count>,
}

/// One candidate's dashboard queries, run concurrently.
async fn fetch_candidate(
    state: &UiState,
    name: &str,
    days: i32,
    midnight: chrono::DateTime<chrono::Utc>,
) -> Result<CandidateQueries, UiError> {
    let budget = async {
        match state.daily_budgets.get(name) {
            Some(&cap_usd) => state
                .store
                .spend_since(name, midnight)
                .await
                .map(|spent_usd| {
                    Some(BudgetToday {
                        cap_usd,
                        spent_usd,
                        exhausted: spent_usd >= cap_usd,
                    })
                }),
            None => Ok(None),
        }
    };
    let (budget, performance, errors, top_findings) = tokio::try_join!(
        budget,
        state.store.performance(name),
        state.store.error_classes(name, days),
        state.store.top_finding_kinds(name, days),
    )?;
    Ok(CandidateQueries {
        budget,
        performance,
        errors,
        top_findings,
    })
}

async fn build(state: &UiState, days: i32) -> Result<(Vec<CandidateCard>, NoiseFloor), UiError> {
    let daily: Vec<DailyVerdicts> = state.store.daily_verdicts(days).await?;
    let mut per: BTreeMap<String, BTreeMap<String, i64>> = state
        .candidates
        .iter()
        .map(|c| (c.clone(), BTreeMap::new()))
        .collect();
    let mut semantic: BTreeMap<String, (f64, i64)> = BTreeMap::new();
    let mut by_day: BTreeMap<(String, String), BTreeMap<String, i64>> = BTreeMap::new();
    for d in &daily {
        *per.entry(d.candidate.clone())
            .or_default()
            .entry(d.verdict.clone())
            .or_default() += d.diffs;
        let s = semantic.entry(d.candidate.clone()).or_default();
        s.0 += d.semantic_sum;
        s.1 += d.semantic_n;
        *by_day
            .entry((d.candidate.clone(), d.day.to_string()))
            .or_default()
            .entry(d.verdict.clone())
            .or_default() += d.diffs;
    }
    let mean = |name: &str| {
        semantic
            .get(name)
            .filter(|s| s.1 > 0)
            .map(|s| s.0 / s.1 as f64)
    };
    let noise = per
        .get(CONTROL)
        .map_or_else(NoiseFloor::default, |c| NoiseFloor {
            control_diffs: c.values().sum(),
            mean_semantic: mean(CONTROL),
            flag_rate: rate(c),
        });
    let today = chrono::Utc::now().date_naive();
    let day_labels: Vec<String> = (0..days)
        .rev()
        .map(|i| (today - chrono::Days::new(i as u64)).to_string())
        .collect();
    let midnight = today
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc();
    let shown: Vec<(&String, &BTreeMap<String, i64>)> =
        per.iter().filter(|(n, _)| n.as_str() != CONTROL).collect();
    // Every candidate's queries at once: the pool has the connections, PostgreSQL the cores.
    let fetched = futures_util::future::try_join_all(
        shown
            .iter()
            .map(|(name, _)| fetch_candidate(state, name, days, midnight)),
    )
    .await?;
    let mut cards = Vec::new();
    for ((name, counts), fetched) in shown.into_iter().zip(fetched) {
        let CandidateQueries {
            budget,
            performance,
            errors,
            top_findings,
        } = fetched;
        let total: i64 = counts.values().sum();
        let price = |input: Option<i64>, output: Option<i64>, n: i64| {
            let (pi, po) = state.production_prices;
            (n > 0 && (pi > 0.0 || po > 0.0)).then(|| {
                (input.unwrap_or(0) as f64 * pi + output.unwrap_or(0) as f64 * po) / 1e6 / n as f64
                    * 1000.0
            })
        };
        let cand_per_1k = performance
            .cand_cost_usd
            .filter(|c| performance.replays > 0 && *c > 0.0)
            .map(|c| c / performance.replays as f64 * 1000.0);
        let prod_per_1k = price(
            performance.prod_prompt_tokens,
            performance.prod_completion_tokens,
            performance.replays,
        );
        let per_day = total as f64 / f64::from(days);
        let monthly = |per_1k: Option<f64>| per_1k.map(|c| c / 1000.0 * per_day * 30.0);
        let daily: Vec<(String, Option<f64>)> = day_labels
            .iter()
            .map(|day| {
                (
                    day.clone(),
                    by_day.get(&(name.clone(), day.clone())).and_then(rate),
                )
            })
            .collect();
        let verdict_counts: Vec<(&'static str, i64)> = Verdict::ALL
            .iter()
            .map(|v| (v.as_str(), counts.get(v.as_str()).copied().unwrap_or(0)))
            .collect();
        let mut card = CandidateCard {
            name: name.clone(),
            total,
            bar_svg: svg::verdict_bar(&verdict_counts, 420),
            daily_svg: svg::rate_columns(&daily, 420, 120),
            counts: verdict_counts,
            regression_rate: rate(counts),
            mean_semantic: mean(name),
            daily,
            errors,
            top_findings,
            cost_per_1k: (cand_per_1k, prod_per_1k),
            monthly: (monthly(cand_per_1k), monthly(prod_per_1k)),
            performance,
            budget,
            ready: false,
            readiness: Vec::new(),
        };
        card.readiness = readiness(&card, &noise, counts);
        card.ready = card.readiness.is_empty();
        cards.push(card);
    }
    Ok((cards, noise))
}

/// `GET /`.
pub async fn page(
    State(state): State<Arc<UiState>>,
    Extension(principal): Extension<Principal>,
    Query(w): Query<Window>,
) -> Result<Html<String>, UiError> {
    let (cards, noise) = build(&state, w.days()).await?;
    let names: Vec<&str> = cards.iter().map(|c| c.name.as_str()).collect();
    let vectors = state.dashboard_vectors(&names, w.days()).await;
    render(&DashboardPage {
        csrf: principal.csrf().to_owned(),
        days: w.days(),
        cards,
        noise,
        vectors,
    })
}

/// `GET /api/dashboard`.
pub async fn api(
    State(state): State<Arc<UiState>>,
    Query(w): Query<Window>,
) -> Result<impl IntoResponse, ApiError> {
    let (cards, noise) = build(&state, w.days()).await?;
    let names: Vec<&str> = cards.iter().map(|c| c.name.as_str()).collect();
    let vectors = state.dashboard_vectors(&names, w.days()).await;
    Ok(Json(
        serde_json::json!({"days": w.days(), "noise_floor": noise, "candidates": cards,
        "clusters": vectors.clusters, "prompt_drift": vectors.drift}),
    ))
}

/// Helpers for the template.
impl CandidateCard {
    pub fn pct(v: &Option<f64>) -> String {
        v.map_or_else(|| "—".into(), |v| format!("{:.1}%", v * 100.0))
    }
    pub fn usd(v: &Option<f64>) -> String {
        v.map_or_else(|| "—".into(), |v| format!("${v:.2}"))
    }
    pub fn sem(&self) -> String {
        fmt_opt(self.mean_semantic, 3)
    }
    pub fn latency_rows(&self) -> Vec<(&'static str, String, String, String)> {
        let p = &self.performance;
        vec![
            (
                "p50",
                ms(p.prod_p50),
                ms(p.cand_p50),
                ratio(p.cand_p50, p.prod_p50),
            ),
            (
                "p95",
                ms(p.prod_p95),
                ms(p.cand_p95),
                ratio(p.cand_p95, p.prod_p95),
            ),
            (
                "p99",
                ms(p.prod_p99),
                ms(p.cand_p99),
                ratio(p.cand_p99, p.prod_p99),
            ),
            (
                "TTFT p50",
                ms(p.prod_ttft_p50),
                ms(p.cand_ttft_p50),
                ratio(p.cand_ttft_p50, p.prod_ttft_p50),
            ),
        ]
    }
    pub fn tokens(&self) -> (String, String, String) {
        let p = &self.performance;
        let total = |a: Option<i64>, b: Option<i64>| a.zip(b).map(|(a, b)| (a + b) as f64);
        let (pt, ct) = (
            total(p.prod_prompt_tokens, p.prod_completion_tokens),
            total(p.cand_prompt_tokens, p.cand_completion_tokens),
        );
        (fmt_opt(pt, 0), fmt_opt(ct, 0), ratio(ct, pt))
    }
}

impl NoiseFloor {
    pub fn describe(&self) -> String {
        if self.control_diffs == 0 {
            return "no control replays: enable [control] to measure how much production disagrees with itself".into();
        }
        format!(
            "production vs itself over {} control replays: {} flagged, mean semantic similarity {}",
            self.control_diffs,
            CandidateCard::pct(&self.flag_rate),
            fmt_opt(self.mean_semantic, 3)
        )
    }
}
