/*
 * Right to erasure: recgen.forget_customer(customer_id) deletes every row
 * about a customer, in one transaction, and records that it did (when,
 * who, how many rows per table; nothing about the customer).
 *
 * What it deletes is found, not listed: every table of the recgen schema
 * with a customer_id column, children before the tables they reference,
 * so a table a later version (or another subsystem) adds is covered
 * without touching this file. Campaign segments that list the customer's
 * id (and the runs that pinned them) lose it. Data outside tables (media files) is removed
 * by the handlers in recgen.erasure_steps, functions of the extension
 * itself that take the customer id. Before deleting it writes back the
 * customer's llm_calls rows still waiting in shared memory, so none
 * reappear later, and it takes the customer's advisory lock
 * (recgen.lock_customer), which a campaign job holds while it checks
 * consent and stores content.
 *
 * Aggregates built from many customers (model tables, item popularity)
 * hold no row of the customer; they lose the customer's events at the next
 * recgen.refresh_model().
 */

/*
 * customer_tables: the recgen tables with a customer_id column, in the
 * order they can be emptied of a customer: a table after every table
 * that references it.
 */
CREATE OR REPLACE FUNCTION recgen.customer_tables()
RETURNS TABLE (table_name regclass, depth integer)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE t AS (
        SELECT c.oid
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'customer_id' AND NOT a.attisdropped
         WHERE n.nspname = 'recgen' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    ), refs AS (            -- referencing table -> referenced table, both customer tables
        SELECT DISTINCT k.conrelid AS child, k.confrelid AS parent
          FROM pg_constraint k
         WHERE k.contype = 'f' AND k.conrelid IN (SELECT oid FROM t) AND k.confrelid IN (SELECT oid FROM t)
           AND k.conrelid <> k.confrelid
    ), lvl AS (             -- depth: longest chain of tables referencing this one
        SELECT oid, 0 AS depth FROM t
        UNION ALL
        SELECT r.parent, l.depth + 1 FROM lvl l JOIN refs r ON r.child = l.oid WHERE l.depth < 20
    )
    SELECT oid::regclass, max(depth) FROM lvl GROUP BY oid ORDER BY max(depth), oid::regclass::text
$$;
COMMENT ON FUNCTION recgen.customer_tables() IS
    'The recgen tables with a customer_id column, in an order in which a customer''s rows can be deleted (tables referencing another first)';

CREATE OR REPLACE FUNCTION recgen.forget_customer(customer_id bigint)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    s record;
    n bigint;
    counts jsonb := '{}';
    fn regprocedure;
BEGIN
    PERFORM recgen.lock_customer(customer_id);
    BEGIN
        PERFORM recgen.flush_llm_calls();
    EXCEPTION WHEN object_not_in_prerequisite_state THEN
        NULL;                   -- not preloaded: no rows wait in shared memory
    END;
    -- an LLM call of the customer still in flight (a worker's request)
    -- logs its row after this commits: the hold makes it lose the id
    DELETE FROM recgen.erasure_holds h WHERE h.until < now();
    INSERT INTO recgen.erasure_holds (digest, salt, until)
    SELECT sha256(x.salt || int8send(forget_customer.customer_id)), x.salt, now() + interval '1 day'
      FROM (SELECT uuid_send(gen_random_uuid()) AS salt) x;
    FOR t IN SELECT * FROM recgen.customer_tables() LOOP
        EXECUTE format('DELETE FROM %s WHERE customer_id = $1', t.table_name) USING customer_id;
        GET DIAGNOSTICS n = ROW_COUNT;
        counts := counts || jsonb_build_object(t.table_name::text, n);
    END LOOP;
    -- campaigns naming the customer in their segment (and the runs that
    -- pinned it) forget the id; an emptied list still selects nobody
    UPDATE recgen.campaigns c
       SET segment = jsonb_set(c.segment, '{customers}',
                               (SELECT coalesce(jsonb_agg(x), '[]') FROM jsonb_array_elements(c.segment -> 'customers') x
                                 WHERE x <> to_jsonb(forget_customer.customer_id)))
     WHERE c.segment -> 'customers' @> to_jsonb(forget_customer.customer_id);
    GET DIAGNOSTICS n = ROW_COUNT;
    counts := counts || jsonb_build_object('recgen.campaigns (segment)', n);
    UPDATE recgen.campaign_runs r
       SET settings = jsonb_set(r.settings, '{segment,customers}',
                                (SELECT coalesce(jsonb_agg(x), '[]') FROM jsonb_array_elements(r.settings #> '{segment,customers}') x
                                  WHERE x <> to_jsonb(forget_customer.customer_id)))
     WHERE r.settings #> '{segment,customers}' @> to_jsonb(forget_customer.customer_id);
    GET DIAGNOSTICS n = ROW_COUNT;
    counts := counts || jsonb_build_object('recgen.campaign_runs (segment)', n);
    FOR s IN SELECT * FROM recgen.erasure_steps ORDER BY position, step LOOP
        fn := to_regprocedure(s.handler);
        IF fn IS NULL OR NOT EXISTS (
               SELECT 1 FROM pg_depend dp
                WHERE dp.classid = 'pg_proc'::regclass AND dp.objid = fn AND dp.deptype = 'e'
                  AND dp.refobjid = (SELECT e.oid FROM pg_extension e WHERE e.extname = 'recgen')) THEN
            RAISE EXCEPTION 'erasure step "%": % is not a function of the recgen extension', s.step, s.handler
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        EXECUTE format('SELECT %s($1)', fn) INTO n USING customer_id;
        counts := counts || jsonb_build_object(s.step, coalesce(n, 0));
    END LOOP;
    INSERT INTO recgen.erasures (erased_by, rows_deleted) VALUES (session_user, counts);
    RETURN counts;
END
$$;
COMMENT ON FUNCTION recgen.forget_customer(bigint) IS
    'Right to erasure: deletes every row about the customer from every recgen table with a customer_id column (customers, events, posts, concerns, content, llm_calls, jobs, entries, deliveries...) and runs recgen.erasure_steps, in one transaction; records the erasure (time, who, counts, no personal data) and returns the counts';
/*
 * llm_calls_erased: a row of recgen.llm_calls written after its customer
 * was erased (the LLM call was in flight during forget_customer, its row
 * is written when the answer comes back, or later from call_log's ring)
 * keeps its usage figures but loses the customer id. The check runs only
 * while recgen.erasure_holds has rows (a day after an erasure).
 */
CREATE OR REPLACE FUNCTION recgen.llm_calls_erased() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.customer_id IS NOT NULL AND EXISTS (
           SELECT 1 FROM recgen.erasure_holds h
            WHERE h.until >= now() AND h.digest = sha256(h.salt || int8send(NEW.customer_id))) THEN
        NEW.customer_id := NULL;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION recgen.llm_calls_erased() IS
    'Trigger: an llm_calls row of a customer erased in the last day (recgen.erasure_holds) is stored without the customer id';
REVOKE ALL ON FUNCTION recgen.llm_calls_erased() FROM PUBLIC;
CREATE OR REPLACE TRIGGER llm_calls_erased BEFORE INSERT ON recgen.llm_calls
    FOR EACH ROW EXECUTE FUNCTION recgen.llm_calls_erased();

REVOKE ALL ON FUNCTION recgen.forget_customer(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.forget_customer(bigint) TO recgen_admin;
GRANT SELECT ON recgen.erasures TO recgen_admin;
GRANT SELECT ON recgen.erasure_steps TO recgen_admin;
