//! `shadowtap diff`: compare two chat-completion responses (or SSE transcripts) from files with the
//! same differ the workers use, and print findings, scores and the verdict.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde_json::Value;

use crate::config::DiffConfig;
use crate::diff::semantic::Semantic;
use crate::diff::{self, CandidateSide, DiffInput, Noise};
use crate::domain::{DiffOutcome, ErrorClass, Verdict};
use crate::openai::classify_error;
use crate::openai::stream::assemble;

/// Output format of `shadowtap diff`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Production's response: chat.completion JSON, or an SSE transcript (`data: …` lines).
    pub original: PathBuf,
    /// The candidate's response (same formats; an OpenAI-style error body counts as a failed call).
    pub candidate: PathBuf,
    /// The request both answered (enables JSON-mode and declared-tool checks).
    #[arg(long, value_name = "FILE")]
    pub request: Option<PathBuf>,
    /// A second production answer to the same request: the noise floor.
    #[arg(long, value_name = "FILE")]
    pub control: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Skip the semantic comparison (no embedding model needed).
    #[arg(long)]
    pub no_semantic: bool,
}

/// Exit status like diff(1): 0 no regression, 1 regression or incompatible, 2 trouble.
pub fn exit_code(outcome: &DiffOutcome) -> u8 {
    match outcome.verdict {
        Verdict::Regression | Verdict::Incompatible => 1,
        _ => 0,
    }
}

/// Read a response file: JSON as is, SSE transcripts reassembled into a completion.
pub fn load_response(path: &Path) -> Result<Value, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let trimmed = text.trim_start();
    if trimmed.starts_with("data:") || trimmed.starts_with("event:") || trimmed.starts_with(':') {
        return Ok(assemble(&bytes, true).completion);
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "{} is neither JSON nor an SSE transcript: {e}",
            path.display()
        )
    })
}

/// The candidate side for a loaded candidate file: an OpenAI-style error body is a failed call.
pub fn side(value: &Value) -> CandidateSide<'_> {
    match value.get("error") {
        Some(err) if value.get("choices").is_none() => {
            let class = match err.get("code").and_then(Value::as_str) {
                Some("rate_limit_exceeded") => ErrorClass::RateLimited,
                _ => classify_error(400, Some(value)),
            };
            let message = err
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("error response");
            CandidateSide::Failed { class, message }
        }
        _ => CandidateSide::Answer(value),
    }
}

/// Human-readable report.
pub fn render_text(outcome: &DiffOutcome) -> String {
    let opt = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), |v| format!("{v:.3}"));
    let mut out = format!(
        "verdict: {}\nscore: {:.3} (0 = identical, 1 = completely different)\nword similarity: {}\nsemantic similarity: {}\n",
        outcome.verdict,
        outcome.score,
        opt(outcome.text_similarity),
        opt(outcome.semantic_similarity),
    );
    if outcome.noise_semantic.is_some() {
        out.push_str(&format!(
            "noise floor (control semantic similarity): {}\n",
            opt(outcome.noise_semantic)
        ));
    }
    if outcome.findings.is_empty() {
        out.push_str("findings: none\n");
    } else {
        out.push_str("findings:\n");
        for f in &outcome.findings {
            let at = if f.path.is_empty() {
                String::new()
            } else {
                format!(" at {}", f.path)
            };
            let measured = match (f.value, f.threshold) {
                (Some(v), Some(t)) => format!(" [{v:.3} vs threshold {t:.3}]"),
                _ => String::new(),
            };
            out.push_str(&format!(
                "  - {:?} {}{at}: {}{measured}\n",
                f.severity,
                f.kind.as_str(),
                f.message
            ));
        }
    }
    out
}

/// The semantic service unless turned off (by flag or config); loading errors name the way out.
pub(crate) fn load_semantic(
    no_semantic: bool,
    config: &DiffConfig,
) -> Result<Option<Semantic>, String> {
    if no_semantic || !config.semantic {
        return Ok(None);
    }
    Semantic::load(&config.embedding)
        .map(Some)
        .map_err(|e| format!("{e} (or pass --no-semantic)"))
}

/// Compare a candidate file's content with production's the way the workers do: a control (a
/// second production answer) is compared first and becomes the noise floor.
pub(crate) async fn outcome(
    semantic: Option<&Semantic>,
    request: Option<&Value>,
    production: &Value,
    candidate: &Value,
    control: Option<&Value>,
) -> DiffOutcome {
    let noise = match control {
        Some(control) => {
            let input = DiffInput {
                request,
                production,
                candidate: side(control),
                semantic: None,
                noise: None,
            };
            Some(Noise::from_control(
                &diff::compare_with_meaning(semantic, input).await,
            ))
        }
        None => None,
    };
    let input = DiffInput {
        request,
        production,
        candidate: side(candidate),
        semantic: None,
        noise: noise.as_ref(),
    };
    diff::compare_with_meaning(semantic, input).await
}

/// Run the command; returns the exit code.
pub async fn run(args: &DiffArgs, config: &DiffConfig) -> Result<u8, String> {
    let production = load_response(&args.original)?;
    let candidate = load_response(&args.candidate)?;
    let request = args.request.as_deref().map(load_response).transpose()?;
    let control = args.control.as_deref().map(load_response).transpose()?;
    let semantic = load_semantic(args.no_semantic, config)?;
    let outcome = outcome(
        semantic.as_ref(),
        request.as_ref(),
        &production,
        &candidate,
        control.as_ref(),
    )
    .await;
    match args.format {
        Format::Text => print!("{}", render_text(&outcome)),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&outcome).expect("outcome serializes")
        ),
    }
    Ok(exit_code(&outcome))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_bodies_are_failed_calls() {
        let v = json!({"error": {"message": "Unsupported parameter: 'seed'", "code": "unsupported_parameter"}});
        assert!(matches!(
            side(&v),
            CandidateSide::Failed {
                class: ErrorClass::UnsupportedParameter,
                ..
            }
        ));
        let v = json!({"error": {"message": "slow down", "code": "rate_limit_exceeded"}});
        assert!(matches!(
            side(&v),
            CandidateSide::Failed {
                class: ErrorClass::RateLimited,
                ..
            }
        ));
        assert!(matches!(
            side(&json!({"choices": []})),
            CandidateSide::Answer(_)
        ));
    }

    #[test]
    fn text_report_lists_findings() {
        let out = diff::compare(&DiffInput {
            request: None,
            production: &json!({"choices": [{"message": {"content": "a"}, "finish_reason": "stop"}]}),
            candidate: CandidateSide::Answer(
                &json!({"choices": [{"message": {"content": "a"}, "finish_reason": "length"}]}),
            ),
            semantic: None,
            noise: None,
        });
        let text = render_text(&out);
        assert!(
            text.contains("verdict: regression") && text.contains("finish_reason"),
            "{text}"
        );
        assert_eq!(exit_code(&out), 1);
    }
}
