-- recommend_standin.sql - a stand-in for recgen.recommend(), for tests only.
--
-- The recommendation engine lives on another branch. Until it is merged,
-- the content tests need some recommend() to build a context from: this
-- creates a simple one (the most popular products, in the customer's
-- categories first, not yet bought) ONLY when the extension has none, so
-- the same tests run unchanged after the merge. Not part of the extension.
DO $standin$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'recommend' AND pronamespace = 'recgen'::regnamespace) THEN
        RETURN;
    END IF;
    EXECUTE $f$
    CREATE FUNCTION recgen.recommend(customer_id bigint, n integer DEFAULT 5, strategy text DEFAULT 'balanced')
    RETURNS TABLE (rank integer, product_id bigint, name text, score double precision, reason text, reason_detail jsonb)
    LANGUAGE sql STABLE
    AS $body$
        WITH mine AS (
            SELECT DISTINCT p.category, e.product_id
              FROM recgen.events e JOIN recgen.products p USING (product_id)
             WHERE e.customer_id = $1 AND e.kind = 'purchase'
        ), pop AS (
            SELECT e.product_id, count(*) AS c
              FROM recgen.events e WHERE e.kind = 'purchase' AND e.product_id IS NOT NULL
             GROUP BY 1
        )
        SELECT (row_number() OVER (ORDER BY (p.category IN (SELECT category FROM mine)) DESC, pop.c DESC, p.product_id))::int,
               p.product_id, p.name,
               pop.c::double precision,
               CASE WHEN p.category IN (SELECT category FROM mine)
                    THEN 'popular in ' || p.category || ', a category you buy'
                    ELSE 'popular with customers like you' END,
               jsonb_build_object('kind', 'popular', 'category', p.category)
          FROM recgen.products p JOIN pop USING (product_id)
         WHERE p.active AND p.product_id NOT IN (SELECT m.product_id FROM mine m)
         ORDER BY 1
         LIMIT $2
    $body$
    $f$;
END
$standin$;
