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

ALTER TABLE recgen.customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE recgen.customers FORCE ROW LEVEL SECURITY;
ALTER TABLE recgen.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE recgen.events FORCE ROW LEVEL SECURITY;
ALTER TABLE recgen.social_posts ENABLE ROW LEVEL SECURITY;
ALTER TABLE recgen.social_posts FORCE ROW LEVEL SECURITY;
