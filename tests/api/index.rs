//! The vector index end to end: the real pipeline (tap → worker → differ with the real embedding
//! model) writing to the embedded Qdrant engine in a temporary folder; similar regressions, clusters
//! and prompt drift through the UI's JSON API and pages; the index surviving a restart. The Qdrant
//! server backend is exercised when `QDRANT_URL` is set (e.g. `http://127.0.0.1:6334`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use shadowtap::config::{IndexBackend, IndexConfig};
use shadowtap::demo::scenarios;
use shadowtap::index::{
    Backend, Collection, EmbeddedIndex, Filter, IndexPoint, PointId, QdrantIndex, VectorIndex,
};
use shadowtap::telemetry::Metrics;
use shadowtap::ui::{self, Auth, UiState};
use tower::ServiceExt;

use crate::helpers::{count, spawn_app_with, wait_until, TestApp, TestBus, UI_TOKEN};

/// Long prompts on a topic the demo scenarios never touch: the "recent" traffic that drifted.
const COOKING: [&str; 8] = [
    "I am planning a dinner party for eight people next Saturday and want to cook a slow braised lamb shoulder with rosemary, garlic and white beans. How long should it braise, at what oven temperature, and what can I prepare the day before so that I am not stuck in the kitchen while my guests are here?",
    "My sourdough starter has been sluggish for a week even though I feed it twice a day with equal weights of flour and water and keep it on the kitchen counter. It barely rises and smells like nail polish remover. What is going wrong and how do I revive it before I bake bread for the weekend?",
    "What is the difference between baking soda and baking powder, when should a recipe use one or the other or both, and can I substitute one for the other in banana bread if I ran out of baking powder this morning and the shops are already closed?",
    "Give me a weekly vegetarian meal plan for a family of four with two teenagers who play football, with enough protein, mostly cheap seasonal vegetables, lentils and eggs, and dinners that can be cooked in under forty minutes on weeknights after work.",
    "How do I make a proper French omelette that is soft and creamy inside, with no brown colour on the outside? Which pan size should I use, how much butter, how hot should the pan be, and how do I roll it onto the plate without tearing it apart?",
    "I want to start fermenting vegetables at home. Explain how to make sauerkraut safely in a glass jar: how much salt per kilogram of cabbage, how to keep the cabbage under the brine, how long to ferment at room temperature, and how to tell whether mould means I should throw it away.",
    "My risotto always turns out either gluey or with chalky grains in the middle. Walk me through the technique step by step, including which rice to buy, whether to wash it, how hot the stock should be, how often to stir, and when to add the butter and parmesan at the end.",
    "What is the best way to season and maintain a cast iron skillet that I inherited from my grandmother? It has some rust spots and old sticky residue. Which oil should I use, what oven temperature, how many coats, and how should I clean it after cooking eggs or fish?",
];

/// A temporary folder, removed when dropped (also when the test fails).
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        Self(std::env::temp_dir().join(format!("shadowtap-{tag}-{}", uuid::Uuid::new_v4())))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn index_config(dir: &std::path::Path) -> IndexConfig {
    let mut c = IndexConfig {
        backend: IndexBackend::Embedded,
        dir: Some(dir.to_path_buf()),
        flush_secs: 0.2,
        prompts_per_minute: 0, // every prompt: the drift checks count them
        ..IndexConfig::default()
    };
    c.drift.min_prompts = 3;
    c
}

async fn index_count(index: &VectorIndex, c: Collection) -> usize {
    index.count(c, None).await.unwrap()
}

/// `GET path` on a router with the bearer token; the JSON body.
async fn api(router: &axum::Router, path: &str) -> Value {
    let req = Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {UI_TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

/// Diff ids of `candidate`'s diffs with `verdict` whose request asked `prompt`.
async fn diffs_for(app: &TestApp, candidate: &str, verdict: &str, prompt: &str) -> Vec<i64> {
    sqlx::query_scalar(
        "SELECT d.id FROM diffs d JOIN exchanges e ON e.id = d.exchange_id
          WHERE d.candidate = $1 AND d.verdict = $2
            AND e.request_body::text LIKE '%' || $3 || '%'
          ORDER BY d.id",
    )
    .bind(candidate)
    .bind(verdict)
    .bind(prompt)
    .fetch_all(app.store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn index_embedded_similar_regressions_clusters_drift_and_restart() {
    let tmp = TempDir::new("index-it");
    let dir = tmp.0.clone();
    let config = index_config(&dir);
    let app = spawn_app_with(TestBus::Memory, |c| c.index = config.clone()).await;
    let index = app.app.index().expect("the index is on").clone();
    assert_eq!(index.backend_name(), "embedded");

    // Baseline traffic: every demo scenario three times.
    const ROUNDS: usize = 3;
    for _ in 0..ROUNDS {
        for s in scenarios::all() {
            let (status, _) = app.chat_through_tap(&s.request("gpt-4o-mini")).await;
            assert_eq!(status, 200);
        }
    }
    let baseline_n = ROUNDS * scenarios::all().len();
    wait_until(
        Duration::from_secs(60),
        "baseline prompts indexed",
        || async { index_count(&index, Collection::Prompts).await == baseline_n },
    )
    .await;
    let flagged = count(
        &app.store,
        "SELECT count(*) FROM diffs WHERE verdict IN ('regression', 'minor')",
    )
    .await as usize;
    assert!(flagged >= 5 * ROUNDS, "{flagged} regression/minor diffs");
    wait_until(Duration::from_secs(30), "regressions indexed", || async {
        index_count(&index, Collection::Regressions).await == flagged
    })
    .await;

    // Similar regressions of a refusal: its two repeats (same answer, same findings) come first.
    let refusals = diffs_for(
        &app,
        "regressing",
        "regression",
        "reset my account password",
    )
    .await;
    assert_eq!(refusals.len(), ROUNDS, "{refusals:?}");
    let (status, body) = app.ui_get(&format!("/api/similar/{}", refusals[0])).await;
    assert_eq!(status, 200, "{body}");
    let similar: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(similar["similar"]["status"], "ok", "{similar}");
    let hits = similar["similar"]["items"].as_array().unwrap().clone();
    assert_eq!(hits.len(), config.top_k, "{similar}");
    let mut first_two: Vec<i64> = hits[..2]
        .iter()
        .map(|h| h["diff_id"].as_i64().unwrap())
        .collect();
    first_two.sort();
    assert_eq!(first_two, refusals[1..].to_vec(), "{similar}");
    for h in &hits[..2] {
        assert!(h["score"].as_f64().unwrap() > 0.99, "{h}");
        assert_eq!(h["shares_kind"], true, "{h}");
        assert_eq!(h["candidate"], "regressing");
    }
    let scores: Vec<f64> = hits.iter().map(|h| h["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert!(hits.iter().all(|h| h["diff_id"] != refusals[0]));
    // The detail page lists them with links; a diff that is not a regression is "not indexed".
    let (_, page) = app.ui_get(&format!("/diffs/{}", refusals[0])).await;
    assert!(page.contains("Similar regressions"), "{page}");
    assert!(
        page.contains(&format!("href=\"/diffs/{}\"", refusals[1])),
        "detail page links the similar regression"
    );
    let same = diffs_for(&app, "faithful", "same", "reset my account password").await;
    if let Some(id) = same.first() {
        let (_, body) = app.ui_get(&format!("/api/similar/{id}")).await;
        assert!(body.contains("not_indexed"), "{body}");
    }
    let (status, _) = app.ui_get("/api/similar/999999999").await;
    assert_eq!(status, 404);

    // Clusters: each repeated regression of the regressing candidate groups with its repeats.
    let (_, body) = app.ui_get("/api/dashboard").await;
    let dash: Value = serde_json::from_str(&body).unwrap();
    let clusters = dash["clusters"]["regressing"]["items"].as_array().unwrap();
    assert!(!clusters.is_empty(), "{dash}");
    let refusal_cluster = clusters
        .iter()
        .find(|c| {
            c["members"]
                .as_array()
                .unwrap()
                .contains(&json!(refusals[0]))
        })
        .expect("the refusals form a cluster shown on the dashboard");
    for id in &refusals {
        assert!(
            refusal_cluster["members"]
                .as_array()
                .unwrap()
                .contains(&json!(id)),
            "{refusal_cluster}"
        );
    }
    assert!(
        clusters
            .iter()
            .all(|c| c["size"].as_u64().unwrap() >= ROUNDS as u64),
        "{clusters:?}"
    );
    let (_, page) = app.ui_get("/").await;
    assert!(page.contains("Regression clusters") && page.contains("Prompt drift"));

    // Drift: a recent window of long cooking questions against the scenario prompts.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let split = std::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(1)).await;
    for prompt in COOKING {
        let body =
            json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]});
        assert_eq!(app.chat_through_tap(&body).await.0, 200);
    }
    wait_until(
        Duration::from_secs(60),
        "recent prompts indexed",
        || async { index_count(&index, Collection::Prompts).await == baseline_n + COOKING.len() },
    )
    .await;
    // With the default windows (a day, then a week) everything is recent: no verdict yet.
    let (_, body) = app.ui_get("/api/drift").await;
    let drift: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        drift["drift"]["items"][0]["status"], "insufficient_data",
        "{drift}"
    );
    // Windows split between the two batches: the route drifted, in meaning and in length.
    let mut windows = config.clone();
    windows.drift.recent_secs = split.elapsed().as_secs_f64();
    windows.drift.baseline_secs = 600.0;
    let metrics = Metrics::new();
    let router = ui::router(Arc::new(UiState {
        store: app.store.clone(),
        metrics: metrics.clone(),
        page_size: 50,
        candidates: vec!["faithful".into(), "regressing".into()],
        auth: Auth::new(UI_TOKEN.into(), Duration::from_secs(3600), false),
        production_prices: (0.0, 0.0),
        index: Some(VectorIndex::new(index.backend().clone(), windows)),
        daily_budgets: Default::default(),
    }));
    let drift = api(&router, "/api/drift").await;
    let route = &drift["drift"]["items"][0];
    assert_eq!(route["route"], "/v1/chat/completions", "{drift}");
    assert_eq!(route["recent"], COOKING.len(), "{drift}");
    assert_eq!(route["baseline"], baseline_n, "{drift}");
    assert_eq!(route["status"], "drifted", "{drift}");
    assert!(
        route["centroid_distance"].as_f64().unwrap() > 0.1,
        "{drift}"
    );
    assert!(
        route["mean_tokens_delta"].as_f64().unwrap() > 30.0,
        "{drift}"
    );
    assert!(route["ks_p_value"].as_f64().unwrap() < 0.01, "{drift}");
    assert!(
        metrics
            .render()
            .contains("shadowtap_prompt_drift{route=\"/v1/chat/completions\"}"),
        "the drift gauge is set"
    );
    let rendered = app.app.metrics().render();
    assert!(
        rendered.contains(&format!(
            "shadowtap_index_points_total{{collection=\"prompts\"}} {}",
            baseline_n + COOKING.len()
        )),
        "{rendered}"
    );
    drop(router);

    // Restart: shut everything down, reopen the folder, find the same neighbours.
    let before = index
        .similar_regressions(refusals[0], 2, None)
        .await
        .unwrap()
        .unwrap();
    let regressions = index_count(&index, Collection::Regressions).await;
    drop(index);
    assert!(app.app.shutdown(Duration::from_secs(10)).await);
    drop(app);
    let mut reopened = None;
    for _ in 0..50 {
        match EmbeddedIndex::open(dir.clone()).await {
            Ok(i) => {
                reopened = Some(i);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let index = VectorIndex::new(
        Backend::Embedded(reopened.expect("the folder is released after shutdown")),
        config,
    );
    assert_eq!(
        index_count(&index, Collection::Regressions).await,
        regressions
    );
    assert_eq!(
        index_count(&index, Collection::Prompts).await,
        baseline_n + COOKING.len()
    );
    let after = index
        .similar_regressions(refusals[0], 2, None)
        .await
        .unwrap()
        .unwrap();
    let ids = |h: &[shadowtap::index::Hit]| {
        let mut ids: Vec<(i64, PointId)> =
            h.iter().map(|h| ((h.score * 1e4) as i64, h.id)).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&after), ids(&before));
}

/// Unit vectors pointing mostly along `axis`, a little along `axis + 1`.
fn vector(axis: usize, tilt: f32) -> Vec<f32> {
    let mut v = vec![0f32; shadowtap::index::DIMENSIONS];
    v[axis] = 1.0;
    v[axis + 1] = tilt;
    let n = (1.0 + tilt * tilt).sqrt();
    v.iter_mut().for_each(|x| *x /= n);
    v
}

fn regression(id: u64, axis: usize, tilt: f32, candidate: &str, ts: i64) -> IndexPoint {
    let Value::Object(payload) = json!({"diff_id": id, "exchange_id": uuid::Uuid::new_v4(),
        "candidate": candidate, "verdict": "regression", "route": "/v1/chat/completions",
        "model": "m", "finding_kinds": ["refusal"], "excerpt": "no", "ts_ms": ts})
    else {
        unreachable!()
    };
    IndexPoint {
        id: PointId::Num(id),
        vector: vector(axis, tilt),
        payload,
    }
}

/// The same checks against a Qdrant server, when one is reachable at `QDRANT_URL`.
#[tokio::test]
async fn index_qdrant_backend_against_a_server() {
    let Ok(url) = std::env::var("QDRANT_URL") else {
        eprintln!(
            "skipped: QDRANT_URL not set (run a Qdrant server, e.g. compose.yaml's `qdrant` service, \
             and export QDRANT_URL=http://127.0.0.1:6334 to test the qdrant backend)"
        );
        return;
    };
    let prefix = format!("shadowtap_test_{}_", uuid::Uuid::new_v4().simple());
    let remote = QdrantIndex::connect(&url, std::env::var("QDRANT_API_KEY").ok(), &prefix)
        .await
        .expect("the Qdrant server at QDRANT_URL answers");
    let index = VectorIndex::new(
        Backend::Qdrant(remote.clone()),
        IndexConfig {
            backend: IndexBackend::Qdrant,
            url: url.clone(),
            ..IndexConfig::default()
        },
    );
    let points = vec![
        regression(1, 0, 0.0, "a", 1),
        regression(2, 0, 0.1, "a", 2),
        regression(3, 0, 0.2, "b", 3),
        regression(4, 10, 0.0, "a", 4),
    ];
    index
        .upsert(Collection::Regressions, points)
        .await
        .expect("upsert");
    assert_eq!(index.count(Collection::Regressions, None).await.unwrap(), 4);
    let hits = index
        .similar_regressions(1, 2, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        hits.iter().map(|h| h.id).collect::<Vec<_>>(),
        vec![PointId::Num(2), PointId::Num(3)]
    );
    let only_a = index
        .search(
            Collection::Regressions,
            &vector(0, 0.0),
            5,
            Some(Filter::default().eq("candidate", "a")),
        )
        .await
        .unwrap();
    assert!(only_a.iter().all(|h| h.payload["candidate"] == "a"));
    let recent = index
        .recent(
            Collection::Regressions,
            Some(Filter::default().time(Some(2), None)),
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        recent.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![PointId::Num(4), PointId::Num(3), PointId::Num(2)]
    );
    let clusters = index.regression_clusters("a", 0).await.unwrap();
    assert_eq!(clusters.len(), 2, "{clusters:?}");
    assert_eq!(clusters[0].members, vec![2, 1]);
    remote.drop_collections().await.unwrap();
}

#[tokio::test]
async fn index_retention_removes_old_points_and_keeps_recent_ones() {
    let dir = TempDir::new("retention");
    let mut config = index_config(&dir.0);
    config.regression_days = 30.0;
    config.drift.recent_secs = 86_400.0;
    config.drift.baseline_secs = 7.0 * 86_400.0;
    let index = VectorIndex::new(
        Backend::Embedded(EmbeddedIndex::open(dir.0.clone()).await.unwrap()),
        config,
    );
    let now = chrono::Utc::now().timestamp_millis();
    let day = 86_400_000;
    let points: Vec<IndexPoint> = [1, 10, 29, 31, 90]
        .iter()
        .map(|&age| regression(age as u64, 2, 0.1, "c", now - age * day))
        .collect();
    index.upsert(Collection::Regressions, points).await.unwrap();
    // Prompts share the regressions' payload shape here: only ts_ms matters for retention.
    let prompts: Vec<IndexPoint> = [0, 2, 7, 9, 20]
        .iter()
        .map(|&age| regression(100 + age as u64, 4, 0.1, "c", now - age * day - 1000))
        .collect();
    index.upsert(Collection::Prompts, prompts).await.unwrap();
    index.expire(now).await.unwrap();
    let index = &index;
    let left = |c| async move {
        let mut ids: Vec<u64> = index
            .recent(c, None, 100)
            .await
            .unwrap()
            .iter()
            .map(|r| match r.id {
                PointId::Num(n) => n,
                PointId::Uuid(_) => 0,
            })
            .collect();
        ids.sort_unstable();
        ids
    };
    assert_eq!(
        left(Collection::Regressions).await,
        vec![1, 10, 29],
        "older than 30 days removed"
    );
    assert_eq!(
        left(Collection::Prompts).await,
        vec![100, 102, 107],
        "older than the drift windows (8 days) removed"
    );
}
