# common.sh - shared by the engine benchmarks: a database of the private
# cluster holding the Online Retail data (loaded once, reused).
# Data: Chen, D. (2015). Online Retail [Dataset]. UCI Machine Learning
# Repository. https://doi.org/10.24432/C5BW33. CC BY 4.0.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
export PGOPTIONS="-c client_min_messages=warning"
BENCH_DB=${BENCH_DB:-recgen_bench_retail}
SPLIT=${SPLIT:-2011-09-01}

bench_dsn() { "$ROOT/tools/cluster.sh" dsn "${1:-$BENCH_DB}"; }
bq() { psql "$(bench_dsn)" -X -qAt -v ON_ERROR_STOP=1 -c "$1"; }

# create and load the retail database unless it is already there
ensure_retail_db() {
	tools/cluster.sh start >/dev/null
	local have
	have=$(psql "$(bench_dsn postgres)" -X -qAt -c "SELECT 1 FROM pg_database WHERE datname = '$BENCH_DB'")
	if [[ $have != 1 ]]; then
		psql "$(bench_dsn postgres)" -X -q -c "CREATE DATABASE $BENCH_DB"
		bq "CREATE EXTENSION recgen"
	fi
	if [[ $(bq "SELECT count(*) > 400000 FROM recgen.events") != t ]]; then
		tools/load.sh retail "$BENCH_DB" >/dev/null
	fi
}

# pgbench_scripts DIR SAMPLE_SQL: one pgbench script pair per customer of the
# sample (at most 128, pgbench's limit of scripts per run), DIR/recgen_K.sql
# calling recommend(cid, 10) and DIR/plain_K.sql running plain_recommend.sql,
# so every transaction is the measured query alone (one round trip).
pgbench_scripts() {
	local dir=$1 k=0 cid
	for cid in $(bq "$2 LIMIT 128"); do
		k=$((k + 1))
		printf '\\set cid %s\nSELECT count(*) FROM recgen.recommend(:cid, 10);\n' "$cid" >"$dir/recgen_$k.sql"
		{ printf '\\set cid %s\n' "$cid"; grep -v '^--' "$ROOT/bench/engine/plain_recommend.sql"; } >"$dir/plain_$k.sql"
	done
	echo "$k"
}

# pgbench_args DIR KIND: -f options for all scripts of one kind
pgbench_args() { local f; for f in "$1/$2"_*.sql; do printf -- '-f %s ' "$f"; done; }

# latency DIR KIND: p50 and p99 in ms of one pgbench run with 1 client
latency() {
	local dir=$1
	rm -f "$dir"/pgbench_log.*
	# a warm-up run first, not measured, for both kinds alike: right after a
	# refresh and the self-join, caches are cold (the first run of a session
	# once showed twice the p50 of every later one)
	# shellcheck disable=SC2046
	pgbench -n -T 3 -c 1 $(pgbench_args "$dir" "$2") "$(bench_dsn)" >/dev/null 2>&1
	# shellcheck disable=SC2046
	(cd "$dir" && pgbench -n -T "$SECS" -c 1 -l $(pgbench_args "$dir" "$2") "$(bench_dsn)" >/dev/null 2>&1)
	awk '{ print $3 / 1000.0 }' "$dir"/pgbench_log.* | sort -n |
		awk '{ v[NR] = $1 } END { printf "%.3f %.3f\n", v[int(NR * 0.5) + 1], v[int(NR * 0.99) + 1] }'
}

# tps DIR KIND: calls per second with 2 clients
tps() {
	# shellcheck disable=SC2046
	pgbench -n -T "$SECS" -c 2 -j 2 $(pgbench_args "$1" "$2") "$(bench_dsn)" 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}

# speed_rows DIR: the recommend rows of the table, recgen against plain SQL
speed_rows() {
	local r50 r99 s50 s99 rtps stps
	read -r r50 r99 <<<"$(latency "$1" recgen)"
	rtps=$(tps "$1" recgen)
	read -r s50 s99 <<<"$(latency "$1" plain)"
	stps=$(tps "$1" plain)
	awk -v a="$r50" -v b="$s50" 'BEGIN { printf "%-44s %12.3f %12.3f %9.1fx\n", "recommend p50 latency, ms (1 client)", a, b, b / a }'
	awk -v a="$r99" -v b="$s99" 'BEGIN { printf "%-44s %12.3f %12.3f %9.1fx\n", "recommend p99 latency, ms (1 client)", a, b, b / a }'
	awk -v a="$rtps" -v b="$stps" 'BEGIN { printf "%-44s %12.0f %12.0f %9.1fx\n", "recommend throughput, calls/s (2 clients)", a, b, a / b }'
}

# selfjoin_ms: milliseconds of the SQL baseline of refresh_model()
# (selfjoin_neighbors.sql) on the current database
selfjoin_ms() {
	local t0
	t0=$(date +%s%N)
	psql "$(bench_dsn)" -X -q -v ON_ERROR_STOP=1 -f "$ROOT/bench/engine/selfjoin_neighbors.sql" >/dev/null
	echo $(( ($(date +%s%N) - t0) / 1000000 ))
}

# cancel_ms PHASE: start a refresh_model(), wait until pg_stat_activity shows
# it in PHASE (a prefix of "recgen.refresh_model: <phase>"), cancel it and
# print how many milliseconds passed until the refresh had ended (its
# client had the error), and where it stopped
cancel_ms() {
	local pid="" t0 t1 err bg
	err=$(mktemp)
	psql "$(bench_dsn)" -X -q -c "SELECT * FROM recgen.refresh_model()" >/dev/null 2>"$err" &
	bg=$!
	for _ in $(seq 1 6000); do
		pid=$(bq "SELECT pid FROM pg_stat_activity WHERE query LIKE 'recgen.refresh_model: $1%' LIMIT 1")
		[[ -n $pid ]] && break
		sleep 0.05
	done
	t0=$(date +%s%N)
	[[ -n $pid ]] && bq "SELECT pg_cancel_backend($pid)" >/dev/null
	wait $bg
	t1=$(date +%s%N)
	echo "$(( (t1 - t0) / 1000000 )) $(grep -o 'recgen.refresh_model: .*' "$err" | head -1 | sed 's/^recgen.refresh_model: //' | tr ' ' '_')"
	rm -f "$err"
}
