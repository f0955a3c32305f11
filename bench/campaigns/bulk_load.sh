#!/usr/bin/env bash
# bulk_load.sh - what the campaign triggers cost a bulk load: loading the
# whole of UCI Online Retail (406,829 events in one INSERT, 4,372 customers)
# with an active purchase campaign and an active signup campaign, against
# the same load with no active campaign, alternately, in one database.
#
#   bench/campaigns/bulk_load.sh [ROUNDS]      (default 3 of each)
#
# The triggers are statement-level with transition tables: with no active
# campaign they return after one lookup; with one they scan the
# statement's new rows once for fresh purchases (younger than the
# campaign's trigger_window). History is older than any window, so the
# active load queues nothing: what it measures is the capture of the new
# rows and that one scan. A third load runs with the two triggers
# disabled, the load as it would be without campaigns at all. Target:
# active <= 1.5x inactive. Prints each
# round, the medians, their ratio and the load average (the machine is
# shared; the ratio is the figure to read).
# Data: Chen, D. (2015). Online Retail [Dataset]. UCI Machine Learning
# Repository. https://doi.org/10.24432/C5BW33. CC BY 4.0.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
ROUNDS=${1:-3}
DB=recgen_bench_bulk
export PGOPTIONS="-c client_min_messages=warning"
q() { psql "$(tools/cluster.sh dsn "$DB")" -X -qAt -v ON_ERROR_STOP=1 -c "$1"; }

tools/cluster.sh start >/dev/null
psql "$(tools/cluster.sh dsn postgres)" -X -q -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
q "CREATE EXTENSION recgen"
q "INSERT INTO recgen.campaigns (name, goal, trigger, active) VALUES
     ('bench-post-purchase', 'post_purchase', 'purchase', false),
     ('bench-onboarding', 'onboarding', 'signup', false)"

load_once() {  # prints seconds
	local t0 t1
	t0=$(date +%s.%N)
	tools/load.sh retail "$DB" >/dev/null
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

tools/load.sh retail "$DB" >/dev/null  # warm the file cache and the tables
inactive=()
active=()
none=()
triggers() {
	q "ALTER TABLE recgen.events $1 TRIGGER events_enter_campaigns"
	q "ALTER TABLE recgen.customers $1 TRIGGER customers_enter_campaigns"
}
printf '%-6s %-10s %-10s %-10s %s\n' round inactive active "no trigger" "load average"
for r in $(seq 1 "$ROUNDS"); do
	q "UPDATE recgen.campaigns SET active = false"
	a=$(load_once)
	q "UPDATE recgen.campaigns SET active = true"
	b=$(load_once)
	triggers DISABLE
	c=$(load_once)
	triggers ENABLE
	inactive+=("$a")
	active+=("$b")
	none+=("$c")
	printf '%-6s %-10.2f %-10.2f %-10.2f %s\n' "$r" "$a" "$b" "$c" "$(cut -d' ' -f1-3 /proc/loadavg)"
done
queued=$(q "SELECT count(*) FROM recgen.campaign_entries")
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mi=$(median "${inactive[@]}")
ma=$(median "${active[@]}")
mn=$(median "${none[@]}")
echo
echo "events per load: $(q "SELECT count(*) FROM recgen.events"), customers: $(q "SELECT count(*) FROM recgen.customers")"
echo "entries queued by the active loads (history, older than the window): $queued"
printf 'median load, no active campaign:   %.2f s\n' "$mi"
printf 'median load, campaigns active:     %.2f s\n' "$ma"
printf 'median load, triggers disabled:    %.2f s\n' "$mn"
printf 'ratio active / inactive:           %.2f (target <= 1.5)\n' "$(awk -v a="$ma" -v b="$mi" 'BEGIN { print a / b }')"
printf 'ratio active / triggers disabled:  %.2f\n' "$(awk -v a="$ma" -v b="$mn" 'BEGIN { print a / b }')"

# The trigger's own time, measured inside one INSERT of all the events (the
# loader's statement) by EXPLAIN ANALYZE, with the campaigns active:
# independent of the machine's other load.
q "UPDATE recgen.campaigns SET active = true"
psql "$(tools/cluster.sh dsn "$DB")" -X -qAt -v ON_ERROR_STOP=1 <<'SQL' | "$ROOT/.venv/bin/python" -c '
import json, sys
plan = json.loads(sys.stdin.read())[0]
total = plan["Execution Time"]
for t in plan.get("Triggers", []):
    if t["Trigger Name"] == "events_enter_campaigns":
        print(f"EXPLAIN ANALYZE of the events INSERT: {total / 1000:.2f} s, of which the campaign trigger {t["Time"]:.1f} ms ({100 * t["Time"] / total:.2f}%)")
'
BEGIN;
CREATE TEMP TABLE ev AS SELECT * FROM recgen.events;
TRUNCATE recgen.events;
EXPLAIN (ANALYZE, FORMAT JSON) INSERT INTO recgen.events SELECT * FROM ev;
ROLLBACK;
SQL
echo "cores: $(nproc), load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
