//! shadowtap mirrors production LLM traffic, replays it against candidate providers, and shows
//! where the candidates answer differently — structurally and in meaning — before you cut over.
//!
//! # Layout
//! Data flows one way: `tap → bus → replay → diff → store → ui`. A module imports only from
//! modules to its left, and from `domain`, `openai` and `config`.
//!
//! - [`config`]: typed configuration (TOML file + `SHADOWTAP_*` env overrides + CLI flags).
//! - [`domain`]: plain types shared by all stages (exchange, replay result, diff outcome).
//! - [`openai`]: the OpenAI wire format (reading chat completions, error bodies, error taxonomy).
//! - [`tap`]: the reverse proxy that forwards to production and captures without waiting.
//! - [`bus`]: capture transport (Kafka or in-memory): non-blocking publish, ack-after-store consume.
//! - [`replay`]: workers replaying captures to candidates.
//! - [`diff`]: pure comparison of production and candidate answers into findings and a verdict.
//! - [`store`]: PostgreSQL persistence (sqlx), migrations in `migrations/`.
//! - [`index`]: the vector index (Qdrant: in-process or a server) of regressions and prompts:
//!   similar regressions, clusters, prompt drift.
//! - [`ui`]: the review UI (axum + askama), templates in `templates/`.
//! - [`app`]: wiring all of the above into a running application with bound ports.
//! - [`corpus`]: corpus replay (import/export, runs without Kafka, checks, LLM judge) and the
//!   cut-over quality gate (thresholds, JUnit/Markdown, HTML/JSON reports); wires replay, diff and store.
//! - [`demo`]: built-in fake providers and traffic for `shadowtap demo` and the tests.
//! - [`cli`]: the command line.

pub mod app;
pub mod bus;
pub mod cli;
pub mod config;
pub mod corpus;
pub mod demo;
pub mod diff;
pub mod domain;
pub mod http_client;
pub mod index;
pub mod openai;
pub mod replay;
pub mod shutdown;
pub mod store;
pub mod tap;
pub mod telemetry;
pub mod ui;
