-- upgrade_fixture_0.1.0.sql - data written with the 0.1.0 schema, so
-- test/integration/040_upgrade.sh can show that ALTER EXTENSION recgen
-- UPDATE keeps it. Touches every 0.1.0 table: customers with each consent,
-- a small catalog, events of every kind, anonymous baskets, social posts
-- (sentiment and concerns by trigger), a rule, a built model, an edited
-- prompt template (a new version), a content row and an LLM call row.
-- Uses only what 0.1.0 has; deterministic.
SET client_min_messages = warning;
INSERT INTO recgen.customers (customer_id, first_name, last_name, email, segment, country, locale,
                              consent_marketing, consent_profiling, consent_social)
SELECT i, 'Name' || i, 'Surname' || i, 'c' || i || '@example.com',
       (ARRAY['regular', 'high_value', 'occasional'])[1 + i % 3],
       (ARRAY['United Kingdom', 'France', 'Norway'])[1 + i % 3], 'en-GB',
       i % 5 <> 0, i % 7 <> 0, i % 2 = 0
FROM generate_series(1, 300) i;
INSERT INTO recgen.products (sku, name, category, price, tags, attributes, description, stock, repurchase_interval)
SELECT 'SKU-' || i, 'Product ' || i || (ARRAY[' Mug', ' Lamp', ' Candle', ' Bag'])[1 + i % 4],
       (ARRAY['kitchen', 'lighting', 'home', 'bags'])[1 + i % 4], 2.5 + i,
       ARRAY[(ARRAY['red', 'blue', 'vintage'])[1 + i % 3]], jsonb_build_object('size', i % 3),
       'A fine product number ' || i, 10 + i, CASE WHEN i % 4 = 0 THEN interval '30 days' END
FROM generate_series(1, 40) i;
INSERT INTO recgen.events (customer_id, product_id, kind, quantity, amount, occurred_at, basket_id)
SELECT 1 + (i * 7) % 300, p.product_id,
       (ARRAY['purchase', 'purchase', 'view', 'cart_add', 'return'])[1 + i % 5]::recgen.event_kind,
       1 + i % 3, (1 + i % 3) * p.price, timestamptz '2011-01-01' + (i || ' hours')::interval,
       'B' || (i / 3)
FROM generate_series(1, 6000) i
JOIN recgen.products p ON p.sku = 'SKU-' || (1 + (i * 13) % 40);
INSERT INTO recgen.events (customer_id, kind, amount, occurred_at, attributes)
SELECT 1 + i % 300, 'transaction', 10 + i % 50, timestamptz '2011-03-01' + (i || ' hours')::interval,
       jsonb_build_object('merchant_category', 'groceries')
FROM generate_series(1, 500) i;
INSERT INTO recgen.anonymous_events (product_id, kind, quantity, occurred_at, basket_id)
SELECT p.product_id, 'purchase', 1, timestamptz '2011-02-01' + (i || ' minutes')::interval, 'G' || (i / 4)
FROM generate_series(1, 800) i
JOIN recgen.products p ON p.sku = 'SKU-' || (1 + (i * 17) % 40);
INSERT INTO recgen.social_posts (customer_id, body, posted_at, source)
SELECT 2 * (1 + i % 150), (ARRAY['Love the Product 3 Lamp, great light!', 'The fees are awful and the app is slow',
                                 'Delivery was late again, not happy', 'Nice candle'])[1 + i % 4],
       timestamptz '2011-05-01' + (i || ' hours')::interval, 'twitter'
FROM generate_series(1, 400) i;
INSERT INTO recgen.rules (name, kind, category, value) VALUES ('two per category', 'max_per_category', NULL, 2);
SELECT recgen.refresh_model('2011-12-01');
UPDATE recgen.prompt_templates SET temperature = 0.5 WHERE kind = 'summary' AND active;
INSERT INTO recgen.llm_calls (customer_id, purpose, model, outcome, http_status, attempts, latency_ms,
                              prompt_tokens, completion_tokens, called_at)
VALUES (2, 'email', 'smollm2-135m-instruct', 'ok', 200, 1, 812.5, 120, 96, '2011-06-01');
INSERT INTO recgen.content (customer_id, kind, tone, channel, brand, model, context, output,
                            product_ids, verdict, created_at)
VALUES (2, 'email', 'friendly', 'email', 'default', 'smollm2-135m-instruct', '{"customer": {"first_name": "Name2"}}',
        '{"subject": "For you", "body": "Hi Name2"}', '{1,2}', 'fallback', '2011-06-01');
