/*
 * The guard's reader rules: what a person reading the text would reject,
 * each a named violation (recgen.guard adds them to its own rules).
 *
 *   name            the customer is greeted by their own first name (an
 *                   email names it), and no other person's name appears
 *                   (recgen.person_names: names of few-shot examples and
 *                   invented ones)
 *   products_named  an email names every product of its context (a snippet
 *                   the first); one without a product is not deliverable
 *   reason          an email gives each product its own reason next to it:
 *                   the product's sentence or the next one (when it names no
 *                   other product) refers to the
 *                   customer's history or says why, and does not borrow the
 *                   purchase that led to another product
 *   second_person   the text speaks to the customer ("you"), never of them
 *                   in the third person by name ("Pablo recently bought")
 *   placeholder     no template text left in ([Your Name], {name}, <name>,
 *                   lorem ipsum, XXX)
 *   script          no letter of a script the customer's locale does not
 *                   use (a Chinese character in an English email)
 *   cut_off         no sentence that stops in the middle
 *   cta             the call to action is a short, complete phrase
 *   repetition      (with recgen.guard's own) no phrase of four words said
 *                   twice, no word three times in a sentence; the names of
 *                   products and purchases do not count
 *   attribute       no colour, material, size or feature
 *                   (recgen.attribute_words) that is in none of the
 *                   context's products' data nor the customer's history
 *   subject         an email's subject names a product or an interest of
 *                   the customer (a category, a purchase, a concern)
 *   copied          no run of eight words taken from a few-shot example
 *                   of the kind's templates (a copied sentence)
 *
 * Text is compared in a normal form (recgen.guard_norm): lower case, words
 * separated by single spaces, decimal points kept. A product is named by its
 * name or, for names of four words or more, by its name without the last
 * word ("Cash-Back Credit" for "Cash-Back Credit Card") when three words
 * remain (recgen.misattributed_price accepts two).
 *
 * Cost: everything the rules compare is prepared once per text by
 * recgen.guard_facts (normal forms, sentences, names masked, the name
 * forms of every product and purchase), so a rule is a few string
 * searches; the small helpers are plain SQL the planner inlines.
 */

/*
 * guard_norm: a text as the reader rules compare it: lower case, every run
 * of characters other than letters, digits, currency signs, % and decimal
 * points replaced by one space, a letter and a digit after it apart ("SET
 * OF4" as "set of 4", as a writer spells it), trimmed. (No SET search_path, so that it
 * is inlined into its callers, which pin it.)
 */
CREATE OR REPLACE FUNCTION recgen.guard_norm(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.btrim(pg_catalog.regexp_replace(pg_catalog.regexp_replace(
               pg_catalog.regexp_replace(pg_catalog.lower(coalesce(t, '')), '(?<![0-9])[.]|[.](?![0-9])', ' ', 'g'),
               '[^[:alnum:]£$€%.]+', ' ', 'g'), '([[:alpha:]])([0-9])', '\1 \2', 'g'))
$$;
COMMENT ON FUNCTION recgen.guard_norm(text) IS
    'A text in the guard''s normal form: lower case, words separated by single spaces, a digit after a letter apart ("of4" as "of 4"), decimal points kept';

/*
 * guard_singular_words: the words of a text in normal form, in order, each
 * without a final "s" (so "bags" and "bag" compare equal). (No SET
 * search_path, as guard_norm.)
 */
CREATE OR REPLACE FUNCTION recgen.guard_singular_words(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT coalesce(pg_catalog.array_agg(pg_catalog.regexp_replace(x, 's$', '') ORDER BY o), '{}')
      FROM pg_catalog.unnest(pg_catalog.string_to_array(recgen.guard_norm(t), ' ')) WITH ORDINALITY AS u(x, o)
$$;
COMMENT ON FUNCTION recgen.guard_singular_words(text) IS
    'The words of a text in the guard''s normal form, in order, each without a final "s" (singular and plural compare equal)';

/*
 * guard_name_forms: the normal forms that name a product: its name, its
 * name without the last word when three words or more remain (in normal
 * form: "Cash-Back Credit" for "Cash-Back Credit Card", but not "Lunch
 * Bag" for "Lunch Bag Woodland"), and its name without a leading count
 * when three words or more remain ("Teatime Fairy Cake Cases" for "60
 * Teatime Fairy Cake Cases", "Cake Tins Pantry Design" for "Set of 3 Cake
 * Tins Pantry Design": a writer drops the count, and "your new teatime
 * fairy cake cases" still speaks of the product), and its name before
 * "with" when three words or more remain ("Jam Making Set" for "Jam Making
 * Set with Jars": "enjoy your jam making set" speaks of it).
 */
CREATE OR REPLACE FUNCTION recgen.guard_name_forms(name text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.array_remove(ARRAY[n,
               CASE WHEN pg_catalog.array_length(pg_catalog.string_to_array(n, ' '), 1) >= 4
                    THEN pg_catalog.regexp_replace(n, ' \S+$', '') END,
               CASE WHEN c <> n AND pg_catalog.array_length(pg_catalog.string_to_array(c, ' '), 1) >= 3 THEN c END,
               CASE WHEN w <> n AND pg_catalog.array_length(pg_catalog.string_to_array(w, ' '), 1) >= 3 THEN w END], NULL)
      FROM (SELECT n, pg_catalog.regexp_replace(n, '^(?:(?:pack|set|box|bag|tube|tin|tray) of )?[0-9]+ ', '') AS c,
                   pg_catalog.split_part(n, ' with ', 1) AS w
              FROM (SELECT nullif(recgen.guard_norm(name), '') AS n) s0) s
$$;
COMMENT ON FUNCTION recgen.guard_name_forms(text) IS
    'The normal forms that name a product in a text: its name, its name without the last word when that leaves three words or more, its name without a leading count ("60 …", "Set of 3 …") and its name before "with" ("Jam Making Set" for "Jam Making Set with Jars") when that leaves three words or more (in normal form)';

/*
 * guard_has: whether a text in normal form contains one of the given
 * normal forms (a jsonb array of strings) as whole words.
 */
CREATE OR REPLACE FUNCTION recgen.guard_has(norm_text text, forms jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements_text(coalesce(forms, '[]')) f
                    WHERE pg_catalog.strpos(' ' || norm_text || ' ', ' ' || f || ' ') > 0)
$$;
COMMENT ON FUNCTION recgen.guard_has(text, jsonb) IS
    'Whether a text in normal form contains one of the given normal forms (jsonb array) as whole words';

/*
 * guard_names: whether a text in normal form names a product.
 */
CREATE OR REPLACE FUNCTION recgen.guard_names(norm_text text, name text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT recgen.guard_has(norm_text, pg_catalog.to_jsonb(recgen.guard_name_forms(name)))
$$;
COMMENT ON FUNCTION recgen.guard_names(text, text) IS
    'Whether a text in normal form names a product (by its name, or its name without the last word)';

/*
 * guard_sentences: the sentences of a text, in order: split after . ! or ?
 * followed by white space, and at line breaks (a decimal point ends none).
 */
CREATE OR REPLACE FUNCTION recgen.guard_sentences(t text) RETURNS TABLE (n integer, sentence text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE ROWS 10
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT row_number() OVER ()::int, btrim(s)
      FROM regexp_split_to_table(coalesce(t, ''), '(?<=[.!?])\s+|\n+') s
     WHERE btrim(s) <> ''
$$;
COMMENT ON FUNCTION recgen.guard_sentences(text) IS
    'The sentences of a text, numbered in order (split after . ! ? and white space, and at line breaks)';

/*
 * guard_known_names: every name of a context the text may use: its
 * products, the purchases that led to them, the customer's last
 * purchases, and the product a text is about.
 */
CREATE OR REPLACE FUNCTION recgen.guard_known_names(ctx jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(array_agg(DISTINCT n) FILTER (WHERE n IS NOT NULL AND n <> ''), '{}')
      FROM (SELECT i ->> 'name' AS n FROM jsonb_array_elements(coalesce(ctx -> 'items', '[]')) i
            UNION ALL
            SELECT b FROM jsonb_array_elements(coalesce(ctx -> 'items', '[]')) i,
                          jsonb_array_elements_text(coalesce(i -> 'because', '[]')) b
            UNION ALL
            SELECT x FROM jsonb_array_elements_text(coalesce(ctx #> '{behaviour,last_purchases}', '[]')) x
            UNION ALL
            SELECT ctx #>> '{product,name}') s
$$;
COMMENT ON FUNCTION recgen.guard_known_names(jsonb) IS
    'The product names a context lets a text use: its items, the purchases that led to them (because), the last purchases and the product of a description';

/*
 * guard_mask: a text in normal form with every one of the given forms
 * (longest first, as guard_facts orders them) replaced by "#".
 */
CREATE OR REPLACE FUNCTION recgen.guard_mask(norm_text text, forms jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f text;
    out text := ' ' || norm_text || ' ';
BEGIN
    FOR f IN SELECT jsonb_array_elements_text(coalesce(forms, '[]')) LOOP
        IF strpos(out, ' ' || f || ' ') > 0 THEN
            out := replace(replace(out, ' ' || f || ' ', ' # '), ' ' || f || ' ', ' # ');
        END IF;
    END LOOP;
    RETURN btrim(out);
END
$$;
COMMENT ON FUNCTION recgen.guard_mask(text, jsonb) IS
    'A text in normal form with the given name forms (a jsonb array, longest first) replaced by #';

/*
 * guard_mask_others: a text in normal form with the context's other whole
 * names masked (f -> 'names', see recgen.guard_facts), those inside the
 * given product's own name aside: where a product is looked for, "Alarm
 * Clock Bakelike Pink" is not the Alarm Clock Bakelike Green, and "Regency
 * Tea Plate Roses" not the Regency Tea Plate Green, though each holds the
 * other's shorter form.
 */
CREATE OR REPLACE FUNCTION recgen.guard_mask_others(norm_text text, f jsonb, name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT recgen.guard_mask(norm_text,
               (SELECT coalesce(jsonb_agg(n ORDER BY length(n) DESC, n), '[]')
                  FROM jsonb_array_elements_text(coalesce(f -> 'names', '[]')) n
                 WHERE strpos(' ' || recgen.guard_norm(name) || ' ', ' ' || n || ' ') = 0))
$$;
COMMENT ON FUNCTION recgen.guard_mask_others(text, jsonb, text) IS
    'A text in normal form with the context''s whole names masked, except those inside the given product''s name (so a sibling variant''s name does not name the product)';

/*
 * guard_ngrams: the runs of n words of a text in normal form that contain
 * no masked name, with their positions.
 */
CREATE OR REPLACE FUNCTION recgen.guard_ngrams(norm_text text, n integer) RETURNS TABLE (pos integer, gram text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE ROWS 50
SET search_path = pg_catalog, pg_temp
AS $$
    WITH w AS (SELECT string_to_array(norm_text, ' ') AS ws)
    SELECT i, array_to_string(ws[i:i + n - 1], ' ')
      FROM w, generate_series(1, coalesce(cardinality(ws), 0) - n + 1) i
     WHERE NOT '#' = ANY (ws[i:i + n - 1]) AND NOT '' = ANY (ws[i:i + n - 1])
$$;
COMMENT ON FUNCTION recgen.guard_ngrams(text, integer) IS
    'Runs of n consecutive words of a text in normal form, skipping runs that contain a masked name (#)';

/*
 * guard_model_text: the part of a text the model wrote: the brand's
 * sign-off and disclaimer (appended by recgen) removed.
 */
CREATE OR REPLACE FUNCTION recgen.guard_model_text(t text, b recgen.brands) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT btrim(CASE WHEN b.sign_off IS NULL THEN x
                      ELSE regexp_replace(x, '\s*' || regexp_replace(b.sign_off, '([.*+?^${}()|\[\]\\])', '\\\1', 'g') || '\s*$', '')
                 END)
      FROM (SELECT CASE WHEN b.disclaimer IS NULL THEN coalesce(t, '')
                        ELSE replace(coalesce(t, ''), b.disclaimer, '') END AS x) s
$$;
COMMENT ON FUNCTION recgen.guard_model_text(text, recgen.brands) IS
    'A text without the brand''s disclaimer and closing sign-off, i.e. the part the model wrote';

/*
 * guard_facts: what the reader rules compare, prepared once per output:
 *   text       all string fields of the output, the model's part
 *   body       the body (email) or text, the model's part
 *   lines      the subject and the call to action, as written
 *   sentences  its sentences in normal form; masked: the same with every
 *              known name replaced by #; prose: masked, list lines left out
 *   forms      the normal forms of every name the context knows, longest
 *              first; name_words: their words, the categories' and the
 *              customer's name's
 *   items      per context item: name, forms, the forms of the purchases
 *              that led to it (because), its category
 *   history    the customer's categories and concern topics; last: the
 *              forms of the last purchases
 */
CREATE OR REPLACE FUNCTION recgen.guard_facts(output jsonb, ctx jsonb, b recgen.brands) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    body text := recgen.guard_model_text(coalesce(output ->> 'body', output ->> 'text'), b);
    forms jsonb;
    sen jsonb;
BEGIN
    SELECT coalesce(jsonb_agg(f ORDER BY length(f) DESC, f), '[]') INTO forms
      FROM (SELECT DISTINCT unnest(recgen.guard_name_forms(n)) AS f FROM unnest(recgen.guard_known_names(ctx)) n) s;
    SELECT coalesce(jsonb_agg(jsonb_build_object('norm', x.norm, 'masked', recgen.guard_mask(x.norm, forms),
                                                 'list', x.sentence ~ '^[-•*]') ORDER BY x.n), '[]')
      INTO sen
      FROM (SELECT s.n, s.sentence, recgen.guard_norm(s.sentence) AS norm FROM recgen.guard_sentences(body) s) x;
    RETURN jsonb_build_object(
        'text', (SELECT string_agg(recgen.guard_model_text(value, b), E'\n') FROM jsonb_each_text(output)
                  WHERE jsonb_typeof(output -> key) = 'string'),
        'body', body,
        -- the short lines the model writes beside the body (a preheader is
        -- recgen's own in composed emails)
        'lines', (SELECT coalesce(jsonb_agg(output ->> k ORDER BY k DESC), '[]') FROM unnest(ARRAY['subject', 'cta']) k
                   WHERE jsonb_typeof(output -> k) = 'string' AND output ->> k <> ''),
        'sentences', sen,
        'forms', forms,
        -- the whole names (a variant's name holds a shorter form of its
        -- sibling's: "alarm clock bakelike" of Pink and of Green); see
        -- recgen.guard_mask_others
        'names', (SELECT coalesce(jsonb_agg(DISTINCT recgen.guard_norm(n)), '[]') FROM unnest(recgen.guard_known_names(ctx)) n),
        'name_words', (SELECT coalesce(jsonb_agg(DISTINCT w), '[]')
                         FROM (SELECT unnest(string_to_array(recgen.guard_norm(concat_ws(' ',
                                   ctx #>> '{customer,first_name}',
                                   array_to_string(recgen.guard_known_names(ctx), ' '),
                                   (SELECT string_agg(x, ' ') FROM jsonb_array_elements_text(coalesce(ctx #> '{behaviour,recent_categories}', '[]')) x),
                                   (SELECT string_agg(i ->> 'category', ' ') FROM jsonb_array_elements(coalesce(ctx -> 'items', '[]')) i))), ' ')) w) s
                        WHERE w <> ''),
        'items', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                             'name', i ->> 'name',
                             'forms', to_jsonb(recgen.guard_name_forms(i ->> 'name')),
                             'because', (SELECT coalesce(jsonb_agg(to_jsonb(recgen.guard_name_forms(bn))), '[]')
                                           FROM jsonb_array_elements_text(coalesce(i -> 'because', '[]')) bn
                                          WHERE bn <> i ->> 'name'),
                             'category', recgen.guard_norm(i ->> 'category')) ORDER BY o), '[]')
                    FROM jsonb_array_elements(coalesce(ctx -> 'items', '[]')) WITH ORDINALITY AS e(i, o)),
        'history', (SELECT coalesce(jsonb_agg(DISTINCT h) FILTER (WHERE h <> ''), '[]')
                      FROM (SELECT recgen.guard_norm(x) AS h FROM jsonb_array_elements_text(coalesce(ctx #> '{behaviour,recent_categories}', '[]')) x
                            UNION ALL
                            SELECT recgen.guard_norm(c ->> 'topic') FROM jsonb_array_elements(coalesce(ctx -> 'concerns', '[]')) c) s),
        'last', (SELECT coalesce(jsonb_agg(DISTINCT f), '[]')
                   FROM jsonb_array_elements_text(coalesce(ctx #> '{behaviour,last_purchases}', '[]')) p,
                        unnest(recgen.guard_name_forms(p)) f));
END
$$;
COMMENT ON FUNCTION recgen.guard_facts(jsonb, jsonb, recgen.brands) IS
    'What the guard''s reader rules compare, prepared once per output: the model''s text and body, its sentences (normal form, names masked), the name forms of the context''s products and purchases, per item its forms and the forms of the purchases that led to it, the customer''s categories and concerns';

/*
 * guard_rule_name: greeting by the customer's own first name; no other
 * person named.
 */
CREATE OR REPLACE FUNCTION recgen.guard_rule_name(kind text, ctx jsonb, f jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb := '[]';
    full_name text := ctx #>> '{customer,first_name}';
    fname text := split_part(full_name, ' ', 1);
    body text := f ->> 'body';
    w text;
    greeted text;
BEGIN
    -- a capitalised word that is a given name, other than the customer's
    -- and than a word of the context's product names and categories
    FOR w IN SELECT DISTINCT m[1] FROM regexp_matches(coalesce(f ->> 'text', ''), '\m([[:upper:]][[:lower:]]+)\M', 'g') m
              WHERE NOT (f -> 'name_words') ? lower(m[1])
                AND EXISTS (SELECT 1 FROM recgen.person_names p WHERE p.name = m[1]) LOOP
        v := v || jsonb_build_object('rule', 'name', 'detail',
            format('names "%s", who is not the customer%s', w, coalesce(' (' || nullif(fname, '') || ')', '')));
    END LOOP;
    IF kind = 'email' AND nullif(fname, '') IS NOT NULL THEN
        greeted := substring(body FROM '^\s*(?:[Hh]i|[Hh]ello|[Hh]ey|[Dd]ear|[Gg]ood (?:morning|afternoon|evening))\s+([^,!.\n]+)');
        IF greeted IS NOT NULL AND lower(btrim(greeted)) NOT IN (lower(fname), lower(full_name)) THEN
            v := v || jsonb_build_object('rule', 'name', 'detail',
                format('greets "%s" instead of the customer''s first name "%s"', btrim(greeted), fname));
        ELSIF strpos(' ' || recgen.guard_norm(body) || ' ', ' ' || recgen.guard_norm(fname) || ' ') = 0 THEN
            v := v || jsonb_build_object('rule', 'name', 'detail',
                format('does not address the customer by their first name "%s"', fname));
        END IF;
    END IF;
    -- a greeting twice ("Hi Anna, / Hi Anna, thanks ..."), or the name
    -- again at the start of a line after the greeting ("Hi Charlie, /
    -- Charlie, you've been ...")
    IF kind = 'email' AND (
           (SELECT count(*) FROM regexp_split_to_table(coalesce(body, ''), '\n') l
             WHERE l ~* '^\s*(hi|hello|hey|dear|good (morning|afternoon|evening))\M') > 1
        OR (nullif(fname, '') IS NOT NULL
            AND (coalesce(body, '') ~* ('\n\s*' || regexp_replace(fname, '([.*+?^${}()|\[\]\\])', '\\\1', 'g') || '\s*[,!:]')
                 OR regexp_count(coalesce(body, ''), '\m(hi|hello|hey|dear)\s+'
                                 || regexp_replace(fname, '([.*+?^${}()|\[\]\\])', '\\\1', 'g') || '\M', 1, 'i') > 1))) THEN
        v := v || jsonb_build_object('rule', 'name', 'detail',
            'greets the customer twice (a second greeting, or their name again after the greeting)');
    END IF;
    RETURN v;
END
$$;
COMMENT ON FUNCTION recgen.guard_rule_name(text, jsonb, jsonb) IS
    'Guard rule "name": an email greets the customer by their own first name; no text names another person (recgen.person_names)';

/*
 * guard_rule_products_named: an email names every product of its context,
 * a snippet the first; an email or snippet without a product fails. The
 * other names of the context are masked first, so a sibling variant's name
 * does not count.
 */
CREATE OR REPLACE FUNCTION recgen.guard_rule_products_named(kind text, f jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
        WHEN kind NOT IN ('email', 'snippet') THEN '[]'::jsonb
        WHEN jsonb_array_length(f -> 'items') = 0 THEN jsonb_build_array(jsonb_build_object('rule', 'products_named',
            'detail', 'the context has no product to recommend'))
        ELSE (SELECT coalesce(jsonb_agg(jsonb_build_object('rule', 'products_named',
                                  'detail', format('does not name "%s"', i ->> 'name')) ORDER BY o), '[]')
                FROM jsonb_array_elements(f -> 'items') WITH ORDINALITY AS e(i, o)
               WHERE (kind = 'email' OR o = 1)
                 -- the other whole names masked first: "Alarm Clock Bakelike
                 -- Pink" (the purchase) does not name the Alarm Clock Bakelike Green
                 AND NOT recgen.guard_has(recgen.guard_mask_others(recgen.guard_norm(f ->> 'body'), f, i ->> 'name'),
                                          i -> 'forms'))
        END
$$;
COMMENT ON FUNCTION recgen.guard_rule_products_named(text, jsonb) IS
    'Guard rule "products_named": an email names every product of its context, a snippet the first (and there is one)';

/*
 * guard_rule_reason: in an email each product's sentence (or the next
 * sentence, when it names no other product) gives a reason, and not the
 * purchase that led to another product.
 */
CREATE OR REPLACE FUNCTION recgen.guard_rule_reason(kind text, f jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb := '[]';
    sen jsonb := f -> 'sentences';
    i jsonb;
    o jsonb;
    k integer;
    near text;
    masked text;
    markers constant text[] := ARRAY[
        'because', 'since you', 'as you', 'you bought', 'you chose', 'you picked', 'you liked', 'you loved',
        'you ordered', 'you enjoyed', 'your order', 'your recent', 'your last', 'you have', 'you already',
        'goes with', 'go with', 'goes well', 'go well', 'pairs', 'pair it', 'pair well', 'match', 'together',
        'similar', 'popular', 'favourite', 'favorite', 'step up', 'upgrade', 'again', 'before', 'like you',
        'new in', 'new to', 'alongside', 'complement', 'complete', 'to go with', 'fan of', 'for your',
        'customers who', 'shoppers who', 'people who', 'category you', 'categories you', 'you like',
        'your country', 'ready when', 'partner for', 'things you'];
BEGIN
    IF kind <> 'email' THEN
        RETURN v;
    END IF;
    FOR i IN SELECT * FROM jsonb_array_elements(f -> 'items') LOOP
        -- its first sentence (another product's whole name, a sibling's, masked)
        SELECT min(n) - 1 INTO k FROM jsonb_array_elements(sen) WITH ORDINALITY AS e(s, n)
         WHERE recgen.guard_has(recgen.guard_mask_others(s ->> 'norm', f, i ->> 'name'), i -> 'forms');
        CONTINUE WHEN k IS NULL;            -- not named: products_named says so
        near := sen -> k ->> 'norm';
        masked := sen -> k ->> 'masked';
        -- the next sentence counts when it is still about this product
        IF k + 1 < jsonb_array_length(sen) AND NOT EXISTS (
               SELECT 1 FROM jsonb_array_elements(f -> 'items') x
                WHERE x ->> 'name' <> i ->> 'name' AND recgen.guard_has(sen -> (k + 1) ->> 'norm', x -> 'forms')) THEN
            near := near || ' ' || (sen -> (k + 1) ->> 'norm');
            masked := masked || ' ' || (sen -> (k + 1) ->> 'masked');
        END IF;
        -- borrowed: its sentence names a purchase that led to another product only
        FOR o IN SELECT x FROM jsonb_array_elements(f -> 'items') x WHERE x ->> 'name' <> i ->> 'name' LOOP
            IF NOT recgen.guard_has(sen -> k ->> 'norm', o -> 'forms')
               AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(i -> 'because') bf
                                WHERE recgen.guard_has(sen -> k ->> 'norm', bf))
               AND EXISTS (SELECT 1 FROM jsonb_array_elements(o -> 'because') bf
                            WHERE NOT (i -> 'because') @> jsonb_build_array(bf)
                              AND bf <> (i -> 'forms')
                              AND recgen.guard_has(sen -> k ->> 'norm', bf)) THEN
                v := v || jsonb_build_object('rule', 'reason', 'detail',
                    format('"%s" is given the reason of "%s"', i ->> 'name', o ->> 'name'));
                EXIT;
            END IF;
        END LOOP;
        -- a reason: a phrase that says why, the purchase behind it, a purchase
        -- or an interest of the customer's, its category (names masked: the
        -- words of a name say nothing about why)
        masked := ' ' || masked || ' ';
        IF NOT (EXISTS (SELECT 1 FROM unnest(markers) m WHERE strpos(masked, ' ' || m) > 0)
                OR EXISTS (SELECT 1 FROM jsonb_array_elements(i -> 'because') bf WHERE recgen.guard_has(near, bf))
                OR recgen.guard_has(near, f -> 'last')
                OR recgen.guard_has(btrim(masked), (f -> 'history') || to_jsonb(i ->> 'category'))) THEN
            v := v || jsonb_build_object('rule', 'reason', 'detail',
                format('gives no reason for "%s" next to it', i ->> 'name'));
        END IF;
    END LOOP;
    RETURN v;
END
$$;
COMMENT ON FUNCTION recgen.guard_rule_reason(text, jsonb) IS
    'Guard rule "reason": in an email each product''s sentence (or the next) says why it suits the customer, and does not borrow the purchase that led to another product';

/*
 * guard_rule_second_person: the text speaks to the customer, not about
 * them (kinds written to the customer: email, snippet, explain).
 */
CREATE OR REPLACE FUNCTION recgen.guard_rule_second_person(kind text, ctx jsonb, f jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb := '[]';
    body text := coalesce(f ->> 'body', '');
    fname text := split_part(ctx #>> '{customer,first_name}', ' ', 1);
    fn text := regexp_replace(fname, '([.*+?^${}()|\[\]\\])', '\\\1', 'g');   -- for a regular expression
    m text;
BEGIN
    IF kind NOT IN ('email', 'snippet', 'explain') THEN
        RETURN v;
    END IF;
    IF body !~* '\m(you|your|yours|yourself)\M' THEN
        v := v || jsonb_build_object('rule', 'second_person', 'detail', 'does not speak to the customer as "you"');
    END IF;
    IF nullif(fname, '') IS NOT NULL THEN
        m := substring(body FROM '(?i)(\m' || fn
                       || '(?:''s\M|\s+(?:has|had|is|was|will|would|recently|bought|purchased|ordered|likes|liked|loves|loved|enjoys|enjoyed|prefers|seems|might|may|can|could|should|often|usually|also|mostly|buys|shops|needs|wants|spends|spent|chose|picked)\M))');
        IF m IS NOT NULL THEN
            v := v || jsonb_build_object('rule', 'second_person',
                'detail', format('speaks of the customer in the third person ("%s")', m));
        END IF;
        -- the name as an object ("it suits Priya as", "perfect for Anna and"):
        -- a name followed by a comma or "!" is the customer addressed
        -- ("Thanks to Thomas!"), except after "for" ("a great offer for
        -- James!", seen passing in a measured run: no one says it to James)
        m := substring(body FROM '(?i)(\m(?:(?:suits|to|helps|gives|lets|makes|reminds|shows|tells|with)\s+'
                       || fn || '\M(?!\s*[,!?])|for\s+' || fn || '\M(?!\s*[,?])))');
        IF m IS NOT NULL THEN
            v := v || jsonb_build_object('rule', 'second_person',
                'detail', format('speaks of the customer in the third person ("%s")', m));
        END IF;
    END IF;
    m := substring(body FROM '(?i)(\m(?:the|this|our) customer\M)');
    IF m IS NOT NULL THEN
        v := v || jsonb_build_object('rule', 'second_person',
            'detail', format('speaks of the customer in the third person ("%s")', m));
    END IF;
    RETURN v;
END
$$;
COMMENT ON FUNCTION recgen.guard_rule_second_person(text, jsonb, jsonb) IS
    'Guard rule "second_person": emails, snippets and explanations say "you" and never speak of the customer in the third person by name';

/*
 * guard_rule_placeholder: template text left in the answer.
 */
CREATE OR REPLACE FUNCTION recgen.guard_rule_placeholder(output jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('rule', 'placeholder', 'detail', d)), '[]')
      FROM (SELECT DISTINCT format('contains the placeholder "%s"', (regexp_matches(value,
                '(\[[^\]\n]{1,60}\]|\{[^}\n]{0,60}\}|<[A-Za-z][^<>\n]{0,40}>|(?:lorem ipsum|\mXXX+\M|\minsert (?:name|product|link|date)\M))',
                'gi'))[1]) AS d
              FROM jsonb_each_text(output) WHERE jsonb_typeof(output -> key) = 'string'
            UNION
            -- a label of the prompt, capitalised inside a sentence ("Thank you
            -- for choosing Home Insurance as one of your Recent purchases.",
            -- third frame run, bank)
            SELECT DISTINCT format('contains the prompt''s label "%s"', (regexp_matches(value,
                '[[:alnum:],;] (Recent purchases|Favourite categories|Subject words|Topics they wrote about)\M', 'g'))[1])
              FROM jsonb_each_text(output) WHERE jsonb_typeof(output -> key) = 'string') s
$$;
COMMENT ON FUNCTION recgen.guard_rule_placeholder(jsonb) IS
    'Guard rule "placeholder": no [bracketed], {braced} or <angled> template text, no lorem ipsum or XXX, no label of the prompt inside a sentence ("your Recent purchases")';

/*
 * guard_rule_script: letters of scripts the customer's locale does not
 * use. Latin is always allowed; a locale's language adds its own script.
 */
CREATE OR REPLACE FUNCTION recgen.guard_rule_script(ctx jsonb, f jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    locale text := coalesce(nullif(ctx #>> '{customer,locale}', ''), 'en');
    lang text := lower(split_part(replace(locale, '_', '-'), '-', 1));
    txt text := coalesce(f ->> 'text', '');
    s record;
    m text;
BEGIN
    IF txt ~ '^[\u0000-\u036f\u1e00-\u1eff\u2000-\u2bff\U0001f000-\U0001faff]*$' THEN
        RETURN '[]';                        -- Latin, punctuation, symbols and emoji only
    END IF;
    FOR s IN SELECT * FROM (VALUES
            ('Greek', '[\u0370-\u03ff\u1f00-\u1fff]', ARRAY['el']),
            ('Cyrillic', '[\u0400-\u052f]', ARRAY['ru', 'uk', 'bg', 'sr', 'mk', 'be', 'kk']),
            ('Hebrew', '[\u0590-\u05ff]', ARRAY['he', 'yi']),
            ('Arabic', '[\u0600-\u06ff\u0750-\u077f]', ARRAY['ar', 'fa', 'ur']),
            ('Indic', '[\u0900-\u0dff]', ARRAY['hi', 'bn', 'pa', 'gu', 'ta', 'te', 'kn', 'ml', 'mr', 'si']),
            ('Thai', '[\u0e00-\u0e7f]', ARRAY['th']),
            ('Hangul', '[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]', ARRAY['ko']),
            ('Kana', '[\u3040-\u30ff]', ARRAY['ja']),
            ('Han', '[\u2e80-\u2fdf\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]', ARRAY['zh', 'ja']),
            ('full-width', '[\uff00-\uffef]', ARRAY['zh', 'ja', 'ko'])) AS t(script, re, langs)
    LOOP
        CONTINUE WHEN lang = ANY (s.langs);
        m := substring(txt FROM s.re);
        IF m IS NOT NULL THEN
            RETURN jsonb_build_array(jsonb_build_object('rule', 'script', 'detail',
                format('contains "%s", a %s character the locale %s does not use', m, s.script, locale)));
        END IF;
    END LOOP;
    RETURN '[]';
END
$$;
COMMENT ON FUNCTION recgen.guard_rule_script(jsonb, jsonb) IS
    'Guard rule "script": no letter of a script the customer''s locale does not use (Latin is always allowed)';

/*
 * guard_rule_cut_off: lines of five words or more must end as a sentence
 * ends (list lines aside): not on a comma or a bare word, and no sentence
 * of the line on a full stop placed after a word that needs more, or after
 * "a" and a number (a decimal cut at its point: "with a 8." for "8.5%").
 */
CREATE OR REPLACE FUNCTION recgen.guard_rule_cut_off(f jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('rule', 'cut_off',
                        'detail', format('a sentence is cut off: "…%s"', right(l, 40)))), '[]')
      FROM (SELECT btrim(l) AS l FROM regexp_split_to_table(coalesce(f ->> 'body', ''), '\n') l) s
     WHERE array_length(regexp_split_to_array(l, '\s+'), 1) >= 5
       AND l !~ '^[-•*]'
       AND ((l !~ '[.!?…:;)"''”’»]$' AND l !~ '[\u2600-\u27bf\U0001f300-\U0001faff]$')
            -- a full stop after a word that needs more, at the end of the
            -- line or of a sentence inside it: "... which we've.", "... with a. The"
            OR l ~* '\m(and|or|but|the|a|an|of|to|for|with|your|our|that|which|we''ve)[.](\s|$)'
            -- a number after "a" ends no sentence: "... with a 8." is
            -- "8.5%" cut at its decimal point
            OR l ~* '\m(a|an)\s+[0-9]+[.](\s|$)')
$$;
COMMENT ON FUNCTION recgen.guard_rule_cut_off(jsonb) IS
    'Guard rule "cut_off": every line of five words or more ends as a sentence does (list lines aside)';

/*
 * guard_rule_cta: an email's call to action is a short complete phrase,
 * the words of a button (prompts ask for 2 to 4): at most five words ("Call
 * us now to get started" is a sentence, not a button).
 */
CREATE OR REPLACE FUNCTION recgen.guard_rule_cta(kind text, output jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN kind = 'email' AND c <> '' AND (
                    c ~ '[,;:–-]$'
                 OR c ~* '\m(and|or|but|to|the|a|an|of|for|with|your|my|our|in|on|at|from|by|about|into|than|is|are|be|so|that|if|let''s|let’s|lets|let|we|can|will|would)$'
                 OR c ~ ','
                 OR c ~ '\mI\M'
                 OR array_length(regexp_split_to_array(c, '\s+'), 1) > 5)
                THEN jsonb_build_array(jsonb_build_object('rule', 'cta', 'detail',
                     format('the call to action "%s" is not a short, complete phrase', c)))
                ELSE '[]'::jsonb END
      FROM (SELECT coalesce(btrim(output ->> 'cta'), '') AS c) s
$$;
COMMENT ON FUNCTION recgen.guard_rule_cta(text, jsonb) IS
    'Guard rule "cta": an email''s call to action is a button''s words: at most five, no comma and no "I", not ending on a comma or a word that needs more';

/*
 * guard_rule_phrases: a phrase of four words twice, or a word three times
 * in a sentence (names masked, list lines aside).
 */
CREATE OR REPLACE FUNCTION recgen.guard_rule_phrases(f jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prose text;
    g text;
    stop constant text[] := ARRAY['your', 'with', 'that', 'this', 'have', 'from', 'they', 'them', 'their', 'what',
                                  'will', 'would', 'just', 'more', 'some', 'very', 'also', 'when', 'were', 'been',
                                  'here', 'there', 'about', 'which', 'into', 'than', 'then', 'only', 'over', 'such',
                                  'each', 'these', 'those', 'could', 'should'];
BEGIN
    -- amounts count as names: recgen writes the price after each product, and
    -- two products of one price made "£2.95 goes with the" a four-word phrase
    SELECT regexp_replace(string_agg(s ->> 'masked', ' # '), '(^|\s)[£$€]?[0-9][0-9.,]*%?(?=\s|$)', '\1#', 'g') INTO prose
      FROM jsonb_array_elements(f -> 'sentences') s WHERE NOT (s ->> 'list')::boolean;
    SELECT gram INTO g FROM recgen.guard_ngrams(coalesce(prose, ''), 4) GROUP BY gram HAVING count(*) > 1 ORDER BY min(pos) LIMIT 1;
    IF g IS NOT NULL THEN
        RETURN jsonb_build_array(jsonb_build_object('rule', 'repetition', 'detail', format('repeats the phrase "%s"', g)));
    END IF;
    SELECT w INTO g
      FROM jsonb_array_elements(f -> 'sentences') WITH ORDINALITY AS e(s, n),
           unnest(string_to_array(s ->> 'masked', ' ')) w
     WHERE NOT (s ->> 'list')::boolean AND length(w) >= 4 AND w <> ALL (stop) AND w !~ '^[0-9£$€.%]+$'
     GROUP BY n, w HAVING count(*) >= 3 LIMIT 1;
    IF g IS NOT NULL THEN
        RETURN jsonb_build_array(jsonb_build_object('rule', 'repetition', 'detail', format('says "%s" three times in a sentence', g)));
    END IF;
    RETURN '[]';
END
$$;
COMMENT ON FUNCTION recgen.guard_rule_phrases(jsonb) IS
    'Guard rule "repetition" (phrases): no run of four words twice and no word three times in one sentence, product and purchase names, amounts and list lines aside';

/*
 * guard_context_facts: everything a context says about its products and
 * the customer, in normal form between spaces: the names it knows, the
 * products' names, categories, tags, attributes and descriptions, the
 * items' reasons, the segment, categories, concern topics and the brand's
 * voice (what the attribute, offer and occasion rules accept).
 */
CREATE OR REPLACE FUNCTION recgen.guard_context_facts(ctx jsonb, b recgen.brands) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ' ' || recgen.guard_norm(concat_ws(' ',
               array_to_string(recgen.guard_known_names(ctx), ' '),
               (SELECT string_agg(concat_ws(' ', p.name, p.category, array_to_string(p.tags, ' '), p.attributes::text, p.description), ' ')
                  FROM recgen.products p
                 WHERE p.product_id IN (SELECT (i ->> 'product_id')::bigint
                                          FROM jsonb_array_elements(coalesce(ctx -> 'items', '[]') || coalesce(ctx -> 'product', '[]')) i
                                         WHERE jsonb_typeof(i -> 'product_id') = 'number')),
               (SELECT string_agg(concat_ws(' ', i ->> 'category', i ->> 'description', i ->> 'reason'), ' ')
                  FROM jsonb_array_elements(coalesce(ctx -> 'items', '[]') || coalesce(ctx -> 'product', '[]')) i),
               ctx #>> '{customer,segment}',
               (SELECT string_agg(x, ' ') FROM jsonb_array_elements_text(coalesce(ctx #> '{behaviour,recent_categories}', '[]')) x),
               (SELECT string_agg(c ->> 'topic', ' ') FROM jsonb_array_elements(coalesce(ctx -> 'concerns', '[]')) c),
               b.voice)) || ' '
$$;
COMMENT ON FUNCTION recgen.guard_context_facts(jsonb, recgen.brands) IS
    'What a context says about its products and the customer, in normal form between spaces: known names, product data, reasons, segment, categories, concern topics, the brand''s voice';

/*
 * guard_rule_attribute: attribute words (recgen.attribute_words) that no
 * product of the context and nothing of the customer's history carries.
 */
CREATE OR REPLACE FUNCTION recgen.guard_rule_attribute(ctx jsonb, f jsonb, b recgen.brands) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    words text[] := string_to_array(recgen.guard_norm(f ->> 'text'), ' ');
    facts text;
    bad text[];
    uses text[];
BEGIN
    -- the text's words and pairs and triples of words, matched against the list
    SELECT array_agg(DISTINCT a.word ORDER BY a.word) INTO bad
      FROM recgen.attribute_words a
     WHERE a.kind IN ('colour', 'material', 'size', 'feature') AND a.word IN (SELECT array_to_string(words[i:i + n - 1], ' ')
                        FROM generate_series(1, coalesce(cardinality(words), 0)) i, generate_series(1, 3) n);
    -- a use stated for a product: what it "can be used as" or "for",
    -- "doubles as", "works as", "serves as" (a hot water bottle "can be
    -- used as a blanket")
    SELECT array_agg(DISTINCT m[1] ORDER BY m[1]) INTO uses
      FROM regexp_matches(array_to_string(words, ' '),
                          '\m(?:be used as|be used for|doubles as|double as|works as|work as|serves as|serve as)\s+(?:(?:a|an|the|your|some)\s+)?([[:alpha:]]{3,})',
                          'g') m;
    IF bad IS NULL AND uses IS NULL THEN
        RETURN '[]';
    END IF;
    -- everything the context says about its products and the customer
    facts := recgen.guard_context_facts(ctx, b);
    SELECT array_agg(x ORDER BY x) INTO bad FROM unnest(bad) x WHERE strpos(facts, ' ' || x || ' ') = 0;
    -- a use is supported when the data names it (singular or plural)
    SELECT array_agg(x ORDER BY x) INTO uses FROM unnest(uses) x
     WHERE strpos(facts, ' ' || x || ' ') = 0 AND strpos(facts, ' ' || x || 's ') = 0
       AND (x !~ 's$' OR strpos(facts, ' ' || left(x, -1) || ' ') = 0);
    IF bad IS NULL AND uses IS NULL THEN
        RETURN '[]';
    END IF;
    RETURN CASE WHEN bad IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(jsonb_build_object('rule', 'attribute', 'detail',
        format('states %s, which the products'' data does not say', (SELECT string_agg('"' || x || '"', ', ') FROM unnest(bad) x)))) END
        || CASE WHEN uses IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(jsonb_build_object('rule', 'attribute', 'detail',
        format('states a use (as or for %s) the products'' data does not say', (SELECT string_agg('"' || x || '"', ', ') FROM unnest(uses) x)))) END;
END
$$;
COMMENT ON FUNCTION recgen.guard_rule_attribute(jsonb, jsonb, recgen.brands) IS
    'Guard rule "attribute": a colour, material, size or feature word (recgen.attribute_words), or a use ("can be used as a ...", "doubles as ..."), must be in the data of a product of the context or in the customer''s history';

/*
 * guard_rule_negation: what a product's description rules out ("No
 * foreign transaction fees", "without a deposit", "zero fees") stated as
 * if it applied ("has foreign transaction fees"): the words after the
 * description's "no", "without", "zero" or "free of" (up to three, to the
 * next punctuation or joining word) found in the text without a negation
 * in the three words before them.
 */
CREATE OR REPLACE FUNCTION recgen.guard_rule_negation(ctx jsonb, f jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH ruled_out AS (
        -- per clause of a description (split at punctuation and joining
        -- words), the words after its negation, articles aside
        SELECT DISTINCT array_to_string((string_to_array(m[1], ' '))[1:3], ' ') AS phrase
          FROM jsonb_array_elements(coalesce(ctx -> 'items', '[]') || coalesce(ctx -> 'product', '[]')) i,
               regexp_split_to_table(lower(coalesce(i ->> 'description', '')),
                                     '\s*(?:[,;:!?()]|[.](?![0-9])|\m(?:and|or|on|for|in|at|with|to|when|if|but|from|of)\M)\s*') c,
               regexp_matches(recgen.guard_norm(c), '\m(?:no|without|zero|free of)\s+(?:(?:a|an|any|the)\s+)?([[:alnum:]].*)$') m
         WHERE length(m[1]) >= 3
    ), words AS (
        SELECT string_to_array(recgen.guard_norm(f ->> 'text'), ' ') AS w
    ), hits AS (
        SELECT r.phrase, w.w[greatest(i - 3, 1):i - 1] AS before
          FROM ruled_out r, words w,
               generate_series(1, coalesce(cardinality(w.w), 0)) i
         WHERE array_to_string(w.w[i:i + cardinality(string_to_array(r.phrase, ' ')) - 1], ' ') = r.phrase
    )
    SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_object('rule', 'negation',
                        'detail', format('states "%s", which the product''s data rules out ("no %s")', phrase, phrase))), '[]')
      FROM hits
     WHERE NOT before && ARRAY['no', 'not', 'without', 'zero', 'free', 'never', 'nor', 't', 'avoid', 'skip', 'none']
$$;
COMMENT ON FUNCTION recgen.guard_rule_negation(jsonb, jsonb) IS
    'Guard rule "negation": what a product''s description rules out ("no foreign transaction fees") is not stated as if it applied ("has foreign transaction fees")';

/*
 * guard_rule_subject: an email's subject names a product or an interest
 * of the customer.
 */
CREATE OR REPLACE FUNCTION recgen.guard_rule_subject(kind text, output jsonb, f jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    subj text := recgen.guard_norm(output ->> 'subject');
    generic constant text[] := ARRAY['set', 'pack', 'design', 'assorted', 'style', 'with', 'and', 'the', 'for',
                                     'of', 'your', 'card', 'account', 'box'];
BEGIN
    IF kind <> 'email' OR subj = '' THEN
        RETURN '[]';
    END IF;
    -- a word said three times ("Regency Regency Regency", frame run): the
    -- composer then writes its own subject, as for one that names nothing
    IF EXISTS (SELECT 1 FROM unnest(string_to_array(subj, ' ')) w WHERE length(w) >= 3 GROUP BY w HAVING count(*) >= 3) THEN
        RETURN jsonb_build_array(jsonb_build_object('rule', 'subject',
            'detail', format('the subject "%s" says a word three times', output ->> 'subject')));
    END IF;
    subj := ' ' || subj || ' ';
    -- a name, or a distinctive word of a name, a category or a concern
    -- (singular or plural), not a colour, material, size or feature
    IF recgen.guard_has(btrim(subj), f -> 'forms') OR EXISTS (
        SELECT 1
          FROM (SELECT unnest(string_to_array(x, ' ')) AS w FROM jsonb_array_elements_text(f -> 'forms') x
                UNION
                SELECT unnest(string_to_array(i ->> 'category', ' ')) FROM jsonb_array_elements(f -> 'items') i
                UNION
                SELECT unnest(string_to_array(h, ' ')) FROM jsonb_array_elements_text(f -> 'history') h) s
         WHERE length(w) >= 4 AND w <> ALL (generic) AND w !~ '^[0-9]'
           AND (strpos(subj, ' ' || w || ' ') > 0 OR strpos(subj, ' ' || w || 's ') > 0
                OR strpos(subj, ' ' || w || 'es ') > 0
                OR (w LIKE '%s' AND strpos(subj, ' ' || left(w, -1) || ' ') > 0))
           AND NOT EXISTS (SELECT 1 FROM recgen.attribute_words a WHERE a.word = w AND a.kind <> 'activity')) THEN
        RETURN '[]';
    END IF;
    RETURN jsonb_build_array(jsonb_build_object('rule', 'subject',
        'detail', format('the subject "%s" names no product and none of the customer''s interests', output ->> 'subject')));
END
$$;
COMMENT ON FUNCTION recgen.guard_rule_subject(text, jsonb, jsonb) IS
    'Guard rule "subject": an email''s subject names a product (a distinctive word of its name, singular or plural) or an interest of the customer (category, purchase, concern), and says no word three times';

/*
 * guard_example_text: the answers of the active few-shot examples of a
 * kind, in normal form, sentences separated by " . " (a JSON answer, as
 * emails have, by its string fields).
 */
CREATE OR REPLACE FUNCTION recgen.guard_example_text(kind text, b recgen.brands) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT string_agg(recgen.guard_norm(recgen.guard_model_text(s.sentence, b)), ' . ')
      FROM recgen.prompt_templates t, jsonb_array_elements(t.examples) e,
           LATERAL (SELECT x.value AS v
                      FROM jsonb_each_text(CASE WHEN (e ->> 'assistant') ~ '^\s*\{"'
                                                THEN (e ->> 'assistant')::jsonb END) x
                    UNION ALL
                    SELECT e ->> 'assistant' WHERE (e ->> 'assistant') !~ '^\s*\{"') a,
           recgen.guard_sentences(a.v) s
     WHERE t.kind = guard_example_text.kind AND t.active
$$;
COMMENT ON FUNCTION recgen.guard_example_text(text, recgen.brands) IS
    'The answers of a kind''s active few-shot examples in normal form (for the guard''s rule "copied")';

/*
 * guard_example_products: the products of the active few-shot examples of
 * a kind (their "Recent purchases" and the numbered products to
 * recommend), in normal form: a customer's email that names one the
 * customer's data does not took it from an example ("We hope you're
 * enjoying your notebooks and desk lamp", of the Priya example, to a
 * customer who bought neither: composition frame, 100-customer run).
 * With a brand: only those of the examples its prompts get. (A name ends
 * before " (" or ". Why": PostgreSQL takes a pattern that starts with a
 * greedy quantifier as greedy as a whole, so "(.+?)" ran on to the last
 * one and no product to recommend of an example was ever found.)
 */
DROP FUNCTION IF EXISTS recgen.guard_example_products(text);
CREATE OR REPLACE FUNCTION recgen.guard_example_products(kind text, brand text DEFAULT NULL) RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(array_agg(DISTINCT n) FILTER (WHERE n <> ''), '{}')
      FROM (SELECT recgen.guard_norm(btrim(x)) AS n
              FROM recgen.prompt_templates t,
                   -- with a brand, the examples its prompts are given
                   recgen.brand_examples(t.examples, guard_example_products.brand) AS ex(e),
                   LATERAL (SELECT unnest(string_to_array(m[1], ', '))
                              FROM regexp_matches(e ->> 'user', 'Recent purchases: ([^\n]*?)\.(?:\n|$)', 'g') m
                            UNION ALL
                            SELECT m[1]
                              FROM regexp_matches(e ->> 'user', '(?:^|\n)[0-9]+\. ([^\n(.]+)(?: \(|\. Why)', 'g') m) a(x)
             WHERE t.kind = guard_example_products.kind AND t.active) y
$$;
COMMENT ON FUNCTION recgen.guard_example_products(text, text) IS
    'The products of a kind''s active few-shot examples (recent purchases and products to recommend) in normal form, for the guard''s rule "copied"; with a brand, only of the examples its prompts are given';

/*
 * guard_rule_copied: a product of an example that the customer's data
 * does not name (recgen.guard_example_products), in the subject or the
 * call to action a word of one ("See your desk picks"), a sentence of four words
 * or more that is an example's sentence, or a run of eight words
 * taken from an example answer of the kind's active templates, within one
 * of its sentences; a run that recgen's own fallback for the context also
 * says is no copy.
 */
CREATE OR REPLACE FUNCTION recgen.guard_rule_copied(kind text, ctx jsonb, f jsonb, b recgen.brands) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    theirs text := recgen.guard_example_text(kind, b);
    theirs_it text;                         -- theirs with "them" and "they" as "it"
    mine text;
    g text;
    said text;
    found text[];
    facts text;
BEGIN
    -- a product of an example that the customer's data does not name
    -- (singular or plural: "notebooks" of the example's Notebook)
    said := ' ' || array_to_string(ARRAY(SELECT s ->> 'masked' FROM jsonb_array_elements(f -> 'sentences') s), ' . ') || ' ';
    found := ARRAY(SELECT x FROM unnest(recgen.guard_example_products(kind)) x
                    WHERE strpos(said, ' ' || x || ' ') > 0 OR strpos(said, ' ' || x || 's ') > 0);
    IF cardinality(found) > 0 THEN
        facts := recgen.guard_context_facts(ctx, b);
        SELECT x INTO g FROM unnest(found) x WHERE strpos(facts, ' ' || x || ' ') = 0 LIMIT 1;
    END IF;
    IF g IS NOT NULL THEN
        RETURN jsonb_build_array(jsonb_build_object('rule', 'copied',
            'detail', format('names "%s", a product of an example, which the customer''s data does not name', g)));
    END IF;
    -- the subject or call to action with a word of an example's product
    -- (four letters or more) that the customer's data does not say: the
    -- button "See your desk picks" after a cakestand and a doormat (the
    -- example with the Desk Lamp, third frame run)
    -- (the context's facts read once, and only when such a word is there)
    said := ' ' || (SELECT string_agg(recgen.guard_norm(l), ' . ') FROM jsonb_array_elements_text(coalesce(f -> 'lines', '[]')) l) || ' ';
    found := ARRAY(SELECT DISTINCT x FROM unnest(recgen.guard_example_products(kind, b.brand)) e, unnest(string_to_array(e, ' ')) x
                    WHERE length(x) >= 4 AND (strpos(said, ' ' || x || ' ') > 0 OR strpos(said, ' ' || x || 's ') > 0));
    IF cardinality(found) > 0 THEN
        facts := coalesce(facts, recgen.guard_context_facts(ctx, b));
        SELECT x INTO g FROM unnest(found) x WHERE strpos(facts, ' ' || x) = 0 ORDER BY x LIMIT 1;
    END IF;
    IF g IS NOT NULL THEN
        RETURN jsonb_build_array(jsonb_build_object('rule', 'copied',
            'detail', format('says "%s" in the subject or call to action, a word of an example''s product that the customer''s data does not have', g)));
    END IF;
    IF theirs IS NULL THEN
        RETURN '[]';
    END IF;
    -- a whole sentence of four words or more as an example says it ("it"
    -- and "them" alike): "We hope you enjoy writing with it." after a cake
    -- stand, the Priya example's closing (composition frame, 100-customer run)
    theirs_it := ' . ' || regexp_replace(theirs, '\m(them|they)\M', 'it', 'g') || ' . ';
    SELECT s ->> 'masked' INTO g
      FROM jsonb_array_elements(f -> 'sentences') s
     WHERE array_length(string_to_array(s ->> 'masked', ' '), 1) >= 4
       AND strpos(theirs_it, ' . ' || regexp_replace(s ->> 'masked', '\m(them|they)\M', 'it', 'g') || ' . ') > 0
     LIMIT 1;
    IF g IS NOT NULL THEN
        RETURN jsonb_build_array(jsonb_build_object('rule', 'copied', 'detail', format('copies the sentence "%s" from an example', g)));
    END IF;
    SELECT m.gram INTO g
      FROM jsonb_array_elements(f -> 'sentences') s, recgen.guard_ngrams(s ->> 'masked', 8) m
     WHERE strpos(' ' || theirs || ' ', ' ' || m.gram || ' ') > 0
     LIMIT 1;
    IF g IS NULL THEN
        RETURN '[]';
    END IF;
    -- recgen's own phrasing (the kind's fallback for this context) is no copy
    BEGIN
        mine := ' ' || recgen.guard_norm(coalesce(
                    (SELECT string_agg(value, ' . ') FROM jsonb_each_text(recgen.render_fallback(kind, ctx, b.brand))), '')) || ' ';
    EXCEPTION WHEN data_exception OR invalid_parameter_value THEN
        mine := '';                         -- no fallback for this context: nothing excepted
    END;
    SELECT m.gram INTO g
      FROM jsonb_array_elements(f -> 'sentences') s, recgen.guard_ngrams(s ->> 'masked', 8) m
     WHERE strpos(' ' || theirs || ' ', ' ' || m.gram || ' ') > 0
       AND strpos(mine, ' ' || m.gram || ' ') = 0
     LIMIT 1;
    IF g IS NULL THEN
        RETURN '[]';
    END IF;
    RETURN jsonb_build_array(jsonb_build_object('rule', 'copied', 'detail', format('copies "%s" from an example', g)));
END
$$;
COMMENT ON FUNCTION recgen.guard_rule_copied(text, jsonb, jsonb, recgen.brands) IS
    'Guard rule "copied": no product of an example that the customer''s data does not name (in the subject or call to action: no word of one), no sentence of four words or more that an example says, and no run of eight words of a sentence of the text from an example answer of the kind''s active templates (recgen''s own fallback phrasing for the context excepted)';

/*
 * guard_reader_rules: every reader rule for one output, in the order of
 * the list above.
 */
CREATE OR REPLACE FUNCTION recgen.guard_reader_rules(kind text, output jsonb, ctx jsonb, b recgen.brands) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- prepared once (a SQL function would inline it once per rule)
    f jsonb := recgen.guard_facts(output, ctx, b);
BEGIN
    RETURN recgen.guard_rule_name(kind, ctx, f)
        || recgen.guard_rule_products_named(kind, f)
        || recgen.guard_rule_reason(kind, f)
        || recgen.guard_rule_second_person(kind, ctx, f)
        || recgen.guard_rule_placeholder(output)
        || recgen.guard_rule_script(ctx, f)
        || recgen.guard_rule_cut_off(f)
        || recgen.guard_rule_cta(kind, output)
        || recgen.guard_rule_phrases(f)
        || recgen.guard_rule_attribute(ctx, f, b)
        || recgen.guard_rule_negation(ctx, f)
        || recgen.guard_rule_subject(kind, output, f)
        || recgen.guard_rule_copied(kind, ctx, f, b)
        -- claims (63_guard_reader_claims.sql)
        || recgen.guard_rule_first_person(kind, f)
        || recgen.guard_rule_owned(kind, ctx, f)
        || recgen.guard_rule_product_name(kind, ctx, f)
        || recgen.guard_rule_claims(ctx, f, b);
END
$$;
COMMENT ON FUNCTION recgen.guard_reader_rules(text, jsonb, jsonb, recgen.brands) IS
    'The guard''s reader rules (name, products_named, reason, second_person, placeholder, script, cut_off, cta, repetition, attribute, negation, subject, copied, first_person, owned, product_name, offer, occasion, event, activity) for one output: a jsonb array of violations';

GRANT SELECT ON recgen.person_names, recgen.attribute_words TO recgen_admin, recgen_analyst, recgen_worker;
GRANT INSERT, UPDATE, DELETE ON recgen.person_names, recgen.attribute_words TO recgen_admin;
