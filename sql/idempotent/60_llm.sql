/*
 * LLM client: the log of every call (recgen.llm_calls) and the C entry
 * point recgen.llm_chat that the content functions use.
 *
 * llm_calls never holds the prompt, the answer or the API key: only what
 * an operator needs for cost and latency (tokens, status, attempts,
 * latency, time inside the server where it reports it). The generated
 * text itself is in recgen.content.
 *
 * Rows outlive a rollback of the transaction that wrote them (an email()
 * whose call failed raises, and rolls back): recgen keeps them in shared
 * memory and writes them back at the next llm_chat in the database or at
 * recgen.flush_llm_calls() (src/call_log.c; needs shared_preload_libraries).
 */

/*
 * Only recgen's C code writes llm_calls rows, as the table's owner
 * (src/call_log.c): no role may INSERT or UPDATE them, so usage and cost
 * cannot be forged. Admins read every row and DELETE old ones; analysts and
 * workers see the rows of customers who consented to profiling, and the
 * rows of calls made for no customer.
 */
REVOKE INSERT, UPDATE, TRUNCATE ON recgen.llm_calls FROM recgen_admin, recgen_analyst, recgen_worker;
GRANT SELECT ON recgen.llm_calls TO recgen_admin, recgen_analyst, recgen_worker;
GRANT DELETE ON recgen.llm_calls TO recgen_admin;
DROP POLICY IF EXISTS admin_all ON recgen.llm_calls;
CREATE POLICY admin_all ON recgen.llm_calls FOR ALL TO recgen_admin USING (true);
DROP POLICY IF EXISTS consented_profiling ON recgen.llm_calls;
CREATE POLICY consented_profiling ON recgen.llm_calls FOR SELECT TO recgen_analyst, recgen_worker
    USING (customer_id IS NULL OR recgen.profiling_allowed(customer_id));
COMMENT ON POLICY admin_all ON recgen.llm_calls IS 'recgen_admin reads (and deletes) every call row';
COMMENT ON POLICY consented_profiling ON recgen.llm_calls IS
    'Analysts and workers see the calls of customers who consented to profiling, and calls for no customer';
CREATE OR REPLACE FUNCTION recgen.llm_chat(requests jsonb, raise_on_error boolean DEFAULT true)
RETURNS jsonb
LANGUAGE c VOLATILE STRICT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'recgen_llm_chat';
COMMENT ON FUNCTION recgen.llm_chat(jsonb, boolean) IS
    'Sends an array of chat requests ({messages, max_tokens?, temperature?, schema?, schema_name?, purpose?, customer_id?}) concurrently to recgen.llm_url and returns their results in order ({call_id, ok, outcome, status, attempts, latency_ms, prompt_tokens, completion_tokens, content, json, finish_reason, error}); logs each in recgen.llm_calls';
-- not a relay for analysts or workers: the content functions call it as
-- the extension's owner; admins keep it (within the superuser's bounds)
REVOKE ALL ON FUNCTION recgen.llm_chat(jsonb, boolean) FROM PUBLIC, recgen_analyst, recgen_worker;
GRANT EXECUTE ON FUNCTION recgen.llm_chat(jsonb, boolean) TO recgen_admin;
CREATE OR REPLACE FUNCTION recgen.flush_llm_calls()
RETURNS integer
LANGUAGE c VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'recgen_flush_llm_calls';
COMMENT ON FUNCTION recgen.flush_llm_calls() IS
    'Writes to recgen.llm_calls the rows of this database''s LLM calls whose transaction rolled back (kept in shared memory until then; recgen.llm_chat does it too before each batch). Returns how many.';
REVOKE ALL ON FUNCTION recgen.flush_llm_calls() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.flush_llm_calls() TO recgen_admin, recgen_analyst, recgen_worker;
