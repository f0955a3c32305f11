-- 800_campaigns: campaign objects, the segment compiler, variants and the
-- holdout, cron schedules, signatures and the outcome statistics.
BEGIN;
SELECT plan(71);

CREATE ROLE tap_c_analyst LOGIN IN ROLE recgen_analyst;
CREATE ROLE tap_c_admin LOGIN IN ROLE recgen_admin;

-- 60 customers: even ids in Finland, odd in the United Kingdom; every third
-- regular; ids divisible by 5 without marketing consent, by 7 without
-- profiling consent. Customer i bought product 1 + i % 2 for 10 * i, i * 10
-- days ago; customers 1-10 also a product of the garden category.
INSERT INTO recgen.products (product_id, sku, name, category, price) VALUES
    (1, 'MUG', 'Red Mug', 'kitchen', 5), (2, 'CHAIR', 'Blue Chair', 'garden', 30), (3, 'RAKE', 'Leaf Rake', 'garden', 12);
INSERT INTO recgen.customers (customer_id, first_name, segment, country, locale, consent_marketing, consent_profiling)
SELECT i, 'C' || i, CASE WHEN i % 3 = 0 THEN 'regular' ELSE 'occasional' END,
       CASE WHEN i % 2 = 0 THEN 'Finland' ELSE 'United Kingdom' END,
       CASE WHEN i % 2 = 0 THEN 'fi-FI' ELSE 'en-GB' END, i % 5 <> 0, i % 7 <> 0
  FROM generate_series(1, 60) i;
INSERT INTO recgen.events (customer_id, product_id, kind, quantity, amount, occurred_at, basket_id)
SELECT i, 1 + i % 2, 'purchase', 1, 10 * i, now() - i * interval '10 days', 'b' || i FROM generate_series(1, 60) i;
INSERT INTO recgen.events (customer_id, product_id, kind, quantity, amount, occurred_at, basket_id)
SELECT i, 3, 'purchase', 1, 12, now() - i * interval '10 days', 'b' || i FROM generate_series(1, 10) i;

-- objects ------------------------------------------------------------------
SELECT has_table('recgen', t, 'recgen.' || t || ' exists')
  FROM unnest(ARRAY['campaigns', 'campaign_runs', 'campaign_entries', 'webhook_endpoints', 'deliveries',
                    'delivery_attempts', 'frequency_caps', 'quiet_hours', 'time_zones', 'model_prices', 'erasures']) t;
SELECT col_is_pk('recgen', 'campaign_entries', ARRAY['customer_id', 'entry_id'], 'entries are keyed by customer_id first');
SELECT col_is_pk('recgen', 'deliveries', ARRAY['customer_id', 'delivery_id'], 'deliveries are keyed by customer_id first');
SELECT ok((SELECT bool_and(relrowsecurity AND relforcerowsecurity) FROM pg_class
            WHERE oid IN ('recgen.campaign_entries'::regclass, 'recgen.deliveries'::regclass, 'recgen.delivery_attempts'::regclass)),
          'entries, deliveries and attempts have forced row-level security');
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'recgen' AND obj_description(p.oid, 'pg_proc') IS NULL
              AND p.proname IN ('campaign_bucket', 'validate_variants', 'campaign_variant', 'segment_fields',
                                'segment_strings', 'segment_number', 'segment_products', 'validate_segment',
                                'segment_query', 'segment_members', 'cron_values', 'cron_next', 'campaigns_check',
                                'campaign_audience', 'customer_time_zone', 'quiet_until', 'lock_customer',
                                'contact_check', 'campaign_template_version', 'campaign_run_start', 'campaign_enter',
                                'inactive_customers', 'campaign_run_segment', 'run_campaign', 'campaign_trigger_enter',
                                'events_enter_campaigns', 'customers_enter_campaigns', 'hmac_sha256', 'webhook_secret',
                                'webhook_signature', 'webhook_endpoints_check', 'delivery_body', 'delivery_enqueue',
                                'delivery_create', 'delivery_request', 'delivery_result', 'redeliver',
                                'two_proportion_p', 'campaign_progress_notify',
                                'customer_tables', 'forget_customer', 'leased_job_payload_id', 'http_action',
                                'webhook_ping', 'run_due_schedules', 'next_schedule_at')), 0,
          'every campaign function has a comment');

-- the segment --------------------------------------------------------------
SELECT set_eq($$SELECT recgen.segment_members('{"country": ["Finland"], "segment": ["regular"]}')$$,
              $$SELECT customer_id FROM recgen.customers WHERE country = 'Finland' AND segment = 'regular' AND consent_profiling$$,
              'country and segment select what plain SQL selects (profiling consent only)');
SELECT set_eq($$SELECT recgen.segment_members('{"min_spend": 200, "max_spend": 400}')$$,
              $$SELECT i FROM generate_series(20, 40) i WHERE i % 7 <> 0 AND (i > 10 OR 10 * i + 12 BETWEEN 200 AND 400)$$,
              'spend bounds');
SELECT set_eq($$SELECT recgen.segment_members('{"min_recency_days": 95, "max_recency_days": 205}')$$,
              $$SELECT i FROM generate_series(10, 20) i WHERE i % 7 <> 0$$,
              'recency bounds: the last purchase 95 to 205 days ago');
SELECT set_eq($$SELECT recgen.segment_members('{"categories": ["garden"], "not_bought": ["CHAIR"]}')$$,
              $$SELECT i FROM generate_series(1, 10) i WHERE i % 2 = 0 AND i % 7 <> 0$$,
              'categories bought, and a product not bought (by SKU)');
SELECT set_eq($$SELECT recgen.segment_members('{"bought": [2], "min_orders": 1, "max_orders": 1}')$$,
              $$SELECT i FROM generate_series(1, 60) i WHERE i % 2 = 1 AND i % 7 <> 0$$,
              'a product bought (by id) and order counts');
SELECT is((SELECT count(*)::int FROM recgen.segment_members('{"limit": 5, "locale": ["en-GB", "fi-FI"]}')), 5,
          'limit takes a sample of that size');
SELECT set_eq($$SELECT recgen.segment_members('{"customers": [1, 2, 3, 7]}', ARRAY[2, 3, 4, 7]::bigint[])$$,
              ARRAY[2, 3]::bigint[], 'explicit customers among candidates, never one without profiling consent');
SELECT throws_ok($$SELECT recgen.segment_members('{"countri": ["Finland"]}')$$, '22023', 'unknown segment field "countri"',
                 'an unknown segment field is rejected');
SELECT throws_ok($$SELECT recgen.segment_members('{"min_spend": "lots"}')$$, '22023', NULL,
                 'a field of the wrong type is rejected');
SELECT throws_ok($$SELECT recgen.segment_members('{"bought": ["NO-SUCH-SKU"]}')$$, '22023', NULL,
                 'an unknown product is rejected, not ignored');
SELECT is((SELECT count(*)::int FROM recgen.segment_members(
              '{"country": ["x'') OR true; DELETE FROM recgen.customers; --"], "segment": ["'' OR ''1''=''1"]}')), 0,
          'SQL in a segment value is a value: it matches nothing');
SELECT is((SELECT count(*)::int FROM recgen.customers), 60, 'and it ran nothing');
SELECT ok(strpos(recgen.segment_query('{"country": ["Finland''; DROP TABLE x; --"], "min_spend": 5}'), 'Finland') = 0
          AND strpos(recgen.segment_query('{"country": ["Finland''; DROP TABLE x; --"], "min_spend": 5}'), '$3') > 0,
          'the compiled query carries no value of the segment, only parameters');
SELECT throws_ok($$INSERT INTO recgen.campaigns (name, goal, segment) VALUES ('bad', 'newsletter', '{"sql": "1=1"}')$$,
                 '22023', NULL, 'a campaign with a bad segment cannot be written');

-- variants and holdout -----------------------------------------------------
SELECT throws_ok($$SELECT recgen.validate_variants('[{"name": "a", "split": 60}, {"name": "b", "split": 30}]')$$,
                 '22023', 'the splits of the variants add up to 90, not 100', 'splits must add up to 100');
SELECT throws_ok($$SELECT recgen.validate_variants('[{"name": "a", "split": 100, "subject": "x"}]')$$,
                 '22023', 'unknown variant field "subject"', 'an unknown variant field is rejected');
SELECT throws_ok($$SELECT recgen.validate_variants('[{"name": "a", "split": 50}, {"name": "a", "split": 50}]')$$,
                 '22023', NULL, 'variant names are unique');
SELECT throws_ok($$SELECT recgen.validate_variants('[{"name": "a", "split": 100, "tone": "shouty"}]')$$,
                 '22023', NULL, 'a variant''s tone must exist');
INSERT INTO recgen.campaigns (name, goal, variants, holdout_pct)
VALUES ('spring', 'newsletter', '[{"name": "a", "split": 70}, {"name": "b", "split": 30, "tone": "professional"}]', 20);
CREATE TEMP TABLE assign AS
SELECT i AS customer_id, recgen.campaign_variant('spring', c.variants, 20, i) AS variant,
       (('x' || left(md5('holdout:spring:' || i), 8))::bit(32)::bigint % 10000) < 2000 AS expect_holdout,
       (('x' || left(md5('variant:spring:' || i), 8))::bit(32)::bigint % 10000) < 7000 AS expect_a
  FROM generate_series(1, 4000) i, recgen.campaigns c WHERE c.name = 'spring';
SELECT is((SELECT count(*)::int FROM assign
            WHERE (variant IS NULL) <> expect_holdout
               OR (NOT expect_holdout AND variant <> CASE WHEN expect_a THEN 'a' ELSE 'b' END)), 0,
          'assignment follows the documented md5 buckets exactly');
SELECT ok((SELECT count(*) FILTER (WHERE variant IS NULL)::numeric / count(*) BETWEEN 0.18 AND 0.22 FROM assign),
          'about 20% of 4000 customers are held out');
SELECT ok((SELECT count(*) FILTER (WHERE variant = 'a')::numeric / count(*) FILTER (WHERE variant IS NOT NULL)
             BETWEEN 0.67 AND 0.73 FROM assign), 'about 70% of the others get variant a');
SELECT is((SELECT count(*)::int FROM recgen.campaign_audience('spring') a
             JOIN assign s USING (customer_id) WHERE a.variant IS DISTINCT FROM s.variant), 0,
          'campaign_audience shows the same assignment');

-- cron ----------------------------------------------------------------------
SELECT is(recgen.cron_next('*/15 * * * *', '2026-01-01 10:07:30+00'), '2026-01-01 10:15+00'::timestamptz, 'every 15 minutes');
SELECT is(recgen.cron_next('0 9 * * mon', '2026-01-01 10:07+00'), '2026-01-05 09:00+00'::timestamptz, 'Mondays at 09:00 (names)');
SELECT is(recgen.cron_next('30 6 1,15 * *', '2026-01-15 06:30+00'), '2026-02-01 06:30+00'::timestamptz, 'a list of days, strictly after');
SELECT is(recgen.cron_next('0 0 13 * 5', '2026-03-01+00'), '2026-03-06 00:00+00'::timestamptz,
          'both day fields restricted: either matches');
SELECT is(recgen.cron_next('@daily', '2026-12-31 23:59+00'), '2027-01-01 00:00+00'::timestamptz, '@daily');
SELECT throws_ok($$SELECT recgen.cron_next('61 * * * *', now())$$, '22023', NULL, 'a minute out of range is rejected');
SELECT throws_ok($$INSERT INTO recgen.campaigns (name, goal, trigger, schedule) VALUES ('c', 'newsletter', 'schedule', 'every day')$$,
                 '22023', NULL, 'a campaign with a bad schedule cannot be written');

-- schedules (customer 5 has no marketing consent: entries are held, nothing is queued)
INSERT INTO recgen.campaigns (name, goal, trigger, schedule, segment, created_at)
VALUES ('daily', 'newsletter', 'schedule', '0 10 * * *', '{"customers": [5]}', '2026-01-01 09:30+00');
SELECT is(recgen.run_due_schedules('manual', '2026-01-01 09:59+00'), 0, 'nothing is due before the first tick');
SELECT is(recgen.run_due_schedules('manual', '2026-01-01 10:00:30+00'), 1, 'the 10:00 tick runs');
SELECT is(recgen.run_due_schedules('manual', '2026-01-01 10:05+00'), 0, 'and runs once');
SELECT is(recgen.run_due_schedules('manual', '2026-01-03 11:00+00'), 1, 'two missed ticks are caught up by one run');
SELECT is((SELECT string_agg(run_key || '/' || source, ' ' ORDER BY run_id) FROM recgen.campaign_runs r
             JOIN recgen.campaigns c USING (campaign_id) WHERE c.name = 'daily'),
          'schedule:2026-01-01T10:00Z/schedule schedule:2026-01-03T10:00Z/schedule', 'runs keyed by their tick');
SELECT is((SELECT string_agg(e.reason, ',') FROM recgen.campaign_entries e JOIN recgen.campaigns c USING (campaign_id)
            WHERE c.name = 'daily'), 'no_consent,no_consent', 'each run records the customer it holds back');

-- progress notifications: at most one a second per run, unless forced
SELECT ok(recgen.campaign_progress_notify((SELECT min(run_id) FROM recgen.campaign_runs), true)
          AND NOT recgen.campaign_progress_notify((SELECT min(run_id) FROM recgen.campaign_runs), false)
          AND recgen.campaign_progress_notify((SELECT min(run_id) FROM recgen.campaign_runs), true),
          'a second notification within the second is held back; a forced one is sent');
SELECT is((SELECT row(entries, held, no_consent, finished)::text FROM recgen.campaign_progress
            WHERE run = (SELECT min(run_id) FROM recgen.campaign_runs)), '(1,1,1,t)', 'the run''s progress row');

-- contact policy ------------------------------------------------------------
SELECT is((SELECT reason FROM recgen.contact_check(5, (SELECT campaign_id FROM recgen.campaigns WHERE name = 'spring'))),
          'no_consent', 'no marketing consent: no_consent');
SELECT is(recgen.customer_time_zone('Finland', 'fi-FI'), 'Europe/Helsinki', 'time zone by country');
SELECT is(recgen.customer_time_zone('Atlantis', 'de-AT'), 'Europe/Vienna', 'else by the locale''s region');
SELECT is(recgen.customer_time_zone('Finland', 'fi-FI', '{"time_zone": "Asia/Tokyo"}'), 'Asia/Tokyo',
          'a valid time zone in the attributes wins');
SELECT is(recgen.quiet_until('email', 'Europe/Helsinki', '2026-01-01 19:30+00'), '2026-01-02 06:00+00'::timestamptz,
          '21:30 in Helsinki is quiet until 08:00 local');
SELECT is(recgen.quiet_until('email', 'Europe/London', '2026-01-01 19:30+00'), NULL, '19:30 in London is not quiet');

-- signatures ----------------------------------------------------------------
SELECT is(recgen.webhook_signature('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek',
                                   1614265330, '{"test": 2432232314}'),
          'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=', 'the Standard Webhooks reference signature');
SELECT is(encode(recgen.hmac_sha256('key', 'The quick brown fox jumps over the lazy dog'), 'hex'),
          'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8', 'HMAC-SHA256 of the RFC example');
SELECT ok(recgen.webhook_secret() ~ '^whsec_[A-Za-z0-9+/]{43}=$' AND recgen.webhook_secret() <> recgen.webhook_secret(),
          'generated secrets are whsec_ and 32 random bytes, different every time');
INSERT INTO recgen.webhook_endpoints (name, url) VALUES ('crm', 'https://crm.example.com/hooks/recgen');
SELECT throws_ok($$INSERT INTO recgen.webhook_endpoints (name, url) VALUES ('x', 'gopher://crm.example.com/')$$,
                 '23514', NULL, 'only http and https URLs');
-- the http action (what the workers send), through webhook_ping: port 9 is closed
INSERT INTO recgen.webhook_endpoints (name, url, timeout) VALUES ('closed', 'http://127.0.0.1:9/hooks', '2 seconds');
SELECT is((recgen.webhook_ping('closed') - 'webhook_id' - 'duration_ms')::text,
          '{"error": "could not connect to the server", "status": null}', 'a ping to a closed port: no status, the reason');
SELECT throws_ok($$SELECT recgen.http_action('[{"url": "file:///etc/passwd", "body": "{}"}]')$$, '22023', NULL,
                 'the http action sends only to http and https URLs');
SELECT throws_ok($$SELECT recgen.http_action('[{"url": "http://127.0.0.1:9/", "body": "{}", "headers": {"x-a": "b\r\nEvil: 1"}}]')$$,
                 '22023', NULL, 'a header value with a line break is refused');
SELECT ok(NOT has_function_privilege('recgen_admin', 'recgen.http_action(jsonb)', 'EXECUTE')
          AND NOT has_function_privilege('recgen_worker', 'recgen.http_action(jsonb)', 'EXECUTE')
          AND NOT has_function_privilege('recgen_analyst', 'recgen.webhook_ping(text)', 'EXECUTE'),
          'only the owner posts to a URL it is given; only admins ping');
SET ROLE tap_c_analyst;
SELECT throws_ok($$SELECT secret FROM recgen.webhook_endpoints$$, '42501', NULL, 'analysts cannot read a secret');
SELECT throws_ok($$SELECT url FROM recgen.webhook_endpoints$$, '42501', NULL, 'analysts cannot read where data goes');
SELECT throws_ok($$UPDATE recgen.webhook_endpoints SET active = true$$, '42501', NULL, 'analysts cannot change an endpoint');
RESET ROLE;

-- statistics ----------------------------------------------------------------
SELECT ok(abs(recgen.two_proportion_p(30, 100, 20, 100) - 0.10247) < 1e-4, 'two-proportion test p-value (z = 1.633)');
SELECT is(recgen.two_proportion_p(0, 10, 0, 20), NULL, 'no conversions anywhere: undefined');

SELECT * FROM finish();
ROLLBACK;
