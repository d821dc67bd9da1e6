//! `shadowtap eval` on the repository's labelled evaluation set: the differ's accuracy is a
//! feature, measured with the real embedding model.

use std::process::Command;

use serde_json::Value;

/// Every category the evaluation set must cover.
const CATEGORIES: &[&str] = &[
    "paraphrase",
    "noise",
    "wrong_number",
    "negation",
    "dropped_step",
    "wrong_tool_argument",
    "dropped_tool_call",
    "hallucinated_tool",
    "invalid_json",
    "json_structure",
    "refusal",
    "truncation",
    "empty",
    "language_switch",
    "formatting",
    "content_filter",
];

fn eval(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_shadowtap"))
        .arg("eval")
        .args(args)
        .env("SHADOWTAP_LOG", "error")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_differ_meets_its_accuracy_targets() {
    let (code, out, err) = eval(&["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["semantic"], true, "measured with the embedding model");
    let (precision, recall, noise) = (
        r["precision"].as_f64().unwrap(),
        r["recall"].as_f64().unwrap(),
        r["noise_flag_rate"].as_f64().unwrap(),
    );
    println!(
        "precision {precision:.3}, recall {recall:.3}, noise flag rate {noise:.3}\nmisclassified: {:#}",
        r["misclassified"]
    );
    assert!(r["cases"].as_u64().unwrap() >= 160, "{}", r["cases"]);
    assert!(recall >= 0.95, "recall {recall}");
    assert!(precision >= 0.90, "precision {precision}");
    assert!(noise < 0.05, "noise flag rate {noise}");
    let categories = r["categories"].as_object().unwrap();
    for c in CATEGORIES {
        assert!(categories.contains_key(*c), "category {c} is missing");
    }
    for (c, min) in [
        ("paraphrase", 50),
        ("noise", 40),
        ("wrong_number", 10),
        ("negation", 10),
        ("dropped_step", 10),
        ("wrong_tool_argument", 10),
    ] {
        let n = categories[c]["cases"].as_u64().unwrap();
        assert!(n >= min, "{c}: {n} cases, want at least {min}");
    }
}

#[test]
fn text_report_and_trouble() {
    let (code, out, _) = eval(&["--no-semantic"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("confusion matrix")
            && out.contains("precision")
            && out.contains("recall")
            && out.contains("noise flag rate")
            && out.contains("(semantic comparison off)"),
        "{out}"
    );
    let (code, _, err) = eval(&["--data", "/nonexistent/pairs.jsonl"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
}
