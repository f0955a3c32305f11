/*
 * Recommendation engine: refresh_model, recommend, similar.
 */

CREATE OR REPLACE FUNCTION recgen.refresh_model(as_of timestamptz DEFAULT now(),
    OUT model_id bigint, OUT items integer, OUT pairs bigint, OUT ms double precision)
RETURNS record
AS 'MODULE_PATHNAME', 'recgen_refresh_model'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- compiling the event scan costs more than it saves (10M events: -4 %)
SET jit = off;
COMMENT ON FUNCTION recgen.refresh_model(timestamptz) IS
    'Builds the recommendation model (co-occurrence and content neighbours, popularity) from events before as_of of customers with consent_profiling and from anonymous baskets, and makes it current atomically; returns model_id, items with neighbours, neighbour pairs stored and milliseconds';
REVOKE ALL ON FUNCTION recgen.refresh_model(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.refresh_model(timestamptz) TO recgen_admin;
CREATE OR REPLACE FUNCTION recgen.recommend(customer_id bigint, n integer DEFAULT 5,
    strategy text DEFAULT 'balanced', as_of timestamptz DEFAULT NULL)
RETURNS TABLE (rank integer, product_id bigint, name text, score double precision,
               reason text, reason_detail jsonb)
AS 'MODULE_PATHNAME', 'recgen_recommend'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL RESTRICTED
ROWS 5;
COMMENT ON FUNCTION recgen.recommend(bigint, integer, text, timestamptz) IS
    'Top-n products for a customer who consented to profiling, by strategy (balanced, similar, complementary, upsell, popular, new), after business rules, with a reason code and reason_detail jsonb; as_of (default now) limits the history used (offline evaluation). Runs as the caller: row-level security applies.';
REVOKE ALL ON FUNCTION recgen.recommend(bigint, integer, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.recommend(bigint, integer, text, timestamptz)
    TO recgen_admin, recgen_analyst, recgen_worker;
CREATE OR REPLACE FUNCTION recgen.similar(product_id bigint, n integer DEFAULT 10, kind text DEFAULT 'similar')
RETURNS TABLE (rank integer, neighbor_id bigint, name text, score double precision, relation text)
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF $3 IS NULL OR $3 NOT IN ('similar', 'bought_together') THEN
        RAISE EXCEPTION 'unknown kind "%"', $3
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Kinds are similar (content, then co-occurrence) and bought_together (co-occurrence).';
    END IF;
    IF $2 IS NULL OR $2 <= 0 OR $2 > 1000 THEN
        RAISE EXCEPTION 'n must be between 1 and 1000, not %', coalesce($2::text, 'null')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM recgen.products p WHERE p.product_id = $1) THEN
        RAISE EXCEPTION 'product % does not exist', $1
            USING ERRCODE = 'no_data_found';
    END IF;
    RETURN QUERY
    SELECT (row_number() OVER (ORDER BY x.s DESC, x.nb))::integer, x.nb, p.name, x.s, x.k
    FROM (
        SELECT DISTINCT ON (nb.neighbor_id) nb.neighbor_id AS nb,
               (nb.score * CASE WHEN $3 = 'similar' AND nb.kind = 'cooc' THEN 0.5 ELSE 1 END)::float8 AS s,
               CASE nb.kind WHEN 'cooc' THEN 'bought_together' ELSE 'similar' END AS k
        FROM recgen.item_neighbor_pairs nb
        WHERE nb.model_id = (SELECT mc.model_id FROM recgen.model_current mc)
          AND nb.product_id = $1
          AND ($3 = 'similar' OR nb.kind = 'cooc')
        ORDER BY nb.neighbor_id, 2 DESC
    ) x
    JOIN recgen.products p ON p.product_id = x.nb
    WHERE p.active AND coalesce(p.stock, 1) > 0
    ORDER BY x.s DESC, x.nb
    LIMIT $2;
END
$$;
COMMENT ON FUNCTION recgen.similar(bigint, integer, text) IS
    'Neighbours of a product in the current model: kind similar (content neighbours, co-occurrence ones at half weight) or bought_together (co-occurrence); only active, in-stock products';
REVOKE ALL ON FUNCTION recgen.similar(bigint, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.similar(bigint, integer, text)
    TO recgen_admin, recgen_analyst, recgen_worker;
