//! Server-sent events: an incremental, pure parser (work in progress).
