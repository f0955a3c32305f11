-- selfjoin_neighbors.sql - the SQL baseline of refresh_model(): basket
-- co-occurrence top-50 per item with the same shrunk cosine, as one
-- INSERT ... SELECT self-join (a subset of what refresh_model builds: no
-- history transactions, content neighbours or popularity). Consented
-- customers' baskets and anonymous baskets, as refresh_model reads them.
BEGIN;
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
COMMIT;
