/*
 * Handlers and validators of the job kinds that need no LLM: noop (for
 * tests and for measuring the queue) and refresh_model. The kinds
 * themselves are rows of recgen.job_kinds (sql/incremental/0.2.0/70_jobs.sql).
 *
 * A handler is handler(job recgen.jobs, state jsonb, results jsonb)
 * RETURNS jsonb; a worker calls it as recgen_worker, once per step, each
 * step in its own transaction (docs/jobs.md, "Writing a job kind"). These
 * two complete in their first step: they return {"result": ...} and the
 * worker marks the job completed in the same transaction.
 *
 * A validator is validator(payload jsonb, customer_id bigint) RETURNS
 * jsonb; enqueue calls it as the caller, so it can check the caller's
 * rights, and stores what it returns as the payload.
 */

CREATE OR REPLACE FUNCTION recgen.job_validate_noop(payload jsonb, customer_id bigint)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM jsonb_object_keys(payload) k WHERE k <> 'note') THEN
        RAISE EXCEPTION 'a noop job takes only "note" in its payload'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN payload;
END
$$;
COMMENT ON FUNCTION recgen.job_validate_noop(jsonb, bigint) IS
    'Validator of noop jobs: the payload may hold a "note" and nothing else';
CREATE OR REPLACE FUNCTION recgen.job_noop(job recgen.jobs, state jsonb, results jsonb)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN '{}';
END
$$;
COMMENT ON FUNCTION recgen.job_noop(recgen.jobs, jsonb, jsonb) IS
    'Handler of noop jobs: completes at once with no result';

CREATE OR REPLACE FUNCTION recgen.job_validate_refresh_model(payload jsonb, customer_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT has_function_privilege('recgen.refresh_model(timestamptz)', 'EXECUTE') THEN
        RAISE EXCEPTION 'permission denied to queue refresh_model'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Only roles that may call recgen.refresh_model (recgen_admin) may queue it.';
    END IF;
    IF customer_id IS NOT NULL THEN
        RAISE EXCEPTION 'a refresh_model job is not about a customer'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT 1 FROM jsonb_object_keys(payload) k WHERE k <> 'as_of') THEN
        RAISE EXCEPTION 'a refresh_model job takes only "as_of" in its payload'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF payload ? 'as_of' THEN
        BEGIN
            PERFORM (payload ->> 'as_of')::timestamptz;
        EXCEPTION WHEN data_exception THEN
            RAISE EXCEPTION '"as_of" of a refresh_model job must be a timestamp, not "%"', payload ->> 'as_of'
                USING ERRCODE = 'invalid_parameter_value';
        END;
    END IF;
    RETURN payload;
END
$$;
COMMENT ON FUNCTION recgen.job_validate_refresh_model(jsonb, bigint) IS
    'Validator of refresh_model jobs: the caller may call refresh_model; the payload holds at most a valid "as_of"';
CREATE OR REPLACE FUNCTION recgen.job_refresh_model(job recgen.jobs, state jsonb, results jsonb)
RETURNS jsonb
LANGUAGE sql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object('result', to_jsonb(r))
      FROM recgen.refresh_model(coalesce((job.payload ->> 'as_of')::timestamptz, now())) r
$$;
COMMENT ON FUNCTION recgen.job_refresh_model(recgen.jobs, jsonb, jsonb) IS
    'Handler of refresh_model jobs: runs recgen.refresh_model (with the owner''s rights, as it always does) and returns its summary row as the result';

REVOKE ALL ON FUNCTION recgen.job_validate_noop(jsonb, bigint), recgen.job_noop(recgen.jobs, jsonb, jsonb),
    recgen.job_validate_refresh_model(jsonb, bigint), recgen.job_refresh_model(recgen.jobs, jsonb, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.job_validate_noop(jsonb, bigint), recgen.job_validate_refresh_model(jsonb, bigint)
    TO recgen_admin, recgen_analyst, recgen_worker;
GRANT EXECUTE ON FUNCTION recgen.job_noop(recgen.jobs, jsonb, jsonb), recgen.job_refresh_model(recgen.jobs, jsonb, jsonb)
    TO recgen_worker;
