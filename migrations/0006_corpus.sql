-- Corpus replay: named corpora of requests, runs of a corpus against a candidate, and the
-- judge's cache. A run's items are stored as ordinary exchanges + replays + diffs (so the UI shows
-- them like live traffic); `exchanges.run_id` / `source` tell them apart from captured traffic.

CREATE TABLE IF NOT EXISTS corpora (
    id             bigserial PRIMARY KEY,
    name           text NOT NULL UNIQUE,
    format_version integer NOT NULL,
    description    text,
    -- Checks applied to every item of the corpus (the file header's `checks`).
    checks         jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS corpus_items (
    id           bigserial PRIMARY KEY,
    corpus_id    bigint NOT NULL REFERENCES corpora (id) ON DELETE CASCADE,
    -- The item's id in the file (stable across re-imports), unique within the corpus.
    key          text NOT NULL,
    position     integer NOT NULL,
    path         text NOT NULL DEFAULT '/v1/chat/completions',
    request      jsonb NOT NULL,
    -- A reference chat.completion, when the file gave one.
    expected     jsonb,
    -- Latency / cost of the reference answer (e.g. production's, when exported from captures).
    baseline     jsonb,
    checks       jsonb NOT NULL DEFAULT '[]'::jsonb,
    tags         jsonb NOT NULL DEFAULT '{}'::jsonb,
    CONSTRAINT corpus_items_key UNIQUE (corpus_id, key)
);

CREATE TABLE IF NOT EXISTS runs (
    id          bigserial PRIMARY KEY,
    corpus_id   bigint REFERENCES corpora (id) ON DELETE SET NULL,
    corpus_name text NOT NULL,
    candidate   text NOT NULL,
    -- `auto`, `expected`, `production` or a candidate name.
    baseline    text NOT NULL,
    -- `running` (or interrupted: resumable), `done`.
    status      text NOT NULL DEFAULT 'running',
    judge       boolean NOT NULL DEFAULT false,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX IF NOT EXISTS runs_resume_idx ON runs (corpus_id, candidate, baseline, status);

CREATE TABLE IF NOT EXISTS run_items (
    id                  bigserial PRIMARY KEY,
    run_id              bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    item_id             bigint REFERENCES corpus_items (id) ON DELETE SET NULL,
    item_key            text NOT NULL,
    position            integer NOT NULL,
    -- The exchange this item is stored as (fixed when the run is created, so resuming reuses it).
    exchange_id         uuid NOT NULL,
    -- `pending`, `done`, `skipped` (the item left the corpus).
    status              text NOT NULL DEFAULT 'pending',
    baseline_latency_ms double precision,
    baseline_cost_usd   double precision,
    -- Deterministic check results: [{"check", "must_pass", "passed", "message"}].
    checks              jsonb NOT NULL DEFAULT '[]'::jsonb,
    -- LLM-as-judge: {"score", "reason", "disagrees", ...} or {"error"}.
    judge               jsonb,
    done_at             timestamptz,
    CONSTRAINT run_items_key UNIQUE (run_id, item_key)
);
CREATE INDEX IF NOT EXISTS run_items_pending_idx ON run_items (run_id, status, position);

CREATE TABLE IF NOT EXISTS judge_cache (
    -- sha256 of the judge model, rubric, request, reference and candidate answers.
    hash       text PRIMARY KEY,
    score      integer NOT NULL,
    reason     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Exchanges replayed from a corpus belong to a run; captured traffic has run_id NULL.
ALTER TABLE exchanges ADD COLUMN IF NOT EXISTS run_id bigint REFERENCES runs (id) ON DELETE CASCADE;
ALTER TABLE exchanges ADD COLUMN IF NOT EXISTS source text;
CREATE INDEX IF NOT EXISTS exchanges_run_idx ON exchanges (run_id) WHERE run_id IS NOT NULL;
