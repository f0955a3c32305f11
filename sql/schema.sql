-- schema: constraints reject bad rows with clear messages.
-- (terse: the failing-row details carry timestamps)
\set VERBOSITY terse
INSERT INTO recgen.customers (customer_id, first_name, consent_profiling) VALUES (1, 'Ann', true);
INSERT INTO recgen.products (sku, name, price, stock) VALUES ('A-1', 'Lamp', 10, 5);
-- a product needs a name and a non-negative price and stock
INSERT INTO recgen.products (sku, name, price) VALUES ('A-2', '  ', 10);
INSERT INTO recgen.products (sku, name, price) VALUES ('A-3', 'Chair', -1);
INSERT INTO recgen.products (sku, name, price, stock) VALUES ('A-4', 'Table', 1, -2);
-- SKUs are unique
INSERT INTO recgen.products (sku, name, price) VALUES ('A-1', 'Other lamp', 10);
-- events: unknown kinds, non-positive quantities, unknown customers and products
INSERT INTO recgen.events (customer_id, product_id, kind, occurred_at)
SELECT 1, product_id, 'wishlist', '2026-01-01' FROM recgen.products WHERE sku = 'A-1';
INSERT INTO recgen.events (customer_id, product_id, kind, quantity, occurred_at)
SELECT 1, product_id, 'purchase', 0, '2026-01-01' FROM recgen.products WHERE sku = 'A-1';
INSERT INTO recgen.events (customer_id, product_id, kind, occurred_at)
SELECT 2, product_id, 'purchase', '2026-01-01' FROM recgen.products WHERE sku = 'A-1';
INSERT INTO recgen.events (customer_id, product_id, kind, occurred_at) VALUES (1, 999999, 'view', '2026-01-01');
-- a view needs a product; a card transaction does not
INSERT INTO recgen.events (customer_id, kind, occurred_at) VALUES (1, 'view', '2026-01-01');
INSERT INTO recgen.events (customer_id, kind, amount, occurred_at, attributes)
VALUES (1, 'transaction', 12.5, '2026-01-01', '{"merchant_category": "groceries"}');
SELECT kind, quantity, amount FROM recgen.events ORDER BY event_id;
-- attributes must be JSON objects, e-mails must look like e-mails
UPDATE recgen.customers SET attributes = '[1, 2]' WHERE customer_id = 1;
UPDATE recgen.customers SET email = 'not an address' WHERE customer_id = 1;
-- posts: empty bodies are rejected; a supplied sentiment is replaced by the computed score
INSERT INTO recgen.social_posts (customer_id, body, posted_at) VALUES (1, '', '2026-01-01');
INSERT INTO recgen.social_posts (customer_id, body, posted_at, sentiment) VALUES (1, 'ok', '2026-01-01', 2);
SELECT sentiment = recgen.sentiment(body) AS computed FROM recgen.social_posts WHERE body = 'ok';
-- consent timestamps follow the flags
SELECT consent_profiling_at IS NOT NULL AS profiling_stamped,
       consent_social_at IS NULL AS social_not_stamped
FROM recgen.customers WHERE customer_id = 1;
UPDATE recgen.customers SET consent_social = true WHERE customer_id = 1;
SELECT consent_social_at IS NOT NULL AS social_stamped FROM recgen.customers WHERE customer_id = 1;
-- deleting a customer deletes their events and posts
INSERT INTO recgen.social_posts (customer_id, body, posted_at) VALUES (1, 'love it', '2026-01-02');
DELETE FROM recgen.customers WHERE customer_id = 1;
SELECT (SELECT count(*) FROM recgen.events) AS events, (SELECT count(*) FROM recgen.social_posts) AS posts;
-- consent checks name the problem
\set VERBOSITY default
INSERT INTO recgen.customers (customer_id, consent_profiling, consent_marketing) VALUES (2, true, false);
SELECT recgen.check_consent(2, 'profiling');
SELECT recgen.check_consent(2, 'profiling', 'marketing');
SELECT recgen.check_consent(3, 'profiling');
SELECT recgen.check_consent(2, 'gossip');
