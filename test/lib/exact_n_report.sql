-- exact_n_report.sql - one line per strategy and mode: row <strategy>
-- <mode> <customers> <lists of another length than min(n, E)> <lists that
-- are not the prefix of top-50> <recommended products whose name the
-- customer bought, where repurchase forbids it>, and a stat line.
SET client_min_messages = warning;
ANALYZE x_rec;
SELECT 'row', r.strategy, r.mode, count(DISTINCT r.customer_id),
       count(*) FILTER (WHERE cardinality(r.ids) <> least(r.n, e.e)),
       count(*) FILTER (WHERE r.n < 50 AND r.ids <> r50.ids[1:r.n]),
       coalesce(max(nb.named), 0)
FROM x_rec r
JOIN x_rec r50 ON r50.strategy = r.strategy AND r50.mode = r.mode AND r50.customer_id = r.customer_id AND r50.n = 50
JOIN x_e e ON e.mode = r.mode AND e.newonly = (r.strategy = 'new') AND e.customer_id = r.customer_id
LEFT JOIN (
    -- recommended products whose name the customer bought, where repurchase forbids it
    SELECT x.strategy, x.mode, count(*) AS named
    FROM x_rec x CROSS JOIN unnest(x.ids) AS u(product_id)
    JOIN recgen.products p ON p.product_id = u.product_id
    JOIN x_bought b ON b.customer_id = x.customer_id AND b.vname = recgen.variant_name(p.name)
    WHERE x.n = 50 AND x.mode <> 'always'
      AND (x.mode = 'never' OR p.repurchase_interval IS NULL OR b.last + p.repurchase_interval > :'as_of')
    GROUP BY 1, 2) nb ON nb.strategy = r.strategy AND nb.mode = r.mode
GROUP BY r.strategy, r.mode
ORDER BY r.strategy, r.mode;

SELECT 'stat', 'lists checked:', count(*), ' customers with E < 50 (catalog):',
       (SELECT count(*) FROM x_e WHERE mode = 'catalog' AND NOT newonly AND e < 50),
       ' median E (catalog):', (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY e) FROM x_e WHERE mode = 'catalog' AND NOT newonly),
       ' balanced/catalog lists of n = 3 with fewer than 3 rows:',
       (SELECT count(*) FROM x_rec WHERE strategy = 'balanced' AND mode = 'catalog' AND n = 3 AND cardinality(ids) < 3)
FROM x_rec;
