-- plain_recommend.sql - the best plain-SQL query we could write over recgen's
-- model tables for what recommend(:cid, 10) returns: decayed history (top 50
-- items), co-occurrence and content neighbours (content at 0.3), a popularity
-- prior, bought and unavailable items left out. The pgbench scripts of
-- speed.sh and scale.sh set :cid.
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
