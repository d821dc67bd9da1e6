//! Integration tests: the real application on port 0, real PostgreSQL (a fresh database per test),
//! a real Kafka broker (a fresh topic per test), and fake LLM providers.

mod bad_input;
mod broker_down;
mod browser;
mod config_errors;
mod corpus;
mod diff_cli;
mod eval;
mod faults;
mod hardening;
mod helpers;
mod http_edges;
mod index;
mod replay;
mod sdk;
mod spine;
mod tap;
mod ui;
mod workers;
