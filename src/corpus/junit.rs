//! The gate's decision for people and CI: a readable summary, JUnit XML (one test case per
//! criterion and per item) and Markdown for a CI step summary. Pure.

use std::fmt::Write;

use super::gate::{Case, GateReport, Outcome};

/// Failing items listed in the text and Markdown summaries (JUnit lists all).
const MAX_LISTED: usize = 25;

fn mark(o: &Outcome) -> &'static str {
    match o {
        Outcome::Pass => "✓",
        Outcome::Fail => "✗",
        Outcome::Skipped(_) => "–",
    }
}

fn problem(case: &Case) -> Option<(&str, &str)> {
    match case {
        Case::Failure { kind, message } => Some((kind, message)),
        Case::Error { message } => Some(("error", message)),
        Case::Pass | Case::Skipped { .. } => None,
    }
}

/// A summary for the terminal.
pub fn render_text(r: &GateReport) -> String {
    let mut out = format!(
        "shadowtap gate: {} — {}\n",
        if r.passed { "PASSED" } else { "FAILED" },
        r.title
    );
    let width = r
        .criteria
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0);
    let measured = r
        .criteria
        .iter()
        .filter(|c| !matches!(c.outcome, Outcome::Skipped(_)))
        .map(|c| c.measured.chars().count())
        .max()
        .unwrap_or(0);
    for c in &r.criteria {
        let _ = match &c.outcome {
            Outcome::Skipped(why) => writeln!(
                out,
                "  {} {:<width$}  skipped: {why}",
                mark(&c.outcome),
                c.name
            ),
            _ => writeln!(
                out,
                "  {} {:<width$}  {:>measured$}  {}",
                mark(&c.outcome),
                c.name,
                c.measured,
                c.threshold
            ),
        };
    }
    for n in &r.notes {
        let _ = writeln!(out, "  {n}");
    }
    let failing: Vec<_> = r
        .items
        .iter()
        .filter_map(|i| problem(&i.case).map(|p| (&i.key, p)))
        .collect();
    if !failing.is_empty() {
        let _ = writeln!(out, "failing items ({}):", failing.len());
        for (key, (kind, message)) in failing.iter().take(MAX_LISTED) {
            let _ = writeln!(out, "  {key}  {kind}: {}", one_line(message, 160));
        }
        if failing.len() > MAX_LISTED {
            let _ = writeln!(
                out,
                "  … and {} more (see the JUnit file or the report)",
                failing.len() - MAX_LISTED
            );
        }
    }
    out
}

fn one_line(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        format!("{}…", flat.chars().take(max).collect::<String>())
    }
}

/// Escape text for XML attributes and content; characters XML 1.0 forbids are dropped.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: a `gate` suite (one case per criterion) and an `items` suite (one case per item).
pub fn render_junit(r: &GateReport) -> String {
    let mut gate = String::new();
    let (mut g_fail, mut g_skip) = (0, 0);
    for c in &r.criteria {
        // Stable names (CI tracks test cases across builds); the numbers go into the messages.
        let name = xml_escape(&c.name);
        let _ = write!(
            gate,
            "    <testcase classname=\"shadowtap.gate\" name=\"{name}\" time=\"0\""
        );
        match &c.outcome {
            Outcome::Pass => {
                let out = xml_escape(&format!("{} (threshold {})", c.measured, c.threshold));
                let _ = write!(
                    gate,
                    ">\n      <system-out>{out}</system-out>\n    </testcase>\n"
                );
            }
            Outcome::Fail => {
                g_fail += 1;
                let msg = xml_escape(&format!(
                    "{}: {} (threshold {})",
                    c.name, c.measured, c.threshold
                ));
                let _ = write!(
                    gate,
                    ">\n      <failure message=\"{msg}\" type=\"threshold\"/>\n    </testcase>\n"
                );
            }
            Outcome::Skipped(why) => {
                g_skip += 1;
                let _ = write!(
                    gate,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                    xml_escape(why)
                );
            }
        }
    }
    let mut items = String::new();
    let (mut i_fail, mut i_err, mut i_skip) = (0, 0, 0);
    for i in &r.items {
        let secs = i.latency_ms.unwrap_or(0.0) / 1000.0;
        let _ = write!(
            items,
            "    <testcase classname=\"shadowtap.items\" name=\"{}\" time=\"{secs:.3}\"",
            xml_escape(&i.key)
        );
        match &i.case {
            Case::Pass => items.push_str("/>\n"),
            Case::Failure { kind, message } => {
                i_fail += 1;
                let _ = write!(
                    items,
                    ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>\n",
                    xml_escape(&format!("{kind}: {}", one_line(message, 300))),
                    xml_escape(kind),
                    xml_escape(message)
                );
            }
            Case::Error { message } => {
                i_err += 1;
                let _ = write!(
                    items,
                    ">\n      <error message=\"{}\" type=\"candidate_error\">{}</error>\n    </testcase>\n",
                    xml_escape(&one_line(message, 300)),
                    xml_escape(message)
                );
            }
            Case::Skipped { message } => {
                i_skip += 1;
                let _ = write!(
                    items,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                    xml_escape(message)
                );
            }
        }
    }
    let (g, n) = (r.criteria.len(), r.items.len());
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuites name=\"shadowtap gate\" tests=\"{}\" failures=\"{}\" errors=\"{i_err}\" skipped=\"{}\">\n  \
         <testsuite name=\"gate: {}\" tests=\"{g}\" failures=\"{g_fail}\" errors=\"0\" skipped=\"{g_skip}\">\n{gate}  </testsuite>\n  \
         <testsuite name=\"items\" tests=\"{n}\" failures=\"{i_fail}\" errors=\"{i_err}\" skipped=\"{i_skip}\">\n{items}  </testsuite>\n\
         </testsuites>\n",
        g + n,
        g_fail + i_fail,
        g_skip + i_skip,
        xml_escape(&r.title),
    )
}

fn md_cell(s: &str) -> String {
    one_line(s, 200).replace('|', "\\|").replace('<', "&lt;")
}

/// Markdown for a CI step summary (e.g. `--markdown "$GITHUB_STEP_SUMMARY"`).
pub fn render_markdown(r: &GateReport) -> String {
    let mut out = format!(
        "## {} shadowtap gate {}\n\n{}\n\n| | criterion | measured | threshold |\n|---|---|---|---|\n",
        if r.passed { "✅" } else { "❌" },
        if r.passed { "passed" } else { "failed" },
        md_cell(&r.title)
    );
    for c in &r.criteria {
        let measured = match &c.outcome {
            Outcome::Skipped(why) => format!("skipped: {why}"),
            _ => c.measured.clone(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            mark(&c.outcome),
            md_cell(&c.name),
            md_cell(&measured),
            md_cell(&c.threshold)
        );
    }
    out.push('\n');
    for n in &r.notes {
        let _ = writeln!(out, "- {}", md_cell(n));
    }
    let failing: Vec<_> = r
        .items
        .iter()
        .filter_map(|i| problem(&i.case).map(|p| (&i.key, p)))
        .collect();
    if !failing.is_empty() {
        let _ = write!(
            out,
            "\n### Failing items ({})\n\n| item | kind | why |\n|---|---|---|\n",
            failing.len()
        );
        for (key, (kind, message)) in failing.iter().take(MAX_LISTED) {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} |",
                key.replace('`', "'"),
                md_cell(kind),
                md_cell(message)
            );
        }
        if failing.len() > MAX_LISTED {
            let _ = writeln!(out, "\n… and {} more.", failing.len() - MAX_LISTED);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GateConfig;
    use crate::corpus::gate::evaluate;
    use crate::corpus::stats::fixtures::{item, run};
    use crate::domain::Verdict;

    fn report() -> GateReport {
        let mut nasty = item("a<b>&\"c\" \u{1}", Verdict::Regression);
        nasty.finding = Some("broke </failure> & <![CDATA[ | pipes".into());
        evaluate(
            &run(
                7,
                vec![
                    nasty,
                    item("fine", Verdict::Same),
                    item("down", Verdict::Error),
                ],
            ),
            &GateConfig::default(),
        )
    }

    #[test]
    fn junit_parses_back_with_the_failing_items() {
        let xml = render_junit(&report());
        let doc = roxmltree::Document::parse(&xml).expect("well-formed");
        let root = doc.root_element();
        assert_eq!(root.attribute("errors"), Some("1"));
        let items = root.children().filter(|n| n.is_element()).nth(1).unwrap();
        assert_eq!(items.attribute("tests"), Some("3"));
        let failed = items
            .children()
            .find(|n| n.descendants().any(|d| d.has_tag_name("failure")))
            .unwrap();
        assert_eq!(
            failed.attribute("name"),
            Some("a<b>&\"c\" "),
            "escaped, control characters dropped"
        );
        let failure = failed
            .children()
            .find(|n| n.has_tag_name("failure"))
            .unwrap();
        assert_eq!(failure.attribute("type"), Some("regression"));
        assert_eq!(failure.text(), Some("broke </failure> & <![CDATA[ | pipes"));
    }

    #[test]
    fn text_and_markdown_summaries() {
        let r = report();
        let text = render_text(&r);
        assert!(text.starts_with("shadowtap gate: FAILED — run 7"), "{text}");
        assert!(
            text.contains("failing items (2):") && text.contains("down  error:"),
            "{text}"
        );
        let md = render_markdown(&r);
        assert!(md.starts_with("## ❌ shadowtap gate failed"), "{md}");
        assert!(
            md.contains("broke &lt;/failure> & &lt;![CDATA[ \\| pipes"),
            "{md}"
        );
        assert_eq!(xml_escape("a\u{0}b\u{FFFE}\tc"), "ab\tc");
    }
}
