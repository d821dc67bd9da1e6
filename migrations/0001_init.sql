-- shadowtap schema v1: captured exchanges, candidate replays, diffs, dead letters.

CREATE TABLE IF NOT EXISTS exchanges (
    id                 uuid PRIMARY KEY,
    captured_at        timestamptz NOT NULL,
    method             text NOT NULL,
    path               text NOT NULL,
    model              text,
    tags               jsonb NOT NULL DEFAULT '{}'::jsonb,
    request_headers    jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Bodies: the JSON value when the body parsed, else a JSON string of the (lossy UTF-8) text.
    request_body       jsonb,
    request_is_json    boolean NOT NULL,
    request_truncated  boolean NOT NULL DEFAULT false,
    request_size       bigint NOT NULL DEFAULT 0,
    response_body      jsonb,
    response_is_json   boolean NOT NULL,
    response_truncated boolean NOT NULL DEFAULT false,
    response_size      bigint NOT NULL DEFAULT 0,
    status             integer NOT NULL,
    latency_ms         double precision NOT NULL,
    ttfb_ms            double precision,
    streamed           boolean NOT NULL,
    incomplete         boolean NOT NULL DEFAULT false,
    stored_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS exchanges_captured_idx ON exchanges (captured_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS exchanges_route_idx ON exchanges (path, model, captured_at DESC);

CREATE TABLE IF NOT EXISTS replays (
    id               bigserial PRIMARY KEY,
    exchange_id      uuid NOT NULL REFERENCES exchanges (id) ON DELETE CASCADE,
    candidate        text NOT NULL,
    request_body     jsonb NOT NULL,
    response_body    jsonb,
    response_is_json boolean NOT NULL DEFAULT false,
    status           integer,
    latency_ms       double precision NOT NULL,
    error_class      text,
    error_message    text,
    attempts         integer NOT NULL DEFAULT 1,
    replayed_at      timestamptz NOT NULL DEFAULT now(),
    -- Redelivery of the same capture must not create a second replay.
    CONSTRAINT replays_exchange_candidate_key UNIQUE (exchange_id, candidate)
);
CREATE INDEX IF NOT EXISTS replays_candidate_idx ON replays (candidate, replayed_at DESC);

CREATE TABLE IF NOT EXISTS diffs (
    id              bigserial PRIMARY KEY,
    replay_id       bigint NOT NULL UNIQUE REFERENCES replays (id) ON DELETE CASCADE,
    exchange_id     uuid NOT NULL REFERENCES exchanges (id) ON DELETE CASCADE,
    candidate       text NOT NULL,
    verdict         text NOT NULL,
    score           double precision NOT NULL,
    text_similarity double precision,
    findings        jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now()
);
-- List pages: newest first, optionally by candidate and verdict (keyset pagination on id).
CREATE INDEX IF NOT EXISTS diffs_id_desc_idx ON diffs (id DESC);
CREATE INDEX IF NOT EXISTS diffs_candidate_verdict_idx ON diffs (candidate, verdict, id DESC);
CREATE INDEX IF NOT EXISTS diffs_verdict_idx ON diffs (verdict, id DESC);
CREATE INDEX IF NOT EXISTS diffs_exchange_idx ON diffs (exchange_id);

CREATE TABLE IF NOT EXISTS dead_letters (
    id          bigserial PRIMARY KEY,
    origin      text NOT NULL,
    message_key text,
    -- At most 64 KiB of the message, as lossy UTF-8.
    payload     text NOT NULL,
    reason      text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
