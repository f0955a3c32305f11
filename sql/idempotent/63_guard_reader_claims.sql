/*
 * The guard's claim rules: what a reader rejects because the text claims
 * something the data does not say (recgen.guard_reader_rules runs them
 * after the rules of 63_guard_reader.sql).
 *
 *   first_person  the brand speaks as "we", never "I" ("I love the way
 *                 they hold lots of cakes", "I hope you enjoy them"); a
 *                 video narration's presenter may
 *   owned         a recommended product spoken of as already the
 *                 customer's ("thanks for choosing us for your Investment
 *                 Advice Session", "you have a great Regency Cakestand"),
 *                 unless they did buy it (a repeat purchase)
 *   offer         a discount, sale, voucher, free delivery... (the words of
 *                 kind 'offer' in recgen.attribute_words) that neither the
 *                 brand nor the products' data mention
 *   occasion      an occasion, trip or event (kind 'occasion': birthday,
 *                 trip, Europe, special day...) or a person of the
 *                 customer's life (your child, your family) that nothing
 *                 of the context mentions
 *   event         something that happened between the customer and the
 *                 brand that recgen has no record of (kind 'event': "has
 *                 arrived", "you're considering", "your basket"): the
 *                 data holds purchases, not deliveries, visits or plans
 *   activity      a pastime (kind 'activity': "Happy baking!", "enjoy
 *                 writing with them") that no word of the context supports
 *                 (a word starting with one of the activity's stems: the
 *                 "cake" of a cake tin supports baking)
 *   product_name  a name a reader takes for a product's that is no
 *                 product of the context: words in capitals around two or
 *                 more words of a context product's name that the name
 *                 does not have ("Jumbo Bag Red Retrospot Mug",
 *                 "Regency Cakestand Tins")
 *
 * All compare the text in normal form (recgen.guard_norm) with the names
 * of the context's products and purchases masked where a name could hold
 * the word ("I Love London", "Spaceboy Birthday Card").
 */

/*
 * guard_rule_first_person: "I", "me", "my", "mine", "myself" outside the
 * names the context knows (not in a video narration: its presenter speaks).
 */
DROP FUNCTION IF EXISTS recgen.guard_rule_first_person(jsonb);
CREATE OR REPLACE FUNCTION recgen.guard_rule_first_person(kind text, f jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- a video narration is spoken by a presenter, who may say "I"
    IF kind = 'video_script' THEN
        RETURN '[]';
    END IF;
    -- one violation per place (each can be in another part of an email)
    RETURN (SELECT coalesce(jsonb_agg(jsonb_build_object('rule', 'first_person', 'detail',
                       format('speaks in the first person singular ("%s"): the brand writes as "we"', m[1])) ORDER BY o), '[]')
              FROM regexp_matches(recgen.guard_mask(recgen.guard_norm(coalesce(f ->> 'text', '')), f -> 'forms'),
                                  '(?:^|\s)((?:i|me|my|mine|myself)(?:\s+(?!(?:i|me|my|mine|myself)\M)\S+){0,3})(?=\s|$)', 'g')
                   WITH ORDINALITY AS x(m, o));
END
$$;
COMMENT ON FUNCTION recgen.guard_rule_first_person(text, jsonb) IS
    'Guard rule "first_person": the text says "I", "me" or "my" (outside product and purchase names); the brand writes as "we" (a video narration''s presenter may say "I")';

/*
 * guard_owned_words: the words after "your (new)", "ordering the" or "you
 * ordered / bought / chose / picked (up) the / some / a" in a text in normal form that are
 * two or more words of a product's name in another order or short
 * ("Thanks for ordering the Spaceboy Lunch Bag" of the Lunch Bag Spaceboy
 * Design, "Your Regency Cakestand is a great addition" of the Regency
 * Cakestand 3 Tier: frame run), singular or plural, and not all words of
 * one purchase (then they may be that purchase: "your new alarm clock" to
 * the buyer of another alarm clock); after "your new" one word of the name
 * is enough ("your new sweetheart gift"). NULL when there are none. "for
 * your" is no owning ("Shop for your lunch bags").
 */
CREATE OR REPLACE FUNCTION recgen.guard_owned_words(t text, name text, purchases jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    nw text[] := recgen.guard_singular_words(name);
    m text[];
    w text[];
    k integer;
BEGIN
    FOR m IN SELECT regexp_matches(coalesce(t, ''),
                                   '(?:^|\s)(?:(?<!for )your( new)?|ordering the|you (?:ordered|bought|chose|picked)(?: up)? (?:the|some|a|an))((?: [a-z0-9]+){2,4})', 'g') LOOP
        w := recgen.guard_singular_words(m[2]);
        k := 0;
        WHILE k < cardinality(w) AND w[k + 1] = ANY (nw) LOOP
            k := k + 1;
        END LOOP;
        -- "your new" owns what follows: one word of the name is enough
        -- ("We hope you love your new sweetheart gift" of a Sweetheart
        -- Ceramic Trinket Box, third frame run); otherwise two
        CONTINUE WHEN k < 1 OR (m[1] IS NULL AND (k < 2 OR (SELECT count(DISTINCT x) FROM unnest(w[1:k]) x) < 2));
        CONTINUE WHEN EXISTS (SELECT 1 FROM jsonb_array_elements(purchases) p
                               WHERE (SELECT bool_and(p ? x) FROM unnest(w[1:k]) x));
        RETURN array_to_string((string_to_array(btrim(m[2]), ' '))[1:k], ' ');
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION recgen.guard_owned_words(text, text, jsonb) IS
    'The words after "your" / "ordering the" / "you bought the" in a normal-form text that are two or more words of the product''s name (any order, singular or plural; after "your new" one is enough) and not all of one purchase''s (purchases: a jsonb array of arrays of singular words), or NULL';

/*
 * guard_rule_owned: a recommended product spoken of as the customer's
 * own: the product's name after "your", "you have (got/bought)", "you
 * bought/ordered/chose/picked", "choosing/ordering/enjoying/using the",
 * with at most two describing words between ("you have a great Regency
 * Cakestand 3 Tier"). The names of the customer's purchases are masked
 * first, so "your Lunch Bag Vintage Leaf Design, the Lunch Bag Vintage
 * Doily" speaks of the purchase. Products the customer bought before
 * (a repeat purchase) may be theirs. The subject and the call to action
 * count as the body does, and so do the name without its first word and
 * the name's words in another order (recgen.guard_owned_words).
 */
CREATE OR REPLACE FUNCTION recgen.guard_rule_owned(kind text, ctx jsonb, f jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bought jsonb;
    t text;
    v jsonb := '[]';
    it record;
    fm text;
    found boolean;
    purchases jsonb;
    w text;
    norm_name text;
BEGIN
    IF kind NOT IN ('email', 'snippet') THEN
        RETURN '[]';
    END IF;
    -- each purchase's words, singular (for recgen.guard_owned_words)
    SELECT coalesce(jsonb_agg(to_jsonb(recgen.guard_singular_words(p))), '[]')
      INTO purchases
      FROM (SELECT jsonb_array_elements_text(coalesce(ctx #> '{behaviour,last_purchases}', '[]')) p
            UNION
            SELECT jsonb_array_elements_text(coalesce(i -> 'because', '[]')) FROM jsonb_array_elements(coalesce(ctx -> 'items', '[]')) i) s;
    -- the forms of what the customer did buy, longest first
    SELECT coalesce(jsonb_agg(x ORDER BY length(x) DESC, x), '[]') INTO bought
      FROM (SELECT DISTINCT x FROM (SELECT jsonb_array_elements_text(coalesce(f -> 'last', '[]')) x
                                    UNION ALL
                                    SELECT jsonb_array_elements_text(b)
                                      FROM jsonb_array_elements(coalesce(f -> 'items', '[]')) i,
                                           jsonb_array_elements(coalesce(i -> 'because', '[]')) b) s) d
     -- a whole name, or a shorter form not inside a recommended product's
     -- form: the purchase Alarm Clock Bakelike Pink's "alarm clock bakelike"
     -- would hide the recommended Green one ("you ordered the Alarm Clock
     -- Bakelike Green" passed in the frame run)
     WHERE d.x IN (SELECT recgen.guard_norm(p)
                     FROM jsonb_array_elements_text(coalesce(ctx #> '{behaviour,last_purchases}', '[]')) p
                   UNION ALL
                   SELECT recgen.guard_norm(b)
                     FROM jsonb_array_elements(coalesce(ctx -> 'items', '[]')) i,
                          jsonb_array_elements_text(coalesce(i -> 'because', '[]')) b)
        OR NOT EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(f -> 'items', '[]')) i,
                                     jsonb_array_elements_text(i -> 'forms') y
                        WHERE y <> d.x AND strpos(' ' || y || ' ', ' ' || d.x || ' ') > 0);
    -- sentence by sentence (" . " between them: "... you chose. The X" is no
    -- "you chose the X")
    FOR it IN SELECT i ->> 'name' AS name, i -> 'forms' AS forms
                FROM jsonb_array_elements(coalesce(f -> 'items', '[]')) i
               WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(i -> 'forms') x WHERE bought ? x)
                 AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(ctx -> 'items', '[]')) c
                                  WHERE c ->> 'name' = i ->> 'name' AND c ->> 'reason' = 'you have bought it before') LOOP
        found := false;
        norm_name := recgen.guard_norm(it.name);
        -- the body's sentences and the other lines (a subject, a call to
        -- action "Enjoy your jam making set": make demo), the other whole
        -- names of the context masked (a sibling variant's "Alarm Clock
        -- Bakelike Red" is not the Green one), then the purchases' forms
        t := (SELECT string_agg(recgen.guard_mask(recgen.guard_mask_others(x, f, it.name), bought), ' . ')
                FROM (SELECT x ->> 'norm' AS x FROM jsonb_array_elements(coalesce(f -> 'sentences', '[]')) x
                      UNION ALL
                      SELECT recgen.guard_norm(l) FROM regexp_split_to_table(coalesce(f ->> 'text', ''), '\n') l
                       WHERE strpos(coalesce(f ->> 'body', ''), l) = 0) s);
        -- its forms, and its name without the first word when three words or
        -- more remain, or two with no other name of the context holding them
        -- ("We're glad you found the rewards card helpful" of the recommended
        -- Travel Rewards Card, frame run)
        FOR fm IN SELECT jsonb_array_elements_text(it.forms)
                  UNION
                  SELECT x FROM (SELECT regexp_replace(norm_name, '^\S+ ', '') AS x) y
                   WHERE x ~ ' ' AND x <> norm_name AND NOT bought ? x
                     AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(f -> 'names') n
                                      WHERE n <> norm_name AND strpos(' ' || n || ' ', ' ' || x || ' ') > 0) LOOP
            IF t ~ ('(?:^|\s)(?:your|you (?:ve|have|had|own)(?: (?:got|bought|purchased|ordered|chosen|picked))?'
                    || '|you (?:bought|purchased|ordered|chose|picked|got)(?: up)?|you found'
                    || '|(?:bought|purchased|ordered|ordering|choosing|owning|enjoying|using))'
                    || '(?: (?:the|a|an|your))?(?: (?!(?:the|a|an|and|or|with|for|to|of|your|it|is)\s)[a-z0-9]+){0,2} '
                    || regexp_replace(fm, '([.*+?^${}()|\[\]\\])', '\\\1', 'g') || '(?:\s|$)') THEN
                v := v || jsonb_build_object('rule', 'owned', 'detail',
                    format('speaks of "%s" as the customer''s own, but it is a product recommended to them', it.name));
                found := true;
                EXIT;
            END IF;
        END LOOP;
        -- or by its words in another order or short ("your Regency Cakestand")
        IF NOT found THEN
            w := recgen.guard_owned_words(t, it.name, purchases);
            IF w IS NOT NULL THEN
                v := v || jsonb_build_object('rule', 'owned', 'detail',
                    format('speaks of "%s" as the customer''s own ("%s"), but it is a product recommended to them', it.name, w));
            END IF;
        END IF;
    END LOOP;
    RETURN v;
END
$$;
COMMENT ON FUNCTION recgen.guard_rule_owned(text, jsonb, jsonb) IS
    'Guard rule "owned": a recommended product spoken of as already the customer''s in the body, subject or call to action ("your <product>", "you have a great <product>", "thanks for choosing the <product>", its words in another order: "ordering the Spaceboy Lunch Bag"), unless they bought it before';

/*
 * guard_rule_product_name: a run of capitalised words (and numbers) in an
 * email's or snippet's body, subject or call to action that shares two words or more with the name of
 * a product of the context (an item, a purchase that led to one, a last
 * purchase) and has a word that name does not ("Jumbo Bag Red Retrospot
 * Mug", "Regency Cakestand Tins" beside the Regency Cakestand 3 Tier): a
 * reader takes it for a product's name, and there is no such product.
 * Compared singular to singular; the first word of a sentence, and "the",
 * "our" and "your", count only when the name has them; a category's words
 * and the customer's name are no invention.
 */
CREATE OR REPLACE FUNCTION recgen.guard_rule_product_name(kind text, ctx jsonb, f jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb := '[]';
    names jsonb;
    allowed text[];
    r record;
    w text[];
    best record;
BEGIN
    IF kind NOT IN ('email', 'snippet') THEN
        RETURN '[]';
    END IF;
    -- the names, each as its singular words
    SELECT coalesce(jsonb_agg(jsonb_build_object('name', n, 'words', recgen.guard_singular_words(n))), '[]')
      INTO names
      FROM unnest(recgen.guard_known_names(ctx)) n;
    -- words that are never an invention: categories, the customer's name, joining words
    allowed := recgen.guard_singular_words(concat_ws(' ',
                   ctx #>> '{customer,first_name}',
                   (SELECT string_agg(x, ' ') FROM jsonb_array_elements_text(coalesce(ctx #> '{behaviour,recent_categories}', '[]')) x),
                   (SELECT string_agg(i ->> 'category', ' ') FROM jsonb_array_elements(coalesce(ctx -> 'items', '[]')) i)))
               || ARRAY['and', 'of', 'with', 'for', 'in', 'on', 'to', 'from', 'by', 'a', 'an'];
    -- "¶ " marks the start of a sentence, so a run there is known
    FOR r IN SELECT m[1] AS lead, m[2] AS run
               FROM (SELECT b.n, b.sentence FROM recgen.guard_sentences(f ->> 'body') b
                     UNION ALL   -- the subject and the call to action ("Regency Tea Set")
                     SELECT 1000 + k, l FROM jsonb_array_elements_text(coalesce(f -> 'lines', '[]')) WITH ORDINALITY AS x(l, k)) s,
                    regexp_matches('¶ ' || s.sentence,
                                   '(¶ |[[:space:]("“‘])((?:[[:upper:]0-9][[:alnum:]''’-]*)(?:[[:space:]]+(?:[[:upper:]0-9][[:alnum:]''’-]*))+)', 'g') m
              ORDER BY s.n LOOP
        w := recgen.guard_singular_words(r.run);
        -- the best-matching name: the most words in common
        SELECT n ->> 'name' AS name, ARRAY(SELECT jsonb_array_elements_text(n -> 'words')) AS words,
               (SELECT count(DISTINCT x) FROM unnest(w) x WHERE (n -> 'words') ? x) AS shared
          INTO best
          FROM jsonb_array_elements(names) n
         ORDER BY 3 DESC, length(n ->> 'name')
         LIMIT 1;
        IF best.shared IS NULL OR best.shared < 2 THEN
            CONTINUE;
        END IF;
        -- a sentence's first word, or "the" / "our" / "your" before the name
        WHILE cardinality(w) > 0 AND w[1] <> ALL (best.words)
              AND (r.lead = '¶ ' OR w[1] IN ('the', 'our', 'your', 'this', 'these', 'new')) LOOP
            w := w[2:];
            r.lead := '';
        END LOOP;
        IF EXISTS (SELECT 1 FROM unnest(w) x WHERE x <> ALL (best.words) AND x <> ALL (allowed)) THEN
            v := v || jsonb_build_object('rule', 'product_name', 'detail',
                format('names "%s", which is no product of the context (the nearest is "%s")', r.run, best.name));
        END IF;
    END LOOP;
    RETURN v;
END
$$;
COMMENT ON FUNCTION recgen.guard_rule_product_name(text, jsonb, jsonb) IS
    'Guard rule "product_name": a run of capitalised words in the body, subject or call to action that shares two words or more with a product name of the context and adds a word that name does not have ("Jumbo Bag Red Retrospot Mug"): a product''s name the context has no product of';

/*
 * guard_rule_claims: the words of kind 'offer', 'occasion' and 'event' of
 * recgen.attribute_words (a word or a phrase of up to three words) in the
 * text, outside the context's names, that nothing the context says about
 * its products, the customer and the brand contains
 * (recgen.guard_context_facts).
 */
CREATE OR REPLACE FUNCTION recgen.guard_rule_claims(ctx jsonb, f jsonb, b recgen.brands) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    words text[] := string_to_array(recgen.guard_mask(recgen.guard_norm(coalesce(f ->> 'text', '')), f -> 'forms'), ' ');
    facts text;
    v jsonb := '[]';
    k record;
BEGIN
    FOR k IN SELECT a.kind, array_agg(DISTINCT a.word ORDER BY a.word) AS found
               FROM recgen.attribute_words a
              WHERE a.kind IN ('offer', 'occasion', 'event', 'activity')
                AND a.word IN (SELECT array_to_string(words[i:i + n - 1], ' ')
                                 FROM generate_series(1, coalesce(cardinality(words), 0)) i, generate_series(1, 3) n)
              GROUP BY a.kind ORDER BY a.kind DESC LOOP
        facts := coalesce(facts, recgen.guard_context_facts(ctx, b));
        -- a word the data says, singular or plural ("trips" for "every
        -- trip"); an activity also a word that starts with one of its stems
        -- ("cake tins" for "baking")
        k.found := ARRAY(SELECT x FROM unnest(k.found) x
                          WHERE strpos(facts, ' ' || x || ' ') = 0 AND strpos(facts, ' ' || x || 's ') = 0
                            AND (x !~ 's$' OR strpos(facts, ' ' || left(x, -1) || ' ') = 0)
                            AND NOT EXISTS (SELECT 1 FROM recgen.attribute_words a, unnest(a.stems) st
                                             WHERE a.word = x AND strpos(facts, ' ' || st) > 0)
                          ORDER BY x);
        -- the customer's own celebration ("We hope you're having a great
        -- birthday!" beside a Pink Happy Birthday Bunting, second frame run):
        -- a product's name allows the word, not that the customer has one;
        -- their concerns or the categories they buy could tell (a buyer of
        -- party goods may hear of "your party")
        IF k.kind = 'occasion' THEN
            k.found := k.found || ARRAY(
                SELECT DISTINCT m[1]
                  FROM regexp_matches(array_to_string(words, ' '),
                                      '(?:^|\s)(?:your|you re having|you are having|having|enjoy|enjoying)(?: (?:a|an))?'
                                      || '(?: (?:great|wonderful|lovely|happy|big|special|fantastic|fun|new))?'
                                      || ' (birthday|anniversary|wedding|party|celebration|graduation|retirement)(?: (\S+))?(?=\s|$)', 'g') m
                 WHERE NOT m[1] = ANY (k.found)
                   -- "your birthday card", "your party balloons": a thing, not the day
                   AND NOT coalesce((f -> 'name_words') ? m[2], false)
                   AND NOT EXISTS (SELECT 1 FROM (SELECT c ->> 'topic' AS x FROM jsonb_array_elements(coalesce(ctx -> 'concerns', '[]')) c
                                                  UNION ALL
                                                  SELECT jsonb_array_elements_text(coalesce(ctx #> '{behaviour,recent_categories}', '[]'))) h
                                    WHERE strpos(' ' || recgen.guard_norm(h.x) || ' ', ' ' || m[1] || ' ') > 0));
        END IF;
        IF cardinality(k.found) > 0 THEN
            v := v || jsonb_build_object('rule', k.kind, 'detail',
                format(CASE k.kind WHEN 'offer' THEN 'offers %s, which neither the brand nor the products'' data mention'
                                   WHEN 'event' THEN 'speaks of %s, an event (a delivery, a visit, a basket, a plan) no data of the customer records: recgen knows their purchases'
                                   WHEN 'activity' THEN 'speaks of %s, a pastime neither the products nor the customer''s history are about'
                                   ELSE 'speaks of %s, an occasion, trip or person of the customer''s life nothing of their data mentions' END,
                       (SELECT string_agg('"' || x || '"', ', ') FROM unnest(k.found) x)));
        END IF;
    END LOOP;
    RETURN v;
END
$$;
COMMENT ON FUNCTION recgen.guard_rule_claims(jsonb, jsonb, recgen.brands) IS
    'Guard rules "offer", "occasion", "event" and "activity": a discount, sale, voucher or free delivery (offer), an occasion, trip or person of the customer''s life (occasion), a delivery, visit, basket or plan (event), or a pastime such as baking or writing (activity), from recgen.attribute_words, that the data of the context''s products, the customer and the brand does not mention';
