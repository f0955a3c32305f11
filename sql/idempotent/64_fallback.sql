/*
 * Fallback content: what recgen delivers when the model's answers keep
 * failing the guard, rendered from the context alone. It must pass every
 * rule of the guard, reader rules included, so it is written as a
 * marketing team would write it: the customer's first name, an opening
 * about their own history (a purchase by name, else their favourite
 * catalog category, or where they spend for a bank), one sentence per
 * product with its concrete reason (the purchase that led to it, from
 * reason_detail.because, else the recommender's reason), a closing and
 * the brand's sign-off.
 *
 * Variety: the sentences come from several phrasings, chosen by a hash of
 * the customer and products (deterministic: the same context gives the
 * same text), and a phrasing that would repeat four words of the text so
 * far (recgen.guard_rule_phrases) is skipped for the next one.
 *
 * Product names are shown as recgen.display_name writes them (the
 * catalog's capitals in title case); the guard compares names without
 * regard to case.
 */

/*
 * display_name: a product name as a text shows it: names written all in
 * capitals (as the Online Retail catalog has them) in title case, small
 * words in lower case, the catalog's "OF4" as "of 4" ("Set of 4
 * Woodland", not "Set Of4 Woodland"); other names unchanged.
 */
CREATE OR REPLACE FUNCTION recgen.display_name(name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN name <> upper(name) OR name !~ '[A-Z]{2}' THEN btrim(regexp_replace(name, '\s+', ' ', 'g'), ' .,')
                ELSE (SELECT string_agg(CASE WHEN k > 1 AND lower(w) IN ('of', 'and', 'the', 'a', 'an', 'in', 'with', 'for', 'on', 'to', 'or')
                                             THEN lower(w) ELSE initcap(w) END, ' ' ORDER BY k)
                        FROM regexp_split_to_table(btrim(regexp_replace(regexp_replace(name, '\mOF([0-9]+)\M', 'OF \1', 'g'),
                                                                        '\s+', ' ', 'g'), ' .,'), ' ') WITH ORDINALITY AS t(w, k))
           END
$$;
COMMENT ON FUNCTION recgen.display_name(text) IS
    'A product name as content shows it: all-capitals catalog names in title case (small words lower case, "OF4" as "of 4"), others as they are; runs of spaces and a trailing full stop removed';

/*
 * reason_phrase: a recommendation reason (recgen.reason_text) as the
 * complement of "it is ..."; variant 2 says the same in other words, for
 * a second product with the same reason.
 */
CREATE OR REPLACE FUNCTION recgen.reason_phrase(reason text, variant integer DEFAULT 1) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN variant = 1 THEN
        CASE WHEN reason IS NULL THEN 'a good match for what you like'
             WHEN reason = 'you have bought it before' THEN 'one you have bought before'
             WHEN reason ~ '^goes well with ' THEN 'a good match for ' || substr(reason, 16)
             WHEN reason ~ '^(you|we|it) ' THEN 'a good match for what you like'
             -- a reason that does not follow "it is" ("similar customers"
             -- from a reason code recgen.reason_text does not know)
             WHEN reason !~ '^(a|an|the|one|often|similar to|popular|from|new|chosen|goes|liked|bought|great|ideal|perfect)\M'
                  THEN 'a good match for what you like'
             ELSE reason END
    ELSE
        CASE reason
             WHEN 'popular with our customers' THEN 'a favourite of many shoppers'
             WHEN 'popular with customers like you' THEN 'a favourite of shoppers like you'
             WHEN 'chosen by customers like you' THEN 'a pick of shoppers with tastes like yours'
             WHEN 'popular in your country' THEN 'a favourite in your country'
             WHEN 'similar to items you liked' THEN 'close to things you liked before'
             WHEN 'often bought together with items you chose' THEN 'a good partner for things you chose'
             WHEN 'from a category you like' THEN 'from one of the categories you like'
             WHEN 'a step up from what you have' THEN 'an upgrade on what you have'
             WHEN 'new in our range' THEN 'new to our range and suits what you like'
             ELSE 'another match for your taste' END
    END
$$;
COMMENT ON FUNCTION recgen.reason_phrase(text, integer) IS
    'A recommendation reason in words (recgen.reason_text) as the complement of "it is ...", in one of two wordings';

/*
 * fallback_pick: a phrasing for the next sentence: the first of the
 * preferred ones, then of the others (each list tried cyclically from
 * position start), that repeats no phrase of the text so far; when all
 * would, the first one tried.
 */
CREATE OR REPLACE FUNCTION recgen.fallback_pick(so_far text, preferred text[], others text[], start integer,
                                                ctx jsonb, b recgen.brands)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    o text;
    first_try text;
BEGIN
    FOR o IN SELECT l[1 + (start + k) % cardinality(l)]
               FROM (VALUES (1, preferred), (2, others)) AS g(n, l), generate_series(0, cardinality(l) - 1) k
              WHERE cardinality(l) > 0
              ORDER BY g.n, k LOOP
        first_try := coalesce(first_try, o);
        IF recgen.guard_rule_phrases(recgen.guard_facts(jsonb_build_object('body', so_far || E'\n' || o), ctx, b)) = '[]' THEN
            RETURN o;
        END IF;
    END LOOP;
    RETURN first_try;
END
$$;
COMMENT ON FUNCTION recgen.fallback_pick(text, text[], text[], integer, jsonb, recgen.brands) IS
    'Fallback helper: the first phrasing, preferred ones first (each list cyclically from start), that repeats no phrase of the text so far';

/*
 * fallback_product_sentences: recgen's own sentence for each product of a
 * context, in order, each with its name, price and concrete reason (the
 * purchase that led to it, from reason_detail.because, else the
 * recommender's reason), each phrasing picked so that it repeats no phrase
 * of so_far and the sentences before it. named: purchases the text has
 * named already (their "because" sentence is not used again);
 * last_named: the purchase the sentence before names, which "it" may
 * refer to. Used by the fallback email and by composition frame, where the
 * model writes only the frame around these sentences.
 */
CREATE OR REPLACE FUNCTION recgen.fallback_product_sentences(ctx jsonb, b recgen.brands, so_far text, h integer,
                                                             named text[] DEFAULT '{}', last_named text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    out text := '';
    sentence text;
    i jsonb;
    k integer := 0;
    nm text;
    pr text;
    bc text;
    rs text;
    cg text;
BEGIN
    so_far := coalesce(so_far, '');
    named := coalesce(named, '{}');
    FOR i IN SELECT * FROM jsonb_array_elements(coalesce(ctx -> 'items', '[]')) LOOP
        nm := recgen.display_name(i ->> 'name');
        pr := coalesce(' (' || (i ->> 'price_text') || ')', '');
        bc := recgen.display_name(i #>> '{because,0}');
        rs := recgen.reason_phrase(i ->> 'reason');
        cg := replace(nullif(i ->> 'category', 'other'), '_', ' ');
        sentence := recgen.fallback_pick(so_far || out,
            CASE WHEN i ->> 'reason' = 'you have bought it before'
                      OR coalesce(ctx #> '{behaviour,last_purchases}', '[]') ? (i ->> 'name') THEN ARRAY[
                     -- bought before and due again
                     format('When the time comes, you can choose the %s%s again.', nm, pr),
                     format('The %s%s, which you have chosen before, is here whenever you need it again.', nm, pr)]
                 WHEN bc IS NOT NULL AND bc = last_named THEN ARRAY[
                     -- the purchase the previous sentence named led to this product too
                     format('The %s%s goes well with it.', nm, pr),
                     format('It pairs nicely with the %s%s.', nm, pr),
                     format('A natural partner for it is the %s%s.', nm, pr)]
                 WHEN bc IS NOT NULL AND bc <> ALL (named) THEN ARRAY[
                     format('Because you chose the %s, we think you will like the %s%s.', bc, nm, pr),
                     format('The %s%s goes well with the %s you picked.', nm, pr, bc),
                     format('To go with your %s, have a look at the %s%s.', bc, nm, pr),
                     format('Customers who chose the %s also liked the %s%s.', bc, nm, pr),
                     format('Many who have the %s add the %s%s.', bc, nm, pr),
                     format('Next to your %s, the %s%s makes a good companion.', bc, nm, pr),
                     format('Since the %s is already yours, the %s%s could be a good addition.', bc, nm, pr),
                     format('The %s%s is a popular choice among those who picked the %s.', nm, pr, bc)]
                 ELSE ARRAY[]::text[] END,
            ARRAY[format('The %s%s is %s.', nm, pr, rs),
                  format('We also picked the %s%s, as it is %s.', nm, pr, rs),
                  format('You might also enjoy the %s%s, as it is %s.', nm, pr, recgen.reason_phrase(i ->> 'reason', 2)),
                  format('Next on our list is the %s%s, %s.', nm, pr, recgen.reason_phrase(i ->> 'reason', 2)),
                  format('We would also point you to the %s%s, which is %s.', nm, pr, rs),
                  format('Worth a look too is the %s%s, %s.', nm, pr, recgen.reason_phrase(i ->> 'reason', 2))]
            || CASE WHEN cg IS NULL THEN ARRAY[]::text[] ELSE ARRAY[
                  format('You may also like the %s%s from our %s range.', nm, pr, cg),
                  format('From our %s range, the %s%s is another good match for you.', cg, nm, pr)] END,
            h + k, ctx, b);
        out := out || ' ' || sentence;
        IF bc IS NOT NULL THEN
            named := named || bc;
        END IF;
        last_named := NULL;             -- "it" refers only to the opening's purchase
        k := k + 1;
    END LOOP;
    RETURN ltrim(out);
END
$$;
COMMENT ON FUNCTION recgen.fallback_product_sentences(jsonb, recgen.brands, text, integer, text[], text) IS
    'recgen''s own sentence per product of a context (name, price, the purchase that led to it or the recommender''s reason), phrasings chosen by seed so that none repeats a phrase of the text so far; the fallback''s and composition frame''s product sentences';

/*
 * spending_category: whether the customer's favourite category is one of
 * spending rather than of the catalog (a bank's "groceries", where the
 * customer spends: no product has it), so that it is never spoken of as
 * products ("groceries ideas").
 */
CREATE OR REPLACE FUNCTION recgen.spending_category(ctx jsonb) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ctx #>> '{behaviour,recent_categories,0}' IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM recgen.products p WHERE p.category = ctx #>> '{behaviour,recent_categories,0}')
$$;
COMMENT ON FUNCTION recgen.spending_category(jsonb) IS
    'Whether a context''s favourite category is one of spending (no product of the catalog has it: a bank''s "groceries"), not of products';

/*
 * email_preheader: recgen's preheader for an email (the fallback's and a
 * composed one's): the favourite categories, or for categories of spending
 * the account ("New ideas for your business supplies" read as if the bank
 * sold them, make demo); "other" is no category to a reader.
 */
CREATE OR REPLACE FUNCTION recgen.email_preheader(ctx jsonb) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN recgen.spending_category(ctx) THEN 'Chosen for how you use your account'
                ELSE left('Chosen from what you like' || coalesce(': ' || nullif(concat_ws(', ', c1, c2), ''), ''), 140) END
      FROM (SELECT replace(nullif(ctx #>> '{behaviour,recent_categories,0}', 'other'), '_', ' ') AS c1,
                   replace(nullif(ctx #>> '{behaviour,recent_categories,1}', 'other'), '_', ' ') AS c2) s
$$;
COMMENT ON FUNCTION recgen.email_preheader(jsonb) IS
    'recgen''s email preheader for a context: "Chosen from what you like: <favourite categories>", or for categories of spending "Chosen for how you use your account"';

/*
 * fallback_opening: recgen's own opening sentence for a context: the latest
 * purchase that is not recommended again, by name ("purchase"), else the
 * favourite categories, as shop categories or, for a bank, as where the
 * customer spends ("spending"), in one of several phrasings chosen by h.
 * The fallback email's opening, and an email's whose model left none.
 */
CREATE OR REPLACE FUNCTION recgen.fallback_opening(ctx jsonb, h integer,
                                                   OUT opening text, OUT purchase text, OUT spending boolean)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cat text := replace(ctx #>> '{behaviour,recent_categories,0}', '_', ' ');
    cat2 text := replace(ctx #>> '{behaviour,recent_categories,1}', '_', ' ');
BEGIN
    purchase := recgen.display_name((SELECT p FROM jsonb_array_elements_text(coalesce(ctx #> '{behaviour,last_purchases}', '[]'))
                                                   WITH ORDINALITY AS x(p, o)
                                      WHERE NOT coalesce(ctx -> 'items', '[]') @> jsonb_build_array(jsonb_build_object('name', p))
                                      ORDER BY o LIMIT 1));
    -- a category of the catalog, or one of spending (a bank's "groceries")
    spending := recgen.spending_category(ctx);
    IF purchase IS NOT NULL THEN
        opening := (ARRAY[format('Thank you for choosing the %s.', purchase),
                           format('We hope you are enjoying the %s.', purchase),
                           format('It was lovely to see you pick the %s.', purchase),
                           format('We were glad to see you choose the %s.', purchase),
                           format('Thanks again for picking the %s.', purchase),
                           format('We hope the %s is serving you well.', purchase),
                           format('We hope the %s has been a good choice for you.', purchase),
                           format('Your recent choice of the %s gave us a few ideas.', purchase),
                           format('It is good to see the %s among your recent choices.', purchase),
                           format('The %s you chose set us thinking about what else you might like.', purchase),
                           format('We hope the %s is everything you wanted.', purchase)])[1 + h % 11];
    ELSIF cat IS NOT NULL AND NOT spending THEN
        opening := format((ARRAY['You often shop for %s%s, so we have picked a few things for you.',
                                  'As %s%s are among your favourites, here are a few ideas.',
                                  'We have gathered a few %s%s ideas we think you will like.',
                                  'With your taste for %s%s in mind, we have picked a few things.'])[1 + h % 4],
                          cat, coalesce(' and ' || cat2, ''));
    ELSIF cat IS NOT NULL THEN
        -- categories of spending, not of the catalog: no "groceries ideas"
        opening := format((ARRAY['With your everyday spending on %s%s in mind, we have picked a few ideas for you.',
                                  'You spend most often on %s%s, so we have looked for products that fit how you bank.',
                                  'Based on how you use your account, mostly for %s%s, we have picked a few ideas.'])[1 + h % 3],
                          cat, coalesce(' and ' || cat2, ''));
    ELSE
        opening := 'Thank you for shopping with us.';
    END IF;
END
$$;
COMMENT ON FUNCTION recgen.fallback_opening(jsonb, integer) IS
    'recgen''s own opening sentence for a context (the latest purchase not recommended again, else the favourite or spending categories; phrasing chosen by h), with that purchase and whether the categories are of spending';

/*
 * fallback_closing: recgen's own closing sentence, picked by h among ten
 * so that it repeats no phrase of so_far. The fallback's closing, a
 * framed email's (composition frame), and a composed email's where the
 * model's names the products again.
 */
CREATE OR REPLACE FUNCTION recgen.fallback_closing(so_far text, h integer, ctx jsonb, b recgen.brands) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT recgen.fallback_pick(so_far, ARRAY[]::text[], ARRAY['Take a look whenever it suits you.',
                                'We hope something here catches your eye.',
                                'Have a look when you have a moment, and enjoy your week.',
                                'We would love to hear what you think of them.',
                                'Thank you for being with us.',
                                'Whenever you are ready, they are waiting for you.',
                                'We hope one of these turns out to be just right.',
                                'Thank you for choosing us, and enjoy browsing.',
                                'If one of them appeals, it is only a click away.',
                                'We picked these with you in mind and hope you like them.'], h / 3, ctx, b)
$$;
COMMENT ON FUNCTION recgen.fallback_closing(text, integer, jsonb, recgen.brands) IS
    'recgen''s own closing sentence of an email (phrasing chosen by h, repeating no phrase of the text so far): the fallback''s, a framed email''s, and a composed email''s in place of one that names the products again';

/*
 * fallback_cta: recgen's own call to action, one of eight picked by h (the
 * fallback's, and a composed email's where the model's reached the length
 * limit).
 */
CREATE OR REPLACE FUNCTION recgen.fallback_cta(h integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (ARRAY['See your picks', 'Take a look', 'Explore your picks', 'Discover them', 'Browse the picks',
                  'See what we picked', 'Have a look', 'View your ideas'])[1 + (h / 18) % 8]
$$;
COMMENT ON FUNCTION recgen.fallback_cta(integer) IS
    'recgen''s own call to action (phrasing chosen by h): the fallback''s, and a composed email''s in place of one the length limit cut';

/*
 * fallback_email: the deterministic email of a context.
 */
CREATE OR REPLACE FUNCTION recgen.fallback_email(ctx jsonb, b recgen.brands) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET jit = off                           -- as recgen.guard: small queries the planner overrates
AS $$
DECLARE
    fname text := ctx #>> '{customer,first_name}';  -- as the context gives it (a surname with full_name)
    h integer;
    op text;
    bought text;
    body text;
    named text[] := '{}';
    last_named text;
BEGIN
    h := recgen.content_seed(ctx);
    body := recgen.greeting(fname, h / 7) || E'\n\n';
    SELECT f.opening, f.purchase INTO op, bought FROM recgen.fallback_opening(ctx, h) f;
    body := body || op;
    IF bought IS NOT NULL THEN
        named := ARRAY[bought];
        last_named := bought;
    END IF;
    body := body || coalesce(' ' || nullif(recgen.fallback_product_sentences(ctx, b, body, h, named, last_named), ''), '');
    body := body || E'\n\n' || recgen.fallback_closing(body, h, ctx, b);
    IF b.disclaimer IS NOT NULL AND 'email' = ANY (b.disclaimer_kinds) THEN
        body := body || E'\n\n' || b.disclaimer;
    END IF;
    body := body || coalesce(E'\n\n' || b.sign_off, '');
    RETURN jsonb_build_object(
        -- the subject names the first product when it is short, else the interest
        'subject', recgen.email_subject(ctx, h),
        'preheader', recgen.email_preheader(ctx),
        'body', body,
        'cta', recgen.fallback_cta(h));
END
$$;
COMMENT ON FUNCTION recgen.fallback_email(jsonb, recgen.brands) IS
    'The fallback email of a context: greeting by first name, an opening about a purchase or category, one sentence per product with the purchase that led to it, a closing, the brand''s disclaimer and sign-off';

/*
 * render_fallback: the deterministic text of a kind, from the context
 * only, so it passes the guard by construction.
 */
CREATE OR REPLACE FUNCTION recgen.render_fallback(kind text, ctx jsonb, brand text, channel text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    b recgen.brands;
    fname text := ctx #>> '{customer,first_name}';
    item jsonb := coalesce(ctx -> 'product', ctx #> '{items,0}');
    nm text := recgen.display_name(item ->> 'name');
    lines text;
    cats text;
    t text;
    max_chars integer;
    tail text := '';
BEGIN
    SELECT * INTO b FROM recgen.brands br WHERE br.brand = render_fallback.brand;
    SELECT string_agg(replace(x, '_', ' '), ', ') INTO cats FROM jsonb_array_elements_text(ctx #> '{behaviour,recent_categories}') x;
    SELECT string_agg(recgen.item_line(i), E'\n')
      INTO lines FROM jsonb_array_elements(coalesce(ctx -> 'items', '[]')) i;
    IF b.disclaimer IS NOT NULL AND kind = ANY (b.disclaimer_kinds) THEN
        tail := ' ' || b.disclaimer;
    END IF;
    CASE kind
    WHEN 'email' THEN
        RETURN recgen.fallback_email(ctx, b);
    WHEN 'describe' THEN
        t := format('%s%s%s.', nm,
                    CASE WHEN coalesce(item ->> 'category', 'other') <> 'other'
                         THEN ', from our ' || replace(item ->> 'category', '_', ' ') || ' range' ELSE '' END,
                    coalesce(', at ' || (item ->> 'price_text'), ''));
        IF item ->> 'description' IS NOT NULL THEN
            t := t || ' ' || btrim(item ->> 'description', ' .') || '.';
        END IF;
        IF item ->> 'reason' IS NOT NULL THEN
            t := t || format(' Picked for you: %s.', item ->> 'reason');
        END IF;
    WHEN 'summary' THEN
        t := format('%s (segment %s, %s): last purchase %s days ago, %s orders, total spend %s. Recent categories: %s.',
                    coalesce(fname, 'This customer'), coalesce(ctx #>> '{customer,segment}', 'unknown'),
                    coalesce(ctx #>> '{customer,country}', 'country unknown'),
                    coalesce(ctx #>> '{behaviour,recency_days}', '?'), coalesce(ctx #>> '{behaviour,frequency}', '0'),
                    coalesce(ctx #>> '{behaviour,monetary_text}', 'unknown'), coalesce(cats, 'none'));
        IF lines IS NOT NULL THEN
            t := t || E'\nSuggested next:\n' || lines;
        END IF;
        t := left(t, 1200);
    WHEN 'snippet' THEN
        SELECT ch.max_chars INTO max_chars FROM recgen.channels ch WHERE ch.channel = render_fallback.channel;
        -- the longest of these that fits the channel with the disclaimer; never cut
        SELECT o INTO t
          FROM unnest(ARRAY[
                   CASE WHEN fname IS NOT NULL THEN fname || ', you might like ' ELSE 'You might like ' END
                   || format('the %s%s.', nm, coalesce(' (' || (item ->> 'price_text') || ')', '')),
                   format('You might like the %s%s.', nm, coalesce(' (' || (item ->> 'price_text') || ')', '')),
                   format('You might like the %s.', nm),
                   format('For you: the %s.', nm)]) WITH ORDINALITY AS x(o, k)
         WHERE length(o) + length(tail) <= coalesce(max_chars, 160)
         ORDER BY k LIMIT 1;
        IF t IS NULL THEN
            RAISE EXCEPTION 'the product name "%" does not fit the channel "%"', nm, channel
                USING ERRCODE = 'string_data_right_truncation';
        END IF;
    WHEN 'video_script' THEN
        RETURN recgen.video_script_fallback(ctx, brand);   -- 90_video.sql
    WHEN 'explain' THEN
        t := format('We suggest the %s%s for you: %s.', nm,
                    coalesce(' (' || (item ->> 'price_text') || ')', ''),
                    coalesce(item ->> 'reason', 'it fits what you have chosen before'));
        IF item #>> '{because,0}' IS NOT NULL THEN
            t := t || format(' It goes well with the %s you chose.', recgen.display_name(item #>> '{because,0}'));
        END IF;
    ELSE
        RAISE EXCEPTION 'unknown kind of content "%"', kind USING ERRCODE = 'invalid_parameter_value';
    END CASE;
    RETURN jsonb_build_object('text', t || tail);
END
$$;
COMMENT ON FUNCTION recgen.render_fallback(text, jsonb, text, text) IS
    'Deterministic rendering of a kind of content from its context alone: the fallback when the guard rejects the model''s answers';
