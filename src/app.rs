//! Wiring: build a running application (tap, worker, UI — any subset) from a [`Config`].
//!
//! [`Application::build`] binds every listener before returning, so callers (and tests using
//! port 0) can read the real addresses at once.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::bus::{self, Bus, BusError};
use crate::config::{BusKind, Config, ConfigError, EnvLookup};
use crate::diff::semantic::Semantic;
use crate::index::{IndexError, VectorIndex};
use crate::replay::{Candidate, Limits, Worker};
use crate::shutdown::Shutdown;
use crate::store::{Store, StoreError};
use crate::tap::capture::{spawn_capture_task, CaptureLimits, CaptureRules};
use crate::tap::redact::Redactor;
use crate::tap::sample::CapturePolicy;
use crate::tap::{self, Tap};
use crate::telemetry::Metrics;
use crate::{http_client, ui};

/// Which stages run in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    pub tap: bool,
    pub worker: bool,
    pub ui: bool,
}

impl Roles {
    /// Everything in one process (`shadowtap serve`).
    pub const ALL: Roles = Roles {
        tap: true,
        worker: true,
        ui: true,
    };
}

/// Why the application could not start. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "no database configured: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/shadowtap) \
         or `url` in the [database] section"
    )]
    NoDatabase,
    #[error("cannot use the database at {target}: {source}. Is PostgreSQL running and reachable, and does the database exist?")]
    Database { target: String, source: StoreError },
    #[error("cannot set up the {kind} bus: {source}")]
    Bus {
        kind: &'static str,
        source: BusError,
    },
    #[error(
        "cannot listen on {addr}: {source} (choose another address with --listen / --ui-listen)"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the memory bus connects a tap and a worker inside one process; use `shadowtap serve`, or --bus kafka")]
    MemoryBusSplit,
    #[error("vector index ([index] backend): {0}")]
    Index(#[from] IndexError),
}

/// A running shadowtap process.
pub struct Application {
    tap_addr: Option<SocketAddr>,
    ui_addr: Option<SocketAddr>,
    admin_addr: Option<SocketAddr>,
    ui_token: Option<String>,
    metrics: Metrics,
    store: Option<Store>,
    tap_ready: Option<Arc<AtomicBool>>,
    shutdown: Shutdown,
    index: Option<VectorIndex>,
}

/// `postgres://user:secret@host:5432/db` → `host:5432/db` (never print credentials).
pub fn describe_database_url(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.split('?').next().unwrap_or(rest).to_owned()
}

/// Connect to the configured database and apply migrations.
pub async fn connect_store(config: &Config) -> Result<Store, AppError> {
    let url = config.database.url.as_deref().ok_or(AppError::NoDatabase)?;
    let target = describe_database_url(url);
    let timeout = Duration::from_secs_f64(config.database.connect_timeout_secs);
    let store = Store::connect(url, config.database.max_connections, timeout)
        .await
        .map_err(|source| AppError::Database {
            target: target.clone(),
            source,
        })?;
    store
        .migrate()
        .await
        .map_err(|source| AppError::Database { target, source })?;
    Ok(store)
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, AppError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| AppError::Bind { addr, source })
}

impl Application {
    /// Start the requested stages. Listeners are bound when this returns.
    pub async fn build(
        config: Config,
        roles: Roles,
        env: &dyn EnvLookup,
    ) -> Result<Self, AppError> {
        let metrics = Metrics::new();
        let shutdown = Shutdown::new();
        if config.bus.kind == BusKind::Memory && roles.tap != roles.worker {
            return Err(AppError::MemoryBusSplit);
        }
        let limits = Limits {
            timeout: Duration::from_secs_f64(config.worker.request_timeout_secs),
            max_response_bytes: config.worker.max_response_bytes,
        };
        let mut candidates = Vec::new();
        if roles.worker {
            for c in &config.candidates {
                candidates.push(Candidate::from_config(c, env, &limits)?);
            }
            if config.control.enabled {
                candidates.push(Candidate::control(
                    &config.control,
                    &config.tap.upstream,
                    env,
                    &limits,
                )?);
            }
        }
        let store = if roles.worker || roles.ui {
            Some(connect_store(&config).await?)
        } else {
            None
        };
        let bus_kind = match config.bus.kind {
            BusKind::Memory => "memory",
            BusKind::Kafka => "kafka",
        };
        let bus_err = |source| AppError::Bus {
            kind: bus_kind,
            source,
        };
        let mut bus = if roles.tap || roles.worker {
            Some(Bus::connect(&config.bus, &metrics).map_err(bus_err)?)
        } else {
            None
        };
        let http = http_client::build(Duration::from_secs_f64(config.tap.connect_timeout_secs));
        // One index per process, shared by the worker (writes) and the UI (reads).
        let index = if roles.worker || roles.ui {
            match VectorIndex::open(&config.index, env).await {
                Ok(index) => index,
                // Split stages on one machine: the first process keeps the embedded index.
                Err(IndexError::Locked(why)) => {
                    tracing::warn!("{why}; this process runs without the vector index");
                    None
                }
                Err(e) => return Err(e.into()),
            }
        } else {
            None
        };
        if let Some(index) = &index {
            let task = crate::index::upkeep::run(index.clone(), metrics.clone(), shutdown.token());
            shutdown.spawn(task);
        }

        let mut app = Self {
            tap_addr: None,
            ui_addr: None,
            admin_addr: None,
            ui_token: None,
            metrics: metrics.clone(),
            store: store.clone(),
            tap_ready: None,
            shutdown: shutdown.clone(),
            index: index.clone(),
        };

        if roles.worker {
            let bus = bus.as_mut().expect("bus exists for workers");
            if config.bus.kind == BusKind::Kafka {
                if let Err(e) = bus::kafka::ensure_topic(&config.bus.kafka).await {
                    tracing::warn!(error = %e, "could not ensure the Kafka topic exists; the worker will wait for it");
                }
            }
            let source = bus.source().await.map_err(bus_err)?;
            let store = store.clone().expect("store exists for workers");
            Worker::load_budgets(&mut candidates, &store)
                .await
                .map_err(|source| AppError::Database {
                    target: describe_database_url(
                        config.database.url.as_deref().unwrap_or_default(),
                    ),
                    source,
                })?;
            let semantic = if config.diff.semantic {
                Some(
                    Semantic::load(&config.diff.embedding)
                        .map_err(|e| AppError::Config(ConfigError::Invalid(e.to_string())))?,
                )
            } else {
                tracing::warn!("semantic comparison is off (diff.semantic = false): verdicts rely on structure and wording");
                None
            };
            if index.is_some() && semantic.is_none() {
                tracing::warn!("the vector index needs the embedding model (diff.semantic = true): prompts and regressions are not indexed");
            }
            let worker = Worker::new(
                store,
                http.clone(),
                candidates,
                metrics.clone(),
                config.worker.max_in_flight,
                semantic,
            )
            .with_index(index.clone());
            shutdown.spawn(worker.run(source, shutdown.token()));
            if let Some(addr) = config.worker.admin_listen {
                let listener = bind(addr).await?;
                app.admin_addr = Some(
                    listener
                        .local_addr()
                        .expect("bound listener has an address"),
                );
                let router = crate::telemetry::admin_router(metrics.clone());
                let token = shutdown.token();
                shutdown.spawn(async move {
                    if let Err(e) = axum::serve(listener, router)
                        .with_graceful_shutdown(token.cancelled_owned())
                        .await
                    {
                        tracing::error!(error = %e, "admin server failed");
                    }
                });
            }
        }

        if roles.tap {
            let publisher = bus.as_ref().expect("bus exists for taps").publisher.clone();
            let redactor = Redactor::new(&config.tap.redact)
                .map_err(|e| AppError::Config(ConfigError::Invalid(format!("tap.redact: {e}"))))?;
            let rules = CaptureRules {
                tag_headers: config.tap.tag_headers.clone(),
                redact_headers: config.tap.redact_headers.clone(),
                redactor: Arc::new(redactor),
            };
            let policy = CapturePolicy::new(&config.tap)
                .map_err(|m| AppError::Config(ConfigError::Invalid(m)))?;
            let limits = CaptureLimits {
                capacity: config.tap.capture_queue,
                max_bytes: config.tap.capture_queue_bytes,
                nice: config.tap.capture_nice,
                linger: Duration::from_secs_f64(config.tap.capture_linger_ms / 1000.0),
            };
            let (queue, capture_task) =
                spawn_capture_task(limits, rules, policy, publisher, metrics.clone());
            // One router per event loop, each with its own upstream connection pool (a pooled
            // connection's task lives on the loop that opened it); all share queue and readiness.
            let threads = match config.tap.threads {
                0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
                n => n,
            };
            let ready = Arc::new(std::sync::atomic::AtomicBool::new(true));
            let mut routers = Vec::with_capacity(threads);
            for _ in 0..threads {
                let client =
                    http_client::build(Duration::from_secs_f64(config.tap.connect_timeout_secs));
                let tap_state = Tap::new(
                    &config.tap,
                    client,
                    queue.clone(),
                    metrics.clone(),
                    ready.clone(),
                )
                .map_err(|m| AppError::Config(ConfigError::Invalid(m)))?;
                routers.push(tap::router(Arc::new(tap_state)));
            }
            drop(queue);
            let header_timeout = Duration::from_secs_f64(config.tap.header_read_timeout_secs);
            let addr = config.tap.listen;
            let loops =
                tap::server::start_event_loops(addr, routers, header_timeout, shutdown.token())
                    .map_err(|source| AppError::Bind { addr, source })?;
            app.tap_addr = Some(loops.addr);
            shutdown.spawn(async move {
                loops.finished().await;
                // The routers (and their capture queue handles) are gone: let the capture task drain.
                let _ = capture_task.await;
            });
            app.tap_ready = Some(ready);
        }
        drop(bus);

        if let (Some(store), true) = (&store, config.retention.body_ttl_days > 0.0) {
            let ttl = Duration::from_secs_f64(config.retention.body_ttl_days * 86_400.0);
            let every = Duration::from_secs_f64(config.retention.interval_secs.max(1.0));
            let (store, token) = (store.clone(), shutdown.token());
            shutdown.spawn(async move {
                let mut tick = tokio::time::interval(every);
                loop {
                    tokio::select! {
                        _ = token.cancelled() => break,
                        _ = tick.tick() => match store.expire_bodies(ttl).await {
                            Ok(0) => {}
                            Ok(n) => tracing::info!(exchanges = n, "expired captured bodies past their retention"),
                            Err(e) => tracing::warn!(error = %e, "retention job failed; will retry"),
                        },
                    }
                }
            });
        }

        if roles.ui {
            let token = match &config.ui.token {
                Some(t) => t.clone(),
                None => {
                    let t = ui::auth::random_token();
                    tracing::warn!(token = %t, "no ui.token / SHADOWTAP_UI_TOKEN configured: generated a token for this run");
                    t
                }
            };
            app.ui_token = Some(token.clone());
            let state = Arc::new(ui::UiState {
                store: store.clone().expect("store exists for the UI"),
                metrics: metrics.clone(),
                page_size: config.ui.page_size,
                candidates: config.candidates.iter().map(|c| c.name.clone()).collect(),
                auth: ui::Auth::new(
                    token,
                    Duration::from_secs(config.ui.session_hours.max(1) * 3600),
                    config.ui.protect_metrics,
                ),
                production_prices: (
                    config.control.input_price_per_mtok,
                    config.control.output_price_per_mtok,
                ),
                index: index.clone(),
                daily_budgets: config
                    .candidates
                    .iter()
                    .filter(|c| c.daily_budget_usd > 0.0)
                    .map(|c| (c.name.clone(), c.daily_budget_usd))
                    .collect(),
            });
            let listener = bind(config.ui.listen).await?;
            app.ui_addr = Some(
                listener
                    .local_addr()
                    .expect("bound listener has an address"),
            );
            let router = ui::router(state);
            let token = shutdown.token();
            shutdown.spawn(async move {
                if let Err(e) = axum::serve(listener, router)
                    .with_graceful_shutdown(token.cancelled_owned())
                    .await
                {
                    tracing::error!(error = %e, "ui server failed");
                }
            });
        }
        Ok(app)
    }

    /// Address the tap listens on, if this process runs the tap.
    pub fn tap_addr(&self) -> Option<SocketAddr> {
        self.tap_addr
    }

    /// Address the UI listens on, if this process runs the UI.
    pub fn ui_addr(&self) -> Option<SocketAddr> {
        self.ui_addr
    }

    /// Address of the worker's admin listener (`/healthz`, `/metrics`), if configured.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_addr
    }

    /// The UI's access token (configured, or generated at start-up), if this process runs the UI.
    pub fn ui_token(&self) -> Option<&str> {
        self.ui_token.as_deref()
    }

    /// This process's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The vector index, if this process opened one (an embedded index's folder stays locked
    /// until the application and every task using it are gone).
    pub fn index(&self) -> Option<&VectorIndex> {
        self.index.as_ref()
    }

    /// The database, if this process uses one.
    pub fn store(&self) -> Option<&Store> {
        self.store.as_ref()
    }

    /// Stop accepting, let in-flight work finish within `grace`. Returns false if the grace ran out.
    pub async fn shutdown(&self, grace: Duration) -> bool {
        if let Some(ready) = &self.tap_ready {
            ready.store(false, Ordering::SeqCst);
        }
        self.shutdown.shutdown(grace).await
    }

    /// Run until Ctrl-C / SIGTERM, then shut down gracefully.
    pub async fn run_until_signal(self, grace: Duration) {
        crate::shutdown::signal().await;
        tracing::info!(grace_secs = grace.as_secs(), "shutting down");
        if !self.shutdown(grace).await {
            tracing::warn!("grace period over; exiting with work in flight");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::describe_database_url;

    #[test]
    fn database_urls_are_described_without_credentials() {
        assert_eq!(
            describe_database_url("postgres://u:pw@db:5432/app?sslmode=disable"),
            "db:5432/app"
        );
        assert_eq!(describe_database_url("postgres://db/app"), "db/app");
    }
}
