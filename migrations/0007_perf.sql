-- Indexes for the dashboard and the regressions list at millions of diffs (measured with
-- benches/ui.rs on 1,000,000 seeded diffs; see README "Benchmarks").

-- Dashboard, error classes of a candidate's recent replays: only failed replays, index-only
-- (was a sequential scan of replays: ~260 ms per candidate).
CREATE INDEX IF NOT EXISTS replays_errors_idx ON replays (candidate, replayed_at)
    INCLUDE (error_class) WHERE error_class IS NOT NULL;

-- Dashboard, top finding kinds of a candidate's flagged diffs over the window: index-only
-- (was a bitmap scan of every regression/minor/incompatible diff of the candidate: ~210 ms).
CREATE INDEX IF NOT EXISTS diffs_flagged_kinds_idx ON diffs (candidate, created_at)
    INCLUDE (first_kind) WHERE verdict IN ('regression', 'minor', 'incompatible') AND first_kind IS NOT NULL;

-- Regressions list, since/until: the capped count reads the window instead of walking every
-- newer diff (~120 ms → ~12 ms for one day a week back).
CREATE INDEX IF NOT EXISTS diffs_created_idx ON diffs (created_at);

-- Regressions list, team/feature filters: without statistics on these expressions the planner
-- expected 5 matching exchanges out of 500,000 and read them all (1.2 s); with them it walks the
-- newest diffs (~15 ms for the page), and the capped count combines the two indexes.
CREATE INDEX IF NOT EXISTS exchanges_team_idx ON exchanges ((tags ->> 'team'));
CREATE INDEX IF NOT EXISTS exchanges_feature_idx ON exchanges ((tags ->> 'feature'));
-- Expression statistics exist only after ANALYZE; autovacuum may not analyze a big table for a
-- long time, so collect them now (samples 30,000 rows; about a second).
ANALYZE exchanges;
