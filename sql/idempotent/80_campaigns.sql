/*
 * Campaigns: validation of the structured parts of a campaign (segment,
 * variants, schedule), the segment compiler, and the deterministic
 * assignment of customers to variants and the holdout. docs/campaigns.md.
 *
 * The segment is data, never SQL: recgen.segment_query() assembles the
 * query from fixed fragments of its own, one per field present, and every
 * value of the segment reaches the query as a typed parameter
 * (EXECUTE ... USING). A field that is not in the list is an error, so a
 * typo never widens a campaign to everyone.
 */

-- variants and the holdout ---------------------------------------------------

/*
 * campaign_bucket: a deterministic number in [0, 10000) for a purpose
 * (holdout, variant), a campaign and a customer: the first 32 bits of the
 * MD5 of "purpose:campaign:customer". Anyone can recompute it (in SQL, a
 * spreadsheet or a BI tool) to check an assignment.
 */
CREATE OR REPLACE FUNCTION recgen.campaign_bucket(purpose text, campaign text, customer_id bigint)
RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (('x' || left(md5(purpose || ':' || campaign || ':' || customer_id), 8))::bit(32)::bigint % 10000)::integer
$$;
COMMENT ON FUNCTION recgen.campaign_bucket(text, text, bigint) IS
    'Deterministic bucket in [0, 10000) of a customer for a campaign and a purpose (holdout or variant): first 32 bits of md5(purpose:campaign:customer_id) modulo 10000';

/*
 * validate_variants: the variants array checked and normalised: objects
 * with a unique name and a positive split, the splits adding up to 100,
 * and only known overrides (tone, template_version, strategy, n_products).
 */
CREATE OR REPLACE FUNCTION recgen.validate_variants(variants jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb;
    k text;
    total numeric := 0;
    names text[] := '{}';
    out jsonb := '[]';
BEGIN
    IF variants IS NULL OR jsonb_typeof(variants) <> 'array' OR jsonb_array_length(variants) = 0 THEN
        RAISE EXCEPTION 'variants must be a non-empty JSON array'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example [{"name": "a", "split": 50}, {"name": "b", "split": 50, "tone": "professional"}].';
    END IF;
    IF jsonb_array_length(variants) > 26 THEN
        RAISE EXCEPTION 'a campaign has at most 26 variants' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR v IN SELECT * FROM jsonb_array_elements(variants) LOOP
        IF jsonb_typeof(v) <> 'object' THEN
            RAISE EXCEPTION 'each variant must be a JSON object, not %', v USING ERRCODE = 'invalid_parameter_value';
        END IF;
        FOR k IN SELECT * FROM jsonb_object_keys(v) LOOP
            IF k NOT IN ('name', 'split', 'tone', 'template_version', 'strategy', 'n_products') THEN
                RAISE EXCEPTION 'unknown variant field "%"', k
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'A variant has name, split and optionally tone, template_version, strategy, n_products.';
            END IF;
        END LOOP;
        IF jsonb_typeof(v -> 'name') IS DISTINCT FROM 'string' OR (v ->> 'name') !~ '^[a-z0-9_]{1,30}$'
           OR v ->> 'name' = 'holdout' THEN
            RAISE EXCEPTION 'variant name % is not valid', coalesce(v -> 'name', 'null'::jsonb)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Names are 1 to 30 lower-case letters, digits or underscores, and "holdout" is reserved.';
        END IF;
        IF v ->> 'name' = ANY (names) THEN
            RAISE EXCEPTION 'variant "%" appears twice', v ->> 'name' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        names := names || (v ->> 'name');
        IF jsonb_typeof(v -> 'split') IS DISTINCT FROM 'number' OR (v ->> 'split')::numeric <= 0 THEN
            RAISE EXCEPTION 'variant "%" needs a positive split (a percentage)', v ->> 'name'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        total := total + (v ->> 'split')::numeric;
        IF v ? 'tone' AND NOT EXISTS (SELECT 1 FROM recgen.tones t WHERE t.tone = v ->> 'tone') THEN
            RAISE EXCEPTION 'variant "%": unknown tone %', v ->> 'name', v -> 'tone'
                USING ERRCODE = 'invalid_parameter_value', HINT = 'Tones are rows of recgen.tones.';
        END IF;
        IF v ? 'strategy' AND (v ->> 'strategy') NOT IN ('balanced', 'similar', 'complementary', 'upsell', 'popular', 'new') THEN
            RAISE EXCEPTION 'variant "%": unknown strategy %', v ->> 'name', v -> 'strategy'
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Strategies are balanced, similar, complementary, upsell, popular and new.';
        END IF;
        IF v ? 'template_version' AND (jsonb_typeof(v -> 'template_version') <> 'number'
                                       OR (v ->> 'template_version') !~ '^[1-9][0-9]{0,8}$') THEN
            RAISE EXCEPTION 'variant "%": template_version must be a positive integer', v ->> 'name'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF v ? 'n_products' AND (jsonb_typeof(v -> 'n_products') <> 'number'
                                 OR (v ->> 'n_products') !~ '^([1-9]|10)$') THEN
            RAISE EXCEPTION 'variant "%": n_products must be an integer from 1 to 10', v ->> 'name'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        out := out || jsonb_build_array(v);
    END LOOP;
    IF total <> 100 THEN
        RAISE EXCEPTION 'the splits of the variants add up to %, not 100', total
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The holdout is separate (holdout_pct): splits divide the customers who are not held out.';
    END IF;
    RETURN out;
END
$$;
COMMENT ON FUNCTION recgen.validate_variants(jsonb) IS
    'Checks a campaign''s variants (unique names, positive splits adding up to 100, known overrides only) and returns them; raises a clear error otherwise';

/*
 * campaign_variant: the variant a customer gets in a campaign, or NULL
 * when the customer is in the holdout. Two independent buckets: one
 * decides the holdout, the other spreads the rest over the variants by
 * their splits, so changing the holdout does not reshuffle the variants.
 */
CREATE OR REPLACE FUNCTION recgen.campaign_variant(campaign text, variants jsonb, holdout_pct numeric, customer_id bigint)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    b integer;
    acc numeric := 0;
    v jsonb;
    last text;
BEGIN
    IF recgen.campaign_bucket('holdout', campaign, customer_id) < coalesce(holdout_pct, 0) * 100 THEN
        RETURN NULL;
    END IF;
    b := recgen.campaign_bucket('variant', campaign, customer_id);
    FOR v IN SELECT * FROM jsonb_array_elements(variants) LOOP
        acc := acc + (v ->> 'split')::numeric * 100;
        last := v ->> 'name';
        IF b < acc THEN
            RETURN last;
        END IF;
    END LOOP;
    RETURN last;
END
$$;
COMMENT ON FUNCTION recgen.campaign_variant(text, jsonb, numeric, bigint) IS
    'The variant a customer is assigned to in a campaign, or NULL for the holdout: holdout when campaign_bucket(''holdout'', …) < holdout_pct × 100, else the variant whose cumulative split × 100 first exceeds campaign_bucket(''variant'', …)';

-- the segment ------------------------------------------------------------------

/*
 * segment_fields: every field a segment may have, with its JSON type and
 * meaning. The compiler below and the documentation follow this list.
 */
CREATE OR REPLACE FUNCTION recgen.segment_fields()
RETURNS TABLE (field text, value_type text, meaning text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    VALUES ('segment', 'array of strings', 'customers.segment is one of these'),
           ('country', 'array of strings', 'customers.country is one of these'),
           ('locale', 'array of strings', 'customers.locale is one of these'),
           ('min_spend', 'number', 'net spend (purchases less returns) at least this'),
           ('max_spend', 'number', 'net spend at most this'),
           ('min_orders', 'integer', 'at least this many baskets with a purchase'),
           ('max_orders', 'integer', 'at most this many baskets with a purchase'),
           ('min_recency_days', 'integer', 'the last purchase is at least this many days old'),
           ('max_recency_days', 'integer', 'the last purchase is at most this many days old'),
           ('categories', 'array of strings', 'bought a product of one of these categories'),
           ('bought', 'array of SKUs or product ids', 'bought at least one of these products'),
           ('not_bought', 'array of SKUs or product ids', 'bought none of these products'),
           ('customers', 'array of customer ids', 'only these customers (an empty array: nobody)'),
           ('limit', 'integer', 'at most this many customers: a fixed sample (ordered by md5 of the id)')
$$;
COMMENT ON FUNCTION recgen.segment_fields() IS
    'The fields a campaign segment may have, their JSON type and meaning';

/*
 * segment_strings / segment_ints: the value of an array field as text[] /
 * bigint[], or an error naming the field. A single string or number is
 * taken as a one-element array.
 */
CREATE OR REPLACE FUNCTION recgen.segment_strings(segment jsonb, field text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb := segment -> field;
BEGIN
    IF v IS NULL THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(v) = 'string' THEN
        v := jsonb_build_array(v);
    END IF;
    IF jsonb_typeof(v) <> 'array' OR jsonb_array_length(v) = 0
       OR EXISTS (SELECT 1 FROM jsonb_array_elements(v) x WHERE jsonb_typeof(x) <> 'string') THEN
        RAISE EXCEPTION 'segment field "%" must be a non-empty array of strings, not %', field, v
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN ARRAY(SELECT jsonb_array_elements_text(v));
END
$$;
COMMENT ON FUNCTION recgen.segment_strings(jsonb, text) IS
    'A segment field as text[] (a string counts as one element), or an error naming the field';
CREATE OR REPLACE FUNCTION recgen.segment_number(segment jsonb, field text, integral boolean) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb := segment -> field;
BEGIN
    IF v IS NULL THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(v) <> 'number' OR (v::text)::numeric < 0
       OR (integral AND (v::text)::numeric <> trunc((v::text)::numeric)) THEN
        RAISE EXCEPTION 'segment field "%" must be a non-negative %, not %', field,
                        CASE WHEN integral THEN 'integer' ELSE 'number' END, v
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN (v::text)::numeric;
END
$$;
COMMENT ON FUNCTION recgen.segment_number(jsonb, text, boolean) IS
    'A numeric segment field, or an error naming the field when it is not a non-negative number (integer)';

/*
 * segment_products: the products a bought / not_bought field names, by SKU
 * (strings) or product id (numbers). An unknown product is an error, not
 * an empty condition.
 */
CREATE OR REPLACE FUNCTION recgen.segment_products(segment jsonb, field text) RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb := segment -> field;
    x jsonb;
    id bigint;
    ids bigint[] := '{}';
BEGIN
    IF v IS NULL THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(v) IN ('string', 'number') THEN
        v := jsonb_build_array(v);
    END IF;
    IF jsonb_typeof(v) <> 'array' OR jsonb_array_length(v) = 0 THEN
        RAISE EXCEPTION 'segment field "%" must be a non-empty array of SKUs or product ids, not %', field, v
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR x IN SELECT * FROM jsonb_array_elements(v) LOOP
        IF jsonb_typeof(x) = 'string' THEN
            SELECT p.product_id INTO id FROM recgen.products p WHERE p.sku = x #>> '{}';
        ELSIF jsonb_typeof(x) = 'number' AND x::text ~ '^[0-9]{1,18}$' THEN
            SELECT p.product_id INTO id FROM recgen.products p WHERE p.product_id = (x::text)::bigint;
        ELSE
            RAISE EXCEPTION 'segment field "%": % is neither a SKU nor a product id', field, x
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'segment field "%": unknown product %', field, x
                USING ERRCODE = 'invalid_parameter_value', HINT = 'Products are rows of recgen.products (by sku or product_id).';
        END IF;
        ids := ids || id;
    END LOOP;
    RETURN ids;
END
$$;
COMMENT ON FUNCTION recgen.segment_products(jsonb, text) IS
    'The product ids a segment''s bought / not_bought field names (SKUs or ids); an unknown product is an error';

/*
 * validate_segment: the segment checked field by field (unknown fields and
 * wrong types are errors); returns it unchanged.
 */
CREATE OR REPLACE FUNCTION recgen.validate_segment(segment jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k text;
    f text;
BEGIN
    IF segment IS NULL OR jsonb_typeof(segment) <> 'object' THEN
        RAISE EXCEPTION 'a segment must be a JSON object'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'For example {"country": ["Finland", "Norway"], "segment": ["regular"]}.';
    END IF;
    FOR k IN SELECT * FROM jsonb_object_keys(segment) LOOP
        IF NOT EXISTS (SELECT 1 FROM recgen.segment_fields() sf WHERE sf.field = k) THEN
            RAISE EXCEPTION 'unknown segment field "%"', left(k, 60)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Segment fields are ' || (SELECT string_agg(sf.field, ', ') FROM recgen.segment_fields() sf) || '.';
        END IF;
    END LOOP;
    FOREACH f IN ARRAY ARRAY['segment', 'country', 'locale', 'categories'] LOOP
        PERFORM recgen.segment_strings(segment, f);
    END LOOP;
    PERFORM recgen.segment_number(segment, 'min_spend', false), recgen.segment_number(segment, 'max_spend', false);
    FOREACH f IN ARRAY ARRAY['min_orders', 'max_orders', 'min_recency_days', 'max_recency_days', 'limit'] LOOP
        PERFORM recgen.segment_number(segment, f, true);
    END LOOP;
    IF (segment ->> 'limit')::numeric = 0 THEN
        RAISE EXCEPTION 'segment field "limit" must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF segment ? 'customers' AND (jsonb_typeof(segment -> 'customers') <> 'array'
        OR EXISTS (SELECT 1 FROM jsonb_array_elements(segment -> 'customers') x
                    WHERE jsonb_typeof(x) <> 'number' OR x::text !~ '^-?[0-9]{1,18}$')) THEN
        RAISE EXCEPTION 'segment field "customers" must be an array of customer ids, not %', segment -> 'customers'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM recgen.segment_products(segment, 'bought'), recgen.segment_products(segment, 'not_bought');
    RETURN segment;
END
$$;
COMMENT ON FUNCTION recgen.validate_segment(jsonb) IS
    'Checks a campaign segment: only the fields of recgen.segment_fields(), each of its type, products that exist; raises a clear error otherwise';

/*
 * segment_query: the SQL that selects a segment's customers, built only
 * from this function's own fragments, one per field present; every value
 * is a parameter:
 *   $1 candidates bigint[] (NULL: all)  $2 segment  $3 country  $4 locale
 *   $5 min_spend  $6 max_spend  $7 min_orders  $8 max_orders  $9 as_of
 *   $10 min_recency_days  $11 max_recency_days  $12 categories
 *   $13 bought  $14 not_bought  $15 customers  $16 limit
 * Only customers who consented to profiling are ever considered: a
 * segment is profiling.
 */
CREATE OR REPLACE FUNCTION recgen.segment_query(segment jsonb, with_candidates boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    q text := 'SELECT c.customer_id FROM recgen.customers c';
    w text := ' WHERE c.consent_profiling';
    stats boolean;
BEGIN
    PERFORM recgen.validate_segment(segment);
    stats := segment ?| ARRAY['min_spend', 'max_spend', 'min_orders', 'max_orders', 'min_recency_days', 'max_recency_days'];
    IF stats THEN
        q := q || ' CROSS JOIN LATERAL (SELECT coalesce(sum(CASE e.kind WHEN ''purchase'' THEN e.amount'
                  || ' WHEN ''return'' THEN -e.amount END), 0) AS spend,'
                  || ' count(DISTINCT coalesce(e.basket_id, e.event_id::text)) FILTER (WHERE e.kind = ''purchase'') AS orders,'
                  || ' max(e.occurred_at) FILTER (WHERE e.kind = ''purchase'') AS last_purchase'
                  || ' FROM recgen.events e WHERE e.customer_id = c.customer_id AND e.occurred_at <= $9) s';
    END IF;
    IF with_candidates THEN w := w || ' AND c.customer_id = ANY ($1)'; END IF;
    IF segment ? 'segment' THEN w := w || ' AND c.segment = ANY ($2)'; END IF;
    IF segment ? 'country' THEN w := w || ' AND c.country = ANY ($3)'; END IF;
    IF segment ? 'locale' THEN w := w || ' AND c.locale = ANY ($4)'; END IF;
    IF segment ? 'min_spend' THEN w := w || ' AND s.spend >= $5'; END IF;
    IF segment ? 'max_spend' THEN w := w || ' AND s.spend <= $6'; END IF;
    IF segment ? 'min_orders' THEN w := w || ' AND s.orders >= $7'; END IF;
    IF segment ? 'max_orders' THEN w := w || ' AND s.orders <= $8'; END IF;
    IF segment ? 'min_recency_days' THEN
        w := w || ' AND s.last_purchase <= $9 - make_interval(days => $10)';
    END IF;
    IF segment ? 'max_recency_days' THEN
        w := w || ' AND s.last_purchase >= $9 - make_interval(days => $11)';
    END IF;
    IF segment ? 'categories' THEN
        w := w || ' AND EXISTS (SELECT 1 FROM recgen.events e JOIN recgen.products p ON p.product_id = e.product_id'
               || ' WHERE e.customer_id = c.customer_id AND e.kind = ''purchase'' AND e.occurred_at <= $9'
               || ' AND p.category = ANY ($12))';
    END IF;
    IF segment ? 'bought' THEN
        w := w || ' AND EXISTS (SELECT 1 FROM recgen.events e WHERE e.customer_id = c.customer_id'
               || ' AND e.kind = ''purchase'' AND e.occurred_at <= $9 AND e.product_id = ANY ($13))';
    END IF;
    IF segment ? 'not_bought' THEN
        w := w || ' AND NOT EXISTS (SELECT 1 FROM recgen.events e WHERE e.customer_id = c.customer_id'
               || ' AND e.kind = ''purchase'' AND e.occurred_at <= $9 AND e.product_id = ANY ($14))';
    END IF;
    IF segment ? 'customers' THEN w := w || ' AND c.customer_id = ANY ($15)'; END IF;
    q := q || w;
    IF segment ? 'limit' THEN
        q := q || ' ORDER BY md5(c.customer_id::text), c.customer_id LIMIT $16';
    END IF;
    RETURN q;
END
$$;
COMMENT ON FUNCTION recgen.segment_query(jsonb, boolean) IS
    'The parameterized query recgen.segment_members runs for a segment (for reading and EXPLAIN): fixed fragments per field, every value a parameter $1..$16';

/*
 * segment_members: the customers of a segment (optionally only among
 * candidates), as the caller sees them through row-level security.
 */
CREATE OR REPLACE FUNCTION recgen.segment_members(segment jsonb, candidates bigint[] DEFAULT NULL,
                                                  as_of timestamptz DEFAULT now())
RETURNS SETOF bigint
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY EXECUTE recgen.segment_query(segment, candidates IS NOT NULL)
        USING candidates,
              recgen.segment_strings(segment, 'segment'),
              recgen.segment_strings(segment, 'country'),
              recgen.segment_strings(segment, 'locale'),
              recgen.segment_number(segment, 'min_spend', false),
              recgen.segment_number(segment, 'max_spend', false),
              recgen.segment_number(segment, 'min_orders', true)::bigint,
              recgen.segment_number(segment, 'max_orders', true)::bigint,
              as_of,
              recgen.segment_number(segment, 'min_recency_days', true)::integer,
              recgen.segment_number(segment, 'max_recency_days', true)::integer,
              recgen.segment_strings(segment, 'categories'),
              recgen.segment_products(segment, 'bought'),
              recgen.segment_products(segment, 'not_bought'),
              ARRAY(SELECT (x #>> '{}')::bigint FROM jsonb_array_elements(segment -> 'customers') x),
              recgen.segment_number(segment, 'limit', true)::bigint;
END
$$;
COMMENT ON FUNCTION recgen.segment_members(jsonb, bigint[], timestamptz) IS
    'Customer ids of a segment (only among candidates when given), evaluated as of a time; only customers who consented to profiling, as row-level security lets the caller see them';

-- cron schedules ---------------------------------------------------------------

/*
 * cron_values: the values one field of a cron expression allows, between
 * lo and hi: a star, numbers, names (jan-dec, sun-sat), ranges a-b,
 * steps (a star or a range, then /n) and comma lists. Raises on anything
 * else.
 */
CREATE OR REPLACE FUNCTION recgen.cron_values(field text, lo integer, hi integer, names text[] DEFAULT NULL)
RETURNS integer[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    part text;
    m text[];
    a integer;
    b integer;
    step integer;
    vals integer[] := '{}';
    i integer;
    src text := lower(field);
BEGIN
    IF names IS NOT NULL THEN
        FOR i IN 1 .. array_length(names, 1) LOOP
            src := replace(src, names[i], (lo + i - 1)::text);
        END LOOP;
    END IF;
    FOREACH part IN ARRAY string_to_array(src, ',') LOOP
        m := regexp_match(part, '^(\*|([0-9]{1,2})(-([0-9]{1,2}))?)(/([0-9]{1,2}))?$');
        IF m IS NULL THEN
            RAISE EXCEPTION 'invalid cron field "%"', field
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'A field is *, a number, a range a-b, a step */n or a-b/n, or a comma list of these.';
        END IF;
        IF m[1] = '*' THEN
            a := lo; b := hi;
        ELSE
            a := m[2]::integer;
            b := coalesce(m[4]::integer, CASE WHEN m[6] IS NOT NULL THEN hi ELSE a END);
        END IF;
        step := coalesce(m[6]::integer, 1);
        IF a < lo OR b > hi OR a > b OR step < 1 THEN
            RAISE EXCEPTION 'cron field "%" is out of range (% to %)', field, lo, hi
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        FOR i IN a .. b BY step LOOP
            vals := vals || i;
        END LOOP;
    END LOOP;
    RETURN ARRAY(SELECT DISTINCT x FROM unnest(vals) x ORDER BY x);
END
$$;
COMMENT ON FUNCTION recgen.cron_values(text, integer, integer, text[]) IS
    'The values a field of a cron expression allows between lo and hi (*, numbers, names, ranges, steps, lists)';

/*
 * cron_next: the first minute strictly after "after" (UTC) that a
 * five-field cron expression (minute hour day-of-month month day-of-week)
 * or @hourly/@daily/@weekly/@monthly/@yearly names. As in cron, when both
 * day fields are restricted a day matching either runs; weekday 0 and 7
 * are Sunday. NULL if nothing matches within about four years (30 Feb).
 */
CREATE OR REPLACE FUNCTION recgen.cron_next(expr text, after timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f text[];
    mins integer[];
    hours integer[];
    doms integer[];
    months integer[];
    dows integer[];
    dom_star boolean;
    dow_star boolean;
    t timestamp := date_trunc('minute', after AT TIME ZONE 'UTC') + interval '1 minute';
    d date := t::date;
    day_ok boolean;
    h integer;
    mi integer;
    i integer;
BEGIN
    expr := btrim(expr);
    expr := CASE lower(expr)
        WHEN '@hourly' THEN '0 * * * *'
        WHEN '@daily' THEN '0 0 * * *'
        WHEN '@midnight' THEN '0 0 * * *'
        WHEN '@weekly' THEN '0 0 * * 0'
        WHEN '@monthly' THEN '0 0 1 * *'
        WHEN '@yearly' THEN '0 0 1 1 *'
        WHEN '@annually' THEN '0 0 1 1 *'
        ELSE expr END;
    f := regexp_split_to_array(expr, '\s+');
    IF array_length(f, 1) <> 5 THEN
        RAISE EXCEPTION 'invalid cron schedule "%"', expr
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Five fields: minute hour day-of-month month day-of-week (UTC), e.g. "0 9 * * 1" for Mondays at 09:00, or @daily.';
    END IF;
    mins := recgen.cron_values(f[1], 0, 59);
    hours := recgen.cron_values(f[2], 0, 23);
    doms := recgen.cron_values(f[3], 1, 31);
    months := recgen.cron_values(f[4], 1, 12,
        ARRAY['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']);
    dows := recgen.cron_values(f[5], 0, 7, ARRAY['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']);
    IF 7 = ANY (dows) THEN dows := dows || 0; END IF;
    dom_star := f[3] LIKE '*%';
    dow_star := f[5] LIKE '*%';
    FOR i IN 0 .. 1500 LOOP
        IF extract(month FROM d)::integer = ANY (months) THEN
            IF dom_star OR dow_star THEN
                day_ok := extract(day FROM d)::integer = ANY (doms) AND extract(dow FROM d)::integer = ANY (dows);
            ELSE
                day_ok := extract(day FROM d)::integer = ANY (doms) OR extract(dow FROM d)::integer = ANY (dows);
            END IF;
            IF day_ok THEN
                FOREACH h IN ARRAY hours LOOP
                    CONTINUE WHEN d = t::date AND h < extract(hour FROM t);
                    FOREACH mi IN ARRAY mins LOOP
                        CONTINUE WHEN d = t::date AND h = extract(hour FROM t) AND mi < extract(minute FROM t);
                        RETURN (d + make_time(h, mi, 0)) AT TIME ZONE 'UTC';
                    END LOOP;
                END LOOP;
            END IF;
        END IF;
        d := d + 1;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION recgen.cron_next(text, timestamptz) IS
    'The first time strictly after the given one (whole minutes, UTC) that a cron schedule (minute hour day-of-month month day-of-week, or @daily and friends) fires; raises on an invalid schedule';

-- the campaigns table ----------------------------------------------------------

/*
 * campaigns_check: every INSERT or UPDATE of a campaign validates its
 * segment, variants and schedule, so a broken campaign is rejected when it
 * is written, not when it runs.
 */
CREATE OR REPLACE FUNCTION recgen.campaigns_check() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM recgen.validate_segment(NEW.segment);
    NEW.variants := recgen.validate_variants(NEW.variants);
    IF NEW.schedule IS NOT NULL THEN
        PERFORM recgen.cron_next(NEW.schedule, now());
    END IF;
    IF NEW.kind = 'snippet' AND NEW.channel NOT IN ('social', 'sms', 'push', 'web') THEN
        RAISE EXCEPTION 'snippet campaigns go to the social, sms, push or web channel, not "%"', NEW.channel
            USING ERRCODE = 'check_violation';
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION recgen.campaigns_check() IS
    'Trigger: validates a campaign''s segment, variants and schedule when it is written, and keeps updated_at';
CREATE OR REPLACE TRIGGER campaigns_check BEFORE INSERT OR UPDATE ON recgen.campaigns
    FOR EACH ROW EXECUTE FUNCTION recgen.campaigns_check();

/*
 * campaign_audience: who a campaign would reach now, and how: every
 * customer of its segment with the variant (NULL: holdout) and whether
 * they consented to marketing. Runs nothing and records nothing.
 */
CREATE OR REPLACE FUNCTION recgen.campaign_audience(campaign text)
RETURNS TABLE (customer_id bigint, variant text, holdout boolean, consent_marketing boolean)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c recgen.campaigns;
BEGIN
    SELECT * INTO c FROM recgen.campaigns WHERE name = campaign;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'campaign "%" does not exist', campaign
            USING ERRCODE = 'undefined_object', HINT = 'Campaigns are rows of recgen.campaigns.';
    END IF;
    RETURN QUERY
        SELECT m.id, v.variant, v.variant IS NULL, cu.consent_marketing
          FROM recgen.segment_members(c.segment) m(id)
          JOIN recgen.customers cu ON cu.customer_id = m.id
          CROSS JOIN LATERAL (SELECT recgen.campaign_variant(c.name, c.variants, c.holdout_pct, m.id) AS variant) v
         ORDER BY m.id;
END
$$;
COMMENT ON FUNCTION recgen.campaign_audience(text) IS
    'Preview of a campaign: every customer of its segment (as you see them) with their variant, whether they are held out, and their marketing consent; records nothing';

GRANT SELECT ON recgen.campaigns, recgen.frequency_caps, recgen.quiet_hours, recgen.time_zones,
                recgen.model_prices, recgen.campaign_runs
    TO recgen_admin, recgen_analyst, recgen_worker;
GRANT INSERT, UPDATE, DELETE ON recgen.campaigns, recgen.frequency_caps, recgen.quiet_hours,
                                recgen.time_zones, recgen.model_prices
    TO recgen_admin;
