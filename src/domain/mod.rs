//! Plain types shared by every stage: what was captured, what a candidate answered, how they differ.
//!
//! These are shadowtap's own shapes. They are serialised only inside shadowtap's own envelope
//! (see `bus::envelope`); raw provider JSON stays a `serde_json::Value` inside [`CapturedBody`].

mod diff;
mod exchange;
mod replay;

pub use diff::{DiffOutcome, Finding, FindingKind, Severity, Verdict};
pub use exchange::{BodyContent, CapturedBody, Exchange, ExchangeId, StreamStats};
pub use replay::{CandidateName, ErrorClass, ReplayResult};
