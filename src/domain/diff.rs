//! The differ's output: findings, a divergence score and a verdict.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Overall judgement of a candidate answer relative to production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Equivalent answer.
    Same,
    /// Different wording, within what the production model itself varies by.
    Noise,
    /// A difference worth a look but not a blocker.
    Minor,
    /// The candidate answer is worse in a way a user would notice.
    Regression,
    /// The candidate cannot serve this request (unsupported parameter, rejected schema).
    Incompatible,
    /// The candidate was unavailable (rate-limited, down, timed out): availability, not quality.
    Error,
}

impl Verdict {
    /// All verdicts in display order.
    pub const ALL: [Verdict; 6] = [
        Self::Same,
        Self::Noise,
        Self::Minor,
        Self::Regression,
        Self::Incompatible,
        Self::Error,
    ];

    /// Stable snake_case name (stored in the database).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Same => "same",
            Self::Noise => "noise",
            Self::Minor => "minor",
            Self::Regression => "regression",
            Self::Incompatible => "incompatible",
            Self::Error => "error",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Verdict {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown verdict {s:?}"))
    }
}

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Minor,
    Major,
    Critical,
}

impl Severity {
    /// Contribution of one finding of this severity to the structural score.
    pub fn weight(&self) -> f64 {
        match self {
            Self::Info => 0.0,
            Self::Minor => 0.3,
            Self::Major => 0.8,
            Self::Critical => 1.0,
        }
    }
}

/// What kind of divergence a finding records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The candidate could not be reached or answered with an error.
    CandidateError,
    /// The candidate rejected the request as unsupported.
    Incompatible,
    /// The response is not a chat completion object.
    ResponseShape,
    ChoicesCount,
    FinishReason,
    EmptyAnswer,
    Refusal,
    ToolCallDropped,
    ToolCallAdded,
    ToolName,
    HallucinatedTool,
    ToolArguments,
    InvalidJson,
    JsonStructure,
    TextDivergence,
    LengthRatio,
    /// The answers mean different things (sentence-embedding similarity).
    SemanticDivergence,
    /// Numbers in the answer changed.
    NumbersChanged,
    /// A negation appeared or disappeared in otherwise similar text.
    Negation,
    /// The answer is in another language.
    LanguageSwitch,
    /// Markdown structure (code blocks) changed.
    Formatting,
    /// Structured output or tool arguments do not match the JSON schema the request gave.
    SchemaViolation,
}

impl FindingKind {
    /// Stable snake_case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::CandidateError => "candidate_error",
            Self::Incompatible => "incompatible",
            Self::ResponseShape => "response_shape",
            Self::ChoicesCount => "choices_count",
            Self::FinishReason => "finish_reason",
            Self::EmptyAnswer => "empty_answer",
            Self::Refusal => "refusal",
            Self::ToolCallDropped => "tool_call_dropped",
            Self::ToolCallAdded => "tool_call_added",
            Self::ToolName => "tool_name",
            Self::HallucinatedTool => "hallucinated_tool",
            Self::ToolArguments => "tool_arguments",
            Self::InvalidJson => "invalid_json",
            Self::JsonStructure => "json_structure",
            Self::TextDivergence => "text_divergence",
            Self::LengthRatio => "length_ratio",
            Self::SemanticDivergence => "semantic_divergence",
            Self::NumbersChanged => "numbers_changed",
            Self::Negation => "negation",
            Self::LanguageSwitch => "language_switch",
            Self::Formatting => "formatting",
            Self::SchemaViolation => "schema_violation",
        }
    }
}

/// One explained divergence: what, where, how bad, measured against which threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// JSON path or location, e.g. `choices[0].message.tool_calls[0].function.arguments.city`.
    pub path: String,
    pub severity: Severity,
    /// The measured value, when the finding is numeric.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub value: Option<f64>,
    /// The threshold the value was compared with.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub threshold: Option<f64>,
    /// Plain-words explanation for a reviewer.
    pub message: String,
}

/// The differ's full output for one production/candidate pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiffOutcome {
    pub verdict: Verdict,
    /// Combined divergence in 0..=1 (0 = identical). See `diff::score` for the formula.
    pub score: f64,
    /// Word-level similarity of the answer texts in 0..=1, when both had text.
    pub text_similarity: Option<f64>,
    /// Meaning-level (embedding cosine) similarity of the answer texts, when computed.
    #[serde(default)]
    pub semantic_similarity: Option<f64>,
    /// The control replay's semantic similarity to production (the noise floor), when there was one.
    #[serde(default)]
    pub noise_semantic: Option<f64>,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
}
