-- Streamed responses: reassembly statistics and time to first token.
ALTER TABLE exchanges ADD COLUMN IF NOT EXISTS stream_stats jsonb;
ALTER TABLE exchanges ADD COLUMN IF NOT EXISTS ttft_ms double precision;
