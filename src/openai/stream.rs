//! Reassembling a streamed chat completion from its chunks (work in progress).
