/*
 * The schema's own comment. Every part of sql/idempotent is re-run by each
 * upgrade, so what it creates must be CREATE OR REPLACE (or guarded).
 */

COMMENT ON SCHEMA recgen IS
    'recgen: personalized recommendations and LLM-written marketing content';
