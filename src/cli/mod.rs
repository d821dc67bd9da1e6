//! The command line: `serve`, `tap`, `worker`, `ui`, `migrate`, `demo`, `diff`, `corpus`, `replay`, `gate`, `report`, `eval`.

pub mod corpus;
pub mod diff;
pub mod eval;
pub mod gate;
pub mod redact;
pub mod replay;
pub mod rescore;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::app::{self, Application, Roles};
use crate::config::{BusKind, Config, EnvLookup, ProcessEnv};
use crate::demo::{self, DemoOptions};

/// Mirror production LLM traffic, replay it against candidate providers, and see where they diverge.
#[derive(Debug, Parser)]
#[command(name = "shadowtap", version, about, long_about = None)]
pub struct Cli {
    /// TOML config file (see shadowtap.example.toml). Every key can also be set as SHADOWTAP_SECTION__KEY.
    #[arg(long, global = true, env = "SHADOWTAP_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every stage in one process: tap, worker(s) and UI.
    Serve(ServeArgs),
    /// Run only the tap (reverse proxy + capture publisher).
    Tap(TapArgs),
    /// Run only a replay worker (consumes captures, replays to candidates, diffs, stores).
    Worker(WorkerArgs),
    /// Run only the review UI.
    Ui(UiArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Run the whole pipeline with built-in fake providers and demo traffic (needs only PostgreSQL).
    Demo(DemoArgs),
    /// Serve one of the demo's fake OpenAI-compatible providers (for trying the tap, benchmarks, soaks).
    FakeProvider(FakeProviderArgs),
    /// Compare two responses from files (exit 0: no regression, 1: regression or incompatible, 2: error).
    Diff(diff::DiffArgs),
    /// Corpora: import a JSONL file, export captured traffic, list corpora and runs.
    Corpus(corpus::CorpusArgs),
    /// Replay a corpus against a candidate without Kafka; results are stored as a resumable run.
    Replay(replay::ReplayArgs),
    /// Gate a run (or compare two) against quality thresholds (exit 0 pass, 1 fail, 2 usage error).
    Gate(gate::GateArgs),
    /// Write the report of a run as HTML or JSON.
    Report(gate::ReportArgs),
    /// Measure the differ on a labelled evaluation set: confusion matrix, precision, recall.
    Eval(eval::EvalArgs),
    /// Recompute stored verdicts with the current differ, thresholds and triage rules.
    Rescore(rescore::RescoreArgs),
    /// Show what the tap would mask in a file (exit 0: nothing, 1: something would be masked).
    Redact(redact::RedactArgs),
}

/// Flags shared by the commands that run a tap.
#[derive(Debug, Args)]
pub struct TapFlags {
    /// Address the tap listens on.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Production provider base URL, e.g. https://api.openai.com.
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,
    /// Share of eligible requests to capture, e.g. 10% (see tap.sample.key for sticky sampling).
    #[arg(long, value_name = "PERCENT", value_parser = crate::tap::sample::parse_percent)]
    pub sample: Option<f64>,
    /// Mask PII and secrets in captured bodies (on by default).
    #[arg(long, value_name = "on|off", value_parser = parse_switch)]
    pub redact: Option<bool>,
}

fn parse_switch(s: &str) -> Result<bool, String> {
    match s {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        _ => Err(format!("{s:?}: use on or off")),
    }
}

/// Flags shared by the commands that run a worker.
#[derive(Debug, Args)]
pub struct CandidateFlags {
    /// A candidate provider as NAME=BASE_URL (repeatable; adds to or replaces config candidates).
    #[arg(long = "candidate", value_name = "NAME=BASE_URL")]
    pub candidates: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub tap: TapFlags,
    #[command(flatten)]
    pub candidates: CandidateFlags,
    /// Capture bus.
    #[arg(long, value_name = "memory|kafka")]
    pub bus: Option<BusKind>,
    /// Address the UI listens on.
    #[arg(long, value_name = "ADDR")]
    pub ui_listen: Option<SocketAddr>,
}

#[derive(Debug, Args)]
pub struct TapArgs {
    #[command(flatten)]
    pub tap: TapFlags,
    /// Capture bus (a tap on its own needs kafka).
    #[arg(long, value_name = "memory|kafka")]
    pub bus: Option<BusKind>,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub candidates: CandidateFlags,
    /// Serve /healthz and /metrics here (e.g. 127.0.0.1:9464).
    #[arg(long, value_name = "ADDR")]
    pub admin_listen: Option<SocketAddr>,
    /// Capture bus (a worker on its own needs kafka).
    #[arg(long, value_name = "memory|kafka")]
    pub bus: Option<BusKind>,
}

#[derive(Debug, Args)]
pub struct UiArgs {
    /// Address the UI listens on.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of demo requests to send through the tap.
    #[arg(long, default_value_t = 60)]
    pub requests: usize,
    /// Exit after the requests are diffed instead of serving the dashboard until Ctrl-C.
    #[arg(long)]
    pub exit: bool,
    /// Address of the demo's tap.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Address of the demo's dashboard.
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub ui_listen: SocketAddr,
}

#[derive(Debug, Args)]
pub struct FakeProviderArgs {
    /// How it answers the demo prompts: production (reference), faithful or regressing.
    #[arg(long, default_value = "production", value_parser = ["production", "faithful", "regressing"])]
    pub persona: String,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9000")]
    pub listen: SocketAddr,
}

/// Grace period for in-flight work on shutdown.
const GRACE: Duration = Duration::from_secs(30);

fn load(cli: &Cli, env: &dyn EnvLookup) -> anyhow::Result<Config> {
    Ok(Config::load(cli.config.as_deref(), env)?)
}

fn apply_tap(config: &mut Config, flags: &TapFlags) {
    if let Some(addr) = flags.listen {
        config.tap.listen = addr;
    }
    if let Some(url) = &flags.upstream {
        config.tap.upstream = url.clone();
    }
    if let Some(percent) = flags.sample {
        config.tap.sample.percent = percent;
    }
    if let Some(on) = flags.redact {
        config.tap.redact.enabled = on;
    }
}

fn apply_candidates(config: &mut Config, flags: &CandidateFlags) -> anyhow::Result<()> {
    for spec in &flags.candidates {
        config.upsert_candidate_flag(spec)?;
    }
    Ok(())
}

async fn serve(config: Config, roles: Roles, env: &dyn EnvLookup) -> anyhow::Result<()> {
    config.validate()?;
    let app = Application::build(config, roles, env).await?;
    if let Some(addr) = app.tap_addr() {
        tracing::info!(%addr, "tap listening; point your SDK's base_url at http://{addr}/v1");
    }
    if let Some(addr) = app.ui_addr() {
        tracing::info!(%addr, "ui listening at http://{addr}/");
    }
    if roles.worker {
        tracing::info!("worker consuming captures");
    }
    app.run_until_signal(GRACE).await;
    Ok(())
}

/// Run the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<u8> {
    let env = ProcessEnv;
    match &cli.command {
        Command::Serve(args) => {
            let mut config = load(&cli, &env)?;
            apply_tap(&mut config, &args.tap);
            apply_candidates(&mut config, &args.candidates)?;
            if let Some(bus) = args.bus {
                config.bus.kind = bus;
            }
            if let Some(addr) = args.ui_listen {
                config.ui.listen = addr;
            }
            serve(config, Roles::ALL, &env).await.map(|()| 0)
        }
        Command::Tap(args) => {
            let mut config = load(&cli, &env)?;
            apply_tap(&mut config, &args.tap);
            if let Some(bus) = args.bus {
                config.bus.kind = bus;
            }
            let roles = Roles {
                tap: true,
                worker: false,
                ui: false,
            };
            serve(config, roles, &env).await.map(|()| 0)
        }
        Command::Worker(args) => {
            let mut config = load(&cli, &env)?;
            apply_candidates(&mut config, &args.candidates)?;
            if let Some(bus) = args.bus {
                config.bus.kind = bus;
            }
            if let Some(addr) = args.admin_listen {
                config.worker.admin_listen = Some(addr);
            }
            let roles = Roles {
                tap: false,
                worker: true,
                ui: false,
            };
            serve(config, roles, &env).await.map(|()| 0)
        }
        Command::Ui(args) => {
            let mut config = load(&cli, &env)?;
            if let Some(addr) = args.listen {
                config.ui.listen = addr;
            }
            let roles = Roles {
                tap: false,
                worker: false,
                ui: true,
            };
            serve(config, roles, &env).await.map(|()| 0)
        }
        Command::Diff(args) => {
            let config = load(&cli, &env)?;
            match diff::run(args, &config.diff).await {
                Ok(code) => Ok(code),
                Err(message) => {
                    eprintln!("error: {message}");
                    Ok(2)
                }
            }
        }
        Command::Eval(args) => {
            let config = load(&cli, &env)?;
            match eval::run(args, &config.diff).await {
                Ok(code) => Ok(code),
                Err(message) => {
                    eprintln!("error: {message}");
                    Ok(2)
                }
            }
        }
        Command::Corpus(args) => corpus::corpus(args, load(&cli, &env)?).await,
        Command::Replay(args) => replay::replay(args, load(&cli, &env)?, &env).await,
        Command::Gate(args) => Ok(gate::gate(args, load(&cli, &env)).await),
        Command::Report(args) => gate::report(args, load(&cli, &env)?).await,
        Command::Rescore(args) => rescore::run(args, &load(&cli, &env)?).await,
        Command::Redact(args) => redact::run(args, &load(&cli, &env)?),
        Command::Migrate => {
            let config = load(&cli, &env)?;
            app::connect_store(&config).await?;
            println!(
                "migrations applied to {}",
                app::describe_database_url(config.database.url.as_deref().unwrap_or_default())
            );
            Ok(0)
        }
        Command::FakeProvider(args) => {
            let persona = match args.persona.as_str() {
                "faithful" => crate::demo::scenarios::Persona::Faithful,
                "regressing" => crate::demo::scenarios::Persona::Regressing,
                _ => crate::demo::scenarios::Persona::Production,
            };
            let provider = crate::demo::fake::FakeProvider::spawn_on(args.listen, persona)
                .await
                .with_context(|| format!("cannot listen on {}", args.listen))?;
            tracing::info!(addr = %provider.addr, persona = %args.persona, "fake provider listening; base_url http://{}/v1", provider.addr);
            crate::shutdown::signal().await;
            Ok(0)
        }
        Command::Demo(args) => {
            let options = DemoOptions {
                requests: args.requests,
                exit: args.exit,
                listen: args.listen,
                ui_listen: args.ui_listen,
            };
            demo::run(options, &env)
                .await
                .context("demo failed")
                .map(|_| 0)
        }
    }
}
