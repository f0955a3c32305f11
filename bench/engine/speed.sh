#!/usr/bin/env bash
# speed.sh - engine speed on Online Retail:
#   - recommend(customer, 10) per-call latency (p50, p99, 1 client) and
#     throughput (2 clients), with pgbench and a custom script, against the
#     best plain-SQL query we could write over the same model tables that
#     returns the same kind of top-10 (decayed history, neighbours, content
#     at 0.3, popularity prior, bought and unavailable items left out);
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
bq "DROP TABLE IF EXISTS public.bench_ids;
    CREATE TABLE public.bench_ids AS
      SELECT row_number() OVER (ORDER BY customer_id)::int AS i, customer_id
      FROM recgen.customers c WHERE consent_profiling
        AND EXISTS (SELECT 1 FROM recgen.events e WHERE e.customer_id = c.customer_id);
    CREATE UNIQUE INDEX ON public.bench_ids (i); ANALYZE public.bench_ids"
NC=$(bq "SELECT count(*) FROM public.bench_ids")

cat >"$TMP/recgen.sql" <<SQL
\set i random(1, $NC)
SELECT customer_id AS cid FROM public.bench_ids WHERE i = :i \gset
SELECT count(*) FROM recgen.recommend(:cid, 10);
SQL
cat >"$TMP/plain.sql" <<SQL
\set i random(1, $NC)
SELECT customer_id AS cid FROM public.bench_ids WHERE i = :i \gset
WITH m AS (SELECT model_id FROM recgen.model_current),
bought AS (SELECT DISTINCT product_id FROM recgen.events
           WHERE customer_id = :cid AND kind = 'purchase' AND product_id IS NOT NULL),
h AS (
  SELECT e.product_id,
         sum(CASE e.kind WHEN 'purchase' THEN 1.0 WHEN 'cart_add' THEN 0.5 WHEN 'click' THEN 0.25
                         WHEN 'view' THEN 0.1 ELSE 0 END
             * power(2, -extract(epoch FROM (a.anchor - e.occurred_at)) / 5184000)) AS w
  FROM recgen.events e,
       (SELECT max(occurred_at) AS anchor FROM recgen.events WHERE customer_id = :cid) a
  WHERE e.customer_id = :cid AND e.product_id IS NOT NULL
  GROUP BY 1 ORDER BY 2 DESC LIMIT 50),
c AS (
  SELECT u.nb, sum(h.w * u.s * CASE n.kind WHEN 'content' THEN 0.3 ELSE 1 END)
               / (SELECT nullif(sum(w), 0) FROM h) AS sc
  FROM h JOIN recgen.item_neighbors n ON n.model_id = (SELECT model_id FROM m) AND n.product_id = h.product_id
  CROSS JOIN LATERAL unnest(n.neighbor_ids, n.scores) AS u(nb, s)
  GROUP BY 1)
SELECT count(*) FROM (
  SELECT p.product_id, p.name, c.sc + 0.05 * coalesce(pop.score, 0) AS score
  FROM c JOIN recgen.products p ON p.product_id = c.nb
  LEFT JOIN recgen.item_popularity pop ON pop.model_id = (SELECT model_id FROM m)
       AND pop.scope = 'all' AND pop.scope_value = '' AND pop.product_id = p.product_id
  WHERE p.active AND coalesce(p.stock, 1) > 0
    AND NOT EXISTS (SELECT 1 FROM bought b WHERE b.product_id = p.product_id)
  ORDER BY 3 DESC, 1 LIMIT 10) top;
SQL

# latency percentiles (ms) of one pgbench run with 1 client, from its log
latency() {
	rm -f "$TMP"/pgbench_log.*
	(cd "$TMP" && pgbench -n -T "$SECS" -c 1 -l -f "$1" "$DSN" >/dev/null 2>&1)
	awk '{ print $3 / 1000.0 }' "$TMP"/pgbench_log.* | sort -n |
		awk '{ v[NR] = $1 } END { printf "%.3f %.3f\n", v[int(NR * 0.5) + 1], v[int(NR * 0.99) + 1] }'
}
tps() {
	pgbench -n -T "$SECS" -c 2 -j 2 -f "$1" "$DSN" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}

# the pgbench overhead (picking the customer) is measured alone and subtracted from nothing:
# both scripts carry it, so ratios compare like with like
read -r r50 r99 <<<"$(latency "$TMP/recgen.sql")"
rtps=$(tps "$TMP/recgen.sql")
read -r s50 s99 <<<"$(latency "$TMP/plain.sql")"
stps=$(tps "$TMP/plain.sql")

# refresh_model against the SQL self-join
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

echo "Online Retail: $(bq "SELECT count(*) FROM recgen.events") events, $(bq "SELECT count(*) FROM recgen.anonymous_events") anonymous lines, $(bq "SELECT count(*) FROM recgen.products") products, $NC customers drawn at random; pgbench ${SECS}s per run"
printf "%-44s %12s %12s %10s\n" "measure" "recgen" "plain SQL" "speed-up"
awk -v a="$r50" -v b="$s50" 'BEGIN { printf "%-44s %12.3f %12.3f %9.1fx\n", "recommend p50 latency, ms (1 client)", a, b, b / a }'
awk -v a="$r99" -v b="$s99" 'BEGIN { printf "%-44s %12.3f %12.3f %9.1fx\n", "recommend p99 latency, ms (1 client)", a, b, b / a }'
awk -v a="$rtps" -v b="$stps" 'BEGIN { printf "%-44s %12.0f %12.0f %9.1fx\n", "recommend throughput, calls/s (2 clients)", a, b, a / b }'
awk -v a="$refresh_ms" -v b="$selfjoin_ms" 'BEGIN { printf "%-44s %12.0f %12.0f %9.1fx\n", "model build, ms (refresh_model / self-join)", a, b, b / a }'
