//! One file per page; each exposes the HTML handler and its JSON twin.

pub mod detail;
pub mod list;

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
