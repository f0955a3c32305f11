/*
 * Guard: the checks every generated text passes before it is returned as
 * deliverable. recgen.guard returns {"ok": bool, "violations": [{rule,
 * detail}]}; the content functions feed the violations back to the model
 * for a rewrite and, when it still fails, render a deterministic template
 * from the same context instead (marked as fallback).
 *
 * Rules:
 *   structure      the fields the kind needs are present and not empty
 *   price          every money amount and percentage in the text is a
 *                  number of the context (prices, rates, spend, or one a
 *                  product's description states), and one
 *                  that follows a context product's name in its sentence
 *                  is not another context product's price or rate
 *                  (recgen.misattributed_price)
 *   product        no product of the catalog is named unless it is in the
 *                  context (an item, or a purchase of the customer's the
 *                  context names), and product ids given are those of
 *                  the context's items
 *   banned         none of the brand's banned phrases
 *   overpromise    none of the brand's over-promising words
 *   disclaimer     the brand's disclaimer, where it requires one
 *   length         the text fits the channel (email: subject 80,
 *                  preheader 140, body the channel's max_chars)
 *   pii            no e-mail address, no phone number
 *   leak           no template placeholder and no fence marker
 *   off_topic      a description or explanation names its product
 *   repetition     no sentence of 20 characters or more said twice, and no
 *                  run of eight words twice in a line of the body (small
 *                  models loop)
 *   (reader)       name, products_named, reason, second_person, placeholder,
 *                  script, cut_off, cta, more repetition, attribute,
 *                  subject, copied: what a person would reject
 *                  (63_guard_reader.sql)
 * (recgen.generate adds "truncated" when the answer hit the token limit.)
 *
 * Phrase matching is case-insensitive on whole words; catalog names are
 * searched as case-insensitive substrings (recgen.catalog_names_in, C,
 * an index of the catalog's names kept per backend), and names shorter
 * than 6 characters are not searched for (they are ordinary words).
 */

CREATE OR REPLACE FUNCTION recgen.catalog_names_in(lowered_text text)
RETURNS text[]
AS 'MODULE_PATHNAME', 'recgen_catalog_names_in'
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION recgen.catalog_names_in(text) IS
    'Names of recgen.products (6 characters or more) whose lower-case form occurs in the given lower-case text, once each in order of first occurrence; the guard''s product rule. The names are indexed per backend and read again after products change.';
GRANT EXECUTE ON FUNCTION recgen.catalog_names_in(text) TO recgen_admin, recgen_analyst, recgen_worker;
CREATE OR REPLACE FUNCTION recgen.misattributed_price(lowered_text text, amount_pos integer, amount numeric,
                                           amount_text text, items jsonb)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH sentence AS (
        -- the amount's sentence up to the amount (a decimal point is no boundary)
        SELECT regexp_replace(substr(lowered_text, 1, amount_pos - 1), '^.*(?:[.!?]\s|\n)', '') AS s
    ), item AS (
        -- a product is named by its name or as content shows it ("shown":
        -- "Set of 4" for the catalog's "SET OF4"), or by its name without the
        -- last word when two or more words remain ("Cash-Back Credit" for
        -- "Cash-Back Credit Card"); own: its price and rate. A purchase of
        -- the customer's ("purchase": no price of its own in the context)
        -- only by its whole name: "Lunch Bag" of their Lunch Bag Woodland
        -- begins the recommended Lunch Bag Black Skull
        SELECT i ->> 'name' AS name,
               ARRAY[nullif((i ->> 'price')::numeric, 0), (i ->> 'rate_pct')::numeric] AS own,
               ARRAY[lower(i ->> 'name'), lower(i ->> 'shown')]
               || ARRAY(SELECT lower(regexp_replace(btrim(x), '\s+\S+$', ''))
                          FROM unnest(ARRAY[i ->> 'name', i ->> 'shown']) x
                         WHERE NOT coalesce((i ->> 'purchase')::boolean, false)
                           AND array_length(regexp_split_to_array(btrim(x), '\s+'), 1) >= 3) AS names
          FROM jsonb_array_elements(items) i
         WHERE i ->> 'name' IS NOT NULL
    ), named AS (
        -- where in the sentence each product is named last (its end)
        SELECT item.name, item.own,
               max(length(s) - strpos(reverse(s), reverse(n)) + 1) AS name_end
          FROM item, sentence, unnest(item.names) n
         WHERE n IS NOT NULL AND strpos(s, n) > 0
         GROUP BY item.name, item.own
    ), nearest AS (
        -- the products named last before the amount (more than one when a
        -- shortened name is shared)
        SELECT * FROM named WHERE name_end = (SELECT max(name_end) FROM named)
    )
    SELECT format('%s is the price or rate of "%s", not of "%s"', amount_text, other.name,
                  (SELECT min(name) FROM nearest))
      FROM (SELECT i.name FROM item i
             WHERE i.name NOT IN (SELECT name FROM nearest)
               AND EXISTS (SELECT 1 FROM unnest(i.own) x WHERE abs(x - amount) < 0.005)
             LIMIT 1) other
     WHERE EXISTS (SELECT 1 FROM nearest)
       AND NOT EXISTS (SELECT 1 FROM nearest n, unnest(n.own) x WHERE abs(x - amount) < 0.005)
$$;
COMMENT ON FUNCTION recgen.misattributed_price(text, integer, numeric, text, jsonb) IS
    'The guard''s check that an amount belongs to the product it follows: when the context product named last before amount_pos in the same sentence of lowered_text (by its name or its shown name, or either without the last word; items marked purchase, the customer''s, by the whole name only and with no price of their own) does not have this price or rate but another context item does, a violation detail; else NULL';
CREATE OR REPLACE FUNCTION recgen.guard(kind text, output jsonb, context jsonb,
                             brand text DEFAULT 'default', channel text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
-- the rules' small queries over JSON look expensive to the planner (100 rows
-- per jsonb_array_elements); compiling them costs more than running them
SET jit = off
AS $$
DECLARE
    v jsonb := '[]';
    b recgen.brands;
    txt text;
    low text;
    f text;
    m text[];
    num numeric;
    allowed numeric[];
    ctx_ids bigint[];
    ctx_names text[];
    priced jsonb;                       -- what recgen.misattributed_price compares
    max_chars integer;
    body_len integer;
    run text;
    digits text;
    k integer;
    price_re constant text := '[£$€]\s?[0-9][0-9,]*(?:\.[0-9]+)?|[0-9][0-9,]*(?:\.[0-9]+)?\s?(?:GBP|EUR|USD|pounds|euros|dollars|%)';
BEGIN
    SELECT * INTO b FROM recgen.brands br WHERE br.brand = coalesce(guard.brand, 'default');
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown brand "%"', brand USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF output IS NULL OR jsonb_typeof(output) <> 'object' THEN
        RETURN jsonb_build_object('ok', false, 'violations',
            jsonb_build_array(jsonb_build_object('rule', 'structure', 'detail', 'the answer is not a JSON object')));
    END IF;

    -- structure
    FOREACH f IN ARRAY CASE kind WHEN 'email' THEN ARRAY['subject', 'body', 'cta'] ELSE ARRAY['text'] END LOOP
        IF coalesce(btrim(output ->> f), '') = '' THEN
            v := v || jsonb_build_object('rule', 'structure', 'detail', format('"%s" is missing or empty', f));
        END IF;
    END LOOP;

    SELECT string_agg(value, E'\n') INTO txt
      FROM jsonb_each_text(output) WHERE jsonb_typeof(output -> key) = 'string';
    txt := coalesce(txt, '');
    low := lower(txt);

    -- on topic: a product description or explanation names its product
    IF kind IN ('describe', 'explain') AND context #>> '{product,name}' IS NOT NULL
       AND NOT recgen.guard_names(recgen.guard_norm(txt), context #>> '{product,name}') THEN
        v := v || jsonb_build_object('rule', 'off_topic',
                                     'detail', format('the text does not name "%s"', context #>> '{product,name}'));
    END IF;

    -- numbers the context allows (prices, rates, spend, days...)
    SELECT array_agg(DISTINCT x::text::numeric) INTO allowed
      FROM jsonb_path_query(context, 'strict $.**') x WHERE jsonb_typeof(x) = 'number';
    -- ... and the amounts a product's description states ("1% cash back")
    allowed := coalesce(allowed, '{}') || coalesce((
        SELECT array_agg(replace(dm[1], ',', '')::numeric)
          FROM jsonb_array_elements(coalesce(context -> 'items', '[]') || coalesce(context -> 'product', '[]')) i,
               regexp_matches(coalesce(i ->> 'description', ''), '([0-9][0-9,]*(?:\.[0-9]+)?)', 'g') dm), '{}');

    -- the products an amount may follow, as the composer shows them too,
    -- and the customer's purchases, with no price or rate of their own: "We
    -- have a Five-Year Fixed Mortgage with a fixed rate of 4.29%" (the
    -- Two-Year's rate; her purchase has none in the context: third frame
    -- run, bank)
    SELECT coalesce(jsonb_agg(i || jsonb_build_object('shown', recgen.display_name(i ->> 'name'))), '[]')
           || (SELECT coalesce(jsonb_agg(jsonb_build_object('name', n, 'shown', recgen.display_name(n), 'purchase', true)), '[]')
                 FROM unnest(recgen.guard_known_names(context)) n
                WHERE n <> ALL (array_remove(array_agg(i ->> 'name'), NULL)))
      INTO priced
      FROM jsonb_array_elements(coalesce(context -> 'items', '[]') || coalesce(context -> 'product', '[]')) i
     WHERE jsonb_typeof(i) = 'object';

    -- price: money amounts (£12.50, 12.50 GBP, $3) and percentages
    FOR k IN 1 .. regexp_count(txt, price_re, 1, 'i') LOOP
        f := regexp_substr(txt, price_re, 1, k, 'i');
        num := replace(substring(f FROM '[0-9][0-9,]*(?:\.[0-9]+)?'), ',', '')::numeric;
        IF NOT EXISTS (SELECT 1 FROM unnest(allowed) a WHERE abs(a - num) < 0.005) THEN
            v := v || jsonb_build_object('rule', 'price',
                'detail', format('%s is not a price or rate of the context', f));
        ELSE
            f := recgen.misattributed_price(low, regexp_instr(txt, price_re, 1, k, 0, 'i'), num, f, priced);
            IF f IS NOT NULL THEN
                v := v || jsonb_build_object('rule', 'price', 'detail', f);
            END IF;
        END IF;
    END LOOP;

    -- product: catalog names not in the context; ids not in the context
    SELECT coalesce(array_agg((i ->> 'product_id')::bigint), '{}'), coalesce(array_agg(lower(i ->> 'name')), '{}')
      INTO ctx_ids, ctx_names
      FROM jsonb_array_elements(coalesce(context -> 'items', '[]') || coalesce(context -> 'product', '[]')) i;
    -- the customer's own purchases (last purchases, those that led to an item) may be named too
    ctx_names := ctx_names || (SELECT coalesce(array_agg(lower(x)), '{}') FROM unnest(recgen.guard_known_names(context)) x);
    FOR f IN
        SELECT n FROM unnest(recgen.catalog_names_in(low)) n
         WHERE lower(n) <> ALL (ctx_names)
           AND NOT EXISTS (SELECT 1 FROM unnest(ctx_names) cn WHERE strpos(cn, lower(n)) > 0)
         LIMIT 5
    LOOP
        v := v || jsonb_build_object('rule', 'product', 'detail', format('"%s" is not a product of the context', f));
    END LOOP;
    IF jsonb_typeof(output -> 'product_ids') = 'array' THEN
        FOR num IN SELECT x::text::numeric FROM jsonb_array_elements(output -> 'product_ids') x
                    WHERE jsonb_typeof(x) = 'number' LOOP
            IF num::bigint <> ALL (ctx_ids) THEN
                v := v || jsonb_build_object('rule', 'product', 'detail', format('product id %s is not in the context', num));
            END IF;
        END LOOP;
    END IF;

    -- brand rules
    FOREACH f IN ARRAY b.banned_phrases LOOP
        IF low ~ ('(^|[^[:alnum:]])' || regexp_replace(lower(f), '([.*+?^${}()|\[\]\\%])', '\\\1', 'g') || '($|[^[:alnum:]])') THEN
            v := v || jsonb_build_object('rule', 'banned', 'detail', format('contains the banned phrase "%s"', f));
        END IF;
    END LOOP;
    FOREACH f IN ARRAY b.overpromising LOOP
        IF low ~ ('(^|[^[:alnum:]])' || regexp_replace(lower(f), '([.*+?^${}()|\[\]\\%])', '\\\1', 'g') || '($|[^[:alnum:]])') THEN
            v := v || jsonb_build_object('rule', 'overpromise', 'detail', format('contains the over-promising word "%s"', f));
        END IF;
    END LOOP;
    IF b.disclaimer IS NOT NULL AND kind = ANY (b.disclaimer_kinds)
       AND strpos(low, lower(b.disclaimer)) = 0 THEN
        v := v || jsonb_build_object('rule', 'disclaimer', 'detail', 'the brand''s disclaimer is missing');
    END IF;

    -- length
    SELECT ch.max_chars INTO max_chars FROM recgen.channels ch
     WHERE ch.channel = coalesce(guard.channel, CASE kind WHEN 'email' THEN 'email' WHEN 'summary' THEN 'sales' ELSE 'web' END);
    max_chars := coalesce(max_chars, 2000);
    IF kind = 'email' THEN
        IF length(output ->> 'subject') > 80 THEN
            v := v || jsonb_build_object('rule', 'length', 'detail', 'the subject is longer than 80 characters');
        END IF;
        IF length(output ->> 'preheader') > 140 THEN
            v := v || jsonb_build_object('rule', 'length', 'detail', 'the preheader is longer than 140 characters');
        END IF;
        body_len := length(output ->> 'body');
    ELSE
        body_len := length(output ->> 'text');
    END IF;
    IF body_len > max_chars THEN
        v := v || jsonb_build_object('rule', 'length',
            'detail', format('%s characters where the channel takes %s', body_len, max_chars));
    END IF;

    -- personal data
    IF txt ~ '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}' THEN
        v := v || jsonb_build_object('rule', 'pii', 'detail', 'contains an e-mail address');
    END IF;
    FOR m IN SELECT regexp_matches(txt, '\+?[0-9][0-9 ()./-]{6,}[0-9]', 'g') LOOP
        digits := regexp_replace(m[1], '[^0-9]', '', 'g');
        IF length(digits) >= 9 AND m[1] !~ '^[0-9]+\.[0-9]{1,2}$' THEN
            v := v || jsonb_build_object('rule', 'pii', 'detail', 'contains a phone number');
            EXIT;
        END IF;
    END LOOP;

    -- leaks of the prompt machinery: a placeholder, or a fence marker in
    -- any form ("‹/customer_text›", full-width, split by invisible characters)
    IF txt ~ '\{\{[A-Za-z0-9_.]+\}\}'
       OR regexp_replace(CASE WHEN getdatabaseencoding() = 'UTF8' THEN normalize(low, NFKC) ELSE low END,
                         '[\u200B-\u200F\u2060\uFEFF]', '', 'g') ~* 'customer[^[:alnum:][:space:]]{0,3}text' THEN
        v := v || jsonb_build_object('rule', 'leak', 'detail', 'contains a template placeholder or fence marker');
    END IF;

    -- repetition: the same sentence twice (a decimal point, as in £12.50,
    -- does not end a sentence)
    IF EXISTS (SELECT 1 FROM regexp_split_to_table(low, '[!?\n]+|[.]+(?![0-9])') sen
                WHERE length(btrim(sen)) >= 20 GROUP BY btrim(sen) HAVING count(*) > 1) THEN
        v := v || jsonb_build_object('rule', 'repetition', 'detail', 'a sentence is repeated');
    -- ... or the same run of eight words twice within one line of the body,
    -- which catches loops that never end a sentence ("I'm sure you have a
    -- lot of ..., I'm sure you have a lot of ..."); list lines that share a
    -- reason ("- X (£5.00): often bought together with ...") are separate
    -- lines and do not count, nor do the names of products and purchases
    -- (two products that follow the same purchase name it twice)
    ELSE
        SELECT min(g.gram) INTO run FROM (
        WITH forms AS (SELECT coalesce(jsonb_agg(x.nf ORDER BY length(x.nf) DESC, x.nf), '[]') AS fs
                         FROM (SELECT DISTINCT unnest(recgen.guard_name_forms(nm)) AS nf
                                 FROM unnest(recgen.guard_known_names(context)) nm) x),
        w AS (SELECT l.n, recgen.guard_mask(recgen.guard_norm(l.line), forms.fs) AS masked
                FROM forms, regexp_split_to_table(coalesce(output->>'body', output->>'text', ''), '\n')
                     WITH ORDINALITY AS l(line, n))
        SELECT g.gram FROM w, recgen.guard_ngrams(w.masked, 8) g
        GROUP BY w.n, g.gram HAVING count(*) > 1) g;
        IF run IS NOT NULL THEN
            v := v || jsonb_build_object('rule', 'repetition', 'detail', format('repeats the run of words "%s"', run));
        END IF;
    END IF;

    -- what a reader would reject (63_guard_reader.sql)
    v := v || recgen.guard_reader_rules(kind, output, context, b);

    -- the rules of a spoken narration (90_video.sql)
    IF kind = 'video_script' THEN
        v := v || recgen.video_script_violations(output, context);
    END IF;

    RETURN jsonb_build_object('ok', jsonb_array_length(v) = 0, 'violations', v);
END
$$;
COMMENT ON FUNCTION recgen.guard(text, jsonb, jsonb, text, text) IS
    'Checks a generated output against its context and the brand: structure, prices and rates, products, banned and over-promising phrases, disclaimer, channel length, e-mail addresses and phone numbers, and what a reader would reject (wrong or missing name, products without their reason, third person, placeholders, foreign script, cut-off sentences and calls to action, repeated phrases, unsupported product facts, a subject about nothing, text copied from an example). Returns {ok, violations}.';
GRANT EXECUTE ON FUNCTION recgen.guard(text, jsonb, jsonb, text, text) TO recgen_admin, recgen_analyst, recgen_worker;
GRANT EXECUTE ON FUNCTION recgen.misattributed_price(text, integer, numeric, text, jsonb) TO recgen_admin, recgen_analyst, recgen_worker;
