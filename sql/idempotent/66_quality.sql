/*
 * Quality of generated content, measured in SQL: recgen.evaluate_content
 * summarises a set of recgen.content rows (a batch, a campaign run, the
 * emails of one model) in one row a team can set thresholds on. The
 * campaign quality view and bench/llm/quality.sh use it.
 *
 * The text of a content is its body (email) or text; the measures:
 *   first_attempt_pass  share that passed the guard at the first answer
 *                       (of an email in parts: after the part retry, if
 *                       any; recgen.evaluate_calls counts those)
 *   fallback            share delivered as the deterministic fallback
 *   personalization     share whose text refers to the customer's own
 *                       history: a purchase of theirs by name (the last
 *                       purchases, the purchases that led to a
 *                       recommendation), one of their categories, or a
 *                       concern topic (only present with social consent);
 *                       product names are masked before categories are
 *                       looked for, so "storage jar" is no reference to
 *                       the category storage
 *   products_named      mean share of the recommended products (context
 *                       items) a text names; all_products_named: share of
 *                       texts that name every one
 *   without_products    texts whose context had no product at all
 *   distinct_1/2        distinct words / word pairs over all words / word
 *                       pairs of all texts (Li et al. 2016); 1 = no phrase
 *                       used twice anywhere
 *   mean_similarity     mean cosine similarity of the texts' word counts
 *                       over all pairs (of at most 300 texts, the lowest
 *                       content ids, for larger sets); 0 = nothing shared
 *   words               mean, min and max length in words
 *   tokens, llm time    prompt and completion tokens, time waiting for the
 *                       LLM, in total and per content
 *
 * Words are those of recgen.guard_norm (lower case, punctuation dropped).
 * The function runs with the caller's rights: row-level security limits
 * it to the content the caller may read; ids that are not visible (or do
 * not exist) are not counted.
 */

CREATE OR REPLACE FUNCTION recgen.content_text(c recgen.content) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(c.output ->> 'body', c.output ->> 'text', '')
$$;
COMMENT ON FUNCTION recgen.content_text(recgen.content) IS
    'The text of a content that quality is measured on: the body of an email, else the text';

/*
 * content_personalized: whether a text refers to the customer's own
 * history (their purchases by name, their categories, their concerns).
 */
CREATE OR REPLACE FUNCTION recgen.content_personalized(body text, ctx jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH t AS (SELECT recgen.guard_norm(body) AS norm),
    own AS (   -- the customer's own items: last purchases, and those that led to an item
        SELECT to_jsonb(array_agg(DISTINCT f)) AS forms
          FROM (SELECT x AS n FROM jsonb_array_elements_text(coalesce(ctx #> '{behaviour,last_purchases}', '[]')) x
                UNION ALL
                SELECT b FROM jsonb_array_elements(coalesce(ctx -> 'items', '[]')) i,
                              jsonb_array_elements_text(coalesce(i -> 'because', '[]')) b) s,
               unnest(recgen.guard_name_forms(n)) f),
    rec AS (   -- the recommended products' names, masked before categories are looked for
        SELECT coalesce(jsonb_agg(f ORDER BY length(f) DESC), '[]') AS forms
          FROM jsonb_array_elements(coalesce(ctx -> 'items', '[]') || coalesce(ctx -> 'product', '[]')) i,
               unnest(recgen.guard_name_forms(i ->> 'name')) f),
    interests AS (
        SELECT coalesce(jsonb_agg(DISTINCT h) FILTER (WHERE h <> ''), '[]') AS forms
          FROM (SELECT recgen.guard_norm(x) AS h FROM jsonb_array_elements_text(coalesce(ctx #> '{behaviour,recent_categories}', '[]')) x
                WHERE x <> 'other'
                UNION ALL
                SELECT recgen.guard_norm(c ->> 'topic') FROM jsonb_array_elements(coalesce(ctx -> 'concerns', '[]')) c) s)
    SELECT recgen.guard_has(t.norm, own.forms)
        OR recgen.guard_has(recgen.guard_mask(t.norm, (SELECT forms FROM rec)), interests.forms)
      FROM t, own, interests
$$;
COMMENT ON FUNCTION recgen.content_personalized(text, jsonb) IS
    'Whether a text refers to the customer''s own history in its context: a purchase of theirs by name, one of their categories (product names masked) or a concern topic';

/*
 * content_products_named: how many of the context's recommended products
 * a text names, and how many there are.
 */
CREATE OR REPLACE FUNCTION recgen.content_products_named(body text, ctx jsonb, OUT named integer, OUT items integer)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT count(*) FILTER (WHERE recgen.guard_names(recgen.guard_norm(body), i ->> 'name'))::int, count(*)::int
      FROM jsonb_array_elements(CASE WHEN jsonb_typeof(ctx -> 'product') = 'object' THEN jsonb_build_array(ctx -> 'product')
                                     ELSE coalesce(ctx -> 'items', '[]') END) i
$$;
COMMENT ON FUNCTION recgen.content_products_named(text, jsonb) IS
    'How many of the products a text is about (the context''s items, or its product) the text names, and how many there are';

CREATE OR REPLACE FUNCTION recgen.evaluate_content(content_ids bigint[])
RETURNS TABLE (contents integer, first_attempt_pass numeric, fallback numeric, personalization numeric,
               products_named numeric, all_products_named numeric, without_products integer,
               distinct_1 numeric, distinct_2 numeric, mean_similarity numeric,
               mean_words numeric, min_words integer, max_words integer,
               prompt_tokens bigint, completion_tokens bigint, llm_seconds numeric, llm_ms_per_content numeric)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
    RETURN QUERY
    WITH c AS (
        SELECT x.content_id, x.verdict, x.attempts, x.violations, x.prompt_tokens AS pt, x.completion_tokens AS ct,
               x.llm_ms, x.context, recgen.content_text(x) AS body,
               string_to_array(nullif(recgen.guard_norm(recgen.content_text(x)), ''), ' ') AS words
          FROM recgen.content x
         WHERE x.content_id = ANY (content_ids)
    ), per AS (
        SELECT c.*, recgen.content_personalized(c.body, c.context) AS personal, p.named, p.items
          FROM c, recgen.content_products_named(c.body, c.context) p
    ), grams AS (
        SELECT array_to_string(c.words[i:i + n - 1], ' ') AS g, n
          FROM c, generate_series(1, 2) n, generate_series(1, coalesce(cardinality(c.words), 0) - n + 1) i
    ), d AS (
        SELECT n, count(DISTINCT g)::numeric / nullif(count(*), 0) AS ratio FROM grams GROUP BY n
    ), sample AS (
        SELECT content_id, words FROM c ORDER BY content_id LIMIT 300
    ), tf AS (
        SELECT s.content_id, w, count(*)::float8 AS k FROM sample s, unnest(s.words) w GROUP BY 1, 2
    ), norms AS (
        SELECT content_id, sqrt(sum(k * k)) AS len FROM tf GROUP BY 1
    ), dots AS (
        SELECT a.content_id AS x, b.content_id AS y, sum(a.k * b.k) AS dot
          FROM tf a JOIN tf b ON a.w = b.w AND a.content_id < b.content_id
         GROUP BY 1, 2
    ), sim AS (
        SELECT coalesce(sum(dots.dot / (nx.len * ny.len)), 0)
               / nullif((SELECT count(*) FROM sample) * ((SELECT count(*) FROM sample) - 1) / 2, 0) AS mean
          FROM dots JOIN norms nx ON nx.content_id = dots.x JOIN norms ny ON ny.content_id = dots.y
    )
    SELECT count(*)::int,
           round(avg((per.verdict = 'pass' AND per.attempts = 1)::int), 3),
           round(avg((per.verdict = 'fallback')::int), 3),
           round(avg(per.personal::int), 3),
           round(avg(per.named::numeric / nullif(per.items, 0)), 3),
           round(avg((per.named = per.items)::int) FILTER (WHERE per.items > 0), 3),
           count(*) FILTER (WHERE per.items = 0)::int,
           round((SELECT ratio FROM d WHERE d.n = 1), 3),
           round((SELECT ratio FROM d WHERE d.n = 2), 3),
           round((SELECT mean FROM sim)::numeric, 3),
           round(avg(coalesce(cardinality(per.words), 0)), 1),
           min(coalesce(cardinality(per.words), 0))::int,
           max(coalesce(cardinality(per.words), 0))::int,
           sum(per.pt)::bigint, sum(per.ct)::bigint,
           round((sum(per.llm_ms) / 1000)::numeric, 1),
           round((avg(per.llm_ms))::numeric, 0)
      FROM per;
END
$$;
COMMENT ON FUNCTION recgen.evaluate_content(bigint[]) IS
    'Quality of a set of contents in one row: count, first-attempt guard pass rate, fallback rate, personalization (share referring to the customer''s own purchases, categories or concerns), products named per content and share naming all, contents without products, distinct-1 and distinct-2 across texts, mean pairwise cosine similarity, length in words, tokens and LLM time';

/*
 * evaluate_calls: what the first-attempt figure of evaluate_content does not
 * show: an email written in parts whose faults were all in some parts had
 * those parts asked for again (a part retry, 65_generate.sql) before its
 * first attempt was judged, so it can pass at the "first attempt" with two
 * LLM calls. Per set: contents, the share that passed with the model's very
 * first answer (no part retry, no rewrite), the share that had a part
 * retry, and the LLM calls per content (every request: answers, part
 * retries, rewrites, failed calls).
 */
CREATE OR REPLACE FUNCTION recgen.evaluate_calls(content_ids bigint[])
RETURNS TABLE (contents integer, first_answer_pass numeric, part_retried numeric, llm_calls_per_content numeric)
LANGUAGE sql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT count(*)::int,
           round(avg((x.verdict = 'pass' AND x.attempts = 1 AND NOT p.retried)::int), 3),
           round(avg(p.retried::int), 3),
           round(avg(coalesce(cardinality(x.call_ids), 0)), 2)
      FROM recgen.content x,
           LATERAL (SELECT EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(x.violations, '[]')) v
                                    WHERE v ->> 'stage' = 'part') AS retried) p
     WHERE x.content_id = ANY (content_ids)
$$;
COMMENT ON FUNCTION recgen.evaluate_calls(bigint[]) IS
    'LLM calls behind a set of contents: count, share passed with the model''s very first answer (no part retry nor rewrite), share with a part retry (only the faulty parts of an email asked for again), LLM calls per content';

GRANT EXECUTE ON FUNCTION recgen.evaluate_calls(bigint[]) TO recgen_admin, recgen_analyst, recgen_worker;
GRANT EXECUTE ON FUNCTION recgen.evaluate_content(bigint[]), recgen.content_text(recgen.content),
    recgen.content_personalized(text, jsonb), recgen.content_products_named(text, jsonb)
    TO recgen_admin, recgen_analyst, recgen_worker;
