/*
 * Context builder: the one JSON document an LLM sees about a customer.
 *
 * Written in SQL/PL/pgSQL rather than C: it is a handful of indexed
 * queries whose result is JSON, which SQL expresses directly, and admins
 * can read exactly what leaves the database. Everything the model may
 * state comes from this document; the guard checks outputs against it.
 *
 * Minimization: first name only by default (recgen.prompt_personal_data
 * = none drops it, full_name adds the surname); never e-mail, phone or
 * ids other than product ids. Customer-written text (names, social posts)
 * is untrusted: names are reduced to letters, spaces, hyphens and
 * apostrophes and capped at 40 characters; post excerpts are capped at
 * 160 characters and fenced in <<customer_text>> markers, and they are
 * included only for customers with consent_social (checked explicitly,
 * because superusers bypass row-level security).
 *
 * The function runs with the caller's rights, so row-level security still
 * applies to what it reads.
 */

CREATE OR REPLACE FUNCTION recgen.money_text(amount numeric, currency text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN amount IS NULL THEN NULL
                WHEN currency = 'GBP' THEN '£' || to_char(amount, 'FM999999990.00')
                WHEN currency = 'EUR' THEN '€' || to_char(amount, 'FM999999990.00')
                WHEN currency = 'USD' THEN '$' || to_char(amount, 'FM999999990.00')
                ELSE to_char(amount, 'FM999999990.00') || ' ' || coalesce(currency, '') END
$$;
COMMENT ON FUNCTION recgen.money_text(numeric, text) IS
    'An amount as content shows it: £12.50, €3.00, $7.99 or 12.50 CHF';
/*
 * fence_customer_text: customer-written text as a prompt may carry it, one
 * line between <<customer_text>> markers. Nothing inside can imitate a
 * marker: compatibility forms are folded (NFKC, in UTF-8 databases: a
 * full-width ＜ is a <), every angle bracket and look-alike (< > ‹ › « »
 * and the like) and every invisible formatting character is removed, and
 * so is the marker's name ("customer_text", however written). The cap
 * applies to what is left.
 */
CREATE OR REPLACE FUNCTION recgen.fence_customer_text(body text, cap integer DEFAULT 160) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT '<<customer_text>>'
        || left(btrim(regexp_replace(regexp_replace(regexp_replace(
               CASE WHEN getdatabaseencoding() = 'UTF8' THEN normalize(body, NFKC) ELSE body END,
               '[<>\u2039\u203A\u00AB\u00BB\u2329\u232A\u3008\u3009\u27E8\u27E9\u276E\u276F\u02C2\u02C3\u2264\u2265\u200B-\u200F\u2060\uFEFF]',
               '', 'g'),
               'customer[^[:alnum:]]{0,3}text', '', 'gi'),
               '[[:space:]]+', ' ', 'g')), cap)
        || '<</customer_text>>'
$$;
COMMENT ON FUNCTION recgen.fence_customer_text(text, integer) IS
    'Untrusted customer-written text as it may appear in a prompt: brackets, look-alikes, invisible characters and the marker''s name removed, one line, capped, fenced in <<customer_text>> markers';

/*
 * safe_name: a customer-written name as a context may carry it, or NULL.
 * Reduced to letters, spaces, hyphens and apostrophes, at most 40
 * characters and max_words words; a name holding one of the brand's
 * banned phrases or over-promising words (recgen.brand; whole words, as
 * the guard matches them) is dropped, since content addressing the
 * customer by it could never pass the guard ("Click Here" as a first
 * name). In prompts the name is fenced besides (recgen.prompt_doc).
 */
CREATE OR REPLACE FUNCTION recgen.safe_name(name text, max_words integer DEFAULT 3) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH n AS (
        SELECT nullif(left(btrim(regexp_replace(regexp_replace(name, '[^[:alpha:] ''-]', '', 'g'), '\s+', ' ', 'g')), 40), '') AS v
    )
    SELECT n.v FROM n
     WHERE n.v IS NOT NULL
       AND array_length(regexp_split_to_array(n.v, ' '), 1) <= max_words
       AND NOT EXISTS (
           SELECT 1 FROM recgen.brands b, unnest(b.banned_phrases || b.overpromising) f
            WHERE b.brand = current_setting('recgen.brand')
              AND lower(n.v) ~ ('(^|[^[:alnum:]])' || regexp_replace(lower(f), '([.*+?^${}()|\[\]\\%])', '\\\1', 'g')
                                || '($|[^[:alnum:]])'))
$$;
COMMENT ON FUNCTION recgen.safe_name(text, integer) IS
    'A customer''s name as a context may carry it: letters, spaces, hyphens and apostrophes, 40 characters and max_words words at most, and none of the brand''s banned phrases or over-promising words; else NULL';

/*
 * prompt_doc: the document a prompt template is filled from: the context
 * with the customer's name fenced like other customer-written text (the
 * model reads it as data, not instructions), plus what the pipeline adds.
 * unfence_names undoes the fence where an answer copied it around the
 * name (or around the campaign, which the caller writes and the prompt
 * fences too), so the delivered text addresses the customer by name.
 */
CREATE OR REPLACE FUNCTION recgen.prompt_doc(ctx jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN jsonb_typeof(ctx #> '{customer,first_name}') = 'string'
                THEN jsonb_set(ctx, '{customer,first_name}',
                               to_jsonb(recgen.fence_customer_text(ctx #>> '{customer,first_name}', 40)))
                ELSE ctx END
$$;
COMMENT ON FUNCTION recgen.prompt_doc(jsonb) IS
    'A context as prompt templates see it: the customer''s name fenced in <<customer_text>> markers';
CREATE OR REPLACE FUNCTION recgen.unfence_names(output jsonb, ctx jsonb, campaign text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    name text := ctx #>> '{customer,first_name}';
    out jsonb := '{}';
    k text;
    v jsonb;
    t text;
BEGIN
    IF jsonb_typeof(output) IS DISTINCT FROM 'object' OR (name IS NULL AND campaign IS NULL) THEN
        RETURN output;
    END IF;
    FOR k, v IN SELECT * FROM jsonb_each(output) LOOP
        IF jsonb_typeof(v) = 'string' THEN
            t := v #>> '{}';
            IF name IS NOT NULL THEN
                t := replace(t, recgen.fence_customer_text(name, 40), name);
            END IF;
            IF campaign IS NOT NULL THEN
                t := replace(t, recgen.fence_customer_text(campaign, 80),
                             substr(recgen.fence_customer_text(campaign, 80), 18,
                                    length(recgen.fence_customer_text(campaign, 80)) - 35));
            END IF;
            v := to_jsonb(t);
        END IF;
        out := out || jsonb_build_object(k, v);
    END LOOP;
    RETURN out;
END
$$;
COMMENT ON FUNCTION recgen.unfence_names(jsonb, jsonb, text) IS
    'An answer with the fenced customer name and campaign (as the prompt showed them) turned back into their text; any other fence marker stays for the guard to reject';

/*
 * The engine's reason codes (recgen.recommend().reason) as words a customer
 * reads: the context, and so the prompt and the fallback text, carry these.
 */
CREATE OR REPLACE FUNCTION recgen.reason_text(code text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE code
        WHEN 'bought_together' THEN 'often bought together with items you chose'
        WHEN 'similar' THEN 'similar to items you liked'
        WHEN 'repeat' THEN 'you have bought it before'
        WHEN 'category_affinity' THEN 'from a category you like'
        WHEN 'popular' THEN 'popular with our customers'
        WHEN 'popular_segment' THEN 'popular with customers like you'
        WHEN 'similar_customers' THEN 'chosen by customers like you'
        WHEN 'popular_country' THEN 'popular in your country'
        WHEN 'cross_sell' THEN 'goes well with what you already have'
        WHEN 'upsell' THEN 'a step up from what you have'
        WHEN 'new' THEN 'new in our range'
        ELSE replace(code, '_', ' ')
    END
$$;
COMMENT ON FUNCTION recgen.reason_text(text) IS
    'A recommendation reason code of recgen.recommend() as customer-facing words';
CREATE OR REPLACE FUNCTION recgen.product_json(p recgen.products, reason text DEFAULT NULL) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'product_id', p.product_id,
        'name', p.name,
        'category', p.category,
        'price', p.price,
        'currency', p.currency,
        -- a product with a rate (a loan, a mortgage, a saver: attributes.rate_pct)
        -- shows its rate, never its price field, which for such a product is
        -- no price to the reader (a mortgage's 999.00 is its arrangement fee);
        -- other products without a price (accounts) show nothing
        'price_text', CASE WHEN jsonb_typeof(p.attributes -> 'rate_pct') = 'number'
                           THEN (p.attributes ->> 'rate_pct') || '% rate'
                           WHEN p.price > 0 THEN recgen.money_text(p.price, p.currency) END,
        'rate_pct', p.attributes -> 'rate_pct',
        'description', nullif(btrim(p.description), ''),
        'reason', reason))
$$;
COMMENT ON FUNCTION recgen.product_json(recgen.products, text) IS
    'A product as the context shows it: id, name, category, price, its text (the rate for products priced 0 that have one, else none), rate where it has one, its description, and the reason it is suggested';
CREATE OR REPLACE FUNCTION recgen.item_line(i jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT format('- %s%s%s', i ->> 'name', coalesce(' (' || (i ->> 'price_text') || ')', ''),
                  coalesce(': ' || (i ->> 'reason'), ''))
$$;
COMMENT ON FUNCTION recgen.item_line(jsonb) IS
    'One item of a context as a list line, "- name (price): reason", for prompts and fallbacks';
CREATE OR REPLACE FUNCTION recgen.context(customer_id bigint, n integer DEFAULT 3, strategy text DEFAULT 'balanced')
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c recgen.customers;
    pii text := current_setting('recgen.prompt_personal_data');
    v_name text;
    v_behaviour jsonb;
    v_items jsonb;
    v_concerns jsonb := '[]';
BEGIN
    IF n IS NULL OR n < 0 OR n > 20 THEN
        RAISE EXCEPTION 'n must be between 0 and 20, not %', n
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM recgen.check_consent(customer_id, 'profiling');
    SELECT * INTO c FROM recgen.customers cu WHERE cu.customer_id = context.customer_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'customer % is not visible to you', customer_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;

    v_name := CASE pii
        WHEN 'none' THEN NULL
        WHEN 'full_name' THEN concat_ws(' ', c.first_name, c.last_name)
        ELSE c.first_name END;
    v_name := recgen.safe_name(v_name, CASE pii WHEN 'full_name' THEN 5 ELSE 3 END);

    -- the products of the customer's 500 latest events, looked up one by
    -- one (OFFSET 0 keeps the planner from hashing the whole catalog for
    -- the few dozen events most customers have)
    WITH ev AS (
        SELECT e.kind, e.occurred_at, e.amount, e.basket_id, e.product_id,
               coalesce(p.category, e.attributes ->> 'merchant_category') AS category, p.name
          FROM (SELECT * FROM recgen.events x
                 WHERE x.customer_id = context.customer_id
                 ORDER BY x.occurred_at DESC
                 LIMIT 500) e
          LEFT JOIN LATERAL (SELECT pr.category, pr.name FROM recgen.products pr
                              WHERE pr.product_id = e.product_id OFFSET 0) p ON true
    )
    SELECT jsonb_build_object(
        'recent_categories', coalesce((SELECT jsonb_agg(category) FROM (
              SELECT category FROM ev WHERE category IS NOT NULL AND category <> 'other'
               GROUP BY category ORDER BY count(*) DESC, category LIMIT 3) s), '[]'),
        'last_purchases', coalesce((SELECT jsonb_agg(name) FROM (
              SELECT name, max(occurred_at) AS t FROM ev WHERE kind = 'purchase' AND name IS NOT NULL
               GROUP BY name ORDER BY t DESC, name LIMIT 3) s), '[]'),
        'recency_days', (SELECT extract(day FROM now() - max(occurred_at))::int FROM ev
                          WHERE kind IN ('purchase', 'transaction')),
        'frequency', (SELECT count(DISTINCT coalesce(basket_id, occurred_at::text)) FROM ev
                       WHERE kind IN ('purchase', 'transaction')),
        'monetary', (SELECT round(coalesce(sum(amount), 0), 2) FROM ev
                      WHERE kind IN ('purchase', 'transaction')))
      INTO v_behaviour;
    v_behaviour := v_behaviour || jsonb_build_object('monetary_text',
        recgen.money_text((v_behaviour ->> 'monetary')::numeric, 'GBP'));

    -- each item with the customer's items that led to it (reason_detail.because,
    -- the two of most weight), so a text can say which purchase it follows
    SELECT coalesce(jsonb_agg(recgen.product_json(p, recgen.reason_text(r.reason))
                              || jsonb_strip_nulls(jsonb_build_object('because',
                                     (SELECT jsonb_agg(b.name ORDER BY b.ord)
                                        FROM (SELECT x ->> 'name' AS name, ord
                                                FROM jsonb_array_elements(r.reason_detail -> 'because') WITH ORDINALITY AS e(x, ord)
                                               WHERE coalesce(x ->> 'name', '') <> '' AND x ->> 'name' <> p.name
                                               ORDER BY ord LIMIT 2) b)))
                              ORDER BY r.rank), '[]')
      INTO v_items
      FROM recgen.recommend(context.customer_id, n, coalesce(context.strategy, 'balanced')) r
      JOIN recgen.products p ON p.product_id = r.product_id;

    IF c.consent_social AND to_regclass('recgen.customer_concerns') IS NOT NULL THEN
        EXECUTE $q$
            SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'topic', left(cc.topic, 40),
                       'feeling', CASE WHEN cc.polarity < 0 THEN 'negative' ELSE 'positive' END,
                       'example', recgen.fence_customer_text(sp.body, 160))), '[]')
              FROM (SELECT * FROM recgen.customer_concerns x
                     WHERE x.customer_id = $1
                     ORDER BY x.strength DESC, x.last_seen DESC LIMIT 3) cc
              LEFT JOIN recgen.social_posts sp
                ON sp.customer_id = cc.customer_id AND sp.post_id = cc.example_post_id
        $q$ INTO v_concerns USING customer_id;
    END IF;

    RETURN jsonb_build_object(
        'customer', jsonb_strip_nulls(jsonb_build_object(
            'first_name', v_name, 'segment', c.segment, 'country', c.country, 'locale', c.locale)),
        'behaviour', v_behaviour,
        'concerns', v_concerns,
        'items', v_items);
END
$$;
COMMENT ON FUNCTION recgen.context(bigint, integer, text) IS
    'The JSON document the LLM sees about a customer: minimized profile, behaviour summary, consented social concerns (fenced, capped) and the top-n items recgen.recommend() suggests with the given strategy (default balanced), with name, category, price, description, reason and the customer''s items that led to each (because). Requires consent_profiling.';
GRANT EXECUTE ON FUNCTION recgen.context(bigint, integer, text) TO recgen_admin, recgen_analyst, recgen_worker;
