-- popularity_reference.sql - recgen.item_popularity as plain SQL (what
-- refresh_model computed in SQL before src/model_popularity.c), for the
-- integration test that compares the two. psql variable: as_of.
CREATE TEMP TABLE popularity_reference AS
WITH ev AS (
  SELECT e.product_id, c.segment, c.country, e.occurred_at
  FROM recgen.events e JOIN recgen.customers c ON c.customer_id = e.customer_id
  WHERE c.consent_profiling AND e.kind = 'purchase' AND e.product_id IS NOT NULL
    AND e.occurred_at < :'as_of'::timestamptz
  UNION ALL
  SELECT a.product_id, NULL, NULL, a.occurred_at FROM recgen.anonymous_events a
  WHERE a.kind = 'purchase' AND a.product_id IS NOT NULL AND a.occurred_at < :'as_of'::timestamptz),
agg AS (
  SELECT CASE WHEN GROUPING(segment) = 0 THEN 'segment'
              WHEN GROUPING(country) = 0 THEN 'country' ELSE 'all' END AS scope,
         coalesce(segment, country, '') AS scope_value, product_id,
         sum(power(2::float8, -extract(epoch FROM (:'as_of'::timestamptz - occurred_at))::float8
                              / extract(epoch FROM current_setting('recgen.recency_half_life')::interval)::float8)) AS w,
         count(*) FILTER (WHERE occurred_at >= :'as_of'::timestamptz - interval '30 days') AS r,
         count(*) FILTER (WHERE occurred_at < :'as_of'::timestamptz - interval '30 days'
                            AND occurred_at >= :'as_of'::timestamptz - interval '90 days') AS b,
         count(*) AS n
  FROM ev GROUP BY GROUPING SETS ((product_id), (segment, product_id), (country, product_id))),
ranked AS (
  SELECT scope, scope_value, product_id,
         (w / nullif(max(w) OVER (PARTITION BY scope, scope_value), 0))::real AS score,
         ((r + 1.0) / (b / 2.0 + 1.0))::real AS trend, n AS purchases,
         row_number() OVER (PARTITION BY scope, scope_value ORDER BY w DESC, product_id) AS rank
  FROM agg WHERE scope = 'all' OR scope_value <> '')
-- segments and countries keep their recgen.model_scope_items best (0: all)
SELECT * FROM ranked
WHERE scope = 'all' OR current_setting('recgen.model_scope_items')::int = 0
   OR rank <= current_setting('recgen.model_scope_items')::int;

-- rows that differ, either way (0 when the two agree)
SELECT count(*) FROM (
  (SELECT scope, scope_value, product_id, rank, purchases, trend, round(score::numeric, 5)
     FROM popularity_reference
   EXCEPT
   SELECT scope, scope_value, product_id, rank, purchases, trend, round(score::numeric, 5)
     FROM recgen.item_popularity JOIN recgen.model_current USING (model_id))
  UNION ALL
  (SELECT scope, scope_value, product_id, rank, purchases, trend, round(score::numeric, 5)
     FROM recgen.item_popularity JOIN recgen.model_current USING (model_id)
   EXCEPT
   SELECT scope, scope_value, product_id, rank, purchases, trend, round(score::numeric, 5)
     FROM popularity_reference)) d;
