-- Replay details: streaming, timing, usage and cost.
ALTER TABLE replays ADD COLUMN IF NOT EXISTS streamed boolean NOT NULL DEFAULT false;
ALTER TABLE replays ADD COLUMN IF NOT EXISTS ttft_ms double precision;
ALTER TABLE replays ADD COLUMN IF NOT EXISTS chunks integer;
ALTER TABLE replays ADD COLUMN IF NOT EXISTS prompt_tokens integer;
ALTER TABLE replays ADD COLUMN IF NOT EXISTS completion_tokens integer;
ALTER TABLE replays ADD COLUMN IF NOT EXISTS cost_usd double precision;
-- Spend per candidate and day (the daily budget is checked against it at start-up).
CREATE INDEX IF NOT EXISTS replays_candidate_day_idx ON replays (candidate, replayed_at);
