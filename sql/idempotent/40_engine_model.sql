/*
 * Recommendation engine: model tables and business rules.
 *
 * The model is built by recgen.refresh_model() (C, src/model_refresh.c)
 * under a new model_id; recgen.model_current points at the model readers
 * use. refresh_model() builds the new rows, moves the pointer and deletes
 * the previous model's rows, all in its own transaction: readers in other
 * transactions see the old model until it commits and the whole new model
 * after (MVCC), never a half-built one, and they are never blocked.
 *
 * Model tables hold no personal data (items, pairs of items, scores and
 * per-segment/per-country aggregates), so analysts and workers may read
 * them. They are learned only from events of customers with
 * consent_profiling and from anonymous baskets.
 */

CREATE OR REPLACE VIEW recgen.item_neighbor_pairs AS
    SELECT n.model_id, n.product_id, n.kind, u.neighbor_id, u.score, u.support, u.ord::integer AS rank
    FROM recgen.item_neighbors n,
         unnest(n.neighbor_ids, n.scores, n.supports) WITH ORDINALITY AS u(neighbor_id, score, support, ord);
COMMENT ON VIEW recgen.item_neighbor_pairs IS
    'recgen.item_neighbors one (item, neighbour) pair a row';
GRANT SELECT ON recgen.models, recgen.model_current, recgen.item_neighbors,
    recgen.item_neighbor_pairs, recgen.item_popularity, recgen.rules
    TO recgen_admin, recgen_analyst, recgen_worker;
GRANT INSERT, UPDATE, DELETE ON recgen.rules TO recgen_admin;
GRANT USAGE, SELECT ON SEQUENCE recgen.rules_rule_id_seq TO recgen_admin;

CREATE OR REPLACE FUNCTION recgen.variant_name(name text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN lower(regexp_replace(btrim(name), '\s+', ' ', 'g'));
COMMENT ON FUNCTION recgen.variant_name(text) IS
    'A product name normalised for variant grouping (lower case, white space collapsed and trimmed): recommend() treats products of the same variant_name, or the same group_key, as one product';
GRANT EXECUTE ON FUNCTION recgen.variant_name(text) TO PUBLIC;

DROP POLICY IF EXISTS admin_all ON recgen.customer_profiles;
CREATE POLICY admin_all ON recgen.customer_profiles TO recgen_admin USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS consented_profiling ON recgen.customer_profiles;
CREATE POLICY consented_profiling ON recgen.customer_profiles FOR SELECT
    TO recgen_analyst, recgen_worker
    USING (recgen.profiling_allowed(customer_id));
COMMENT ON POLICY admin_all ON recgen.customer_profiles IS 'recgen_admin reads every profile';
COMMENT ON POLICY consented_profiling ON recgen.customer_profiles IS
    'Analysts and workers see the profiles of customers who consented to profiling (recommend() reads them as its caller)';
GRANT SELECT ON recgen.customer_profiles TO recgen_admin, recgen_analyst, recgen_worker;
