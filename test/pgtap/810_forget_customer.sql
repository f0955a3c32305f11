-- 810_forget_customer: the right to erasure leaves nothing of the customer
-- in any recgen table, touches no one else, and records the erasure
-- without personal data.
BEGIN;
SELECT plan(11);

INSERT INTO recgen.products (product_id, sku, name, price) VALUES (1, 'LAMP', 'Brass Lamp', 40);
INSERT INTO recgen.customers (customer_id, first_name, last_name, email, phone, country,
                              consent_marketing, consent_profiling, consent_social) VALUES
    (987654321, 'Zebedee', 'Quuxworth', 'zebedee.quuxworth@example.com', '+44 7700 900777', 'United Kingdom', true, true, true),
    (2, 'Other', 'Person', 'other@example.com', NULL, 'France', true, true, true);
INSERT INTO recgen.events (customer_id, product_id, kind, occurred_at, basket_id)
SELECT c, 1, 'purchase', now() - interval '40 days', 'inv-' || c FROM unnest(ARRAY[987654321, 2]) c;
INSERT INTO recgen.social_posts (customer_id, body, posted_at)
SELECT c.customer_id, 'My brass lamp is terrible, ' || c.first_name || ' here', now() - interval '3 days' FROM recgen.customers c;
INSERT INTO recgen.customer_concerns (customer_id, topic, polarity, strength, last_seen, example_post_id)
SELECT c, 'product:Brass Lamp', -1, 0.5, now(), 1 FROM unnest(ARRAY[987654321, 2]) c
ON CONFLICT DO NOTHING;
INSERT INTO recgen.content (customer_id, kind, brand, campaign, model, context, output, product_ids, verdict)
SELECT c.customer_id, 'email', 'default', 'spring', 'm', jsonb_build_object('customer', jsonb_build_object('first_name', c.first_name)),
       jsonb_build_object('subject', c.first_name || ', a lamp', 'body', 'Hi ' || c.first_name), '{1}', 'pass'
  FROM recgen.customers c;
INSERT INTO recgen.llm_calls (customer_id, purpose, model, outcome, attempts, latency_ms)
SELECT c, 'email', 'm', 'ok', 1, 5 FROM unnest(ARRAY[987654321, 2]) c;
INSERT INTO recgen.campaigns (campaign_id, name, goal, segment) VALUES (1, 'spring', 'newsletter', '{"customers": [987654321, 2]}');
INSERT INTO recgen.campaign_runs (run_id, campaign_id, run_key, source, model, settings) VALUES (1, 1, 'r', 'manual', 'm', '{}');
INSERT INTO recgen.campaign_entries (customer_id, campaign_id, run_id, entry_key, channel, variant, state, content_id, sent_at)
SELECT ct.customer_id, 1, 1, 'run:r', 'email', 'a', 'generated', ct.content_id, now() FROM recgen.content ct;
INSERT INTO recgen.webhook_endpoints (name, url) VALUES ('crm', 'https://crm.example.com/h');
INSERT INTO recgen.deliveries (customer_id, content_id, endpoint, body, state, attempts)
SELECT ct.customer_id, ct.content_id, 'crm', recgen.delivery_body(ct.customer_id, ct.content_id), 'retrying', 1
  FROM recgen.content ct;
INSERT INTO recgen.delivery_attempts (customer_id, delivery_id, attempt, http_status)
SELECT d.customer_id, d.delivery_id, 1, 503 FROM recgen.deliveries d;
-- a table of a later subsystem, unknown to forget_customer's author
CREATE TABLE recgen.tap_later_media (customer_id bigint, path text);
INSERT INTO recgen.tap_later_media VALUES (987654321, '/media/zebedee.mp4'), (2, '/media/other.mp4');

CREATE FUNCTION pg_temp.rows_of(cid bigint) RETURNS TABLE (tbl text, n bigint)
LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
    FOR r IN SELECT c.oid::regclass AS t FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
              WHERE ns.nspname = 'recgen' AND c.relkind = 'r' LOOP
        tbl := r.t::text;
        -- the id as a word, or the marker name, anywhere in the row's text
        EXECUTE format('SELECT count(*) FROM %s x WHERE x::text ~ $1', r.t)
           INTO n USING '(\m' || cid || '\M)|Zebedee|Quuxworth';
        RETURN NEXT;
    END LOOP;
END $$;
SELECT ok((SELECT count(*) FROM pg_temp.rows_of(987654321) WHERE n > 0) >= 10,
          'before: the customer is in at least 10 recgen tables');

SELECT lives_ok($$SELECT recgen.forget_customer(987654321)$$, 'forget_customer runs');
SELECT is((SELECT string_agg(tbl, ', ') FROM pg_temp.rows_of(987654321) WHERE n > 0), NULL,
          'after: no row of any recgen table names the customer (id, name) any more');
SELECT is((SELECT count(*)::int FROM recgen.tap_later_media WHERE customer_id = 987654321), 0,
          'a table added later is covered without being listed');
SELECT is((SELECT count(*)::int FROM recgen.customers WHERE customer_id = 2)
          + (SELECT count(*)::int FROM recgen.events WHERE customer_id = 2)
          + (SELECT count(*)::int FROM recgen.content WHERE customer_id = 2)
          + (SELECT count(*)::int FROM recgen.deliveries WHERE customer_id = 2)
          + (SELECT count(*)::int FROM recgen.tap_later_media WHERE customer_id = 2), 5,
          'the other customer keeps every row');
SELECT is((SELECT segment FROM recgen.campaigns WHERE campaign_id = 1), '{"customers": [2]}'::jsonb,
          'a campaign segment naming the customer keeps only the others');
SELECT is((SELECT count(*)::int FROM recgen.erasures), 1, 'the erasure is recorded');
SELECT ok((SELECT (rows_deleted ->> 'recgen.customers')::int = 1 AND (rows_deleted ->> 'recgen.events')::int = 1
                  AND (rows_deleted ->> 'recgen.deliveries')::int = 1 AND erased_by = session_user
             FROM recgen.erasures), 'with the counts per table and who ran it');
SELECT ok((SELECT e::text !~ '987654321|Zebedee' FROM recgen.erasures e), 'and nothing about the customer');
SELECT is(recgen.forget_customer(987654321) ->> 'recgen.customers', '0', 'forgetting again deletes nothing');
SELECT ok(NOT has_function_privilege('recgen_analyst', 'recgen.forget_customer(bigint)', 'EXECUTE'),
          'analysts cannot erase customers');

SELECT * FROM finish();
ROLLBACK;
