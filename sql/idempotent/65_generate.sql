/*
 * The generation pipeline shared by every content function and by the
 * background workers, and the public content functions.
 *
 * A batch of content jobs goes through four steps:
 *
 *   state := generation_prepare(jobs)       consent, context, template, prompts
 *   LOOP
 *     reqs := generation_requests(state)    the LLM requests to send now
 *     EXIT WHEN reqs = '[]'
 *     res  := <send reqs>                   recgen.llm_chat, or a worker's curl
 *     state := generation_absorb(state, res)    guard; rewrite requests
 *   END LOOP
 *   generation_store(state)                 one content row a job
 *
 * The state is a jsonb document; nothing but these functions reads or
 * writes it. The steps are separate so that a background worker can send
 * the requests with no transaction open: it prepares in one short
 * transaction, sends, and absorbs and stores in another (docs/jobs.md).
 * The synchronous functions (email, ...) run all steps in one call.
 *
 * A job is {kind, customer_id?, product_id?, tone?, channel?, campaign?,
 * n?, strategy?, template_tone?, template_version?, job_id?}: never a
 * context. strategy is recgen.recommend()'s (default balanced); a template
 * version (with the tone of its template, default the job's tone) is that
 * exact row of recgen.prompt_templates, active or not, as a campaign run
 * pinned it; without one, the active template of the kind and tone. prepare checks the consents the kind
 * needs (recgen.content_kinds) and builds the context itself, so a caller
 * cannot hand in a forged one, and store writes the verdict the guard
 * gave. The pipeline functions are therefore callable only by the
 * extension's owner: the public functions below are SECURITY DEFINER
 * wrappers that take arguments, not contexts, and check consent
 * explicitly (the owner is not bound by row-level security; recgen.context
 * and recgen.check_consent filter on consent themselves).
 *
 * Errors of one job. With raise_on_error (the single-content functions),
 * the first error raises with its own SQLSTATE. Without (batches,
 * workers), a job that cannot be prepared, or whose fallback breaks the
 * guard, is marked failed with its SQLSTATE and message
 * (generation_errors) and the other jobs go on. on_llm_error says what a
 * failed LLM request does: 'fallback' renders the template, 'fail' leaves
 * the job failed with the request's outcome so a worker can retry it.
 */

/*
 * generation_prepare: validates each job, checks consent, builds its
 * context and prompt. Returns the pipeline state.
 */
CREATE OR REPLACE FUNCTION recgen.generation_prepare(jobs jsonb, raise_on_error boolean DEFAULT true,
                                                     on_llm_error text DEFAULT 'fallback')
RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_brand text := current_setting('recgen.brand');
    out jsonb[] := '{}';
    j jsonb;
    s jsonb;
    e_state text;
    e_msg text;
    e_detail text;
    e_hint text;
BEGIN
    IF jsonb_typeof(jobs) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'jobs must be a JSON array of content jobs'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF on_llm_error NOT IN ('fallback', 'fail') THEN
        RAISE EXCEPTION 'on_llm_error must be "fallback" or "fail", not "%"', on_llm_error
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM recgen.brands WHERE brand = v_brand) THEN
        RAISE EXCEPTION 'unknown brand "%"', v_brand
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Brands are rows of recgen.brands (recgen.brand).';
    END IF;
    FOR j IN SELECT x FROM jsonb_array_elements(jobs) x LOOP
        IF raise_on_error THEN
            s := recgen.generation_prepare_job(j, v_brand);
        ELSE
            BEGIN
                s := recgen.generation_prepare_job(j, v_brand);
            EXCEPTION WHEN OTHERS THEN   -- (OTHERS never catches a cancel)
                GET STACKED DIAGNOSTICS e_state = RETURNED_SQLSTATE, e_msg = MESSAGE_TEXT,
                                        e_detail = PG_EXCEPTION_DETAIL, e_hint = PG_EXCEPTION_HINT;
                s := jsonb_build_object('spec', j, 'state', 'failed',
                                        'error', jsonb_strip_nulls(jsonb_build_object(
                                            'sqlstate', e_state, 'message', e_msg,
                                            'detail', nullif(e_detail, ''), 'hint', nullif(e_hint, ''))));
            END;
        END IF;
        out := out || s;
    END LOOP;
    RETURN jsonb_build_object(
        'brand', v_brand,
        'model', current_setting('recgen.llm_model'),
        'rounds', current_setting('recgen.guard_retries')::integer + 1,
        'round', 0,
        'raise_on_error', raise_on_error,
        'on_llm_error', on_llm_error,
        'jobs', to_jsonb(out));
END
$$;
COMMENT ON FUNCTION recgen.generation_prepare(jsonb, boolean, text) IS
    'Internal (generation pipeline): checks each content job ({kind, customer_id, product_id, tone, channel, campaign, n, strategy, template_tone, template_version, job_id}), its consents, builds its context and prompt; returns the pipeline state';

/*
 * generation_prepare_job: one job of generation_prepare.
 */
CREATE OR REPLACE FUNCTION recgen.generation_prepare_job(j jsonb, v_brand text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k recgen.content_kinds;
    v_kind text := j ->> 'kind';
    v_customer bigint;
    v_tone text;
    v_channel text;
    v_n integer;
    v_strategy text := coalesce(j ->> 'strategy', 'balanced');
    p recgen.products;
    ctx jsonb;
    tpl recgen.prompt_templates;
    doc jsonb;
    msgs jsonb;
    v_composition text;
BEGIN
    IF jsonb_typeof(j) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'a content job must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO k FROM recgen.content_kinds ck WHERE ck.kind = v_kind;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown kind of content "%"', v_kind
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('Kinds are rows of recgen.content_kinds: %s.',
                                (SELECT string_agg(kind, ', ' ORDER BY kind) FROM recgen.content_kinds));
    END IF;
    IF j ? 'context' THEN
        RAISE EXCEPTION 'a content job does not take a context'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'recgen builds the context of every content itself, from the customer and product ids.';
    END IF;
    v_customer := (j ->> 'customer_id')::bigint;
    v_tone := coalesce(j ->> 'tone', k.default_tone);
    v_channel := coalesce(j ->> 'channel', k.default_channel);
    v_n := coalesce((j ->> 'n')::integer, k.context_items);

    IF v_customer IS NULL AND k.customer = 'required' THEN
        RAISE EXCEPTION 'customer_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    ELSIF v_customer IS NOT NULL AND k.customer = 'none' THEN
        RAISE EXCEPTION 'content of kind "%" is not about a customer', v_kind
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM recgen.tones t WHERE t.tone = v_tone) THEN
        RAISE EXCEPTION 'unknown tone "%"', v_tone
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('Tones are rows of recgen.tones: %s.',
                                (SELECT string_agg(tone, ', ' ORDER BY tone) FROM recgen.tones));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM recgen.channels c WHERE c.channel = v_channel) THEN
        RAISE EXCEPTION 'unknown channel "%"', v_channel
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('Channels are rows of recgen.channels: %s.',
                                (SELECT string_agg(channel, ', ' ORDER BY channel) FROM recgen.channels));
    END IF;
    IF k.needs_product THEN
        IF j ->> 'product_id' IS NULL THEN
            RAISE EXCEPTION 'product_id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        p := recgen.product_row((j ->> 'product_id')::bigint);
    END IF;

    -- consent first: nothing of the customer is read before it is checked
    IF v_customer IS NOT NULL THEN
        IF cardinality(k.consents) > 0 THEN
            PERFORM recgen.check_consent(v_customer, VARIADIC k.consents);
        END IF;
        ctx := recgen.context(v_customer, v_n, v_strategy);
    ELSE
        ctx := jsonb_build_object('customer', '{}'::jsonb, 'items', '[]'::jsonb);
    END IF;
    IF k.needs_product THEN
        ctx := recgen.context_with_product(ctx, p, CASE WHEN v_customer IS NOT NULL THEN k.product_reason END);
    END IF;
    IF k.needs_items AND jsonb_array_length(coalesce(ctx -> 'items', '[]')) = 0 THEN
        RAISE EXCEPTION 'no product can be recommended to customer %', v_customer
            USING ERRCODE = 'no_data_found',
                  DETAIL = format('Content of kind "%s" recommends products, and recgen.recommend(%s, %s) returned none.',
                                  v_kind, v_customer, v_n),
                  HINT = 'The rules in recgen.rules (exclude, eligibility, price_band), products out of stock or inactive, '
                         || 'or recgen.repurchase can leave nothing to recommend; a model must have been built '
                         || '(recgen.refresh_model). Nothing was generated or sent.';
    END IF;

    IF j ->> 'template_version' IS NOT NULL THEN
        -- the version a campaign run pinned, active or not any more
        SELECT * INTO tpl FROM recgen.prompt_templates t
         WHERE t.kind = v_kind AND t.tone = coalesce(j ->> 'template_tone', v_tone)
           AND t.version = (j ->> 'template_version')::integer;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'prompt template version % of kind "%" and tone "%" does not exist',
                            j ->> 'template_version', v_kind, coalesce(j ->> 'template_tone', v_tone)
                USING ERRCODE = 'undefined_object', HINT = 'Templates are rows of recgen.prompt_templates.';
        END IF;
    ELSE
        SELECT * INTO tpl FROM recgen.prompt_templates t
         WHERE t.kind = v_kind AND t.active AND t.tone IN (v_tone, '*')
         ORDER BY t.tone = v_tone DESC LIMIT 1;
    END IF;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no active prompt template for kind "%" and tone "%"', v_kind, v_tone
            USING ERRCODE = 'undefined_object', HINT = 'Templates are rows of recgen.prompt_templates.';
    END IF;
    -- part-by-part composition is for emails (64_compose.sql)
    v_composition := CASE WHEN v_kind = 'email' THEN tpl.composition ELSE 'free' END;
    -- the name is customer-written: the prompt carries it fenced (prompt_doc)
    doc := recgen.prompt_doc(ctx) || jsonb_build_object(
        'brand', (SELECT jsonb_build_object('name', b.brand, 'voice', b.voice) FROM recgen.brands b WHERE b.brand = v_brand),
        'tone', (SELECT jsonb_build_object('name', t.tone, 'instruction', t.instruction) FROM recgen.tones t WHERE t.tone = v_tone),
        'channel', (SELECT jsonb_build_object('name', c.channel, 'max_chars', c.max_chars) FROM recgen.channels c
                     WHERE c.channel = v_channel),
        -- the campaign is the caller's text: fenced and capped like a customer's
        'campaign_line', coalesce(' Campaign: ' || recgen.fence_customer_text(j ->> 'campaign', 80) || '.', ''),
        'customer_line', coalesce(' Reader: ' || (recgen.prompt_doc(ctx) #>> '{customer,first_name}') || '. Why it suits them: '
                                  || (ctx #>> '{product,reason}') || '.', ''),
        'concerns_text', coalesce((SELECT 'Topics they raised: ' || string_agg(x ->> 'topic' || ' (' || (x ->> 'feeling') || ')', ', ') || E'\n'
                                     FROM jsonb_array_elements(ctx -> 'concerns') x), ''),
        'items_text', coalesce((SELECT string_agg(recgen.item_line(i), E'\n')
                                  FROM jsonb_array_elements(ctx -> 'items') i), '(none)'),
        -- the email prompt's facts and output instruction (64_compose.sql)
        'history_text', recgen.prompt_history(ctx),
        'products_text', recgen.prompt_products(ctx),
        'format_text', recgen.format_instruction(v_composition, jsonb_array_length(coalesce(ctx -> 'items', '[]'))));
    msgs := jsonb_build_array(jsonb_build_object('role', 'system', 'content', recgen.fill_template(tpl.system_prompt, doc)))
            -- one of the template's examples, chosen by the customer (rotated)
            || recgen.template_examples(tpl.examples, v_composition, v_brand, coalesce(v_customer, p.product_id, 0));
    msgs := msgs || jsonb_build_array(jsonb_build_object('role', 'user', 'content', recgen.fill_template(tpl.user_template, doc)));

    RETURN jsonb_build_object(
        'spec', jsonb_strip_nulls(jsonb_build_object(
            'kind', v_kind, 'customer_id', v_customer, 'product_id', p.product_id, 'tone', v_tone,
            'channel', v_channel, 'campaign', j ->> 'campaign', 'job_id', (j ->> 'job_id')::bigint)),
        'context', ctx,
        'state', 'pending',
        'messages', msgs,
        'requests', jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
            'part', CASE WHEN v_composition IN ('parts', 'frame') THEN v_composition ELSE 'whole' END,
            'messages', msgs,
            'max_tokens', tpl.max_tokens,
            'temperature', tpl.temperature,
            'schema', CASE WHEN v_composition = 'parts' THEN recgen.email_parts_schema(ctx -> 'items')
                           WHEN v_composition = 'frame' THEN recgen.email_frame_schema()
                           WHEN v_kind = 'email' THEN recgen.email_schema() END,
            'schema_name', v_kind,
            'purpose', v_kind,
            'customer_id', v_customer))),
        'tpl_tone', tpl.tone, 'tpl_version', tpl.version,
        'violations', '[]'::jsonb, 'calls', '[]'::jsonb,
        'attempts', 0, 'pt', 0, 'ct', 0, 'ms', 0);
END
$$;
COMMENT ON FUNCTION recgen.generation_prepare_job(jsonb, text) IS
    'Internal (generation pipeline): one job of recgen.generation_prepare';

/*
 * generation_requests: the LLM requests every pending job sends now, in
 * job order, each tagged with its job index (0-based) and part. The
 * results go back to generation_absorb in the same order.
 */
CREATE OR REPLACE FUNCTION recgen.generation_requests(state jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(jsonb_agg(r || jsonb_build_object('job', j.ord - 1) ORDER BY j.ord, q.ord), '[]')
      FROM jsonb_array_elements(state -> 'jobs') WITH ORDINALITY j(job, ord),
           jsonb_array_elements(CASE WHEN j.job ->> 'state' = 'pending' THEN j.job -> 'requests' ELSE '[]' END)
               WITH ORDINALITY q(r, ord)
$$;
COMMENT ON FUNCTION recgen.generation_requests(jsonb) IS
    'Internal (generation pipeline): the LLM requests of the pending jobs of a pipeline state, each with its job index; their results go to recgen.generation_absorb in the same order';

/*
 * generation_fallback: a job without an accepted answer rendered from its
 * context alone (recgen.render_fallback), guarded like an answer. A
 * fallback that breaks the guard (a customer-supplied name with a banned
 * phrase, say) fails the job, or raises with raise_on_error.
 */
CREATE OR REPLACE FUNCTION recgen.generation_fallback(s jsonb, v_brand text, raise_on_error boolean)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    out jsonb := recgen.render_fallback(s #>> '{spec,kind}', s -> 'context', v_brand, s #>> '{spec,channel}');
    g jsonb := recgen.guard(s #>> '{spec,kind}', out, s -> 'context', v_brand, s #>> '{spec,channel}');
BEGIN
    IF (g ->> 'ok')::boolean THEN
        RETURN s || jsonb_build_object('state', 'fallback', 'output', out);
    END IF;
    IF raise_on_error THEN
        RAISE EXCEPTION 'could not produce deliverable % content', s #>> '{spec,kind}'
            USING ERRCODE = 'data_exception',
                  DETAIL = format('The fallback rendering broke the guard: %s', g -> 'violations');
    END IF;
    RETURN s || jsonb_build_object('state', 'failed', 'error', jsonb_build_object(
        'sqlstate', '22000', 'message', format('could not produce deliverable %s content', s #>> '{spec,kind}'),
        'detail', format('The fallback rendering broke the guard: %s', g -> 'violations')));
END
$$;
COMMENT ON FUNCTION recgen.generation_fallback(jsonb, text, boolean) IS
    'Internal (generation pipeline): a job rendered from its context alone and guarded; failed (or raising) when even that breaks the guard';

/*
 * generation_absorb: takes the results of generation_requests(state), in
 * order (llm_chat's result objects: ok, outcome, status, content, json,
 * finish_reason, tokens, latency_ms, call_id, error), guards every answer
 * and either accepts it or prepares the rewrite request with the
 * violations fed back. A job rejected in the last round, or whose request
 * failed under on_llm_error 'fallback', is rendered from its context.
 */
CREATE OR REPLACE FUNCTION recgen.generation_absorb(state jsonb, results jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    reqs jsonb := recgen.generation_requests(state);
    v_round integer := (state ->> 'round')::integer + 1;
    v_brand text := state ->> 'brand';
    v_raise boolean := (state ->> 'raise_on_error')::boolean;
    jobs jsonb[];
    s jsonb;
    r jsonb;
    v_part text;
    parts jsonb;
    faults jsonb;
    out jsonb;
    g jsonb;
    k integer;
    i integer;
BEGIN
    IF jsonb_array_length(coalesce(results, '[]')) <> jsonb_array_length(reqs) THEN
        RAISE EXCEPTION 'expected % LLM results, got %', jsonb_array_length(reqs), jsonb_array_length(coalesce(results, '[]'))
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT array_agg(x ORDER BY o) INTO jobs FROM jsonb_array_elements(state -> 'jobs') WITH ORDINALITY t(x, o);
    FOR i IN 0 .. jsonb_array_length(reqs) - 1 LOOP
        k := (reqs -> i ->> 'job')::integer + 1;
        r := results -> i;
        s := jobs[k];
        s := s || jsonb_build_object('calls', (s -> 'calls') || coalesce(r -> 'call_id', 'null'),
                                     'pt', (s ->> 'pt')::int + coalesce((r ->> 'prompt_tokens')::int, 0),
                                     'ct', (s ->> 'ct')::int + coalesce((r ->> 'completion_tokens')::int, 0),
                                     'ms', (s ->> 'ms')::float8 + coalesce((r ->> 'latency_ms')::float8, 0));
        IF NOT coalesce((r ->> 'ok')::boolean, false) THEN
            IF state ->> 'on_llm_error' = 'fail' THEN
                s := s || jsonb_build_object('state', 'failed', 'error', jsonb_strip_nulls(jsonb_build_object(
                        'sqlstate', CASE WHEN r ->> 'outcome' IN ('connection_error', 'timeout') THEN '08006' ELSE '38000' END,
                        'message', coalesce(r ->> 'error', 'the LLM request failed'),
                        'outcome', r ->> 'outcome', 'status', r -> 'status',
                        'retry_after_ms', r -> 'retry_after_ms')));
            ELSE
                s := recgen.generation_fallback(s || jsonb_build_object('violations', (s -> 'violations')
                        || jsonb_build_object('rule', 'llm_error', 'detail', r ->> 'error')), v_brand, v_raise);
            END IF;
        ELSE
            v_part := reqs -> i ->> 'part';
            -- an email written in parts (or its frame) is assembled by recgen
            -- (64_compose.sql); the answer to a part retry replaces only the
            -- parts it rewrote
            IF v_part = 'fix' THEN
                parts := recgen.email_parts_merge(s -> 'parts', r -> 'json');
            ELSE
                s := s || jsonb_build_object('attempts', (s ->> 'attempts')::int + 1);
                parts := r -> 'json';
            END IF;
            -- a fence the answer copied around the name becomes the name
            out := recgen.unfence_names(
                       CASE WHEN v_part IN ('parts', 'frame', 'fix')
                            THEN recgen.compose_email(parts, s -> 'context', v_brand,
                                                      CASE v_part WHEN 'fix' THEN s #>> '{whole_request,part}' ELSE v_part END)
                            ELSE recgen.postprocess(s #>> '{spec,kind}', r, v_brand) END,
                       s -> 'context', s #>> '{spec,campaign}');
            g := recgen.guard(s #>> '{spec,kind}', out, s -> 'context', v_brand, s #>> '{spec,channel}');
            IF r ->> 'finish_reason' = 'length' THEN
                g := jsonb_build_object('ok', false, 'violations', (g -> 'violations') || jsonb_build_object(
                    'rule', 'truncated', 'detail', 'the answer was cut off at the token limit; be shorter'));
            END IF;
            -- part retry (once per job): when every violation of an answer
            -- in parts points at a part, only those parts are asked for
            -- again (one request; the violations are kept, marked "stage":
            -- "part", and the call counts in the content's call_ids)
            faults := CASE WHEN v_part IN ('parts', 'frame') AND NOT (g ->> 'ok')::boolean AND NOT s ? 'part_fixes'
                           THEN recgen.email_part_faults(parts, s -> 'context', g -> 'violations') END;
            IF faults IS NOT NULL THEN
                s := s || jsonb_build_object(
                    'parts', parts,
                    'part_fixes', 1,
                    'whole_request', s -> 'requests' -> 0,
                    'violations', (s -> 'violations') || (SELECT jsonb_agg(v || jsonb_build_object(
                                       'stage', 'part'))
                                     FROM jsonb_array_elements(g -> 'violations') v),
                    'requests', jsonb_build_array(recgen.email_part_fix_request(
                                     s -> 'requests' -> 0, parts, faults, s -> 'context')));
            ELSIF (g ->> 'ok')::boolean THEN
                s := s || jsonb_build_object('state', 'pass', 'output', out);
            ELSE
                s := s || jsonb_build_object(
                    'violations', (s -> 'violations') || (g -> 'violations'),
                    'messages', (s -> 'messages') || jsonb_build_array(
                        jsonb_build_object('role', 'assistant', 'content',
                                           CASE WHEN v_part = 'fix' THEN parts::text ELSE coalesce(r ->> 'content', '') END),
                        jsonb_build_object('role', 'user', 'content',
                            'Your answer broke these rules: '
                            || (SELECT string_agg(v ->> 'detail', '; ') FROM jsonb_array_elements(g -> 'violations') v)
                            || '. Write it again, following every rule.')));
                -- the last whole answer the rounds allow (a part retry is no round)
                IF (s ->> 'attempts')::int >= (state ->> 'rounds')::int THEN
                    s := recgen.generation_fallback(s, v_brand, v_raise);
                ELSE
                    s := jsonb_set(s || jsonb_build_object('requests', jsonb_build_array(coalesce(s -> 'whole_request', s -> 'requests' -> 0))),
                                   '{requests,0,messages}', s -> 'messages');
                END IF;
            END IF;
        END IF;
        jobs[k] := s;
    END LOOP;
    RETURN state || jsonb_build_object('round', v_round, 'jobs', to_jsonb(jobs));
END
$$;
COMMENT ON FUNCTION recgen.generation_absorb(jsonb, jsonb) IS
    'Internal (generation pipeline): guards the LLM answers to recgen.generation_requests(state), in order, and returns the state with accepted answers, rewrite requests, fallbacks or failures';

/*
 * generation_store: one content row per job that passed or fell back.
 * Idempotent per job_id: a job stored before returns its stored row.
 */
CREATE OR REPLACE FUNCTION recgen.generation_store(state jsonb)
RETURNS SETOF recgen.content
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s jsonb;
    sp jsonb;
    v_row recgen.content;
BEGIN
    FOR s IN SELECT x FROM jsonb_array_elements(state -> 'jobs') x WHERE x ->> 'state' IN ('pass', 'fallback') LOOP
        sp := s -> 'spec';
        INSERT INTO recgen.content (customer_id, kind, tone, channel, brand, campaign, product_id,
                                    template_tone, template_version, model, context, output, product_ids,
                                    verdict, violations, attempts, call_ids, prompt_tokens,
                                    completion_tokens, llm_ms, job_id)
        VALUES (coalesce((sp ->> 'customer_id')::bigint, 0), sp ->> 'kind', sp ->> 'tone', sp ->> 'channel',
                state ->> 'brand', sp ->> 'campaign', (sp ->> 'product_id')::bigint,
                s ->> 'tpl_tone', (s ->> 'tpl_version')::int, state ->> 'model', s -> 'context', s -> 'output',
                coalesce((SELECT array_agg((i ->> 'product_id')::bigint)
                            FROM jsonb_array_elements(coalesce(s #> '{context,items}', '[]')
                                                      || coalesce(s #> '{context,product}', '[]')) i), '{}'),
                s ->> 'state', s -> 'violations', (s ->> 'attempts')::int,
                coalesce((SELECT array_agg(x::text::bigint) FROM jsonb_array_elements(s -> 'calls') x
                           WHERE jsonb_typeof(x) = 'number'), '{}'),
                (s ->> 'pt')::int, (s ->> 'ct')::int, (s ->> 'ms')::float8, (sp ->> 'job_id')::bigint)
        ON CONFLICT (customer_id, job_id) WHERE job_id IS NOT NULL DO NOTHING
        RETURNING * INTO v_row;
        IF NOT FOUND THEN
            SELECT * INTO v_row FROM recgen.content c
             WHERE c.customer_id = coalesce((sp ->> 'customer_id')::bigint, 0)
               AND c.job_id = (sp ->> 'job_id')::bigint;
        END IF;
        RETURN NEXT v_row;
    END LOOP;
END
$$;
COMMENT ON FUNCTION recgen.generation_store(jsonb) IS
    'Internal (generation pipeline): stores one content row per job of the state that passed the guard or fell back; idempotent per job_id (a job stored before returns its row)';

/*
 * generation_errors: the jobs of a state that produced no content, and why.
 */
CREATE OR REPLACE FUNCTION recgen.generation_errors(state jsonb)
RETURNS TABLE (job integer, customer_id bigint, sqlstate text, message text, detail text, hint text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (j.ord - 1)::integer, (j.s #>> '{spec,customer_id}')::bigint, j.s #>> '{error,sqlstate}',
           j.s #>> '{error,message}', j.s #>> '{error,detail}', j.s #>> '{error,hint}'
      FROM jsonb_array_elements(state -> 'jobs') WITH ORDINALITY j(s, ord)
     WHERE j.s ->> 'state' = 'failed'
     ORDER BY j.ord
$$;
COMMENT ON FUNCTION recgen.generation_errors(jsonb) IS
    'Internal (generation pipeline): the jobs of a state that produced no content, with SQLSTATE, message, detail and hint';

/*
 * generate: the whole pipeline in one transaction, requests sent with
 * recgen.llm_chat (all pending jobs of a round at once).
 */
CREATE OR REPLACE FUNCTION recgen.generate(jobs jsonb, raise_on_error boolean DEFAULT true)
RETURNS SETOF recgen.content
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st jsonb := recgen.generation_prepare(jobs, raise_on_error, 'fallback');
    reqs jsonb;
BEGIN
    LOOP
        reqs := recgen.generation_requests(st);
        EXIT WHEN jsonb_array_length(reqs) = 0;
        st := recgen.generation_absorb(st, recgen.llm_chat(reqs, raise_on_error));
    END LOOP;
    RETURN QUERY SELECT * FROM recgen.generation_store(st);
END
$$;
COMMENT ON FUNCTION recgen.generate(jsonb, boolean) IS
    'Internal: runs content jobs ({kind, customer_id, product_id, tone, channel, campaign}) through the generation pipeline in one transaction and returns the stored rows';

CREATE OR REPLACE FUNCTION recgen.content_json(c recgen.content) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.output || jsonb_build_object('content_id', c.content_id, 'verdict', c.verdict,
                                          'product_ids', to_jsonb(c.product_ids))
$$;
COMMENT ON FUNCTION recgen.content_json(recgen.content) IS
    'What a content function returns: the output fields plus content_id, verdict and product_ids';

/*
 * generate_one: one job through the pipeline, as a content function
 * returns it.
 */
CREATE OR REPLACE FUNCTION recgen.generate_one(job jsonb) RETURNS jsonb
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT recgen.content_json(g) FROM recgen.generate(jsonb_build_array(job)) g
$$;
COMMENT ON FUNCTION recgen.generate_one(jsonb) IS
    'Internal: one content job through the generation pipeline, returned as recgen.content_json';

CREATE OR REPLACE FUNCTION recgen.email(customer_id bigint, tone text DEFAULT 'friendly', campaign text DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT recgen.generate_one(jsonb_build_object('kind', 'email', 'customer_id', customer_id,
                                                  'tone', coalesce(tone, 'friendly'), 'campaign', campaign))
$$;
COMMENT ON FUNCTION recgen.email(bigint, text, text) IS
    'A personalized marketing email for a customer: jsonb {content_id, subject, preheader, body, cta, product_ids, verdict}. Requires consent to marketing and profiling, and at least one product recgen.recommend() can suggest.';

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
LANGUAGE sql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT recgen.generate_one(jsonb_strip_nulls(jsonb_build_object(
        'kind', 'describe', 'product_id', product_id, 'customer_id', customer_id,
        'tone', coalesce(tone, 'informative'), 'channel', 'web')))
$$;
COMMENT ON FUNCTION recgen.describe(bigint, text, bigint) IS
    'A product description, personalized when a customer is given (then requires consent to marketing and profiling): jsonb {content_id, text, verdict}';

CREATE OR REPLACE FUNCTION recgen.summary(customer_id bigint) RETURNS jsonb
LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT recgen.generate_one(jsonb_build_object('kind', 'summary', 'customer_id', customer_id))
$$;
COMMENT ON FUNCTION recgen.summary(bigint) IS
    'A summary of a customer for sales and marketing teams: jsonb {content_id, text, verdict}. Requires consent to profiling.';

CREATE OR REPLACE FUNCTION recgen.snippet(customer_id bigint, channel text DEFAULT 'social') RETURNS jsonb
LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT recgen.generate_one(jsonb_build_object('kind', 'snippet', 'customer_id', customer_id,
                                                  'channel', channel))
$$;
COMMENT ON FUNCTION recgen.snippet(bigint, text) IS
    'A short message for a channel (social 280, sms 160, push 120 characters: recgen.channels): jsonb {content_id, text, verdict}. Requires consent to marketing and profiling, and a product to recommend.';

CREATE OR REPLACE FUNCTION recgen.explain(customer_id bigint, product_id bigint) RETURNS jsonb
LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT recgen.generate_one(jsonb_build_object('kind', 'explain', 'customer_id', customer_id,
                                                  'product_id', product_id))
$$;
COMMENT ON FUNCTION recgen.explain(bigint, bigint) IS
    '"Why this is right for you": why a product suits a customer, from the recommender''s reason: jsonb {content_id, text, verdict}. Requires consent to profiling.';

CREATE OR REPLACE FUNCTION recgen.email_batch(customer_ids bigint[], tone text DEFAULT 'friendly', campaign text DEFAULT NULL)
RETURNS TABLE (customer_id bigint, content_id bigint, verdict text, email jsonb, error text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st jsonb;
    reqs jsonb;
    g recgen.content;
    e record;
BEGIN
    st := recgen.generation_prepare(
        (SELECT coalesce(jsonb_agg(jsonb_build_object('kind', 'email', 'customer_id', c, 'tone', coalesce(tone, 'friendly'),
                                                      'campaign', campaign) ORDER BY o), '[]')
           FROM unnest(coalesce(customer_ids, '{}')) WITH ORDINALITY u(c, o)),
        false, 'fallback');
    LOOP
        reqs := recgen.generation_requests(st);
        EXIT WHEN jsonb_array_length(reqs) = 0;
        st := recgen.generation_absorb(st, recgen.llm_chat(reqs, false));
    END LOOP;
    FOR e IN SELECT * FROM recgen.generation_errors(st) LOOP
        customer_id := e.customer_id; content_id := NULL; verdict := NULL; email := NULL;
        error := e.message;
        RETURN NEXT;
    END LOOP;
    FOR g IN SELECT * FROM recgen.generation_store(st) LOOP
        customer_id := g.customer_id; content_id := g.content_id; verdict := g.verdict;
        email := recgen.content_json(g); error := NULL;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION recgen.email_batch(bigint[], text, text) IS
    'Emails for many customers, their LLM requests run concurrently (recgen.llm_concurrency in flight). One row per customer; a customer who cannot get one (no consent, unknown, nothing to recommend, a fallback that breaks the guard) gets an error row instead of failing the batch, and failed LLM calls fall back to the template.';

-- The pipeline is the extension owner's alone: callers go through the
-- functions below, which take ids and build everything else themselves.
REVOKE ALL ON FUNCTION recgen.generate(jsonb, boolean), recgen.generate_one(jsonb),
    recgen.generation_prepare(jsonb, boolean, text), recgen.generation_prepare_job(jsonb, text),
    recgen.generation_fallback(jsonb, text, boolean),
    recgen.generation_requests(jsonb), recgen.generation_absorb(jsonb, jsonb),
    recgen.generation_store(jsonb), recgen.generation_errors(jsonb)
    FROM PUBLIC, recgen_admin, recgen_analyst, recgen_worker;
REVOKE ALL ON FUNCTION recgen.email(bigint, text, text), recgen.describe(bigint, text, bigint),
    recgen.summary(bigint), recgen.snippet(bigint, text), recgen.explain(bigint, bigint),
    recgen.email_batch(bigint[], text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.email(bigint, text, text), recgen.describe(bigint, text, bigint),
    recgen.summary(bigint), recgen.snippet(bigint, text), recgen.explain(bigint, bigint),
    recgen.email_batch(bigint[], text, text) TO recgen_admin, recgen_analyst, recgen_worker;
