-- recgen.llm_calls rows that outlive a rollback (src/call_log.c), without an
-- LLM server: the requests go to a closed port and fail at once with
-- connection_error, which llm_chat logs like any call. The suite also runs
-- under valgrind, so this is where the abort path meets memcheck.
-- pgTAP keeps its results in tables a rollback would undo: what happens
-- inside a rolled-back savepoint is carried out in psql variables.
BEGIN;
SELECT plan(11);

SET LOCAL recgen.llm_url = 'http://127.0.0.1:9/v1';
SET LOCAL recgen.llm_max_retries = 0;
SELECT recgen.flush_llm_calls() AS leftover \gset
SELECT count(*) AS n0 FROM recgen.llm_calls \gset

SAVEPOINT one_call;
SELECT recgen.llm_chat('[{"messages": [{"role": "user", "content": "hi"}], "purpose": "snippet", "customer_id": 42}]',
                       false) -> 0 ->> 'outcome' AS outcome \gset
SELECT count(*) AS n_inside FROM recgen.llm_calls \gset
ROLLBACK TO SAVEPOINT one_call;

SELECT is(:'outcome'::text, 'connection_error', 'a request to a closed port fails with connection_error');
SELECT is((:n_inside - :n0)::bigint, 1::bigint, 'llm_chat wrote its row');
SELECT is((SELECT count(*) FROM recgen.llm_calls), :n0::bigint, 'the savepoint rolled the row back');
SELECT is(recgen.flush_llm_calls(), 1, 'flush_llm_calls writes it back');
SELECT results_eq($$SELECT outcome, customer_id, purpose, http_status FROM recgen.llm_calls ORDER BY call_id DESC LIMIT 1$$,
                  $$VALUES ('connection_error'::text, 42::bigint, 'snippet'::text, NULL::integer)$$,
                  'with its values');
SELECT is(recgen.flush_llm_calls(), 0, 'and only once');

-- a savepoint released inside one that rolls back: both rows come back
SAVEPOINT outer_sp;
SAVEPOINT inner_sp;
SELECT recgen.llm_chat('[{"messages": [{"role": "user", "content": "a"}]}, {"messages": [{"role": "user", "content": "b"}]}]',
                       false) IS NOT NULL AS sent \gset
RELEASE SAVEPOINT inner_sp;
ROLLBACK TO SAVEPOINT outer_sp;
SELECT is(recgen.flush_llm_calls(), 2, 'rows of a released savepoint inside a rolled-back one come back');

-- a flush that rolls back puts its rows back in the ring
SAVEPOINT again;
SELECT recgen.llm_chat('[{"messages": [{"role": "user", "content": "c"}]}]', false) IS NOT NULL AS sent \gset
ROLLBACK TO SAVEPOINT again;
SAVEPOINT flush_undone;
SELECT recgen.flush_llm_calls() AS flushed \gset
ROLLBACK TO SAVEPOINT flush_undone;
SELECT is(:flushed, 1, 'a flush inside a savepoint wrote the row');
SELECT is(recgen.flush_llm_calls(), 1, 'its rollback returned the row to the ring');

-- the ring holds 512 rows: past that the oldest are dropped (and counted
-- in a LOG line), the newest 512 written back
SAVEPOINT many;
SELECT recgen.llm_chat((SELECT jsonb_agg(jsonb_build_object('messages', '[{"role": "user", "content": "n"}]'::jsonb,
                                                            'purpose', 'email', 'customer_id', g))
                          FROM generate_series(1, 600) g), false) IS NOT NULL AS sent \gset
ROLLBACK TO SAVEPOINT many;
SELECT coalesce(max(call_id), 0) AS before_many FROM recgen.llm_calls \gset
SELECT is(recgen.flush_llm_calls(), 512, 'past 512 waiting rows the ring keeps 512');
SELECT is((SELECT min(customer_id) || '-' || max(customer_id) FROM recgen.llm_calls WHERE call_id > :before_many),
          '89-600', 'the newest ones: the 88 oldest were dropped');

SELECT * FROM finish();
ROLLBACK;
-- the rollback above returned this file's rows to the ring: write them out
-- so they do not wait there for a database the suite drops
SELECT recgen.flush_llm_calls() AS cleanup \gset
