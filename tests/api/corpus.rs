//! Corpus replay and the quality gate, through the real binary: import → replay against fake
//! providers → gate (a faithful candidate passes, a regressing one fails with the right items
//! named in JUnit), usage errors exit 2, an interrupted run resumes with only what is missing,
//! malformed lines are reported with their numbers, the judge is cached, exports round-trip.

use std::path::PathBuf;
use std::process::Stdio;

use std::time::Duration;
use tokio::process::Command;

use serde_json::{json, Value};
use shadowtap::demo::fake::{completion, FakeProvider};
use shadowtap::demo::scenarios::{self, Persona};
use shadowtap::store::Store;

use crate::helpers::{count, wait_until, TestDb};

/// The scenarios whose regressing answers are injected regressions.
const INJECTED: [&str; 5] = [
    "invoice_extraction",
    "weather_tool",
    "password_reset",
    "release_summary",
    "order_lookup",
];
/// Scenarios every persona answers identically.
const UNCHANGED: [&str; 4] = ["translate_fr", "sentiment", "sql_query", "refund_policy"];

/// A test database, fake providers, a config file and a scratch folder.
struct Env {
    _db: TestDb,
    dir: PathBuf,
    config: PathBuf,
    store: Store,
    _providers: Vec<FakeProvider>,
}

impl Env {
    /// `extra` is appended to the config (more candidates, a [judge] section…).
    async fn new(extra: &str) -> (Self, Vec<String>) {
        let db = TestDb::new().await;
        let dir = std::env::temp_dir().join(format!(
            "shadowtap-corpus-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let production = FakeProvider::spawn(Persona::Production).await.unwrap();
        let faithful = FakeProvider::spawn(Persona::Faithful).await.unwrap();
        let regressing = FakeProvider::spawn(Persona::Regressing).await.unwrap();
        let urls = vec![
            production.base_url(),
            faithful.base_url(),
            regressing.base_url(),
        ];
        let config = dir.join("shadowtap.toml");
        let text = format!(
            "[database]\nurl = \"{}\"\n[tap]\nupstream = \"{}\"\n\
             [[candidates]]\nname = \"faithful\"\nbase_url = \"{}\"\n\
             [[candidates]]\nname = \"regressing\"\nbase_url = \"{}\"\n{extra}",
            db.url, urls[0], urls[1], urls[2]
        );
        std::fs::write(&config, text).unwrap();
        let store = Store::connect(&db.url, 2, Duration::from_secs(5))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let env = Self {
            _db: db,
            dir,
            config,
            store,
            _providers: vec![production, faithful, regressing],
        };
        (env, urls)
    }

    /// An environment with the golden corpus (`corpus_file()`) imported as `golden`.
    async fn with_golden(extra: &str) -> Self {
        let (env, _) = Self::new(extra).await;
        std::fs::write(env.dir.join("golden.jsonl"), corpus_file()).unwrap();
        assert_eq!(env.run(&["corpus", "import", "golden.jsonl"]).await.0, 0);
        env
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_shadowtap"));
        cmd.args(args)
            .current_dir(&self.dir)
            .env_remove("DATABASE_URL")
            .env("SHADOWTAP_CONFIG", &self.config)
            .env("SHADOWTAP_LOG", "error");
        cmd
    }

    /// Run the binary: (exit status, stdout, stderr).
    async fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.command(args).output().await.expect("the binary runs");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        println!("$ shadowtap {}\n{stdout}{stderr}", args.join(" "));
        (out.status.code().unwrap_or(-1), stdout, stderr)
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_owned()
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The demo scenarios as a corpus file: production's answers expected, checks per item, one
/// malformed line (line 7) and one line with an invalid check (line 10).
fn corpus_file() -> String {
    let mut lines = vec![json!({"shadowtap_corpus": 1, "name": "golden",
        "checks": [{"type": "max_latency_ms", "value": 10000}]})
    .to_string()];
    let checks = |name: &str| match name {
        "invoice_extraction" => json!([{"type": "json_schema", "schema": {"type": "object",
            "required": ["invoice_number", "total", "currency", "due_date"]}}]),
        "weather_tool" => json!([{"type": "tool_called", "name": "get_weather",
            "arguments": {"type": "object", "required": ["city"]}}]),
        "password_reset" => json!([{"type": "not_contains", "value": "I'm sorry"}]),
        "release_summary" => json!([{"type": "finish_reason_stop"}]),
        "order_lookup" => json!([{"type": "tool_called", "name": "lookup_order",
            "arguments": {"properties": {"order_id": {"const": "A-10023"}}}}]),
        "sentiment" => json!([{"type": "regex", "pattern": "^(positive|negative|neutral)$"},
            {"type": "contains", "value": "POSITIVE", "must_pass": false}]),
        _ => json!([]),
    };
    for (i, s) in scenarios::all().iter().enumerate() {
        if i == 5 {
            lines.push("{\"id\": \"broken\", \"request\": {".into());
        }
        if i == 7 {
            lines.push(
                json!({"id": "bad-check", "request": s.request("gpt-4o-mini"),
                "checks": [{"type": "regex", "pattern": "(unclosed"}]})
                .to_string(),
            );
        }
        let expected = completion("gpt-4o-mini", s.prompt, &s.production);
        lines.push(
            json!({"id": s.name, "request": s.request("gpt-4o-mini"), "expected": expected,
                "baseline": {"latency_ms": 2000.0}, "checks": checks(s.name), "tags": {"team": s.team}})
            .to_string(),
        );
    }
    lines.join("\n") + "\n"
}

/// (name, failure type) of every failing item test case in a JUnit file; checks the XML parses.
fn junit_failures(xml: &str) -> Vec<(String, String)> {
    let doc = roxmltree::Document::parse(xml).expect("JUnit output is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    assert_eq!(suites.len(), 2, "a gate suite and an items suite");
    for suite in &suites {
        assert_eq!(suite.tag_name().name(), "testsuite");
        let cases = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .count();
        assert_eq!(
            suite.attribute("tests").unwrap().parse::<usize>().unwrap(),
            cases
        );
        let failures = suite
            .descendants()
            .filter(|n| n.has_tag_name("failure"))
            .count();
        assert_eq!(
            suite
                .attribute("failures")
                .unwrap()
                .parse::<usize>()
                .unwrap(),
            failures
        );
    }
    suites[1]
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .filter_map(|case| {
            let failure = case
                .children()
                .find(|n| n.has_tag_name("failure") || n.has_tag_name("error"))?;
            Some((
                case.attribute("name").unwrap().to_owned(),
                failure.attribute("type").unwrap_or("error").to_owned(),
            ))
        })
        .collect()
}

#[tokio::test]
async fn faithful_candidate_passes_the_gate_and_injected_regressions_fail_it() {
    let (env, _) = Env::new("").await;
    std::fs::write(env.dir.join("golden.jsonl"), corpus_file()).unwrap();

    // Malformed lines are reported with their numbers and skipped…
    let (code, _, err) = env.run(&["corpus", "import", "golden.jsonl"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("golden.jsonl: line 7: not valid JSON"),
        "{err}"
    );
    assert!(err.contains("line 10: invalid regex"), "{err}");
    assert!(
        err.contains("corpus golden: 10 items") && err.contains("2 malformed lines skipped"),
        "{err}"
    );
    // …or reject the whole file with --strict.
    let (code, _, err) = env
        .run(&[
            "corpus",
            "import",
            "golden.jsonl",
            "--name",
            "strict",
            "--strict",
        ])
        .await;
    assert_eq!(code, 1);
    assert!(
        err.contains("rejected, 2 malformed lines (--strict)"),
        "{err}"
    );
    assert_eq!(
        count(
            &env.store,
            "SELECT count(*) FROM corpora WHERE name = 'strict'"
        )
        .await,
        0
    );

    // The faithful candidate passes.
    let (code, out, err) = env
        .run(&["replay", "--corpus", "golden", "--candidate", "faithful"])
        .await;
    assert_eq!(code, 0, "{err}");
    let faithful_run = out.trim().to_owned();
    let (code, out, _) = env
        .run(&[
            "gate",
            "--run",
            &faithful_run,
            "--junit",
            &env.path("faithful.xml"),
            "--markdown",
            &env.path("faithful.md"),
        ])
        .await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("shadowtap gate: PASSED"), "{out}");
    assert!(junit_failures(&env.read("faithful.xml")).is_empty());
    assert!(env
        .read("faithful.md")
        .starts_with("## ✅ shadowtap gate passed"));

    // The regressing candidate fails, with exactly the broken items named.
    let (code, out, err) = env
        .run(&["replay", "--corpus", "golden", "--candidate", "regressing"])
        .await;
    assert_eq!(code, 0, "{err}");
    let regressing_run = out.trim().to_owned();
    let (code, out, _) = env
        .run(&[
            "gate",
            "--run",
            &regressing_run,
            "--junit",
            &env.path("regressing.xml"),
            "--markdown",
            &env.path("regressing.md"),
        ])
        .await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("shadowtap gate: FAILED") && out.contains("✗ regression rate"),
        "{out}"
    );
    let failures = junit_failures(&env.read("regressing.xml"));
    let named: Vec<&str> = failures.iter().map(|(n, _)| n.as_str()).collect();
    for item in INJECTED {
        assert!(named.contains(&item), "{item} must fail: {failures:?}");
    }
    for item in UNCHANGED {
        assert!(!named.contains(&item), "{item} must pass: {failures:?}");
    }
    assert!(
        failures
            .iter()
            .any(|(n, t)| n == "order_lookup" && t == "regression"),
        "{failures:?}"
    );
    let md = env.read("regressing.md");
    assert!(
        md.starts_with("## ❌ shadowtap gate failed") && md.contains("`order_lookup`"),
        "{md}"
    );

    // Run items are ordinary exchanges + replays + diffs, tagged with their run.
    for run in [&faithful_run, &regressing_run] {
        let sql = format!("SELECT count(*) FROM exchanges e JOIN replays r ON r.exchange_id = e.id JOIN diffs d ON d.replay_id = r.id WHERE e.run_id = {run} AND e.source = 'corpus'");
        assert_eq!(count(&env.store, &sql).await, 10);
    }
    let checks: Value = sqlx::query_scalar("SELECT ri.checks FROM run_items ri WHERE ri.run_id = $1 AND ri.item_key = 'password_reset'")
        .bind(regressing_run.parse::<i64>().unwrap())
        .fetch_one(env.store.pool())
        .await
        .unwrap();
    let failed: Vec<&str> = checks
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["not_contains \"I'm sorry\""], "{checks}");

    // Comparing the runs names the items that got worse.
    let (code, out, _) = env
        .run(&[
            "gate",
            "--compare",
            &faithful_run,
            &regressing_run,
            "--junit",
            &env.path("compare.xml"),
        ])
        .await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("newly failing items"), "{out}");
    let compared: Vec<String> = junit_failures(&env.read("compare.xml"))
        .into_iter()
        .map(|f| f.0)
        .collect();
    assert!(
        compared.contains(&"weather_tool".to_owned()),
        "{compared:?}"
    );

    // The report: HTML and JSON.
    let (code, _, err) = env
        .run(&[
            "report",
            "--run",
            &regressing_run,
            "--output",
            &env.path("report.html"),
        ])
        .await;
    assert_eq!(code, 0, "{err}");
    let html = env.read("report.html");
    assert!(
        html.contains("Gate failed")
            && html.contains("order_lookup")
            && html.contains("p95 latency"),
        "report HTML"
    );
    assert!(!html.contains("<script"), "captured content is escaped");
    let (code, json_out, _) = env
        .run(&["report", "--run", &regressing_run, "--format", "json"])
        .await;
    assert_eq!(code, 0);
    let report: Value = serde_json::from_str(&json_out).unwrap();
    assert_eq!(report["stats"]["items"], 10);
    assert!(report["worst"].as_array().unwrap().len() >= 5);

    // The UI filters diffs by run: each run's diffs, and only them.
    let ui = shadowtap::ui::router(std::sync::Arc::new(shadowtap::ui::UiState {
        store: env.store.clone(),
        metrics: shadowtap::telemetry::Metrics::new(),
        page_size: 50,
        candidates: vec!["faithful".into(), "regressing".into()],
        auth: shadowtap::ui::Auth::new(
            crate::helpers::UI_TOKEN.into(),
            Duration::from_secs(60),
            false,
        ),
        production_prices: (0.0, 0.0),
        index: None,
        daily_budgets: Default::default(),
    }));
    for (run, candidate) in [(&faithful_run, "faithful"), (&regressing_run, "regressing")] {
        let req = axum::http::Request::get(format!("/api/diffs?run={run}"))
            .header(
                "authorization",
                format!("Bearer {}", crate::helpers::UI_TOKEN),
            )
            .body(axum::body::Body::empty())
            .unwrap();
        let resp = tower::ServiceExt::oneshot(ui.clone(), req).await.unwrap();
        assert_eq!(resp.status(), 200);
        let bytes = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        let page: Value = serde_json::from_slice(&bytes).unwrap();
        let diffs = page["diffs"].as_array().unwrap();
        let stored = count(
            &env.store,
            &format!("SELECT count(*) FROM diffs d JOIN exchanges e ON e.id = d.exchange_id WHERE e.run_id = {run} AND d.candidate = '{candidate}'"),
        )
        .await;
        assert!(stored > 0);
        assert_eq!(diffs.len() as i64, stored, "run {run}: {page}");
        assert!(
            diffs.iter().all(|d| d["candidate"] == candidate),
            "run {run} shows only {candidate}: {page}"
        );
    }
}

#[tokio::test]
async fn usage_errors_exit_2_with_a_message() {
    let (env, _) = Env::new("").await;
    std::fs::write(env.dir.join("golden.jsonl"), corpus_file()).unwrap();
    assert_eq!(env.run(&["corpus", "import", "golden.jsonl"]).await.0, 0);
    let cases: &[(&[&str], &str)] = &[
        (&["gate"], "--run"),
        (&["gate", "--run", "abc"], "invalid value"),
        (&["gate", "--run", "999"], "no run 999"),
        (
            &["gate", "--run", "1", "--compare", "1", "2"],
            "cannot be used with",
        ),
        (
            &["gate", "--run", "1", "--max-regression-rate", "150%"],
            "max-regression-rate",
        ),
        (
            &["replay", "--corpus", "nope", "--candidate", "faithful"],
            "no corpus named \"nope\"",
        ),
        (
            &["replay", "--corpus", "golden", "--candidate", "nobody"],
            "no candidate named \"nobody\"",
        ),
        (
            &[
                "replay",
                "--corpus",
                "golden",
                "--candidate",
                "faithful",
                "--baseline",
                "faithful",
            ],
            "itself",
        ),
        (&["corpus", "import", "golden.jsonl"], "pass --replace"),
        (&["corpus", "export", "--since", "yesterday"], "RFC 3339"),
    ];
    for (args, needle) in cases {
        let (code, _, err) = env.run(args).await;
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // Not a usage error: the file cannot be read.
    assert_eq!(env.run(&["corpus", "import", "missing.jsonl"]).await.0, 1);
}

#[tokio::test]
async fn an_interrupted_run_resumes_with_only_what_is_missing() {
    let slow = FakeProvider::spawn(Persona::Faithful).await.unwrap();
    let extra = format!(
        "[[candidates]]\nname = \"slow\"\nbase_url = \"{}\"\nmodel = \"slow-300\"\nconcurrency = 1\n",
        slow.base_url()
    );
    let env = Env::with_golden(&extra).await;

    let args = [
        "replay",
        "--corpus",
        "golden",
        "--candidate",
        "slow",
        "--no-semantic",
    ];
    let mut child = env
        .command(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until(Duration::from_secs(30), "three items done", || async {
        count(
            &env.store,
            "SELECT count(*) FROM run_items WHERE status = 'done'",
        )
        .await
            >= 3
    })
    .await;
    child.kill().await.unwrap();
    let stored = count(
        &env.store,
        "SELECT count(*) FROM replays WHERE candidate = 'slow'",
    )
    .await;
    let done = count(
        &env.store,
        "SELECT count(*) FROM run_items WHERE status = 'done'",
    )
    .await;
    assert!((3..10).contains(&done), "killed mid-run: {done} done");
    let calls_before = slow.calls();

    let (code, out, err) = env.run(&args).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("resuming run 1: {done} of 10 items already done")),
        "{err}"
    );
    assert_eq!(out.trim(), "1", "the same run");
    assert_eq!(
        slow.calls() - calls_before,
        10 - stored as u64,
        "only items without a stored replay are sent again"
    );
    for (sql, want) in [
        ("SELECT count(*) FROM replays WHERE candidate = 'slow'", 10),
        ("SELECT count(*) FROM diffs WHERE candidate = 'slow'", 10),
        ("SELECT count(*) FROM run_items WHERE status = 'done'", 10),
        ("SELECT count(*) FROM runs WHERE status = 'done'", 1),
    ] {
        assert_eq!(count(&env.store, sql).await, want, "{sql}");
    }
    // Nothing left: a re-run after completion starts a new run.
    let (code, out, _) = env.run(&args).await;
    assert_eq!((code, out.trim()), (0, "2"));
}

#[tokio::test]
async fn a_run_pauses_at_the_candidates_daily_budget_and_resumes_without_paying_twice() {
    let capped = FakeProvider::spawn(Persona::Faithful).await.unwrap();
    // A dollar per prompt token: each answer costs tens of dollars, the cap allows a few.
    let extra = format!(
        "[[candidates]]\nname = \"capped\"\nbase_url = \"{}\"\nconcurrency = 1\n\
         input_price_per_mtok = 1000000.0\ndaily_budget_usd = 50.0\n",
        capped.base_url()
    );
    let env = Env::with_golden(&extra).await;
    let args = [
        "replay",
        "--corpus",
        "golden",
        "--candidate",
        "capped",
        "--no-semantic",
    ];

    let (code, _, err) = env.run(&args).await;
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("paused: candidate capped reached its daily budget"),
        "{err}"
    );
    let paid = capped.calls();
    let spent: f64 = sqlx::query_scalar(
        "SELECT coalesce(sum(cost_usd), 0) FROM replays WHERE candidate = 'capped'",
    )
    .fetch_one(env.store.pool())
    .await
    .unwrap();
    let pending = count(
        &env.store,
        "SELECT count(*) FROM run_items WHERE status = 'pending'",
    )
    .await;
    println!("paused after {paid} paid answers, {spent:.2} USD spent, {pending} items pending");
    assert!((1..10).contains(&paid), "stopped at the cap: {paid} calls");
    assert!(pending > 0);
    assert_eq!(
        count(
            &env.store,
            "SELECT count(*) FROM runs WHERE status = 'done'"
        )
        .await,
        0
    );
    // Only requests already in flight when the cap was reached may go past it (one here).
    let per_answer = spent / paid as f64;
    assert!(spent < 50.0 + per_answer + 1e-6, "{spent} spent");

    // The same command still refuses today: the spend is read back from the database.
    let (code, _, err) = env.run(&args).await;
    assert_eq!(code, 1, "{err}");
    assert_eq!(capped.calls(), paid, "nothing more paid after the cap");

    // A higher budget resumes the same run and pays only for what is missing.
    let mut cmd = env.command(&args);
    cmd.env("SHADOWTAP_CANDIDATES__2__DAILY_BUDGET_USD", "0");
    let out = cmd.output().await.unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "1",
        "the same run"
    );
    assert_eq!(capped.calls(), 10, "each item paid once");
    assert_eq!(
        count(
            &env.store,
            "SELECT count(*) FROM runs WHERE status = 'done'"
        )
        .await,
        1
    );
}

/// A judge provider that always answers `{"score": 2, ...}` and counts its calls.
async fn spawn_judge() -> (String, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    use std::sync::atomic::{AtomicU64, Ordering};
    let calls = std::sync::Arc::new(AtomicU64::new(0));
    let counter = calls.clone();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                assert_eq!(body["response_format"]["type"], "json_object");
                axum::Json(json!({"choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant",
                    "content": "{\"score\": 2, \"reason\": \"the candidate drifts from the reference\"}"}}]}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, calls)
}

#[tokio::test]
async fn the_judge_scores_caches_and_disagreements_are_surfaced() {
    let (judge_url, calls) = spawn_judge().await;
    let (env, _) = Env::new(&format!(
        "[judge]\nbase_url = \"{judge_url}\"\nmodel = \"judge-1\"\n"
    ))
    .await;
    std::fs::write(env.dir.join("golden.jsonl"), corpus_file()).unwrap();
    let (code, out, err) = env
        .run(&[
            "replay",
            "--corpus",
            &env.path("golden.jsonl"),
            "--candidate",
            "faithful",
            "--judge",
        ])
        .await;
    assert_eq!(code, 0, "{err}");
    let run = out.trim().to_owned();
    let judged = calls.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(judged, 10, "one judgement per answered item");
    let disagreements = count(
        &env.store,
        "SELECT count(*) FROM run_items WHERE (judge ->> 'disagrees')::bool",
    )
    .await;
    assert!(
        disagreements >= 1,
        "a low judge score on a near-identical text answer is flagged"
    );
    let (code, out, _) = env
        .run(&["gate", "--run", &run, "--min-judge-score", "3"])
        .await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("✗ mean judge score") && out.contains("disagrees with the embedding score"),
        "{out}"
    );

    // A new run of the same corpus reuses the cached judgements.
    let (code, _, err) = env
        .run(&[
            "replay",
            "--corpus",
            "golden",
            "--candidate",
            "faithful",
            "--judge",
            "--new",
        ])
        .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::SeqCst),
        judged,
        "cached by content hash"
    );
    assert_eq!(
        count(
            &env.store,
            "SELECT count(*) FROM run_items WHERE run_id = 2 AND (judge ->> 'cached')::bool"
        )
        .await,
        10
    );
}

#[tokio::test]
async fn captured_traffic_exports_sampled_and_filtered_and_replays() {
    let app = crate::helpers::spawn_app(crate::helpers::TestBus::Memory).await;
    for s in scenarios::all().iter().chain(scenarios::all()) {
        let (status, _) = app.chat_through_tap(&s.request("gpt-4o-mini")).await;
        assert_eq!(status, 200);
    }
    wait_until(Duration::from_secs(60), "every diff", || async {
        count(&app.store, "SELECT count(*) FROM diffs").await == 40
    })
    .await;
    // Tags come from headers the test client does not send: tag the captures by hand.
    sqlx::query("UPDATE exchanges SET tags = jsonb_build_object('team', 'support') WHERE (request_body -> 'messages' -> 1 ->> 'content') LIKE '%refund%'")
        .execute(app.store.pool())
        .await
        .unwrap();
    let (env, _) = Env::new("").await;
    let config = env.dir.join("captured.toml");
    let text = std::fs::read_to_string(&env.config).unwrap();
    let db_line = text.lines().find(|l| l.starts_with("url = ")).unwrap();
    std::fs::write(
        &config,
        text.replace(
            db_line,
            &format!("url = \"{}\"", database_url(&app.store).await),
        ),
    )
    .unwrap();
    let export = |args: &'static [&'static str]| {
        let mut cmd = env.command(&["corpus", "export"]);
        cmd.args(args).env("SHADOWTAP_CONFIG", &config);
        async move {
            let out = cmd.output().await.unwrap();
            println!("{}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(out.status.code(), Some(0));
            let parsed =
                shadowtap::corpus::format::parse(&String::from_utf8_lossy(&out.stdout)).unwrap();
            assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
            parsed
        }
    };
    assert_eq!(export(&[]).await.items.len(), 20);
    assert_eq!(
        export(&["--sample", "6", "--seed", "3"]).await.items.len(),
        6
    );
    let regressions = export(&["--verdict", "regression", "--candidate", "regressing"]).await;
    assert!(
        !regressions.items.is_empty() && regressions.items.len() < 20,
        "only exchanges the regressing candidate regressed on"
    );
    let support = export(&["--tag", "team=support"]).await;
    assert_eq!(support.items.len(), 2);
    assert!(support
        .items
        .iter()
        .all(|i| i.expected.is_some() && i.baseline.as_ref().unwrap().latency_ms.is_some()));
    assert!(
        export(&[
            "--since",
            "1h",
            "--route",
            "/v1/chat/completions",
            "--model",
            "gpt-4o-mini"
        ])
        .await
        .items
        .len()
            == 20
    );
    assert!(export(&["--model", "gpt-5"]).await.items.is_empty());

    // The export imports and replays as a corpus (against the candidate providers of `env`).
    let file = env.dir.join("export.jsonl");
    std::fs::write(&file, to_text(&export(&["--sample", "5"]).await)).unwrap();
    let (code, _, err) = env
        .run(&[
            "replay",
            "--corpus",
            file.to_str().unwrap(),
            "--candidate",
            "faithful",
            "--no-semantic",
        ])
        .await;
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("corpus export: 5 items"), "{err}");
}

fn to_text(p: &shadowtap::corpus::format::Parsed) -> String {
    let mut text = shadowtap::corpus::format::header_line(&p.header);
    for i in &p.items {
        text.push('\n');
        text.push_str(&shadowtap::corpus::format::item_line(i));
    }
    text
}

async fn database_url(store: &Store) -> String {
    let name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let admin = crate::helpers::admin_database_url();
    format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
}

#[tokio::test]
async fn near_duplicate_requests_collapse_on_import() {
    let (env, _) = Env::new("").await;
    let line = |id: &str, text: &str| {
        json!({"id": id, "request": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}})
            .to_string()
    };
    let file = [
        line("a", "How do I reset my account password?"),
        line("b", "how do I reset my account password"),
        line(
            "c",
            "Translate to French: The meeting has been moved to Thursday at 10am.",
        ),
    ]
    .join("\n");
    std::fs::write(env.dir.join("dups.jsonl"), file).unwrap();
    let (code, _, err) = env
        .run(&["corpus", "import", "dups.jsonl", "--dedupe", "0.95"])
        .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("collapsed 1 near-duplicate requests") && err.contains("corpus dups: 2 items"),
        "{err}"
    );
    let keys: Vec<String> = sqlx::query_scalar("SELECT key FROM corpus_items ORDER BY position")
        .fetch_all(env.store.pool())
        .await
        .unwrap();
    assert_eq!(keys, ["a", "c"]);
}
