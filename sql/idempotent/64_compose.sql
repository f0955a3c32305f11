/*
 * Email composition: what the email prompt says about the customer and the
 * products, and the part-by-part composition for small models.
 *
 * The prompt's facts (both compositions): the customer's history
 * (recgen.prompt_history: latest purchases, favourite categories, concern
 * topics with social consent) and the products in order with price, the
 * recommender's reason and the customer's items that led to each
 * (recgen.prompt_products, from reason_detail.because) and the product's
 * description. recgen.format_instruction then says what to write:
 *
 *   free   the whole email as JSON (subject, preheader, body, cta)
 *   parts  JSON parts, each short and bounded by the schema
 *          (recgen.email_parts_schema): subject, opening, per product its
 *          name and one sentence starting with "It", closing, cta
 *   frame  the parts around the products only (recgen.email_frame_schema):
 *          subject, opening, cta; each product's sentence is recgen's own
 *          (recgen.fallback_product_sentences), so the model states nothing
 *          about a product, and so is the closing (recgen.fallback_closing:
 *          the 1.5B model's closings were where a reader found most faults,
 *          nine of twenty in the third frame run, most passing the guard)
 *
 * recgen.compose_email assembles the parts: "Hi <first name>," (or Hello,
 * Dear: recgen's own wording rotates per customer, recgen.content_seed),
 * the opening, each product's sentence with "It" replaced by the product's
 * name and price (in frame: recgen's sentence for it) (so names and prices are right by construction and the
 * reason sits next to its product), the closing, the brand's disclaimer
 * and sign-off. A greeting or the customer's name the model put at the
 * start of a part is removed, and "Anna likes" becomes "you like"
 * (recgen.part_for_customer); a subject that names neither a product nor
 * an interest is replaced by recgen's own (recgen.email_subject): that part
 * alone falls back, not the email. The result is guarded like a whole
 * answer (the guard still rejects a doubled greeting or the third person
 * in what the model wrote freely).
 *
 * Few-shot examples: a template may hold several (retail and bank);
 * recgen.template_examples gives a prompt one of those that suit the brand,
 * chosen by the customer, so examples rotate across customers.
 */

/*
 * prompt_history: the customer's history as the prompt states it.
 */
CREATE OR REPLACE FUNCTION recgen.prompt_history(ctx jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT concat_ws(E'\n',
        (SELECT 'Recent purchases: ' || string_agg(recgen.display_name(x), ', ' ORDER BY o) || '.'
           FROM jsonb_array_elements_text(coalesce(ctx #> '{behaviour,last_purchases}', '[]')) WITH ORDINALITY AS e(x, o)),
        (SELECT 'Favourite categories: ' || string_agg(replace(x, '_', ' '), ', ' ORDER BY o) || '.'
           FROM jsonb_array_elements_text(coalesce(ctx #> '{behaviour,recent_categories}', '[]')) WITH ORDINALITY AS e(x, o)),
        (SELECT 'Topics they wrote about: '
                || string_agg(format('%s (%s)', c ->> 'topic', c ->> 'feeling'), ', ' ORDER BY o) || '.'
           FROM jsonb_array_elements(coalesce(ctx -> 'concerns', '[]')) WITH ORDINALITY AS e(c, o)))
$$;
COMMENT ON FUNCTION recgen.prompt_history(jsonb) IS
    'The customer''s history as an email prompt states it: recent purchases, favourite categories, concern topics (with social consent)';

/*
 * prompt_products: the products of a context, numbered, as the prompt
 * states them.
 */
CREATE OR REPLACE FUNCTION recgen.prompt_products(ctx jsonb) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(string_agg(format('%s. %s%s. Why: %s%s.%s', o, recgen.display_name(i ->> 'name'),
                                      coalesce(' (' || (i ->> 'price_text') || ')', ''),
                                      -- a reason given before is said in other words, so
                                      -- the model does not echo one phrase for two products
                                      -- (a third time, no phrase at all: the model echoed it)
                                      CASE (SELECT count(*) FROM jsonb_array_elements(ctx -> 'items') WITH ORDINALITY AS p(x, q)
                                             WHERE q < o AND x ->> 'reason' = i ->> 'reason')
                                           WHEN 0 THEN coalesce(i ->> 'reason', 'it suits what you like')
                                           WHEN 1 THEN recgen.reason_phrase(i ->> 'reason', 2)
                                           ELSE CASE WHEN i ? 'description' THEN 'see About it' ELSE 'it goes with what you chose' END END,
                                      coalesce(' (' || (SELECT string_agg(recgen.display_name(b), ', ')
                                                          FROM jsonb_array_elements_text(i -> 'because') b) || ')', ''),
                                      coalesce(' About it: ' || btrim(i ->> 'description', ' .') || '.', '')),
                               E'\n' ORDER BY o), '(none)')
           || coalesce(E'\nSubject words: ' || recgen.subject_words(ctx) || '.', '')
      FROM jsonb_array_elements(coalesce(ctx -> 'items', '[]')) WITH ORDINALITY AS e(i, o)
$$;
COMMENT ON FUNCTION recgen.prompt_products(jsonb) IS
    'The products of a context as an email prompt lists them: number, name, price, the reason (a repeated one in other words) with the customer''s items that led to it, the description';

/*
 * subject_words: the words an email's subject may be about, as the prompt
 * offers them: the distinctive words of the products' names (not a colour,
 * material or size, not "set" or "pack") and the favourite categories, the
 * words the guard's rule "subject" accepts.
 */
CREATE OR REPLACE FUNCTION recgen.subject_words(ctx jsonb) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT string_agg('"' || w || '"', ', ' ORDER BY o, k)
      FROM (SELECT DISTINCT ON (lower(w)) w, o, k
              FROM (SELECT w, o, k
                      FROM jsonb_array_elements(coalesce(ctx -> 'items', '[]')) WITH ORDINALITY AS e(i, o),
                           regexp_split_to_table(recgen.display_name(i ->> 'name'), '[^[:alpha:]]+') WITH ORDINALITY AS x(w, k)
                     WHERE length(w) >= 4
                       AND lower(w) <> ALL (ARRAY['set', 'pack', 'design', 'assorted', 'style', 'with', 'and', 'the', 'for',
                                                  'of', 'your', 'card', 'account', 'box'])
                       AND NOT EXISTS (SELECT 1 FROM recgen.attribute_words a WHERE a.word = lower(w) AND a.kind <> 'activity')
                    UNION ALL
                    SELECT replace(c, '_', ' '), 100 + q, 0
                      FROM jsonb_array_elements_text(coalesce(ctx #> '{behaviour,recent_categories}', '[]')) WITH ORDINALITY AS y(c, q)
                     WHERE c <> 'other' AND q <= 2) a
             ORDER BY lower(w), o, k) d
$$;
COMMENT ON FUNCTION recgen.subject_words(jsonb) IS
    'The words an email prompt offers for the subject: distinctive words of the products'' names (no colour, material, size or generic word) and the first two favourite categories';

/*
 * format_instruction: what an email prompt asks the model to write, per
 * composition (recgen owns this text, so a template switches composition
 * by one column).
 */
CREATE OR REPLACE FUNCTION recgen.format_instruction(composition text, n_items integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE composition
        WHEN 'parts' THEN format(
            'Write the parts of the email as JSON: %s'
            '"reasons" (%s, one per product to recommend, in the order above: "item" is the product''s name and "reason" one sentence about that product, '
            'not about a past purchase, starting with "It" and saying why it suits them, from its Why and About it; vary them: the first says how it goes with '
            'the purchase behind it, the second what it adds for them, the third why shoppers like them choose it, never a phrase of another reason), '
            '"closing" (one short friendly sentence) and "cta" (2 to 4 words). '
            'Do not write prices or the customer''s name: recgen adds them. Do not say what a product can be used as, or that it can be customised, unless About it says so. '
            'Write as "we" (the shop), never "I". The products to recommend are new to them: never "your" product or one they have. '
            '%s: say only what the products'' names, Why and About it tell.', head, n_items, invent)
        WHEN 'frame' THEN format(
            'Write the frame of the email as JSON: %s'
            'and "cta" (2 to 4 words). recgen presents the products and closes the email itself. '
            'Do not write prices, product facts or the customer''s name. Write as "we" (the shop), never "I". %s.', head, invent)
        ELSE
            'Write the email as JSON with "subject", "preheader", "body" and "cta". The body starts with "Hi" and the customer''s first name, '
            'then one sentence about their recent purchase or favourite category, then one sentence per product in the order above with its exact name, '
            'its price and why it suits them, then one short closing sentence: 60 to 150 words. Do not sign it: the sign-off is added.'
        END
      -- the subject and opening, and what not to invent, as parts and frame both ask
      FROM (SELECT '"subject" (at most 8 words, with the name of a product above, or a word of it, or a favourite category: see Subject words), '
                   '"opening" (one sentence to "you" about one of their Recent purchases by name or a Favourite category, not about the products to recommend; '
                   'no greeting and no name: recgen writes "Hi <name>," before it), ' AS head,
                   'Do not invent discounts, offers, occasions, trips, deliveries or people in their life (children, family, friends)' AS invent) t
$$;
COMMENT ON FUNCTION recgen.format_instruction(text, integer) IS
    'The output instruction of an email prompt: the whole email (composition free), its parts (composition parts) or the parts around the products (composition frame)';

/*
 * email_part_schema: the JSON schema of one part of an email written in
 * parts. The opening, a reason and the closing are one sentence each: no
 * full stop, "!" or "?" inside (a second sentence was where the 1.5B
 * model repeated itself: "It's the perfect finishing touch." after each
 * of three reasons), at most one at the end. A reason starts with "It"
 * (or "It's"), so recgen can put the product's name and price in its
 * place. A grammar-constrained server writes nothing else; the pattern
 * also bounds the length, as maxLength does for servers that ignore
 * patterns. A decimal point between digits is no full stop ("an 8.5%
 * rate"): without it a grammar-constrained server ended the bank demo's
 * opening at "with a 8.".
 */
CREATE OR REPLACE FUNCTION recgen.email_part_schema(part text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE part
        WHEN 'subject' THEN '{"type": "string", "minLength": 3, "maxLength": 70}'::jsonb
        WHEN 'opening' THEN '{"type": "string", "minLength": 10, "maxLength": 200}'::jsonb
                            || jsonb_build_object('pattern', '^([^".!?\\]|[0-9][.][0-9]){10,198}[.!]?$')
        WHEN 'reason' THEN '{"type": "string", "minLength": 10, "maxLength": 180}'::jsonb
                            || jsonb_build_object('pattern', '^It(''s)? ([^".!?\\]|[0-9][.][0-9]){8,170}[.!]?$')
        WHEN 'closing' THEN '{"type": "string", "minLength": 3, "maxLength": 140}'::jsonb
                            || jsonb_build_object('pattern', '^([^".!?\\]|[0-9][.][0-9]){3,138}[.!]?$')
        WHEN 'cta' THEN '{"type": "string", "minLength": 2, "maxLength": 30}'::jsonb
        END
$$;
COMMENT ON FUNCTION recgen.email_part_schema(text) IS
    'JSON schema of one part of an email written in parts (subject, opening, reason, closing, cta): the opening, a reason (starting with "It" or "It''s") and the closing one sentence each, every part bounded';

DROP FUNCTION IF EXISTS recgen.email_reason_schema();

/*
 * email_parts_schema: the JSON schema of an email written in parts for the
 * products of a context: exactly one reason per product, in order, each an
 * object whose "item" is the product's name (a constant, so the model writes
 * the name before the reason and the reason is about that product, not a
 * past purchase) and whose "reason" is the sentence. The bounds leave room
 * for a whole sentence: a grammar-constrained server closes a string at its
 * maxLength, mid-word.
 */
DROP FUNCTION IF EXISTS recgen.email_parts_schema(integer);
CREATE OR REPLACE FUNCTION recgen.email_parts_schema(items jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object(
        'type', 'object', 'additionalProperties', false,
        'properties', jsonb_build_object(
            'subject', recgen.email_part_schema('subject'),
            'opening', recgen.email_part_schema('opening'),
            'reasons', jsonb_build_object('type', 'array', 'minItems', n, 'maxItems', n, 'prefixItems', per),
            'closing', recgen.email_part_schema('closing'),
            'cta', recgen.email_part_schema('cta')),
        'required', '["subject", "opening", "reasons", "closing", "cta"]'::jsonb)
      FROM (SELECT count(*)::int AS n,
                   coalesce(jsonb_agg(jsonb_build_object(
                       'type', 'object', 'additionalProperties', false,
                       'properties', jsonb_build_object(
                           'item', jsonb_build_object('const', recgen.display_name(i ->> 'name')),
                           'reason', recgen.email_part_schema('reason')),
                       'required', '["item", "reason"]'::jsonb) ORDER BY o), '[]') AS per
              FROM jsonb_array_elements(coalesce(items, '[]')) WITH ORDINALITY AS e(i, o)) x
$$;
COMMENT ON FUNCTION recgen.email_parts_schema(jsonb) IS
    'JSON schema of an email written in parts for the given context items: subject, opening, one {"item": <the product''s name>, "reason": <sentence>} per product in order, closing, cta (each bounded)';

/*
 * email_frame_schema: the JSON schema of an email's frame (composition
 * frame): the parts of recgen.email_parts_schema without the reasons and
 * the closing.
 */
CREATE OR REPLACE FUNCTION recgen.email_frame_schema() RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (recgen.email_parts_schema('[]') #- '{properties,reasons}' #- '{properties,closing}')
           || jsonb_build_object('required', '["subject", "opening", "cta"]'::jsonb)
$$;
COMMENT ON FUNCTION recgen.email_frame_schema() IS
    'JSON schema of an email''s frame (composition frame): subject, opening, cta, bounded as in email_parts_schema; recgen writes the products'' sentences and the closing';

/*
 * template_examples: the few-shot messages of a prompt: of the template's
 * examples that suit the brand (the brand's own when it has some, else
 * those for any brand), one chosen by
 * seed (the customer), as user/assistant pairs; the assistant says the
 * parts for composition parts, and the parts without the reasons and the
 * closing for composition frame. A template with one example gives it.
 */
CREATE OR REPLACE FUNCTION recgen.template_examples(examples jsonb, composition text, brand text, seed bigint)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH fit AS (
        SELECT e, row_number() OVER (ORDER BY o) - 1 AS k, count(*) OVER () AS n
          FROM recgen.brand_examples(examples, coalesce(brand, '')) WITH ORDINALITY AS x(e, o)
    )
    SELECT coalesce(jsonb_agg(m ORDER BY k, r), '[]')
      FROM fit, LATERAL (VALUES (1, jsonb_build_object('role', 'user', 'content', e ->> 'user')),
                                (2, jsonb_build_object('role', 'assistant', 'content',
                                      CASE WHEN composition = 'parts' AND e ? 'parts' THEN e ->> 'parts'
                                           WHEN composition = 'frame' AND e ? 'parts' THEN ((e ->> 'parts')::jsonb - 'reasons' - 'closing')::text
                                           ELSE e ->> 'assistant' END))) AS v(r, m)
     WHERE k = abs(coalesce(seed, 0)) % n
$$;
COMMENT ON FUNCTION recgen.template_examples(jsonb, text, text, bigint) IS
    'The few-shot messages of a prompt: one of the template''s examples that suit the brand (its own when it has some, else those for any brand), chosen by seed (the customer id), its whole answer, its parts, or its parts without the reasons and the closing (frame)';

/*
 * part_text: one part of a model's answer, trimmed, one line.
 */
CREATE OR REPLACE FUNCTION recgen.part_text(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT nullif(btrim(regexp_replace(coalesce(t, ''), '\s+', ' ', 'g'), ' "'), '')
$$;
COMMENT ON FUNCTION recgen.part_text(text) IS 'A part of a model''s answer: white space folded, trimmed';

/*
 * part_sentence: a part that is a sentence, with its full stop when the
 * model left it out.
 */
CREATE OR REPLACE FUNCTION recgen.part_sentence(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN p ~ '[[:alnum:]]$'
                 AND p !~* '\m(and|or|but|to|the|a|an|of|for|with|your|our|in|on|at|from|by|is|are|that|which|who|we''ve|we|you|it|its|as|so|if|all|this|these)$'
                THEN p || '.' ELSE p END
      FROM (SELECT recgen.part_text(t) AS p) s
$$;
COMMENT ON FUNCTION recgen.part_sentence(text) IS 'A part of a model''s answer that is a sentence, with a full stop when it ends on a letter or digit and not on a word that needs more (a part cut off stays cut off, for the guard to see)';

/*
 * part_for_customer: a part of the model's answer as the customer reads
 * it: a greeting or the customer's name the model put at its start ("Hi
 * Anna, thanks ...", "Anna, you ...") removed, since recgen greets, the
 * customer spoken of by name ("Anna recently bought", "Anna's", "it suits
 * Anna") turned into "you" / "your", and the first person singular into the brand's "we"
 * ("I hope" -> "We hope", "my" -> "our"; a small model slips into both;
 * the guard still rejects what is left of them).
 */
CREATE OR REPLACE FUNCTION recgen.part_for_customer(t text, first_name text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p text := recgen.part_text(t);
    fn text := regexp_replace(split_part(btrim(coalesce(first_name, '')), ' ', 1), '([.*+?^${}()|\[\]\\])', '\\\1', 'g');
    m text[];
    verb text;
BEGIN
    IF p IS NULL THEN
        RETURN NULL;
    END IF;
    -- "Hi Anna," / "Hello there!" / "Dear Anna -" / "Anna," at the start
    p := regexp_replace(p, '^(?:(?:hi|hello|hey|dear|greetings)(?:\s+there)?\M\s*(?:' || CASE WHEN fn = '' THEN '(?!)' ELSE fn END
                           || ')?|' || CASE WHEN fn = '' THEN '(?!)' ELSE fn END || ')\s*[,!:.–-]+\s*', '', 'i');
    IF fn <> '' THEN
        -- "Anna's" -> "your"
        p := regexp_replace(p, '\m' || fn || '(?:''s|’s)\M', 'your', 'gi');
        -- "Anna <verb>" -> "you <verb>", the verb agreeing
        LOOP
            m := regexp_match(p, '\m(' || fn || ')\s+(has|is|was|likes|loves|enjoys|prefers|seems|buys|shops|needs|wants|spends|had|recently|bought|purchased|ordered|liked|loved|enjoyed|chose|picked|might|may|can|could|should|will|would|often|usually|also|mostly|spent)\M', 'i');
            EXIT WHEN m IS NULL;
            verb := CASE lower(m[2]) WHEN 'has' THEN 'have' WHEN 'is' THEN 'are' WHEN 'was' THEN 'were'
                                     WHEN 'likes' THEN 'like' WHEN 'loves' THEN 'love' WHEN 'enjoys' THEN 'enjoy'
                                     WHEN 'prefers' THEN 'prefer' WHEN 'seems' THEN 'seem' WHEN 'buys' THEN 'buy'
                                     WHEN 'shops' THEN 'shop' WHEN 'needs' THEN 'need' WHEN 'wants' THEN 'want'
                                     WHEN 'spends' THEN 'spend' ELSE lower(m[2]) END;
            p := regexp_replace(p, '\m' || fn || '\s+' || m[2] || '\M', 'you ' || verb, 'i');
        END LOOP;
        -- the name as an object ("it suits Anna as", "perfect for Anna") ->
        -- "you"; a name followed by a comma or "!" is the customer addressed
        p := regexp_replace(p, '(\m(?:suits|suit|for|to|with|helps|help|lets|let|gives|give|makes|make|shows|show|keeps|keep|'
                               || 'offers|offer|reminds|remind|brings|bring|tells|tell|thank|thanks|and)\s+)' || fn
                               || '\M(?!\s*[,!])', '\1you', 'gi');
        -- ("a great offer for Anna!" is not said to Anna either)
        p := regexp_replace(p, '(\mfor\s+)' || fn || '\M(?=\s*!)', '\1you', 'gi');
    END IF;
    -- the brand writes as "we": "I hope" -> "we hope", "I'm" -> "we're",
    -- "I am/was" -> "we are/were", "my" -> "our", "me" -> "us" (a small model
    -- slips into the first person; the guard's first_person rule still
    -- rejects what is left of it)
    p := regexp_replace(p, '\mI(?:''|’)m\M', 'we''re', 'g');
    p := regexp_replace(p, '\mI(?:''|’)(ve|d|ll)\M', 'we''\1', 'g');
    p := regexp_replace(p, '\mI\s+am\M', 'we are', 'g');
    p := regexp_replace(p, '\mI\s+was\M', 'we were', 'g');
    -- (not in a name: "the I Love London Backpack")
    p := regexp_replace(p, '\mI\M(?!\s+[[:upper:]])', 'we', 'g');
    p := regexp_replace(p, '\m[Mm]yself\M', 'ourselves', 'g');
    p := regexp_replace(p, '\m[Mm]y\M', 'our', 'g');
    p := regexp_replace(p, '\m[Mm]e\M', 'us', 'g');
    p := regexp_replace(p, '([.!?]\s+)we(\M|'')', '\1We\2', 'g');
    -- a sentence starts with a capital
    p := regexp_replace(p, '^(you|your)\M', initcap('\1'));
    p := CASE WHEN p ~ '^(You|Your)\M' THEN p ELSE upper(left(p, 1)) || substr(p, 2) END;
    RETURN nullif(btrim(p), '');
END
$$;
COMMENT ON FUNCTION recgen.part_for_customer(text, text) IS
    'A part of a model''s answer as the customer reads it: a leading greeting or the customer''s name removed (recgen greets), the customer spoken of by name turned into "you"/"your", the first person singular into "we"/"our"';

/*
 * content_seed: a number chosen by a context (its customer's name and
 * products), so that recgen's own wording rotates across customers and
 * stays the same for the same context.
 */
CREATE OR REPLACE FUNCTION recgen.content_seed(ctx jsonb) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ('x' || substr(md5(coalesce(ctx #>> '{customer,first_name}', '') || coalesce((ctx -> 'items')::text, '')), 1, 7))::bit(28)::int
$$;
COMMENT ON FUNCTION recgen.content_seed(jsonb) IS
    'A deterministic number from a context (customer name and products) that chooses among recgen''s own phrasings, so they rotate across customers';

/*
 * greeting: the email's greeting by first name, one of several chosen by
 * seed ("Hello there," without a name: a phrase no named greeting contains).
 */
CREATE OR REPLACE FUNCTION recgen.greeting(first_name text, seed integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN nullif(btrim(first_name), '') IS NULL THEN 'Hello there,'
                ELSE format((ARRAY['Hi %s,', 'Hello %s,', 'Dear %s,', 'Hi %s,', 'Hello %s,'])[1 + abs(seed / 11) % 5], first_name) END
$$;
COMMENT ON FUNCTION recgen.greeting(text, integer) IS
    'An email''s greeting by the customer''s first name (Hi, Hello or Dear, chosen by seed); "Hello there," without a name';

/*
 * email_subject: recgen's own subject for a context: the first product
 * when its name is short, else the customer's favourite category, in one
 * of several phrasings chosen by seed, with the first name in front.
 */
CREATE OR REPLACE FUNCTION recgen.email_subject(ctx jsonb, seed integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT left(CASE WHEN nullif(fname, '') IS NULL THEN upper(left(s, 1)) || substr(s, 2) ELSE fname || ', ' || s END, 80)
      FROM (SELECT fname,
                   CASE WHEN first_item IS NOT NULL AND length(first_item) <= 40
                        THEN format((ARRAY['the %s and more for you', 'picked for you: the %s', 'have you seen the %s?',
                                           'the %s, chosen for you', 'a closer look at the %s'])[1 + abs(seed / 9) % 5], first_item)
                        WHEN cat IS NOT NULL AND cat <> 'other'
                        THEN format((ARRAY['new ideas for your %s', 'more %s picks for you', 'fresh %s ideas'])[1 + abs(seed / 9) % 3], cat)
                        ELSE format('the %s and more for you', coalesce(first_item, 'picks')) END AS s
              FROM (SELECT ctx #>> '{customer,first_name}' AS fname,
                           recgen.display_name(ctx #>> '{items,0,name}') AS first_item,
                           replace(ctx #>> '{behaviour,recent_categories,0}', '_', ' ') AS cat) x) y
$$;
COMMENT ON FUNCTION recgen.email_subject(jsonb, integer) IS
    'recgen''s own email subject for a context: the first product (short names) or the favourite category, phrasing chosen by seed, first name in front';

/*
 * product_sentence: a product's sentence from the model's reason: "It ..."
 * (or "The <name> ...", the model naming the product itself) becomes
 * "The <name> (<price>) ...", "It's" / "It is" "The ... is"; any other
 * sentence ("They look ...") follows a sentence of recgen's own that names
 * the product ("We also picked the <name> (<price>) for you. They look
 * ..."), never a colon after the price. When the product was recommended
 * because of a purchase the sentence does not name, recgen leads with it
 * ("Since you chose the <purchase>, the <name> ..."), so the concrete
 * reason sits next to its product whatever the model wrote.
 */
DROP FUNCTION IF EXISTS recgen.product_sentence(text, jsonb, integer);
CREATE OR REPLACE FUNCTION recgen.product_sentence(reason text, item jsonb, k integer, seed integer DEFAULT 0) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r text := recgen.part_text(reason);
    name text := recgen.display_name(item ->> 'name');
    who text := format('%s%s', name, coalesce(' (' || (item ->> 'price_text') || ')', ''));
    because text := recgen.display_name(item #>> '{because,0}');
    named boolean;
    lead text;
    pick text;
BEGIN
    IF r IS NULL THEN
        RETURN NULL;
    END IF;
    -- a full stop where the model left it out, but not after a reason the
    -- schema's limit cut ("… a big enough space for your cutl"): that stays
    -- cut off, for the guard's cut_off rule to see (near the schema's
    -- maxLength: a grammar-constrained server closes the string there)
    IF r !~ '[.!?]$' AND length(r) < (recgen.email_part_schema('reason') ->> 'maxLength')::int - 20 THEN
        r := recgen.part_sentence(r);
    END IF;
    -- "The Spaceboy Birthday Card is ..." / "Spaceboy Birthday Card is ...":
    -- the name at the start is "It" (recgen writes the name and its price)
    r := regexp_replace(r, '^(?:the\s+)?' || regexp_replace(name, '([.*+?^${}()|\[\]\\])', '\\\1', 'g') || '\s+(?=[[:lower:]])', 'It ', 'i');
    -- named: the whole name (the shorter form "Alarm Clock Bakelike" is also
    -- the start of the purchase "Alarm Clock Bakelike Pink" the reason names)
    named := strpos(' ' || recgen.guard_norm(r) || ' ', ' ' || recgen.guard_norm(name) || ' ') > 0;
    -- the concrete reason, by construction: the purchase that led to the
    -- product, unless the model's sentence names it already
    IF because IS NOT NULL AND NOT recgen.guard_names(recgen.guard_norm(r), item #>> '{because,0}') THEN
        lead := format((ARRAY['Since you chose the %s, ', 'As you picked the %s, ', 'To go with your %s, ',
                              'Alongside your %s, ', 'With your %s in mind, ', 'Because you chose the %s, '])[1 + (abs(seed) + k - 1) % 6],
                       because);
    END IF;
    IF named AND lead IS NULL THEN
        RETURN upper(left(r, 1)) || substr(r, 2);
    ELSIF NOT named AND r ~* '^it(''s|’s)\s' THEN
        RETURN coalesce(lead || 'the ', CASE k WHEN 3 THEN 'And the ' ELSE 'The ' END) || who || ' is ' || regexp_replace(r, '^\S+\s+', '');
    ELSIF NOT named AND r ~* '^it\s' THEN
        RETURN coalesce(lead || 'the ', CASE k WHEN 3 THEN 'And the ' ELSE 'The ' END) || who || ' ' || regexp_replace(r, '^\S+\s+', '');
    END IF;
    -- any other sentence: recgen names the product in a sentence of its own
    pick := (ARRAY['we picked the %s for you', 'we think you will like the %s', 'have a look at the %s',
                   'we chose the %s for you'])[1 + (abs(seed / 7) + k - 1) % 4];
    RETURN CASE WHEN named THEN '' ELSE
               coalesce(lead || format(pick, who), upper(left(format(pick, who), 1)) || substr(format(pick, who), 2)) || '. ' END
           || upper(left(r, 1)) || substr(r, 2);
END
$$;
COMMENT ON FUNCTION recgen.product_sentence(text, jsonb, integer, integer) IS
    'A product''s sentence from the model''s reason: "It ..." (or the product''s name at the start) with the product''s name and price in its place, any other sentence after one of recgen''s that names the product; led by the purchase that led to it ("Since you chose the ...", phrasing rotated by seed) unless the sentence names it';

/*
 * part_without_dangling: a short part (a subject, a call to action) without
 * the joining words a length limit left at its end ("... and an alarm clock
 * for your", "Compare the options and let's", "Learn more about") and
 * without a final full stop.
 */
CREATE OR REPLACE FUNCTION recgen.part_without_dangling(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT regexp_replace(regexp_replace(t,
               '(\s+(and|or|&|the|a|an|of|for|with|your|our|to|in|at|from|about|into|let''s|let’s|lets|let|we|can|will))+\s*[,;:–-]?$', '', 'i'),
           '\s*[.]$', '')
$$;
COMMENT ON FUNCTION recgen.part_without_dangling(text) IS
    'A subject or call to action without the joining words a length limit left at its end ("… for your", "… and let''s") and without a final full stop';

/*
 * part_names_recommended: whether a model's opening or closing names a product of
 * the context's items (its name, or its name without the last word), the
 * whole names of the customer's purchases masked first (their Lunch Bag Red Spotty is no
 * mention of the recommended Lunch Bag Red Retrospot). The opening is
 * asked to be about their history; one that announces the products ("You
 * might enjoy our Lunch Bag Red Retrospot and Spaceboy Design.", make
 * demo) says before recgen's sentences what they say, in worse words; a
 * closing that names them again ("We hope you enjoy making your own
 * treats with our Jam Making Set with Jars, Red Kitchen Scales, and Recipe
 * Box Pantry Yellow Design.", third frame run) repeats them.
 */
CREATE OR REPLACE FUNCTION recgen.part_names_recommended(part text, ctx jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH t AS (
        SELECT recgen.guard_mask(recgen.guard_norm(part),
                   -- whole names only: a purchase's shorter form may begin a
                   -- recommended name ("set of 3 regency cake" of Trays and Tins)
                   (SELECT coalesce(jsonb_agg(recgen.guard_norm(p) ORDER BY length(p) DESC), '[]')
                      FROM (SELECT jsonb_array_elements_text(coalesce(ctx #> '{behaviour,last_purchases}', '[]')) p
                            UNION
                            SELECT jsonb_array_elements_text(coalesce(i -> 'because', '[]'))
                              FROM jsonb_array_elements(coalesce(ctx -> 'items', '[]')) i) s)) AS norm)
    SELECT EXISTS (SELECT 1 FROM t, jsonb_array_elements(coalesce(ctx -> 'items', '[]')) i
                    WHERE NOT coalesce(ctx #> '{behaviour,last_purchases}', '[]') ? (i ->> 'name')
                      AND recgen.guard_names(t.norm, i ->> 'name'))
$$;
COMMENT ON FUNCTION recgen.part_names_recommended(text, jsonb) IS
    'Whether an opening or closing names a product recommended in the context (the customer''s purchases masked first): composition then uses recgen''s own';

/*
 * compose_email: the email assembled from the model's parts and the
 * context: greeting, opening, one sentence per product, closing,
 * disclaimer and sign-off. Missing parts stay missing (the guard sees an
 * email without them and asks for a rewrite), except the opening:
 * recgen's own takes its place, as it does of an opening or a closing that
 * names the products to recommend (recgen.part_names_recommended). In
 * composition frame the products' sentences and the closing are recgen's
 * own, phrased so that they repeat nothing of the greeting and opening.
 */
DROP FUNCTION IF EXISTS recgen.compose_email(jsonb, jsonb, text);
CREATE OR REPLACE FUNCTION recgen.compose_email(parts jsonb, ctx jsonb, brand text, composition text DEFAULT 'parts')
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    b recgen.brands;
    fname text := ctx #>> '{customer,first_name}';
    seed integer := recgen.content_seed(ctx);
    opening text;
    sentences text;
    closing text;
    body text;
    out jsonb;
BEGIN
    SELECT * INTO b FROM recgen.brands br WHERE br.brand = compose_email.brand;
    IF jsonb_typeof(parts) IS DISTINCT FROM 'object' THEN
        RETURN '{}';
    END IF;
    -- an opening the model left out (or that was only a greeting, which
    -- part_for_customer removes) is recgen's own, as a vague subject is
    opening := recgen.part_sentence(recgen.part_for_customer(parts ->> 'opening', fname));
    -- so is one about the products to recommend rather than their history
    IF recgen.part_names_recommended(opening, ctx) THEN
        opening := NULL;
    END IF;
    opening := coalesce(opening, (recgen.fallback_opening(ctx, seed)).opening);
    IF composition = 'frame' THEN
        sentences := recgen.fallback_product_sentences(ctx, b, concat_ws(' ', recgen.greeting(fname, seed), opening), seed);
    ELSE
        SELECT string_agg(recgen.product_sentence(recgen.part_for_customer(
                              CASE jsonb_typeof(parts #> ARRAY['reasons', (o - 1)::text])
                                   WHEN 'object' THEN parts #>> ARRAY['reasons', (o - 1)::text, 'reason']
                                   ELSE parts #>> ARRAY['reasons', (o - 1)::text] END, fname), i, o::int, seed), ' ' ORDER BY o)
          INTO sentences
          FROM jsonb_array_elements(coalesce(ctx -> 'items', '[]')) WITH ORDINALITY AS e(i, o);
    END IF;
    closing := recgen.part_sentence(recgen.part_for_customer(parts ->> 'closing', fname));
    IF composition = 'frame' OR recgen.part_names_recommended(closing, ctx) THEN
        closing := recgen.fallback_closing(concat_ws(' ', recgen.greeting(fname, seed), opening, sentences), seed, ctx, b);
    END IF;
    body := concat_ws(E'\n\n',
                      recgen.greeting(fname, seed),
                      opening,
                      sentences,
                      closing,
                      CASE WHEN b.disclaimer IS NOT NULL AND 'email' = ANY (b.disclaimer_kinds) THEN b.disclaimer END,
                      b.sign_off);
    out := jsonb_strip_nulls(jsonb_build_object(
        'subject', recgen.part_without_dangling(recgen.part_text(parts ->> 'subject')),
        'preheader', recgen.email_preheader(ctx),
        'body', body,
        -- a call to action the length limit cut after "and" / "your" / "let's" loses that
        -- word, and a button has no full stop ("Call us now to get started.");
        -- one that reached the limit (30 characters) was cut in a word ("See
        -- your kitchen & dining & do") or after one that needs the next
        -- ("Check out our other cake", third frame run): recgen's own
        'cta', CASE WHEN length(recgen.part_text(parts ->> 'cta')) >= 30 THEN recgen.fallback_cta(seed)
                    ELSE recgen.part_without_dangling(recgen.part_text(parts ->> 'cta')) END));
    -- the subject part alone falls back: one that names neither a product
    -- nor an interest of the customer ("More for your baking goods") is
    -- replaced by recgen's own, rather than the whole email rewritten
    IF out ? 'subject' AND recgen.guard_rule_subject('email', out, recgen.guard_facts(out, ctx, b)) <> '[]' THEN
        out := out || jsonb_build_object('subject', recgen.email_subject(ctx, seed));
    END IF;
    -- so does a call to action that is no short, complete phrase ("Shop now
    -- for your lunch bags", "See the spaceboy, bowl": seven of the hundred
    -- retail emails of the third frame run were asked for it again)
    IF out ? 'cta' AND recgen.guard_rule_cta('email', out) <> '[]' THEN
        out := out || jsonb_build_object('cta', recgen.fallback_cta(seed));
    END IF;
    RETURN out;
END
$$;
COMMENT ON FUNCTION recgen.compose_email(jsonb, jsonb, text, text) IS
    'An email assembled from a model''s parts (subject, opening, reasons, closing, cta; in composition frame no reasons nor closing, the products'' sentences and the closing recgen''s own) and its context: greeting by first name (phrasing rotated per customer), a leading greeting or name of the model''s parts removed and the customer spoken of by name turned into "you", one sentence per product with its name and price, the brand''s disclaimer and sign-off; a subject that names no product nor interest, an opening missing or naming a product to recommend, a closing naming one and a call to action at the length limit or breaking the cta rule, replaced by recgen''s own';

/*
 * email_part_faults: which parts of an email written in parts broke the
 * guard, from the guard's violations of the assembled email: an object
 * {"opening" | "closing" | "cta" | "reason_<k>": "<details>"} naming each
 * part to write again, or NULL when a violation cannot be pinned on a part
 * (the whole email is then rewritten, as for a whole answer). A violation
 * is pinned on the parts whose text holds the phrase it quotes (a repeated
 * phrase on the later parts that say it), a product without its reason on
 * that product's reason, a call to action on the cta.
 */
CREATE OR REPLACE FUNCTION recgen.email_part_faults(parts jsonb, ctx jsonb, violations jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fname text := ctx #>> '{customer,first_name}';
    texts jsonb := '{}';
    faults jsonb := '{}';
    v jsonb;
    q text;
    p text;
    hit text[];
BEGIN
    IF jsonb_typeof(parts) IS DISTINCT FROM 'object' OR jsonb_array_length(coalesce(violations, '[]')) = 0 THEN
        RETURN NULL;
    END IF;
    -- each part as the customer reads it, in normal form, in the email's order
    texts := jsonb_strip_nulls(jsonb_build_object(
        'opening', ' ' || recgen.guard_norm(recgen.part_for_customer(parts ->> 'opening', fname)) || ' '))
        || (SELECT coalesce(jsonb_object_agg('reason_' || o, ' ' || recgen.guard_norm(recgen.part_for_customer(
                       CASE jsonb_typeof(r) WHEN 'object' THEN r ->> 'reason' ELSE r #>> '{}' END, fname)) || ' '), '{}')
              FROM jsonb_array_elements(coalesce(parts -> 'reasons', '[]')) WITH ORDINALITY AS e(r, o))
        || jsonb_strip_nulls(jsonb_build_object(
               'closing', ' ' || recgen.guard_norm(recgen.part_for_customer(parts ->> 'closing', fname)) || ' ',
               'cta', ' ' || recgen.guard_norm(parts ->> 'cta') || ' '));
    FOR v IN SELECT x FROM jsonb_array_elements(violations) x LOOP
        hit := NULL;
        IF v ->> 'rule' = 'cta' THEN
            hit := ARRAY['cta'];
        ELSIF v ->> 'rule' = 'reason' THEN
            -- 'gives no reason for "X"', '"X" is given the reason of "Y"'
            SELECT ARRAY['reason_' || o] INTO hit
              FROM jsonb_array_elements(coalesce(ctx -> 'items', '[]')) WITH ORDINALITY AS e(i, o)
             WHERE i ->> 'name' = substring(v ->> 'detail' FROM '"([^"]+)"') AND parts ? 'reasons' LIMIT 1;
            -- (in a frame the products' sentences are recgen's: no part to ask for)
        ELSIF v ->> 'rule' IN ('repetition', 'first_person', 'attribute', 'copied', 'cut_off', 'second_person', 'script',
                                'placeholder', 'offer', 'occasion', 'event', 'activity', 'negation', 'banned', 'overpromise', 'name', 'owned',
                                'product_name', 'price') THEN
            -- the quoted phrase (every quoted word of a list of words)
            FOR q IN SELECT btrim(m[1], ' …')
                       FROM regexp_matches(v ->> 'detail', CASE WHEN v ->> 'rule' = 'price' THEN '^(\S+)' ELSE '"([^"]+)"' END, 'g')
                            WITH ORDINALITY AS x(m, o)
                      WHERE o = 1 OR v ->> 'rule' IN ('attribute', 'offer', 'occasion', 'event', 'activity') LOOP
                q := ' ' || recgen.guard_norm(q) || ' ';
                CONTINUE WHEN q = '  ';
                SELECT array_agg(key ORDER BY CASE key WHEN 'opening' THEN 0 WHEN 'closing' THEN 100 WHEN 'cta' THEN 101
                                                       ELSE substr(key, 8)::int END) INTO hit
                  FROM jsonb_each_text(texts) t
                 WHERE strpos(value, q) > 0
                   -- a recommended product spoken of as owned: not its own reason
                   AND NOT (v ->> 'rule' = 'owned' AND key LIKE 'reason_%');
                IF hit IS NULL THEN
                    RETURN NULL;
                END IF;
                -- a phrase said in two parts: the later ones write again
                IF v ->> 'rule' = 'repetition' AND cardinality(hit) > 1 THEN
                    hit := hit[2:];
                END IF;
                FOREACH p IN ARRAY hit LOOP
                    faults := faults || jsonb_build_object(p, concat_ws('; ', faults ->> p, v ->> 'detail'));
                END LOOP;
            END LOOP;
            CONTINUE WHEN hit IS NOT NULL;
        END IF;
        IF hit IS NULL THEN
            RETURN NULL;
        END IF;
        FOREACH p IN ARRAY hit LOOP
            faults := faults || jsonb_build_object(p, concat_ws('; ', faults ->> p, v ->> 'detail'));
        END LOOP;
    END LOOP;
    RETURN nullif(faults, '{}');
END
$$;
COMMENT ON FUNCTION recgen.email_part_faults(jsonb, jsonb, jsonb) IS
    'The parts of an email written in parts that the guard''s violations point at ({"opening"|"closing"|"cta"|"reason_<k>": details}), or NULL when a violation cannot be pinned on a part';

/*
 * email_part_fix_request: the request that asks the model to write again
 * only the parts email_part_faults named, with a schema of just those
 * parts (the bounds of recgen.email_parts_schema). A short prompt of its
 * own rather than the conversation so far (shown its answer, a small model
 * wrote the same again): the system prompt, why each part was rejected,
 * the facts that part needs (the history for the opening; the product,
 * its reason, the purchase behind it and its description for a reason).
 * (Shown the email's other sentences "not to repeat", it copied them.)
 */
DROP FUNCTION IF EXISTS recgen.email_part_fix_request(jsonb, text, jsonb, jsonb);
CREATE OR REPLACE FUNCTION recgen.email_part_fix_request(req jsonb, parts jsonb, faults jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH f AS (
        SELECT key, value, CASE key WHEN 'opening' THEN 0 WHEN 'closing' THEN 100 WHEN 'cta' THEN 101
                                    ELSE substr(key, 8)::int END AS o,
               CASE WHEN key LIKE 'reason_%' THEN ctx -> 'items' -> (substr(key, 8)::int - 1) END AS item
          FROM jsonb_each_text(faults)
    )
    SELECT req || jsonb_build_object(
        'part', 'fix',
        'messages', jsonb_build_array(req -> 'messages' -> 0, jsonb_build_object('role', 'user', 'content',
            concat_ws(E'\n',
                'Write again some parts of an email to ' || coalesce(recgen.prompt_doc(ctx) #>> '{customer,first_name}', 'a customer')
                || ', as JSON with only the keys ' || string_agg('"' || key || '"', ', ' ORDER BY o) || '.',
                string_agg(format('- "%s": %s. The last one was rejected because it %s; write it in other words, without the rejected words.',
                                  key,
                                  CASE WHEN key = 'opening' THEN 'one sentence to "you" about one of their recent purchases by name or a favourite category, '
                                                                 || 'not about the products recommended; no greeting, no name. '
                                                                 || btrim(replace(recgen.prompt_history(ctx), E'\n', ' '), ' .')
                                       WHEN key = 'closing' THEN 'one short friendly closing sentence, as "we"'
                                       WHEN key = 'cta' THEN 'a call to action of 2 to 4 words, a complete phrase'
                                       ELSE format('one sentence starting with "It" about why the %s suits them%s%s',
                                                   recgen.display_name(item ->> 'name'),
                                                   coalesce(' (' || (item ->> 'reason') || coalesce(', because of the '
                                                            || recgen.display_name(item #>> '{because,0}'), '') || ')', ''),
                                                   coalesce('. About it: ' || btrim(item ->> 'description', ' .'), '')) END,
                                  regexp_replace(value, '; ', ' and it ', 'g')), E'\n' ORDER BY o),
                'Write as "we", never "I"; no prices, no names of people; do not invent facts, offers or occasions.'))),
        'schema', jsonb_build_object('type', 'object', 'additionalProperties', false,
                                     'properties', jsonb_object_agg(key, recgen.email_part_schema(
                                         CASE WHEN key LIKE 'reason_%' THEN 'reason' ELSE key END)),
                                     'required', jsonb_agg(key ORDER BY o)))
      FROM f
$$;
COMMENT ON FUNCTION recgen.email_part_fix_request(jsonb, jsonb, jsonb, jsonb) IS
    'The LLM request that asks for only the faulty parts of an email written in parts again (recgen.email_part_faults): a short prompt of its own with why each was rejected and the facts it needs, and a schema of just those parts';

/*
 * email_parts_merge: an email's parts with the parts the model wrote again
 * in their place.
 */
CREATE OR REPLACE FUNCTION recgen.email_parts_merge(parts jsonb, fix jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k text;
    t text;
BEGIN
    IF jsonb_typeof(fix) IS DISTINCT FROM 'object' THEN
        RETURN parts;
    END IF;
    FOR k, t IN SELECT key, value FROM jsonb_each_text(fix) WHERE jsonb_typeof(fix -> key) = 'string' LOOP
        IF k IN ('opening', 'closing', 'cta') THEN
            parts := parts || jsonb_build_object(k, t);
        ELSIF k ~ '^reason_[0-9]+$' AND jsonb_typeof(parts #> ARRAY['reasons', (substr(k, 8)::int - 1)::text]) = 'object' THEN
            parts := jsonb_set(parts, ARRAY['reasons', (substr(k, 8)::int - 1)::text, 'reason'], to_jsonb(t));
        END IF;
    END LOOP;
    RETURN parts;
END
$$;
COMMENT ON FUNCTION recgen.email_parts_merge(jsonb, jsonb) IS
    'An email''s parts with the parts written again (opening, closing, cta, reason_<k>) in their place';
