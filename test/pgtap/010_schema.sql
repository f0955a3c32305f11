-- 010_schema: the data model's tables, keys, indexes, comments and roles.
BEGIN;
SELECT plan(36);

SELECT has_schema('recgen');
SELECT has_table('recgen', t, 'table recgen.' || t || ' exists')
FROM unnest(ARRAY['customers', 'products', 'events', 'anonymous_events', 'social_posts']) AS t;

SELECT col_is_pk('recgen', 'customers', 'customer_id', 'customers are keyed by customer_id');
SELECT col_is_pk('recgen', 'events', ARRAY['customer_id', 'event_id'], 'events are keyed by customer first (distributable)');
SELECT col_is_pk('recgen', 'social_posts', ARRAY['customer_id', 'post_id'], 'posts are keyed by customer first (distributable)');
SELECT col_is_unique('recgen', 'products', 'sku', 'SKUs are unique');
SELECT fk_ok('recgen', 'events', 'customer_id', 'recgen', 'customers', 'customer_id');
SELECT fk_ok('recgen', 'events', 'product_id', 'recgen', 'products', 'product_id');
SELECT fk_ok('recgen', 'social_posts', 'customer_id', 'recgen', 'customers', 'customer_id');
SELECT fk_ok('recgen', 'anonymous_events', 'product_id', 'recgen', 'products', 'product_id');

SELECT has_column('recgen', 'customers', c, 'customers.' || c)
FROM unnest(ARRAY['consent_marketing', 'consent_profiling', 'consent_social',
                  'consent_marketing_at', 'consent_profiling_at', 'consent_social_at']) AS c;
SELECT col_not_null('recgen', 'customers', 'consent_profiling', 'consent flags are never NULL');
SELECT col_default_is('recgen', 'customers', 'consent_profiling', 'false', 'consent is opt-in: false by default');

SELECT enum_has_labels('recgen', 'event_kind',
    ARRAY['view', 'click', 'cart_add', 'cart_remove', 'purchase', 'return', 'transaction']);

SELECT has_index('recgen', 'events', 'events_customer_recent_idx', ARRAY['customer_id', 'occurred_at'],
                 'per-customer recent events are indexed');
SELECT has_index('recgen', 'events', 'events_product_idx', ARRAY['product_id', 'occurred_at'],
                 'per-product event lookups are indexed');
SELECT has_index('recgen', 'social_posts', 'social_posts_recent_idx', ARRAY['customer_id', 'posted_at'],
                 'per-customer recent posts are indexed');
SELECT has_index('recgen', 'anonymous_events', 'anonymous_events_basket_idx', ARRAY['basket_id'],
                 'anonymous baskets are indexed');

SELECT trigger_is('recgen', 'customers', 'customers_touch', 'recgen', 'customers_touch', 'consent timestamps are kept by a trigger');

SELECT has_role(r) FROM unnest(ARRAY['recgen_admin', 'recgen_analyst', 'recgen_worker']) AS r;
SELECT is((SELECT count(*)::int FROM pg_roles
           WHERE rolname IN ('recgen_admin', 'recgen_analyst', 'recgen_worker') AND rolcanlogin), 0,
          'the recgen roles are NOLOGIN groups');

-- documentation: every table, column group and function carries a comment
SELECT is((SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'recgen' AND c.relkind IN ('r', 'v', 'm', 'p')
             AND obj_description(c.oid, 'pg_class') IS NULL), 0,
          'every recgen table and view has a COMMENT');
SELECT is((SELECT string_agg(p.oid::regprocedure::text, ', ')
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'recgen' AND obj_description(p.oid, 'pg_proc') IS NULL), NULL,
          'every recgen function has a COMMENT');
SELECT is((SELECT count(*)::int FROM pg_policy pol
           WHERE pol.polrelid::regclass::text LIKE 'recgen.%'
             AND obj_description(pol.oid, 'pg_policy') IS NULL), 0,
          'every policy has a COMMENT');
SELECT is((SELECT string_agg(p.oid::regprocedure::text, ', ')
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'recgen' AND p.prosecdef
             AND NOT coalesce(p.proconfig, '{}') @> ARRAY['search_path=pg_catalog, pg_temp']), NULL,
          'every SECURITY DEFINER function pins search_path');

SELECT * FROM finish();
ROLLBACK;
