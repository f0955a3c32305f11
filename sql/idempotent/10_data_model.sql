/*
 * Data model: customers, products, events (customer behaviour), anonymous
 * baskets and social posts.
 *
 * Every per-customer table carries customer_id in its primary key, so the
 * same layout distributes with Citus on customer_id (products stays a small
 * shared table, a reference table there).
 */

-- bookkeeping triggers -----------------------------------------------------
CREATE OR REPLACE FUNCTION recgen.customers_touch() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.updated_at := now();
    IF TG_OP = 'INSERT' THEN
        NEW.consent_marketing_at := coalesce(NEW.consent_marketing_at, CASE WHEN NEW.consent_marketing THEN now() END);
        NEW.consent_profiling_at := coalesce(NEW.consent_profiling_at, CASE WHEN NEW.consent_profiling THEN now() END);
        NEW.consent_social_at    := coalesce(NEW.consent_social_at,    CASE WHEN NEW.consent_social    THEN now() END);
    ELSE
        IF NEW.consent_marketing IS DISTINCT FROM OLD.consent_marketing THEN
            NEW.consent_marketing_at := now();
        END IF;
        IF NEW.consent_profiling IS DISTINCT FROM OLD.consent_profiling THEN
            NEW.consent_profiling_at := now();
        END IF;
        IF NEW.consent_social IS DISTINCT FROM OLD.consent_social THEN
            NEW.consent_social_at := now();
        END IF;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION recgen.customers_touch() IS
    'Trigger: keeps updated_at and the consent_*_at timestamps of recgen.customers';
CREATE OR REPLACE TRIGGER customers_touch BEFORE INSERT OR UPDATE ON recgen.customers
    FOR EACH ROW EXECUTE FUNCTION recgen.customers_touch();
CREATE OR REPLACE FUNCTION recgen.products_touch() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION recgen.products_touch() IS
    'Trigger: keeps updated_at of recgen.products';
CREATE OR REPLACE TRIGGER products_touch BEFORE UPDATE ON recgen.products
    FOR EACH ROW EXECUTE FUNCTION recgen.products_touch();
