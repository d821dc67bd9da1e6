-- Retention: captured bodies expire; verdicts, scores and aggregates stay.
ALTER TABLE exchanges ADD COLUMN IF NOT EXISTS bodies_expired boolean NOT NULL DEFAULT false;
ALTER TABLE replays ALTER COLUMN request_body DROP NOT NULL;
ALTER TABLE replays ADD COLUMN IF NOT EXISTS bodies_expired boolean NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS exchanges_unexpired_idx ON exchanges (captured_at) WHERE NOT bodies_expired;
