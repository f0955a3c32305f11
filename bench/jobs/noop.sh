#!/usr/bin/env bash
# noop.sh - the queue's own overhead: no-op jobs per second through recgen's
# workers, against a plain FOR UPDATE SKIP LOCKED claim-and-complete loop in
# SQL driven by pgbench with as many clients as there are workers, in the
# same run, on the same cluster.
#
#   bench/jobs/noop.sh [N] [ROUNDS]     (N jobs per run, default 20000; 2 rounds)
#
# recgen.workers (RECGEN_BENCH_WORKERS, default 2) is set with ALTER SYSTEM
# for the run and reset after. The queue's time runs from the commit that
# queued the N jobs (which wakes the workers) to the last completion
# (max(finalized_at)); polling is done with short statements from here, so
# no snapshot is held while the workers run. The baseline's time is
# pgbench's. Prints one table with the ratio of each run to the baseline of
# its round, the data size and the machine's load.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-20000}
ROUNDS=${2:-2}
W=${RECGEN_BENCH_WORKERS:-2}
DB=recgen_bench_jobs
CLUSTER="$ROOT/tools/cluster.sh"
BINDIR=$("$CLUSTER" bindir)
q() { psql "$("$CLUSTER" dsn "$1")" -X -qAt -v ON_ERROR_STOP=1 -c "$2"; }
conn=$("$CLUSTER" dsn $DB)

PGOPTIONS="-c client_min_messages=warning" q postgres "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
q postgres "CREATE DATABASE $DB" >/dev/null
q $DB "SET client_min_messages = warning; CREATE EXTENSION recgen" >/dev/null
q postgres "ALTER SYSTEM SET recgen.workers = $W" >/dev/null
q postgres "SELECT pg_reload_conf()" >/dev/null
trap 'q postgres "ALTER SYSTEM RESET recgen.workers" >/dev/null; q postgres "SELECT pg_reload_conf()" >/dev/null' EXIT
q $DB "CREATE TABLE bench_q (id bigint PRIMARY KEY, state text NOT NULL DEFAULT 'available',
        payload jsonb NOT NULL DEFAULT '{}', attempt integer NOT NULL DEFAULT 0, finalized_at timestamptz);
       CREATE INDEX ON bench_q (id) WHERE state = 'available'" >/dev/null

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
results=()
for r in $(seq 1 "$ROUNDS"); do
	# baseline: pgbench, W clients, N jobs in all
	q $DB "TRUNCATE bench_q; INSERT INTO bench_q (id) SELECT g FROM generate_series(1, $N) g" >/dev/null
	q $DB "VACUUM ANALYZE bench_q" >/dev/null
	tps=$("$BINDIR/pgbench" -n -c "$W" -j "$W" -t $((N / W)) -f "$ROOT/bench/jobs/claim_complete.sql" "$conn" 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
	left=$(q $DB "SELECT count(*) FROM bench_q WHERE state = 'available'")
	results+=("$r|plain SQL loop (pgbench, $W clients)|$tps|$left")

	# recgen's workers
	q $DB "TRUNCATE recgen.jobs" >/dev/null
	q $DB "VACUUM ANALYZE recgen.jobs" >/dev/null
	t0=$(q $DB "BEGIN; SELECT count(recgen.enqueue('noop')) FROM generate_series(1, $N); SELECT clock_timestamp(); COMMIT" | tail -1)
	while [[ $(q $DB "SELECT count(*) FROM recgen.jobs WHERE state <> 'completed'") != 0 ]]; do sleep 0.1; done
	rate=$(q $DB "SELECT round(count(*) / extract(epoch FROM max(finalized_at) - '$t0'::timestamptz), 1) FROM recgen.jobs")
	results+=("$r|recgen workers ($W)|$rate|0")
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo "no-op jobs: $N per run, $ROUNDS round(s); $(nproc) cores; load average before $load_before, after $load_after"
echo
echo "| round | run | jobs/s | ratio to the plain loop | left over |"
echo "| --- | --- | --- | --- | --- |"
base=""
for line in "${results[@]}"; do
	IFS='|' read -r round name rate left <<<"$line"
	[[ $name == plain* ]] && base=$rate
	ratio=$(awk -v a="$rate" -v b="$base" 'BEGIN { printf "%.2f", a / b }')
	echo "| $round | $name | $rate | $ratio | $left |"
done
q postgres "DROP DATABASE $DB WITH (FORCE)" >/dev/null
