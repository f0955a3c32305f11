/*
 * The job queue: what users call (enqueue, cancel_job, retry_job,
 * wait_jobs), what the workers call (the _job_* functions: claim,
 * complete, fail, snooze, heartbeat, release, rescue, promote, prune),
 * row-level security and grants. See docs/jobs.md for the state machine
 * and the guarantees.
 *
 * enqueue, cancel_job and retry_job are C (src/jobs_sql.c): they check
 * what the caller may do with the caller's rights (the kind's validator
 * runs as the caller; a job must be visible to the caller to be cancelled
 * or retried), then write recgen.jobs as the extension owner, and wake
 * the workers when the transaction commits.
 *
 * The _job_* functions are the queue's bookkeeping, one statement each so
 * that concurrent workers, the rescuer and users meet only on row locks:
 * claim takes rows with FOR UPDATE SKIP LOCKED; every other update names
 * the state and the lease (leased_by, attempt) it expects, so a job whose
 * lease was lost, that completed or was cancelled meanwhile is left alone
 * (the row is re-checked after its lock is obtained). They are for the
 * workers only: no role but the owner may call them.
 */

GRANT SELECT ON recgen.job_kinds TO recgen_admin, recgen_analyst, recgen_worker;
GRANT SELECT ON recgen.jobs TO recgen_admin, recgen_analyst, recgen_worker;

DROP POLICY IF EXISTS admin_all ON recgen.jobs;
CREATE POLICY admin_all ON recgen.jobs FOR SELECT TO recgen_admin USING (true);
DROP POLICY IF EXISTS consented_profiling ON recgen.jobs;
CREATE POLICY consented_profiling ON recgen.jobs FOR SELECT TO recgen_analyst, recgen_worker
    USING (customer_id IS NULL OR recgen.profiling_allowed(customer_id));
COMMENT ON POLICY admin_all ON recgen.jobs IS 'recgen_admin sees every job';
COMMENT ON POLICY consented_profiling ON recgen.jobs IS
    'Analysts and workers see jobs without a customer and jobs of customers who consented to profiling';

-- what users call -----------------------------------------------------------

CREATE OR REPLACE FUNCTION recgen.enqueue(kind text, payload jsonb DEFAULT '{}', customer_id bigint DEFAULT NULL,
    priority integer DEFAULT 0, run_at timestamptz DEFAULT now(), unique_key text DEFAULT NULL,
    max_attempts integer DEFAULT NULL)
RETURNS bigint
LANGUAGE c VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'recgen_enqueue';
COMMENT ON FUNCTION recgen.enqueue(text, jsonb, bigint, integer, timestamptz, text, integer) IS
    'Queues a job of a kind of recgen.job_kinds and returns its job_id. The payload is checked by the kind''s validator now, as the caller. A unique_key already held by a job that is not final returns that job instead. max_attempts NULL takes the kind''s. The workers are woken when the transaction commits.';
CREATE OR REPLACE FUNCTION recgen.cancel_job(job_id bigint)
RETURNS boolean
LANGUAGE c VOLATILE STRICT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'recgen_cancel_job';
COMMENT ON FUNCTION recgen.cancel_job(bigint) IS
    'Cancels a job that is not final (a running one is stopped by its worker, whose result is then thrown away). Returns false when the job was already final.';
CREATE OR REPLACE FUNCTION recgen.retry_job(job_id bigint)
RETURNS boolean
LANGUAGE c VOLATILE STRICT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'recgen_retry_job';
COMMENT ON FUNCTION recgen.retry_job(bigint) IS
    'Makes a discarded or cancelled job available again (with one more attempt if it had used them all). Returns false when the job is already queued or running; a completed job is an error.';

CREATE OR REPLACE FUNCTION recgen.wait_jobs(job_ids bigint[], timeout interval DEFAULT '10 minutes')
RETURNS TABLE (job_id bigint, state text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + coalesce(timeout, '10 minutes');
    pause double precision := 0.005;
    open integer;
BEGIN
    IF cardinality(job_ids) IS NULL THEN
        RETURN;
    END IF;
    LOOP
        -- a fresh snapshot per statement: sees what the workers committed
        SELECT count(*) INTO open
          FROM unnest(job_ids) AS w(id)
          JOIN recgen.jobs j ON j.job_id = w.id
         WHERE j.state NOT IN ('completed', 'cancelled', 'discarded');
        EXIT WHEN open = 0 OR clock_timestamp() >= deadline;
        PERFORM pg_sleep(least(pause, greatest(0, extract(epoch FROM deadline - clock_timestamp()))));
        pause := least(pause * 2, 0.1);
    END LOOP;
    RETURN QUERY
        SELECT w.id, j.state
          FROM unnest(job_ids) WITH ORDINALITY AS w(id, n)
          LEFT JOIN recgen.jobs j ON j.job_id = w.id
         ORDER BY w.n;
END
$$;
COMMENT ON FUNCTION recgen.wait_jobs(bigint[], interval) IS
    'Waits (interruptibly) until the jobs are final or the timeout passes, and returns each job with its state (NULL for a job that does not exist or is not visible). For scripts and tests; it polls, so call it outside a transaction that holds a snapshot (READ COMMITTED).';

-- what the workers call -------------------------------------------------------

CREATE OR REPLACE FUNCTION recgen._job_backoff(attempt integer, base_ms integer, max_ms integer)
RETURNS interval
LANGUAGE sql VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT least(max_ms::float8, base_ms * power(2, least(attempt - 1, 40))) * (0.5 + random()) * interval '1 ms'
$$;
COMMENT ON FUNCTION recgen._job_backoff(integer, integer, integer) IS
    'Internal: the wait before retrying a job after its attempt-th attempt: base_ms doubled per attempt, at most max_ms, with jitter (50 to 150 %)';

CREATE OR REPLACE FUNCTION recgen._job_claim(p_pid integer, p_n integer, p_lease_ms integer)
RETURNS TABLE (job recgen.jobs, job_id bigint, attempt integer, kind text, customer_id bigint,
               handler oid, timeout_ms bigint, model text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        WITH c AS (
            SELECT j.job_id FROM recgen.jobs j
             WHERE j.state = 'available'
             ORDER BY j.priority DESC, j.run_at, j.job_id
             LIMIT p_n
               FOR UPDATE SKIP LOCKED
        ), u AS (
            UPDATE recgen.jobs j
               SET state = 'running', attempt = j.attempt + 1, leased_by = p_pid,
                   lease_until = now() + p_lease_ms * interval '1 ms', heartbeat_at = now(),
                   attempted_at = now(), progress = NULL
              FROM c
             WHERE j.job_id = c.job_id AND j.state = 'available'
            RETURNING j
        )
        SELECT u.j, (u.j).job_id, (u.j).attempt, (u.j).kind, (u.j).customer_id,
               to_regprocedure(k.handler || '(recgen.jobs, jsonb, jsonb)')::oid,
               (extract(epoch FROM k.timeout) * 1000)::bigint, (u.j).model
          FROM u JOIN recgen.job_kinds k ON k.kind = (u.j).kind;
END
$$;
COMMENT ON FUNCTION recgen._job_claim(integer, integer, integer) IS
    'Internal (workers): claims up to p_n available jobs for worker p_pid (FOR UPDATE SKIP LOCKED), counting an attempt and taking a lease; returns each with its handler';

CREATE OR REPLACE FUNCTION recgen._job_complete(p_job_id bigint, p_pid integer, p_attempt integer, p_result jsonb)
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_out boolean;
BEGIN
    WITH u AS (
        UPDATE recgen.jobs
           SET state = 'completed', result = p_result, finalized_at = now(),
               leased_by = NULL, lease_until = NULL
         WHERE job_id = p_job_id AND state = 'running' AND leased_by = p_pid AND attempt = p_attempt
        RETURNING 1
    )
    SELECT count(*) = 1 INTO v_out FROM u;
    RETURN v_out;
END
$$;
COMMENT ON FUNCTION recgen._job_complete(bigint, integer, integer, jsonb) IS
    'Internal (workers): marks a job completed, in the transaction that stored its result; false when the worker no longer holds its lease (the caller then rolls back)';

CREATE OR REPLACE FUNCTION recgen._job_fail(p_job_id bigint, p_pid integer, p_attempt integer, p_error text,
    p_sqlstate text, p_retryable boolean, p_backoff_base_ms integer, p_backoff_max_ms integer)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_out text;
BEGIN
    WITH u AS (
        UPDATE recgen.jobs j
           SET state = CASE WHEN p_retryable AND j.attempt < j.max_attempts THEN 'retryable' ELSE 'discarded' END,
               run_at = CASE WHEN p_retryable AND j.attempt < j.max_attempts
                             THEN now() + recgen._job_backoff(j.attempt, p_backoff_base_ms, p_backoff_max_ms)
                             ELSE j.run_at END,
               finalized_at = CASE WHEN p_retryable AND j.attempt < j.max_attempts THEN NULL ELSE now() END,
               errors = j.errors || jsonb_build_array(jsonb_build_object(
                   'at', now(), 'attempt', j.attempt, 'error', p_error, 'sqlstate', p_sqlstate,
                   'retryable', p_retryable)),
               leased_by = NULL, lease_until = NULL
         WHERE j.job_id = p_job_id AND j.state = 'running' AND j.leased_by = p_pid AND j.attempt = p_attempt
        RETURNING j.state
    )
    SELECT state INTO v_out FROM u;
    RETURN v_out;
END
$$;
COMMENT ON FUNCTION recgen._job_fail(bigint, integer, integer, text, text, boolean, integer, integer) IS
    'Internal (workers): records a failed attempt in its own transaction: retryable with exponential backoff and jitter, or discarded (permanent error, or no attempts left); returns the new state, NULL when the lease was lost';

CREATE OR REPLACE FUNCTION recgen._job_snooze(p_job_id bigint, p_pid integer, p_attempt integer,
    p_delay_ms bigint, p_reason text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_out boolean;
BEGIN
    WITH u AS (
        UPDATE recgen.jobs j
           SET state = 'scheduled', attempt = j.attempt - 1,
               run_at = now() + greatest(p_delay_ms, 0) * interval '1 ms',
               progress = jsonb_build_object('snoozed', p_reason, 'until', now() + greatest(p_delay_ms, 0) * interval '1 ms'),
               leased_by = NULL, lease_until = NULL
         WHERE j.job_id = p_job_id AND j.state = 'running' AND j.leased_by = p_pid AND j.attempt = p_attempt
        RETURNING 1
    )
    SELECT count(*) = 1 INTO v_out FROM u;
    RETURN v_out;
END
$$;
COMMENT ON FUNCTION recgen._job_snooze(bigint, integer, integer, bigint, text) IS
    'Internal (workers): snoozes a running job (a rate limit): it runs again after the delay and the attempt is given back';

CREATE OR REPLACE FUNCTION recgen._job_heartbeat(p_job_ids bigint[], p_pid integer, p_lease_ms integer,
    p_progress jsonb DEFAULT NULL)
RETURNS SETOF bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
        UPDATE recgen.jobs j
           SET lease_until = now() + p_lease_ms * interval '1 ms', heartbeat_at = now(),
               progress = coalesce(p_progress -> j.job_id::text, j.progress)
         WHERE j.job_id = ANY (p_job_ids) AND j.state = 'running' AND j.leased_by = p_pid
        RETURNING j.job_id;
END
$$;
COMMENT ON FUNCTION recgen._job_heartbeat(bigint[], integer, integer, jsonb) IS
    'Internal (workers): extends the leases of the jobs the worker still holds (and stores their progress: an object keyed by job id); returns those still held, so the worker drops the ones cancelled or rescued';

CREATE OR REPLACE FUNCTION recgen._job_release(p_job_ids bigint[], p_pid integer)
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_out integer;
BEGIN
    WITH u AS (
        UPDATE recgen.jobs j
           SET state = 'available', attempt = j.attempt - 1, leased_by = NULL, lease_until = NULL
         WHERE j.job_id = ANY (p_job_ids) AND j.state = 'running' AND j.leased_by = p_pid
        RETURNING 1
    )
    SELECT count(*)::integer INTO v_out FROM u;
    RETURN v_out;
END
$$;
COMMENT ON FUNCTION recgen._job_release(bigint[], integer) IS
    'Internal (workers): a worker that is stopping gives its running jobs back: available again, the attempt not counted';

CREATE OR REPLACE FUNCTION recgen._job_rescue(p_live_pids integer[], p_seen_at timestamptz, p_limit integer,
    p_backoff_base_ms integer, p_backoff_max_ms integer)
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_out integer;
BEGIN
    WITH r AS (
        SELECT j.job_id FROM recgen.jobs j
         WHERE j.state = 'running'
           AND (j.lease_until < now() OR (j.attempted_at < p_seen_at AND NOT j.leased_by = ANY (p_live_pids)))
         ORDER BY j.lease_until
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    ), u AS (
        UPDATE recgen.jobs j
           SET state = CASE WHEN j.attempt < j.max_attempts THEN 'retryable' ELSE 'discarded' END,
               run_at = CASE WHEN j.attempt < j.max_attempts
                             THEN now() + recgen._job_backoff(j.attempt, p_backoff_base_ms, p_backoff_max_ms)
                             ELSE j.run_at END,
               finalized_at = CASE WHEN j.attempt < j.max_attempts THEN NULL ELSE now() END,
               errors = j.errors || jsonb_build_array(jsonb_build_object(
                   'at', now(), 'attempt', j.attempt, 'retryable', true, 'sqlstate', '57P01',
                   'error', CASE WHEN j.lease_until < now()
                                 THEN 'the lease expired: its worker stopped sending heartbeats'
                                 ELSE format('its worker (pid %s) is gone', j.leased_by) END)),
               leased_by = NULL, lease_until = NULL
          FROM r
         WHERE j.job_id = r.job_id AND j.state = 'running'
           AND (j.lease_until < now() OR (j.attempted_at < p_seen_at AND NOT j.leased_by = ANY (p_live_pids)))
        RETURNING 1
    )
    SELECT count(*)::integer INTO v_out FROM u;
    RETURN v_out;
END
$$;
COMMENT ON FUNCTION recgen._job_rescue(integer[], timestamptz, integer, integer, integer) IS
    'Internal (schedulers): running jobs whose lease expired, or whose worker is not among p_live_pids (as seen at p_seen_at), become retryable (or discarded without attempts left); the row is re-checked once locked, so a job that completed meanwhile is never reset';

CREATE OR REPLACE FUNCTION recgen._job_promote(p_limit integer)
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_out integer;
BEGIN
    WITH d AS (
        SELECT j.job_id FROM recgen.jobs j
         WHERE j.state IN ('scheduled', 'retryable') AND j.run_at <= now()
         ORDER BY j.run_at
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    ), u AS (
        UPDATE recgen.jobs j SET state = 'available'
          FROM d
         WHERE j.job_id = d.job_id AND j.state IN ('scheduled', 'retryable') AND j.run_at <= now()
        RETURNING 1
    )
    SELECT count(*)::integer INTO v_out FROM u;
    RETURN v_out;
END
$$;
COMMENT ON FUNCTION recgen._job_promote(integer) IS
    'Internal (schedulers): scheduled and retryable jobs whose run_at has come become available';

CREATE OR REPLACE FUNCTION recgen._job_overview(OUT available integer, OUT running integer, OUT next_due timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (SELECT count(*)::integer FROM (SELECT 1 FROM recgen.jobs WHERE state = 'available' LIMIT 100000) a),
           (SELECT count(*)::integer FROM recgen.jobs WHERE state = 'running'),
           (SELECT min(run_at) FROM recgen.jobs WHERE state IN ('scheduled', 'retryable'))
$$;
COMMENT ON FUNCTION recgen._job_overview() IS
    'Internal (schedulers): available jobs (counted up to 100000), running jobs, and when the next scheduled or retryable job is due';

CREATE OR REPLACE FUNCTION recgen._job_prune(p_completed_s integer, p_failed_s integer, p_limit integer)
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_out integer;
BEGIN
    WITH d AS (
        SELECT j.job_id FROM recgen.jobs j
         WHERE j.finalized_at IS NOT NULL
           AND j.finalized_at < now() - CASE WHEN j.state = 'completed' THEN p_completed_s ELSE p_failed_s END
                                        * interval '1 s'
         ORDER BY j.finalized_at
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    ), x AS (
        DELETE FROM recgen.jobs j USING d WHERE j.job_id = d.job_id RETURNING 1
    )
    SELECT count(*)::integer INTO v_out FROM x;
    RETURN v_out;
END
$$;
COMMENT ON FUNCTION recgen._job_prune(integer, integer, integer) IS
    'Internal (schedulers): deletes up to p_limit final jobs older than the retention (completed: p_completed_s, cancelled and discarded: p_failed_s)';

REVOKE ALL ON FUNCTION recgen.enqueue(text, jsonb, bigint, integer, timestamptz, text, integer),
    recgen.cancel_job(bigint), recgen.retry_job(bigint), recgen.wait_jobs(bigint[], interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.enqueue(text, jsonb, bigint, integer, timestamptz, text, integer),
    recgen.cancel_job(bigint), recgen.retry_job(bigint), recgen.wait_jobs(bigint[], interval)
    TO recgen_admin, recgen_analyst, recgen_worker;
REVOKE ALL ON FUNCTION recgen._job_claim(integer, integer, integer),
    recgen._job_complete(bigint, integer, integer, jsonb),
    recgen._job_fail(bigint, integer, integer, text, text, boolean, integer, integer),
    recgen._job_snooze(bigint, integer, integer, bigint, text),
    recgen._job_heartbeat(bigint[], integer, integer, jsonb),
    recgen._job_release(bigint[], integer),
    recgen._job_rescue(integer[], timestamptz, integer, integer, integer),
    recgen._job_promote(integer), recgen._job_overview(),
    recgen._job_prune(integer, integer, integer), recgen._job_backoff(integer, integer, integer) FROM PUBLIC;
