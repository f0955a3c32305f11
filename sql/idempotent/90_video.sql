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
    reasons text[] := '{}';
    repeats integer := 0;
    k integer;
    optional text[];
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
    -- sentences that go first when the narration would be too long
    optional := ARRAY[
        CASE WHEN cats IS NOT NULL
             THEN format(' Looking at your recent activity, you have mostly been interested in %s.', cats) END,
        CASE WHEN concern IS NULL THEN NULL
             WHEN concern ->> 'feeling' = 'negative'
             THEN format(' I also know that you have had concerns about %s, and I kept that in mind while choosing.',
                         regexp_replace(concern ->> 'topic', '^[a-z_]+:', ''))
             ELSE format(' I also know you have been happy with %s, and I kept that in mind while choosing.',
                         regexp_replace(concern ->> 'topic', '^[a-z_]+:', '')) END];
    parts[1] := parts[1] || coalesce(optional[1], '') || coalesce(optional[2], '');
    /*
     * Each position has its own wording, so that no phrase of four words
     * comes twice (the guard rejects that): "from our cards range", "a
     * choice from our cards" (a category is a plural noun, never an
     * adjective); "with a rate of", "at a rate of".
     */
    FOR item IN SELECT x FROM jsonb_array_elements(coalesce(ctx -> 'items', '[]')) x LOOP
        i := i + 1;
        k := (i - 1) % 4 + 1;
        -- a product with a rate (a loan, a saver) is told by its rate, not its fee
        t := format('%s, the %s%s%s.', CASE WHEN n = 1 THEN 'It is' ELSE ordinals[least(i, 5)] END, item ->> 'name',
                    -- (format() with a NULL argument is not NULL: test the value itself)
                    CASE WHEN item ->> 'category' IS NOT NULL
                         THEN format((ARRAY[', from our %s range', ', a choice from our %s', ', in our %s selection',
                                            ', among our %s'])[k], item ->> 'category') ELSE '' END,
                    CASE WHEN jsonb_typeof(item -> 'rate_pct') = 'number'
                         THEN format((ARRAY[', with a rate of %s%%', ', at a rate of %s%%', ', whose rate is %s%%',
                                            ', paying %s%%'])[k], item ->> 'rate_pct')
                         WHEN item ->> 'price_text' IS NOT NULL
                         THEN format((ARRAY[', at %s', ', priced at %s', ', for %s', ', costing %s'])[k],
                                     item ->> 'price_text')
                         ELSE '' END);
        IF item ->> 'reason' IS NOT NULL AND item ->> 'reason' = ANY (reasons) THEN
            repeats := repeats + 1;
            t := t || (ARRAY[' I chose it for the same reason.', ' The same goes for this one.',
                             ' That is true of this one as well.', ' It shares that reason too.'])[least(repeats, 4)];
        ELSE
            t := t || format((ARRAY[' I picked it for you because %s.', ' I chose it because %s.',
                                    ' It is here because %s.', ' It made the list because %s.'])[k],
                             recgen.because(item ->> 'reason'));
        END IF;
        reasons := reasons || (item ->> 'reason');
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
    -- at most 220 words: the recent activity, then the concern, make room
    FOR i IN 1 .. 2 LOOP
        EXIT WHEN recgen.word_count(array_to_string(parts, ' ')) <= 215;
        IF optional[i] IS NOT NULL THEN
            parts[1] := replace(parts[1], optional[i], '');
        END IF;
    END LOOP;
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

/*
 * Media files: where they may be read and written, the rows that describe
 * them, and their bytes for clients without access to the server's disk.
 */
CREATE OR REPLACE FUNCTION recgen.media_path(path text, purpose text DEFAULT 'input') RETURNS text
LANGUAGE c STABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'recgen_media_path';
COMMENT ON FUNCTION recgen.media_path(text, text) IS
    'The canonical path of a file a video job may read (purpose input: under recgen.asset_dirs), of a directory it may write (output: recgen.media_dir or below) or of a media file (media: under recgen.media_dir); symbolic links are followed, ".." and paths outside are refused';
REVOKE ALL ON FUNCTION recgen.media_path(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.media_path(text, text) TO recgen_admin, recgen_analyst, recgen_worker;

CREATE OR REPLACE FUNCTION recgen.media_unlink() RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'recgen_media_unlink';
COMMENT ON FUNCTION recgen.media_unlink() IS
    'Trigger: the file of a deleted recgen.media row is removed when the deletion commits (files under recgen.media_dir only)';
CREATE OR REPLACE TRIGGER media_unlink AFTER DELETE ON recgen.media
    FOR EACH ROW EXECUTE FUNCTION recgen.media_unlink();

DROP POLICY IF EXISTS admin_all ON recgen.media;
CREATE POLICY admin_all ON recgen.media TO recgen_admin USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS consented_profiling ON recgen.media;
CREATE POLICY consented_profiling ON recgen.media TO recgen_analyst, recgen_worker
    USING (customer_id = 0 OR recgen.profiling_allowed(customer_id))
    WITH CHECK (customer_id = 0 OR recgen.profiling_allowed(customer_id));
COMMENT ON POLICY admin_all ON recgen.media IS 'recgen_admin reads and edits all media';
COMMENT ON POLICY consented_profiling ON recgen.media IS
    'Analysts and workers see and write media only of customers who consented to profiling, like their content';
GRANT SELECT, DELETE ON recgen.media TO recgen_admin;
GRANT SELECT ON recgen.media TO recgen_analyst;
GRANT SELECT, INSERT ON recgen.media TO recgen_worker;

/*
 * media_bytes: the bytes of a media file, for the roles that may see its
 * content. SECURITY DEFINER to read the server's file, so it checks the
 * caller itself: the role in effect (SET ROLE included) must be an admin
 * or superuser, or see the content under the content policy (product
 * content, or a customer who consented to profiling).
 */
CREATE OR REPLACE FUNCTION recgen.media_bytes(media_id bigint) RETURNS bytea
LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m recgen.media;
    caller name := CASE WHEN current_setting('role') = 'none' THEN session_user ELSE current_setting('role') END;
    allowed boolean;
BEGIN
    SELECT * INTO m FROM recgen.media x WHERE x.media_id = media_bytes.media_id;
    allowed := FOUND AND (
        (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = caller)
        OR pg_has_role(caller, 'recgen_admin', 'MEMBER')
        OR ((pg_has_role(caller, 'recgen_analyst', 'MEMBER') OR pg_has_role(caller, 'recgen_worker', 'MEMBER'))
            AND (m.customer_id = 0 OR recgen.profiling_allowed(m.customer_id))));
    IF NOT coalesce(allowed, false) THEN
        RAISE EXCEPTION 'media % does not exist', media_id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN pg_read_binary_file(recgen.media_path(m.path, 'media'));
END
$$;
COMMENT ON FUNCTION recgen.media_bytes(bigint) IS
    'The bytes of a media file (video, audio, subtitles, thumbnail), for clients without access to the server''s disk; admins, and roles that may see the content (consent to profiling)';
REVOKE ALL ON FUNCTION recgen.media_bytes(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.media_bytes(bigint) TO recgen_admin, recgen_analyst, recgen_worker;

/*
 * render_options: the options of recgen.render_video checked and
 * completed, with the helper's arguments (args) built from them. Every
 * error lists what is allowed; paths are resolved by recgen.media_path.
 */
CREATE OR REPLACE FUNCTION recgen.render_options(options jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    allowed constant text[] := ARRAY['voice', 'rate', 'size', 'background', 'background_colors', 'music',
                                     'music_volume', 'watermark_text', 'watermark_image', 'watermark_position',
                                     'watermark_opacity', 'subtitle_scale', 'subtitle_color', 'subtitle_position',
                                     'subtitle_box', 'product_cards'];
    sizes constant jsonb := '{"landscape": "1280x720", "hd": "1920x1080", "portrait": "1080x1920", "square": "1080x1080"}';
    o jsonb := coalesce(options, '{}');
    k text;
    v text;
    n numeric;
    args text[] := '{}';
    out jsonb := '{}';
    bg text;
BEGIN
    IF jsonb_typeof(o) <> 'object' THEN
        RAISE EXCEPTION 'video options must be a JSON object'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Allowed keys: ' || array_to_string(allowed, ', ') || '.';
    END IF;
    FOR k IN SELECT jsonb_object_keys(o) LOOP
        IF NOT k = ANY (allowed) THEN
            RAISE EXCEPTION 'unknown video option "%"', k
                USING ERRCODE = 'invalid_parameter_value', HINT = 'Allowed keys: ' || array_to_string(allowed, ', ') || '.';
        END IF;
        IF jsonb_typeof(o -> k) NOT IN ('string', 'number', 'boolean') THEN
            RAISE EXCEPTION 'video option "%" must be a string, a number or a boolean', k
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;

    v := coalesce(o ->> 'voice', current_setting('recgen.tts_voice'));
    IF v !~ '^[A-Za-z0-9_()+-]{1,60}(/[A-Za-z0-9_()+-]{1,60})?$' THEN
        RAISE EXCEPTION 'video option voice "%" is not an espeak-ng voice name', v
            USING ERRCODE = 'invalid_parameter_value', HINT = 'For example en-gb, en-us, en-gb+f3 (espeak-ng --voices lists them).';
    END IF;
    out := out || jsonb_build_object('voice', v);
    args := args || ARRAY['--voice', v];

    n := coalesce((o ->> 'rate')::numeric, current_setting('recgen.tts_rate')::numeric);
    IF n IS NULL OR n < 80 OR n > 450 THEN
        RAISE EXCEPTION 'video option rate must be from 80 to 450 words per minute' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    out := out || jsonb_build_object('rate', round(n));
    args := args || ARRAY['--rate', round(n)::text];

    v := coalesce(sizes ->> coalesce(o ->> 'size', 'landscape'), o ->> 'size');
    IF v !~ '^[0-9]{3,4}x[0-9]{3,4}$' OR split_part(v, 'x', 1)::int % 2 = 1 OR split_part(v, 'x', 2)::int % 2 = 1
       OR split_part(v, 'x', 1)::int NOT BETWEEN 160 AND 3840 OR split_part(v, 'x', 2)::int NOT BETWEEN 160 AND 3840 THEN
        RAISE EXCEPTION 'video option size "%" is not allowed', o ->> 'size'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Allowed: landscape (1280x720, the default), hd (1920x1080), portrait (1080x1920), square (1080x1080), or WxH with even numbers from 160 to 3840.';
    END IF;
    out := out || jsonb_build_object('size', v);
    args := args || ARRAY['--size', v];

    bg := coalesce(o ->> 'background', 'generated');
    IF bg = 'generated' THEN
        v := coalesce(o ->> 'background_colors', '0x16324f,0x2a6f97');
        IF v !~ '^0x[0-9A-Fa-f]{6},0x[0-9A-Fa-f]{6}$' THEN
            RAISE EXCEPTION 'video option background_colors "%" must be two colours 0xRRGGBB,0xRRGGBB', v
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        out := out || jsonb_build_object('background', 'generated', 'background_colors', v);
        args := args || ARRAY['--background-generated', v];
    ELSE
        v := recgen.media_path(bg, 'input');
        IF lower(v) ~ '\.(png|jpe?g|webp|bmp)$' THEN
            args := args || ARRAY['--background-image', v];
        ELSIF lower(v) ~ '\.(mp4|m4v|mov|webm|mkv)$' THEN
            args := args || ARRAY['--background-clip', v];
        ELSE
            RAISE EXCEPTION 'video option background "%" is neither a picture nor a clip', bg
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Allowed: "generated" (a gradient), a picture (.png, .jpg, .webp, .bmp) or a clip (.mp4, .m4v, .mov, .webm, .mkv) under recgen.asset_dirs.';
        END IF;
        out := out || jsonb_build_object('background', v);
    END IF;

    v := coalesce(o ->> 'music', 'generated');
    IF v NOT IN ('generated', 'none') THEN
        v := recgen.media_path(v, 'input');
        IF lower(v) !~ '\.(wav|mp3|m4a|aac|ogg|opus|flac)$' THEN
            RAISE EXCEPTION 'video option music "%" is not an audio file', o ->> 'music'
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Allowed: "generated", "none", or a .wav, .mp3, .m4a, .aac, .ogg, .opus or .flac file under recgen.asset_dirs.';
        END IF;
    END IF;
    out := out || jsonb_build_object('music', v);
    args := args || ARRAY['--music', v];
    n := coalesce((o ->> 'music_volume')::numeric, 0.25);
    IF n < 0 OR n > 1 THEN
        RAISE EXCEPTION 'video option music_volume must be from 0 to 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    out := out || jsonb_build_object('music_volume', n);
    args := args || ARRAY['--music-volume', n::text];

    IF o ? 'watermark_text' AND o ? 'watermark_image' THEN
        RAISE EXCEPTION 'video options watermark_text and watermark_image exclude each other'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF o ? 'watermark_text' THEN
        v := o ->> 'watermark_text';
        IF length(v) NOT BETWEEN 1 AND 60 OR v ~ '[\n\r]' THEN
            RAISE EXCEPTION 'video option watermark_text must be one line of 1 to 60 characters'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        out := out || jsonb_build_object('watermark_text', v);
        args := args || ARRAY['--watermark-text', v];
    ELSIF o ? 'watermark_image' THEN
        v := recgen.media_path(o ->> 'watermark_image', 'input');
        IF lower(v) !~ '\.png$' THEN
            RAISE EXCEPTION 'video option watermark_image must be a PNG file' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        out := out || jsonb_build_object('watermark_image', v);
        args := args || ARRAY['--watermark-image', v];
    END IF;
    v := coalesce(o ->> 'watermark_position', 'top-right');
    IF NOT v = ANY (ARRAY['top-left', 'top-right', 'bottom-left', 'bottom-right', 'center']) THEN
        RAISE EXCEPTION 'video option watermark_position "%" is not allowed', v
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Allowed: top-left, top-right (the default), bottom-left, bottom-right, center.';
    END IF;
    out := out || jsonb_build_object('watermark_position', v);
    args := args || ARRAY['--watermark-position', v];
    n := coalesce((o ->> 'watermark_opacity')::numeric, 0.6);
    IF n < 0 OR n > 1 THEN
        RAISE EXCEPTION 'video option watermark_opacity must be from 0 to 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    out := out || jsonb_build_object('watermark_opacity', n);
    args := args || ARRAY['--watermark-opacity', n::text];

    n := coalesce((o ->> 'subtitle_scale')::numeric, 1);
    IF n < 0.5 OR n > 2 THEN
        RAISE EXCEPTION 'video option subtitle_scale must be from 0.5 to 2' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v := coalesce(o ->> 'subtitle_color', 'FFFFFF');
    IF v !~ '^[0-9A-Fa-f]{6}$' THEN
        RAISE EXCEPTION 'video option subtitle_color "%" must be RRGGBB in hexadecimal', v USING ERRCODE = 'invalid_parameter_value';
    END IF;
    out := out || jsonb_build_object('subtitle_scale', n, 'subtitle_color', v);
    args := args || ARRAY['--subtitle-scale', n::text, '--subtitle-color', v];
    v := coalesce(o ->> 'subtitle_position', 'bottom');
    IF v NOT IN ('bottom', 'top') THEN
        RAISE EXCEPTION 'video option subtitle_position "%" is not allowed', v
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Allowed: bottom (the default), top.';
    END IF;
    out := out || jsonb_build_object('subtitle_position', v,
                                     'subtitle_box', coalesce((o ->> 'subtitle_box')::boolean, true));
    args := args || ARRAY['--subtitle-position', v,
                          '--subtitle-box', CASE WHEN coalesce((o ->> 'subtitle_box')::boolean, true) THEN '1' ELSE '0' END];
    -- the cards themselves come from the content's products (job_render_video)
    out := out || jsonb_build_object('product_cards', coalesce((o ->> 'product_cards')::boolean, true));
    RETURN out || jsonb_build_object('args', to_jsonb(args));
EXCEPTION
    WHEN invalid_text_representation THEN
        RAISE EXCEPTION 'a numeric or boolean video option has a value that is not one'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'rate, music_volume, watermark_opacity and subtitle_scale are numbers; subtitle_box and product_cards are true or false.';
END
$$;
COMMENT ON FUNCTION recgen.render_options(jsonb) IS
    'The options of a video render checked (errors list what is allowed), completed with defaults, files resolved under recgen.asset_dirs, and the helper''s arguments in "args"';
GRANT EXECUTE ON FUNCTION recgen.render_options(jsonb) TO recgen_admin, recgen_analyst, recgen_worker;

/*
 * The render job. recgen.render_video queues it; its validator checks the
 * content and the options at call time; its handler, run by a worker as
 * recgen_worker, asks the worker to run recgen-render (the "process"
 * action: an argument vector, its own process group, killed on cancel,
 * timeout and worker exit) and, when the helper has finished, records the
 * files it reports in recgen.media, or fails the attempt with the tail of
 * the helper's log.
 */
CREATE OR REPLACE FUNCTION recgen.job_validate_render_video(payload jsonb, customer_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c recgen.content;
BEGIN
    IF EXISTS (SELECT 1 FROM jsonb_object_keys(payload) k WHERE k NOT IN ('content_id', 'options')) THEN
        RAISE EXCEPTION 'a render_video job takes only "content_id" and "options" in its payload'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO c FROM recgen.content x WHERE x.content_id = (payload ->> 'content_id')::bigint;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'content % does not exist', payload ->> 'content_id' USING ERRCODE = 'no_data_found';
    END IF;
    IF c.kind <> 'video_script' THEN
        RAISE EXCEPTION 'content % is a %, not a narration', c.content_id, c.kind
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Videos are rendered from video_script content: recgen.video_script(customer_id).';
    END IF;
    IF customer_id IS DISTINCT FROM c.customer_id THEN
        RAISE EXCEPTION 'a render_video job is about the customer of its content (%)', c.customer_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM recgen.check_consent(c.customer_id, 'marketing', 'profiling');
    PERFORM recgen.media_path(current_setting('recgen.media_dir'), 'output');
    RETURN jsonb_build_object('content_id', c.content_id,
                              'options', recgen.render_options(coalesce(payload -> 'options', '{}')));
END
$$;
COMMENT ON FUNCTION recgen.job_validate_render_video(jsonb, bigint) IS
    'Validator of render_video jobs: the content exists, is a narration the caller may see, its customer consents to marketing and profiling, recgen.media_dir is usable, and the options are valid (recgen.render_options)';

/*
 * render_card_args: recgen-render's --card arguments for the products of a
 * content's context (name as content shows it, and its price), so that the
 * video shows each product's name and price while the narration presents
 * it; none when cards are off.
 */
CREATE OR REPLACE FUNCTION recgen.render_card_args(context jsonb, cards boolean) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(jsonb_agg(a ORDER BY k, j), '[]')
      FROM jsonb_array_elements(CASE WHEN cards THEN coalesce(context -> 'items', '[]') ELSE '[]' END)
           WITH ORDINALITY AS i(item, k),
           LATERAL unnest(ARRAY['--card', left(recgen.display_name(replace(item ->> 'name', '|', '/'))
                                               || coalesce('|' || (item ->> 'price_text'), ''), 200)])
           WITH ORDINALITY AS u(a, j)
     WHERE k <= 8 AND btrim(coalesce(item ->> 'name', '')) <> ''
$$;
COMMENT ON FUNCTION recgen.render_card_args(jsonb, boolean) IS
    'Internal (render_video): recgen-render''s --card arguments (product name and price) for the products of a content''s context, at most 8';
REVOKE ALL ON FUNCTION recgen.render_card_args(jsonb, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.render_card_args(jsonb, boolean) TO recgen_admin, recgen_worker;

CREATE OR REPLACE FUNCTION recgen.job_render_video(job recgen.jobs, state jsonb, results jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c recgen.content;
    dir text;
    name text;
    f jsonb;
    ids bigint[] := '{}';
    id bigint;
    fmt text;
    where_ text;
    log_ text;
BEGIN
    SELECT * INTO c FROM recgen.content x
     WHERE x.customer_id = job.customer_id AND x.content_id = (job.payload ->> 'content_id')::bigint;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('fail', format('content %s does not exist or may not be read', job.payload ->> 'content_id'),
                                  'retryable', false);
    END IF;
    IF state IS NULL THEN
        -- consent may have been withdrawn since the job was queued
        PERFORM recgen.check_consent(c.customer_id, 'marketing', 'profiling');
        dir := recgen.media_path(current_setting('recgen.media_dir'), 'output');
        name := format('video-%s-%s', c.content_id, job.job_id);
        RETURN jsonb_build_object(
            'state', jsonb_build_object('name', name, 'dir', dir),
            'progress', jsonb_build_object('phase', 'starting', 'fraction', 0),
            'process', jsonb_build_object(
                'program', 'recgen-render',
                'args', jsonb_build_array('--text', recgen.speech_text(c.output ->> 'text'),
                                          '--out-dir', dir, '--name', name, '--keep-wav')
                        || (job.payload #> '{options,args}')
                        || recgen.render_card_args(c.context, coalesce((job.payload #>> '{options,product_cards}')::boolean, true)),
                'timeout', extract(epoch FROM current_setting('recgen.render_timeout')::interval)::int));
    END IF;

    -- results: what the worker's process action reports (src/job_process.c):
    -- exit_code, signal, timed_out, stopped, progress (the last line), result,
    -- stderr (the last 4 kB of the helper's log)
    IF coalesce((results ->> 'exit_code')::int, -1) <> 0 OR jsonb_typeof(results #> '{result,files}') <> 'array' THEN
        where_ := CASE WHEN results #>> '{progress,phase}' IS NOT NULL
                       THEN format(' during %s (%s%% done)', results #>> '{progress,phase}',
                                   round(100 * (results #>> '{progress,fraction}')::numeric)) ELSE '' END;
        log_ := right(rtrim(coalesce(results ->> 'stderr', ''), E'\n'), 2000);
        IF coalesce((results ->> 'timed_out')::boolean, false) THEN
            -- a render as long as this one will not be quicker next time
            RETURN jsonb_build_object(
                'fail', format('recgen-render took longer than recgen.render_timeout (%s) and was stopped%s; '
                               'raise recgen.render_timeout and retry the job (recgen.retry_job). Its log: %s',
                               current_setting('recgen.render_timeout'), where_, log_),
                'retryable', false);
        END IF;
        RETURN jsonb_build_object(
            'fail', format('recgen-render %s%s: %s',
                           CASE WHEN results ->> 'signal' IS NOT NULL
                                THEN format('was killed by signal %s', results ->> 'signal')
                                WHEN (results ->> 'exit_code')::int = 3 THEN 'was stopped (exit status 3)'
                                WHEN results ->> 'exit_code' IS NOT NULL
                                THEN format('failed (exit status %s)', results ->> 'exit_code')
                                ELSE 'ended without a result' END,
                           where_, log_),
            -- bad arguments (2) will not get better; anything else may
            'retryable', coalesce((results ->> 'exit_code')::int, -1) <> 2);
    END IF;
    FOR f IN SELECT x FROM jsonb_array_elements(results #> '{result,files}') x LOOP
        fmt := lower(substring(f ->> 'path' FROM '\.([A-Za-z0-9]+)$'));
        INSERT INTO recgen.media (customer_id, content_id, job_id, kind, format, path, bytes, duration, sha256, options)
        VALUES (c.customer_id, c.content_id, job.job_id, f ->> 'kind', fmt, recgen.media_path(f ->> 'path', 'media'),
                (f ->> 'bytes')::bigint,
                CASE WHEN f ->> 'kind' IN ('video', 'audio') THEN (results #>> '{result,duration}')::float8 END,
                f ->> 'sha256', (job.payload -> 'options') - 'args')
        ON CONFLICT (customer_id, job_id, format) WHERE job_id IS NOT NULL DO NOTHING
        RETURNING media_id INTO id;
        IF id IS NOT NULL THEN
            ids := ids || id;
        END IF;
    END LOOP;
    RETURN jsonb_build_object('result', jsonb_build_object(
        'media_ids', to_jsonb(ids), 'duration', results #> '{result,duration}',
        'render_seconds', results #> '{result,seconds}',
        'media', (SELECT jsonb_agg(jsonb_build_object('media_id', m.media_id, 'kind', m.kind, 'format', m.format,
                                                      'path', m.path, 'bytes', m.bytes) ORDER BY m.media_id)
                    FROM recgen.media m WHERE m.customer_id = c.customer_id AND m.job_id = job.job_id),
        'video', (SELECT m.media_id FROM recgen.media m WHERE m.customer_id = c.customer_id
                   AND m.job_id = job.job_id AND m.kind = 'video')));
END
$$;
COMMENT ON FUNCTION recgen.job_render_video(recgen.jobs, jsonb, jsonb) IS
    'Handler of render_video jobs: runs recgen-render on the narration made speakable, then records the files it reports in recgen.media (once per job), or fails with the tail of its log';

CREATE OR REPLACE FUNCTION recgen.render_video(content_id bigint, options jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_customer bigint;
BEGIN
    SELECT c.customer_id INTO v_customer FROM recgen.content c WHERE c.content_id = render_video.content_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'content % does not exist', content_id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN recgen.enqueue('render_video', jsonb_build_object('content_id', content_id, 'options', coalesce(options, '{}')),
                          v_customer);
END
$$;
COMMENT ON FUNCTION recgen.render_video(bigint, jsonb) IS
    'Queues the rendering of the narrated video of a video_script content and returns the job id (recgen.jobs: progress, result with the media ids). Options are checked now (recgen.render_options); files go to recgen.media_dir and are listed in recgen.media.';
REVOKE ALL ON FUNCTION recgen.render_video(bigint, jsonb), recgen.job_render_video(recgen.jobs, jsonb, jsonb),
    recgen.job_validate_render_video(jsonb, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.render_video(bigint, jsonb), recgen.job_validate_render_video(jsonb, bigint)
    TO recgen_admin, recgen_analyst, recgen_worker;
GRANT EXECUTE ON FUNCTION recgen.job_render_video(recgen.jobs, jsonb, jsonb) TO recgen_worker;
