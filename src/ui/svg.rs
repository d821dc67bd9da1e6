//! Hand-built SVG charts, rendered on the server and readable without JavaScript. Pure functions;
//! every label is escaped, so the output may be embedded as trusted markup.

use std::fmt::Write;

/// Escape text for SVG/HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// CSS class of a verdict's colour (shared with badges).
fn verdict_class(verdict: &str) -> String {
    format!(
        "v-{}",
        verdict
            .chars()
            .filter(char::is_ascii_lowercase)
            .collect::<String>()
    )
}

/// A horizontal bar split by verdict, with counts as tooltips.
pub fn verdict_bar(counts: &[(&str, i64)], width: u32) -> String {
    let total: i64 = counts.iter().map(|(_, n)| *n).sum();
    let mut out = format!(
        r#"<svg class="chart" viewBox="0 0 {width} 18" width="{width}" height="18" role="img" aria-label="verdict breakdown">"#
    );
    if total == 0 {
        let _ = write!(
            out,
            r##"<rect x="0" y="0" width="{width}" height="18" fill="#eef2f6"/>"##
        );
    }
    let mut x = 0.0;
    for (verdict, n) in counts.iter().filter(|(_, n)| *n > 0) {
        let w = f64::from(width) * (*n as f64) / (total.max(1) as f64);
        let _ = write!(
            out,
            r#"<rect class="{}" x="{x:.1}" y="0" width="{w:.1}" height="18"><title>{}: {n}</title></rect>"#,
            verdict_class(verdict),
            escape(verdict)
        );
        x += w;
    }
    out.push_str("</svg>");
    out
}

/// Daily rates (0..=1) as columns with a labelled axis; `None` days are gaps.
pub fn rate_columns(points: &[(String, Option<f64>)], width: u32, height: u32) -> String {
    let (pad_left, pad_bottom) = (34.0, 18.0);
    let plot_w = f64::from(width) - pad_left - 4.0;
    let plot_h = f64::from(height) - pad_bottom - 4.0;
    let max = points
        .iter()
        .filter_map(|(_, v)| *v)
        .fold(0.05f64, f64::max)
        .min(1.0);
    let mut out = format!(
        r#"<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="regression rate per day">"#
    );
    for frac in [0.0, 0.5, 1.0] {
        let y = 4.0 + plot_h * (1.0 - frac);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{pad_left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"/><text class="axis" x="{:.1}" y="{:.1}" text-anchor="end">{:.0}%</text>"#,
            f64::from(width) - 4.0,
            pad_left - 4.0,
            y + 4.0,
            max * frac * 100.0
        );
    }
    let n = points.len().max(1) as f64;
    let slot = plot_w / n;
    for (i, (label, value)) in points.iter().enumerate() {
        let x = pad_left + slot * i as f64;
        if let Some(v) = value {
            let h = plot_h * (v / max).min(1.0);
            let _ = write!(
                out,
                r#"<rect class="col" x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}"><title>{}: {:.1}%</title></rect>"#,
                x + slot * 0.15,
                4.0 + plot_h - h,
                slot * 0.7,
                escape(label),
                v * 100.0
            );
        }
        if i == 0 || i + 1 == points.len() {
            let anchor = if i == 0 { "start" } else { "end" };
            let tx = if i == 0 { x } else { x + slot };
            let _ = write!(
                out,
                r#"<text class="axis" x="{tx:.1}" y="{}" text-anchor="{anchor}">{}</text>"#,
                height - 4,
                escape(label)
            );
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_total_and_escape_labels() {
        let svg = verdict_bar(&[("same", 3), ("regression", 1), ("<x>", 0)], 100);
        assert!(
            svg.contains(r#"width="75.0""#) && svg.contains(r#"width="25.0""#),
            "{svg}"
        );
        assert!(!svg.contains("<x>"));
        assert!(verdict_bar(&[], 50).contains("#eef2f6"));
    }

    #[test]
    fn columns_have_axis_labels_and_gaps() {
        let pts = vec![
            ("2026-01-01".to_string(), Some(0.1)),
            ("<b>".to_string(), None),
            ("2026-01-03".to_string(), Some(0.2)),
        ];
        let svg = rate_columns(&pts, 300, 100);
        assert_eq!(svg.matches("<rect").count(), 2, "{svg}");
        assert!(svg.contains("2026-01-01") && svg.contains("20%"));
        assert!(!svg.contains("<b>"));
    }
}
