//! Tests of the redactor: a table per detector, placeholders, sessions, config errors, properties.

use super::*;
use crate::config::CustomPattern;
use proptest::prelude::*;
use serde_json::json;

fn redactor() -> Redactor {
    Redactor::new(&RedactConfig::default()).unwrap()
}

fn redact(text: &str) -> String {
    redactor().session().redact_str(text).into_owned()
}

fn check(cases: &[(&str, &str)]) {
    let r = redactor();
    for (input, want) in cases {
        let mut session = r.session();
        assert_eq!(session.redact_str(input), *want, "input: {input:?}");
    }
}

fn unchanged(inputs: &[&str]) {
    let r = redactor();
    for input in inputs {
        let got = r.session().redact_str(input);
        assert!(matches!(got, Cow::Borrowed(_)), "{input:?} became {got:?}");
    }
}

#[test]
fn emails() {
    check(&[
        ("mail alice@example.com now", "mail <EMAIL_1> now"),
        ("<alice@example.com>", "<<EMAIL_1>>"),
        ("mailto:alice@example.com", "mailto:<EMAIL_1>"),
        ("(alice@example.com), thanks", "(<EMAIL_1>), thanks"),
        ("'alice@example.com'.", "'<EMAIL_1>'."),
        ("a\"bob@x.org\"", "a\"<EMAIL_1>\""),
        ("first.last+tag@mail.example.co.uk.", "<EMAIL_1>."),
        ("x@a.io;y@b.io", "<EMAIL_1>;<EMAIL_2>"),
        (
            r#"{"c":"hi\nalice@example.com"}"#,
            r#"{"c":"hi\n<EMAIL_1>"}"#,
        ),
        ("José.Núñez@correo.es", "<EMAIL_1>"),
        (
            r"to:\u003calice@example.com\u003e",
            r"to:\u003c<EMAIL_1>\u003e",
        ),
    ]);
    unchanged(&[
        "@handle",
        "user@localhost",
        "a@b",
        "icon@2x.png",
        "lodash@4.17.21",
        "x @ y.com",
    ]);
}

#[test]
fn emails_in_json_with_escapes() {
    let text = r#"{"content": "He said \"alice@example.com\"\nand\t\"bob@x.org\".", "n": 5}"#;
    let mut value: serde_json::Value = serde_json::from_str(text).unwrap();
    redactor().session().redact_json(&mut value);
    assert_eq!(
        value,
        json!({"content": "He said \"<EMAIL_1>\"\nand\t\"<EMAIL_2>\".", "n": 5})
    );
}

#[test]
fn phones() {
    check(&[
        ("+1 (555) 123-4567", "<PHONE_1>"),
        ("call +44 20 7946 0958.", "call <PHONE_1>."),
        ("+4915123456789", "<PHONE_1>"),
        ("+33.1.23.45.67.89", "<PHONE_1>"),
        ("tel:+1-555-123-4567,", "tel:<PHONE_1>,"),
        ("call (555) 123-4567.", "call <PHONE_1>."),
        ("555-123-4567", "<PHONE_1>"),
        ("555.123.4567", "<PHONE_1>"),
        ("1-555-123-4567 or 555-123-4567", "<PHONE_1> or <PHONE_2>"),
        ("+44 20 7946 0958 2024", "<PHONE_1> 2024"),
    ]);
    unchanged(&[
        "in 2024",
        "$1,299.99",
        "order A-10023",
        "on 2024-03-15",
        "at 10:30:45",
        "v1.2.3",
        "version 10.2.3.4567",
        "+12 345",
        "x+15551234567",
        "12-555-123-4567",
        "555-123-4567-8",
        "id A555-123-4567",
        "call 5551234567",
        "1+1=2",
    ]);
}

#[test]
fn cards() {
    check(&[
        ("4111 1111 1111 1111", "<CARD_1>"),
        ("card: 5500-0000-0000-0004.", "card: <CARD_1>."),
        ("378282246310005", "<CARD_1>"),
        (
            "amex 3782 822463 10005 exp 12/27",
            "amex <CARD_1> exp 12/27",
        ),
        ("qty 12 4111 1111 1111 1111", "qty 12 <CARD_1>"),
        (r"pay\n4111111111111111", r"pay\n<CARD_1>"),
        (r"caf\u00e9 4111111111111111", r"caf\u00e9 <CARD_1>"),
        (r"\u00a0+1 (555) 123-4567", r"\u00a0<PHONE_1>"),
    ]);
    unchanged(&[
        "4111 1111 1111 1112",
        "41111111111111111111",
        "x4111111111111111",
        "0.4111111111111111",
        "4111-1111 1111-1111",
        "1710000000000",
        "9111111111111111",
        "1 234 567 890 123 455",
        "order 2024-555-123-4567",
        "4111 1111 111 11111",
    ]);
}

#[test]
fn ibans() {
    check(&[
        ("GB82 WEST 1234 5698 7654 32", "<IBAN_1>"),
        ("DE89370400440532013000", "<IBAN_1>"),
        (
            "IBAN: DE89 3704 0044 0532 0130 00, thanks",
            "IBAN: <IBAN_1>, thanks",
        ),
        ("to GB82 WEST 1234 5698 7654 32 EUR", "to <IBAN_1> EUR"),
    ]);
    unchanged(&[
        "GB82 WEST 1234 5698 7654 33",
        "DE89370400440532013001",
        "XDE89370400440532013000",
        "DE89370400440532013000abc",
    ]);
}

#[test]
fn ips() {
    check(&[
        ("from 192.168.1.20", "from <IP_1>"),
        ("10.0.0.1:8080", "<IP_1>:8080"),
        ("10.0.0.0/8, 255.255.255.255.", "<IP_1>/8, <IP_2>."),
        ("2001:db8::1", "<IP_1>"),
        ("::1", "<IP_1>"),
        ("http://[::1]:8080/", "http://[<IP_1>]:8080/"),
        ("fe80::1%eth0", "<IP_1>%eth0"),
        ("2001:0db8:85a3:0000:0000:8a2e:0370:7334", "<IP_1>"),
        ("::ffff:192.0.2.1", "<IP_1>"),
        ("at 2001:db8::2: down", "at <IP_1>: down"),
    ]);
    unchanged(&[
        "1.2.3",
        "1.2.3.4.5",
        "v1.2.3.4",
        "256.1.1.1",
        "01.2.3.4",
        "10:30",
        "10:30:45",
        "std::vec::Vec",
        "Foo::Bar2",
        "deadbeef",
        "xs[1::2]",
        "1:2:3:4:5:6:7:8:9",
        "1::",
    ]);
}

#[test]
fn secrets() {
    check(&[
        (
            concat!("key sk-proj-", "abc123DEF456ghi789JKL0"),
            "key <SECRET_1>",
        ),
        (
            concat!("OPENAI_API_KEY=sk-", "abcdefghijklmnopqrstuvwxyz012345"),
            "OPENAI_API_KEY=<SECRET_1>",
        ),
        (
            concat!(
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
                ".eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
            ),
            "<SECRET_1>",
        ),
        (concat!("AKIA", "IOSFODNN7EXAMPLE"), "<SECRET_1>"),
        (
            concat!("gh", "p_0123456789abcdefghijABCDEFGHIJabcdef"),
            "<SECRET_1>",
        ),
        (
            concat!("github_", "pat_11ABCDEFG0123456789_abcdefghijklmnop"),
            "<SECRET_1>",
        ),
        (
            concat!("xox", "b-123456789012-1234567890123-AbCdEfGhIjKlMnOp"),
            "<SECRET_1>",
        ),
        (
            concat!("AIza", "SyA-1234567890abcdefghijklmnopqrstu"),
            "<SECRET_1>",
        ),
        (
            "Authorization: Bearer abc123.def456-ghi",
            "Authorization: Bearer <SECRET_1>",
        ),
        (
            concat!("sk_", "live_4eC39HqLyjWDarjtT1zdp7dc"),
            "<SECRET_1>",
        ),
        (
            concat!("rk_", "live_4eC39HqLyjWDarjtT1zdp7dc"),
            "<SECRET_1>",
        ),
    ]);
    unchanged(&[
        "task-management-system-overview-doc",
        "sk-short1",
        "the bearer of bad news",
        "risk-assessment-framework-2024-long",
        "eyJhbGciOiJ9",
    ]);
}

#[test]
fn secrets_win_overlaps() {
    let key = concat!("sk-", "ABCDEF4111111111111111");
    assert_eq!(redact(&format!("use {key} now")), "use <SECRET_1> now");
    let bearer = concat!("Bearer sk-", "ABCDEFGHIJ0123456789xyz");
    let bare = concat!("sk-", "ABCDEFGHIJ0123456789xyz");
    assert_eq!(
        redact(&format!("{bearer} / {bare}")),
        "Bearer <SECRET_1> / <SECRET_1>"
    );
}

#[test]
fn custom_patterns() {
    let config = RedactConfig {
        custom: vec![CustomPattern {
            name: "employee_id".into(),
            pattern: "EMP-[0-9]{6}".into(),
        }],
        ..RedactConfig::default()
    };
    let r = Redactor::new(&config).unwrap();
    let mut s = r.session();
    assert_eq!(
        s.redact_str("EMP-123456 and EMP-654321 and EMP-123456"),
        "<EMPLOYEE_ID_1> and <EMPLOYEE_ID_2> and <EMPLOYEE_ID_1>"
    );
    assert_eq!(s.counts().get("employee_id"), Some(&3));
    assert_eq!(s.redact_str("<EMPLOYEE_ID_2>"), "<EMPLOYEE_ID_2>");
}

#[test]
fn placeholders_are_consistent_across_a_request() {
    let mut request = json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "I am alice@example.com, cc bob@x.org, card 4111 1111 1111 1111"},
            {"role": "assistant", "content": "Hello Alice@Example.com, card 4111-1111-1111-1111 noted"},
        ],
        "user": "alice@example.com",
        "metadata": {"alice@example.com": ["bob@x.org", 42, null, true]},
    });
    let r = redactor();
    let mut s = r.session();
    s.redact_json(&mut request);
    assert_eq!(
        request,
        json!({
            "model": "gpt-4o",
            "messages": [
                {"role": "user", "content": "I am <EMAIL_1>, cc <EMAIL_2>, card <CARD_1>"},
                {"role": "assistant", "content": "Hello <EMAIL_1>, card <CARD_1> noted"},
            ],
            "user": "<EMAIL_1>",
            "metadata": {"alice@example.com": ["<EMAIL_2>", 42, null, true]},
        })
    );
    let counts: Vec<_> = s.counts().iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(counts, [("card", 2), ("email", 5)]);
    // The response of the same exchange reuses the numbering; a new exchange starts over.
    assert_eq!(s.redact_str("bye bob@x.org"), "bye <EMAIL_2>");
    assert_eq!(r.session().redact_str("bye bob@x.org"), "bye <EMAIL_1>");
}

#[test]
fn counts_by_kind() {
    let r = redactor();
    let mut s = r.session();
    s.redact_str("a@b.io a@b.io +1 (555) 123-4567 from 10.0.0.1");
    let counts: Vec<_> = s.counts().iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(counts, [("email", 2), ("ip", 1), ("phone", 1)]);
}

#[test]
fn disabled_or_narrowed_configs() {
    let off = RedactConfig {
        enabled: false,
        ..RedactConfig::default()
    };
    let r = Redactor::new(&off).unwrap();
    let mut s = r.session();
    let text = "alice@example.com 4111 1111 1111 1111";
    assert!(matches!(s.redact_str(text), Cow::Borrowed(_)));
    let mut v = json!({"a": text});
    s.redact_json(&mut v);
    assert_eq!(v, json!({"a": text}));
    assert!(s.counts().is_empty());

    let email_only = RedactConfig {
        kinds: vec!["Email".into()],
        ..RedactConfig::default()
    };
    let r = Redactor::new(&email_only).unwrap();
    assert_eq!(
        r.session().redact_str("a@b.io 555-123-4567"),
        "<EMAIL_1> 555-123-4567"
    );
}

#[test]
fn config_errors_name_the_culprit() {
    let bad_kind = RedactConfig {
        kinds: vec!["email".into(), "ssn".into()],
        ..RedactConfig::default()
    };
    let err = Redactor::new(&bad_kind).err().unwrap();
    assert!(matches!(&err, RedactError::UnknownKind(k) if k == "ssn"));
    assert!(err.to_string().contains("\"ssn\""), "{err}");

    let custom = |name: &str, pattern: &str| RedactConfig {
        custom: vec![CustomPattern {
            name: name.into(),
            pattern: pattern.into(),
        }],
        ..RedactConfig::default()
    };
    for name in ["emp-id", "", "ÉMAIL"] {
        let err = Redactor::new(&custom(name, "x")).err().unwrap();
        assert!(
            matches!(&err, RedactError::BadName(n) if n == name),
            "{err}"
        );
    }
    let err = Redactor::new(&custom("ticket", "(unclosed")).err().unwrap();
    assert!(matches!(&err, RedactError::BadPattern { name, .. } if name == "ticket"));
    assert!(err.to_string().contains("`ticket`"), "{err}");
}

#[test]
fn kinds_round_trip() {
    for k in Kind::ALL {
        assert_eq!(k.as_str().parse::<Kind>().unwrap(), k);
        assert_eq!(k.to_string(), k.as_str());
    }
    assert!("nope".parse::<Kind>().is_err());
}

#[test]
fn placeholders_are_stable() {
    let r = redactor();
    let mut s = r.session();
    let text = "<EMAIL_1> <CARD_2> <IP_3> <SECRET_4> <PHONE_10> <IBAN_1>";
    assert!(matches!(s.redact_str(text), Cow::Borrowed(_)));
    let once = s
        .redact_str("alice@example.com, a@b.co+15551234567, 10.0.0.1")
        .into_owned();
    assert_eq!(once, "<EMAIL_1>, <EMAIL_2><PHONE_1>, <IP_1>");
    assert_eq!(s.redact_str(&once), once);
    assert_eq!(r.session().redact_str(&once), once);
}

#[test]
fn redactor_is_shareable() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Redactor>();
}

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("alice@example.com".to_owned()),
        Just("4111 1111 1111 1111".to_owned()),
        Just("+1 (555) 123-4567".to_owned()),
        Just("555.123.4567".to_owned()),
        Just("GB82 WEST 1234 5698 7654 32".to_owned()),
        Just("192.168.0.1".to_owned()),
        Just("2001:db8::1".to_owned()),
        Just(concat!("sk-", "abc123DEF456ghi789JKL0").to_owned()),
        Just("Bearer abc123def456".to_owned()),
        Just("<EMAIL_1>".to_owned()),
        "[ -~]{0,6}",
        "[0-9 .:@+()<>-]{0,6}",
        any::<char>().prop_map(String::from),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics_and_is_idempotent(text in any::<String>()) {
        let r = redactor();
        let mut s = r.session();
        let once = s.redact_str(&text).into_owned();
        prop_assert_eq!(s.redact_str(&once), once.as_str());
    }

    #[test]
    fn mixed_fragments_are_idempotent(parts in prop::collection::vec(fragment(), 0..10)) {
        let text = parts.concat();
        let r = redactor();
        let mut s = r.session();
        let once = s.redact_str(&text).into_owned();
        prop_assert_eq!(s.redact_str(&once), once.as_str(), "input {:?}", text);
    }
}
