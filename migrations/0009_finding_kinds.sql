-- Regressions list, finding-kind filter: `findings @> '[{"kind": …}]'` has no usable statistics
-- (the planner guesses), so at 1M diffs it either walked the newest diffs for a rare kind or
-- sorted every match of a common one (131 ms page / 161 ms count). The distinct kinds of each diff
-- as a text[] get per-element statistics and a GIN index; being generated, every writer (the
-- store, re-scoring, the seeding script) keeps them in step with `findings`.
CREATE OR REPLACE FUNCTION shadowtap_finding_kinds(findings jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT f ->> 'kind') FILTER (WHERE f ->> 'kind' IS NOT NULL), '{}')
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(findings) = 'array' THEN findings ELSE '[]' END) f
$$;

ALTER TABLE diffs ADD COLUMN IF NOT EXISTS finding_kinds text[]
    GENERATED ALWAYS AS (shadowtap_finding_kinds(findings)) STORED;
CREATE INDEX IF NOT EXISTS diffs_finding_kinds_idx ON diffs USING gin (finding_kinds);
ANALYZE diffs;
