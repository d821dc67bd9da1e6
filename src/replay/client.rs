//! Sending a captured request to one candidate provider and classifying what comes back.

use std::time::{Duration, Instant};

use axum::body::Body;
use http::{header, Method, Request};
use http_body_util::{BodyExt, Limited};
use serde_json::Value;

use crate::config::{CandidateConfig, ConfigError, EnvLookup, Secret};
use crate::domain::{CandidateName, CapturedBody, ErrorClass, Exchange, ReplayResult};
use crate::http_client::{join_url, HttpClient};
use crate::openai::{classify_error, ChatView};

/// A configured candidate, ready to replay to.
#[derive(Clone)]
pub struct Candidate {
    pub name: CandidateName,
    base_url: String,
    api_key: Option<Secret>,
    model: Option<String>,
    timeout: Duration,
    max_response_bytes: usize,
}

impl std::fmt::Debug for Candidate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Candidate")
            .field("name", &self.name)
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl Candidate {
    /// Resolve a candidate from config: validates the name and reads its API key variable.
    pub fn from_config(
        c: &CandidateConfig,
        env: &dyn EnvLookup,
        timeout: Duration,
        max_response_bytes: usize,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            name: CandidateName::parse(&c.name).map_err(ConfigError::Invalid)?,
            base_url: c.base_url.clone(),
            api_key: c.api_key(env)?,
            model: c.model.clone(),
            timeout,
            max_response_bytes,
        })
    }

    /// The request body this candidate gets for `original`: model mapped, non-streaming.
    pub fn adapt_request(&self, original: &Value) -> Value {
        let mut body = original.clone();
        if let Some(obj) = body.as_object_mut() {
            if let Some(model) = &self.model {
                obj.insert("model".into(), Value::String(model.clone()));
            }
            obj.remove("stream");
            obj.remove("stream_options");
        }
        body
    }

    /// Replay one exchange (its request must be JSON). Never fails: failures are classified.
    pub async fn replay(
        &self,
        http: &HttpClient,
        exchange: &Exchange,
        request: &Value,
    ) -> ReplayResult {
        let body = self.adapt_request(request);
        let started = Instant::now();
        let outcome =
            tokio::time::timeout(self.timeout, self.send(http, &exchange.path, &body)).await;
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let mut result = ReplayResult {
            exchange_id: exchange.id,
            candidate: self.name.clone(),
            request: body,
            response: None,
            status: None,
            latency_ms,
            error_class: None,
            error_message: None,
            attempts: 1,
        };
        match outcome {
            Err(_) => {
                result.error_class = Some(ErrorClass::Timeout);
                result.error_message = Some(format!(
                    "no complete answer within {:.0} s",
                    self.timeout.as_secs_f64()
                ));
            }
            Ok(Err((class, message))) => {
                result.error_class = Some(class);
                result.error_message = Some(message);
            }
            Ok(Ok((status, bytes))) => {
                let captured = CapturedBody::whole(&bytes);
                result.status = Some(status);
                if !(200..300).contains(&status) {
                    result.error_class = Some(classify_error(status, captured.json()));
                    result.error_message = Some(error_message(status, &captured));
                } else if captured.json().and_then(ChatView::parse).is_none() {
                    result.error_class = Some(ErrorClass::MalformedResponse);
                    result.error_message = Some("2xx answer that is not a chat completion".into());
                }
                result.response = Some(captured);
            }
        }
        result
    }

    async fn send(
        &self,
        http: &HttpClient,
        path: &str,
        body: &Value,
    ) -> Result<(u16, bytes::Bytes), (ErrorClass, String)> {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(join_url(&self.base_url, path))
            .header(header::CONTENT_TYPE, "application/json")
            .header(
                header::USER_AGENT,
                concat!("shadowtap/", env!("CARGO_PKG_VERSION")),
            );
        if let Some(key) = &self.api_key {
            req = req.header(header::AUTHORIZATION, format!("Bearer {}", key.expose()));
        }
        let req = req
            .body(Body::from(serde_json::to_vec(body).unwrap_or_default()))
            .map_err(|e| {
                (
                    ErrorClass::InvalidRequest,
                    format!("cannot build request: {e}"),
                )
            })?;
        let resp = http.request(req).await.map_err(|e| {
            let class = if e.is_connect() {
                ErrorClass::Connection
            } else {
                ErrorClass::ServerError
            };
            (class, format!("request failed: {e}"))
        })?;
        let status = resp.status().as_u16();
        let bytes = Limited::new(resp.into_body(), self.max_response_bytes)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    (
                        ErrorClass::MalformedResponse,
                        format!("response larger than {} bytes", self.max_response_bytes),
                    )
                } else {
                    (ErrorClass::Connection, format!("response body failed: {e}"))
                }
            })?
            .to_bytes();
        Ok((status, bytes))
    }
}

/// A short description of an error answer.
fn error_message(status: u16, body: &CapturedBody) -> String {
    let detail = body
        .json()
        .and_then(|v| {
            v.pointer("/error/message")
                .or_else(|| v.get("error"))
                .or_else(|| v.get("detail"))
        })
        .map(|m| {
            m.as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| m.to_string())
        })
        .unwrap_or_default();
    let mut msg = format!("HTTP {status}");
    if !detail.is_empty() {
        msg.push_str(": ");
        msg.extend(detail.chars().take(500));
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn candidate(model: Option<&str>) -> Candidate {
        Candidate {
            name: CandidateName::parse("c").unwrap(),
            base_url: "http://x".into(),
            api_key: None,
            model: model.map(str::to_owned),
            timeout: Duration::from_secs(1),
            max_response_bytes: 1024,
        }
    }

    #[test]
    fn adapts_model_and_disables_streaming() {
        let req = json!({"model": "gpt-4o", "stream": true, "stream_options": {"include_usage": true}, "messages": []});
        let out = candidate(Some("llama-3.1-70b")).adapt_request(&req);
        assert_eq!(out, json!({"model": "llama-3.1-70b", "messages": []}));
        assert_eq!(candidate(None).adapt_request(&req)["model"], "gpt-4o");
    }

    #[test]
    fn error_messages_are_short_and_readable() {
        let body = CapturedBody::whole(br#"{"error":{"message":"Rate limit reached"}}"#);
        assert_eq!(error_message(429, &body), "HTTP 429: Rate limit reached");
        assert_eq!(error_message(500, &CapturedBody::whole(b"")), "HTTP 500");
    }
}
