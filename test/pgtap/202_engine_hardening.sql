-- 202_engine_hardening.sql - what a long-running server needs of the
-- engine: a rule kind the library does not know is an error (it used to
-- act as "exclude"), concerns with missing values do not leak into other
-- fields, and content tokens are split by character in the database's
-- encoding and lower-cased by its collation (not byte by byte).
BEGIN;
SELECT plan(7);

SET LOCAL recgen.max_per_category = 0;

INSERT INTO recgen.products (product_id, sku, name, category, price, created_at) VALUES
 (301, 'E1', 'Éclair au chocolat', 'bakery', 3, '2023-01-01'),
 (302, 'E2', 'ÉCLAIR vanille', 'bakery', 3, '2023-01-01'),
 (303, 'E3', 'Clair de lune lamp', 'home', 30, '2023-01-01'),
 (304, 'E4', 'Müsli crunchy oats', 'breakfast', 4, '2023-01-01'),
 (305, 'E5', 'MÜSLI nuts', 'breakfast', 5, '2023-01-01'),
 (306, 'E6', 'Slime toy sli', 'toys', 2, '2023-01-01'),
 (307, 'E7', 'Чай чёрный', 'drinks', 2, '2023-01-01'),
 (308, 'E8', 'ЧАЙ зелёный', 'drinks', 2, '2023-01-01'),
 (309, 'E9', 'plain mug', 'home', 6, '2023-01-01');
INSERT INTO recgen.customers (customer_id, segment, country, consent_profiling)
SELECT g, 'regular', 'UK', true FROM generate_series(70, 75) g;
INSERT INTO recgen.events (customer_id, product_id, kind, occurred_at, basket_id)
SELECT c, p, 'purchase'::recgen.event_kind, '2024-04-01'::timestamptz, 'h' || c
FROM generate_series(71, 75) c, unnest('{303,309}'::bigint[]) p;
INSERT INTO recgen.events (customer_id, product_id, kind, occurred_at, basket_id) VALUES
 (70, 309, 'purchase', '2024-05-01', 'b70');

SELECT ok((SELECT items > 0 FROM recgen.refresh_model('2024-06-01')), 'model built');

-- tokens by character: "éclair" is one word, shared by the two éclairs and
-- not a "clair" shared with the lamp; "müsli" likewise, and Cyrillic words
-- are words; upper case folds to lower case beyond ASCII
SELECT ok(EXISTS (SELECT 1 FROM recgen.item_neighbor_pairs
                  WHERE kind = 'content' AND product_id = 301 AND neighbor_id = 302),
          'Éclair au chocolat and ÉCLAIR vanille share the word éclair');
SELECT is((SELECT count(*)::int FROM recgen.item_neighbor_pairs
           WHERE kind = 'content' AND product_id IN (301, 302, 304, 305) AND neighbor_id IN (303, 306)), 0,
          'no word is cut out of Éclair or Müsli (no "clair" or "sli" shared with the lamp or the toy)');
-- (support of a content pair: the tokens shared, here the category and the word)
SELECT is((SELECT array_agg(support ORDER BY product_id) FROM recgen.item_neighbor_pairs
           WHERE kind = 'content' AND (product_id, neighbor_id) IN ((304, 305), (307, 308))),
          '{2,2}'::real[], 'Müsli and MÜSLI, Чай and ЧАЙ are the same word');

-- a concern row with missing values (the table forbids them; an older
-- table might not): no error, and nothing fires for it
CREATE TABLE IF NOT EXISTS recgen.concern_topics (
    topic text PRIMARY KEY, pattern text, categories text[], remedy_tags text[]);
CREATE TABLE IF NOT EXISTS recgen.customer_concerns (
    customer_id bigint, topic text, polarity smallint, strength real,
    last_seen timestamptz, example_post_id bigint);
ALTER TABLE recgen.customer_concerns DROP CONSTRAINT IF EXISTS customer_concerns_polarity_check,
    DROP CONSTRAINT IF EXISTS customer_concerns_pkey;
ALTER TABLE recgen.customer_concerns ALTER COLUMN polarity DROP NOT NULL,
    ALTER COLUMN strength DROP NOT NULL;
INSERT INTO recgen.concern_topics (topic, pattern, categories, remedy_tags)
VALUES ('lighting', 'dark', '{home}', '{}') ON CONFLICT DO NOTHING;
INSERT INTO recgen.customer_concerns (customer_id, topic, polarity, strength, last_seen, example_post_id) VALUES
 (70, 'lighting', NULL, 0.9, '2024-05-01', 1),
 (70, 'lighting', -1, NULL, '2024-05-01', 2);
INSERT INTO recgen.rules (name, kind, value) VALUES ('hold back', 'concern_holdback', 0.5),
                                                  ('praise', 'praise_interest', 1);
SELECT is((SELECT jsonb_agg(r.reason_detail->'rules') FILTER (WHERE r.reason_detail->'rules' <> '[]')
           FROM recgen.recommend(70, 10, 'balanced', '2024-06-01') r
           WHERE r.product_id = 303), NULL,
          'a complaint without strength and a concern without polarity fire no rule');
DELETE FROM recgen.rules;

-- a rule kind this library does not know is an error, not an exclusion
ALTER TABLE recgen.rules DROP CONSTRAINT rules_kind_check;
INSERT INTO recgen.rules (name, kind, value) VALUES ('from a newer version', 'bundle', 2);
SELECT throws_ok($$SELECT * FROM recgen.recommend(70, 5, 'balanced', '2024-06-01')$$,
                 '0A000', NULL, 'an unknown rule kind raises feature_not_supported');
SELECT throws_like($$SELECT * FROM recgen.recommend(70, 5, 'balanced', '2024-06-01')$$,
                   '%kind "bundle", which this version of recgen does not know%',
                   'the message names the kind');

SELECT * FROM finish();
ROLLBACK;
