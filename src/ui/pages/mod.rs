//! One file per page; each exposes the HTML handler and its JSON twin under `/api`.

pub mod dashboard;
pub mod detail;
pub mod inventory;
pub mod list;
pub mod login;
pub mod rules;
pub mod vectors;

use askama::Template;
use axum::response::Html;

use super::UiError;

/// Render a template into an HTML response.
pub fn render<T: Template>(t: &T) -> Result<Html<String>, UiError> {
    Ok(Html(t.render()?))
}

/// Format an optional float with `digits` decimals, or an em dash.
pub fn fmt_opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{v:.digits$}"))
}

/// Percent-encode a query-string value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Milliseconds for display.
pub fn ms(v: Option<f64>) -> String {
    v.map_or_else(
        || "—".to_owned(),
        |v| {
            if v >= 1000.0 {
                format!("{:.2} s", v / 1000.0)
            } else {
                format!("{v:.0} ms")
            }
        },
    )
}

/// `candidate / production` as a ratio string.
pub fn ratio(candidate: Option<f64>, production: Option<f64>) -> String {
    match (candidate, production) {
        (Some(c), Some(p)) if p > 0.0 => format!("{:.2}×", c / p),
        _ => "—".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_format() {
        assert_eq!(urlencode("/diffs?a=b c"), "/diffs%3Fa%3Db%20c");
        assert_eq!(ms(Some(1534.0)), "1.53 s");
        assert_eq!(ms(Some(12.4)), "12 ms");
        assert_eq!(ratio(Some(3.0), Some(2.0)), "1.50×");
        assert_eq!(ratio(Some(3.0), Some(0.0)), "—");
    }
}
