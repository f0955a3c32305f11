#!/usr/bin/env bash
# speed.sh - engine speed on Online Retail:
#   - recommend(customer, 10) per-call latency (p50, p99, 1 client) and
#     throughput (2 clients), with pgbench and one script per customer,
#     against the best plain-SQL query we could write over the same model
#     tables (plain_recommend.sql);
#   - refresh_model() against an INSERT ... SELECT self-join building the
#     basket co-occurrence top-50 (a subset of what refresh_model builds).
# Prints one table with ratios against the SQL baselines.
#   bench/engine/speed.sh [SECONDS per pgbench run, default 15]
source "$(dirname "$0")/common.sh"
SECS=${1:-15}
ensure_retail_db
DSN=$(bench_dsn)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

bq "SELECT * FROM recgen.refresh_model()" >/dev/null
# 128 consenting customers with history, in a fixed pseudo-random order
NC=$(pgbench_scripts "$TMP" "SELECT customer_id FROM recgen.customers c WHERE consent_profiling
  AND EXISTS (SELECT 1 FROM recgen.events e WHERE e.customer_id = c.customer_id)
  ORDER BY md5(customer_id::text)")
rows=$(speed_rows "$TMP")

# refresh_model against the SQL self-join (after a VACUUM of the replaced
# models' rows, as autovacuum would have done between refreshes)
bq "VACUUM recgen.item_neighbors, recgen.item_popularity"
t0=$(date +%s%N)
bq "SELECT * FROM recgen.refresh_model()" >/dev/null
refresh_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
selfjoin_ms=$(selfjoin_ms)

echo "Online Retail: $(bq "SELECT count(*) FROM recgen.events") events, $(bq "SELECT count(*) FROM recgen.anonymous_events") anonymous lines, $(bq "SELECT count(*) FROM recgen.products") products, $NC customers (one pgbench script each); pgbench ${SECS}s per run"
printf "%-44s %12s %12s %10s\n" "measure" "recgen" "plain SQL" "speed-up"
echo "$rows"
awk -v a="$refresh_ms" -v b="$selfjoin_ms" 'BEGIN { printf "%-44s %12.0f %12.0f %9.1fx\n", "model build, ms (refresh_model / self-join)", a, b, b / a }'
