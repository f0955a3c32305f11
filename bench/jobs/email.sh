#!/usr/bin/env bash
# email.sh - email jobs through recgen's workers on the local LLM, against
# what the LLM server alone serves with the same prompts and the same
# concurrency, in the same run.
#
#   bench/jobs/email.sh DB [N] [CONCURRENCY]    (default 500 emails, 8 in flight)
#
# DB must hold data and a model (tools/load.sh, recgen.refresh_model). The
# prompts are those of the generation pipeline for N consenting customers
# (recgen.generation_prepare / generation_requests, one request an email:
# recgen.guard_retries = 0). Baseline: bench/jobs/replay.py posts exactly
# those requests, as recgen's client builds them, CONCURRENCY at a time.
# Then N email jobs are queued for the same customers and run by one worker
# with recgen.llm_concurrency = CONCURRENCY (so the server sees the same
# number in flight); their time runs from the commit that queued them to the
# last completion. Prints emails/s and completion tokens/s of both, the
# ratio, what the jobs produced, and the machine's load. The local server
# is started when it is not running (tools/llm-server.sh; RECGEN_LLM_PORT).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DB=${1:?usage: email.sh DB [N] [CONCURRENCY]}
N=${2:-500}
C=${3:-8}
CLUSTER="$ROOT/tools/cluster.sh"
q() { psql "$("$CLUSTER" dsn "$1")" -X -qAt -v ON_ERROR_STOP=1 -c "$2"; }
"$ROOT/tools/llm-server.sh" start >/dev/null
URL=$("$ROOT/tools/llm-server.sh" url)
MODEL=$(q "$DB" "SHOW recgen.llm_model")
TMP=$(mktemp -d)
restore() {
	q postgres "ALTER SYSTEM RESET recgen.workers" >/dev/null
	q postgres "SELECT pg_reload_conf()" >/dev/null
	for s in llm_url guard_retries llm_concurrency llm_timeout; do q postgres "ALTER DATABASE $DB RESET recgen.$s" >/dev/null; done
	q "$DB" "DROP TABLE IF EXISTS bench_email_reqs" >/dev/null
	rm -rf "$TMP"
}
trap restore EXIT

# the prompts: the first N consenting customers the pipeline can write to
q "$DB" "DROP TABLE IF EXISTS bench_email_reqs" >/dev/null
q "$DB" "CREATE TABLE bench_email_reqs (customer_id bigint, req jsonb)" >/dev/null
psql "$("$CLUSTER" dsn "$DB")" -X -q -v ON_ERROR_STOP=1 <<SQL
SET client_min_messages = warning;
SET recgen.guard_retries = 0;
DO \$\$
DECLARE
    c bigint;
    st jsonb;
    n integer := 0;
BEGIN
    FOR c IN SELECT customer_id FROM recgen.customers WHERE consent_marketing AND consent_profiling
              ORDER BY customer_id LOOP
        BEGIN
            st := recgen.generation_prepare(jsonb_build_array(jsonb_build_object('kind', 'email', 'customer_id', c)),
                                            true, 'fail');
            INSERT INTO bench_email_reqs SELECT c, r FROM jsonb_array_elements(recgen.generation_requests(st)) r;
            n := n + 1;
        EXCEPTION WHEN no_data_found OR insufficient_privilege THEN
            NULL;   -- nothing to recommend: not an email
        END;
        EXIT WHEN n >= $N;
    END LOOP;
END
\$\$;
SQL
q "$DB" "SELECT req FROM bench_email_reqs ORDER BY customer_id" >"$TMP/reqs.jsonl"
n=$(wc -l <"$TMP/reqs.jsonl")

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# baseline: the server alone
base=$("$ROOT/.venv/bin/python" "$ROOT/bench/jobs/replay.py" "$URL" "$MODEL" "$TMP/reqs.jsonl" --concurrency "$C")
echo "# server alone: $base" >&2

# the workers: one worker, C in flight
q postgres "ALTER SYSTEM SET recgen.workers = 1" >/dev/null
q postgres "ALTER DATABASE $DB SET recgen.llm_url = '$URL'" >/dev/null
q postgres "ALTER DATABASE $DB SET recgen.guard_retries = 0" >/dev/null
q postgres "ALTER DATABASE $DB SET recgen.llm_concurrency = $C" >/dev/null
# as long as replay.py waits for an answer (a loaded machine is slow)
q postgres "ALTER DATABASE $DB SET recgen.llm_timeout = '10min'" >/dev/null
q postgres "SELECT pg_reload_conf()" >/dev/null
q postgres "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'recgen worker'" >/dev/null
sleep 1
t0=$(q "$DB" "BEGIN; CREATE TEMP TABLE q AS SELECT recgen.enqueue('email', customer_id => customer_id) AS job_id
               FROM bench_email_reqs; SELECT min(job_id) || ' ' || clock_timestamp() FROM q; COMMIT" | tail -1)
first=${t0%% *}
t0=${t0#* }
while [[ $(q "$DB" "SELECT count(*) FROM recgen.jobs WHERE job_id >= $first AND kind = 'email'
                   AND state NOT IN ('completed', 'discarded', 'cancelled')") != 0 ]]; do sleep 1; done
jobs=$(q "$DB" "SELECT count(*) FILTER (WHERE j.state = 'completed') || '|' ||
                       count(*) FILTER (WHERE j.state = 'discarded') || '|' ||
                       round(count(*) / extract(epoch FROM max(j.finalized_at) - '$t0'::timestamptz), 3) || '|' ||
                       round(extract(epoch FROM max(j.finalized_at) - '$t0'::timestamptz), 1) || '|' ||
                       (SELECT coalesce(sum(l.completion_tokens), 0) FROM recgen.llm_calls l
                         WHERE l.call_id IN (SELECT unnest(c.call_ids) FROM recgen.content c WHERE c.job_id >= $first)) || '|' ||
                       (SELECT count(*) FILTER (WHERE verdict = 'pass') FROM recgen.content WHERE job_id >= $first)
                  FROM recgen.jobs j WHERE j.job_id >= $first AND j.kind = 'email'")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
IFS='|' read -r done discarded rate secs tokens passed <<<"$jobs"
b_rate=$(echo "$base" | "$ROOT/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["per_second"])')
b_secs=$(echo "$base" | "$ROOT/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')
b_tok=$(echo "$base" | "$ROOT/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["tokens_per_second"])')
tok_rate=$(awk -v t="$tokens" -v s="$secs" 'BEGIN { printf "%.1f", t / s }')

echo "email: $n emails, $C in flight, model $MODEL at $URL; $(nproc) cores;" \
	"load average before $load_before, after $load_after"
echo
echo "| run | seconds | emails/s | completion tokens/s | ratio (emails/s) |"
echo "| --- | --- | --- | --- | --- |"
echo "| LLM server alone (replay.py) | $b_secs | $b_rate | $b_tok | 1.00 |"
echo "| email jobs, 1 worker | $secs | $rate | $tok_rate | $(awk -v a="$rate" -v b="$b_rate" 'BEGIN { printf "%.2f", a / b }') |"
echo
echo "jobs: $done completed ($passed passed the guard, the others fell back), $discarded discarded"
