/*
 * What operators see of the queue: recgen.worker_status (the processes,
 * from shared memory) and recgen.job_stats (the jobs, per kind).
 *
 * job_stats runs with the caller's rights (security_invoker), so an
 * analyst counts only the jobs row-level security shows them. Run times
 * are those of the last attempt of jobs completed in the last hour.
 */

CREATE OR REPLACE FUNCTION recgen.worker_status_rows(
    OUT role text, OUT pid integer, OUT database text, OUT state text, OUT job_id bigint, OUT kind text,
    OUT active_jobs integer, OUT jobs_done bigint, OUT jobs_failed bigint, OUT started_at timestamptz,
    OUT heartbeat_at timestamptz, OUT last_error text, OUT last_error_at timestamptz, OUT detail jsonb)
RETURNS SETOF record
LANGUAGE c VOLATILE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'recgen_worker_status_rows';
COMMENT ON FUNCTION recgen.worker_status_rows() IS
    'The launcher, schedulers and workers as shared memory shows them now (recgen.worker_status)';

CREATE OR REPLACE VIEW recgen.worker_status AS
    SELECT role, pid, database, state, job_id, kind, active_jobs, jobs_done, jobs_failed,
           started_at, heartbeat_at, last_error, last_error_at, detail
      FROM recgen.worker_status_rows()
     ORDER BY CASE role WHEN 'launcher' THEN 0 WHEN 'scheduler' THEN 1 WHEN 'worker' THEN 2 ELSE 3 END,
              database, pid, detail ->> 'url';
COMMENT ON VIEW recgen.worker_status IS
    'One row per recgen process: the launcher, each database''s scheduler and the workers, with pid, database, state (starting, idle, claiming, running, waiting, maintaining, stopping), the job it runs now, jobs done and failed, when it started, its last pass through its loop, and its last error (shown to recgen_admin only); then one row per LLM endpoint (role endpoint; state ok, skipped or probing by its circuit breaker; detail: url, in_flight, failures_in_a_row, skipped_until, requests, failures, times_skipped)';

CREATE OR REPLACE VIEW recgen.job_stats WITH (security_invoker = true) AS
    WITH counts AS (
        SELECT j.kind,
               count(*) FILTER (WHERE j.state = 'available') AS available,
               count(*) FILTER (WHERE j.state = 'scheduled') AS scheduled,
               count(*) FILTER (WHERE j.state = 'running') AS running,
               count(*) FILTER (WHERE j.state = 'retryable') AS retryable,
               count(*) FILTER (WHERE j.state = 'completed') AS completed,
               count(*) FILTER (WHERE j.state = 'cancelled') AS cancelled,
               count(*) FILTER (WHERE j.state = 'discarded') AS discarded,
               now() - min(j.run_at) FILTER (WHERE j.state = 'available') AS oldest_available
          FROM recgen.jobs j
         GROUP BY j.kind
    ), recent AS (
        SELECT j.kind,
               count(*) FILTER (WHERE j.finalized_at > now() - interval '1 minute') AS completed_last_minute,
               count(*) AS completed_last_hour,
               avg(j.finalized_at - j.attempted_at) AS mean_run_time,
               make_interval(secs => percentile_cont(0.95) WITHIN GROUP (
                   ORDER BY extract(epoch FROM j.finalized_at - j.attempted_at))) AS p95_run_time
          FROM recgen.jobs j
         WHERE j.state = 'completed' AND j.finalized_at > now() - interval '1 hour'
         GROUP BY j.kind
    )
    SELECT k.kind,
           coalesce(c.available, 0) AS available, coalesce(c.scheduled, 0) AS scheduled,
           coalesce(c.running, 0) AS running, coalesce(c.retryable, 0) AS retryable,
           coalesce(c.completed, 0) AS completed, coalesce(c.cancelled, 0) AS cancelled,
           coalesce(c.discarded, 0) AS discarded, c.oldest_available,
           coalesce(r.completed_last_minute, 0) AS completed_last_minute,
           coalesce(r.completed_last_hour, 0) AS completed_last_hour,
           round(coalesce(r.completed_last_minute, 0) / 60.0, 2) AS per_second_last_minute,
           round(coalesce(r.completed_last_hour, 0) / 3600.0, 2) AS per_second_last_hour,
           r.mean_run_time, r.p95_run_time
      FROM recgen.job_kinds k
      LEFT JOIN counts c ON c.kind = k.kind
      LEFT JOIN recent r ON r.kind = k.kind
     ORDER BY k.kind;
COMMENT ON VIEW recgen.job_stats IS
    'Per job kind: jobs in each state, the age of the oldest available job, completions over the last minute and hour (and per second), and the mean and 95th-percentile run time of the last hour''s completed jobs. Counts only the jobs the caller can see.';

REVOKE ALL ON FUNCTION recgen.worker_status_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.worker_status_rows() TO recgen_admin, recgen_analyst;
GRANT SELECT ON recgen.worker_status, recgen.job_stats TO recgen_admin, recgen_analyst;
