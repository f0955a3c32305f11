/*
 * Offline evaluation of recommendations: a temporal split.
 *
 * recgen.evaluate_recommendations(split, k, ...) trains on the purchases
 * before split (the model is rebuilt with refresh_model(split)), holds out
 * what each customer bought from split on (up to test_end), and reports
 * HR@k, NDCG@k, precision@k, recall@k and catalog coverage per method and
 * protocol:
 *   all  targets are every product bought after the split; recommendations
 *        may include items bought before (replenishment: recgen runs with
 *        recgen.repurchase = always);
 *   new  targets leave out items the customer bought before the split, and
 *        so do the recommendations (recgen.repurchase = never).
 * Methods: recgen (recommend(..., 'balanced', as_of => split), no category
 * cap), popular (most bought in training), own (the customer's own most
 * bought items, by count then recency; protocol all only).
 * Comparable figures: purchase events with a product only (quantities are
 * positive, cancellations are returns and non-product codes have no
 * product); evaluation customers have consent_profiling and purchases on
 * both sides of the split; every method sees the same customers and the
 * same training events (consented customers' purchases; recgen also uses
 * anonymous baskets for co-occurrence, as in production).
 *
 * The model refresh runs inside a subtransaction that is rolled back at the
 * end, so the current model is left as it was (keep_model => true keeps
 * the split model instead).
 */

CREATE OR REPLACE FUNCTION recgen.evaluate_recommendations(
    split timestamptz,
    k integer DEFAULT 10,
    methods text[] DEFAULT '{recgen,popular,own}',
    protocols text[] DEFAULT '{all,new}',
    test_end timestamptz DEFAULT NULL,
    max_customers integer DEFAULT NULL,
    keep_model boolean DEFAULT false)
RETURNS TABLE (method text, protocol text, customers integer, top_k integer,
               hr double precision, ndcg double precision, precision_at_k double precision,
               recall_at_k double precision, coverage double precision, train_ms double precision)
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
-- its DROP TABLE IF EXISTS of scratch tables would print a NOTICE each
SET client_min_messages = warning
AS $$
#variable_conflict use_column
DECLARE
    p_split constant timestamptz := $1;
    p_k constant integer := $2;
    p_end constant timestamptz := coalesce($5, 'infinity');
    res jsonb;
    t0 timestamptz;
    ms double precision;
    old_repurchase text := current_setting('recgen.repurchase');
    old_cap text := current_setting('recgen.max_per_category');
    proto text;
BEGIN
    IF p_split IS NULL THEN
        RAISE EXCEPTION 'split must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_k IS NULL OR p_k < 1 OR p_k > 1000 THEN
        RAISE EXCEPTION 'k must be between 1 and 1000, not %', coalesce(p_k::text, 'null')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT protocols <@ '{all,new}'::text[] OR NOT methods <@ '{recgen,popular,own}'::text[] THEN
        RAISE EXCEPTION 'unknown method or protocol'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Methods are recgen, popular and own; protocols are all and new.';
    END IF;

    BEGIN
        DROP TABLE IF EXISTS recgen_eval_train, recgen_eval_bought, recgen_eval_cust,
            recgen_eval_target, recgen_eval_rec, recgen_eval_time, recgen_eval_pop;
        CREATE TEMP TABLE recgen_eval_train AS
            SELECT e.customer_id, e.product_id, e.occurred_at
            FROM recgen.events e JOIN recgen.customers c ON c.customer_id = e.customer_id
            WHERE c.consent_profiling AND e.kind = 'purchase' AND e.product_id IS NOT NULL
              AND e.occurred_at < p_split;
        CREATE TEMP TABLE recgen_eval_cust AS
            SELECT t.customer_id FROM (
                SELECT DISTINCT e.customer_id
                FROM recgen.events e JOIN recgen.customers c ON c.customer_id = e.customer_id
                WHERE c.consent_profiling AND e.kind = 'purchase' AND e.product_id IS NOT NULL
                  AND e.occurred_at >= p_split AND e.occurred_at < p_end
                  AND EXISTS (SELECT 1 FROM recgen_eval_train tr WHERE tr.customer_id = e.customer_id)
            ) t ORDER BY hashint8(t.customer_id), t.customer_id LIMIT max_customers;
        CREATE TEMP TABLE recgen_eval_bought AS
            SELECT DISTINCT customer_id, product_id FROM recgen_eval_train;
        ANALYZE recgen_eval_train;
        ANALYZE recgen_eval_bought;
        ANALYZE recgen_eval_cust;
        CREATE TEMP TABLE recgen_eval_target AS
            SELECT DISTINCT pr.protocol, e.customer_id, e.product_id
            FROM recgen.events e
            JOIN recgen_eval_cust ec ON ec.customer_id = e.customer_id
            CROSS JOIN unnest(protocols) AS pr(protocol)
            WHERE e.kind = 'purchase' AND e.product_id IS NOT NULL
              AND e.occurred_at >= p_split AND e.occurred_at < p_end
              AND (pr.protocol = 'all' OR NOT EXISTS (
                    SELECT 1 FROM recgen_eval_bought b
                    WHERE b.customer_id = e.customer_id AND b.product_id = e.product_id));
        ANALYZE recgen_eval_target;
        CREATE TEMP TABLE recgen_eval_rec (method text, protocol text, customer_id bigint,
                                           rank integer, product_id bigint);
        CREATE TEMP TABLE recgen_eval_time (method text, ms double precision);

        IF 'recgen' = ANY (methods) THEN
            t0 := clock_timestamp();
            PERFORM recgen.refresh_model(p_split);
            INSERT INTO recgen_eval_time
                VALUES ('recgen', 1000 * extract(epoch FROM clock_timestamp() - t0));
            PERFORM set_config('recgen.max_per_category', '0', true);
            FOREACH proto IN ARRAY protocols LOOP
                PERFORM set_config('recgen.repurchase', CASE proto WHEN 'all' THEN 'always' ELSE 'never' END, true);
                INSERT INTO recgen_eval_rec
                    SELECT 'recgen', proto, ec.customer_id, r.rank, r.product_id
                    FROM recgen_eval_cust ec,
                         LATERAL recgen.recommend(ec.customer_id, p_k, 'balanced', p_split) r;
            END LOOP;
            PERFORM set_config('recgen.repurchase', old_repurchase, true);
            PERFORM set_config('recgen.max_per_category', old_cap, true);
        END IF;

        IF 'popular' = ANY (methods) THEN
            t0 := clock_timestamp();
            CREATE TEMP TABLE recgen_eval_pop AS
                SELECT product_id, row_number() OVER (ORDER BY count(*) DESC, product_id) AS r
                FROM recgen_eval_train GROUP BY product_id
                ORDER BY r LIMIT 1000;
            INSERT INTO recgen_eval_time
                VALUES ('popular', 1000 * extract(epoch FROM clock_timestamp() - t0));
            INSERT INTO recgen_eval_rec
                SELECT 'popular', x.protocol, x.customer_id, x.rn, x.product_id FROM (
                    SELECT pr.protocol, ec.customer_id, p.product_id,
                           row_number() OVER (PARTITION BY pr.protocol, ec.customer_id ORDER BY p.r)::int AS rn
                    FROM unnest(protocols) AS pr(protocol)
                    CROSS JOIN recgen_eval_cust ec
                    CROSS JOIN recgen_eval_pop p
                    LEFT JOIN recgen_eval_bought b
                           ON b.customer_id = ec.customer_id AND b.product_id = p.product_id
                    WHERE pr.protocol = 'all' OR b.customer_id IS NULL
                ) x
                WHERE x.rn <= p_k;
            DROP TABLE recgen_eval_pop;
        END IF;

        IF 'own' = ANY (methods) AND 'all' = ANY (protocols) THEN
            t0 := clock_timestamp();
            INSERT INTO recgen_eval_rec
                SELECT 'own', 'all', customer_id, rn, product_id FROM (
                    SELECT tr.customer_id, tr.product_id,
                           row_number() OVER (PARTITION BY tr.customer_id
                                              ORDER BY count(*) DESC, max(tr.occurred_at) DESC, tr.product_id)::int AS rn
                    FROM recgen_eval_train tr JOIN recgen_eval_cust ec USING (customer_id)
                    GROUP BY tr.customer_id, tr.product_id) o
                WHERE rn <= p_k;
            INSERT INTO recgen_eval_time
                VALUES ('own', 1000 * extract(epoch FROM clock_timestamp() - t0));
        END IF;

        ANALYZE recgen_eval_rec;
        SELECT jsonb_agg(to_jsonb(m) ORDER BY m.method, m.protocol) INTO res FROM (
            WITH tn AS (
                SELECT protocol, customer_id, count(*) AS n FROM recgen_eval_target GROUP BY 1, 2
            ), mp AS (
                SELECT r.method, r.protocol, count(DISTINCT r.product_id) AS distinct_items
                FROM recgen_eval_rec r GROUP BY 1, 2
            ), h AS (
                SELECT r.method, r.protocol, r.customer_id, count(*) AS hits,
                       sum(1.0 / log(2, r.rank + 1)) AS dcg
                FROM recgen_eval_rec r
                JOIN recgen_eval_target tg ON tg.protocol = r.protocol
                     AND tg.customer_id = r.customer_id AND tg.product_id = r.product_id
                WHERE r.rank <= p_k
                GROUP BY 1, 2, 3
            ), idcg AS (
                SELECT i, sum(1.0 / log(2, i + 1)) OVER (ORDER BY i) AS v
                FROM generate_series(1, p_k) i
            )
            SELECT mp.method, mp.protocol, count(*)::int AS customers,
                   avg((coalesce(h.hits, 0) > 0)::int)::float8 AS hr,
                   avg(coalesce(h.dcg, 0) / idcg.v)::float8 AS ndcg,
                   avg(coalesce(h.hits, 0)::float8 / p_k) AS precision_at_k,
                   avg(coalesce(h.hits, 0)::float8 / tn.n) AS recall_at_k,
                   max(mp.distinct_items)::float8
                     / greatest((SELECT count(*) FROM recgen.products), 1) AS coverage,
                   (SELECT max(tm.ms) FROM recgen_eval_time tm WHERE tm.method = mp.method) AS train_ms
            FROM mp
            JOIN tn ON tn.protocol = mp.protocol
            JOIN idcg ON idcg.i = least(p_k, tn.n)
            LEFT JOIN h ON h.method = mp.method AND h.protocol = mp.protocol AND h.customer_id = tn.customer_id
            GROUP BY mp.method, mp.protocol) m;

        DROP TABLE recgen_eval_train, recgen_eval_bought, recgen_eval_cust, recgen_eval_target, recgen_eval_rec, recgen_eval_time;
        IF NOT keep_model THEN
            RAISE EXCEPTION USING ERRCODE = 'RGEV0', MESSAGE = 'recgen evaluation rollback';
        END IF;
    EXCEPTION WHEN SQLSTATE 'RGEV0' THEN
        NULL;   -- the model and settings of this evaluation are rolled back
    END;

    RETURN QUERY
    SELECT x.method, x.protocol, x.customers, p_k, x.hr, x.ndcg, x.precision_at_k,
           x.recall_at_k, x.coverage, x.train_ms
    FROM jsonb_to_recordset(coalesce(res, '[]')) AS x(method text, protocol text, customers integer,
         hr float8, ndcg float8, precision_at_k float8, recall_at_k float8, coverage float8,
         train_ms float8);
END
$$;
COMMENT ON FUNCTION recgen.evaluate_recommendations(timestamptz, integer, text[], text[], timestamptz, integer, boolean) IS
    'Offline evaluation on a temporal split: trains on purchases before split, tests on what each evaluation customer bought from split (to test_end), and reports HR@k, NDCG@k, precision@k, recall@k and coverage for recgen, popular and own under the protocols all and new; leaves the current model unchanged unless keep_model';
REVOKE ALL ON FUNCTION recgen.evaluate_recommendations(timestamptz, integer, text[], text[], timestamptz, integer, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.evaluate_recommendations(timestamptz, integer, text[], text[], timestamptz, integer, boolean)
    TO recgen_admin;
