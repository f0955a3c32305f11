-- init: the extension is installed, preloaded, and its version matches.
SELECT recgen.version() = extversion AS library_matches_script
FROM pg_extension WHERE extname = 'recgen';
SELECT recgen.is_preloaded();
-- the schema holds the data model
SELECT c.relname, c.relkind, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'recgen' AND c.relkind = 'r' AND c.relname IN
      ('customers', 'products', 'events', 'anonymous_events', 'social_posts')
ORDER BY 1;
-- the three group roles exist and cannot log in
SELECT rolname, rolcanlogin, rolsuper, rolbypassrls
FROM pg_roles WHERE rolname LIKE 'recgen\_%' AND rolname IN ('recgen_admin', 'recgen_analyst', 'recgen_worker')
ORDER BY 1;
-- creating it twice is an error, dropping and re-creating works
CREATE EXTENSION recgen;
DROP EXTENSION recgen;
CREATE EXTENSION recgen;
SELECT count(*) > 0 AS has_tables FROM pg_tables WHERE schemaname = 'recgen';
