/*
 * The content kinds of job: email, describe, summary, snippet, explain
 * and video_script, one content each through the generation pipeline
 * (65_generate.sql), with the LLM requests sent by the worker between the
 * steps, with no transaction open:
 *
 *   step 1  generation_prepare (consent, context, prompt)  -> {"llm": requests}
 *   step n  generation_absorb (guard, rewrite requests)    -> {"llm": rewrites}
 *   last    generation_store (content keyed by job_id)     -> {"result": ...}
 *
 * The last step stores the content and completes the job in one
 * transaction, and generation_store is idempotent per job_id, so a job
 * that runs twice stores one content row. A job that cannot be prepared
 * raises the pipeline's own error (no consent: insufficient_privilege,
 * unknown customer or nothing to recommend: no_data_found): the worker
 * discards it at once. A request that failed (no answer, a 5xx) fails the
 * attempt before the handler sees it; an unusable answer fails it here,
 * except on the last attempt, which falls back to the template.
 *
 * The payload holds the arguments of the SQL function of the same name
 * (tone, campaign, product_id, channel) and the brand, all checked at
 * enqueue time by the kind's validator; the brand, the model and the
 * prompt template are pinned then.
 */

/*
 * job_validate_content: enqueue's check of a content job's payload.
 */
CREATE OR REPLACE FUNCTION recgen.job_validate_content(kind text, payload jsonb, customer_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k recgen.content_kinds;
    allowed text[] := ARRAY['customer_id', 'tone', 'campaign', 'brand'];
    bad text;
    v_customer bigint := customer_id;
    v_tone text;
    v_brand text := coalesce(payload ->> 'brand', current_setting('recgen.brand'));
BEGIN
    SELECT * INTO k FROM recgen.content_kinds ck WHERE ck.kind = job_validate_content.kind;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown kind of content "%"', kind USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF k.needs_product THEN
        allowed := allowed || 'product_id'::text;
    END IF;
    IF kind = 'snippet' THEN
        allowed := allowed || 'channel'::text;
    END IF;
    SELECT key INTO bad FROM jsonb_object_keys(payload) key WHERE key <> ALL (allowed) LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'a % job does not take "%" in its payload', kind, bad
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('It takes %s.', array_to_string(allowed, ', '));
    END IF;
    IF v_customer IS NULL AND payload ? 'customer_id' THEN
        v_customer := (payload ->> 'customer_id')::bigint;
    END IF;
    IF v_customer IS NULL AND k.customer = 'required' THEN
        RAISE EXCEPTION 'a % job needs a customer', kind
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass customer_id to recgen.enqueue.';
    ELSIF v_customer IS NOT NULL AND k.customer = 'none' THEN
        RAISE EXCEPTION 'a % job is not about a customer', kind USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF k.needs_product THEN
        IF jsonb_typeof(payload -> 'product_id') IS DISTINCT FROM 'number' THEN
            RAISE EXCEPTION 'a % job needs a product_id in its payload', kind USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM recgen.products p WHERE p.product_id = (payload ->> 'product_id')::bigint) THEN
            RAISE EXCEPTION 'product % does not exist', payload ->> 'product_id' USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;
    v_tone := coalesce(payload ->> 'tone', k.default_tone);
    IF NOT EXISTS (SELECT 1 FROM recgen.tones t WHERE t.tone = v_tone) THEN
        RAISE EXCEPTION 'unknown tone "%"', v_tone
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Tones are rows of recgen.tones.';
    END IF;
    IF payload ? 'channel' AND NOT EXISTS (SELECT 1 FROM recgen.channels c WHERE c.channel = payload ->> 'channel') THEN
        RAISE EXCEPTION 'unknown channel "%"', payload ->> 'channel'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Channels are rows of recgen.channels.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM recgen.brands b WHERE b.brand = v_brand) THEN
        RAISE EXCEPTION 'unknown brand "%"', v_brand
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Brands are rows of recgen.brands (recgen.brand).';
    END IF;
    -- the tone and brand are pinned now, like the model and the template
    RETURN payload || jsonb_build_object('tone', v_tone, 'brand', v_brand);
END
$$;
COMMENT ON FUNCTION recgen.job_validate_content(text, jsonb, bigint) IS
    'Validator of the content kinds of job: the keys the kind takes (tone, campaign, product_id, channel, brand), a customer when the kind needs one, an existing product, tone, channel and brand; pins the tone and brand';

CREATE OR REPLACE FUNCTION recgen.job_validate_email(payload jsonb, customer_id bigint) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$ SELECT recgen.job_validate_content('email', payload, customer_id) $$;
CREATE OR REPLACE FUNCTION recgen.job_validate_describe(payload jsonb, customer_id bigint) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$ SELECT recgen.job_validate_content('describe', payload, customer_id) $$;
CREATE OR REPLACE FUNCTION recgen.job_validate_summary(payload jsonb, customer_id bigint) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$ SELECT recgen.job_validate_content('summary', payload, customer_id) $$;
CREATE OR REPLACE FUNCTION recgen.job_validate_snippet(payload jsonb, customer_id bigint) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$ SELECT recgen.job_validate_content('snippet', payload, customer_id) $$;
CREATE OR REPLACE FUNCTION recgen.job_validate_explain(payload jsonb, customer_id bigint) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$ SELECT recgen.job_validate_content('explain', payload, customer_id) $$;
CREATE OR REPLACE FUNCTION recgen.job_validate_video_script(payload jsonb, customer_id bigint) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$ SELECT recgen.job_validate_content('video_script', payload, customer_id) $$;
COMMENT ON FUNCTION recgen.job_validate_email(jsonb, bigint) IS 'Validator of email jobs (recgen.job_validate_content)';
COMMENT ON FUNCTION recgen.job_validate_describe(jsonb, bigint) IS 'Validator of describe jobs (recgen.job_validate_content)';
COMMENT ON FUNCTION recgen.job_validate_summary(jsonb, bigint) IS 'Validator of summary jobs (recgen.job_validate_content)';
COMMENT ON FUNCTION recgen.job_validate_snippet(jsonb, bigint) IS 'Validator of snippet jobs (recgen.job_validate_content)';
COMMENT ON FUNCTION recgen.job_validate_explain(jsonb, bigint) IS 'Validator of explain jobs (recgen.job_validate_content)';
COMMENT ON FUNCTION recgen.job_validate_video_script(jsonb, bigint) IS 'Validator of video_script jobs (recgen.job_validate_content)';

/*
 * job_held: whether the calling backend is the worker holding a running
 * job's lease. Handlers that run with the owner's rights check it first, so
 * no other session (a member of recgen_worker included) can drive their
 * steps with made-up states or answers.
 */
CREATE OR REPLACE FUNCTION recgen.job_held(job_id bigint)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT 1 FROM recgen.jobs j
                    WHERE j.job_id = job_held.job_id AND j.state = 'running'
                      AND j.leased_by = pg_backend_pid())
$$;
COMMENT ON FUNCTION recgen.job_held(bigint) IS
    'Whether the calling backend is the background worker holding the lease of this running job (what handlers with the owner''s rights check first)';

/*
 * job_content: the handler of every content kind (see the file header).
 */
CREATE OR REPLACE FUNCTION recgen.job_content(job recgen.jobs, state jsonb, results jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st jsonb;
    reqs jsonb;
    err record;
    c recgen.content;
BEGIN
    IF NOT recgen.job_held(job.job_id) THEN
        RAISE EXCEPTION 'job % is not a running job of this worker', job.job_id
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Only the background worker holding a job''s lease runs its steps.';
    END IF;
    -- pinned at enqueue time (the model is set by the worker)
    PERFORM set_config('recgen.brand', job.payload ->> 'brand', true);
    IF state IS NULL THEN
        st := recgen.generation_prepare(jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
                  'kind', job.kind, 'customer_id', job.customer_id, 'product_id', job.payload -> 'product_id',
                  'tone', job.payload ->> 'tone', 'channel', job.payload ->> 'channel',
                  'campaign', job.payload ->> 'campaign', 'job_id', job.job_id))),
              false, CASE WHEN job.attempt >= job.max_attempts THEN 'fallback' ELSE 'fail' END);
    ELSE
        st := recgen.generation_absorb(state, results);
    END IF;
    SELECT * INTO err FROM recgen.generation_errors(st) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = err.sqlstate, MESSAGE = err.message,
                              DETAIL = coalesce(err.detail, ''), HINT = coalesce(err.hint, '');
    END IF;
    reqs := recgen.generation_requests(st);
    IF jsonb_array_length(reqs) > 0 THEN
        RETURN jsonb_build_object('state', st, 'llm', reqs,
                                  'progress', jsonb_build_object('round', (st ->> 'round')::integer + 1));
    END IF;
    SELECT * INTO c FROM recgen.generation_store(st) LIMIT 1;
    RETURN jsonb_build_object('result', jsonb_build_object(
        'content_id', c.content_id, 'customer_id', c.customer_id, 'verdict', c.verdict,
        'attempts', c.attempts, 'template_version', c.template_version));
END
$$;
COMMENT ON FUNCTION recgen.job_content(recgen.jobs, jsonb, jsonb) IS
    'Handler of the content kinds of job: the generation pipeline in steps (prepare, the worker sends the LLM requests, absorb, store keyed by job_id); result {content_id, customer_id, verdict, attempts, template_version}';

REVOKE ALL ON FUNCTION recgen.job_validate_content(text, jsonb, bigint),
    recgen.job_validate_email(jsonb, bigint), recgen.job_validate_describe(jsonb, bigint),
    recgen.job_validate_summary(jsonb, bigint), recgen.job_validate_snippet(jsonb, bigint),
    recgen.job_validate_explain(jsonb, bigint), recgen.job_validate_video_script(jsonb, bigint),
    recgen.job_held(bigint), recgen.job_content(recgen.jobs, jsonb, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.job_validate_content(text, jsonb, bigint),
    recgen.job_validate_email(jsonb, bigint), recgen.job_validate_describe(jsonb, bigint),
    recgen.job_validate_summary(jsonb, bigint), recgen.job_validate_snippet(jsonb, bigint),
    recgen.job_validate_explain(jsonb, bigint), recgen.job_validate_video_script(jsonb, bigint)
    TO recgen_admin, recgen_analyst, recgen_worker;
GRANT EXECUTE ON FUNCTION recgen.job_held(bigint) TO recgen_admin, recgen_analyst, recgen_worker;
GRANT EXECUTE ON FUNCTION recgen.job_content(recgen.jobs, jsonb, jsonb) TO recgen_worker;
