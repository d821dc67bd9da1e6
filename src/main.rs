//! shadowtap binary: parse the command line, run it, map errors to a message and exit status 1
//! (commands with their own exit statuses, like `diff`, return them).

use clap::Parser;

/// mimalloc instead of glibc malloc: per-thread free lists suit the tap's short-lived per-request
/// allocations across worker threads (measured in scripts/bench-tap.sh; see README "Benchmarks").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
