/*
 * Who reads and writes recgen.content, and what withdrawing social consent
 * does to it.
 *
 * Only recgen's own functions write content rows and their verdicts (the
 * generation pipeline runs as the extension's owner): no role may INSERT
 * or UPDATE them, so no caller can store "pass" with any text, or a row
 * for customer 0 that everyone would read. Admins read and delete.
 *
 * Row-level security: analysts and workers see content of customers who
 * consented to profiling (and content about a product only, customer 0);
 * content written from a customer's social posts (social_text: its context
 * held post excerpts, and its text may quote them) needs social consent
 * too. recgen_admin sees every row.
 *
 * When a customer withdraws social (or profiling) consent, the post
 * excerpts are removed from the contexts stored with their content
 * (recgen.content_redact_social, a trigger on recgen.customers); the rows
 * stay hidden from analysts and workers while the consent is missing. The
 * redaction never waits for another transaction: rows locked by one (an
 * admin editing them) are skipped, and the policy still hides them.
 */

DROP POLICY IF EXISTS admin_all ON recgen.content;
CREATE POLICY admin_all ON recgen.content TO recgen_admin USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS consented_profiling ON recgen.content;
CREATE POLICY consented_profiling ON recgen.content TO recgen_analyst, recgen_worker
    USING (customer_id = 0 OR (recgen.profiling_allowed(customer_id)
                               AND (NOT social_text OR recgen.social_allowed(customer_id))))
    WITH CHECK (customer_id = 0 OR (recgen.profiling_allowed(customer_id)
                                    AND (NOT social_text OR recgen.social_allowed(customer_id))));
COMMENT ON POLICY consented_profiling ON recgen.content IS
    'Analysts and workers see and write content only of customers who consented to profiling (and product content); content written from social posts also needs social consent';
COMMENT ON POLICY admin_all ON recgen.content IS 'recgen_admin reads (and deletes) all content';
REVOKE INSERT, UPDATE, TRUNCATE ON recgen.content FROM recgen_admin, recgen_analyst, recgen_worker;
GRANT SELECT, DELETE ON recgen.content TO recgen_admin;
GRANT SELECT ON recgen.content TO recgen_analyst, recgen_worker;

/*
 * content_social_text: a row whose context holds post excerpts is marked
 * social_text, whoever inserts it; the mark stays when the excerpts are
 * redacted later (its text may still quote them).
 */
CREATE OR REPLACE FUNCTION recgen.content_social_text() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.social_text := (TG_OP = 'UPDATE' AND OLD.social_text)
                       OR coalesce(NEW.context @? '$.concerns[*].example ? (@ != null)', false);
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION recgen.content_social_text() IS
    'Trigger: marks content whose context holds social post excerpts (recgen.content.social_text); the mark is never cleared';
CREATE OR REPLACE TRIGGER content_social_text BEFORE INSERT OR UPDATE ON recgen.content
    FOR EACH ROW EXECUTE FUNCTION recgen.content_social_text();

/*
 * content_redact_social: when a customer's social consent (or profiling
 * consent) is withdrawn, remove the post excerpts from the contexts of
 * their stored content. Skips rows another transaction has locked.
 */
CREATE OR REPLACE FUNCTION recgen.content_redact_social() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE recgen.content c
       SET context = jsonb_set(c.context, '{concerns}',
                               coalesce((SELECT jsonb_agg(x - 'example' ORDER BY i)
                                           FROM jsonb_array_elements(c.context -> 'concerns') WITH ORDINALITY AS e(x, i)),
                                        '[]'))
     WHERE (c.customer_id, c.content_id) IN (
               SELECT l.customer_id, l.content_id FROM recgen.content l
                WHERE l.customer_id = NEW.customer_id
                  AND jsonb_typeof(l.context -> 'concerns') = 'array'
                  AND l.context @? '$.concerns[*].example'
                  FOR UPDATE SKIP LOCKED);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION recgen.content_redact_social() IS
    'Trigger: removes social post excerpts from the stored contexts of a customer''s content when social or profiling consent is withdrawn (rows locked by another transaction are skipped; the policy hides them)';
REVOKE ALL ON FUNCTION recgen.content_redact_social() FROM PUBLIC;
CREATE OR REPLACE TRIGGER content_redact_social
    AFTER UPDATE OF consent_social, consent_profiling ON recgen.customers
    FOR EACH ROW
    WHEN ((OLD.consent_social AND OLD.consent_profiling) AND NOT (NEW.consent_social AND NEW.consent_profiling))
    EXECUTE FUNCTION recgen.content_redact_social();
