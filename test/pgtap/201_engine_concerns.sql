-- 201_engine_concerns.sql - rules that use a customer's sentiment concerns
-- (recgen.customer_concerns, built by the sentiment subsystem): boost the
-- products whose tags address a complaint, hold back the categories
-- complained about, and count praise as interest. Creates the two tables
-- itself when they do not exist yet (rolled back with the test).
BEGIN;
SELECT plan(5);

SET LOCAL recgen.max_per_category = 0;

CREATE TABLE IF NOT EXISTS recgen.concern_topics (
    topic text PRIMARY KEY, pattern text, categories text[], remedy_tags text[]);
CREATE TABLE IF NOT EXISTS recgen.customer_concerns (
    customer_id bigint, topic text, polarity smallint, strength real,
    last_seen timestamptz, example_post_id bigint);

INSERT INTO recgen.products (product_id, sku, name, category, price, tags, created_at) VALUES
 (201, 'P1', 'steel pan', 'kitchen', 10, '{}', '2023-01-01'),
 (202, 'P2', 'frying pan', 'kitchen', 12, '{}', '2023-01-01'),
 (203, 'P3', 'pan rack', 'storage', 9, '{tidy}', '2023-01-01'),
 (204, 'P4', 'garden hose', 'garden', 20, '{}', '2023-01-01'),
 (205, 'P5', 'spice jar', 'kitchen', 4, '{}', '2023-01-01');
INSERT INTO recgen.customers (customer_id, segment, country, consent_profiling)
SELECT g, 'regular', 'UK', true FROM generate_series(50, 60) g;
INSERT INTO recgen.events (customer_id, product_id, kind, occurred_at, basket_id)
SELECT c, p, 'purchase'::recgen.event_kind, '2024-04-01'::timestamptz, 'c' || c
FROM generate_series(51, 60) c, unnest('{201,202,203,204,205}'::bigint[]) p;
INSERT INTO recgen.events (customer_id, product_id, kind, occurred_at, basket_id) VALUES
 (50, 201, 'purchase', '2024-05-01', 'b');

INSERT INTO recgen.concern_topics (topic, pattern, categories, remedy_tags) VALUES
 ('clutter', 'messy', '{garden}', '{tidy}'),
 ('cooking', 'cook', '{kitchen}', '{}');
-- example_post_id: the concerns are written directly, no post behind them
INSERT INTO recgen.customer_concerns (customer_id, topic, polarity, strength, last_seen, example_post_id) VALUES
 (50, 'clutter', -1, 1.0, '2024-05-01', 1),
 (50, 'cooking', 1, 1.0, '2024-05-01', 2);

SELECT ok((SELECT items > 0 FROM recgen.refresh_model('2024-06-01')), 'model built');
SELECT ok(EXISTS (SELECT 1 FROM recgen.recommend(50, 5, 'balanced', '2024-06-01') WHERE product_id = 204),
          'without concern rules the garden item is recommended');

INSERT INTO recgen.rules (name, kind, value) VALUES ('address complaints', 'concern_boost', 50);
SELECT is((SELECT product_id || ' ' || reason || ' ' || (reason_detail->>'concern')
           FROM recgen.recommend(50, 5, 'balanced', '2024-06-01') WHERE rank = 1),
          '203 addresses_concern clutter', 'concern_boost: the product tagged as a remedy comes first, naming the concern');

INSERT INTO recgen.rules (name, kind, value) VALUES ('hold back complaints', 'concern_holdback', 1);
SELECT ok(NOT EXISTS (SELECT 1 FROM recgen.recommend(50, 5, 'balanced', '2024-06-01') WHERE product_id = 204),
          'concern_holdback: nothing from the category complained about');

DELETE FROM recgen.rules;
INSERT INTO recgen.rules (name, kind, topic, value) VALUES ('praise', 'praise_interest', 'cooking', 10);
SELECT ok((SELECT bool_and(p.category = 'kitchen') FROM recgen.recommend(50, 2, 'balanced', '2024-06-01') r
           JOIN recgen.products p USING (product_id)),
          'praise_interest: the praised topic''s categories lead');

SELECT * FROM finish();
ROLLBACK;
