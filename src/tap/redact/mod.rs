//! PII and secret masking of captured bodies: typed, numbered placeholders, consistent per exchange.
//!
//! A [`Redactor`] is compiled once from the config and shared; each exchange opens a [`Session`]
//! so one value gets one placeholder in its request and responses (`alice@example.com` is
//! `<EMAIL_1>` everywhere in the exchange), which keeps production and candidate texts aligned.
//! Overlapping matches resolve earliest first, then longest, secrets before everything else.
//! Existing placeholders are left alone, and redacting a text twice gives the same text as once.

mod checksums;
mod detectors;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::fmt::{self, Write as _};
use std::str::FromStr;

use regex::Regex;

use crate::config::RedactConfig;
use detectors::Hints;

/// Kinds of built-in detectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `local@domain.tld` addresses → `<EMAIL_n>`.
    Email,
    /// `+` international numbers and NANP `(555) 123-4567` forms → `<PHONE_n>`.
    Phone,
    /// Luhn-valid card numbers, plain or grouped → `<CARD_n>`.
    Card,
    /// Mod-97-valid IBANs, plain or in groups of four → `<IBAN_n>`.
    Iban,
    /// IPv4 and IPv6 addresses → `<IP_n>`.
    Ip,
    /// API keys, tokens and `Bearer` credentials → `<SECRET_n>`.
    Secret,
}

impl Kind {
    /// Every built-in kind.
    pub const ALL: [Kind; 6] = [
        Kind::Email,
        Kind::Phone,
        Kind::Card,
        Kind::Iban,
        Kind::Ip,
        Kind::Secret,
    ];

    /// The name used in the config and in counts: `email`, `phone`, `card`, `iban`, `ip`, `secret`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Card => "card",
            Kind::Iban => "iban",
            Kind::Ip => "ip",
            Kind::Secret => "secret",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = RedactError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| RedactError::UnknownKind(s.to_owned()))
    }
}

/// Why a redaction config was rejected.
#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    /// A `kinds` entry that is no built-in kind.
    #[error("unknown redaction kind {0:?}: use email, phone, card, iban, ip or secret")]
    UnknownKind(String),
    /// A custom pattern name that is not `[A-Z0-9_]+` once upper-cased.
    #[error("invalid custom redaction name {0:?}: use letters, digits and `_`")]
    BadName(String),
    /// A custom pattern whose regular expression does not compile.
    #[error("invalid regular expression of custom redaction pattern `{name}`: {source}")]
    BadPattern { name: String, source: regex::Error },
}

/// Where a rule's matches come from.
enum Detector {
    Builtin(Kind),
    Custom(Regex),
}

/// One detector, the placeholder name it uses and its overlap tier (0 wins over 1).
struct Rule {
    detector: Detector,
    label: usize,
    tier: u8,
}

/// A placeholder name: `EMAIL` in `<EMAIL_1>`, `email` in counts.
struct Label {
    upper: String,
    lower: String,
}

/// Compiled redaction rules; shared by every exchange (`Send + Sync`).
pub struct Redactor {
    rules: Vec<Rule>,
    labels: Vec<Label>,
    placeholder: Option<Regex>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self
            .rules
            .iter()
            .map(|r| self.labels[r.label].lower.as_str())
            .collect();
        f.debug_struct("Redactor").field("rules", &names).finish()
    }
}

/// Redaction gives up looking for matches that only appear once neighbours are masked after this.
const MAX_PASSES: usize = 8;

impl Redactor {
    /// Compile `config`; kinds and custom patterns are validated even when redaction is disabled.
    pub fn new(config: &RedactConfig) -> Result<Self, RedactError> {
        let mut kinds = config
            .kinds
            .iter()
            .map(|k| k.parse())
            .collect::<Result<Vec<Kind>, _>>()?;
        kinds.sort();
        kinds.dedup();
        let mut labels: Vec<Label> = Kind::ALL
            .iter()
            .map(|k| Label {
                upper: k.as_str().to_ascii_uppercase(),
                lower: k.as_str().to_owned(),
            })
            .collect();
        let mut custom = Vec::new();
        for c in &config.custom {
            let upper = c.name.trim().to_ascii_uppercase();
            if upper.is_empty()
                || !upper
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                return Err(RedactError::BadName(c.name.clone()));
            }
            let re = Regex::new(&c.pattern).map_err(|source| RedactError::BadPattern {
                name: c.name.clone(),
                source,
            })?;
            let label = match labels.iter().position(|l| l.upper == upper) {
                Some(i) => i,
                None => {
                    labels.push(Label {
                        lower: upper.to_ascii_lowercase(),
                        upper,
                    });
                    labels.len() - 1
                }
            };
            custom.push(Rule {
                detector: Detector::Custom(re),
                label,
                tier: 1,
            });
        }
        if !config.enabled {
            return Ok(Self {
                rules: Vec::new(),
                labels,
                placeholder: None,
            });
        }
        let builtin = |k: Kind, tier| Rule {
            detector: Detector::Builtin(k),
            label: k as usize,
            tier,
        };
        let mut rules = Vec::new();
        if kinds.contains(&Kind::Secret) {
            rules.push(builtin(Kind::Secret, 0));
        }
        rules.extend(custom);
        for k in [Kind::Card, Kind::Iban, Kind::Email, Kind::Phone, Kind::Ip] {
            if kinds.contains(&k) {
                rules.push(builtin(k, 1));
            }
        }
        let names: Vec<&str> = labels.iter().map(|l| l.upper.as_str()).collect();
        let placeholder = Regex::new(&format!("<(?:{})_[0-9]+>", names.join("|")))
            .expect("placeholder names are validated");
        Ok(Self {
            rules,
            labels,
            placeholder: Some(placeholder),
        })
    }

    /// Start redacting one exchange: placeholders are numbered and kept consistent inside it.
    pub fn session(&self) -> Session<'_> {
        Session {
            redactor: self,
            seen: HashMap::new(),
            next: vec![0; self.labels.len()],
            counts: BTreeMap::new(),
        }
    }
}

/// A match found by rule number `rule` at `start..end`.
#[derive(Clone, Copy)]
struct Candidate {
    start: usize,
    end: usize,
    rule: usize,
    tier: u8,
}

/// The redaction state of one exchange.
pub struct Session<'a> {
    redactor: &'a Redactor,
    seen: HashMap<(usize, String), u64>,
    next: Vec<u64>,
    counts: BTreeMap<String, u64>,
}

impl Session<'_> {
    /// `text` with every detected value replaced by its placeholder; borrowed when nothing matched.
    pub fn redact_str<'s>(&mut self, text: &'s str) -> Cow<'s, str> {
        let Some(mut out) = self.pass(text) else {
            return Cow::Borrowed(text);
        };
        // A masked value can free a neighbour that was glued to it (`a@b.co+15551234567`).
        for _ in 1..MAX_PASSES {
            match self.pass(&out) {
                Some(next) => out = next,
                None => break,
            }
        }
        Cow::Owned(out)
    }

    /// Redact every string value in `value`, recursively (object keys are left as they are).
    pub fn redact_json(&mut self, value: &mut serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::String(s) => {
                let redacted = match self.redact_str(s) {
                    Cow::Owned(r) => Some(r),
                    Cow::Borrowed(_) => None,
                };
                if let Some(r) = redacted {
                    *s = r;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.redact_json(v)),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// Redact every string value of a JSON text (object keys are left as they are), as
    /// [`Session::redact_json`] does for a parsed value, in document order; `None` when nothing
    /// matched. `json` must be a text [`check`](crate::openai::jsontext::check) accepted.
    pub fn redact_json_text(&mut self, json: &str) -> Option<String> {
        if self.redactor.rules.is_empty() {
            return None;
        }
        crate::openai::jsontext::map_string_values(json, |s| match self.redact_str(s) {
            Cow::Owned(masked) => Some(masked),
            Cow::Borrowed(_) => None,
        })
    }

    /// Replacements made so far, by kind name (`email`, ..., or the custom name lower-cased).
    pub fn counts(&self) -> &BTreeMap<String, u64> {
        &self.counts
    }

    /// One detection pass over `text`; `None` when nothing is replaced.
    fn pass(&mut self, text: &str) -> Option<String> {
        let r = self.redactor;
        if r.rules.is_empty() || text.is_empty() {
            return None;
        }
        let hints = Hints::of(text);
        let mut found = Vec::new();
        for (rule, spec) in r.rules.iter().enumerate() {
            let mut push = |start, end| {
                if start < end {
                    found.push(Candidate {
                        start,
                        end,
                        rule,
                        tier: spec.tier,
                    });
                }
            };
            match &spec.detector {
                Detector::Builtin(kind) => detectors::find(*kind, text, &hints, &mut push),
                Detector::Custom(re) => re.find_iter(text).for_each(|m| push(m.start(), m.end())),
            }
        }
        if found.is_empty() {
            return None;
        }
        // Spans already taken, start → end: existing placeholders, then accepted matches.
        let mut taken = BTreeMap::new();
        if let (true, Some(p)) = (hints.angle, &r.placeholder) {
            taken.extend(p.find_iter(text).map(|m| (m.start(), m.end())));
        }
        found.sort_by_key(|c| (c.tier, c.start, Reverse(c.end), c.rule));
        found.retain(|c| {
            let free = taken
                .range(..c.end)
                .next_back()
                .is_none_or(|(_, &end)| end <= c.start);
            if free {
                taken.insert(c.start, c.end);
            }
            free
        });
        if found.is_empty() {
            return None;
        }
        found.sort_by_key(|c| c.start);
        let mut out = String::with_capacity(text.len() + 8 * found.len());
        let mut last = 0;
        for c in &found {
            out.push_str(&text[last..c.start]);
            self.placeholder(c, &text[c.start..c.end], &mut out);
            last = c.end;
        }
        out.push_str(&text[last..]);
        Some(out)
    }

    /// Append the placeholder of `value`, numbering it on first sight, and count it.
    fn placeholder(&mut self, c: &Candidate, value: &str, out: &mut String) {
        let r = self.redactor;
        let spec = &r.rules[c.rule];
        let key = match spec.detector {
            Detector::Builtin(kind) => detectors::normalize(kind, value),
            Detector::Custom(_) => value.to_owned(),
        };
        let next = &mut self.next[spec.label];
        let n = *self.seen.entry((spec.label, key)).or_insert_with(|| {
            *next += 1;
            *next
        });
        let label = &r.labels[spec.label];
        match self.counts.get_mut(&label.lower) {
            Some(count) => *count += 1,
            None => {
                self.counts.insert(label.lower.clone(), 1);
            }
        }
        write!(out, "<{}_{n}>", label.upper).expect("writing to a String");
    }
}
