-- Content generation: objects, shipped defaults, security properties.
BEGIN;
SELECT plan(29);

SELECT has_table('recgen', 'content', 'recgen.content exists');
SELECT has_table('recgen', 'llm_calls', 'recgen.llm_calls exists');
SELECT col_is_pk('recgen', 'content', ARRAY['customer_id', 'content_id'], 'content is keyed by customer_id first');
SELECT ok((SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = 'recgen.content'::regclass),
          'content has forced row-level security');
SELECT set_eq($$SELECT tone FROM recgen.tones$$,
              ARRAY['formal', 'friendly', 'professional', 'promotional', 'informative', 'subtle_upsell'],
              'the six tones ship');
SELECT set_eq($$SELECT DISTINCT kind FROM recgen.prompt_templates WHERE active$$,
              $$SELECT kind FROM recgen.content_kinds$$,
              'an active template for every kind');
-- the 0.1.0 email catch-all "*" (a seed row, kept as it was) shadows no shipped
-- tone: each has its own 0.2.0 template, the one generation picks
SELECT is((SELECT count(*)::int FROM recgen.tones tn
            WHERE (SELECT t.composition FROM recgen.prompt_templates t
                    WHERE t.kind = 'email' AND t.active AND t.tone IN (tn.tone, '*')
                    ORDER BY t.tone = tn.tone DESC LIMIT 1) IS DISTINCT FROM 'frame'),
          0, 'every shipped tone writes emails with its own 0.2.0 template, not the 0.1.0 catch-all');
SELECT ok((SELECT disclaimer IS NOT NULL FROM recgen.brands WHERE brand = 'bank'), 'the bank brand requires a disclaimer');
SELECT is((SELECT max_chars FROM recgen.channels WHERE channel = 'sms'), 160, 'sms takes 160 characters');
SELECT is((SELECT max_chars FROM recgen.channels WHERE channel = 'social'), 280, 'social takes 280 characters');
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'recgen'
              AND p.proname IN ('email', 'describe', 'summary', 'snippet', 'explain', 'email_batch', 'context',
                                'guard', 'llm_chat', 'generate', 'fill_template', 'render_fallback', 'postprocess',
                                'misattributed_price', 'flush_llm_calls', 'generation_prepare',
                                'generation_prepare_job', 'generation_requests', 'generation_absorb',
                                'generation_fallback', 'generation_store', 'generation_errors', 'generate_one')
              AND obj_description(p.oid, 'pg_proc') IS NULL), 0, 'every content function has a comment');
SELECT is((SELECT provolatile::text FROM pg_proc WHERE oid = 'recgen.email(bigint,text,text)'::regprocedure), 'v',
          'email() is volatile');
SELECT ok(NOT has_function_privilege('public', 'recgen.llm_chat(jsonb,boolean)', 'EXECUTE'),
          'PUBLIC cannot call the LLM client');
SELECT ok(has_function_privilege('recgen_analyst', 'recgen.email(bigint,text,text)', 'EXECUTE'),
          'analysts can generate emails');
SELECT is((SELECT count(*)::int FROM pg_proc p, unnest(ARRAY['public', 'recgen_admin', 'recgen_analyst', 'recgen_worker']) r
            WHERE p.pronamespace = 'recgen'::regnamespace
              AND (p.proname LIKE 'generation\_%' OR p.proname IN ('generate', 'generate_one'))
              AND has_function_privilege(r, p.oid, 'EXECUTE')), 0,
          'no role but the extension owner may run the generation pipeline (it trusts its state)');
SELECT is((SELECT count(*)::int FROM pg_proc p
            WHERE p.oid IN ('recgen.email(bigint,text,text)'::regprocedure, 'recgen.describe(bigint,text,bigint)'::regprocedure,
                            'recgen.summary(bigint)'::regprocedure, 'recgen.snippet(bigint,text)'::regprocedure,
                            'recgen.explain(bigint,bigint)'::regprocedure, 'recgen.email_batch(bigint[],text,text)'::regprocedure)
              AND p.prosecdef AND 'search_path=pg_catalog, pg_temp' = ANY (p.proconfig)), 6,
          'the content functions run the pipeline as its owner, with a pinned search_path');
SELECT set_eq($$SELECT kind FROM recgen.content_kinds$$, ARRAY['email', 'describe', 'summary', 'snippet', 'explain',
                                                                'video_script'],
              'the kinds of content are rows of content_kinds');
SELECT throws_ok($$INSERT INTO recgen.prompt_templates (kind, system_prompt, user_template) VALUES ('poem', 's', 'u')$$,
                 '23503', NULL, 'a template needs a kind of content_kinds');
SELECT ok((SELECT indisunique FROM pg_index WHERE indexrelid = 'recgen.content_job_idx'::regclass),
          'content is unique per background job');
SELECT is((SELECT count(*)::int FROM pg_settings WHERE name IN ('recgen.llm_max_tokens', 'recgen.llm_temperature',
            'recgen.llm_json_schema', 'recgen.llm_backoff_base', 'recgen.llm_backoff_max', 'recgen.guard_retries',
            'recgen.brand')), 7, 'the generation settings are defined');
SELECT is(recgen.fill_template('{{a}}-{{b.c}}', '{"a": "x", "b": {"c": 2}}'), 'x-2', 'templates are filled from JSON');
SELECT ok((recgen.guard('snippet', '{"text": "Only £5 today"}', '{"items": []}') -> 'violations') @> '[{"rule": "price"}]',
          'the guard rejects a price the context does not have');

-- the guard's catalog name index (run under valgrind by the memcheck section)
INSERT INTO recgen.products (product_id, sku, name, category, price) VALUES
 (9101, 'GN-1', 'Enamel Teapot', 'kitchen', 20), (9102, 'GN-2', 'enamel teapot', 'kitchen', 21),
 (9103, 'GN-3', 'Teapot Stand', 'kitchen', 5), (9104, 'GN-4', 'Mug', 'kitchen', 3);
SELECT is(recgen.catalog_names_in(lower('Our ENAMEL TEAPOT on its teapot stand, with a mug')),
          '{"Enamel Teapot","Teapot Stand"}'::text[],
          'catalog_names_in finds names case-insensitively, once each, in text order, and skips names under 6 characters');
SELECT is(recgen.catalog_names_in('enamel teapo'), '{}'::text[], 'a name cut short is not found');
SELECT ok((recgen.guard('snippet', '{"text": "Try the Teapot Stand"}', '{"items": [{"product_id": 9101, "name": "Enamel Teapot"}]}')
           -> 'violations') @> '[{"rule": "product", "detail": "\"Teapot Stand\" is not a product of the context"}]',
          'the guard names a catalog product that is not in the context');

-- products without a price (loans, accounts) show their rate, or no price at all
INSERT INTO recgen.products (product_id, sku, name, category, price, attributes) VALUES
 (9201, 'PZ-1', 'Personal Loan', 'loans', 0, '{"rate_pct": 6.9}'), (9202, 'PZ-2', 'Cash-Back Card', 'cards', 0, '{}');
SELECT is((SELECT recgen.product_json(p) ->> 'price_text' FROM recgen.products p WHERE product_id = 9201), '6.9% rate',
          'a product priced 0 with a rate shows the rate as its price text');
SELECT ok((SELECT NOT recgen.product_json(p) ? 'price_text' FROM recgen.products p WHERE product_id = 9202),
          'a product priced 0 without a rate has no price text');
SELECT is((SELECT string_agg(recgen.item_line(recgen.product_json(p, 'popular')), ' | ' ORDER BY product_id)
             FROM recgen.products p WHERE product_id IN (9201, 9202)),
          '- Personal Loan (6.9% rate): popular | - Cash-Back Card: popular', 'item lines leave out a missing price');
SELECT ok((recgen.guard('snippet', jsonb_build_object('text', recgen.render_fallback('snippet', ctx, 'default', 'social') ->> 'text'), ctx)
           ->> 'ok')::boolean,
          'the fallback with a rate passes the guard')
  FROM (SELECT jsonb_build_object('items', jsonb_build_array(recgen.product_json(p, 'popular'))) AS ctx
          FROM recgen.products p WHERE product_id = 9201) s;

SELECT * FROM finish();
ROLLBACK;
