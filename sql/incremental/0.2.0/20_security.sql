/*
 * Security changes of 0.2.0 to the tables (issue 16). Grants, policies and
 * the functions that write these rows are idempotent (20_security.sql,
 * 60_llm.sql, 66_content_security.sql).
 *
 * - recgen.llm_calls and recgen.content ids are GENERATED ALWAYS: no role
 *   can take future ids (which made every later call or content insert
 *   fail on a duplicate key); only recgen's own functions write the rows.
 * - recgen.llm_calls is under row-level security like the other
 *   per-customer tables: a call's customer id, purpose and time are seen
 *   only for customers who consented to profiling.
 * - recgen.content.social_text marks content written from a customer's
 *   social posts (its context held post excerpts): such rows need social
 *   consent to be read, and the excerpts are removed from the stored
 *   context when the customer withdraws it.
 */

ALTER TABLE recgen.llm_calls ALTER COLUMN call_id SET GENERATED ALWAYS;
ALTER TABLE recgen.content ALTER COLUMN content_id SET GENERATED ALWAYS;

ALTER TABLE recgen.llm_calls ENABLE ROW LEVEL SECURITY;
ALTER TABLE recgen.llm_calls FORCE ROW LEVEL SECURITY;

ALTER TABLE recgen.content ADD COLUMN social_text boolean NOT NULL DEFAULT false;
UPDATE recgen.content SET social_text = context @? '$.concerns[*].example ? (@ != null)';
COMMENT ON COLUMN recgen.content.social_text IS
    'The content was written from the customer''s social posts (its context held post excerpts): readable only with social consent; the excerpts are removed from the context when that consent is withdrawn';
