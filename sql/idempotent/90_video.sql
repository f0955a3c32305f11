/*
 * Video: the narration script (content kind video_script) and the text
 * its voice reads.
 *
 * A narration is generated and guarded like every content (the pipeline
 * of 65_generate.sql): written with prices as the context gives them, so
 * the guard's price and product checks apply, plus the rules of a spoken
 * script (recgen.video_script_violations, called by the guard): 150 to 220
 * words, the customer greeted by first name, every recommended product
 * presented, a call to action, nothing a voice cannot read (links, lists).
 * recgen.speech_text() then makes it speakable: no links, prices spoken as
 * amounts (£12.50 -> 12 pounds 50), symbols as words.
 */

/*
 * spoken_money: an amount as a voice says it.
 */
CREATE OR REPLACE FUNCTION recgen.spoken_money(amount numeric, currency text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    major numeric := trunc(amount);
    minor integer := round((amount - trunc(amount)) * 100)::integer;
    unit text[] := CASE upper(currency)
        WHEN 'GBP' THEN ARRAY['pound', 'pounds', 'penny', 'pence']
        WHEN 'EUR' THEN ARRAY['euro', 'euros', 'cent', 'cents']
        WHEN 'USD' THEN ARRAY['dollar', 'dollars', 'cent', 'cents']
        ELSE ARRAY[coalesce(currency, ''), coalesce(currency, ''), '', ''] END;
    whole text := to_char(major, 'FM999,999,999,990');
BEGIN
    IF amount IS NULL THEN
        RETURN NULL;
    END IF;
    IF major = 0 AND minor > 0 THEN
        RETURN minor || ' ' || CASE WHEN minor = 1 THEN unit[3] ELSE unit[4] END;
    END IF;
    RETURN btrim(whole || ' ' || CASE WHEN major = 1 THEN unit[1] ELSE unit[2] END
                 || CASE WHEN minor > 0 THEN ' ' || minor ELSE '' END);
END
$$;
COMMENT ON FUNCTION recgen.spoken_money(numeric, text) IS
    'An amount as a voice reads it: 12.50 GBP -> "12 pounds 50", 0.99 -> "99 pence", 1 -> "1 pound"';

/*
 * speech_text: a script made speakable. Links and e-mail addresses go,
 * amounts are spoken (£12.50, 12.50 GBP), 4.1% is "4.1 percent", &, +, @
 * and "/month" are words, list markers and symbols a voice cannot say are
 * dropped; paragraphs (blank lines) stay, they are the narration's pauses.
 */
CREATE OR REPLACE FUNCTION recgen.speech_text(script text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t text := replace(script, E'\r', '');
    m text[];
    cur text;
    money_re constant text := '([£€$])\s?([0-9][0-9,]*(?:\.[0-9]{1,2})?)|([0-9][0-9,]*(?:\.[0-9]{1,2})?)\s?(GBP|EUR|USD)\M';
BEGIN
    t := regexp_replace(t, '(https?://|www\.)[^[:space:]]+', '', 'gi');
    t := regexp_replace(t, '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}', '', 'g');
    -- amounts, one at a time (each needs its own words)
    LOOP
        m := regexp_match(t, money_re);
        EXIT WHEN m IS NULL;
        cur := CASE coalesce(m[1], '') WHEN '£' THEN 'GBP' WHEN '€' THEN 'EUR' WHEN '$' THEN 'USD' ELSE m[4] END;
        t := regexp_replace(t, money_re,
                            recgen.spoken_money(replace(coalesce(m[2], m[3]), ',', '')::numeric, cur));
    END LOOP;
    t := regexp_replace(t, '([0-9])\s?%', '\1 percent', 'g');
    t := regexp_replace(t, '\m24/7\M', '24 7', 'g');
    t := regexp_replace(t, '\s?/\s?(month|year|week|day)\M', ' a \1', 'gi');
    t := regexp_replace(t, '([[:alnum:]])\s?/\s?([[:alpha:]])', '\1 or \2', 'g');
    t := regexp_replace(t, '\s?&\s?', ' and ', 'g');
    t := regexp_replace(t, '([[:alnum:]])\s?\+\s?([[:alnum:]])', '\1 plus \2', 'g');
    t := regexp_replace(t, '\s@\s', ' at ', 'g');
    t := regexp_replace(t, '\me\.g\.', 'for example', 'gi');
    t := regexp_replace(t, '\mi\.e\.', 'that is', 'gi');
    t := regexp_replace(t, '\metc\.', 'and so on.', 'gi');
    -- list markers and headings at the start of a line
    t := regexp_replace(t, '(^|\n)[ \t]*([-*•#>]+|[0-9]+[.)])[ \t]+', '\1', 'g');
    -- what a voice cannot read: emoji, markup, other symbols
    t := regexp_replace(t, '[^[:alpha:][:digit:][:space:].,;:!?''"()–—…-]', ' ', 'g');
    t := regexp_replace(t, '[ \t]+', ' ', 'g');
    t := regexp_replace(t, ' +([.,;:!?])', '\1', 'g');
    t := regexp_replace(t, '[ \t]*\n[ \t]*', E'\n', 'g');
    t := regexp_replace(t, E'\n{3,}', E'\n\n', 'g');
    RETURN btrim(t, E' \n');
END
$$;
COMMENT ON FUNCTION recgen.speech_text(text) IS
    'A script made speakable for the narration voice: no links or e-mail addresses, amounts spoken (£12.50 -> 12 pounds 50), percent, &, + and /month as words, list markers and symbols dropped, paragraphs kept';

/*
 * word_count: the words of a script as the voice says them.
 */
CREATE OR REPLACE FUNCTION recgen.word_count(script text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(array_length(regexp_split_to_array(nullif(recgen.speech_text(script), ''), '\s+'), 1), 0)
$$;
COMMENT ON FUNCTION recgen.word_count(text) IS 'Number of words of a script as spoken (after recgen.speech_text)';

/*
 * video_script_violations: the rules of a spoken narration, beyond the
 * guard's common ones. Called by recgen.guard for kind video_script.
 */
CREATE OR REPLACE FUNCTION recgen.video_script_violations(output jsonb, context jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb := '[]';
    txt text := coalesce(output ->> 'text', '');
    low text := lower(txt);
    words integer := recgen.word_count(txt);
    fname text := context #>> '{customer,first_name}';
    first_sentence text := lower(substring(txt FROM '^[^.!?\n]*'));
    closing text := lower(right(txt, 400));
    item jsonb;
BEGIN
    IF words < 150 OR words > 220 THEN
        v := v || jsonb_build_object('rule', 'length',
            'detail', format('%s words where a narration has 150 to 220', words));
    END IF;
    IF fname IS NOT NULL AND position(lower(fname) IN first_sentence) = 0 THEN
        v := v || jsonb_build_object('rule', 'greeting',
            'detail', format('the first sentence does not greet %s by name', fname));
    END IF;
    FOR item IN SELECT x FROM jsonb_array_elements(coalesce(context -> 'items', '[]')) x LOOP
        IF position(lower(item ->> 'name') IN low) = 0 THEN
            v := v || jsonb_build_object('rule', 'products',
                'detail', format('the narration does not present "%s"', item ->> 'name'));
        END IF;
    END LOOP;
    IF closing !~ '\m(book|call|reply|visit|contact|talk to|speak to|find out|get in touch)' THEN
        v := v || jsonb_build_object('rule', 'cta', 'detail', 'the narration does not end with a call to action');
    END IF;
    IF txt ~* '(https?://|www\.)' THEN
        v := v || jsonb_build_object('rule', 'speech', 'detail', 'a narration cannot read out a link');
    END IF;
    IF txt ~ '(^|\n)[ \t]*([-*•#]|[0-9]+[.)])[ \t]' THEN
        v := v || jsonb_build_object('rule', 'speech', 'detail', 'a narration is spoken sentences, not a list');
    END IF;
    RETURN v;
END
$$;
COMMENT ON FUNCTION recgen.video_script_violations(jsonb, jsonb) IS
    'The guard''s rules for a narration script (video_script): 150 to 220 words, greets the customer by first name in the first sentence, presents every recommended product, ends with a call to action, no links or lists';

/*
 * because: a recommender's reason (recgen.reason_text: "popular with
 * customers like you", "you have bought it before", "goes well with ...")
 * as the clause after "because".
 */
CREATE OR REPLACE FUNCTION recgen.because(reason text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN reason IS NULL OR btrim(reason) = '' THEN 'it fits what you have chosen before'
                WHEN reason ~* '^(you|it|they|we|i)\M' THEN reason
                WHEN reason ~* '^(goes|fits|suits|matches|pays|covers|helps)\M' THEN 'it ' || reason
                ELSE 'it is ' || reason END
$$;
COMMENT ON FUNCTION recgen.because(text) IS
    'A recommender''s reason as the clause after "because" (it is popular with ..., you have bought it before)';

/*
 * video_script_fallback: a narration rendered from the context alone
 * (recgen.render_fallback for kind video_script): greeting, a concern the
 * customer raised (only present in the context with social consent), one
 * paragraph per product with its price and reason, the call to action, the
 * brand's disclaimer if it has one.
 */
CREATE OR REPLACE FUNCTION recgen.video_script_fallback(ctx jsonb, brand text) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    b recgen.brands;
    fname text := coalesce(ctx #>> '{customer,first_name}', 'there');
    n integer := jsonb_array_length(coalesce(ctx -> 'items', '[]'));
    ordinals constant text[] := ARRAY['First', 'Second', 'Third', 'Fourth', 'Fifth'];
    concern jsonb := ctx #> '{concerns,0}';
    cats text := (SELECT string_agg(x, ' and ') FROM (
                    SELECT x FROM jsonb_array_elements_text(ctx #> '{behaviour,recent_categories}') x LIMIT 2) s);
    fillers constant text[] := ARRAY[
        'It only takes a few minutes, and I will answer every question you have.',
        'You can also take your time and read the details in the app first.',
        'Whatever you decide, I am here to help, and nothing changes unless you want it to.',
        'I will keep an eye on your accounts and let you know when something new could help you.'];
    closing text;
    parts text[] := '{}';
    item jsonb;
    i integer := 0;
    t text;
BEGIN
    SELECT * INTO b FROM recgen.brands br WHERE br.brand = video_script_fallback.brand;
    parts := parts || format('Hello %s, this is your personal advisor, with a short message just for you. '
                             'I have been looking at what you have chosen with us and how you use it, '
                             'and I have picked %s that I think could really suit you.',
                             fname, CASE n WHEN 1 THEN 'one idea' WHEN 2 THEN 'two ideas' WHEN 3 THEN 'three ideas'
                                           WHEN 4 THEN 'four ideas' ELSE n || ' ideas' END);
    IF cats IS NOT NULL THEN
        parts[1] := parts[1] || format(' Looking at your recent activity, you have mostly been interested in %s.', cats);
    END IF;
    IF concern IS NOT NULL THEN
        parts[1] := parts[1] || CASE WHEN concern ->> 'feeling' = 'negative'
            THEN format(' I also know that you have had concerns about %s, and I kept that in mind while choosing.', concern ->> 'topic')
            ELSE format(' I also know you have been happy with %s, and I kept that in mind while choosing.', concern ->> 'topic') END;
    END IF;
    FOR item IN SELECT x FROM jsonb_array_elements(coalesce(ctx -> 'items', '[]')) x LOOP
        i := i + 1;
        t := format('%s, the %s%s%s.', CASE WHEN n = 1 THEN 'It is' ELSE ordinals[least(i, 5)] END, item ->> 'name',
                    coalesce(', from our ' || (item ->> 'category') || ' range', ''),
                    CASE WHEN item ? 'rate_pct' AND coalesce(item ->> 'price_text', '') LIKE '%rate'
                         THEN ', with a rate of ' || (item ->> 'rate_pct') || '%'
                         ELSE coalesce(', at ' || (item ->> 'price_text'), '') END);
        t := t || format(CASE i % 3 WHEN 1 THEN ' I picked it for you because %s.'
                                    WHEN 2 THEN ' I chose it because %s.'
                                    ELSE ' It is here because %s.' END,
                         recgen.because(item ->> 'reason'));
        parts := parts || t;
    END LOOP;
    closing := format('I would be happy to tell you more about any of them. If one sounds right for you, '
                      'just book a call with me in the app, or reply to this message, and we can go '
                      'through the details together, with no pressure at all.');
    -- a narration has at least 150 words: fewer products leave room for more care
    FOREACH t IN ARRAY fillers LOOP
        EXIT WHEN recgen.word_count(array_to_string(parts || closing, ' ')) >= 140;
        closing := closing || ' ' || t;
    END LOOP;
    -- a brand with a disclaimer (the bank's) says it in its narrations too
    closing := closing || coalesce(' ' || b.disclaimer, '')
               || format(' Thank you for listening, %s, and have a lovely week.', fname);
    parts := parts || closing;
    RETURN jsonb_build_object('text', array_to_string(parts, E'\n\n'));
END
$$;
COMMENT ON FUNCTION recgen.video_script_fallback(jsonb, text) IS
    'Deterministic narration script from a context (the fallback of kind video_script): greeting, a consented concern, a paragraph per product with price and reason, call to action, disclaimer';

/*
 * video_script: the narration of a personal video for a customer, through
 * the generation pipeline.
 */
CREATE OR REPLACE FUNCTION recgen.video_script(customer_id bigint, tone text DEFAULT 'friendly',
                                               campaign text DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT g || jsonb_build_object('speech', recgen.speech_text(g ->> 'text'))
      FROM recgen.generate_one(jsonb_build_object('kind', 'video_script', 'customer_id', customer_id,
                                                  'tone', coalesce(tone, 'friendly'), 'campaign', campaign)) g
$$;
COMMENT ON FUNCTION recgen.video_script(bigint, text, text) IS
    'The narration script of a personal video for a customer (150 to 220 words, spoken style, guarded): jsonb {content_id, text, speech, product_ids, verdict}; speech is the text the voice reads (recgen.speech_text). Requires consent to marketing and profiling, and a product to recommend.';

REVOKE ALL ON FUNCTION recgen.video_script(bigint, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.video_script(bigint, text, text) TO recgen_admin, recgen_analyst, recgen_worker;
GRANT EXECUTE ON FUNCTION recgen.speech_text(text), recgen.spoken_money(numeric, text), recgen.word_count(text), recgen.because(text)
    TO PUBLIC;
