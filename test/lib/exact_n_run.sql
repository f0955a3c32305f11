-- exact_n_run.sql - recommend() as of :as_of for every customer of x_cust,
-- n in 1, 3, 5, 10, 50, every recgen.repurchase mode and the strategies
-- :strategies (a text[] literal), into x_rec (see exact_n_setup.sql).
SET client_min_messages = warning;
SELECT set_config('x.as_of', :'as_of', false), set_config('x.strategies', :'strategies', false) \gset x_
DO $$
DECLARE
    m text;
    s text;
BEGIN
    FOREACH m IN ARRAY ARRAY['catalog', 'always', 'never'] LOOP
        PERFORM set_config('recgen.repurchase', m, true);
        FOREACH s IN ARRAY current_setting('x.strategies')::text[] LOOP
            INSERT INTO x_rec
            SELECT s, m, c.customer_id, nn.n,
                   ARRAY(SELECT r.product_id
                         FROM recgen.recommend(c.customer_id, nn.n, s, current_setting('x.as_of')::timestamptz) r
                         ORDER BY r.rank)
            FROM x_cust c CROSS JOIN (VALUES (1), (3), (5), (10), (50)) nn(n);
        END LOOP;
    END LOOP;
END
$$;

