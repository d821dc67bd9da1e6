//! Facts in an answer text — numbers, times, dates, identifiers and names — and how they changed.
//!
//! A paraphrase keeps the facts and changes the words around them; a subtle regression keeps the
//! words and changes one fact. So facts are compared by value, not spelling (`1,000` = `1000`,
//! `30 percent` = `30%`, `15%` = `0.15`, `3 pm` = `3:00 pm`, `thirty days` = `30 days`,
//! `$610M` = `$610 million`, `about 3.1` = `3.11`), and a production fact the candidate lacks is
//! told apart by its surroundings:
//!
//! * **changed** — the candidate states a different fact of the same type *in the same place*
//!   (a new fact whose neighbouring words overlap the missing one's: "refunds within 30 days" →
//!   "refunds within 14 days"). That asserts something false: a regression.
//! * **omitted** — nothing replaced it ("the total is $68, i.e. $80 − $12" → "the total is $68"):
//!   a loss of detail worth a look, not a wrong statement.
//!
//! "The same place" means: neighbouring content words shared, same sentence, and both in prose or
//! both in a fenced code block. A fact production also states elsewhere only stands in for the
//! missing one when the candidate repeats it in a new place ("5 members, 2 GB" → "5 members,
//! 5 GB").
//!
//! Names (capitalised words inside a sentence, acronyms) only count when changed: paraphrases drop
//! and add them freely, but "shipped with UPS" → "shipped with FedEx" is a wrong fact. They match
//! case-insensitively and by abbreviation ("Thu" = "Thursday", "ET" = "Eastern"), and are not
//! looked for in German, which capitalises every noun, nor in code.
//! List markers (`1.` at the start of a line) are structure, not facts; lists are compared by
//! [`super::text::numbered_steps`] and [`super::text::step_coverage`].

use std::collections::BTreeSet;
use std::sync::OnceLock;

use regex::Regex;

use super::text::{is_stopword, stem};

/// What a fact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactKind {
    /// A quantity: `42`, `1,249.50`, `30%`, `thirty`, `$4.2 billion`.
    Number,
    /// A time of day: `14:02`, `4:00 pm`, `10am`.
    Time,
    /// An ISO date: `2024-03-15`.
    Date,
    /// An identifier or other token with digits: `A-10023`, `v1.2.3`, `1-800-555-0199`, an email.
    Code,
    /// A capitalised word inside a sentence or an acronym: `Canberra`, `UPS`.
    Name,
}

impl FactKind {
    /// Facts of these kinds can stand in for one another (a time `3:00` and a number `3`).
    fn comparable(self, other: FactKind) -> bool {
        use FactKind::*;
        matches!(
            (self, other),
            (Number | Time, Number | Time) | (Date, Date) | (Code, Code) | (Name, Name)
        )
    }
}

/// One fact found in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    pub kind: FactKind,
    /// As written (for messages).
    pub text: String,
    /// Canonical form for exact comparison (lower-cased codes and names, dates as written).
    pub key: String,
    /// Numeric value of numbers and times (times in hours).
    pub value: Option<f64>,
    /// Written as a percentage.
    pub percent: bool,
    /// Digits after the decimal point, as written.
    pub decimals: usize,
    /// Preceded by "about", "roughly", "~", "≈"…: may be rounded.
    pub hedged: bool,
    /// Spelled out ("thirty").
    pub spelled: bool,
    /// Inside a fenced code block (code and prose are different places).
    pub in_code_block: bool,
    /// Stems of the content words around it (its place in the text).
    pub context: BTreeSet<String>,
}

/// A production fact the candidate does not state.
#[derive(Debug, Clone, PartialEq)]
pub struct FactChange {
    pub before: Fact,
    /// The candidate's fact in the same place, or `None` when it was simply left out.
    pub after: Option<Fact>,
}

/// Facts compared per side (the first ones of a huge answer).
const MAX_FACTS: usize = 400;

/// Words (lower case) that precede an approximate figure.
const HEDGES: &[&str] = &[
    "about",
    "approximately",
    "approx",
    "roughly",
    "around",
    "nearly",
    "almost",
    "some",
    "circa",
    "ca",
    "under",
    "over",
];

/// Number words accepted as figures (spelled-out cardinals). "one" is left out: it is more often a
/// pronoun ("one of the…") than a quantity; it still *matches* a production `1` (see [`NUMBER_WORDS_ALL`]).
const NUMBER_WORDS: &[(&str, f64)] = &[
    ("two", 2.0),
    ("three", 3.0),
    ("four", 4.0),
    ("five", 5.0),
    ("six", 6.0),
    ("seven", 7.0),
    ("eight", 8.0),
    ("nine", 9.0),
    ("ten", 10.0),
    ("eleven", 11.0),
    ("twelve", 12.0),
    ("thirteen", 13.0),
    ("fourteen", 14.0),
    ("fifteen", 15.0),
    ("sixteen", 16.0),
    ("seventeen", 17.0),
    ("eighteen", 18.0),
    ("nineteen", 19.0),
    ("twenty", 20.0),
    ("thirty", 30.0),
    ("forty", 40.0),
    ("fifty", 50.0),
    ("sixty", 60.0),
    ("seventy", 70.0),
    ("eighty", 80.0),
    ("ninety", 90.0),
    ("hundred", 100.0),
    ("thousand", 1000.0),
    ("dozen", 12.0),
];

/// Spelled numbers that excuse a missing digit figure (including "one", "a hundred"…).
fn number_word_value(word: &str) -> Option<f64> {
    if word == "one" || word == "single" {
        return Some(1.0);
    }
    NUMBER_WORDS
        .iter()
        .find(|(w, _)| *w == word)
        .map(|(_, v)| *v)
}

fn scale_word(word: &str) -> Option<f64> {
    match word {
        "thousand" => Some(1e3),
        "million" | "millions" => Some(1e6),
        "billion" | "billions" => Some(1e9),
        "trillion" => Some(1e12),
        _ => None,
    }
}

fn regexes() -> &'static [Regex; 6] {
    static RE: OnceLock<[Regex; 6]> = OnceLock::new();
    RE.get_or_init(|| {
        [
            // 0: a token: starts with a letter or digit, may contain . , : / - % @ + ' inside.
            Regex::new(r"[\p{L}\p{N}_][\p{L}\p{N}_'’.,:/\-%@+]*").expect("token"),
            // 1: a plain number (thousands separators optional), maybe a percentage.
            Regex::new(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?%?$").expect("number"),
            // 2: a time of day.
            Regex::new(r"^(\d{1,2})(?::(\d{2}))?(?::\d{2})?(am|pm|h)?$").expect("time"),
            // 3: an ISO date.
            Regex::new(r"^\d{4}-\d{2}-\d{2}$").expect("date"),
            // 4: a range "5-7".
            Regex::new(r"^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$").expect("range"),
            // 5: an abbreviated amount after a currency sign: 610M, 4.2bn, 18k.
            Regex::new(r"^(\d+(?:\.\d+)?)(k|m|bn|b)$").expect("amount"),
        ]
    })
}

/// A list marker at the start of a line (`1.`, `2)`, `-`, `*`, `•`), replaced by spaces so that
/// offsets stay put.
fn blank_list_markers(text: &str) -> String {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re =
        RE.get_or_init(|| Regex::new(r"(?m)^[ \t]*(?:\d{1,2}[.)]|[-*•+])[ \t]+").expect("marker"));
    re.replace_all(text, |c: &regex::Captures<'_>| " ".repeat(c[0].len()))
        .into_owned()
}

/// Byte ranges of code (fenced blocks and inline backticks), where capitalised words are
/// identifiers rather than names; fenced blocks are flagged `true`.
fn code_spans(text: &str) -> Vec<(usize, usize, bool)> {
    let mut spans = Vec::new();
    let mut in_fence = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with("```") {
            match in_fence.take() {
                Some(start) => spans.push((start, offset + line.len(), true)),
                None => in_fence = Some(offset),
            }
        } else if in_fence.is_none() {
            let mut open = None;
            for (i, ch) in line.char_indices() {
                if ch == '`' {
                    match open.take() {
                        Some(s) => spans.push((offset + s, offset + i + 1, false)),
                        None => open = Some(i),
                    }
                }
            }
        }
        offset += line.len();
    }
    if let Some(start) = in_fence {
        spans.push((start, text.len(), true));
    }
    spans
}

struct Token<'a> {
    text: &'a str,
    start: usize,
    /// First word of a sentence, line or quoted label.
    initial: bool,
    /// Inside inline code or a fenced block.
    in_code: bool,
    /// Inside a fenced block.
    in_block: bool,
    /// Which sentence or line the token is in (context does not reach across them).
    sentence: usize,
}

fn tokenize(text: &str) -> Vec<Token<'_>> {
    let spans = code_spans(text);
    let re = &regexes()[0];
    let mut out = Vec::new();
    let mut prev_end = 0;
    let mut sentence = 0;
    for m in re.find_iter(text) {
        let raw = m.as_str();
        let trimmed = raw.trim_end_matches(['.', ',', ':', '/', '-', '\'', '’', '+']);
        let gap = &text[prev_end..m.start()];
        // Sentence-initial: start of text, after a line break, or after . ! ? : (with space).
        let before = text[..m.start()].trim_end_matches(|c: char| {
            c.is_whitespace() || matches!(c, '"' | '“' | '*' | '_' | '#' | '>' | '(' | '[' | '`')
        });
        let initial = before.is_empty()
            || before.ends_with(['.', '!', '?', ':', '\n', '¿', '¡'])
            || gap.contains('\n')
            || prev_end == 0 && before.trim().is_empty();
        let span = spans
            .iter()
            .find(|(s, e, _)| *s <= m.start() && m.start() < *e);
        let (in_code, in_block) = (span.is_some(), span.is_some_and(|s| s.2));
        let ends_sentence =
            raw.ends_with(['.', ':']) && text[m.end()..].starts_with(char::is_whitespace);
        if initial || gap.contains([';', '!', '?', '—']) {
            sentence += 1;
        }
        prev_end = m.end();
        if trimmed.is_empty() {
            continue;
        }
        out.push(Token {
            text: trimmed,
            start: m.start(),
            initial,
            in_code,
            in_block,
            sentence,
        });
        if ends_sentence {
            sentence += 1;
        }
    }
    out
}

fn decimals(s: &str) -> usize {
    s.split_once('.').map_or(0, |(_, d)| d.len())
}

fn parse_number(s: &str) -> Option<f64> {
    s.trim_end_matches('%').replace(',', "").parse().ok()
}

/// Canonical text of a value: no trailing zeros, no thousands separators.
fn canonical(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_owned()
}

fn looks_like_name(word: &str) -> bool {
    let mut chars = word.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let letters = word.chars().filter(|c| c.is_alphabetic()).count();
    first.is_uppercase()
        && letters >= 2
        && word
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, '\'' | '’' | '-'))
        && !is_stopword(&word.to_lowercase())
}

fn is_acronym(word: &str) -> bool {
    word.chars().filter(|c| c.is_alphabetic()).count() >= 2
        && word.chars().all(|c| c.is_uppercase() || c.is_ascii_digit())
}

/// The facts of a text, in order of appearance (the same fact may appear more than once).
pub fn facts(text: &str) -> Vec<Fact> {
    // German capitalises every noun: capitalisation says nothing about names there.
    let names = super::text::language(text) != Some("de");
    let text = blank_list_markers(text);
    let tokens = tokenize(&text);
    let [_, number, time, date, range, amount] = regexes();
    let lower: Vec<String> = tokens
        .iter()
        .map(|t| t.text.to_lowercase().replace('’', "'"))
        .collect();
    let mut out = Vec::new();
    for (i, tok) in tokens.iter().enumerate() {
        let t = tok.text;
        let w = lower[i].as_str();
        let gap_before = if i == 0 {
            &text[..tok.start]
        } else {
            &text[tokens[i - 1].start + tokens[i - 1].text.len()..tok.start]
        };
        let currency = gap_before.ends_with(['$', '€', '£', '¥']);
        let hedged = gap_before.contains(['~', '≈'])
            || (i > 0 && HEDGES.contains(&lower[i - 1].as_str()))
            || (i > 1 && lower[i - 1] == "than" && HEDGES.contains(&lower[i - 2].as_str()));
        let next = lower.get(i + 1).map(String::as_str).unwrap_or("");
        let has_digit = t.chars().any(|c| c.is_ascii_digit());
        let has_letter = t.chars().any(char::is_alphabetic);
        let mut push =
            |kind: FactKind, key: String, value: Option<f64>, percent: bool, dec: usize| {
                out.push(Fact {
                    kind,
                    text: t.to_owned(),
                    key,
                    value,
                    percent,
                    decimals: dec,
                    hedged,
                    spelled: false,
                    in_code_block: tok.in_block,
                    context: BTreeSet::new(),
                });
                out.last_mut().expect("just pushed").context = context(&tokens, &lower, i);
            };
        if t.contains('@') {
            push(FactKind::Code, w.to_owned(), None, false, 0);
        } else if date.is_match(t) {
            push(FactKind::Date, t.to_owned(), None, false, 0);
        } else if number.is_match(t) {
            let Some(mut v) = parse_number(t) else {
                continue;
            };
            let percent = t.ends_with('%') || matches!(next, "percent" | "per" | "pct");
            let mut dec = decimals(t);
            if let Some(scale) = scale_word(next) {
                v *= scale;
                dec = 0;
            }
            push(FactKind::Number, canonical(v), Some(v), percent, dec);
        } else if let Some(c) = time
            .captures(w)
            .filter(|c| c.get(2).is_some() || c.get(3).is_some())
        {
            let h: f64 = c[1].parse().unwrap_or(0.0);
            let m: f64 = c.get(2).map_or(0.0, |m| m.as_str().parse().unwrap_or(0.0));
            if h > 24.0 || m >= 60.0 {
                push(FactKind::Code, w.to_owned(), None, false, 0);
            } else {
                let key = format!("{}:{:02}", h as u32, m as u32);
                push(FactKind::Time, key, Some(h + m / 60.0), false, 0);
            }
        } else if let Some(c) = range.captures(t) {
            for part in [&c[1], &c[2]] {
                if let Some(v) = parse_number(part) {
                    push(
                        FactKind::Number,
                        canonical(v),
                        Some(v),
                        false,
                        decimals(part),
                    );
                }
            }
        } else if let Some(c) = amount.captures(w).filter(|_| currency) {
            let base: f64 = c[1].parse().unwrap_or(0.0);
            let scale = match &c[2] {
                "k" => 1e3,
                "m" => 1e6,
                _ => 1e9,
            };
            push(
                FactKind::Number,
                canonical(base * scale),
                Some(base * scale),
                false,
                0,
            );
        } else if has_digit {
            push(FactKind::Code, w.to_owned(), None, false, 0);
        } else if let Some(v) = NUMBER_WORDS.iter().find(|(n, _)| *n == w).map(|(_, v)| *v) {
            let value = scale_word(next).map_or(v, |s| v * s);
            push(FactKind::Number, canonical(value), Some(value), false, 0);
            out.last_mut().expect("just pushed").spelled = true;
        } else if names
            && has_letter
            && !tok.in_code
            && (is_acronym(t) || (!tok.initial && looks_like_name(t)))
        {
            push(FactKind::Name, stem(w), None, false, 0);
        }
    }
    out
}

/// Stems of the words within four tokens of token `i`, in the same sentence (units like `km/h`
/// included, figures and stop words not).
fn context(tokens: &[Token<'_>], lower: &[String], i: usize) -> BTreeSet<String> {
    let from = i.saturating_sub(4);
    let to = (i + 5).min(lower.len());
    (from..to)
        .filter(|j| *j != i && tokens[*j].sentence == tokens[i].sentence)
        .map(|j| lower[j].as_str())
        .filter(|w| w.chars().any(char::is_alphabetic) && !w.chars().any(|c| c.is_ascii_digit()))
        .filter(|w| w.chars().count() > 1 && !is_stopword(w))
        .map(stem)
        .collect()
}

/// `short` abbreviates `long`: same first letter, and its letters appear in `long` in order
/// ("Thu" / "Thursday", "ET" / "Eastern", "Corp" / "Corporation").
fn abbreviates(short: &str, long: &str) -> bool {
    let (s, l): (Vec<char>, Vec<char>) = (short.chars().collect(), long.chars().collect());
    if s.len() < 2 || s.len() >= l.len() || s[0] != l[0] {
        return false;
    }
    let mut it = l.iter();
    s.iter().all(|c| it.any(|x| x == c))
}

/// Whether two facts state the same thing (see the module docs for the equivalences).
pub fn equivalent(a: &Fact, b: &Fact) -> bool {
    if !a.kind.comparable(b.kind) {
        return false;
    }
    match (a.value, b.value) {
        (Some(x), Some(y)) => {
            let close = |x: f64, y: f64| (x - y).abs() <= 1e-9_f64.max(1e-9 * x.abs().max(y.abs()));
            if close(x, y) {
                return true;
            }
            // 15% = 0.15
            if (a.percent && close(x / 100.0, y)) || (b.percent && close(y / 100.0, x)) {
                return true;
            }
            // "about 3.1" = 3.11: the less precise one is the other rounded, and one is hedged.
            if a.hedged || b.hedged {
                let (precise, rough) = if a.decimals >= b.decimals {
                    (a, b)
                } else {
                    (b, a)
                };
                if precise.decimals > rough.decimals {
                    let p = 10f64.powi(rough.decimals as i32);
                    let rounded = (precise.value.unwrap_or(0.0) * p).round() / p;
                    return close(rounded, rough.value.unwrap_or(f64::NAN));
                }
            }
            false
        }
        _ if a.kind == FactKind::Name => {
            a.key == b.key || abbreviates(&a.key, &b.key) || abbreviates(&b.key, &a.key)
        }
        _ => a.key == b.key,
    }
}

/// Production facts the candidate does not state, each either changed (another fact of the same
/// type in the same place) or omitted. Names only count when changed.
pub fn fact_changes(production: &str, candidate: &str) -> Vec<FactChange> {
    let (mut pf, mut cf) = (facts(production), facts(candidate));
    // Bounded work on huge answers: the first facts are compared.
    pf.truncate(MAX_FACTS);
    cf.truncate(MAX_FACTS);
    let candidate_words: BTreeSet<String> = tokenize(candidate)
        .iter()
        .map(|t| t.text.to_lowercase())
        .collect();
    let spelled_values: Vec<f64> = candidate_words
        .iter()
        .filter_map(|w| number_word_value(w))
        .collect();
    let candidate_stems: BTreeSet<String> = candidate_words.iter().map(|w| stem(w)).collect();
    // A figure spelled out ("one hour" for `1 hour`) or a name written in lower case ("the admin
    // area" for "Admin") is still there.
    let spelled_in_candidate = |f: &Fact| {
        f.value.is_some_and(|v| spelled_values.contains(&v))
            || (f.kind == FactKind::Name && candidate_stems.contains(&f.key))
    };
    // A candidate fact can stand in for a missing one if production never states it, or if the
    // candidate states it more often than production does (one of its occurrences is then in a
    // new place: "5 members, 2 GB" → "5 members, 5 GB") and this occurrence fits the missing
    // fact's place better than the place where production states it. Per candidate fact: whether
    // it may replace, and how well it fits its own place in production.
    let homes: Vec<(bool, usize)> = cf
        .iter()
        .map(|c| {
            let home: Vec<&Fact> = pf.iter().filter(|q| equivalent(q, c)).collect();
            let repeated = cf.iter().filter(|q| equivalent(q, c)).count() > home.len();
            let fit = home
                .iter()
                .map(|q| q.context.intersection(&c.context).count())
                .max()
                .unwrap_or(0);
            (home.is_empty() || repeated, fit)
        })
        .collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for p in &pf {
        if cf.iter().any(|c| equivalent(p, c)) || spelled_in_candidate(p) {
            continue;
        }
        if !seen.insert((p.key.clone(), p.kind as u8)) {
            continue;
        }
        let replacement = cf
            .iter()
            .zip(&homes)
            .filter(|(c, (may, _))| {
                *may && c.kind.comparable(p.kind) && c.in_code_block == p.in_code_block
            })
            .map(|(c, (_, home_fit))| (c.context.intersection(&p.context).count(), *home_fit, c))
            .filter(|(fit, home_fit, _)| *fit > 0 && fit > home_fit)
            .max_by_key(|(fit, _, _)| *fit)
            .map(|(_, _, c)| c.clone());
        if p.kind == FactKind::Name && replacement.is_none() {
            continue;
        }
        out.push(FactChange {
            before: p.clone(),
            after: replacement,
        });
    }
    out
}

/// Numbers mentioned in a text, normalised (`1,249.50` → `1249.5`, `30%` stays), sorted and
/// deduplicated. Identifiers (`A-10023`, `v1.2.3`, `10am`) and list markers are not numbers.
pub fn numbers(text: &str) -> Vec<String> {
    let mut out: Vec<String> = facts(text)
        .into_iter()
        .filter(|f| f.kind == FactKind::Number && !f.spelled)
        .map(|f| {
            if f.percent {
                format!("{}%", f.key)
            } else {
                f.key
            }
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> Vec<(FactKind, String)> {
        facts(text).into_iter().map(|f| (f.kind, f.key)).collect()
    }

    fn changes(p: &str, c: &str) -> Vec<(String, Option<String>)> {
        fact_changes(p, c)
            .into_iter()
            .map(|c| (c.before.text, c.after.map(|a| a.text)))
            .collect()
    }

    #[test]
    fn list_markers_are_not_numbers() {
        assert!(numbers("1. Open Settings.\n2. Click Save.").is_empty());
        assert_eq!(numbers("Step 2 of 3"), vec!["2", "3"]);
    }

    #[test]
    fn kinds_of_facts() {
        use FactKind::*;
        assert_eq!(
            keys("Between 14:02 and 2024-03-15, call 1-800-555-0199 or ana@x.com about A-7."),
            vec![
                (Time, "14:02".into()),
                (Date, "2024-03-15".into()),
                (Code, "1-800-555-0199".into()),
                (Code, "ana@x.com".into()),
                (Code, "a-7".into()),
            ]
        );
        assert_eq!(
            keys("Shipped with UPS to Canberra. Thanks!"),
            vec![(Name, "ups".into()), (Name, "canberra".into())],
            "sentence-initial words are not names"
        );
        assert_eq!(
            keys("It takes 5-7 days"),
            vec![(Number, "5".into()), (Number, "7".into())]
        );
        assert_eq!(
            keys("`Retry-After` in:\n```\nSELECT 1\n```"),
            vec![(Number, "1".into())]
        );
    }

    #[test]
    fn equivalent_spellings_are_not_changes() {
        let same = [
            ("It costs 1,000 dollars.", "It costs 1000 dollars."),
            ("Search is 30% faster.", "Search is 30 percent quicker."),
            ("15% of $80 is $12.", "0.15 × 80 = 12 dollars."),
            ("The review is at 3 pm.", "The review is at 3:00 pm."),
            ("Give 30 days' notice.", "Give thirty days' notice."),
            (
                "The link expires after 1 hour.",
                "The link is valid for one hour.",
            ),
            ("Net income was $610 million.", "Net income was $610M."),
            ("5 km is 3.11 miles.", "5 km is about 3.1 miles."),
            (
                "Revenue was $4.2 billion.",
                "Revenue was 4.2 billion dollars.",
            ),
        ];
        for (p, c) in same {
            assert_eq!(changes(p, c), vec![], "{p} / {c}");
        }
    }

    #[test]
    fn changed_and_omitted_facts() {
        assert_eq!(
            changes(
                "Refunds are possible within 30 days.",
                "Refunds are possible within 14 days."
            ),
            vec![("30".into(), Some("14".into()))]
        );
        assert_eq!(
            changes(
                "It failed between 14:02 and 14:49 UTC.",
                "It failed from 14:02 to 14:19 UTC."
            ),
            vec![("14:49".into(), Some("14:19".into()))]
        );
        assert_eq!(
            changes(
                "Add 72 + 85 + 90 = 247, so the total is 247.",
                "The total is 247."
            ),
            vec![
                ("72".into(), None),
                ("85".into(), None),
                ("90".into(), None)
            ],
            "omitted, nothing stated instead"
        );
        assert_eq!(
            changes("It shipped with UPS today.", "It shipped with FedEx today."),
            vec![("UPS".into(), Some("FedEx".into()))]
        );
        assert_eq!(
            changes("Open Admin and then Billing.", "Go to the admin area."),
            vec![],
            "dropped names are not changes"
        );
        assert_eq!(
            changes("5 km is 3.11 miles.", "5 km is 3.1 miles."),
            vec![("3.11".into(), Some("3.1".into()))],
            "rounding only with a hedge"
        );
        assert_eq!(
            changes(
                "- 5 members\n- 2 GB of storage\n- 7 days of history",
                "- 5 members\n- 5 GB of storage\n- 7 days of history"
            ),
            vec![("2".into(), Some("5".into()))],
            "a figure production states elsewhere, repeated in a new place"
        );
        assert_eq!(
            changes(
                "The increase is 120 units, so sales rose by 30%.",
                "520 / 400 = 1.3, which is a 30% increase."
            ),
            vec![("120".into(), None)],
            "a figure production states too is not a replacement"
        );
    }
}
