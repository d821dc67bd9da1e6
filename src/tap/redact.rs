//! PII and secret redaction of captured bodies (work in progress).
