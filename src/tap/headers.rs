//! Header rules: hop-by-hop headers a proxy must not forward, and headers never captured.

use http::header::{self, HeaderMap, HeaderName};

/// Remove hop-by-hop headers (RFC 9110 §7.6.1), including any named by `Connection`.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in [
        header::CONNECTION,
        header::PROXY_AUTHENTICATE,
        header::PROXY_AUTHORIZATION,
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
    ] {
        headers.remove(name);
    }
    headers.remove("keep-alive");
    headers.remove("proxy-connection");
}

/// Headers whose values are never captured, whatever the configuration says.
const ALWAYS_SECRET: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "api-key",
    "x-api-key",
    "cookie",
    "set-cookie",
    "openai-organization",
    "openai-project",
];

/// True when a header must not be captured: always-secret, configured, or secret-looking by name.
pub fn is_secret(name: &str, configured: &[String]) -> bool {
    // Header names from `http` are lower-case already: no copy for them.
    let name: std::borrow::Cow<'_, str> = if name.bytes().any(|b| b.is_ascii_uppercase()) {
        name.to_ascii_lowercase().into()
    } else {
        name.into()
    };
    ALWAYS_SECRET.contains(&name.as_ref())
        || configured.iter().any(|c| c.eq_ignore_ascii_case(&name))
        || SECRET_PARTS
            .iter()
            .any(|part| part.find(name.as_bytes()).is_some())
}

/// Name parts that make a header secret-looking, as searchers built once: every captured header
/// is checked against all of them, and `str::contains` prepares its searcher on every call.
static SECRET_PARTS: std::sync::LazyLock<[memchr::memmem::Finder<'static>; 6]> =
    std::sync::LazyLock::new(|| {
        ["key", "token", "secret", "auth", "session", "password"].map(memchr::memmem::Finder::new)
    });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_and_connection_named_headers_go() {
        let mut h = HeaderMap::new();
        h.insert(header::CONNECTION, "close, x-private".parse().unwrap());
        h.insert("x-private", "1".parse().unwrap());
        h.insert(header::TRANSFER_ENCODING, "chunked".parse().unwrap());
        h.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key(header::CONTENT_TYPE));
    }

    #[test]
    fn secrets_are_recognised() {
        for name in [
            "Authorization",
            "api-key",
            "X-Api-Key",
            "Cookie",
            "x-goog-api-key",
            "x-auth-token",
            "X-Session-Id",
            "x-client-secret",
            "x-db-password",
            "x-refresh-token",
        ] {
            assert!(is_secret(name, &[]), "{name}");
        }
        assert!(is_secret("x-internal", &["X-Internal".into()]));
        assert!(!is_secret("content-type", &[]));
        for name in [
            "x-shadowtap-team",
            "x-request-id",
            "accept",
            "user-agent",
            "host",
        ] {
            assert!(!is_secret(name, &[]), "{name}");
        }
    }
}
