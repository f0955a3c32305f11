#!/usr/bin/env bash
# quality.sh - content quality per local model and composition mode, measured
# with recgen.evaluate_content on the same customers.
#
#   bench/llm/quality.sh [N_RETAIL] [N_BANK]     (defaults 100 and 50)
#
# For every model of RECGEN_BENCH_MODELS (default: all of tools/llm_models.py)
# it starts the local server on a free port (its pid and log under
# .pgdata/bench-llm, so a running demo's server is left alone), then for each
# mode of RECGEN_BENCH_MODES (default "parts free") writes the emails of the
# first N_RETAIL consenting customers of the retail database (RECGEN_BENCH_RETAIL,
# default retail) who have at least five purchases, and of the first N_BANK of
# the bank database (RECGEN_BENCH_BANK, default bank, brand bank), with
# email_batch (8 in flight, recgen.guard_retries 1 as shipped, or
# RECGEN_BENCH_RETRIES: 0 halves the run and leaves the first-attempt pass
# rate as it is, every rejected answer then falls back), and prints one
# row per model, mode and database: seconds per email (wall time / N),
# evaluate_content's measures, and the customers who got an error (nothing to
# recommend), then the rules that rejected first answers (contents counted
# per rule) and the rules that led to a part retry (an email in parts whose
# faults were all in some parts gets those asked for again before its first
# attempt is judged: "first pass" counts it, "first answer pass" does not,
# and "LLM calls/email" counts every request). With RECGEN_BENCH_EMAILS=<dir> the emails are also written to
# <dir>/<model>-<mode>-<database>.txt for reading, and as JSON lines with their
# contexts to <dir>/<model>-<mode>-<database>.jsonl, which bench/llm/reguard.py
# guards again after a rule changed. The mode is switched on
# the email template inside a transaction
# that is rolled back, so the databases keep their templates and no content is
# left behind (llm_calls rows stay, as for every rolled-back call).
# The machine's load average is printed with each row: the figures are only
# comparable within one run. Not part of the test suite.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N_RETAIL=${1:-100}
N_BANK=${2:-50}
MODELS=${RECGEN_BENCH_MODELS:-$("$ROOT/.venv/bin/python" "$ROOT/tools/llm_models.py" list | cut -f1 | sed 's/ (default)//')}
MODES=${RECGEN_BENCH_MODES:-parts free}
RETRIES=${RECGEN_BENCH_RETRIES:-1}
RETAIL=${RECGEN_BENCH_RETAIL:-retail}
BANK=${RECGEN_BENCH_BANK:-bank}
STATE=$ROOT/.pgdata/bench-llm
PORT=$("$ROOT/.venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server() { RECGEN_LLM_PORT=$PORT RECGEN_PGDATA_ROOT=$STATE RECGEN_LLM=$1 "$ROOT/tools/llm-server.sh" "$2" >/dev/null; }
trap 'server "${model:-smollm2-135m}" stop' EXIT

measure() {
	local model=$1 mode=$2 db=$3 brand=$4 n=$5 alias
	alias=$("$ROOT/.venv/bin/python" "$ROOT/tools/llm_models.py" alias "$model")
	local emails=()
	if [[ -n ${RECGEN_BENCH_EMAILS:-} ]]; then
		mkdir -p "$RECGEN_BENCH_EMAILS"
		emails=(-v "emails=$RECGEN_BENCH_EMAILS/$model-$mode-$db.txt" -v "emails_json=$RECGEN_BENCH_EMAILS/$model-$mode-$db.jsonl")
	fi
	psql "$("$ROOT/tools/cluster.sh" dsn "$db")" -X -qAt -F ' | ' -v ON_ERROR_STOP=1 "${emails[@]}" <<-SQL
		SET client_min_messages = warning;
		SET recgen.llm_url = 'http://127.0.0.1:$PORT/v1';
		SET recgen.llm_model = '$alias';
		SET recgen.llm_timeout = '600s';
		SET recgen.brand = '$brand';
		SET recgen.guard_retries = $RETRIES;
		BEGIN;
		UPDATE recgen.prompt_templates SET composition = '$mode' WHERE kind = 'email' AND active;
		CREATE TEMP TABLE ids AS
		  SELECT c.customer_id FROM recgen.customers c
		   WHERE c.consent_marketing AND c.consent_profiling
		     AND (SELECT count(DISTINCT basket_id) FROM recgen.events e
		           WHERE e.customer_id = c.customer_id AND e.kind = 'purchase') >= CASE WHEN '$db' = '$RETAIL' THEN 5 ELSE 1 END
		   ORDER BY c.customer_id LIMIT $n;
		SELECT clock_timestamp() AS t0 \gset
		CREATE TEMP TABLE res AS SELECT * FROM recgen.email_batch(ARRAY(SELECT customer_id FROM ids));
		SELECT '$model', '$mode', '$db', count(*) FILTER (WHERE r.content_id IS NOT NULL) || '/' || count(*),
		       round((extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) / greatest(count(*), 1))::numeric, 1),
		       e.first_attempt_pass, e.fallback, e.personalization, e.products_named, e.all_products_named,
		       e.distinct_1, e.distinct_2, e.mean_similarity, e.mean_words, e.min_words, e.max_words,
		       e.prompt_tokens, e.completion_tokens, e.llm_ms_per_content,
		       k.first_answer_pass, k.part_retried, k.llm_calls_per_content,
		       (SELECT split_part(pg_read_file('/proc/loadavg'), ' ', 1))
		  FROM res r, recgen.evaluate_content(ARRAY(SELECT content_id FROM res WHERE content_id IS NOT NULL)) e,
		       recgen.evaluate_calls(ARRAY(SELECT content_id FROM res WHERE content_id IS NOT NULL)) k
		 GROUP BY e.first_attempt_pass, e.fallback, e.personalization, e.products_named, e.all_products_named,
		          e.distinct_1, e.distinct_2, e.mean_similarity, e.mean_words, e.min_words, e.max_words,
		          e.prompt_tokens, e.completion_tokens, e.llm_ms_per_content,
		          k.first_answer_pass, k.part_retried, k.llm_calls_per_content;
		-- why answers were rejected: the rules of the violations of the
		-- contents that did not pass at the first attempt (either round),
		-- and the rules that led to a part retry (violations "stage": "part")
		SELECT '  rules that rejected answers (contents, either round): ' || coalesce(string_agg(rule || ' ' || n, ', ' ORDER BY n DESC, rule), 'none')
		  FROM (SELECT v ->> 'rule' AS rule, count(DISTINCT c.content_id) AS n
		          FROM res r JOIN recgen.content c USING (content_id),
		               jsonb_array_elements(c.violations) v
		         WHERE c.attempts >= 1 AND NOT (c.verdict = 'pass' AND c.attempts = 1) AND v ->> 'stage' IS NULL
		         GROUP BY 1) x;
		SELECT '  rules that led to a part retry (contents; then passed / not): ' || coalesce(string_agg(rule || ' ' || n || ' (' || p || '/' || (n - p) || ')', ', ' ORDER BY n DESC, rule), 'none')
		  FROM (SELECT v ->> 'rule' AS rule, count(DISTINCT c.content_id) AS n,
		               count(DISTINCT c.content_id) FILTER (WHERE c.verdict = 'pass' AND c.attempts = 1) AS p
		          FROM res r JOIN recgen.content c USING (content_id),
		               jsonb_array_elements(c.violations) v
		         WHERE v ->> 'stage' = 'part'
		         GROUP BY 1) x;
		-- the emails, for reading (RECGEN_BENCH_EMAILS: a directory)
		\if :{?emails}
		\o :emails
		SELECT format(E'=== customer %s, %s, attempts %s, LLM calls %s%s\nSubject: %s\n\n%s\n[%s]\n', c.customer_id, c.verdict, c.attempts,
		              cardinality(c.call_ids),
		              coalesce(' (' || (SELECT string_agg(coalesce((v ->> 'stage') || ' ', '') || (v ->> 'rule') || ': ' || (v ->> 'detail'), '; ')
		                                  FROM jsonb_array_elements(c.violations) v) || ')', ''),
		              c.output ->> 'subject', c.output ->> 'body', c.output ->> 'cta')
		  FROM res r JOIN recgen.content c USING (content_id) ORDER BY c.customer_id;
		-- and one JSON line per email with its context, for bench/llm/reguard.py
		\o :emails_json
		SELECT jsonb_build_object('customer_id', c.customer_id, 'verdict', c.verdict, 'attempts', c.attempts,
		                          'output', c.output, 'context', c.context, 'violations', c.violations)
		  FROM res r JOIN recgen.content c USING (content_id) ORDER BY c.customer_id;
		\o
		\endif
		ROLLBACK;
	SQL
}

echo "model | mode | database | emails | s/email | first pass | fallback | personalization | products named | all named | distinct-1 | distinct-2 | similarity | words | min | max | prompt tokens | completion tokens | LLM ms/email | first answer pass | part retried | LLM calls/email | load"
for model in $MODELS; do
	server "$model" start
	for mode in $MODES; do
		measure "$model" "$mode" "$RETAIL" default "$N_RETAIL"
		measure "$model" "$mode" "$BANK" bank "$N_BANK"
	done
	server "$model" stop
done
