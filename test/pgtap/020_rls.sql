-- 020_rls: consent under row-level security, per table and per role.
--   customer 1: consents to everything
--   customer 2: no profiling consent (invisible to analysts and workers)
--   customer 3: profiling but no social consent (posts invisible)
BEGIN;
SELECT plan(37);

CREATE ROLE tap_analyst LOGIN IN ROLE recgen_analyst;
CREATE ROLE tap_worker LOGIN IN ROLE recgen_worker;
CREATE ROLE tap_admin LOGIN IN ROLE recgen_admin;

INSERT INTO recgen.customers (customer_id, first_name, consent_marketing, consent_profiling, consent_social)
VALUES (1, 'Ann', true, true, true), (2, 'Bob', true, false, true), (3, 'Cat', true, true, false);
INSERT INTO recgen.products (product_id, sku, name, price) VALUES (1, 'P1', 'Lamp', 10);
INSERT INTO recgen.events (customer_id, product_id, kind, occurred_at)
SELECT c, 1, 'purchase', '2026-01-01' FROM generate_series(1, 3) c;
INSERT INTO recgen.events (customer_id, kind, amount, occurred_at)
SELECT c, 'transaction', 9.99, '2026-01-02' FROM generate_series(1, 3) c;
INSERT INTO recgen.social_posts (customer_id, body, posted_at)
SELECT c, 'post by ' || c, '2026-01-03' FROM generate_series(1, 3) c;
INSERT INTO recgen.anonymous_events (product_id, kind, occurred_at, basket_id)
VALUES (1, 'purchase', '2026-01-01', 'guest-1');

-- the same checks for analysts and workers
CREATE FUNCTION pg_temp.visible(tbl text) RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE r bigint[];
BEGIN
    EXECUTE format('SELECT coalesce(array_agg(DISTINCT customer_id ORDER BY customer_id), ''{}'') FROM recgen.%I', tbl) INTO r;
    RETURN r;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.visible(text) TO PUBLIC;

SET ROLE tap_analyst;
SELECT is(pg_temp.visible('customers'), '{1,3}'::bigint[], 'analyst: customers without profiling consent are invisible');
SELECT is(pg_temp.visible('events'), '{1,3}'::bigint[], 'analyst: their events are invisible');
SELECT is(pg_temp.visible('social_posts'), '{1}'::bigint[], 'analyst: posts need social consent too');
SELECT is((SELECT count(*)::int FROM recgen.products), 1, 'analyst: the catalog is visible');
SELECT is((SELECT count(*)::int FROM recgen.anonymous_events), 1, 'analyst: anonymous baskets are visible');
SELECT is((SELECT count(*)::int FROM recgen.events WHERE customer_id = 2), 0, 'analyst: filtering on the hidden id finds nothing');
SELECT ok(NOT recgen.profiling_allowed(2), 'analyst: profiling_allowed(2) is false');
RESET ROLE;

SET ROLE tap_worker;
SELECT is(pg_temp.visible('customers'), '{1,3}'::bigint[], 'worker: customers without profiling consent are invisible');
SELECT is(pg_temp.visible('events'), '{1,3}'::bigint[], 'worker: their events are invisible');
SELECT is(pg_temp.visible('social_posts'), '{1}'::bigint[], 'worker: posts need social consent too');
RESET ROLE;

SET ROLE tap_admin;
SELECT is(pg_temp.visible('customers'), '{1,2,3}'::bigint[], 'admin: sees every customer');
SELECT is(pg_temp.visible('events'), '{1,2,3}'::bigint[], 'admin: sees every event');
SELECT is(pg_temp.visible('social_posts'), '{1,2,3}'::bigint[], 'admin: sees every post');
-- withdrawal takes effect at once, for every table
UPDATE recgen.customers SET consent_profiling = false WHERE customer_id = 1;
RESET ROLE;

SET ROLE tap_analyst;
SELECT is(pg_temp.visible('customers'), '{3}'::bigint[], 'withdrawn profiling consent: the customer disappears at once');
SELECT is(pg_temp.visible('events'), '{3}'::bigint[], 'withdrawn profiling consent: their events disappear at once');
SELECT is(pg_temp.visible('social_posts'), '{}'::bigint[], 'withdrawn profiling consent: their posts disappear at once');
RESET ROLE;

UPDATE recgen.customers SET consent_profiling = true WHERE customer_id = 1;
UPDATE recgen.customers SET consent_social = false WHERE customer_id = 1;
SET ROLE tap_analyst;
SELECT is(pg_temp.visible('social_posts'), '{}'::bigint[], 'withdrawn social consent: posts disappear at once');
SELECT is(pg_temp.visible('customers'), '{1,3}'::bigint[], 'withdrawn social consent: the customer stays visible');

-- analysts cannot change the data, the rules or their own rights
SELECT throws_ok('UPDATE recgen.customers SET consent_profiling = true WHERE customer_id = 2', '42501', NULL,
                 'analyst cannot grant consent');
SELECT throws_ok('DELETE FROM recgen.events', '42501', NULL, 'analyst cannot delete events');
SELECT throws_ok('INSERT INTO recgen.social_posts (customer_id, body, posted_at) VALUES (2, ''x'', now())', '42501', NULL,
                 'analyst cannot insert posts');
SELECT throws_ok('ALTER TABLE recgen.customers DISABLE ROW LEVEL SECURITY', '42501', NULL,
                 'analyst cannot disable row-level security');
SELECT throws_ok('ALTER TABLE recgen.events NO FORCE ROW LEVEL SECURITY', '42501', NULL,
                 'analyst cannot un-force row-level security');
SELECT throws_ok('DROP POLICY consented_profiling ON recgen.customers', '42501', NULL,
                 'analyst cannot drop a policy');
SELECT throws_ok('CREATE POLICY see_all ON recgen.customers TO recgen_analyst USING (true)', '42501', NULL,
                 'analyst cannot create a policy');
SELECT throws_ok('GRANT recgen_admin TO tap_analyst', '42501', NULL, 'analyst cannot join recgen_admin');
SELECT throws_ok('ALTER ROLE tap_analyst BYPASSRLS', '42501', NULL, 'analyst cannot give itself BYPASSRLS');
SET LOCAL client_min_messages = error;  -- the GRANT only warns
SELECT lives_ok('GRANT UPDATE ON recgen.customers TO tap_analyst', 'GRANT without grant option is a no-op warning');
RESET client_min_messages;
SELECT ok(NOT has_table_privilege('tap_analyst', 'recgen.customers', 'UPDATE'),
          'analyst did not gain UPDATE on customers');
SELECT throws_ok('TRUNCATE recgen.events', '42501', NULL, 'analyst cannot truncate');
RESET ROLE;

-- a non-superuser owner is bound too (FORCE), and admins keep their writes within policy
SELECT ok((SELECT bool_and(relforcerowsecurity) FROM pg_class
           WHERE oid IN ('recgen.customers'::regclass, 'recgen.events'::regclass, 'recgen.social_posts'::regclass,
                         'recgen.content'::regclass, 'recgen.llm_calls'::regclass)),
          'row-level security is forced on the per-customer tables');
-- an owner that is not a superuser (and holds no recgen role, so no policy
-- grants it rows): FORCE leaves it nothing; without FORCE it would see all
CREATE ROLE tap_owner;
GRANT USAGE ON SCHEMA recgen TO tap_owner;
ALTER TABLE recgen.customers OWNER TO tap_owner;
ALTER TABLE recgen.events OWNER TO tap_owner;
INSERT INTO recgen.llm_calls (customer_id, purpose, model, outcome, attempts, latency_ms) VALUES (1, 'email', 'm', 'ok', 1, 1);
ALTER TABLE recgen.llm_calls OWNER TO tap_owner;
SET ROLE tap_owner;
SELECT is((SELECT count(*)::int FROM recgen.customers), 0, 'a non-superuser owner of customers sees no customer (FORCE)');
SELECT is((SELECT count(*)::int FROM recgen.events), 0, 'nor, owning events, any event');
SELECT is((SELECT count(*)::int FROM recgen.llm_calls), 0, 'nor, owning llm_calls, any call');
ALTER TABLE recgen.customers NO FORCE ROW LEVEL SECURITY;
SELECT is((SELECT count(*)::int FROM recgen.customers), 3, 'the same owner without FORCE sees every customer (what FORCE prevents)');
RESET ROLE;
SET ROLE tap_admin;
SELECT lives_ok('UPDATE recgen.customers SET consent_profiling = true WHERE customer_id = 2',
                'admin can record a consent');
RESET ROLE;
SET ROLE tap_analyst;
SELECT is(pg_temp.visible('customers'), '{1,2,3}'::bigint[], 'a newly given consent shows at once');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
