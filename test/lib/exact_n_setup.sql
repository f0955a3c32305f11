-- exact_n_setup.sql - for test/integration/220_engine_exact_n.sh: the
-- customers with marketing and profiling consent, and the number of
-- eligible products E of each, computed here from the tables, as of
-- :as_of: available products; variant groups (group_key, else the
-- normalised name) not bought, unless repurchase allows it; at most
-- recgen.max_per_category groups per category; for strategy "new" the
-- products created within recgen.new_item_age only. exact_n_run.sql then
-- calls recommend(), exact_n_report.sql compares.
SET client_min_messages = warning;

CREATE UNLOGGED TABLE x_cust AS
    SELECT customer_id FROM recgen.customers WHERE consent_profiling AND consent_marketing;
CREATE UNLOGGED TABLE x_prod AS
    SELECT product_id, coalesce(category, '') AS cat, coalesce(group_key, recgen.variant_name(name)) AS grp,
           repurchase_interval AS ival,
           created_at >= :'as_of'::timestamptz
               - (SELECT setting::int FROM pg_settings WHERE name = 'recgen.new_item_age') * interval '1 second' AS is_new
    FROM recgen.products WHERE active AND coalesce(stock, 1) > 0;
CREATE UNLOGGED TABLE x_bought AS
    SELECT e.customer_id, coalesce(p.group_key, recgen.variant_name(p.name)) AS grp,
           recgen.variant_name(p.name) AS vname, max(e.occurred_at) AS last
    FROM recgen.events e JOIN x_cust USING (customer_id) JOIN recgen.products p USING (product_id)
    WHERE e.kind = 'purchase' AND e.occurred_at < :'as_of'
    GROUP BY 1, 2, 3;
ANALYZE x_cust;
ANALYZE x_prod;
ANALYZE x_bought;

-- E per repurchase mode, for all products (newonly false) or new ones
CREATE UNLOGGED TABLE x_e AS
WITH modes(mode) AS (VALUES ('catalog'), ('always'), ('never')),
     kinds(newonly) AS (VALUES (false), (true)),
     cap AS (SELECT current_setting('recgen.max_per_category')::int AS cap),
     g AS (SELECT k.newonly, p.cat, count(DISTINCT p.grp) AS n
           FROM kinds k JOIN x_prod p ON NOT k.newonly OR p.is_new GROUP BY 1, 2),
     -- bought groups of a category none of whose products may be bought again
     blocked AS (
           SELECT m.mode, k.newonly, b.customer_id, p.cat, p.grp
           FROM modes m CROSS JOIN kinds k
           JOIN (SELECT customer_id, grp, max(last) AS last FROM x_bought GROUP BY 1, 2) b ON true
           JOIN x_prod p ON p.grp = b.grp AND (NOT k.newonly OR p.is_new)
           WHERE m.mode <> 'always'
           GROUP BY 1, 2, 3, 4, 5
           HAVING bool_and(m.mode = 'never' OR p.ival IS NULL OR b.last + p.ival > :'as_of')),
     xb AS (SELECT mode, newonly, customer_id, cat, count(*) AS n FROM blocked GROUP BY 1, 2, 3, 4)
SELECT m.mode, k.newonly, c.customer_id,
       sum(CASE WHEN cap.cap > 0 THEN least(cap.cap, g.n - coalesce(xb.n, 0))
                ELSE g.n - coalesce(xb.n, 0) END)::int AS e
FROM modes m CROSS JOIN kinds k CROSS JOIN x_cust c CROSS JOIN cap
JOIN g ON g.newonly = k.newonly
LEFT JOIN xb ON xb.mode = m.mode AND xb.newonly = k.newonly AND xb.customer_id = c.customer_id AND xb.cat = g.cat
GROUP BY 1, 2, 3;
ANALYZE x_e;

CREATE UNLOGGED TABLE x_rec (strategy text, mode text, customer_id bigint, n int, ids bigint[]);
