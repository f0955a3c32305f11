/*
 * The job kinds of campaigns: 'campaign' (one entry's content) and
 * 'webhook' (one attempt of a delivery), run by the background workers
 * (docs/jobs.md, "Writing a job kind"; the kinds are rows of
 * recgen.job_kinds, sql/incremental/0.2.0/80_campaigns.sql).
 *
 * A campaign job, step by step, each step its own transaction:
 *   1. campaign_job_begin (as the extension owner, under the customer's
 *      advisory lock): the contact policy again, now (consent withdrawn
 *      since the entry, another campaign's content in between, quiet
 *      hours); held back -> the entry records why and the job completes;
 *      quiet hours with hold -> the job snoozes until they end; else the
 *      entry is generating (a contact from now on) and the generation job
 *      of its variant, with the run's pinned model and template version,
 *      is returned.
 *   2. the generation pipeline as the worker role (row-level security
 *      binds it): generation_prepare, then LLM requests sent by the
 *      worker with no transaction open, generation_absorb, until no
 *      request remains.
 *   3. generation_store (idempotent per job) and campaign_job_finish in
 *      one transaction: the entry is generated, its delivery created and
 *      queued when the campaign has an endpoint, progress notified.
 * A job that runs twice (worker killed after the LLM answered) finds its
 * entry generated and its content stored, and stores nothing again.
 */

/*
 * campaign_job_entry: the entry of a running campaign job, locked, or
 * NULL when it is gone or is not that job's entry. Only the worker holding
 * the job's lease may call it (recgen.leased_job_payload_id), so these
 * SECURITY DEFINER steps cannot be driven by any other session.
 */
CREATE OR REPLACE FUNCTION recgen.campaign_job_entry(job_id bigint)
RETURNS recgen.campaign_entries
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    j recgen.jobs;
    e recgen.campaign_entries;
BEGIN
    PERFORM recgen.leased_job_payload_id(job_id, 'campaign', 'entry_id');
    SELECT * INTO STRICT j FROM recgen.jobs jj WHERE jj.job_id = campaign_job_entry.job_id;
    PERFORM recgen.lock_customer(j.customer_id);
    SELECT * INTO e FROM recgen.campaign_entries ce
     WHERE ce.customer_id = j.customer_id AND ce.entry_id = (j.payload ->> 'entry_id')::bigint
       AND ce.job_id = j.job_id
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    RETURN e;
END
$$;
COMMENT ON FUNCTION recgen.campaign_job_entry(bigint) IS
    'The campaign entry of a running campaign job of the calling worker, locked (with the customer''s advisory lock), or NULL when it is gone; an error for any other caller';

/*
 * campaign_job_begin: step 1 of a campaign job. Returns {held: reason},
 * {snooze: seconds}, {done: content_id} (a re-run of a finished job), or
 * {generate: job} with the generation job of the entry's variant.
 */
CREATE OR REPLACE FUNCTION recgen.campaign_job_begin(job_id bigint)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    e recgen.campaign_entries;
    r recgen.campaign_runs;
    c recgen.campaigns;
    v jsonb;
    chk record;
BEGIN
    e := recgen.campaign_job_entry(job_id);
    IF e.entry_id IS NULL THEN
        RETURN jsonb_build_object('held', 'gone', 'detail', 'the entry no longer exists or belongs to another job');
    END IF;
    IF e.state = 'generated' THEN
        RETURN jsonb_build_object('done', e.content_id);
    END IF;
    IF e.state NOT IN ('queued', 'waiting', 'generating') THEN
        RETURN jsonb_build_object('held', coalesce(e.reason, e.state));
    END IF;
    SELECT * INTO STRICT r FROM recgen.campaign_runs cr WHERE cr.run_id = e.run_id;
    SELECT * INTO STRICT c FROM recgen.campaigns ca WHERE ca.campaign_id = e.campaign_id;

    chk := recgen.contact_check(e.customer_id, e.campaign_id, now(), e.entry_id);
    IF chk.reason IS NOT NULL AND chk.hold_until IS NOT NULL THEN
        UPDATE recgen.campaign_entries ce SET state = 'waiting', reason = 'quiet_hours', detail = chk.detail,
               hold_until = chk.hold_until, sent_at = NULL, updated_at = now()
         WHERE ce.customer_id = e.customer_id AND ce.entry_id = e.entry_id;
        RETURN jsonb_build_object('snooze', greatest(1, ceil(extract(epoch FROM chk.hold_until - now())))::bigint,
                                  'detail', chk.detail);
    END IF;
    IF chk.reason IS NOT NULL THEN
        UPDATE recgen.campaign_entries ce SET state = 'held', reason = chk.reason, detail = chk.detail,
               hold_until = NULL, sent_at = NULL, updated_at = now()
         WHERE ce.customer_id = e.customer_id AND ce.entry_id = e.entry_id;
        PERFORM recgen.campaign_progress_notify(e.run_id, false);
        RETURN jsonb_build_object('held', chk.reason, 'detail', chk.detail);
    END IF;

    SELECT x INTO v FROM jsonb_array_elements(r.settings -> 'variants') x WHERE x ->> 'name' = e.variant;
    IF v IS NULL THEN
        RAISE EXCEPTION 'variant "%" is not in run % of campaign "%"', e.variant, r.run_id, c.name
            USING ERRCODE = 'data_exception';
    END IF;
    UPDATE recgen.campaign_entries ce SET state = 'generating', reason = NULL, detail = NULL, hold_until = NULL,
           sent_at = now(), updated_at = now()
     WHERE ce.customer_id = e.customer_id AND ce.entry_id = e.entry_id;
    PERFORM recgen.campaign_progress_notify(e.run_id, false);
    RETURN jsonb_build_object('generate', jsonb_build_object(
        'kind', r.settings ->> 'kind',
        'customer_id', e.customer_id,
        'tone', v ->> 'tone',
        'channel', r.settings ->> 'channel',
        'campaign', c.name,
        'n', (v ->> 'n_products')::integer,
        'strategy', v ->> 'strategy',
        'template_tone', v ->> 'template_tone',
        'template_version', (v ->> 'template_version')::integer,
        'model', r.model));
END
$$;
COMMENT ON FUNCTION recgen.campaign_job_begin(bigint) IS
    'Step 1 of a campaign job: the contact policy re-checked now under the customer''s lock; returns {held}, {snooze}, {done} or {generate: the generation job of the entry''s variant, pinned model and template}';

/*
 * campaign_job_finish: the last step of a campaign job, in the transaction
 * that stored its content: the entry is generated (unless consent went
 * meanwhile: then held, and the content is not delivered), its delivery
 * queued, the run's progress notified.
 */
CREATE OR REPLACE FUNCTION recgen.campaign_job_finish(job_id bigint, content_id bigint)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    e recgen.campaign_entries;
    c recgen.campaigns;
    ep text;
    did bigint;
    finished boolean;
BEGIN
    e := recgen.campaign_job_entry(job_id);
    IF e.entry_id IS NULL THEN
        RETURN jsonb_build_object('held', 'gone');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM recgen.content ct
                    WHERE ct.customer_id = e.customer_id AND ct.content_id = campaign_job_finish.content_id) THEN
        RAISE EXCEPTION 'content % of customer % does not exist', content_id, e.customer_id
            USING ERRCODE = 'no_data_found';
    END IF;
    SELECT * INTO STRICT c FROM recgen.campaigns ca WHERE ca.campaign_id = e.campaign_id;
    IF NOT EXISTS (SELECT 1 FROM recgen.customers cu WHERE cu.customer_id = e.customer_id
                    AND cu.consent_marketing AND cu.consent_profiling) THEN
        UPDATE recgen.campaign_entries ce SET state = 'held', reason = 'no_consent', content_id = campaign_job_finish.content_id,
               detail = 'consent withdrawn while the content was generated: not delivered', sent_at = NULL,
               updated_at = now()
         WHERE ce.customer_id = e.customer_id AND ce.entry_id = e.entry_id;
        PERFORM recgen.campaign_progress_notify(e.run_id, false);
        RETURN jsonb_build_object('held', 'no_consent', 'content_id', content_id);
    END IF;
    UPDATE recgen.campaign_entries ce SET state = 'generated', content_id = campaign_job_finish.content_id,
           sent_at = coalesce(ce.sent_at, now()), updated_at = now()
     WHERE ce.customer_id = e.customer_id AND ce.entry_id = e.entry_id;
    ep := (SELECT r.settings ->> 'endpoint' FROM recgen.campaign_runs r WHERE r.run_id = e.run_id);
    ep := coalesce(c.endpoint, ep);
    IF ep IS NOT NULL THEN
        did := recgen.delivery_create(e.customer_id, content_id, ep);
    END IF;
    finished := NOT EXISTS (SELECT 1 FROM recgen.campaign_entries ce
                             WHERE ce.run_id = e.run_id AND ce.state IN ('queued', 'waiting', 'generating'));
    PERFORM recgen.campaign_progress_notify(e.run_id, finished);
    RETURN jsonb_build_object('content_id', content_id, 'delivery_id', did);
END
$$;
COMMENT ON FUNCTION recgen.campaign_job_finish(bigint, bigint) IS
    'Last step of a campaign job: the entry is generated with its content (held as no_consent if consent went meanwhile), its webhook delivery queued, progress notified';

/*
 * job_validate_campaign: enqueue's check of a campaign job's payload.
 */
CREATE OR REPLACE FUNCTION recgen.job_validate_campaign(payload jsonb, customer_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF customer_id IS NULL OR jsonb_typeof(payload -> 'entry_id') IS DISTINCT FROM 'number'
       OR EXISTS (SELECT 1 FROM jsonb_object_keys(payload) k WHERE k NOT IN ('entry_id', 'run_id', 'campaign')) THEN
        RAISE EXCEPTION 'a campaign job needs a customer and a payload {entry_id, run_id, campaign}'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Campaign jobs are queued by recgen.run_campaign and the campaign triggers.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM recgen.campaign_entries e
                    WHERE e.customer_id = job_validate_campaign.customer_id
                      AND e.entry_id = (payload ->> 'entry_id')::bigint) THEN
        RAISE EXCEPTION 'campaign entry % of customer % does not exist', payload ->> 'entry_id', customer_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN payload;
END
$$;
COMMENT ON FUNCTION recgen.job_validate_campaign(jsonb, bigint) IS
    'Validator of campaign jobs: a customer and the {entry_id, run_id, campaign} of an existing entry';

/*
 * campaign_job_failed: a campaign job whose content cannot be produced
 * (nothing to recommend, a fallback that breaks the guard): the entry is
 * failed with the reason, and no longer counts as a contact.
 */
CREATE OR REPLACE FUNCTION recgen.campaign_job_failed(job_id bigint, message text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    e recgen.campaign_entries;
BEGIN
    e := recgen.campaign_job_entry(job_id);
    IF e.entry_id IS NOT NULL THEN
        UPDATE recgen.campaign_entries ce SET state = 'failed', detail = left(message, 500), sent_at = NULL,
               updated_at = now()
         WHERE ce.customer_id = e.customer_id AND ce.entry_id = e.entry_id;
        PERFORM recgen.campaign_progress_notify(e.run_id, false);
    END IF;
END
$$;
COMMENT ON FUNCTION recgen.campaign_job_failed(bigint, text) IS
    'A campaign job that cannot produce its content for good: its entry is failed with the reason';

/*
 * job_campaign: the handler of campaign jobs (see the top of this file).
 * It runs as the extension owner: the generation pipeline is the owner's
 * (it checks consent and builds the context itself). state: {g:
 * generation state} between LLM rounds. An LLM failure fails the attempt
 * (the queue retries it with backoff); on the last attempt the content is
 * rendered from the template instead, so the customer still gets it.
 */
CREATE OR REPLACE FUNCTION recgen.job_campaign(job recgen.jobs, state jsonb, results jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    b jsonb;
    g jsonb;
    reqs jsonb;
    err record;
    cid bigint;
BEGIN
    IF job.kind <> 'campaign' THEN
        RAISE EXCEPTION 'job % is not a campaign job', job.job_id USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF state IS NULL THEN
        b := recgen.campaign_job_begin(job.job_id);
        IF b ? 'snooze' THEN
            RETURN jsonb_build_object('snooze', b -> 'snooze', 'reason', b ->> 'detail');
        ELSIF b ? 'held' THEN
            RETURN jsonb_build_object('result', b);
        ELSIF b ? 'done' THEN
            RETURN jsonb_build_object('result', jsonb_build_object('content_id', b -> 'done'));
        END IF;
        g := recgen.generation_prepare(jsonb_build_array((b -> 'generate') || jsonb_build_object('job_id', job.job_id)),
                                       false, CASE WHEN job.attempt >= job.max_attempts THEN 'fallback' ELSE 'fail' END);
    ELSE
        g := recgen.generation_absorb(state -> 'g', results);
    END IF;
    SELECT * INTO err FROM recgen.generation_errors(g) LIMIT 1;
    IF FOUND THEN
        IF left(err.sqlstate, 2) IN ('08', '38') THEN      -- the LLM: try again later
            RETURN jsonb_build_object('fail', err.message, 'retryable', true);
        END IF;
        PERFORM recgen.campaign_job_failed(job.job_id, err.message || coalesce(': ' || err.detail, ''));
        RETURN jsonb_build_object('result', jsonb_build_object('failed', err.message, 'sqlstate', err.sqlstate));
    END IF;
    reqs := recgen.generation_requests(g);
    IF job.model IS NOT NULL THEN       -- the model pinned when the run queued the job
        SELECT coalesce(jsonb_agg(r || jsonb_build_object('model', job.model)), '[]') INTO reqs
          FROM jsonb_array_elements(reqs) r;
    END IF;
    IF jsonb_array_length(reqs) > 0 THEN
        RETURN jsonb_build_object('state', jsonb_build_object('g', g), 'llm', reqs);
    END IF;
    -- the entry must still be there (under the customer's lock, which
    -- forget_customer takes too): an erased customer gets nothing stored
    IF (recgen.campaign_job_entry(job.job_id)).entry_id IS NULL THEN
        RETURN jsonb_build_object('result', jsonb_build_object('held', 'gone'));
    END IF;
    SELECT s.content_id INTO cid FROM recgen.generation_store(g) s LIMIT 1;
    RETURN jsonb_build_object('result', recgen.campaign_job_finish(job.job_id, cid));
END
$$;
COMMENT ON FUNCTION recgen.job_campaign(recgen.jobs, jsonb, jsonb) IS
    'Handler of campaign jobs: contact policy now, then the generation pipeline (LLM requests sent by the worker between steps; an LLM failure retries the job, its last attempt falls back to the template), then the content stored and the entry finished, its delivery queued';

/*
 * job_validate_webhook / job_webhook: one attempt of a delivery. Step 1
 * returns the signed request for the worker to POST ({http: [request]});
 * step 2 gets its answer ({status, error, duration_ms, retry_after_s})
 * and records it.
 */
CREATE OR REPLACE FUNCTION recgen.job_validate_webhook(payload jsonb, customer_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF customer_id IS NULL OR jsonb_typeof(payload -> 'delivery_id') IS DISTINCT FROM 'number'
       OR EXISTS (SELECT 1 FROM jsonb_object_keys(payload) k WHERE k <> 'delivery_id') THEN
        RAISE EXCEPTION 'a webhook job needs a customer and a payload {delivery_id}'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Webhook jobs are queued by recgen''s delivery functions (recgen.redeliver).';
    END IF;
    RETURN payload;
END
$$;
COMMENT ON FUNCTION recgen.job_validate_webhook(jsonb, bigint) IS
    'Validator of webhook jobs: a customer and {delivery_id}';
CREATE OR REPLACE FUNCTION recgen.job_webhook(job recgen.jobs, state jsonb, results jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    req jsonb;
    res jsonb;
BEGIN
    IF job.state <> 'running' THEN
        RAISE EXCEPTION 'job % is not running', job.job_id USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF state IS NULL THEN
        req := recgen.delivery_request(job.job_id);
        IF req ? 'skip' THEN
            RETURN jsonb_build_object('result', req);
        END IF;
        RETURN jsonb_build_object('state', jsonb_build_object('attempt', req -> 'attempt'),
                                  'http', jsonb_build_array(req - 'attempt'));
    END IF;
    res := results -> 0;
    RETURN jsonb_build_object('result', recgen.delivery_result(
        job.job_id, (state ->> 'attempt')::integer,
        (res ->> 'status')::integer, res ->> 'error', coalesce((res ->> 'duration_ms')::double precision, 0),
        (res ->> 'retry_after_s')::integer));
END
$$;
COMMENT ON FUNCTION recgen.job_webhook(recgen.jobs, jsonb, jsonb) IS
    'Handler of webhook jobs: returns the signed request of a delivery''s next attempt for the worker to POST, then records the answer (delivered, retrying with the next attempt queued, disabled, failed)';

REVOKE ALL ON FUNCTION recgen.campaign_job_entry(bigint), recgen.campaign_job_begin(bigint),
    recgen.campaign_job_failed(bigint, text),
    recgen.campaign_job_finish(bigint, bigint), recgen.job_campaign(recgen.jobs, jsonb, jsonb),
    recgen.job_webhook(recgen.jobs, jsonb, jsonb), recgen.job_validate_campaign(jsonb, bigint),
    recgen.job_validate_webhook(jsonb, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.job_campaign(recgen.jobs, jsonb, jsonb), recgen.job_webhook(recgen.jobs, jsonb, jsonb)
    TO recgen_worker;
GRANT EXECUTE ON FUNCTION recgen.job_validate_campaign(jsonb, bigint), recgen.job_validate_webhook(jsonb, bigint)
    TO recgen_admin, recgen_worker;

/*
 * job_campaign_schedule: the handler of campaign_schedule jobs, recgen's
 * own timer for scheduled campaigns when pg_cron does not tick (see
 * 87_campaign_schedule.sql): runs what is due and queues the next job for
 * the next due time (or in five minutes while pg_cron ticks).
 */
CREATE OR REPLACE FUNCTION recgen.job_campaign_schedule(job recgen.jobs, state jsonb, results jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cron_ticks boolean := EXISTS (SELECT 1 FROM recgen.schedule_ticks t
                                   WHERE t.driver = 'pg_cron' AND t.ticked_at > now() - interval '2 minutes');
    n integer := 0;
    nxt timestamptz;
BEGIN
    IF NOT cron_ticks THEN
        n := recgen.run_due_schedules('queue');
    END IF;
    nxt := recgen.next_schedule_at(now());
    IF cron_ticks AND nxt IS NOT NULL THEN
        nxt := now() + interval '5 minutes';
    END IF;
    IF nxt IS NOT NULL THEN
        PERFORM recgen.campaign_schedule_enqueue(nxt);
    END IF;
    RETURN jsonb_build_object('result', jsonb_build_object('runs', n, 'pg_cron', cron_ticks, 'next', nxt));
END
$$;
COMMENT ON FUNCTION recgen.job_campaign_schedule(recgen.jobs, jsonb, jsonb) IS
    'Handler of campaign_schedule jobs: runs the scheduled campaigns that are due (unless pg_cron ticks) and queues the next such job';

/*
 * campaign_schedule_enqueue: the campaign_schedule job for a time (one
 * per minute at most, by its unique key).
 */
CREATE OR REPLACE FUNCTION recgen.campaign_schedule_enqueue(at timestamptz)
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT recgen.enqueue('campaign_schedule', '{}', NULL, 10, at,
                          'campaign_schedule:' || to_char(date_trunc('minute', at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"'), 1)
$$;
COMMENT ON FUNCTION recgen.campaign_schedule_enqueue(timestamptz) IS
    'Queues the campaign_schedule job of a minute (the same minute again returns the queued job)';

/*
 * campaigns_schedule: after campaigns change, the next due time has a
 * campaign_schedule job.
 */
CREATE OR REPLACE FUNCTION recgen.campaigns_schedule() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    nxt timestamptz := recgen.next_schedule_at(now());
BEGIN
    IF nxt IS NOT NULL THEN
        PERFORM recgen.campaign_schedule_enqueue(nxt);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION recgen.campaigns_schedule() IS
    'Statement trigger on recgen.campaigns: queues the campaign_schedule job of the next due time';
CREATE OR REPLACE TRIGGER campaigns_schedule AFTER INSERT OR UPDATE ON recgen.campaigns
    FOR EACH STATEMENT EXECUTE FUNCTION recgen.campaigns_schedule();

CREATE OR REPLACE FUNCTION recgen.job_validate_campaign_schedule(payload jsonb, customer_id bigint)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF payload <> '{}' OR customer_id IS NOT NULL THEN
        RAISE EXCEPTION 'a campaign_schedule job takes no payload and no customer' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN payload;
END
$$;
COMMENT ON FUNCTION recgen.job_validate_campaign_schedule(jsonb, bigint) IS
    'Validator of campaign_schedule jobs: an empty payload, no customer';
REVOKE ALL ON FUNCTION recgen.job_campaign_schedule(recgen.jobs, jsonb, jsonb), recgen.campaign_schedule_enqueue(timestamptz),
    recgen.job_validate_campaign_schedule(jsonb, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.job_campaign_schedule(recgen.jobs, jsonb, jsonb) TO recgen_worker;
GRANT EXECUTE ON FUNCTION recgen.job_validate_campaign_schedule(jsonb, bigint) TO recgen_admin, recgen_worker;
