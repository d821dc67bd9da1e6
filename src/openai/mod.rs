//! The OpenAI wire format: reading chat-completion responses, building and classifying errors.
//!
//! Everything here is pure: it reads `serde_json::Value`s and returns plain data.

mod chat;
mod errors;
pub mod jsontext;
pub mod sse;
pub mod stream;

pub use chat::{ChatView, ChoiceView, ToolCallView};
pub use errors::{classify_error, error_body};
