//! Triage rules applied to diffs: reviewer decisions ("this JSON path is noise", "this finding
//! kind is acceptable on this route") that turn matching findings into information.

use crate::domain::{DiffOutcome, Severity};

use super::score;

/// One rule, as the differ applies it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: i64,
    pub action: RuleAction,
    /// Only on this request path, when set.
    pub route: Option<String>,
    /// Only for this candidate, when set.
    pub candidate: Option<String>,
}

/// What a rule does.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleAction {
    /// Findings at this JSON path (or below it) are noise.
    IgnorePath(String),
    /// Findings of this kind are acceptable.
    AcceptKind(String),
}

impl Rule {
    fn applies(&self, route: &str, candidate: &str) -> bool {
        self.route.as_deref().is_none_or(|r| r == route)
            && self.candidate.as_deref().is_none_or(|c| c == candidate)
    }
}

/// Downgrade findings matched by `rules` to info and recompute verdict and score.
/// Returns how many findings a rule matched.
pub fn apply(outcome: &mut DiffOutcome, rules: &[Rule], route: &str, candidate: &str) -> usize {
    let mut matched = 0;
    for f in outcome
        .findings
        .iter_mut()
        .filter(|f| f.severity > Severity::Info)
    {
        let rule = rules
            .iter()
            .filter(|r| r.applies(route, candidate))
            .find(|r| match &r.action {
                RuleAction::IgnorePath(p) => {
                    f.path == *p
                        || f.path.starts_with(&format!("{p}."))
                        || f.path.starts_with(&format!("{p}["))
                }
                RuleAction::AcceptKind(k) => f.kind.as_str() == k,
            });
        if let Some(rule) = rule {
            f.severity = Severity::Info;
            f.message
                .push_str(&format!(" — accepted by triage rule #{}", rule.id));
            matched += 1;
        }
    }
    if matched > 0
        && !matches!(
            outcome.verdict,
            crate::domain::Verdict::Error | crate::domain::Verdict::Incompatible
        )
    {
        outcome
            .findings
            .sort_by_key(|f| std::cmp::Reverse(f.severity));
        outcome.verdict = score::verdict(&outcome.findings, outcome.text_similarity);
        outcome.score = score::score(
            &outcome.findings,
            outcome.text_similarity,
            outcome.semantic_similarity,
        );
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Finding, FindingKind, Verdict};

    fn outcome() -> DiffOutcome {
        let f = |kind, path: &str, severity| Finding {
            kind,
            path: path.into(),
            severity,
            value: None,
            threshold: None,
            message: "m".into(),
        };
        DiffOutcome {
            verdict: Verdict::Regression,
            score: 0.9,
            text_similarity: Some(1.0),
            semantic_similarity: None,
            noise_semantic: None,
            findings: vec![
                f(
                    FindingKind::JsonStructure,
                    "choices[0].message.content.$.generated_at",
                    Severity::Major,
                ),
                f(
                    FindingKind::LengthRatio,
                    "choices[0].message.content",
                    Severity::Minor,
                ),
            ],
        }
    }

    #[test]
    fn ignored_paths_and_accepted_kinds_downgrade_findings() {
        let rules = vec![
            Rule {
                id: 1,
                action: RuleAction::IgnorePath("choices[0].message.content.$.generated_at".into()),
                route: None,
                candidate: None,
            },
            Rule {
                id: 2,
                action: RuleAction::AcceptKind("length_ratio".into()),
                route: Some("/v1/chat/completions".into()),
                candidate: None,
            },
        ];
        let mut o = outcome();
        assert_eq!(apply(&mut o, &rules, "/v1/chat/completions", "groq"), 2);
        assert_eq!(o.verdict, Verdict::Noise);
        assert!(o.findings[0].message.contains("rule #"));
        let mut o = outcome();
        assert_eq!(
            apply(&mut o, &rules, "/v1/responses", "groq"),
            1,
            "route-scoped rule does not apply elsewhere"
        );
        assert_eq!(o.verdict, Verdict::Minor);
    }
}
