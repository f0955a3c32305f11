/*
 * Product facts cache: recommend() keeps the products it has read per
 * backend and reads them again after any committed change of
 * recgen.products, which this statement trigger reports
 * (src/catalog_generation.c).
 */

CREATE OR REPLACE FUNCTION recgen.products_changed() RETURNS trigger
AS 'MODULE_PATHNAME', 'recgen_products_changed'
LANGUAGE C;
COMMENT ON FUNCTION recgen.products_changed() IS
    'Statement trigger on recgen.products: tells the per-backend product caches of recommend() to read products again once this transaction commits';
REVOKE ALL ON FUNCTION recgen.products_changed() FROM PUBLIC;
CREATE OR REPLACE TRIGGER products_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON recgen.products
    FOR EACH STATEMENT EXECUTE FUNCTION recgen.products_changed();
-- also under session_replication_role = replica (logical replication)
ALTER TABLE recgen.products ENABLE ALWAYS TRIGGER products_changed;
COMMENT ON TRIGGER products_changed ON recgen.products IS
    'Invalidates the product facts cached by recommend() in every backend at commit';
