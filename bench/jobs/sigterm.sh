#!/usr/bin/env bash
# sigterm.sh - how long a worker takes to stop when it gets SIGTERM in the
# middle of an LLM request the server holds back for 60 s (fake-slow of
# test/fake_llm.py), against the 60 s the answer would have taken.
#
#   bench/jobs/sigterm.sh [ROUNDS]     (default 5)
#
# Each round queues a job whose handler sends one request, waits until the
# fake server has it, sends SIGTERM (pg_terminate_backend) to the worker and
# measures until its process is gone; then checks that the job was given
# back (available again, no error) and cancels it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS=${1:-5}
DB=recgen_bench_sigterm
CLUSTER="$ROOT/tools/cluster.sh"
q() { psql "$("$CLUSTER" dsn "$1")" -X -qAt -v ON_ERROR_STOP=1 -c "$2"; }
FIFO=$(mktemp -u)
mkfifo "$FIFO"
"$ROOT/.venv/bin/python" "$ROOT/test/fake_llm.py" 0 >"$FIFO" &
FAKE=$!
read -r _ port <"$FIFO"
rm -f "$FIFO"
trap 'kill $FAKE 2>/dev/null; PGOPTIONS="-c client_min_messages=warning" q postgres "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null' EXIT

PGOPTIONS="-c client_min_messages=warning" q postgres "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
q postgres "CREATE DATABASE $DB" >/dev/null
q postgres "ALTER DATABASE $DB SET recgen.llm_url = 'http://127.0.0.1:$port/v1'" >/dev/null
q $DB "CREATE EXTENSION recgen" >/dev/null
q $DB "CREATE FUNCTION public.slow_call(job recgen.jobs, state jsonb, results jsonb) RETURNS jsonb
        LANGUAGE sql AS \$\$ SELECT CASE WHEN state IS NULL THEN jsonb_build_object('state', '{}'::jsonb,
        'llm', jsonb_build_array(jsonb_build_object('messages', jsonb_build_array(
        jsonb_build_object('role', 'user', 'content', 'hi'))))) ELSE '{}' END \$\$;
       GRANT EXECUTE ON FUNCTION public.slow_call(recgen.jobs, jsonb, jsonb) TO recgen_worker;
       INSERT INTO recgen.job_kinds (kind, handler, uses_llm, description) VALUES ('slow_call', 'public.slow_call', true, 'bench')" >/dev/null

echo "SIGTERM during an LLM request held back for 60 s; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| round | worker gone after (ms) | job afterwards |"
echo "| --- | --- | --- |"
for r in $(seq 1 "$ROUNDS"); do
	curl -s "http://127.0.0.1:$port/reset" >/dev/null
	job=$(q $DB "SET recgen.llm_model = 'fake-slow'; SELECT recgen.enqueue('slow_call')" | tail -1)
	until curl -s "http://127.0.0.1:$port/requests" | grep -q fake-slow; do sleep 0.05; done
	pid=$(q $DB "SELECT leased_by FROM recgen.jobs WHERE job_id = $job")
	ms=$(q $DB "SELECT pg_terminate_backend($pid);
	            DO \$\$ BEGIN WHILE EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $pid) LOOP
	               PERFORM pg_sleep(0.005); END LOOP; END \$\$;
	            SELECT round(extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000)" | tail -1)
	after=$(q $DB "SELECT state || ', attempt ' || attempt || ', ' || jsonb_array_length(errors) || ' error(s)'
	               FROM recgen.jobs WHERE job_id = $job")
	q $DB "SELECT recgen.cancel_job($job)" >/dev/null
	echo "| $r | $ms | $after |"
done
