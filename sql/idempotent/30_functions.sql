/*
 * General functions: version and preload status.
 */

CREATE OR REPLACE FUNCTION recgen.version() RETURNS text
AS 'MODULE_PATHNAME', 'recgen_version'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION recgen.version() IS
    'Version of the loaded recgen shared library (compare with pg_extension.extversion)';
CREATE OR REPLACE FUNCTION recgen.is_preloaded() RETURNS boolean
AS 'MODULE_PATHNAME', 'recgen_is_preloaded'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION recgen.is_preloaded() IS
    'Whether recgen is in shared_preload_libraries (required by the background workers)';
