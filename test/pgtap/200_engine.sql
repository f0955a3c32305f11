-- 200_engine.sql - the recommendation engine on hand-made data where the
-- right answers are known: co-occurrence, availability, repurchase
-- intervals, rules, strategies, cold start, consent and the error cases.
BEGIN;
SELECT plan(40);

SET LOCAL recgen.max_per_category = 0;
-- the reasons here are item-level ones; customer neighbours: 203_engine_neighbors.sql
SET LOCAL recgen.neighbor_weight = 0;

-- catalog: A, B, C, D (out of stock), F (inactive), G (like A by name),
-- U (upsell of A), U2 (too expensive), H (VIP only), E (repurchase 30 days)
-- in kitchen; K, N (new) in garden; X, Y toys; S storage (tag "storage")
INSERT INTO recgen.products (product_id, sku, name, category, price, tags, stock, active,
                             repurchase_interval, created_at) VALUES
 (101, 'A', 'enamel mug blue', 'kitchen', 10, '{blue}', 5, true, NULL, '2023-01-01'),
 (102, 'B', 'teapot round', 'kitchen', 20, '{}', 5, true, NULL, '2023-01-01'),
 (103, 'C', 'sugar bowl', 'kitchen', 8, '{}', NULL, true, NULL, '2023-01-01'),
 (104, 'D', 'milk jug', 'kitchen', 9, '{}', 0, true, NULL, '2023-01-01'),
 (106, 'F', 'tea cosy', 'kitchen', 7, '{}', 5, false, NULL, '2023-01-01'),
 (107, 'G', 'enamel mug red', 'kitchen', 10, '{blue}', 5, true, NULL, '2023-01-01'),
 (108, 'U', 'enamel mug deluxe', 'kitchen', 14, '{}', 5, true, NULL, '2023-01-01'),
 (109, 'U2', 'enamel mug gold', 'kitchen', 100, '{}', 5, true, NULL, '2023-01-01'),
 (110, 'H', 'chef knife', 'kitchen', 12, '{}', 5, true, NULL, '2023-01-01'),
 (105, 'E', 'hand soap', 'bathroom', 3, '{}', 5, true, '30 days', '2023-01-01'),
 (111, 'K', 'watering can', 'garden', 15, '{}', 5, true, NULL, '2023-01-01'),
 (112, 'N', 'garden gnome', 'garden', 11, '{}', 5, true, NULL, '2024-05-25'),
 (113, 'X', 'toy car', 'toys', 5, '{}', 5, true, NULL, '2023-01-01'),
 (114, 'Y', 'toy boat', 'toys', 5, '{}', 5, true, NULL, '2023-01-01'),
 (115, 'S', 'shelf box', 'storage', 6, '{storage}', 5, true, NULL, '2023-01-01');

INSERT INTO recgen.customers (customer_id, segment, country, consent_profiling)
SELECT g, 'regular', 'UK', true FROM generate_series(10, 29) g;
INSERT INTO recgen.customers (customer_id, segment, country, consent_profiling) VALUES
 (1, 'regular', 'UK', true), (2, 'regular', 'UK', false), (3, 'regular', 'UK', true);

-- baskets of the crowd
INSERT INTO recgen.events (customer_id, product_id, kind, occurred_at, basket_id)
SELECT c, p, 'purchase'::recgen.event_kind, '2024-04-01'::timestamptz, 'k' || c
FROM generate_series(10, 19) c, unnest('{101,102,103}'::bigint[]) p
UNION ALL SELECT c, 104, 'purchase', '2024-04-01', 'k' || c FROM generate_series(10, 14) c
UNION ALL SELECT c, 106, 'purchase', '2024-04-01', 'k' || c FROM generate_series(15, 19) c
UNION ALL SELECT c, p, 'purchase', '2024-04-02', 'g' || c
          FROM generate_series(20, 24) c, unnest('{101,111}'::bigint[]) p
UNION ALL SELECT c, p, 'purchase', '2024-04-02', 'u' || c
          FROM generate_series(25, 26) c, unnest('{101,108,110,115}'::bigint[]) p
UNION ALL SELECT c, p, 'purchase', '2024-04-02', 'e' || c
          FROM generate_series(27, 28) c, unnest('{101,105}'::bigint[]) p
UNION ALL SELECT 2, p, 'purchase', ('2024-04-0' || d)::timestamptz, 'x' || d
          FROM generate_series(1, 3) d, unnest('{113,114}'::bigint[]) p;
-- customer 1 bought A and B together, and E later
INSERT INTO recgen.events (customer_id, product_id, kind, occurred_at, basket_id) VALUES
 (1, 101, 'purchase', '2024-05-01', 'b1'), (1, 102, 'purchase', '2024-05-01', 'b1'),
 (1, 105, 'purchase', '2024-05-20', 'b2');

SELECT ok((SELECT items > 0 AND pairs > 0 FROM recgen.refresh_model('2024-06-01')),
          'refresh_model builds a model and reports items and pairs');
SELECT is((SELECT count(*)::int FROM recgen.model_current), 1, 'the model is current');
SELECT is((SELECT count(*)::int FROM recgen.item_neighbor_pairs
           WHERE product_id = 113 AND neighbor_id = 114 AND kind = 'cooc'), 0,
          'baskets of a customer without consent_profiling are not learned');
SELECT ok(EXISTS (SELECT 1 FROM recgen.similar(101, 10, 'bought_together') WHERE neighbor_id = 103),
          'C is bought together with A');
SELECT ok(EXISTS (SELECT 1 FROM recgen.similar(101, 3, 'similar') WHERE neighbor_id = 107),
          'G is similar to A by its name and tags');
SELECT ok(NOT EXISTS (SELECT 1 FROM recgen.similar(101, 50, 'bought_together') WHERE neighbor_id IN (104, 106)),
          'similar() leaves out out-of-stock and inactive products');

CREATE TEMP TABLE r1 AS SELECT * FROM recgen.recommend(1, 10, 'balanced', '2024-06-01');
SELECT is((SELECT product_id FROM r1 WHERE rank = 1), 103::bigint,
          'a customer who bought A and B is recommended C, which co-occurs with both');
SELECT is((SELECT reason FROM r1 WHERE rank = 1), 'bought_together', 'its reason is bought_together');
SELECT ok((SELECT reason_detail->'because' @> '[{"product_id": 101}]' AND reason_detail->'because' @> '[{"product_id": 102}]'
           FROM r1 WHERE rank = 1), 'reason_detail names A and B as the items that led to C');
SELECT ok(NOT EXISTS (SELECT 1 FROM r1 WHERE product_id = 104), 'an out-of-stock item never appears');
SELECT ok(NOT EXISTS (SELECT 1 FROM r1 WHERE product_id = 106), 'an inactive item never appears');
SELECT ok(NOT EXISTS (SELECT 1 FROM r1 WHERE product_id IN (101, 102)), 'bought items without a repurchase interval do not return');
SELECT ok(NOT EXISTS (SELECT 1 FROM r1 WHERE product_id = 105), 'an item bought within its repurchase interval does not return');
SELECT ok(EXISTS (SELECT 1 FROM recgen.recommend(1, 20, 'balanced', '2024-07-01') WHERE product_id = 105 AND reason = 'repeat'),
          'an already-bought item returns after its repurchase interval');
SELECT ok((SELECT bool_and(rank = rn) FROM (SELECT rank, row_number() OVER (ORDER BY score DESC) rn FROM r1) s),
          'ranks follow scores');

-- diversity
SET LOCAL recgen.max_per_category = 2;
SELECT ok((SELECT max(c) <= 2 FROM (SELECT count(*) c FROM recgen.recommend(1, 10, 'balanced', '2024-06-01') r
           JOIN recgen.products p USING (product_id) GROUP BY p.category) s),
          'recgen.max_per_category limits items per category');
SET LOCAL recgen.max_per_category = 0;

-- rules
INSERT INTO recgen.rules (rule_id, name, kind, product_id) VALUES (9001, 'no C', 'exclude', 103);
-- C was first before the rule (r1); the list is not empty after it
SELECT ok((SELECT count(*) > 0 AND bool_and(product_id <> 103)
             FROM recgen.recommend(1, 10, 'balanced', '2024-06-01')),
          'an exclude rule removes the product, and only it');
UPDATE recgen.rules SET active = false WHERE rule_id = 9001;
INSERT INTO recgen.rules (rule_id, name, kind, category, value) VALUES (9002, 'push garden', 'boost', 'garden', 100);
SELECT is((SELECT p.category FROM recgen.recommend(1, 10, 'balanced', '2024-06-01') r JOIN recgen.products p USING (product_id) WHERE rank = 1),
          'garden', 'a boost rule lifts its category to the top');
SELECT ok((SELECT reason_detail->'rules' @> '[9002]' FROM recgen.recommend(1, 1, 'balanced', '2024-06-01')),
          'reason_detail lists the rule that fired');
DELETE FROM recgen.rules WHERE rule_id = 9002;
INSERT INTO recgen.rules (rule_id, name, kind, value) VALUES (9003, 'one per category', 'max_per_category', 1);
SELECT ok((SELECT max(c) = 1 FROM (SELECT count(*) c FROM recgen.recommend(1, 10, 'balanced', '2024-06-01') r
           JOIN recgen.products p USING (product_id) GROUP BY p.category) s),
          'a max_per_category rule overrides the setting');
DELETE FROM recgen.rules WHERE rule_id = 9003;
INSERT INTO recgen.rules (rule_id, name, kind, max_price) VALUES (9004, 'cheap only', 'price_band', 9);
SELECT ok((SELECT bool_and(p.price <= 9) FROM recgen.recommend(1, 10, 'balanced', '2024-06-01') r JOIN recgen.products p USING (product_id)),
          'a price_band rule keeps prices within the band');
DELETE FROM recgen.rules WHERE rule_id = 9004;
SELECT ok(EXISTS (SELECT 1 FROM recgen.recommend(1, 20, 'balanced', '2024-06-01') WHERE product_id = 110),
          'H is recommended before an eligibility rule');
INSERT INTO recgen.rules (rule_id, name, kind, product_id, segment) VALUES (9005, 'H for VIPs', 'eligibility', 110, 'vip');
SELECT ok(NOT EXISTS (SELECT 1 FROM recgen.recommend(1, 20, 'balanced', '2024-06-01') WHERE product_id = 110),
          'an eligibility rule keeps H from customers outside its segment');
DELETE FROM recgen.rules WHERE rule_id = 9005;

-- strategies
-- (a list the strategy's own items leave short is filled with popular
-- items, marked fallback in reason_detail)
SELECT ok((SELECT bool_and(p.category <> 'kitchen') AND count(*) > 0
           FROM recgen.recommend(1, 10, 'complementary', '2024-06-01') r JOIN recgen.products p USING (product_id)
           WHERE r.reason = 'cross_sell'),
          'complementary: co-bought items of another category than the kitchen history');
SELECT ok((SELECT bool_and((r.reason_detail->>'fallback')::boolean
                    AND r.reason IN ('popular_segment', 'popular_country', 'popular', 'catalog'))
                  AND count(*) = 8
           FROM recgen.recommend(1, 10, 'complementary', '2024-06-01') r
           WHERE r.reason <> 'cross_sell'),
          'the other 8 of 10 are popular items, then the rest of the catalog, marked fallback');
SELECT ok((SELECT bool_and(p.category = 'kitchen' AND p.price > 10 AND p.price <= 30) AND count(*) > 0
           FROM recgen.recommend(1, 10, 'upsell', '2024-06-01') r JOIN recgen.products p USING (product_id)
           WHERE r.reason = 'upsell'),
          'upsell: same category, dearer than an item bought, within the price bound');
SELECT ok(NOT EXISTS (SELECT 1 FROM recgen.recommend(1, 10, 'upsell', '2024-06-01')
                      WHERE product_id = 109 AND reason = 'upsell'),
          'upsell leaves out items beyond recgen.upsell_max_price_ratio');
SELECT is((SELECT product_id FROM recgen.recommend(1, 1, 'similar', '2024-06-01')), 107::bigint,
          'similar: the item most like what was bought (G, like A)');
SELECT ok((SELECT bool_and(p.created_at >= '2024-05-02') AND count(*) > 0
           FROM recgen.recommend(1, 10, 'new', '2024-06-01') r JOIN recgen.products p USING (product_id)),
          'new: only products created within recgen.new_item_age');
SELECT ok((SELECT bool_and(reason LIKE 'popular%') FROM recgen.recommend(1, 5, 'popular', '2024-06-01')),
          'popular: reasons say popular');

-- cold start
SELECT ok((SELECT count(*) = 5 AND bool_and(reason = 'popular_segment' AND (reason_detail->>'cold_start')::boolean)
           FROM recgen.recommend(3, 5, 'balanced', '2024-06-01')),
          'a customer without history gets what is popular in their segment');

-- errors
SELECT throws_ok($$SELECT * FROM recgen.recommend(1, 5, 'cheapest')$$, '22023', 'unknown strategy "cheapest"',
                 'an invalid strategy is an error');
SELECT throws_ok($$SELECT * FROM recgen.recommend(1, 0)$$, '22023', 'n must be between 1 and 1000, not 0',
                 'n <= 0 is an error');
SELECT throws_ok($$SELECT * FROM recgen.recommend(999, 5)$$, 'P0002', 'customer 999 is unknown or not visible to you',
                 'an unknown customer is an error');
SELECT throws_ok($$SELECT * FROM recgen.recommend(2, 5)$$, '42501', 'customer 2 has not consented to profiling',
                 'a customer without consent gets an error naming the missing consent');

-- privileges: analysts read rules and models and call recommend, but cannot edit rules
SET LOCAL ROLE recgen_analyst;
SELECT ok((SELECT count(*) > 0 FROM recgen.recommend(1, 3, 'balanced', '2024-06-01')), 'an analyst can call recommend()');
SELECT throws_ok($$INSERT INTO recgen.rules (name, kind, product_id) VALUES ('x', 'exclude', 101)$$, '42501', NULL,
                 'an analyst cannot edit rules');
SELECT throws_ok($$SELECT * FROM recgen.refresh_model()$$, '42501', NULL, 'an analyst cannot refresh the model');
RESET ROLE;

-- a segment longer than a scope value holds (127 bytes) is cut between characters
INSERT INTO recgen.customers (customer_id, segment, country, consent_profiling)
VALUES (4, repeat('é', 100), 'UK', true);
INSERT INTO recgen.events (customer_id, product_id, kind, occurred_at, basket_id)
VALUES (4, 101, 'purchase', '2024-05-02', 'l4');
SELECT ok((SELECT items > 0 FROM recgen.refresh_model('2024-06-01')), 'the model builds again');
SELECT is((SELECT scope_value FROM recgen.item_popularity JOIN recgen.model_current USING (model_id)
           WHERE scope = 'segment' AND scope_value LIKE 'é%'), repeat('é', 63),
          'a long multibyte segment is cut at a character boundary');

SELECT * FROM finish();
ROLLBACK;
