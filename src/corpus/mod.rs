//! Corpus replay and the cut-over quality gate.
//!
//! A *corpus* is a named set of OpenAI-style requests, optionally with expected answers and
//! per-item checks, imported from a versioned JSONL file ([`format`]) or exported from captured
//! traffic. A *run* replays a corpus against one candidate without Kafka ([`run`]; [`providers`]
//! resolves the candidate and the baseline): each item becomes an ordinary exchange (the
//! baseline's answer playing production) + replay + diff, so the review UI shows runs like live
//! traffic (`exchanges.run_id` tells them apart). Items also get deterministic [`checks`] and,
//! optionally, an LLM [`judge`]ment. The [`gate`] turns a run into a pass/fail decision against
//! thresholds ([`compare`] gates one run against another), rendered for people and CI by
//! [`junit`]; the [`report`] shows a run as HTML or JSON.
//!
//! Like `app`, this module wires stages together: it uses `replay` (candidates, pacing,
//! retries), `diff` and `store`. [`format`], [`checks`], [`select`], [`stats`], [`gate`],
//! [`compare`] and [`junit`] are pure.
//!
//! Commands: `shadowtap corpus import|export|list`, `shadowtap replay --corpus`,
//! `shadowtap gate`, `shadowtap report` (see `cli::corpus`, `cli::replay`, `cli::gate`).

pub mod checks;
pub mod compare;
pub mod format;
pub mod gate;
pub mod judge;
pub mod junit;
pub mod providers;
pub mod report;
pub mod run;
pub mod select;
pub mod stats;

pub use gate::GateReport;
pub use stats::{ItemOutcome, RunSummary};
