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
t0=$(date +%s%N)
bq "BEGIN;
CREATE TEMP TABLE sql_neighbors (product_id bigint, neighbor_id bigint, score real) ON COMMIT DROP;
INSERT INTO sql_neighbors
WITH b AS (
  SELECT DISTINCT e.customer_id, e.basket_id, e.product_id
  FROM recgen.events e JOIN recgen.customers c ON c.customer_id = e.customer_id
  WHERE c.consent_profiling AND e.product_id IS NOT NULL AND e.basket_id IS NOT NULL
    AND e.kind IN ('purchase', 'cart_add', 'click', 'view')
  UNION ALL
  SELECT DISTINCT NULL::bigint, a.basket_id, a.product_id FROM recgen.anonymous_events a
  WHERE a.product_id IS NOT NULL AND a.kind IN ('purchase', 'cart_add', 'click', 'view')),
n AS (SELECT product_id, count(*) AS n FROM b GROUP BY 1),
p AS (SELECT x.product_id AS i, y.product_id AS j, count(*) AS c
      FROM b x JOIN b y ON x.basket_id = y.basket_id
           AND x.customer_id IS NOT DISTINCT FROM y.customer_id AND x.product_id <> y.product_id
      GROUP BY 1, 2),
s AS (SELECT p.i, p.j, (p.c / sqrt(ni.n * nj.n) * p.c / (p.c + 10.0))::real AS score,
             row_number() OVER (PARTITION BY p.i ORDER BY p.c / sqrt(ni.n * nj.n) * p.c / (p.c + 10.0) DESC, p.j) AS r
      FROM p JOIN n ni ON ni.product_id = p.i JOIN n nj ON nj.product_id = p.j)
SELECT i, j, score FROM s WHERE r <= 50;
COMMIT" >/dev/null
selfjoin_ms=$(( ($(date +%s%N) - t0) / 1000000 ))

echo "Online Retail: $(bq "SELECT count(*) FROM recgen.events") events, $(bq "SELECT count(*) FROM recgen.anonymous_events") anonymous lines, $(bq "SELECT count(*) FROM recgen.products") products, $NC customers (one pgbench script each); pgbench ${SECS}s per run"
printf "%-44s %12s %12s %10s\n" "measure" "recgen" "plain SQL" "speed-up"
echo "$rows"
awk -v a="$refresh_ms" -v b="$selfjoin_ms" 'BEGIN { printf "%-44s %12.0f %12.0f %9.1fx\n", "model build, ms (refresh_model / self-join)", a, b, b / a }'
