/*
 * Content generation: recgen.content (every result, with its context,
 * template version, model, guard verdict and usage) and the SQL functions
 * email, describe, summary, snippet, explain and email_batch.
 *
 * Flow of every function: consent check, context, prompt from the active
 * template (recgen.prompt_templates) filled from the context, one round of
 * LLM requests (all requests of a batch at once, through the curl multi
 * interface in recgen.llm_chat), post-processing (trim; the brand's
 * sign-off and required disclaimer appended by recgen, not left to the
 * model), the guard, up to recgen.guard_retries rewrites with the
 * violations fed back, then a deterministic rendering of the same context
 * marked 'fallback'. Only content that passes the guard is returned: a
 * fallback that failed too raises an error.
 *
 * Consent per function:
 *   email, snippet            marketing and profiling
 *   describe with a customer  marketing and profiling
 *   describe without          none (no personal data)
 *   summary (for sales)       profiling
 *   explain                   profiling
 *
 * The functions run with the caller's rights: row-level security applies
 * to what they read and to the content rows they write (policies, grants
 * and the social-consent triggers: 66_content_security.sql).
 */

-- who reads and writes recgen.content: 66_content_security.sql

/* render_fallback (the deterministic fallback of every kind): 64_fallback.sql */

/*
 * postprocess: the model's answer as stored: JSON fields trimmed for an
 * email, plain text otherwise; the brand's sign-off and required
 * disclaimer appended when missing.
 */
CREATE OR REPLACE FUNCTION recgen.postprocess(kind text, answer jsonb, brand text) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    b recgen.brands;
    out jsonb;
    t text;
    f text;
BEGIN
    SELECT * INTO b FROM recgen.brands br WHERE br.brand = postprocess.brand;
    IF kind = 'email' THEN
        out := '{}';
        FOREACH f IN ARRAY ARRAY['subject', 'preheader', 'body', 'cta'] LOOP
            IF jsonb_typeof(answer #> ARRAY['json', f]) = 'string' THEN
                out := out || jsonb_build_object(f, btrim(answer #>> ARRAY['json', f]));
            END IF;
        END LOOP;
        t := out ->> 'body';
        IF t IS NOT NULL AND t <> '' THEN
            IF b.disclaimer IS NOT NULL AND 'email' = ANY (b.disclaimer_kinds)
               AND strpos(lower(t), lower(b.disclaimer)) = 0 THEN
                t := t || E'\n\n' || b.disclaimer;
            END IF;
            IF b.sign_off IS NOT NULL AND strpos(t, b.sign_off) = 0 THEN
                t := t || E'\n\n' || b.sign_off;
            END IF;
            out := jsonb_set(out, '{body}', to_jsonb(t));
        END IF;
        RETURN out;
    END IF;
    t := btrim(coalesce(answer ->> 'content', ''), E' \n\t"');
    IF b.disclaimer IS NOT NULL AND kind = ANY (b.disclaimer_kinds) AND t <> ''
       AND strpos(lower(t), lower(b.disclaimer)) = 0 THEN
        t := t || ' ' || b.disclaimer;
    END IF;
    RETURN jsonb_build_object('text', t);
END
$$;
COMMENT ON FUNCTION recgen.postprocess(text, jsonb, text) IS
    'Turns an LLM result into the output to guard: email fields trimmed, or the text; the brand''s sign-off and required disclaimer appended';
CREATE OR REPLACE FUNCTION recgen.email_schema() RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT '{"type": "object", "additionalProperties": false,
             "properties": {"subject": {"type": "string", "minLength": 3, "maxLength": 60},
                            "preheader": {"type": "string", "maxLength": 90},
                            "body": {"type": "string", "minLength": 20, "maxLength": 400},
                            "cta": {"type": "string", "minLength": 2, "maxLength": 30}},
             "required": ["subject", "preheader", "body", "cta"]}'::jsonb
$$;
COMMENT ON FUNCTION recgen.email_schema() IS 'JSON schema of an email answer (sent as response_format where the server supports it)';
