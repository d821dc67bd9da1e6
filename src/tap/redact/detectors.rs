//! The built-in detectors: regular expressions for candidates, then boundary, checksum and shape checks.
//!
//! The `regex` crate has no look-around, so every candidate is checked against its neighbours here:
//! a value glued to letters or to a longer number is not a match (a letter right after a backslash
//! counts as a JSON escape such as `\n`, not as a letter).

use std::net::Ipv6Addr;
use std::sync::LazyLock;

use regex::Regex;

use super::checksums::{cards, iban_checksum};
use super::Kind;

/// Cheap facts about a text that let detectors skip it without running a regex: each detector
/// runs only when the text has what every match of it needs (a redaction runs on every string
/// of every captured body, and most strings have no candidate at all).
pub(super) struct Hints {
    pub at: bool,
    /// ASCII digits in the text.
    pub digits: usize,
    pub colons: usize,
    pub dots: usize,
    pub plus: bool,
    pub angle: bool,
    /// Two capital letters followed by two digits (how every IBAN starts).
    pub iban_head: bool,
}

impl Hints {
    /// Scan `text` once.
    pub fn of(text: &str) -> Self {
        let mut h = Self {
            at: false,
            digits: 0,
            colons: 0,
            dots: 0,
            plus: false,
            angle: false,
            iban_head: false,
        };
        // The three bytes before the current one.
        let mut last = [0u8; 3];
        for b in text.bytes() {
            match b {
                b'@' => h.at = true,
                b'0'..=b'9' => {
                    h.digits += 1;
                    h.iban_head |= last[0].is_ascii_uppercase()
                        && last[1].is_ascii_uppercase()
                        && last[2].is_ascii_digit();
                }
                b':' => h.colons += 1,
                b'.' => h.dots += 1,
                b'+' => h.plus = true,
                b'<' => h.angle = true,
                _ => {}
            }
            last = [last[1], last[2], b];
        }
        h
    }

    /// Enough digits for a card number (13–19).
    fn card(&self) -> bool {
        self.digits >= 13
    }

    /// Enough for an international number (`+`, 8–15 digits) or a NANP one (10 digits).
    fn phone(&self) -> (bool, bool) {
        (self.plus && self.digits >= 8, self.digits >= 10)
    }

    /// Enough for a dotted quad (4 digits, 3 dots) or an IPv6 address (2 colons and a digit).
    fn ip(&self) -> (bool, bool) {
        (
            self.digits >= 4 && self.dots >= 3,
            self.colons >= 2 && self.digits >= 1,
        )
    }
}

struct Patterns {
    email: Regex,
    phone_intl: Regex,
    phone_nanp: Regex,
    digit_run: Regex,
    iban: Regex,
    ipv4: Regex,
    ipv6: Regex,
    secret: Regex,
    bearer: Regex,
}

const OCTET: &str = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";

static PATTERNS: LazyLock<Patterns> = LazyLock::new(|| {
    let re = |p: &str| Regex::new(p).expect("built-in redaction pattern");
    Patterns {
        email: re(
            r"[\w%+-]+(?:\.[\w%+-]+)*@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?\.)+\p{L}{2,}",
        ),
        phone_intl: re(r"\+[0-9]{1,4}(?:[ .-]?\([0-9]{1,5}\))?(?:[ .-]?[0-9]+){1,8}"),
        phone_nanp: re(concat!(
            r"(?:1[-. ])?(?:\([0-9]{3}\) ?[0-9]{3}[-. ][0-9]{4}",
            r"|[0-9]{3}-[0-9]{3}-[0-9]{4}|[0-9]{3}\.[0-9]{3}\.[0-9]{4})"
        )),
        digit_run: re(r"[0-9]+(?:[ -][0-9]+)*"),
        iban: re(r"[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?"),
        ipv4: re(&format!(r"(?:{OCTET}\.){{3}}{OCTET}")),
        ipv6: re(r"(?:[0-9A-Fa-f]{1,4})?(?::[0-9A-Fa-f]{0,4}){2,8}(?:\.[0-9]{1,3}){0,3}"),
        secret: re(concat!(
            r"sk-[A-Za-z0-9_-]{20,}",
            r"|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*",
            r"|(?:AKIA|ASIA)[A-Z0-9]{16}",
            r"|gh[pousr]_[A-Za-z0-9]{30,}",
            r"|github_pat_[A-Za-z0-9_]{20,}",
            r"|xox[abprs]-[A-Za-z0-9-]{10,}",
            r"|AIza[A-Za-z0-9_-]{35}",
            r"|[sr]k_(?:live|test)_[A-Za-z0-9]{10,}",
        )),
        bearer: re(r"(?i:bearer)[ \t]+([A-Za-z0-9._~+/=-]{8,})"),
    }
});

/// The shortest text either secret pattern can match (`xox?-` and 10 more; `Bearer` with one
/// blank and an 8-character token): shorter strings — most of a chat body's values — skip both.
const SECRET_MIN_LEN: usize = 15;

/// What to do with a regex candidate.
enum Verdict {
    /// Mask this span (may be narrower than the candidate).
    Accept(usize, usize),
    /// Not a match; look again from the next character (a shorter match may start inside).
    Retry,
    /// Not a match; look again after the candidate.
    Skip,
}

/// Report the spans of `kind` in `text` to `out`.
pub(super) fn find(kind: Kind, text: &str, hints: &Hints, out: &mut dyn FnMut(usize, usize)) {
    let p = &*PATTERNS;
    match kind {
        Kind::Email if hints.at => scan(&p.email, text, out, email),
        Kind::Phone => {
            let (intl, nanp) = hints.phone();
            if intl {
                scan(&p.phone_intl, text, out, phone_intl);
            }
            if nanp {
                scan(&p.phone_nanp, text, out, phone_nanp);
            }
        }
        Kind::Card if hints.card() => {
            for m in p.digit_run.find_iter(text).filter(|m| m.len() >= 13) {
                let left_open = !number_before(text, m.start(), &['.', ',']);
                let right_open = !number_after(text, m.end(), &['.', ',']);
                let at = m.start();
                cards(m.as_str(), left_open, right_open, &mut |s, e| {
                    out(at + s, at + e)
                });
            }
        }
        Kind::Iban if hints.iban_head => scan(&p.iban, text, out, iban),
        Kind::Ip => {
            let (v4, v6) = hints.ip();
            if v4 {
                scan(&p.ipv4, text, out, ipv4);
            }
            if v6 {
                scan(&p.ipv6, text, out, ipv6);
            }
        }
        Kind::Secret if text.len() >= SECRET_MIN_LEN => {
            scan(&p.secret, text, out, secret);
            if !mentions_bearer(text) {
                return;
            }
            for c in p.bearer.captures_iter(text) {
                let (all, token) = (c.get(0).expect("group 0"), c.get(1).expect("group 1"));
                let end = token.start() + token.as_str().trim_end_matches(['.', ',']).len();
                let t = &text[token.start()..end];
                let tokenish = t.bytes().any(|b| b.is_ascii_digit()) || t.len() >= 20;
                if tokenish && !word_before(text, all.start()) && !word_after(text, end) {
                    out(token.start(), end);
                }
            }
        }
        _ => {}
    }
}

/// Whether `text` contains `bearer` in any case: what the `Bearer` token pattern needs, checked
/// without running it (a case-insensitive pattern has no fast literal prefilter).
fn mentions_bearer(text: &str) -> bool {
    let b = text.as_bytes();
    memchr::memchr2_iter(b'b', b'B', b).any(|i| {
        b.get(i + 1..i + 6)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"earer"))
    })
}

/// The key under which a value of `kind` is numbered: equal keys share a placeholder.
pub(super) fn normalize(kind: Kind, value: &str) -> String {
    match kind {
        Kind::Email | Kind::Ip => value.to_lowercase(),
        Kind::Phone | Kind::Card | Kind::Iban => value
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '+')
            .collect(),
        Kind::Secret => value.to_owned(),
    }
}

fn scan(
    re: &Regex,
    text: &str,
    out: &mut dyn FnMut(usize, usize),
    check: fn(&str, usize, usize) -> Verdict,
) {
    let mut at = 0;
    while let Some(m) = re.find_at(text, at) {
        match check(text, m.start(), m.end()) {
            Verdict::Accept(s, e) => {
                out(s, e);
                at = m.end();
            }
            Verdict::Retry => {
                at = m.start() + text[m.start()..].chars().next().map_or(1, char::len_utf8)
            }
            Verdict::Skip => at = m.end(),
        }
        if at >= text.len() {
            break;
        }
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn prev_char(text: &str, i: usize) -> Option<char> {
    text[..i].chars().next_back()
}

fn next_char(text: &str, i: usize) -> Option<char> {
    text[i..].chars().next()
}

/// Whether a word continues right before `i` (a JSON escape like `\n` or `\u00e9` does not count).
fn word_before(text: &str, i: usize) -> bool {
    prev_char(text, i).is_some_and(is_word) && !escape_before(text, i)
}

/// Whether a JSON escape (`\n`, `\uXXXX`) ends at `i`.
fn escape_before(text: &str, i: usize) -> bool {
    let head = &text.as_bytes()[..i];
    matches!(head, [.., b'\\', b'n' | b'r' | b't' | b'b' | b'f'])
        || matches!(head, [.., b'\\', b'u', a, b, c, d]
            if [a, b, c, d].iter().all(|h| h.is_ascii_hexdigit()))
}

fn word_after(text: &str, i: usize) -> bool {
    next_char(text, i).is_some_and(is_word)
}

/// Whether a word, or a number joined by one of `joiners` (as in `1.5` or `12-34`), ends before `i`.
fn number_before(text: &str, i: usize, joiners: &[char]) -> bool {
    word_before(text, i)
        || prev_char(text, i).is_some_and(|c| {
            joiners.contains(&c) && prev_char(text, i - 1).is_some_and(|d| d.is_ascii_digit())
        })
}

/// Whether a word, or a number joined by one of `joiners`, starts at `i`.
fn number_after(text: &str, i: usize, joiners: &[char]) -> bool {
    word_after(text, i)
        || next_char(text, i).is_some_and(|c| {
            joiners.contains(&c) && next_char(text, i + 1).is_some_and(|d| d.is_ascii_digit())
        })
}

fn email(text: &str, mut s: usize, e: usize) -> Verdict {
    // `\nbob@x.org` in raw JSON text: the `n` belongs to the escape, not to the address.
    if text[..s].ends_with('\\') {
        let rest = &text.as_bytes()[s..e];
        let k = match rest {
            [b'n' | b'r' | b't' | b'b' | b'f', ..] => 1,
            [b'u', a, b, c, d, ..] if [a, b, c, d].iter().all(|h| h.is_ascii_hexdigit()) => 5,
            _ => 0,
        };
        // The skipped bytes are ASCII, so `s + k` stays on a character boundary.
        if k > 0 {
            if rest.get(k).is_none_or(|b| b"@.".contains(b)) {
                return Verdict::Skip;
            }
            s += k;
        }
    }
    let domain = &text[s + text[s..e].find('@').expect("email has @") + 1..e];
    let first = domain.split('.').next().unwrap_or_default();
    // Asset names like `icon@2x.png` are not addresses.
    let retina = first.len() >= 2
        && first.ends_with(['x', 'X'])
        && first[..first.len() - 1].bytes().all(|b| b.is_ascii_digit());
    if retina {
        Verdict::Skip
    } else {
        Verdict::Accept(s, e)
    }
}

fn phone_intl(text: &str, s: usize, mut e: usize) -> Verdict {
    if word_before(text, s) || prev_char(text, s) == Some('+') || word_after(text, e) {
        return Verdict::Retry;
    }
    let digits = |t: &str| t.bytes().filter(u8::is_ascii_digit).count();
    while digits(&text[s..e]) > 15 {
        match text[s..e].rfind(|c: char| !c.is_ascii_digit()) {
            Some(i) if i > 0 => e = s + i,
            _ => return Verdict::Retry,
        }
    }
    let (n, t) = (digits(&text[s..e]), &text[s..e]);
    if (8..=15).contains(&n)
        && t.ends_with(|c: char| c.is_ascii_digit())
        && t.matches('(').count() == t.matches(')').count()
    {
        Verdict::Accept(s, e)
    } else {
        Verdict::Retry
    }
}

fn phone_nanp(text: &str, s: usize, e: usize) -> Verdict {
    let before = if text[s..].starts_with('(') {
        word_before(text, s)
    } else {
        number_before(text, s, &['.', ',', '-', '/', '+'])
    };
    if before || number_after(text, e, &['.', ',', '-', '/']) {
        Verdict::Retry
    } else {
        Verdict::Accept(s, e)
    }
}

fn iban(text: &str, s: usize, e: usize) -> Verdict {
    if word_before(text, s) {
        return Verdict::Retry;
    }
    let ends = std::iter::once(e).chain(text[s..e].rmatch_indices(' ').map(|(i, _)| s + i));
    for end in ends {
        if (end == e && word_after(text, e)) || !iban_checksum(&text[s..end]) {
            continue;
        }
        return Verdict::Accept(s, end);
    }
    Verdict::Retry
}

fn ipv4(text: &str, s: usize, e: usize) -> Verdict {
    if number_before(text, s, &['.']) || number_after(text, e, &['.']) {
        Verdict::Retry
    } else {
        Verdict::Accept(s, e)
    }
}

fn ipv6(text: &str, s: usize, e: usize) -> Verdict {
    if word_before(text, s) || matches!(prev_char(text, s), Some(':' | '.')) || word_after(text, e)
    {
        return Verdict::Retry;
    }
    let mut end = e;
    let parses = |end: usize| text[s..end].parse::<Ipv6Addr>().is_ok();
    if !parses(end) {
        if let Some(dot) = text[s..end].find('.') {
            end = s + dot;
        }
        if text[s..end].ends_with(':') && !text[s..end].ends_with("::") {
            end -= 1;
        }
        if !parses(end) {
            return Verdict::Retry;
        }
    }
    let addr = &text[s..end];
    let groups = addr.split(':').filter(|g| !g.is_empty()).count();
    // `::1` is an address, `1::` in prose is not worth the risk.
    let lone = groups < 2 && !addr.starts_with("::");
    if lone || !addr.bytes().any(|b| b.is_ascii_digit()) || next_char(text, e) == Some(':') {
        return Verdict::Retry;
    }
    // `xs[1::2]` is a slice, not an address; `[::1]:8080` is.
    let slice = prev_char(text, s) == Some('[')
        && text[end..].starts_with(']')
        && !text[end..].starts_with("]:")
        && groups < 3;
    if slice {
        Verdict::Retry
    } else {
        Verdict::Accept(s, end)
    }
}

fn secret(text: &str, s: usize, e: usize) -> Verdict {
    if word_before(text, s) || word_after(text, e) {
        return Verdict::Skip;
    }
    let m = &text[s..e];
    // `sk-` keys are random: a lower-case slug like `sk-long-kebab-name-here` is not one.
    if m.starts_with("sk-")
        && !m
            .bytes()
            .any(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    {
        return Verdict::Skip;
    }
    Verdict::Accept(s, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_not_words() {
        assert!(!word_before(r"a\n4111", 3));
        assert!(word_before("an4111", 2));
        assert!(number_before("1.5", 2, &['.']));
        assert!(!number_before("a.5", 2, &['.']));
        assert!(number_after("1.2.3.4.5", 7, &['.']));
    }

    #[test]
    fn hints_see_the_triggers() {
        let h = Hints::of("a@b 1 : < +.");
        assert!(h.at && h.digits == 1 && h.colons == 1 && h.angle && h.plus && h.dots == 1);
        let h = Hints::of("plain words");
        assert!(!h.at && h.digits == 0 && h.colons == 0 && !h.angle && !h.plus);
        assert!(Hints::of("iban GB82 WEST").iban_head);
        assert!(!Hints::of("Gb82 G-82 GB8 2").iban_head);
        assert!(Hints::of("4111 1111 1111 1").card());
        assert!(!Hints::of("4111 1111 1111").card());
        assert_eq!(Hints::of("+1 555 123 45").phone(), (true, false));
        assert_eq!(Hints::of("555-123-4567").phone(), (false, true));
        assert_eq!(Hints::of("1.2.3.4").ip(), (true, false));
        assert_eq!(Hints::of("1.2.3 ::1").ip(), (false, true));
    }

    #[test]
    fn values_normalize_to_one_key() {
        assert_eq!(
            normalize(Kind::Email, "Alice@Example.COM"),
            "alice@example.com"
        );
        assert_eq!(
            normalize(Kind::Card, "4111-1111 1111 1111"),
            "4111111111111111"
        );
        assert_eq!(normalize(Kind::Phone, "+1 (555) 123-4567"), "+15551234567");
        assert_eq!(normalize(Kind::Secret, "sk-AbC"), "sk-AbC");
    }

    /// The shortest match of every secret alternative (and of `Bearer`) is at least
    /// [`SECRET_MIN_LEN`] long, and the bound is tight: the length hint never hides a secret.
    #[test]
    fn no_secret_is_shorter_than_the_length_hint() {
        let p = &*PATTERNS;
        let shortest = [
            format!("sk-{}", "a".repeat(20)),
            format!("eyJ{}.ab.", "a".repeat(10)),
            format!("AKIA{}", "A".repeat(16)),
            format!("ghp_{}", "a".repeat(30)),
            format!("github_pat_{}", "a".repeat(20)),
            format!("xoxb-{}", "a".repeat(10)),
            format!("AIza{}", "a".repeat(35)),
            format!("sk_live_{}", "a".repeat(10)),
        ];
        for s in &shortest {
            let m = p.secret.find(s).unwrap_or_else(|| panic!("{s} matches"));
            assert_eq!(m.as_str(), s);
            assert!(s.len() >= SECRET_MIN_LEN, "{s}");
        }
        assert_eq!(shortest.iter().map(String::len).min(), Some(SECRET_MIN_LEN));
        let bearer = "Bearer 1234abcd";
        assert_eq!(bearer.len(), SECRET_MIN_LEN);
        assert!(p.bearer.is_match(bearer) && !p.bearer.is_match(&bearer[..14]));
        let mut found = Vec::new();
        let text = "xoxb-0123456789";
        find(Kind::Secret, text, &Hints::of(text), &mut |s, e| {
            found.push((s, e))
        });
        assert_eq!(found, [(0, SECRET_MIN_LEN)]);
    }
}
