-- The job queue's SQL surface without the workers: everything happens in
-- one transaction that rolls back, so no worker ever sees these jobs (they
-- are woken only when an enqueue commits). The bookkeeping functions the
-- workers call (recgen._job_*) are exercised directly, as a worker would.
BEGIN;
SELECT plan(54);

CREATE ROLE tap_jobs_analyst IN ROLE recgen_analyst;
CREATE ROLE tap_jobs_admin IN ROLE recgen_admin;
INSERT INTO recgen.customers (customer_id, first_name, consent_profiling, consent_marketing)
VALUES (9001, 'Ann', true, true), (9002, 'Ben', false, false);

-- enqueue: what is refused at once
SELECT throws_ok($$SELECT recgen.enqueue('no_such_kind')$$, '22023', 'unknown job kind "no_such_kind"',
                 'an unknown kind is refused at enqueue time');
SELECT throws_ok($$SELECT recgen.enqueue('noop', '[1, 2]')$$, '22023', 'the payload of a job must be a JSON object',
                 'a payload that is not an object is refused');
SELECT throws_ok($$SELECT recgen.enqueue('noop', '{"bogus": 1}')$$, '22023', NULL,
                 'the kind''s validator refuses a malformed payload');
SELECT throws_ok($$SELECT recgen.enqueue('refresh_model', '{"as_of": "not a date"}')$$, '22023', NULL,
                 'refresh_model''s validator checks as_of');
SELECT throws_ok($$SELECT recgen.enqueue('noop', priority => 5000)$$, '22023', 'priority 5000 is out of range',
                 'priority is bounded');
SELECT throws_ok($$SELECT recgen.enqueue('noop', max_attempts => 0)$$, '22023', 'max_attempts 0 is out of range',
                 'max_attempts is bounded');
SELECT throws_ok($$SELECT recgen.enqueue(NULL)$$, '22004', NULL, 'a null kind is refused');
SELECT is((SELECT count(*) FROM recgen.jobs), 0::bigint, 'nothing was queued by the refused calls');

-- enqueue: what is queued
SELECT recgen.enqueue('noop', '{"note": "a"}') AS j1 \gset
SELECT results_eq(format($$SELECT kind, state, attempt, max_attempts, priority, payload, created_by::text
                            FROM recgen.jobs WHERE job_id = %s$$, :j1),
                  $$VALUES ('noop'::text, 'available'::text, 0, 5, 0, '{"note": "a"}'::jsonb, current_user::text)$$,
                  'a job is available with the kind''s attempts');
SELECT recgen.enqueue('noop', run_at => now() + interval '1 hour') AS j_later \gset
SELECT is((SELECT state FROM recgen.jobs WHERE job_id = :j_later), 'scheduled', 'a job for later is scheduled');
SELECT recgen.enqueue('noop', unique_key => 'k1') AS j_key \gset
SELECT is(recgen.enqueue('noop', unique_key => 'k1'), :j_key::bigint,
          'the same unique key returns the queued job');
SELECT is((SELECT count(*) FROM recgen.jobs WHERE unique_key = 'k1'), 1::bigint, 'and queues no second one');
SELECT recgen.enqueue('noop', max_attempts => 2, priority => 7, customer_id => 9001) AS j_cust \gset
SELECT results_eq(format('SELECT max_attempts, priority, customer_id FROM recgen.jobs WHERE job_id = %s', :j_cust),
                  $$VALUES (2, 7, 9001::bigint)$$, 'arguments are stored');
SELECT throws_ok($$SELECT recgen.enqueue('noop', '{"customer_id": 9002}', 9001)$$, '22023', NULL,
                 'a payload naming another customer than the job is refused');

-- who may queue what
SET ROLE tap_jobs_analyst;
SELECT throws_ok($$SELECT recgen.enqueue('refresh_model')$$, '42501', 'permission denied to queue refresh_model',
                 'an analyst may not queue refresh_model');
SELECT lives_ok($$SELECT recgen.enqueue('noop')$$, 'an analyst may queue a noop');
SELECT throws_ok($$INSERT INTO recgen.jobs (kind) VALUES ('noop')$$, '42501', NULL,
                 'nobody but recgen''s functions writes the queue');
SELECT throws_ok($$SELECT * FROM recgen._job_claim(1, 1, 1000)$$, '42501', NULL,
                 'the workers'' bookkeeping is not callable by analysts');
RESET ROLE;
SET ROLE tap_jobs_admin;
SELECT recgen.enqueue('refresh_model') AS j_refresh \gset
RESET ROLE;
SELECT is((SELECT created_by::text FROM recgen.jobs WHERE job_id = :j_refresh), 'tap_jobs_admin',
          'an admin may queue refresh_model, and is recorded as its creator');

-- row-level security: analysts see jobs of consenting customers only
SELECT recgen.enqueue('noop', customer_id => 9002) AS j_hidden \gset
SET ROLE tap_jobs_analyst;
SELECT is((SELECT count(*) FROM recgen.jobs WHERE job_id = :j_hidden), 0::bigint,
          'an analyst does not see the job of a customer without consent');
SELECT is((SELECT count(*) FROM recgen.jobs WHERE job_id = :j_cust), 1::bigint,
          'but sees the job of a consenting customer');
SELECT throws_ok(format('SELECT recgen.cancel_job(%s)', :j_hidden), 'P0002', NULL,
                 'and cannot cancel a job it does not see');
RESET ROLE;

-- claim: running, leased, attempt counted; the highest priority first
SELECT job_id AS c1, attempt AS c1_attempt FROM recgen._job_claim(4242, 1, 60000) \gset
SELECT is(:c1::bigint, :j_cust::bigint, 'a claim takes the highest priority first');
SELECT results_eq(format($$SELECT state, attempt, leased_by, lease_until > now(), attempted_at IS NOT NULL
                            FROM recgen.jobs WHERE job_id = %s$$, :c1),
                  $$VALUES ('running'::text, 1, 4242, true, true)$$, 'the claimed job is running under a lease');
SELECT is((SELECT handler FROM recgen._job_claim(4242, 1, 60000)),
          'recgen.job_noop(recgen.jobs, jsonb, jsonb)'::regprocedure::oid,
          'a claim returns the kind''s handler');
SELECT is((SELECT count(*) FROM recgen._job_claim(4242, 100, 60000) WHERE job_id = :j_later), 0::bigint,
          'a scheduled job is not claimed before its time');
DELETE FROM recgen.jobs WHERE state = 'running' AND job_id <> :c1;

-- complete: only by the lease holder
SELECT ok(NOT recgen._job_complete(:c1, 1111, :c1_attempt, '{}'), 'another worker cannot complete a job');
SELECT ok(NOT recgen._job_complete(:c1, 4242, :c1_attempt + 1, '{}'), 'nor a later attempt');
SELECT ok(recgen._job_complete(:c1, 4242, :c1_attempt, '{"x": 1}'), 'the lease holder completes it');
SELECT results_eq(format($$SELECT state, result, leased_by, finalized_at IS NOT NULL FROM recgen.jobs WHERE job_id = %s$$, :c1),
                  $$VALUES ('completed'::text, '{"x": 1}'::jsonb, NULL::integer, true)$$, 'completed, final, lease gone');
SELECT ok(NOT recgen._job_complete(:c1, 4242, :c1_attempt, '{}'), 'completing twice does nothing');

-- fail: retryable with backoff, then discarded with every error kept
UPDATE recgen.jobs SET state = 'available', attempt = 0, finalized_at = NULL, result = NULL,
       max_attempts = 2, priority = 1000 WHERE job_id = :c1;
SELECT job_id AS f1 FROM recgen._job_claim(4242, 1, 60000) \gset
SELECT is(recgen._job_fail(:f1, 4242, 1, 'boom', '08006', true, 60000, 3600000), 'retryable',
          'a retryable failure with attempts left is retryable');
SELECT ok((SELECT run_at BETWEEN now() + interval '29 s' AND now() + interval '91 s' FROM recgen.jobs WHERE job_id = :f1),
          'it waits the backoff (60 s with jitter: 30 to 90 s)');
SELECT is(recgen._job_promote(100), 0, 'it is not promoted before its time');
UPDATE recgen.jobs SET run_at = now() - interval '1 s' WHERE job_id = :f1;
SELECT is(recgen._job_promote(100), 1, 'and promoted when due');
SELECT is((SELECT attempt FROM recgen._job_claim(4242, 1, 60000)), 2, 'the second attempt');
SELECT is(recgen._job_fail(:f1, 4242, 2, 'boom again', '08006', true, 60000, 3600000), 'discarded',
          'without attempts left it is discarded');
SELECT results_eq(format($$SELECT jsonb_array_length(errors), errors -> 1 ->> 'error', (errors -> 1 ->> 'attempt')::int,
                                  (errors -> 0 ->> 'retryable')::boolean, finalized_at IS NOT NULL
                             FROM recgen.jobs WHERE job_id = %s$$, :f1),
                  $$VALUES (2, 'boom again'::text, 2, true, true)$$, 'with both errors kept');

-- retry_job brings a discarded job back with an attempt more
SELECT ok(recgen.retry_job(:f1), 'retry_job makes a discarded job available');
SELECT results_eq(format('SELECT state, max_attempts, finalized_at IS NULL FROM recgen.jobs WHERE job_id = %s', :f1),
                  $$VALUES ('available'::text, 3, true)$$, 'available, with one attempt more');
SELECT ok(NOT recgen.retry_job(:f1), 'retrying a queued job does nothing');
SELECT recgen.enqueue('noop') AS j_done \gset
UPDATE recgen.jobs SET state = 'completed', finalized_at = now() WHERE job_id = :j_done;
SELECT throws_ok(format('SELECT recgen.retry_job(%s)', :j_done), '55000', NULL, 'a completed job cannot be retried');
DELETE FROM recgen.jobs WHERE job_id = :j_done;

-- a permanent error discards at once
SELECT job_id AS p1 FROM recgen._job_claim(4242, 1, 60000) \gset
SELECT is(recgen._job_fail(:p1, 4242, 3, 'no consent', '42501', false, 60000, 3600000), 'discarded',
          'a permanent error discards the job whatever the attempts left');

-- snooze gives the attempt back
UPDATE recgen.jobs SET state = 'available', finalized_at = NULL, attempt = 0 WHERE job_id = :p1;
SELECT attempt AS s_attempt FROM recgen._job_claim(4242, 1, 60000) \gset
SELECT ok(recgen._job_snooze(:p1, 4242, :s_attempt, 5000, 'HTTP 429'), 'a running job snoozes');
SELECT results_eq(format($$SELECT state, attempt, progress ->> 'snoozed' FROM recgen.jobs WHERE job_id = %s$$, :p1),
                  $$VALUES ('scheduled'::text, 0, 'HTTP 429'::text)$$, 'scheduled again, the attempt not counted');

-- the rescuer: a lease that expired, a worker that is gone, and never a finished job
UPDATE recgen.jobs SET state = 'available', run_at = now(), priority = 1000 WHERE job_id = :p1;
SELECT job_id AS r1 FROM recgen._job_claim(4242, 1, 60000) \gset
SELECT is(recgen._job_rescue(ARRAY[4242], now() - interval '1 hour', 100, 1000, 1000), 0,
          'a job of a live worker under its lease is left alone');
SELECT is(recgen._job_rescue(ARRAY[]::integer[], now() - interval '1 hour', 100, 1000, 1000), 0,
          'also when its worker is unknown but the job was claimed after the workers were counted');
SELECT is(recgen._job_rescue(ARRAY[]::integer[], now() + interval '1 hour', 100, 1000, 1000), 1,
          'a job whose worker is gone is rescued');
SELECT results_eq(format($$SELECT state, errors -> -1 ->> 'sqlstate' FROM recgen.jobs WHERE job_id = %s$$, :r1),
                  $$VALUES ('retryable'::text, '57P01'::text)$$, 'retryable, with the reason');

-- cancel_job
SELECT ok(recgen.cancel_job(:j_later), 'cancel_job cancels a scheduled job');
SELECT results_eq(format('SELECT state, finalized_at IS NOT NULL FROM recgen.jobs WHERE job_id = %s', :j_later),
                  $$VALUES ('cancelled'::text, true)$$, 'which is final');
SELECT ok(NOT recgen.cancel_job(:j_later), 'cancelling it again does nothing');

-- retention prunes final jobs past their time only
UPDATE recgen.jobs SET finalized_at = now() - interval '8 days' WHERE job_id = :j_later;
SELECT is(recgen._job_prune(7 * 86400, 30 * 86400, 100), 0, 'a job cancelled 8 days ago is kept (30 days)');
UPDATE recgen.jobs SET finalized_at = now() - interval '31 days' WHERE job_id = :j_later;
SELECT is(recgen._job_prune(7 * 86400, 30 * 86400, 100), 1, 'and pruned after 30 days');

SELECT * FROM finish();
ROLLBACK;
