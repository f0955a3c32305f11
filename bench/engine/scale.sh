#!/usr/bin/env bash
# scale.sh - the engine on a synthetic scale set: 1M customers, 50k products,
# 10M events, generated deterministically (hash-based, no random()):
#   - products: 50 categories of 1,000; a product's price and tags follow its id;
#   - customers: a favourite category and a second one (from hashes of the id),
#     5 segments, 10 countries, 85 % consent to profiling;
#   - events: 10 per customer in baskets of 2-4 lines; 70 % from the favourite
#     category, 20 % from the second, 10 % anywhere, with a skew towards the
#     low ids of a category (popular items); kinds 60 % purchase, 20 % view,
#     10 % click, 10 % cart_add; times spread over 2023.
# Then: refresh_model() time and peak memory of the backend (VmHWM), the
# INSERT ... SELECT self-join on the same data, recommend() p50/p99 and
# throughput against the plain-SQL query, as in speed.sh, and how long
# pg_cancel_backend takes to stop a refresh while it reads the events and
# while it computes co-occurrence.
#   bench/engine/scale.sh [seconds per pgbench run, default 15]
# Takes several minutes and about 3 GB of disk; never part of the tests.
source "$(dirname "$0")/common.sh"
SECS=${1:-15}
BENCH_DB=${SCALE_DB:-recgen_bench_scale}
tools/cluster.sh start >/dev/null
if [[ $(psql "$(bench_dsn postgres)" -X -qAt -c "SELECT 1 FROM pg_database WHERE datname = '$BENCH_DB'") != 1 ]]; then
	psql "$(bench_dsn postgres)" -X -q -c "CREATE DATABASE $BENCH_DB"
	bq "CREATE EXTENSION recgen"
fi
if [[ $(bq "SELECT count(*) >= 10000000 FROM recgen.events") != t ]]; then
	echo "generating the scale set (1M customers, 50k products, 10M events)..." >&2
	psql "$(bench_dsn)" -X -q -v ON_ERROR_STOP=1 <<'SQL'
TRUNCATE recgen.events, recgen.customers, recgen.products, recgen.anonymous_events RESTART IDENTITY CASCADE;
-- u(x): a deterministic uniform number in [0, 1) from a bigint
CREATE OR REPLACE FUNCTION pg_temp.u(x bigint) RETURNS float8 LANGUAGE sql IMMUTABLE
AS $$ SELECT ((hashint8(x)::bigint & 2147483647) / 2147483648.0)::float8 $$;
INSERT INTO recgen.products (product_id, sku, name, category, price, tags, stock, active, created_at)
SELECT g, 'S' || g, 'item ' || (g % 1000) || ' of range ' || (g / 1000),
       'cat' || (g / 1000), round((2 + 98 * pg_temp.u(g))::numeric, 2),
       ARRAY['t' || (g % 37), 't' || (g % 91)], 100, true,
       timestamptz '2022-01-01' + (g % 700) * interval '1 day'
FROM generate_series(0, 49999) g;
INSERT INTO recgen.customers (customer_id, segment, country, consent_profiling)
SELECT g, 'seg' || (g % 5), 'c' || (g % 10), pg_temp.u(g * 31) < 0.85
FROM generate_series(1, 1000000) g;
ALTER TABLE recgen.events SET (autovacuum_enabled = false);
INSERT INTO recgen.events (customer_id, product_id, kind, occurred_at, basket_id)
SELECT c, p, k::recgen.event_kind, t, c || '-' || b
FROM (
  SELECT g / 10 + 1 AS c, g,
         (g % 10) / 3 AS b,
         CASE WHEN pg_temp.u(g * 3) < 0.7 THEN ((g / 10 + 1) * 7 % 50)
              WHEN pg_temp.u(g * 3) < 0.9 THEN ((g / 10 + 1) * 13 % 50)
              ELSE floor(pg_temp.u(g * 5) * 50)::int END * 1000
           + least(999, (1000 * pg_temp.u(g * 11) ^ 3)::int) AS p,
         CASE WHEN pg_temp.u(g * 17) < 0.6 THEN 'purchase' WHEN pg_temp.u(g * 17) < 0.8 THEN 'view'
              WHEN pg_temp.u(g * 17) < 0.9 THEN 'click' ELSE 'cart_add' END AS k,
         timestamptz '2023-01-01' + ((g / 10 + 1) % 300) * interval '1 day' + ((g % 10) / 3) * interval '9 days' AS t
  FROM generate_series(0, 9999999) g) s;
ALTER TABLE recgen.events SET (autovacuum_enabled = true);
ANALYZE recgen.events; ANALYZE recgen.customers; ANALYZE recgen.products;
SQL
fi
NE=$(bq "SELECT count(*) FROM recgen.events")

# refresh_model: time and the backend's peak resident memory (VmHWM), in the
# steady state of a deployment, where autovacuum has cleaned the rows of the
# models replaced before (each refresh deletes the previous model's rows)
bq "VACUUM recgen.item_neighbors, recgen.item_popularity"
out=$(psql "$(bench_dsn)" -X -qAt -v ON_ERROR_STOP=1 <<'SQL'
SELECT pg_backend_pid() AS bpid \gset
\setenv BPID :bpid
SELECT ms FROM recgen.refresh_model();
\! awk '/VmHWM/ { print $2 }' /proc/$BPID/status
SQL
)
refresh_ms=$(echo "$out" | sed -n 1p | cut -d. -f1)
refresh_kb=$(echo "$out" | sed -n 2p)

selfjoin_ms=$(selfjoin_ms)
read -r cancel_read where_read <<<"$(cancel_ms 'reading events')"
read -r cancel_cooc where_cooc <<<"$(cancel_ms 'co-occurrence')"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pgbench_scripts "$TMP" "SELECT customer_id FROM recgen.customers WHERE consent_profiling
  ORDER BY hashint8(customer_id)" >/dev/null
rows=$(speed_rows "$TMP")

echo "Synthetic scale set: $NE events, $(bq "SELECT count(*) FROM recgen.customers") customers, $(bq "SELECT count(*) FROM recgen.products") products; pgbench ${SECS}s per run"
printf "%-44s %12s %12s %10s\n" "measure" "recgen" "plain SQL" "speed-up"
echo "$rows"
awk -v a="$refresh_ms" -v b="$selfjoin_ms" 'BEGIN { printf "%-44s %12.0f %12.0f %9.1fx\n", "model build, ms (refresh_model / self-join)", a, b, b / a }'
awk -v a="$refresh_kb" 'BEGIN { printf "%-44s %12.0f\n", "refresh_model backend peak memory, MiB", a / 1024 }'
printf "%-44s %12s   stopped at %s\n" "cancel of refresh_model, ms (reading events)" "$cancel_read" "${where_read//_/ }"
printf "%-44s %12s   stopped at %s\n" "cancel of refresh_model, ms (co-occurrence)" "$cancel_cooc" "${where_cooc//_/ }"
