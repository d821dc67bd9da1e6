//! `shadowtap redact --check FILE`: show what the tap would mask in a file (JSON or text), by kind,
//! with the masked result — to audit the redaction rules before trusting them.

use std::path::PathBuf;

use clap::Args;

use crate::config::Config;
use crate::tap::redact::Redactor;

#[derive(Debug, Args)]
pub struct RedactArgs {
    /// The file to check (a JSON request/response, a JSONL capture, or any text).
    #[arg(long = "check", value_name = "FILE")]
    pub file: PathBuf,
    /// Print only the counts, not the masked text.
    #[arg(long)]
    pub quiet: bool,
}

/// Run the command: exit 0 when nothing would be masked, 1 when something would.
pub fn run(args: &RedactArgs, config: &Config) -> anyhow::Result<u8> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.file.display()))?;
    let redactor = Redactor::new(&config.tap.redact)?;
    let mut session = redactor.session();
    let masked = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(mut v) => {
            session.redact_json(&mut v);
            serde_json::to_string_pretty(&v)?
        }
        Err(_) => session.redact_str(&text).into_owned(),
    };
    let counts = session.counts().clone();
    if !args.quiet {
        println!("{masked}");
        println!("---");
    }
    if counts.is_empty() {
        println!("nothing would be masked");
        return Ok(0);
    }
    for (kind, n) in &counts {
        println!("{kind}: {n}");
    }
    Ok(1)
}
