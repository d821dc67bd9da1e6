//! `shadowtap diff` on files: verdicts, JSON output and diff(1)-style exit statuses.

use std::process::Command;

fn diff(args: &[&str]) -> (i32, String, String) {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/diff/");
    let args: Vec<String> = args
        .iter()
        .map(|a| {
            if a.ends_with(".json") || a.ends_with(".sse") {
                format!("{data}{a}")
            } else {
                a.to_string()
            }
        })
        .collect();
    let out = Command::new(env!("CARGO_BIN_EXE_shadowtap"))
        .arg("diff")
        .args(&args)
        .env("SHADOWTAP_LOG", "error")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    println!("{stdout}{stderr}");
    (out.status.code().unwrap(), stdout, stderr)
}

#[test]
fn a_paraphrase_is_not_a_regression() {
    let (code, out, _) = diff(&[
        "production.json",
        "paraphrase.json",
        "--request",
        "request.json",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("semantic similarity: 0."),
        "the real embedding model scored it: {out}"
    );
    assert!(!out.contains("verdict: regression"), "{out}");
}

#[test]
fn a_truncated_stream_transcript_is_a_regression() {
    let (code, out, _) = diff(&["production.json", "truncated.sse"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("verdict: regression") && out.contains("cut off"),
        "{out}"
    );
}

#[test]
fn json_output_and_incompatible_candidates() {
    let (code, out, _) = diff(&[
        "production.json",
        "unsupported.json",
        "--format",
        "json",
        "--no-semantic",
    ]);
    assert_eq!(code, 1, "incompatible counts like a regression");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "incompatible");
    assert_eq!(v["findings"][0]["kind"], "incompatible");
}

#[test]
fn trouble_exits_2() {
    let (code, _, err) = diff(&["missing.json", "production.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
    let (code, _, err) = diff(&["production.json", "request.json", "--no-semantic"]);
    assert_eq!(
        code, 1,
        "a request is not a completion: response shape regression ({err})"
    );
}
