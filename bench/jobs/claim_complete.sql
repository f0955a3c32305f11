-- bench/jobs/claim_complete.sql: the plain-SQL baseline of bench/jobs/noop.sh,
-- run by pgbench: claim the oldest available row with FOR UPDATE SKIP LOCKED
-- and complete it, one transaction per job.
WITH c AS (
    SELECT id FROM bench_q WHERE state = 'available' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
)
UPDATE bench_q q SET state = 'completed', attempt = q.attempt + 1, finalized_at = now()
  FROM c WHERE q.id = c.id;
