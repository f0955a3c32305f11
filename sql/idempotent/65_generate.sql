/*
 * The generation loop shared by every content function, and the public
 * functions. See 64_content.sql for the flow and the consent rules.
 *
 * recgen.generate(jobs, raise_on_error) takes an array of jobs
 * ({kind, customer_id, tone, channel, campaign, product_id, context}) and
 * sends each round's requests of all jobs at once, so a batch costs one
 * round trip per rewrite round, not per customer.
 */

CREATE OR REPLACE FUNCTION recgen.generate(jobs jsonb, raise_on_error boolean DEFAULT true)
RETURNS SETOF recgen.content
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_brand text := current_setting('recgen.brand');
    v_model text := current_setting('recgen.llm_model');
    v_rounds integer := current_setting('recgen.guard_retries')::integer + 1;
    n integer := jsonb_array_length(jobs);
    st jsonb[];                 -- per job: state
    j jsonb;
    s jsonb;
    tpl recgen.prompt_templates;
    doc jsonb;
    msgs jsonb;
    ex jsonb;
    reqs jsonb;
    idx integer[];
    res jsonb;
    r jsonb;
    out jsonb;
    g jsonb;
    k integer;
    ii integer;
    rnd integer;
    v_row recgen.content;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM recgen.brands WHERE brand = v_brand) THEN
        RAISE EXCEPTION 'unknown brand "%"', v_brand
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Brands are rows of recgen.brands (recgen.brand).';
    END IF;

    -- prompts
    FOR k IN 1 .. n LOOP
        j := jobs -> (k - 1);
        IF NOT EXISTS (SELECT 1 FROM recgen.tones WHERE tone = j ->> 'tone') THEN
            RAISE EXCEPTION 'unknown tone "%"', j ->> 'tone'
                USING ERRCODE = 'invalid_parameter_value', HINT = 'Tones are rows of recgen.tones.';
        END IF;
        SELECT * INTO tpl FROM recgen.prompt_templates t
         WHERE t.kind = j ->> 'kind' AND t.active AND t.tone IN (j ->> 'tone', '*')
         ORDER BY t.tone = j ->> 'tone' DESC LIMIT 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no active prompt template for kind "%" and tone "%"', j ->> 'kind', j ->> 'tone'
                USING ERRCODE = 'undefined_object', HINT = 'Templates are rows of recgen.prompt_templates.';
        END IF;
        doc := (j -> 'context') || jsonb_build_object(
            'brand', (SELECT jsonb_build_object('name', b.brand, 'voice', b.voice) FROM recgen.brands b WHERE b.brand = v_brand),
            'tone', (SELECT jsonb_build_object('name', t.tone, 'instruction', t.instruction) FROM recgen.tones t WHERE t.tone = j ->> 'tone'),
            'channel', (SELECT jsonb_build_object('name', c.channel, 'max_chars', c.max_chars) FROM recgen.channels c
                         WHERE c.channel = coalesce(j ->> 'channel', 'email')),
            'campaign_line', coalesce(' Campaign: ' || (j ->> 'campaign') || '.', ''),
            'customer_line', coalesce(' Reader: ' || (j #>> '{context,customer,first_name}') || '. Why it suits them: '
                                      || (j #>> '{context,product,reason}') || '.', ''),
            'concerns_text', coalesce((SELECT 'Topics they raised: ' || string_agg(x ->> 'topic' || ' (' || (x ->> 'feeling') || ')', ', ') || E'\n'
                                         FROM jsonb_array_elements(j #> '{context,concerns}') x), ''),
            'items_text', coalesce((SELECT string_agg(recgen.item_line(i), E'\n')
                                      FROM jsonb_array_elements(j #> '{context,items}') i), '(none)'));
        msgs := jsonb_build_array(jsonb_build_object('role', 'system', 'content', recgen.fill_template(tpl.system_prompt, doc)));
        FOR ex IN SELECT * FROM jsonb_array_elements(tpl.examples) LOOP
            msgs := msgs || jsonb_build_array(jsonb_build_object('role', 'user', 'content', ex ->> 'user'),
                                              jsonb_build_object('role', 'assistant', 'content', ex ->> 'assistant'));
        END LOOP;
        msgs := msgs || jsonb_build_array(jsonb_build_object('role', 'user', 'content', recgen.fill_template(tpl.user_template, doc)));
        st[k] := jsonb_build_object('state', 'pending', 'messages', msgs, 'tpl_tone', tpl.tone,
                                    'tpl_version', tpl.version, 'max_tokens', tpl.max_tokens,
                                    'temperature', tpl.temperature, 'violations', '[]'::jsonb,
                                    'calls', '[]'::jsonb, 'attempts', 0, 'pt', 0, 'ct', 0, 'ms', 0);
    END LOOP;

    -- rounds of LLM requests, all pending jobs at once
    FOR rnd IN 1 .. v_rounds LOOP
        idx := '{}';
        reqs := '[]';
        FOR k IN 1 .. n LOOP
            IF st[k] ->> 'state' = 'pending' THEN
                j := jobs -> (k - 1);
                idx := idx || k;
                reqs := reqs || jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
                    'messages', st[k] -> 'messages',
                    'max_tokens', st[k] -> 'max_tokens',
                    'temperature', st[k] -> 'temperature',
                    'schema', CASE WHEN j ->> 'kind' = 'email' THEN recgen.email_schema() END,
                    'schema_name', j ->> 'kind',
                    'purpose', j ->> 'kind',
                    'customer_id', j -> 'customer_id')));
            END IF;
        END LOOP;
        EXIT WHEN cardinality(idx) = 0;
        res := recgen.llm_chat(reqs, raise_on_error);
        FOR ii IN 1 .. cardinality(idx) LOOP
            k := idx[ii];
            j := jobs -> (k - 1);
            r := res -> (ii - 1);
            s := st[k];
            s := s || jsonb_build_object('calls', (s -> 'calls') || (r -> 'call_id'),
                                         'pt', (s ->> 'pt')::int + (r ->> 'prompt_tokens')::int,
                                         'ct', (s ->> 'ct')::int + (r ->> 'completion_tokens')::int,
                                         'ms', (s ->> 'ms')::float8 + (r ->> 'latency_ms')::float8);
            IF NOT (r ->> 'ok')::boolean THEN
                s := s || jsonb_build_object('state', 'fallback', 'violations', (s -> 'violations')
                        || jsonb_build_object('rule', 'llm_error', 'detail', r ->> 'error'));
            ELSE
                s := s || jsonb_build_object('attempts', (s ->> 'attempts')::int + 1);
                out := recgen.postprocess(j ->> 'kind', r, v_brand);
                g := recgen.guard(j ->> 'kind', out, j -> 'context', v_brand, j ->> 'channel');
                IF r ->> 'finish_reason' = 'length' THEN
                    g := jsonb_build_object('ok', false, 'violations', (g -> 'violations') || jsonb_build_object(
                        'rule', 'truncated', 'detail', 'the answer was cut off at the token limit; be shorter'));
                END IF;
                IF (g ->> 'ok')::boolean THEN
                    s := s || jsonb_build_object('state', 'pass', 'output', out);
                ELSE
                    s := s || jsonb_build_object(
                        'state', CASE WHEN rnd < v_rounds THEN 'pending' ELSE 'fallback' END,
                        'violations', (s -> 'violations') || (g -> 'violations'),
                        'messages', (s -> 'messages') || jsonb_build_array(
                            jsonb_build_object('role', 'assistant', 'content', coalesce(r ->> 'content', '')),
                            jsonb_build_object('role', 'user', 'content',
                                'Your answer broke these rules: '
                                || (SELECT string_agg(v ->> 'detail', '; ') FROM jsonb_array_elements(g -> 'violations') v)
                                || '. Write it again, following every rule.')));
                END IF;
            END IF;
            st[k] := s;
        END LOOP;
    END LOOP;

    -- fallbacks, storage
    FOR k IN 1 .. n LOOP
        j := jobs -> (k - 1);
        s := st[k];
        IF s ->> 'state' <> 'pass' THEN
            out := recgen.render_fallback(j ->> 'kind', j -> 'context', v_brand, j ->> 'channel');
            g := recgen.guard(j ->> 'kind', out, j -> 'context', v_brand, j ->> 'channel');
            IF NOT (g ->> 'ok')::boolean THEN
                RAISE EXCEPTION 'could not produce deliverable % content', j ->> 'kind'
                    USING ERRCODE = 'data_exception',
                          DETAIL = format('The fallback rendering broke the guard: %s', g -> 'violations');
            END IF;
            s := s || jsonb_build_object('state', 'fallback', 'output', out);
        END IF;
        INSERT INTO recgen.content (customer_id, kind, tone, channel, brand, campaign, product_id,
                                    template_tone, template_version, model, context, output, product_ids,
                                    verdict, violations, attempts, call_ids, prompt_tokens,
                                    completion_tokens, llm_ms)
        VALUES (coalesce((j ->> 'customer_id')::bigint, 0), j ->> 'kind', j ->> 'tone', j ->> 'channel',
                v_brand, j ->> 'campaign', (j ->> 'product_id')::bigint,
                s ->> 'tpl_tone', (s ->> 'tpl_version')::int, v_model, j -> 'context', s -> 'output',
                coalesce((SELECT array_agg((i ->> 'product_id')::bigint)
                            FROM jsonb_array_elements(coalesce(j #> '{context,items}', '[]')
                                                      || coalesce(j #> '{context,product}', '[]')) i), '{}'),
                s ->> 'state', s -> 'violations', (s ->> 'attempts')::int,
                coalesce((SELECT array_agg(x::text::bigint) FROM jsonb_array_elements(s -> 'calls') x
                           WHERE jsonb_typeof(x) = 'number'), '{}'),
                (s ->> 'pt')::int, (s ->> 'ct')::int, (s ->> 'ms')::float8)
        RETURNING * INTO v_row;
        RETURN NEXT v_row;
    END LOOP;
END
$$;
COMMENT ON FUNCTION recgen.generate(jsonb, boolean) IS
    'Internal: runs content jobs ({kind, customer_id, tone, channel, campaign, product_id, context}) through prompt, LLM, guard, rewrites and fallback, stores each in recgen.content and returns the rows';
CREATE OR REPLACE FUNCTION recgen.content_json(c recgen.content) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.output || jsonb_build_object('content_id', c.content_id, 'verdict', c.verdict,
                                          'product_ids', to_jsonb(c.product_ids))
$$;
COMMENT ON FUNCTION recgen.content_json(recgen.content) IS
    'What a content function returns: the output fields plus content_id, verdict and product_ids';
CREATE OR REPLACE FUNCTION recgen.email(customer_id bigint, tone text DEFAULT 'friendly', campaign text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF customer_id IS NULL THEN
        RAISE EXCEPTION 'customer_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM recgen.check_consent(customer_id, 'marketing', 'profiling');
    RETURN (SELECT recgen.content_json(g) FROM recgen.generate(jsonb_build_array(jsonb_build_object(
        'kind', 'email', 'customer_id', customer_id, 'tone', coalesce(tone, 'friendly'), 'channel', 'email',
        'campaign', campaign, 'context', recgen.context(customer_id, 3)))) g);
END
$$;
COMMENT ON FUNCTION recgen.email(bigint, text, text) IS
    'A personalized marketing email for a customer: jsonb {content_id, subject, preheader, body, cta, product_ids, verdict}. Requires consent to marketing and profiling.';
CREATE OR REPLACE FUNCTION recgen.product_row(product_id bigint) RETURNS recgen.products
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p recgen.products;
BEGIN
    SELECT * INTO p FROM recgen.products pr WHERE pr.product_id = product_row.product_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'product % does not exist', product_id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN p;
END
$$;
COMMENT ON FUNCTION recgen.product_row(bigint) IS
    'The row of a product, or the error no_data_found naming it (describe, explain)';
CREATE OR REPLACE FUNCTION recgen.context_with_product(ctx jsonb, p recgen.products, default_reason text DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ctx || jsonb_build_object('product', recgen.product_json(p, coalesce(
        (SELECT i ->> 'reason' FROM jsonb_array_elements(ctx -> 'items') i
          WHERE (i ->> 'product_id')::bigint = p.product_id LIMIT 1),
        default_reason)))
$$;
COMMENT ON FUNCTION recgen.context_with_product(jsonb, recgen.products, text) IS
    'A context with the product a text is about, carrying the reason the context''s recommendations give for it (else default_reason)';
CREATE OR REPLACE FUNCTION recgen.describe(product_id bigint, tone text DEFAULT 'informative', customer_id bigint DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p recgen.products := recgen.product_row(product_id);
    ctx jsonb;
BEGIN
    IF customer_id IS NULL THEN
        ctx := recgen.context_with_product(jsonb_build_object('customer', '{}'::jsonb, 'items', '[]'::jsonb), p);
    ELSE
        PERFORM recgen.check_consent(customer_id, 'marketing', 'profiling');
        ctx := recgen.context_with_product(recgen.context(customer_id, 3), p, 'it matches what you like');
    END IF;
    RETURN (SELECT recgen.content_json(g) FROM recgen.generate(jsonb_build_array(jsonb_build_object(
        'kind', 'describe', 'customer_id', customer_id, 'tone', coalesce(tone, 'informative'), 'channel', 'web',
        'product_id', p.product_id, 'context', ctx))) g);
END
$$;
COMMENT ON FUNCTION recgen.describe(bigint, text, bigint) IS
    'A product description, personalized when a customer is given (then requires consent to marketing and profiling): jsonb {content_id, text, verdict}';
CREATE OR REPLACE FUNCTION recgen.summary(customer_id bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT recgen.content_json(g) FROM recgen.generate(jsonb_build_array(jsonb_build_object(
        'kind', 'summary', 'customer_id', customer_id, 'tone', 'professional', 'channel', 'sales',
        'context', recgen.context(customer_id, 3)))) g);
END
$$;
COMMENT ON FUNCTION recgen.summary(bigint) IS
    'A summary of a customer for sales and marketing teams: jsonb {content_id, text, verdict}. Requires consent to profiling.';
CREATE OR REPLACE FUNCTION recgen.snippet(customer_id bigint, channel text DEFAULT 'social') RETURNS jsonb
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM recgen.channels c WHERE c.channel = snippet.channel) THEN
        RAISE EXCEPTION 'unknown channel "%"', channel
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Channels are rows of recgen.channels.';
    END IF;
    PERFORM recgen.check_consent(customer_id, 'marketing', 'profiling');
    RETURN (SELECT recgen.content_json(g) FROM recgen.generate(jsonb_build_array(jsonb_build_object(
        'kind', 'snippet', 'customer_id', customer_id, 'tone', 'friendly', 'channel', channel,
        'context', recgen.context(customer_id, 1)))) g);
END
$$;
COMMENT ON FUNCTION recgen.snippet(bigint, text) IS
    'A short message for a channel (social 280, sms 160, push 120 characters: recgen.channels): jsonb {content_id, text, verdict}. Requires consent to marketing and profiling.';
CREATE OR REPLACE FUNCTION recgen.explain(customer_id bigint, product_id bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p recgen.products := recgen.product_row(product_id);
    ctx jsonb := recgen.context_with_product(recgen.context(customer_id, 5), p);
BEGIN
    RETURN (SELECT recgen.content_json(g) FROM recgen.generate(jsonb_build_array(jsonb_build_object(
        'kind', 'explain', 'customer_id', customer_id, 'tone', 'friendly', 'channel', 'web',
        'product_id', p.product_id, 'context', ctx))) g);
END
$$;
COMMENT ON FUNCTION recgen.explain(bigint, bigint) IS
    '"Why this is right for you": why a product suits a customer, from the recommender''s reason: jsonb {content_id, text, verdict}. Requires consent to profiling.';
CREATE OR REPLACE FUNCTION recgen.email_batch(customer_ids bigint[], tone text DEFAULT 'friendly', campaign text DEFAULT NULL)
RETURNS TABLE (customer_id bigint, content_id bigint, verdict text, email jsonb, error text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cid bigint;
    jobs jsonb := '[]';
    g recgen.content;
BEGIN
    FOREACH cid IN ARRAY coalesce(customer_ids, '{}') LOOP
        BEGIN
            PERFORM recgen.check_consent(cid, 'marketing', 'profiling');
            jobs := jobs || jsonb_build_array(jsonb_build_object(
                'kind', 'email', 'customer_id', cid, 'tone', coalesce(tone, 'friendly'), 'channel', 'email',
                'campaign', campaign, 'context', recgen.context(cid, 3)));
        EXCEPTION WHEN no_data_found OR insufficient_privilege THEN
            customer_id := cid; content_id := NULL; verdict := NULL; email := NULL;
            error := SQLERRM;
            RETURN NEXT;
        END;
    END LOOP;
    IF jsonb_array_length(jobs) = 0 THEN
        RETURN;
    END IF;
    FOR g IN SELECT * FROM recgen.generate(jobs, false) LOOP
        customer_id := g.customer_id; content_id := g.content_id; verdict := g.verdict;
        email := recgen.content_json(g); error := NULL;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION recgen.email_batch(bigint[], text, text) IS
    'Emails for many customers, their LLM requests run concurrently (recgen.llm_concurrency in flight). One row per customer; customers without consent get an error row instead of failing the batch, and failed LLM calls fall back to the template.';
REVOKE ALL ON FUNCTION recgen.generate(jsonb, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.generate(jsonb, boolean) TO recgen_admin, recgen_analyst, recgen_worker;
REVOKE ALL ON FUNCTION recgen.email(bigint, text, text), recgen.describe(bigint, text, bigint),
    recgen.summary(bigint), recgen.snippet(bigint, text), recgen.explain(bigint, bigint),
    recgen.email_batch(bigint[], text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.email(bigint, text, text), recgen.describe(bigint, text, bigint),
    recgen.summary(bigint), recgen.snippet(bigint, text), recgen.explain(bigint, bigint),
    recgen.email_batch(bigint[], text, text) TO recgen_admin, recgen_analyst, recgen_worker;
