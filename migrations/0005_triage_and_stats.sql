-- Triage of diffs, rules that turn triage decisions into differ behaviour, and pre-aggregated
-- daily statistics so dashboards stay fast at millions of diffs.

ALTER TABLE diffs ADD COLUMN IF NOT EXISTS triage_state text;
ALTER TABLE diffs ADD COLUMN IF NOT EXISTS triage_note text;
ALTER TABLE diffs ADD COLUMN IF NOT EXISTS triaged_at timestamptz;
ALTER TABLE diffs ADD COLUMN IF NOT EXISTS first_kind text;
CREATE INDEX IF NOT EXISTS diffs_triage_idx ON diffs (triage_state, id DESC);
CREATE INDEX IF NOT EXISTS diffs_first_kind_idx ON diffs (first_kind, id DESC);
CREATE INDEX IF NOT EXISTS diffs_score_idx ON diffs (score DESC, id DESC);

CREATE TABLE IF NOT EXISTS triage_rules (
    id          bigserial PRIMARY KEY,
    -- 'ignore_path': findings at this JSON path are noise; 'accept_kind': findings of this kind are accepted.
    action      text NOT NULL CHECK (action IN ('ignore_path', 'accept_kind')),
    finding_kind text,
    path        text,
    -- Optional scope: only for this route (request path) and/or candidate.
    route       text,
    candidate   text,
    note        text,
    created_from bigint,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS diff_daily (
    day       date NOT NULL,
    candidate text NOT NULL,
    verdict   text NOT NULL,
    diffs     bigint NOT NULL DEFAULT 0,
    score_sum double precision NOT NULL DEFAULT 0,
    semantic_sum double precision NOT NULL DEFAULT 0,
    semantic_n bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, candidate, verdict)
);

CREATE OR REPLACE FUNCTION diff_daily_count() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO diff_daily AS d (day, candidate, verdict, diffs, score_sum, semantic_sum, semantic_n)
        VALUES ((NEW.created_at AT TIME ZONE 'UTC')::date, NEW.candidate, NEW.verdict, 1, NEW.score,
                coalesce(NEW.semantic_similarity, 0), CASE WHEN NEW.semantic_similarity IS NULL THEN 0 ELSE 1 END)
        ON CONFLICT (day, candidate, verdict) DO UPDATE
        SET diffs = d.diffs + 1, score_sum = d.score_sum + EXCLUDED.score_sum,
            semantic_sum = d.semantic_sum + EXCLUDED.semantic_sum, semantic_n = d.semantic_n + EXCLUDED.semantic_n;
        RETURN NEW;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NEW.verdict IS DISTINCT FROM OLD.verdict OR NEW.score IS DISTINCT FROM OLD.score THEN
            UPDATE diff_daily SET diffs = diffs - 1, score_sum = score_sum - OLD.score,
                semantic_sum = semantic_sum - coalesce(OLD.semantic_similarity, 0),
                semantic_n = semantic_n - CASE WHEN OLD.semantic_similarity IS NULL THEN 0 ELSE 1 END
            WHERE day = (OLD.created_at AT TIME ZONE 'UTC')::date AND candidate = OLD.candidate AND verdict = OLD.verdict;
            INSERT INTO diff_daily AS d (day, candidate, verdict, diffs, score_sum, semantic_sum, semantic_n)
            VALUES ((NEW.created_at AT TIME ZONE 'UTC')::date, NEW.candidate, NEW.verdict, 1, NEW.score,
                    coalesce(NEW.semantic_similarity, 0), CASE WHEN NEW.semantic_similarity IS NULL THEN 0 ELSE 1 END)
            ON CONFLICT (day, candidate, verdict) DO UPDATE
            SET diffs = d.diffs + 1, score_sum = d.score_sum + EXCLUDED.score_sum,
                semantic_sum = d.semantic_sum + EXCLUDED.semantic_sum, semantic_n = d.semantic_n + EXCLUDED.semantic_n;
        END IF;
        RETURN NEW;
    ELSE
        UPDATE diff_daily SET diffs = diffs - 1, score_sum = score_sum - OLD.score,
            semantic_sum = semantic_sum - coalesce(OLD.semantic_similarity, 0),
            semantic_n = semantic_n - CASE WHEN OLD.semantic_similarity IS NULL THEN 0 ELSE 1 END
        WHERE day = (OLD.created_at AT TIME ZONE 'UTC')::date AND candidate = OLD.candidate AND verdict = OLD.verdict;
        RETURN OLD;
    END IF;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS diffs_daily_count ON diffs;
CREATE TRIGGER diffs_daily_count AFTER INSERT OR UPDATE OR DELETE ON diffs
    FOR EACH ROW EXECUTE FUNCTION diff_daily_count();

-- Existing rows (databases created before this migration).
INSERT INTO diff_daily (day, candidate, verdict, diffs, score_sum, semantic_sum, semantic_n)
SELECT (created_at AT TIME ZONE 'UTC')::date, candidate, verdict, count(*), sum(score),
       coalesce(sum(semantic_similarity), 0), count(semantic_similarity)
FROM diffs GROUP BY 1, 2, 3
ON CONFLICT DO NOTHING;
UPDATE diffs SET first_kind = findings -> 0 ->> 'kind' WHERE first_kind IS NULL AND jsonb_array_length(findings) > 0;
