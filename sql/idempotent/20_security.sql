/*
 * Roles, privileges and consent under row-level security.
 *
 * Three NOLOGIN group roles (cluster-wide, so created only when missing):
 *   recgen_admin    reads and edits everything, whatever the consent
 *   recgen_analyst  reads the data of consenting customers, calls functions
 *   recgen_worker   what the background workers run as: reads like an
 *                   analyst, writes generated content and job state
 * Row-level security is ENABLEd and FORCEd (so a non-superuser table owner
 * is bound too) on every table that holds a customer's rows. Superusers and
 * BYPASSRLS roles are not bound by it: code that runs with such rights (the
 * model refresh) filters on consent itself.
 */

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['recgen_admin', 'recgen_analyst', 'recgen_worker'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END
$$;
GRANT USAGE ON SCHEMA recgen TO recgen_admin, recgen_analyst, recgen_worker;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE
    ON recgen.customers, recgen.products, recgen.events, recgen.anonymous_events, recgen.social_posts
    TO recgen_admin;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA recgen TO recgen_admin;
GRANT SELECT
    ON recgen.customers, recgen.products, recgen.events, recgen.anonymous_events, recgen.social_posts
    TO recgen_analyst, recgen_worker;

-- consent: whether a customer's behaviour and social posts may be used -----

/*
 * The policies call these two functions rather than repeating the lookup:
 * one place decides what consent means. They run with the caller's rights,
 * so the lookup itself sees customers through the customers policy.
 */
CREATE OR REPLACE FUNCTION recgen.profiling_allowed(customer_id bigint) RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT 1 FROM recgen.customers c
                   WHERE c.customer_id = $1 AND c.consent_profiling)
$$;
COMMENT ON FUNCTION recgen.profiling_allowed(bigint) IS
    'Whether the customer has consented to profiling (and is visible to the caller)';
CREATE OR REPLACE FUNCTION recgen.social_allowed(customer_id bigint) RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT 1 FROM recgen.customers c
                   WHERE c.customer_id = $1 AND c.consent_profiling AND c.consent_social)
$$;
COMMENT ON FUNCTION recgen.social_allowed(bigint) IS
    'Whether the customer has consented to profiling and to the use of social media posts';
DROP POLICY IF EXISTS admin_all ON recgen.customers;
CREATE POLICY admin_all ON recgen.customers TO recgen_admin USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS admin_all ON recgen.events;
CREATE POLICY admin_all ON recgen.events TO recgen_admin USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS admin_all ON recgen.social_posts;
CREATE POLICY admin_all ON recgen.social_posts TO recgen_admin USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS consented_profiling ON recgen.customers;
CREATE POLICY consented_profiling ON recgen.customers FOR SELECT
    TO recgen_analyst, recgen_worker
    USING (consent_profiling);
DROP POLICY IF EXISTS consented_profiling ON recgen.events;
CREATE POLICY consented_profiling ON recgen.events FOR SELECT
    TO recgen_analyst, recgen_worker
    USING (recgen.profiling_allowed(customer_id));
DROP POLICY IF EXISTS consented_social ON recgen.social_posts;
CREATE POLICY consented_social ON recgen.social_posts FOR SELECT
    TO recgen_analyst, recgen_worker
    USING (recgen.social_allowed(customer_id));
COMMENT ON POLICY consented_profiling ON recgen.customers IS
    'Analysts and workers see only customers who consented to profiling';
COMMENT ON POLICY consented_profiling ON recgen.events IS
    'Analysts and workers see the events of customers who consented to profiling';
COMMENT ON POLICY consented_social ON recgen.social_posts IS
    'Analysts and workers see posts only of customers who consented to profiling and to social media use';
COMMENT ON POLICY admin_all ON recgen.customers IS 'recgen_admin reads and edits every customer';
COMMENT ON POLICY admin_all ON recgen.events IS 'recgen_admin reads and edits every event';
COMMENT ON POLICY admin_all ON recgen.social_posts IS 'recgen_admin reads and edits every post';
