-- 205_engine_claims.sql - claims of the engine's documentation that had no
-- test: the "no model" error, the cold start's fall back from the
-- customer's segment to their country, recgen.repurchase always and
-- never, and the errors of similar().
BEGIN;
SELECT plan(12);

SET LOCAL recgen.max_per_category = 0;
INSERT INTO recgen.products (product_id, sku, name, category, price, stock, repurchase_interval, created_at) VALUES
 (301, 'CL-A', 'linen apron', 'kitchen', 10, 5, NULL, '2023-01-01'),
 (302, 'CL-B', 'oak board', 'kitchen', 20, 5, NULL, '2023-01-01'),
 (303, 'CL-C', 'salt pig', 'kitchen', 8, 5, NULL, '2023-01-01'),
 (304, 'CL-D', 'dish soap', 'kitchen', 3, 5, '7 days', '2023-01-01'),
 (305, 'CL-E', 'rake', 'garden', 15, 5, NULL, '2023-01-01');
-- the crowd: UK regulars buy A, B, C; French ones buy the rake and soap
INSERT INTO recgen.customers (customer_id, segment, country, consent_profiling)
SELECT g, 'regular', CASE WHEN g < 40 THEN 'UK' ELSE 'FR' END, true FROM generate_series(30, 49) g;
INSERT INTO recgen.events (customer_id, product_id, kind, occurred_at, basket_id)
SELECT c, p, 'purchase'::recgen.event_kind, '2024-04-01'::timestamptz, 'c' || c
  FROM generate_series(30, 39) c, unnest('{301,302,303}'::bigint[]) p
UNION ALL
SELECT c, p, 'purchase', '2024-04-01', 'c' || c FROM generate_series(40, 49) c, unnest('{305,304}'::bigint[]) p;
-- customer 1 bought A and the soap (7-day interval) long ago; customers 5
-- and 6 are new, in a segment nobody else is in, in France and the UK
INSERT INTO recgen.customers (customer_id, segment, country, consent_profiling) VALUES
 (1, 'regular', 'UK', true), (5, 'first_timer', 'FR', true), (6, 'first_timer', 'UK', true);
INSERT INTO recgen.events (customer_id, product_id, kind, occurred_at, basket_id) VALUES
 (1, 301, 'purchase', '2024-05-01', 'b1'), (1, 304, 'purchase', '2024-05-01', 'b1');

SELECT throws_ok($$SELECT * FROM recgen.recommend(1, 5)$$, '55000', 'no recommendation model has been built',
                 'recommend() before any model is built says so');
SELECT ok((SELECT items > 0 FROM recgen.refresh_model('2024-06-01')), 'the model builds');

-- cold start: no history, no popularity in the segment: the country's
SELECT ok(EXISTS (SELECT 1 FROM recgen.recommend(5, 2, 'balanced', '2024-06-01')
                   WHERE product_id = 304 AND reason = 'popular_country' AND (reason_detail->>'cold_start')::boolean),
          'a new customer of an empty segment gets what is most popular in their country (France)');
SELECT ok(EXISTS (SELECT 1 FROM recgen.recommend(6, 2, 'balanced', '2024-06-01')
                   WHERE product_id = 301 AND reason = 'popular_country' AND (reason_detail->>'cold_start')::boolean)
          AND NOT EXISTS (SELECT 1 FROM recgen.recommend(6, 2, 'balanced', '2024-06-01') WHERE product_id = 304),
          'and one of the same segment in the UK what is most popular there');

-- repurchase: catalog (default), always, never
SELECT ok(NOT EXISTS (SELECT 1 FROM recgen.recommend(1, 10, 'balanced', '2024-06-01') WHERE product_id = 301),
          'catalog: an item without a repurchase interval is not recommended again');
SELECT ok(EXISTS (SELECT 1 FROM recgen.recommend(1, 10, 'balanced', '2024-06-01') WHERE product_id = 304),
          'catalog: an item past its repurchase interval is');
SET LOCAL recgen.repurchase = 'always';
SELECT ok(EXISTS (SELECT 1 FROM recgen.recommend(1, 10, 'balanced', '2024-06-01') WHERE product_id = 301),
          'always: the item without an interval may come back');
SET LOCAL recgen.repurchase = 'never';
SELECT ok((SELECT count(*) > 0 AND bool_and(product_id NOT IN (301, 304))
             FROM recgen.recommend(1, 10, 'balanced', '2024-06-01')),
          'never: nothing bought comes back, not even past its interval');
RESET recgen.repurchase;

-- similar(): its errors
SELECT throws_ok($$SELECT * FROM recgen.similar(301, 5, 'cheaper')$$, '22023', 'unknown kind "cheaper"',
                 'similar() with an unknown kind is an error');
SELECT throws_ok($$SELECT * FROM recgen.similar(301, 0)$$, '22023', 'n must be between 1 and 1000, not 0',
                 'similar() with n out of range is an error');
SELECT throws_ok($$SELECT * FROM recgen.similar(999999, 5)$$, 'P0002', 'product 999999 does not exist',
                 'similar() of an unknown product is an error');
SELECT throws_ok($$SELECT * FROM recgen.similar(301, NULL)$$, '22023', 'n must be between 1 and 1000, not null',
                 'similar() with a null n is an error');

SELECT * FROM finish();
ROLLBACK;
