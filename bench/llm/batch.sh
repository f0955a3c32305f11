#!/usr/bin/env bash
# batch.sh - email_batch (concurrent, curl multi) versus sequential email()
# calls against the local LLM server, and recgen's own overhead per content.
#
#   bench/llm/batch.sh DB [N]        (N customers, default 100)
#
# Runs N sequential recgen.email() calls (the baseline), then one
# recgen.email_batch() of the same N customers, in one session each, with
# recgen.guard_retries = 0 so both make exactly one LLM call per content.
# Prints one table: wall time, emails per minute, the ratio to the
# baseline, and recgen's overhead per content = (wall time - time waiting
# for the LLM server, from recgen.llm_calls) / N for the sequential run,
# where waits do not overlap. The server must be running
# (tools/llm-server.sh start); RECGEN_LLM_PORT selects it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DB=${1:?usage: batch.sh DB [N]}
N=${2:-100}
URL=$("$ROOT/tools/llm-server.sh" url)
CONC=${RECGEN_BENCH_CONCURRENCY:-8}

psql "$("$ROOT/tools/cluster.sh" dsn "$DB")" -X -qAt -v ON_ERROR_STOP=1 <<SQL
SET client_min_messages = warning;
SET recgen.llm_url = '$URL';
SET recgen.guard_retries = 0;
SET recgen.llm_json_schema = ${RECGEN_BENCH_JSON_SCHEMA:-on};
SET recgen.llm_concurrency = $CONC;
SET recgen.brand = '${RECGEN_BENCH_BRAND:-default}';
CREATE TEMP TABLE ids AS
  SELECT customer_id FROM recgen.customers
   WHERE consent_marketing AND consent_profiling ORDER BY customer_id LIMIT $N;
CREATE TEMP TABLE runs (run text, ms float8, llm_ms float8, server_ms float8, pass int, n int);

-- baseline: sequential calls
SELECT clock_timestamp() AS t0, coalesce(max(call_id), 0) AS c0 FROM recgen.llm_calls \gset
CREATE TEMP TABLE seq AS SELECT recgen.email(customer_id) AS e FROM ids;
INSERT INTO runs SELECT 'sequential email()', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000,
       (SELECT sum(latency_ms) FROM recgen.llm_calls WHERE call_id > :c0),
       (SELECT sum(server_ms) FROM recgen.llm_calls WHERE call_id > :c0),
       (SELECT count(*) FILTER (WHERE e->>'verdict' = 'pass') FROM seq), (SELECT count(*) FROM ids);

-- concurrent batch
SELECT clock_timestamp() AS t0, coalesce(max(call_id), 0) AS c0 FROM recgen.llm_calls \gset
CREATE TEMP TABLE bat AS SELECT * FROM recgen.email_batch(ARRAY(SELECT customer_id FROM ids));
INSERT INTO runs SELECT 'email_batch (' || $CONC || ' in flight)', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000,
       (SELECT sum(latency_ms) FROM recgen.llm_calls WHERE call_id > :c0),
       (SELECT sum(server_ms) FROM recgen.llm_calls WHERE call_id > :c0),
       (SELECT count(*) FILTER (WHERE verdict = 'pass') FROM bat), (SELECT count(*) FROM ids);

\pset format aligned
\pset tuples_only off
SELECT run, n AS emails, round((ms / 1000)::numeric, 1) AS wall_s,
       round((n * 60000 / ms)::numeric, 1) AS emails_per_min,
       round((first_value(ms) OVER (ORDER BY run DESC) / ms)::numeric, 2) AS speedup_vs_sequential,
       CASE WHEN run LIKE 'sequential%' THEN round(((ms - llm_ms) / n)::numeric, 2) END AS recgen_overhead_ms_per_content,
       round(((llm_ms - coalesce(server_ms, llm_ms)) / n)::numeric, 2) AS http_ms_per_call,
       pass AS passed_guard
  FROM runs ORDER BY run DESC;
SQL
