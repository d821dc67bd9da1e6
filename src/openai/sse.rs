//! Server-sent events: an incremental, pure parser following the WHATWG event-stream rules.

/// The longest line kept, in bytes; a longer line is dropped and counted.
pub const MAX_LINE_BYTES: usize = 8 * 1024 * 1024;

/// A line buffer grown past this is freed after use rather than kept for reuse.
const KEEP_CAPACITY: usize = 64 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field, when the event had a non-empty one (the spec's default is `message`).
    pub event: Option<String>,
    /// The `data:` lines, joined by `\n`.
    pub data: String,
    /// The last non-empty `id:` seen so far (ids persist across events, per spec).
    pub id: Option<String>,
}

/// An incremental event-stream parser: push bytes split anywhere, get completed events back.
#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of the current, unfinished line.
    line: Vec<u8>,
    /// The current line outgrew `MAX_LINE_BYTES`: discard it up to its end.
    skipping: bool,
    /// The last byte pushed was a `\r` ending a line; a `\n` right after it belongs to it.
    pending_cr: bool,
    /// A first line was completed (a leading BOM is only stripped from it).
    started: bool,
    data: String,
    has_data: bool,
    event: Option<String>,
    last_id: Option<String>,
    offset: u64,
    oversized: u64,
}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed bytes (any split, even mid-line or mid-UTF-8 char); returns the events completed by them.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        self.offset += bytes.len() as u64;
        let mut events = Vec::new();
        let mut rest = bytes;
        if self.pending_cr && !rest.is_empty() {
            self.pending_cr = false;
            if rest[0] == b'\n' {
                rest = &rest[1..];
            }
        }
        while let Some(i) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.append(&rest[..i]);
            let mut end = i + 1;
            if rest[i] == b'\r' {
                match rest.get(end) {
                    Some(b'\n') => end += 1,
                    Some(_) => {}
                    None => self.pending_cr = true,
                }
            }
            rest = &rest[end..];
            if let Some(event) = self.end_line() {
                events.push(event);
            }
        }
        self.append(rest);
        events
    }

    /// End of stream: returns an event still pending without its blank line (if it has data) and whether a partial line was left over (truncated stream).
    ///
    /// A partial line is parsed as if it had ended, so `data: [DONE]` without a final newline still counts.
    pub fn finish(&mut self) -> (Option<SseEvent>, bool) {
        let partial = !self.line.is_empty() || self.skipping;
        self.pending_cr = false;
        if partial {
            if let Some(event) = self.end_line() {
                return (Some(event), partial);
            }
        }
        (self.dispatch(), partial)
    }

    /// Total bytes pushed so far: the stream offset.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Lines dropped for being longer than `MAX_LINE_BYTES`.
    pub fn oversized_lines(&self) -> u64 {
        self.oversized
    }

    fn append(&mut self, bytes: &[u8]) {
        if self.skipping || bytes.is_empty() {
            return;
        }
        if self.line.len() + bytes.len() > MAX_LINE_BYTES {
            self.line = Vec::new();
            self.skipping = true;
            self.oversized += 1;
        } else {
            self.line.extend_from_slice(bytes);
        }
    }

    /// The current line has ended: interpret it, returning an event if it was a dispatching blank line.
    fn end_line(&mut self) -> Option<SseEvent> {
        let first = !self.started;
        self.started = true;
        if self.skipping {
            self.skipping = false;
            return None;
        }
        let mut line = std::mem::take(&mut self.line);
        let bytes = match first {
            true => line.strip_prefix(BOM).unwrap_or(&line),
            false => &line[..],
        };
        let event = if bytes.is_empty() {
            self.dispatch()
        } else {
            self.field(&super::jsontext::utf8_lossy(bytes));
            None
        };
        if line.capacity() <= KEEP_CAPACITY {
            line.clear();
            self.line = line;
        }
        event
    }

    fn field(&mut self, line: &str) {
        if line.starts_with(':') {
            return; // a comment, typically a keep-alive
        }
        let (name, value) = match line.split_once(':') {
            Some((name, value)) => (name, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match name {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = non_empty(value),
            "id" if !value.contains('\0') => self.last_id = non_empty(value),
            _ => {} // `retry` and unknown fields are ignored
        }
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        if !std::mem::take(&mut self.has_data) {
            return None;
        }
        Some(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
            id: self.last_id.clone(),
        })
    }
}

fn non_empty(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: Option<&str>, data: &str, id: Option<&str>) -> SseEvent {
        SseEvent {
            event: event.map(str::to_owned),
            data: data.to_owned(),
            id: id.map(str::to_owned),
        }
    }

    fn data(data: &str) -> SseEvent {
        ev(None, data, None)
    }

    /// Push the chunks in order, then finish; returns all events and the partial-line flag.
    fn run(chunks: &[&[u8]]) -> (Vec<SseEvent>, bool) {
        let mut parser = SseParser::new();
        let mut events: Vec<SseEvent> = chunks.iter().flat_map(|c| parser.push(c)).collect();
        let (pending, partial) = parser.finish();
        events.extend(pending);
        (events, partial)
    }

    /// Name, pushed chunks, expected events, expected partial-line flag.
    type Case<'a> = (&'a str, Vec<&'a [u8]>, Vec<SseEvent>, bool);

    #[test]
    fn parses_table_cases() {
        let cases: Vec<Case> = vec![
            ("simple", vec![b"data: a\n\n"], vec![data("a")], false),
            (
                "partial lines",
                vec![b"da", b"ta: he", b"llo\n", b"\n", b"data: x\n\n"],
                vec![data("hello"), data("x")],
                false,
            ),
            (
                "crlf",
                vec![b"data: a\r\n\r\ndata: b\r\n\r\n"],
                vec![data("a"), data("b")],
                false,
            ),
            (
                "lone cr",
                vec![b"data: a\r\rdata: b\r\r"],
                vec![data("a"), data("b")],
                false,
            ),
            (
                "cr at chunk end, lf in next chunk",
                vec![b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"],
                vec![data("a\nb")],
                false,
            ),
            (
                "cr at chunk end, empty push, then lf",
                vec![b"data: a\r", b"", b"\n\r\n"],
                vec![data("a")],
                false,
            ),
            (
                "cr at chunk end then cr: a blank line",
                vec![b"data: a\r", b"\r"],
                vec![data("a")],
                false,
            ),
            (
                "multi-line data",
                vec![b"data: one\ndata: two\ndata:\ndata: three\n\n"],
                vec![data("one\ntwo\n\nthree")],
                false,
            ),
            (
                "comments and keep-alives",
                vec![b": ping\n\n:\ndata: a\n: mid-event\n\n"],
                vec![data("a")],
                false,
            ),
            (
                "data without space",
                vec![b"data:a\n\n"],
                vec![data("a")],
                false,
            ),
            (
                "only one space stripped",
                vec![b"data:  a \n\n"],
                vec![data(" a ")],
                false,
            ),
            (
                "event: error",
                vec![b"event: error\ndata: {\"error\":{}}\n\ndata: b\n\n"],
                vec![ev(Some("error"), "{\"error\":{}}", None), data("b")],
                false,
            ),
            (
                "done",
                vec![b"data: [DONE]\n\n"],
                vec![data("[DONE]")],
                false,
            ),
            (
                "field without colon",
                vec![b"data\n\ndata\ndata\n\n"],
                vec![data(""), data("\n")],
                false,
            ),
            (
                "blank line without data dispatches nothing and resets event",
                vec![b"event: x\n\n\n\ndata: a\n\n"],
                vec![data("a")],
                false,
            ),
            (
                "ids persist; retry and unknown fields ignored",
                vec![b"id: 7\nretry: 10\nfoo: bar\ndata: a\n\ndata: b\n\nid\ndata: c\n\n"],
                vec![
                    ev(None, "a", Some("7")),
                    ev(None, "b", Some("7")),
                    ev(None, "c", None),
                ],
                false,
            ),
            (
                "leading BOM",
                vec![b"\xEF\xBB", b"\xBFdata: a\n\n"],
                vec![data("a")],
                false,
            ),
            (
                "invalid UTF-8 is replaced",
                vec![b"data: \xFFok\n\n"],
                vec![data("\u{FFFD}ok")],
                false,
            ),
            (
                "finish with pending data",
                vec![b"data: a\ndata: b\n"],
                vec![data("a\nb")],
                false,
            ),
            (
                "finish with a partial line",
                vec![b"data: a\n\ndata: [DO", b"NE]"],
                vec![data("a"), data("[DONE]")],
                true,
            ),
            (
                "finish with a partial comment",
                vec![b"data: a\n\n: keep"],
                vec![data("a")],
                true,
            ),
            (
                "finish after cr",
                vec![b"data: a\r"],
                vec![data("a")],
                false,
            ),
        ];
        for (name, chunks, want, want_partial) in cases {
            let (got, partial) = run(&chunks);
            assert_eq!(got, want, "{name}");
            assert_eq!(partial, want_partial, "{name}: partial");
        }
    }

    #[test]
    fn utf8_split_across_pushes() {
        let stream = "data: héllo 世界 🦀\n\n".as_bytes();
        for split in 0..=stream.len() {
            let (got, partial) = run(&[&stream[..split], &stream[split..]]);
            assert_eq!(got, vec![data("héllo 世界 🦀")], "split at {split}");
            assert!(!partial);
        }
        let bytewise: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(run(&bytewise).0, vec![data("héllo 世界 🦀")]);
    }

    #[test]
    fn offset_counts_all_bytes() {
        let mut parser = SseParser::new();
        assert_eq!(parser.offset(), 0);
        assert_eq!(parser.push(b"data: a\n").len(), 0);
        assert_eq!(parser.offset(), 8);
        assert_eq!(parser.push(b"\n: x\n").len(), 1);
        assert_eq!(parser.offset(), 13);
    }

    #[test]
    fn oversized_line_is_dropped_and_counted() {
        let mut parser = SseParser::new();
        let mut events = parser.push(b"data: a\n\ndata: ");
        let mib = vec![b'x'; 1024 * 1024];
        for _ in 0..9 {
            events.extend(parser.push(&mib));
        }
        assert_eq!(parser.oversized_lines(), 1);
        events.extend(parser.push(b"\n\ndata: b\n\n"));
        assert_eq!(events, vec![data("a"), data("b")]);
        assert_eq!(parser.oversized_lines(), 1);
        assert!(parser.line.capacity() <= KEEP_CAPACITY);

        let mut parser = SseParser::new();
        parser.push(b"data: ");
        parser.push(&vec![b'y'; MAX_LINE_BYTES]);
        assert_eq!(parser.finish(), (None, true));
        assert_eq!(parser.oversized_lines(), 1);
    }
}
