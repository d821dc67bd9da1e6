//! The outbound HTTP client shared by the tap (to production) and the workers (to candidates):
//! pooled connections, HTTP/1.1 and HTTP/2, rustls.

use std::time::Duration;

use axum::body::Body;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// A pooled HTTPS-or-HTTP client sending [`Body`] requests.
pub type HttpClient = Client<HttpsConnector<HttpConnector>, Body>;

/// Build a client with the given TCP connect timeout.
pub fn build(connect_timeout: Duration) -> HttpClient {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(connect_timeout));
    http.set_keepalive(Some(Duration::from_secs(60)));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
        .expect("ring provider supports the default TLS versions")
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(256)
        .build(https)
}

/// Join a base URL (scheme, host, optional path prefix) and a request path-and-query.
pub fn join_url(base: &str, path_and_query: &str) -> String {
    let base = base.trim_end_matches('/');
    if path_and_query.starts_with('/') {
        format!("{base}{path_and_query}")
    } else {
        format!("{base}/{path_and_query}")
    }
}

#[cfg(test)]
mod tests {
    use super::join_url;

    #[test]
    fn joins_prefix_and_path() {
        assert_eq!(
            join_url("https://api.groq.com/openai/", "/v1/chat/completions"),
            "https://api.groq.com/openai/v1/chat/completions"
        );
        assert_eq!(
            join_url("http://h:1", "/v1/models?x=1"),
            "http://h:1/v1/models?x=1"
        );
    }
}
