//! shadowtap binary: parse the command line, run it, map errors to a message and exit status 1
//! (commands with their own exit statuses, like `diff`, return them).

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = shadowtap::cli::Cli::parse();
    shadowtap::telemetry::init_tracing();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(shadowtap::cli::run(cli)) {
        Ok(code) => std::process::ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
