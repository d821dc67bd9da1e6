//! Card and IBAN validation: printed digit-group layouts, the Luhn checksum and ISO 13616 mod-97.

/// Report the cards inside `run`, digit groups joined by single spaces or dashes, as spans
/// relative to it; `left_open` / `right_open` say whether the run may start / end a card.
pub(super) fn cards(
    run: &str,
    left_open: bool,
    right_open: bool,
    out: &mut dyn FnMut(usize, usize),
) {
    let mut groups = Vec::new(); // (start, end) of each digit group
    let mut g = 0;
    for (i, b) in run.bytes().enumerate() {
        if !b.is_ascii_digit() {
            groups.push((g, i));
            g = i + 1;
        }
    }
    groups.push((g, run.len()));
    let mut i = 0;
    'starts: while i < groups.len() {
        let first = groups[i].1 - groups[i].0;
        if (i > 0 || left_open) && (first == 4 || (13..=19).contains(&first)) {
            // Every group has a digit, so more than 19 groups never fit in one card.
            for j in (i..groups.len().min(i + 19)).rev() {
                let digits: usize = groups[i..=j].iter().map(|(a, b)| b - a).sum();
                let open = j + 1 < groups.len() || right_open;
                let (s, e) = (groups[i].0, groups[j].1);
                if (13..=19).contains(&digits)
                    && open
                    && card_shape(run, &groups[i..=j])
                    && luhn(&run[s..e])
                {
                    out(s, e);
                    i = j + 1;
                    continue 'starts;
                }
            }
        }
        i += 1;
    }
}

/// One block of 13–19 digits, or the printed layouts `4-4-4-4(-1..4)`, `4-6-4` and `4-6-5`
/// with one kind of separator; issuers start with 2 to 6.
fn card_shape(run: &str, groups: &[(usize, usize)]) -> bool {
    let bytes = run.as_bytes();
    if !(b'2'..=b'6').contains(&bytes[groups[0].0]) {
        return false;
    }
    let len = |g: &(usize, usize)| g.1 - g.0;
    let [head, rest @ .., last] = groups else {
        return true;
    };
    let amex = rest.len() == 1 && len(&rest[0]) == 6 && (4..=5).contains(&len(last));
    let fours = rest.iter().all(|g| len(g) == 4) && (1..=4).contains(&len(last));
    let sep = bytes[head.1];
    len(head) == 4 && (amex || fours) && groups[1..].iter().all(|(a, _)| bytes[a - 1] == sep)
}

/// The Luhn checksum of the digits in `s` (other characters ignored).
fn luhn(s: &str) -> bool {
    let digits = s.bytes().rev().filter(u8::is_ascii_digit);
    let sum: u32 = digits
        .enumerate()
        .map(|(k, d)| {
            let d = u32::from(d - b'0');
            match (k % 2, d) {
                (0, _) => d,
                (_, 5..) => 2 * d - 9,
                _ => 2 * d,
            }
        })
        .sum();
    sum % 10 == 0
}

/// ISO 13616 mod-97 check of an upper-case IBAN of 15–34 characters, spaces ignored.
pub(super) fn iban_checksum(s: &str) -> bool {
    let chars = || s.bytes().filter(|b| *b != b' ');
    if !(15..=34).contains(&chars().count()) || !chars().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let mut rem: u32 = 0;
    for b in chars().skip(4).chain(chars().take(4)) {
        rem = match b {
            b'0'..=b'9' => (rem * 10 + u32::from(b - b'0')) % 97,
            _ => (rem * 100 + u32::from(b.to_ascii_uppercase() - b'A') + 10) % 97,
        };
    }
    rem == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(run: &str) -> Vec<&str> {
        let mut found = Vec::new();
        cards(run, true, true, &mut |s, e| found.push(&run[s..e]));
        found
    }

    #[test]
    fn luhn_accepts_test_cards_only() {
        assert!(luhn("4111 1111 1111 1111"));
        assert!(luhn("5500-0000-0000-0004"));
        assert!(luhn("378282246310005"));
        assert!(!luhn("4111111111111112"));
    }

    #[test]
    fn cards_follow_printed_layouts() {
        assert_eq!(spans("4111 1111 1111 1111"), ["4111 1111 1111 1111"]);
        assert_eq!(spans("3782 822463 10005"), ["3782 822463 10005"]);
        assert_eq!(spans("12 4111111111111111 7"), ["4111111111111111"]);
        assert!(spans("2024-555-123-4567").is_empty());
        assert!(spans("4111-1111 1111-1111").is_empty());
        assert!(spans("9111111111111111").is_empty());
        let mut found = 0;
        cards("4111111111111111", false, true, &mut |_, _| found += 1);
        assert_eq!(found, 0, "a run glued to a word on its left is no card");
    }

    #[test]
    fn iban_checksum_is_mod_97() {
        assert!(iban_checksum("GB82 WEST 1234 5698 7654 32"));
        assert!(iban_checksum("DE89370400440532013000"));
        assert!(!iban_checksum("GB82 WEST 1234 5698 7654 33"));
        assert!(!iban_checksum("GB82WEST"));
        assert!(!iban_checksum("GB82-WEST-1234-5698-7654-32"));
    }
}
