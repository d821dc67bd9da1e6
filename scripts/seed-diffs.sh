#!/usr/bin/env bash
# Bulk-load N synthetic but realistic diffs (default 1,000,000) into a database, for the UI-at-scale
# benchmark (benches/ui.rs). Rows are built inside PostgreSQL with generate_series (no client
# round trips): N/2 captured exchanges (8 request kinds: JSON extraction, tool calls, support
# answers, SQL, translation…, with team/feature tags), spread over SEED_DAYS days up to now, each
# replayed to two candidates (`groq`, `together`) with a realistic verdict mix (same, noise,
# minor, regression, incompatible, error), findings jsonb with measured values and plain-words
# messages, first_kind, similarities, latencies, usage and cost, and some triaged regressions.
# Ids grow with time, as they do with live traffic.
#
# `diff_daily` (per-day verdict counts kept by the row trigger `diffs_daily_count`) stays exact:
# the load runs in one transaction that disables the trigger (which locks `diffs` against other
# writers until commit), inserts, adds the loaded rows' per-day aggregates to `diff_daily` in one
# statement, and re-enables the trigger; the script then checks diff_daily against diffs.
# Afterwards it runs VACUUM ANALYZE, as autovacuum eventually would.
#
# Usage: scripts/seed-diffs.sh DATABASE_URL [N]
#   The database is created if missing and migrated with `shadowtap migrate` (cargo run --release,
#   or the binary SEED_BIN names).
#   SEED_DAYS=30   days the diffs are spread over (ending now)
#   SEED_SEED=0.42 random seed (same seed, same data)
# Example: scripts/seed-diffs.sh postgres://postgres@127.0.0.1:5432/shadowtap_bench 1000000
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

URL="${1:?usage: scripts/seed-diffs.sh DATABASE_URL [N]}"
N="${2:-1000000}"
DAYS="${SEED_DAYS:-30}"
SEED="${SEED_SEED:-0.42}"
[[ "$N" =~ ^[0-9]+$ ]] && [ "$N" -gt 0 ] || { log "N must be a positive integer, not '$N'"; exit 1; }

DB="${URL##*/}"
DB="${DB%%\?*}"
ADMIN="${URL%/*}/postgres"
if [ "$(psql "$ADMIN" -XtAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
  log "creating database $DB"
  psql "$ADMIN" -Xq -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$DB\""
fi
log "applying migrations"
if [ -n "${SEED_BIN:-}" ]; then
  DATABASE_URL="$URL" SHADOWTAP_LOG=warn "$SEED_BIN" migrate >/dev/null
else
  (cd "$ROOT" && DATABASE_URL="$URL" SHADOWTAP_LOG=warn cargo run --release --quiet --bin shadowtap -- migrate >/dev/null)
fi

log "loading $N diffs over $DAYS days"
START=$(date +%s.%N)
psql "$URL" -Xq -v ON_ERROR_STOP=1 -v n="$N" -v days="$DAYS" -v seed="$SEED" <<'SQL'
BEGIN;
SELECT setseed(:seed) \g /dev/null
-- Takes SHARE ROW EXCLUSIVE on diffs: other writers wait for our commit, so no diff can be
-- inserted (and missed by diff_daily) while the trigger is off.
ALTER TABLE diffs DISABLE TRIGGER diffs_daily_count;

CREATE TEMP TABLE seed_kinds (
    k int PRIMARY KEY, model text, team text, feature text, prompt text, extra jsonb,
    answer text, cand_answer text, tool text, args text, finish text
) ON COMMIT DROP;
INSERT INTO seed_kinds VALUES
 (0, 'gpt-4o-mini', 'finance', 'invoice-parser',
  'Extract invoice_number, total, currency and due_date as JSON from: Invoice INV-2024-%s, total due EUR 1,249.50 by 15 March 2024.',
  '{"response_format": {"type": "json_object"}}',
  '{"invoice_number": "INV-2024-%s", "total": 1249.5, "currency": "EUR", "due_date": "2024-03-15"}',
  '{"currency": "EUR", "due_date": "2024-03-15", "invoice_number": "INV-2024-%s", "total": 1249.50}', NULL, NULL, 'stop'),
 (1, 'gpt-4o', 'assistant', 'tools', 'What''s the weather like in Paris right now? (session %s)',
  '{"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string"}}, "required": ["city"]}}}]}',
  NULL, NULL, 'get_weather', '{"city": "Paris", "unit": "celsius"}', 'tool_calls'),
 (2, 'gpt-4o-mini', 'support', 'helpdesk', 'How do I reset my account password? Ticket %s.', '{}',
  'To reset your password: 1. Open Settings → Security. 2. Click "Reset password". 3. Follow the link we email you within 10 minutes. The link expires after 24 hours.',
  'To reset your password: 1. Go to Settings → Security. 2. Click "Reset password". 3. Follow the link we email you within 10 minutes. The link is valid for 24 hours.', NULL, NULL, 'stop'),
 (3, 'gpt-4o', 'docs', 'summaries', 'Summarize the 4.2 release notes for customer %s: new SSO support, 30%% faster search, dark mode, and removal of the legacy v1 API.', '{}',
  'Release 4.2 adds single sign-on, makes search about 30%% faster and introduces dark mode. Note that the legacy v1 API has been removed, so integrations still using it must migrate to v2.',
  'Release 4.2 adds single sign-on, makes search roughly 30%% faster and introduces dark mode. The legacy v1 API has been removed, so integrations still using it must migrate to v2.', NULL, NULL, 'stop'),
 (4, 'gpt-4.1-mini', 'assistant', 'translation', 'Translate to French: The meeting about project %s has been moved to Thursday at 10am.', '{}',
  'La réunion sur le projet %s a été déplacée à jeudi à 10 h.', 'La réunion concernant le projet %s a été reportée à jeudi à 10 h.', NULL, NULL, 'stop'),
 (5, 'gpt-4o-mini', 'support', 'tools', 'Where is my order A-%s?',
  '{"tools": [{"type": "function", "function": {"name": "lookup_order", "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}}]}',
  NULL, NULL, 'lookup_order', '{"order_id": "A-%s"}', 'tool_calls'),
 (6, 'gpt-4o', 'analytics', 'sql-assist', 'Write a SQL query returning the 5 customers with the highest total order amount from orders(customer_id, amount). (report %s)', '{}',
  E'```sql\nSELECT customer_id, SUM(amount) AS total\nFROM orders\nGROUP BY customer_id\nORDER BY total DESC\nLIMIT 5;\n```',
  E'```sql\nSELECT customer_id, SUM(amount) AS total_amount\nFROM orders\nGROUP BY customer_id\nORDER BY total_amount DESC\nLIMIT 5;\n```', NULL, NULL, 'stop'),
 (7, 'gpt-4o-mini', 'support', 'helpdesk', 'Can I get a refund 20 days after purchase? Order A-%s.', '{}',
  'Yes. Purchases can be refunded within 30 days, so a refund 20 days after purchase is possible. Request it from Orders → Refund.',
  'Yes. Purchases can be refunded within 30 days, so a refund 20 days after purchase is possible. You can request it from Orders → Refund.', NULL, NULL, 'stop');

-- One row per exchange: when, which kind, a per-request number woven into the texts.
CREATE TEMP TABLE seed_ex ON COMMIT DROP AS
SELECT i, gen_random_uuid() AS id,
       now() - make_interval(secs => :days * 86400.0 * (1 - i::float8 / ((:n + 1) / 2))) AS at,
       (i::bigint * 7919 % 8)::int AS k,
       (10000 + i::bigint * 104729 % 89999)::text AS ref,
       random() < 0.2 AS streamed,
       exp(5.8 + random() * 1.6) AS latency_ms
FROM generate_series(1, (:n + 1) / 2) i;

INSERT INTO exchanges (id, captured_at, method, path, model, tags, request_headers, request_body, request_is_json,
                       request_size, response_body, response_is_json, response_size, status, latency_ms, ttfb_ms,
                       streamed, ttft_ms, stored_at)
SELECT e.id, e.at, 'POST', '/v1/chat/completions', s.model,
       jsonb_build_object('team', s.team, 'feature', s.feature),
       '{"content-type": "application/json", "user-agent": "OpenAI/Python 1.57.0", "x-stainless-lang": "python"}',
       req, true, length(req::text),
       resp, true, length(resp::text), 200, e.latency_ms, e.latency_ms * 0.3, e.streamed,
       CASE WHEN e.streamed THEN e.latency_ms * 0.25 END, e.at + interval '5 ms'
FROM seed_ex e JOIN seed_kinds s USING (k),
LATERAL (SELECT jsonb_build_object('model', s.model, 'temperature', 0, 'stream', e.streamed, 'messages', jsonb_build_array(
            jsonb_build_object('role', 'system', 'content', 'You are a concise, accurate assistant for Lumen, a project-management SaaS.'),
            jsonb_build_object('role', 'user', 'content', format(s.prompt, e.ref)))) || s.extra AS req) r,
LATERAL (SELECT jsonb_build_object('id', 'chatcmpl-' || md5(e.id::text), 'object', 'chat.completion',
            'created', extract(epoch FROM e.at)::bigint, 'model', s.model || '-2024-07-18',
            'choices', jsonb_build_array(jsonb_build_object('index', 0, 'finish_reason', s.finish,
                'message', CASE WHEN s.tool IS NULL
                    THEN jsonb_build_object('role', 'assistant', 'content', format(s.answer, e.ref))
                    ELSE jsonb_build_object('role', 'assistant', 'content', NULL, 'tool_calls', jsonb_build_array(
                        jsonb_build_object('id', 'call_' || left(md5(e.id::text), 12), 'type', 'function',
                            'function', jsonb_build_object('name', s.tool, 'arguments', format(s.args, e.ref))))) END)),
            'usage', jsonb_build_object('prompt_tokens', 40 + e.k * 9, 'completion_tokens', 20 + e.k * 7,
                                        'total_tokens', 60 + e.k * 16)) AS resp) p
ORDER BY e.i;

-- One row per (exchange, candidate): the verdict and everything that follows from it. Replay and
-- diff ids are drawn in time order. Candidate 0 (groq) is the better one.
CREATE TEMP TABLE seed_rows ON COMMIT DROP AS
SELECT nextval(pg_get_serial_sequence('replays', 'id')) AS replay_id,
       nextval(pg_get_serial_sequence('diffs', 'id')) AS diff_id, x.*
FROM (
    SELECT e.i, e.id AS exchange_id, e.at, e.k, e.ref, e.streamed, c.c,
           (ARRAY['groq', 'together'])[c.c + 1] AS candidate,
           CASE WHEN c.c = 0 THEN
                CASE WHEN u < 0.55 THEN 'same' WHEN u < 0.75 THEN 'noise' WHEN u < 0.87 THEN 'minor'
                     WHEN u < 0.965 THEN 'regression' WHEN u < 0.975 THEN 'incompatible' ELSE 'error' END
           ELSE CASE WHEN u < 0.40 THEN 'same' WHEN u < 0.60 THEN 'noise' WHEN u < 0.75 THEN 'minor'
                     WHEN u < 0.93 THEN 'regression' WHEN u < 0.95 THEN 'incompatible' ELSE 'error' END
           END AS verdict,
           random() AS v, random() AS w,
           e.latency_ms * (0.5 + random() * (0.8 + c.c)) AS latency_ms
    FROM seed_ex e CROSS JOIN LATERAL (VALUES (0), (1)) c(c), LATERAL (SELECT random() + 0 * e.i AS u) r
    WHERE 2 * (e.i - 1) + c.c < :n
    ORDER BY e.i, c.c
) x;

INSERT INTO replays (id, exchange_id, candidate, request_body, response_body, response_is_json, status, latency_ms,
                     error_class, error_message, attempts, replayed_at, streamed, ttft_ms, chunks, prompt_tokens,
                     completion_tokens, cost_usd)
SELECT r.replay_id, r.exchange_id, r.candidate,
       jsonb_set(x.request_body, '{model}', to_jsonb(CASE r.c WHEN 0 THEN 'llama-3.3-70b-versatile' ELSE 'meta-llama/Llama-3.3-70B-Instruct-Turbo' END)),
       CASE r.verdict
           WHEN 'error' THEN '{"error": {"message": "Rate limit reached for requests", "type": "requests", "code": "rate_limit_exceeded"}}'::jsonb
           WHEN 'incompatible' THEN '{"error": {"message": "Unsupported parameter: ''response_format'' is not supported with this model.", "type": "invalid_request_error", "code": "unsupported_parameter"}}'::jsonb
           ELSE jsonb_set(x.response_body, '{choices,0,message}', CASE WHEN s.tool IS NULL
                    THEN jsonb_build_object('role', 'assistant', 'content', format(s.cand_answer, r.ref))
                    ELSE x.response_body #> '{choices,0,message}' END)
       END,
       true,
       CASE r.verdict WHEN 'error' THEN 429 WHEN 'incompatible' THEN 400 ELSE 200 END,
       r.latency_ms,
       CASE r.verdict WHEN 'error' THEN 'rate_limited' WHEN 'incompatible' THEN 'unsupported_parameter' END,
       CASE r.verdict WHEN 'error' THEN 'Rate limit reached for requests' WHEN 'incompatible' THEN 'Unsupported parameter: ''response_format'' is not supported with this model.' END,
       CASE r.verdict WHEN 'error' THEN 4 ELSE 1 + (r.w < 0.03)::int END,
       r.at + make_interval(secs => r.latency_ms / 1000), r.streamed,
       CASE WHEN r.streamed THEN r.latency_ms * 0.2 END, CASE WHEN r.streamed THEN 12 + r.k * 3 END,
       CASE WHEN r.verdict NOT IN ('error', 'incompatible') THEN 38 + r.k * 9 END,
       CASE WHEN r.verdict NOT IN ('error', 'incompatible') THEN 18 + r.k * 8 END,
       CASE WHEN r.verdict NOT IN ('error', 'incompatible') THEN ((38 + r.k * 9) * 0.59 + (18 + r.k * 8) * 0.79) / 1e6 END
FROM seed_rows r JOIN seed_kinds s USING (k) JOIN exchanges x ON x.id = r.exchange_id
ORDER BY r.replay_id;

-- The first finding decides first_kind; minor and regression diffs sometimes carry a second one.
INSERT INTO diffs (id, replay_id, exchange_id, candidate, verdict, score, text_similarity, findings, created_at,
                   semantic_similarity, noise_semantic, triage_state, triage_note, triaged_at, first_kind)
SELECT d.diff_id, d.replay_id, d.exchange_id, d.candidate, d.verdict, d.score, d.text_sim,
       CASE WHEN d.kind IS NULL THEN '[]'::jsonb ELSE
           jsonb_build_array(jsonb_strip_nulls(jsonb_build_object('kind', d.kind, 'path', d.path, 'severity', d.severity,
               'value', d.value, 'threshold', d.threshold, 'message', d.message)))
           || CASE WHEN d.verdict IN ('minor', 'regression') AND d.w < 0.3 THEN jsonb_build_array(jsonb_build_object(
                  'kind', 'length_ratio', 'path', '/choices/0/message/content', 'severity', 'info',
                  'value', round((1.2 + d.w)::numeric, 3), 'threshold', 2.5,
                  'message', format('the candidate''s answer is %s× as long as production''s', round((1.2 + d.w)::numeric, 1))))
              ELSE '[]'::jsonb END
       END,
       d.created_at, d.sem, CASE WHEN d.w < 0.5 THEN round((0.93 + d.w * 0.1)::numeric, 4)::float8 END,
       d.triage, CASE WHEN d.triage IS NOT NULL THEN 'bulk-seeded triage' END,
       CASE WHEN d.triage IS NOT NULL THEN d.created_at + interval '2 days' END, d.kind
FROM (
    SELECT r.*, k.*, f.*,
           r.at + make_interval(secs => r.latency_ms / 1000 + 0.05) AS created_at,
           CASE r.verdict
               WHEN 'same' THEN round((r.v * 0.08)::numeric, 4)::float8
               WHEN 'noise' THEN round((0.05 + r.v * 0.15)::numeric, 4)::float8
               WHEN 'minor' THEN round((0.3 + r.v * 0.25)::numeric, 4)::float8
               WHEN 'regression' THEN round((0.8 + r.v * 0.2)::numeric, 4)::float8
               ELSE 1.0 END AS score,
           CASE r.verdict
               WHEN 'same' THEN round((0.9 + r.v * 0.1)::numeric, 4)::float8
               WHEN 'noise' THEN round((0.7 + r.v * 0.2)::numeric, 4)::float8
               WHEN 'minor' THEN round((0.4 + r.v * 0.3)::numeric, 4)::float8
               WHEN 'regression' THEN round((0.1 + r.v * 0.4)::numeric, 4)::float8
           END AS text_sim,
           CASE r.verdict
               WHEN 'same' THEN round((0.97 + r.v * 0.03)::numeric, 4)::float8
               WHEN 'noise' THEN round((0.9 + r.v * 0.08)::numeric, 4)::float8
               WHEN 'minor' THEN round((0.72 + r.v * 0.15)::numeric, 4)::float8
               WHEN 'regression' THEN round((0.25 + r.v * 0.45)::numeric, 4)::float8
           END AS sem,
           CASE WHEN r.verdict = 'regression' THEN
               CASE WHEN r.w < 0.05 THEN 'confirmed' WHEN r.w < 0.07 THEN 'acceptable' WHEN r.w < 0.08 THEN 'noise' END
           END AS triage
    FROM seed_rows r,
    LATERAL (SELECT
        CASE r.verdict
            WHEN 'same' THEN NULL
            WHEN 'noise' THEN (ARRAY['text_divergence', 'formatting', 'length_ratio'])[1 + (r.v * 3)::int % 3]
            WHEN 'minor' THEN (ARRAY['text_divergence', 'semantic_divergence', 'formatting', 'length_ratio', 'json_structure'])[1 + (r.v * 5)::int % 5]
            WHEN 'regression' THEN (ARRAY['semantic_divergence', 'semantic_divergence', 'numbers_changed', 'tool_arguments',
                'invalid_json', 'refusal', 'finish_reason', 'tool_call_dropped', 'negation', 'language_switch',
                'json_structure', 'text_divergence'])[1 + (r.v * 12)::int % 12]
            WHEN 'incompatible' THEN 'incompatible'
            ELSE 'candidate_error'
        END AS kind) k,
    LATERAL (SELECT
        CASE WHEN k.kind IN ('tool_arguments', 'tool_call_dropped') THEN '/choices/0/message/tool_calls/0'
             WHEN k.kind IN ('invalid_json', 'json_structure') THEN '/choices/0/message/content/total'
             WHEN k.kind = 'finish_reason' THEN '/choices/0/finish_reason'
             WHEN k.kind IN ('incompatible', 'candidate_error') THEN ''
             ELSE '/choices/0/message/content' END AS path,
        CASE WHEN r.verdict = 'noise' THEN 'info' WHEN r.verdict = 'minor' THEN 'minor'
             WHEN k.kind IN ('invalid_json', 'refusal', 'tool_call_dropped', 'incompatible', 'candidate_error') THEN 'critical'
             ELSE 'major' END AS severity,
        CASE WHEN k.kind IN ('semantic_divergence', 'text_divergence') THEN round((0.3 + r.v * 0.4)::numeric, 3)::float8
             WHEN k.kind = 'length_ratio' THEN round((2.6 + r.v * 2)::numeric, 3)::float8 END AS value,
        CASE WHEN k.kind = 'semantic_divergence' THEN CASE r.verdict WHEN 'minor' THEN 0.7 ELSE 0.5 END
             WHEN k.kind = 'text_divergence' THEN 0.35 WHEN k.kind = 'length_ratio' THEN 2.5 END AS threshold,
        CASE k.kind
            WHEN 'text_divergence' THEN format('the answers share few words (similarity %s, below 0.35)', round((0.3 + r.v * 0.4)::numeric, 2))
            WHEN 'semantic_divergence' THEN format('the answers mean different things (semantic similarity %s)', round((0.3 + r.v * 0.4)::numeric, 2))
            WHEN 'formatting' THEN 'the candidate formats its answer differently (list became prose)'
            WHEN 'length_ratio' THEN format('the candidate''s answer is %s× as long as production''s', round((2.6 + r.v * 2)::numeric, 1))
            WHEN 'json_structure' THEN 'JSON value changed at /total: 1249.5 → "1249.50"'
            WHEN 'numbers_changed' THEN format('numbers changed: %s → %s', r.ref, (r.ref::int + 9)::text)
            WHEN 'tool_arguments' THEN format('tool argument order_id changed: "A-%s" → "A-%s"', r.ref, reverse(r.ref))
            WHEN 'invalid_json' THEN 'JSON mode was requested but the candidate''s answer is not valid JSON (EOF while parsing a string)'
            WHEN 'refusal' THEN 'the candidate refused a request production answered ("I''m sorry, but I can''t help with that")'
            WHEN 'finish_reason' THEN 'the candidate stopped early: finish_reason "length" where production said "stop"'
            WHEN 'tool_call_dropped' THEN 'production called get_weather; the candidate answered in text instead'
            WHEN 'negation' THEN 'a statement was negated: "can be refunded" → "cannot be refunded"'
            WHEN 'language_switch' THEN 'the candidate answered in English where production answered in French'
            WHEN 'incompatible' THEN 'unsupported_parameter: Unsupported parameter: ''response_format'' is not supported with this model.'
            WHEN 'candidate_error' THEN 'rate_limited: Rate limit reached for requests (after 4 attempts)'
        END AS message) f
) d
ORDER BY d.diff_id;

-- What the trigger would have counted, in one statement.
INSERT INTO diff_daily AS dd (day, candidate, verdict, diffs, score_sum, semantic_sum, semantic_n)
SELECT (created_at AT TIME ZONE 'UTC')::date, candidate, verdict, count(*), sum(score),
       coalesce(sum(semantic_similarity), 0), count(semantic_similarity)
FROM diffs WHERE id IN (SELECT diff_id FROM seed_rows)
GROUP BY 1, 2, 3
ON CONFLICT (day, candidate, verdict) DO UPDATE
SET diffs = dd.diffs + EXCLUDED.diffs, score_sum = dd.score_sum + EXCLUDED.score_sum,
    semantic_sum = dd.semantic_sum + EXCLUDED.semantic_sum, semantic_n = dd.semantic_n + EXCLUDED.semantic_n;

ALTER TABLE diffs ENABLE TRIGGER diffs_daily_count;
COMMIT;
SQL
LOADED=$(date +%s.%N)
log "loaded in $(awk "BEGIN {printf \"%.1f\", $LOADED - $START}") s; VACUUM ANALYZE"
psql "$URL" -Xq -v ON_ERROR_STOP=1 -c "VACUUM (ANALYZE) exchanges, replays, diffs, diff_daily"
END=$(date +%s.%N)

# diff_daily must agree with diffs, day by day.
MISMATCH=$(psql "$URL" -XtA -v ON_ERROR_STOP=1 <<'SQL'
SELECT count(*) FROM (
    SELECT (created_at AT TIME ZONE 'UTC')::date AS day, candidate, verdict, count(*) AS diffs FROM diffs GROUP BY 1, 2, 3
) a FULL JOIN (SELECT day, candidate, verdict, diffs FROM diff_daily WHERE diffs <> 0) b USING (day, candidate, verdict)
WHERE a.diffs IS DISTINCT FROM b.diffs;
SQL
)
TOTAL=$(psql "$URL" -XtAc "SELECT count(*) FROM diffs")
log "$N diffs loaded in $(awk "BEGIN {printf \"%.1f\", $END - $START}") s with VACUUM ANALYZE; the database now holds $TOTAL diffs"
if [ "$MISMATCH" != 0 ]; then
  log "diff_daily disagrees with diffs on $MISMATCH (day, candidate, verdict) groups"
  exit 1
fi
log "diff_daily agrees with diffs"
