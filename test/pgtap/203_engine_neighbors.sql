-- 203_engine_neighbors.sql - customer neighbours: refresh_model keeps the
-- purchase profiles of consented customers (unit length, personal data
-- under row-level security), and recommend() adds what the customers most
-- like this one bought, never counting the customer as their own neighbour.
BEGIN;
SELECT plan(8);

SET LOCAL recgen.max_per_category = 0;

INSERT INTO recgen.products (product_id, sku, name, category, price, created_at) VALUES
 (401, 'N1', 'red kite', 'toys', 5, '2023-01-01'),
 (402, 'N2', 'blue yoyo', 'toys', 3, '2023-01-01'),
 (403, 'N3', 'green ball', 'toys', 4, '2023-01-01'),
 (404, 'N4', 'paint tin', 'crafts', 9, '2023-01-01'),
 (405, 'N5', 'brush pack', 'crafts', 6, '2023-01-01'),
 (406, 'N6', 'glue stick', 'crafts', 2, '2023-01-01');
INSERT INTO recgen.customers (customer_id, segment, country, consent_profiling) VALUES
 (90, 'regular', 'UK', true), (91, 'regular', 'UK', true), (92, 'regular', 'UK', true),
 (93, 'regular', 'UK', false);
-- 91 and 92 bought what 90 bought, in other baskets, and 91 also glue;
-- 93 (no consent) bought the same and the paint tin
INSERT INTO recgen.events (customer_id, product_id, kind, occurred_at, basket_id) VALUES
 (90, 401, 'purchase', '2024-05-01', 'a90'), (90, 404, 'purchase', '2024-05-03', 'b90'),
 (91, 401, 'purchase', '2024-04-01', 'a91'), (91, 404, 'purchase', '2024-04-20', 'b91'),
 (91, 406, 'purchase', '2024-05-10', 'c91'),
 (92, 401, 'purchase', '2024-04-02', 'a92'), (92, 404, 'purchase', '2024-04-22', 'b92'),
 (92, 406, 'purchase', '2024-05-11', 'c92'), (92, 402, 'purchase', '2024-01-11', 'd92'),
 (93, 401, 'purchase', '2024-04-02', 'a93'), (93, 405, 'purchase', '2024-04-22', 'b93');

SELECT ok((SELECT items > 0 FROM recgen.refresh_model('2024-06-01')), 'model built');
SELECT is((SELECT array_agg(customer_id ORDER BY customer_id) FROM recgen.customer_profiles),
          '{90,91,92}'::bigint[], 'profiles of the consented customers only');
SELECT ok((SELECT bool_and(abs(sqrt((SELECT sum(w * w) FROM unnest(weights) w)) - 1) < 1e-5)
           FROM recgen.customer_profiles), 'each profile has unit length');
SELECT is((SELECT weights[1] > weights[2] FROM recgen.customer_profiles WHERE customer_id = 92
           AND product_ids[1] = 401 AND product_ids[2] = 402), true,
          'a purchase weighs more the more recent it is');

-- 90's neighbours 91 and 92 bought glue: it comes first, for that reason
SELECT is((SELECT product_id || ' ' || reason FROM recgen.recommend(90, 5, 'balanced', '2024-06-01') WHERE rank = 1),
          '406 similar_customers', 'what the nearest customers bought comes first, reason similar_customers');
SELECT ok((SELECT (reason_detail->'components'->>'customers')::float8 = 1
           FROM recgen.recommend(90, 5, 'balanced', '2024-06-01') WHERE product_id = 406),
          'reason_detail shows the customers component');
SET LOCAL recgen.neighbor_weight = 0;
SELECT ok(NOT EXISTS (SELECT 1 FROM recgen.recommend(90, 5, 'balanced', '2024-06-01') WHERE reason = 'similar_customers'),
          'neighbor_weight 0 turns it off');
RESET recgen.neighbor_weight;

-- analysts see only the profiles of consenting customers
CREATE ROLE tap_nb_analyst LOGIN IN ROLE recgen_analyst;
UPDATE recgen.customers SET consent_profiling = false WHERE customer_id = 92;
SET ROLE tap_nb_analyst;
SELECT is((SELECT array_agg(customer_id ORDER BY customer_id) FROM recgen.customer_profiles),
          '{90,91}'::bigint[], 'withdrawn consent: an analyst no longer sees the profile');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
