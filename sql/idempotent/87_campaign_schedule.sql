/*
 * Schedules of schedule and inactivity campaigns. docs/campaigns.md
 * ("Schedules").
 *
 * recgen.run_due_schedules() starts the run of every active scheduled
 * campaign whose cron schedule (recgen.cron_next) fired since its last
 * scheduled run: one run per campaign per call, keyed by the tick
 * (run key schedule:<tick, UTC>), so calling it twice, or from two
 * drivers, never runs a tick twice; ticks missed while nothing called it
 * are caught up by one run. Two drivers call it:
 *   - pg_cron, when installed: one cron job per database,
 *       SELECT cron.schedule_in_database('recgen ' || db, '* * * * *',
 *                                        'SELECT recgen.run_due_schedules()', db);
 *   - else recgen's own queue: a campaign_schedule job queued for the next
 *     due time, which runs the due campaigns and queues the next one (the
 *     queue's scheduler is the timer). While pg_cron ticks, the job only
 *     checks again every five minutes.
 */

CREATE OR REPLACE FUNCTION recgen.run_due_schedules(driver text DEFAULT 'pg_cron', at timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c recgen.campaigns;
    last_tick timestamptz;
    t timestamptz;
    nxt timestamptz;
    i integer;
    n integer := 0;
BEGIN
    INSERT INTO recgen.schedule_ticks AS s (driver, ticked_at) VALUES (run_due_schedules.driver, at)
    ON CONFLICT ON CONSTRAINT schedule_ticks_pkey DO UPDATE SET ticked_at = excluded.ticked_at;
    FOR c IN SELECT * FROM recgen.campaigns ca
              WHERE ca.active AND ca.schedule IS NOT NULL AND ca.trigger IN ('schedule', 'inactivity')
              ORDER BY ca.campaign_id LOOP
        SELECT max(substr(r.run_key, 10)::timestamptz) INTO last_tick FROM recgen.campaign_runs r
         WHERE r.campaign_id = c.campaign_id AND r.source = c.trigger AND r.run_key LIKE 'schedule:%';
        t := recgen.cron_next(c.schedule, coalesce(last_tick, c.created_at));
        CONTINUE WHEN t IS NULL OR t > at;
        -- the latest tick due (missed ones are caught up by one run)
        FOR i IN 1 .. 10000 LOOP
            nxt := recgen.cron_next(c.schedule, t);
            EXIT WHEN nxt IS NULL OR nxt > at;
            t := nxt;
        END LOOP;
        PERFORM recgen.campaign_run_segment(c.campaign_id,
                                            'schedule:' || to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"'),
                                            c.trigger);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION recgen.run_due_schedules(text, timestamptz) IS
    'Starts the run of every active schedule or inactivity campaign whose cron schedule fired since its last scheduled run (one run per campaign, keyed by the tick); returns how many. Call it every minute (pg_cron), or let recgen''s campaign_schedule job do it';

/*
 * next_schedule_at: the next time any active scheduled campaign fires.
 */
CREATE OR REPLACE FUNCTION recgen.next_schedule_at(after timestamptz DEFAULT now())
RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT min(recgen.cron_next(c.schedule, after)) FROM recgen.campaigns c
     WHERE c.active AND c.schedule IS NOT NULL AND c.trigger IN ('schedule', 'inactivity')
$$;
COMMENT ON FUNCTION recgen.next_schedule_at(timestamptz) IS
    'When the next active schedule or inactivity campaign fires (NULL: none)';

REVOKE ALL ON FUNCTION recgen.run_due_schedules(text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.run_due_schedules(text, timestamptz) TO recgen_admin;
GRANT SELECT ON recgen.schedule_ticks TO recgen_admin, recgen_analyst;
