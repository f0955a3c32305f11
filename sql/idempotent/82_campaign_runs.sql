/*
 * Campaign runs and triggers: how customers enter a campaign, one job per
 * entry. docs/campaigns.md.
 *
 * Every way in ends in recgen.campaign_enter(run, customers, keys):
 *   run_campaign(name, run_key)   the segment, entry key run:<run key>
 *   purchase trigger              fresh purchases, entry key purchase:<basket>
 *   signup trigger                fresh customers, entry key signup
 *   inactivity scan               no events for N days, entry key
 *                                 inactive:<day of the last event>
 * An entry is unique per customer, campaign and key, so a run repeated
 * with the same key, a basket loaded in several statements, or a spell of
 * inactivity scanned every day enter a customer once; the job's unique key
 * (campaign, entry key, customer) keeps the queue free of twins too.
 *
 * Triggers only write rows in the user's transaction (entries and jobs):
 * no network, and a rolled-back purchase leaves nothing. They are
 * statement-level with transition tables, so a bulk load costs one scan of
 * the new rows per statement (and nothing more when no purchase campaign
 * is active), and only events younger than the campaign's trigger_window
 * count: loading history queues nothing.
 */

/*
 * campaign_template_version: the version of the active prompt template a
 * kind and tone would use now (the tone's own, else the '*' one).
 */
CREATE OR REPLACE FUNCTION recgen.campaign_template_version(kind text, tone text, OUT template_tone text, OUT version integer)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.tone, t.version FROM recgen.prompt_templates t
     WHERE t.kind = $1 AND t.active AND t.tone IN ($2, '*')
     ORDER BY t.tone = $2 DESC LIMIT 1
$$;
COMMENT ON FUNCTION recgen.campaign_template_version(text, text) IS
    'The active prompt template (its tone, or ''*'', and version) that a kind and tone of content uses now';

/*
 * campaign_run_start: the run of a campaign for a run key, created on
 * first use with the model and the template version of every variant
 * pinned; the same key returns the same run.
 */
CREATE OR REPLACE FUNCTION recgen.campaign_run_start(campaign_id bigint, run_key text, source text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c recgen.campaigns;
    v jsonb;
    vs jsonb := '[]';
    tone text;
    tv record;
    id bigint;
BEGIN
    SELECT r.run_id INTO id FROM recgen.campaign_runs r
     WHERE r.campaign_id = campaign_run_start.campaign_id AND r.run_key = campaign_run_start.run_key;
    IF FOUND THEN
        RETURN id;
    END IF;
    SELECT * INTO STRICT c FROM recgen.campaigns ca WHERE ca.campaign_id = campaign_run_start.campaign_id;
    FOR v IN SELECT * FROM jsonb_array_elements(c.variants) LOOP
        tone := coalesce(v ->> 'tone', c.tone);
        tv := recgen.campaign_template_version(c.kind, tone);
        IF tv.version IS NULL THEN
            RAISE EXCEPTION 'campaign "%": no active prompt template for kind "%" and tone "%"', c.name, c.kind, tone
                USING ERRCODE = 'undefined_object', HINT = 'Templates are rows of recgen.prompt_templates.';
        END IF;
        IF coalesce((v ->> 'template_version')::integer, c.template_version) IS NOT NULL THEN
            tv.version := coalesce((v ->> 'template_version')::integer, c.template_version);
            IF NOT EXISTS (SELECT 1 FROM recgen.prompt_templates t
                            WHERE t.kind = c.kind AND t.tone = tv.template_tone AND t.version = tv.version) THEN
                RAISE EXCEPTION 'campaign "%": prompt template version % of kind "%" and tone "%" does not exist',
                                c.name, tv.version, c.kind, tv.template_tone
                    USING ERRCODE = 'undefined_object';
            END IF;
        END IF;
        vs := vs || jsonb_build_array(jsonb_build_object(
            'name', v ->> 'name', 'split', v -> 'split', 'tone', tone,
            'template_tone', tv.template_tone, 'template_version', tv.version,
            'strategy', coalesce(v ->> 'strategy', c.strategy),
            'n_products', coalesce((v ->> 'n_products')::integer, c.n_products)));
    END LOOP;
    INSERT INTO recgen.campaign_runs AS r (campaign_id, run_key, source, model, settings)
    VALUES (c.campaign_id, run_key, source, current_setting('recgen.llm_model'),
            jsonb_build_object('kind', c.kind, 'channel', c.channel, 'segment', c.segment,
                               'holdout_pct', c.holdout_pct, 'variants', vs, 'endpoint', c.endpoint))
    ON CONFLICT ON CONSTRAINT campaign_runs_campaign_id_run_key_key DO NOTHING
    RETURNING r.run_id INTO id;
    IF id IS NULL THEN          -- a concurrent call created it first
        SELECT r.run_id INTO STRICT id FROM recgen.campaign_runs r
         WHERE r.campaign_id = c.campaign_id AND r.run_key = campaign_run_start.run_key;
    END IF;
    RETURN id;
END
$$;
COMMENT ON FUNCTION recgen.campaign_run_start(bigint, text, text) IS
    'The run of a campaign for a run key: created on first use with the model and each variant''s template version pinned; the same key gives the same run';

/*
 * campaign_enter: customers (already in the segment) enter a run, each
 * with its entry key. Each new entry gets its variant (or the holdout) and
 * the contact policy's verdict; those that may be contacted get a job
 * (held until morning in their quiet hours, when the campaign holds).
 * Entries that exist already are left alone. Returns how many entered.
 */
CREATE OR REPLACE FUNCTION recgen.campaign_enter(run_id bigint, customers bigint[], entry_keys text[],
                                                 at timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r recgen.campaign_runs;
    c recgen.campaigns;
    n integer;
    new_ids bigint[];
    prev_model text;
BEGIN
    SELECT * INTO STRICT r FROM recgen.campaign_runs cr WHERE cr.run_id = campaign_enter.run_id;
    SELECT * INTO STRICT c FROM recgen.campaigns ca WHERE ca.campaign_id = r.campaign_id;
    IF coalesce(cardinality(customers), 0) = 0 THEN
        RETURN 0;
    END IF;

    WITH cand AS (
        SELECT DISTINCT ON (x.customer_id, x.entry_key) x.customer_id, x.entry_key
          FROM unnest(customers, entry_keys) x(customer_id, entry_key)
         WHERE NOT EXISTS (SELECT 1 FROM recgen.campaign_entries e
                            WHERE e.customer_id = x.customer_id AND e.campaign_id = c.campaign_id
                              AND e.entry_key = x.entry_key)
    ), judged AS (
        SELECT cand.customer_id, cand.entry_key,
               recgen.campaign_variant(c.name, r.settings -> 'variants', (r.settings ->> 'holdout_pct')::numeric,
                                       cand.customer_id) AS variant,
               chk.reason, chk.detail, chk.hold_until
          FROM cand CROSS JOIN LATERAL recgen.contact_check(cand.customer_id, c.campaign_id, at) chk
    ), decided AS (
        SELECT j.customer_id, j.entry_key, j.variant, j.detail, j.hold_until,
               CASE WHEN j.reason IN ('no_consent', 'reentry', 'capped') THEN j.reason
                    WHEN j.variant IS NULL THEN 'holdout'
                    ELSE j.reason END AS reason
          FROM judged j
    ), ins AS (
        INSERT INTO recgen.campaign_entries AS e
               (customer_id, campaign_id, run_id, entry_key, channel, variant, state, reason, detail,
                hold_until, entered_at)
        SELECT d.customer_id, c.campaign_id, r.run_id, d.entry_key, c.channel, d.variant,
               CASE WHEN d.reason IS NULL THEN 'queued'
                    WHEN d.reason = 'quiet_hours' AND d.hold_until IS NOT NULL THEN 'waiting'
                    ELSE 'held' END,
               d.reason,
               CASE WHEN d.reason = 'holdout' THEN format('in the %s%% holdout', r.settings ->> 'holdout_pct')
                    ELSE d.detail END,
               CASE WHEN d.reason = 'quiet_hours' THEN d.hold_until END,
               at
          FROM decided d
        ON CONFLICT (customer_id, campaign_id, entry_key) DO NOTHING
        RETURNING e.entry_id, e.state
    )
    SELECT count(*)::integer, array_agg(ins.entry_id) FILTER (WHERE ins.state IN ('queued', 'waiting'))
      INTO n, new_ids FROM ins;

    -- one job per entry that may be contacted, with the run's model pinned
    -- (enqueue pins the session's recgen.llm_model; restored right after)
    IF new_ids IS NOT NULL THEN
        prev_model := current_setting('recgen.llm_model');
        PERFORM set_config('recgen.llm_model', r.model, true);
        UPDATE recgen.campaign_entries e
           SET job_id = recgen.enqueue(
                   'campaign',
                   jsonb_build_object('entry_id', e.entry_id, 'run_id', r.run_id, 'campaign', c.name),
                   e.customer_id, c.priority, coalesce(e.hold_until, now()),
                   format('campaign:%s:%s:%s', c.campaign_id, e.entry_key, e.customer_id), 5),
               updated_at = now()
         WHERE e.entry_id = ANY (new_ids) AND e.campaign_id = c.campaign_id;
        PERFORM set_config('recgen.llm_model', prev_model, true);
    END IF;

    IF n > 0 THEN
        PERFORM recgen.campaign_progress_notify(r.run_id, false);
    END IF;
    RETURN n;
END
$$;
COMMENT ON FUNCTION recgen.campaign_enter(bigint, bigint[], text[], timestamptz) IS
    'Customers enter a campaign run with their entry keys: variant or holdout, the contact policy''s verdict recorded, a job queued for each one that may be contacted; existing entries are left alone. Returns how many entered.';

/*
 * inactive_customers: customers among the candidates whose last event
 * (or sign-up, without events) is older than the number of days, with
 * that moment.
 */
CREATE OR REPLACE FUNCTION recgen.inactive_customers(candidates bigint[], days integer, at timestamptz DEFAULT now())
RETURNS TABLE (customer_id bigint, last_active timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.customer_id, coalesce(ev.last_event, c.created_at)
      FROM recgen.customers c
      LEFT JOIN LATERAL (SELECT max(e.occurred_at) AS last_event FROM recgen.events e
                          WHERE e.customer_id = c.customer_id) ev ON true
     WHERE c.customer_id = ANY (candidates)
       AND coalesce(ev.last_event, c.created_at) < at - make_interval(days => days)
$$;
COMMENT ON FUNCTION recgen.inactive_customers(bigint[], integer, timestamptz) IS
    'Candidates without any event (or sign-up) in the last N days, with the time of their last activity';

/*
 * campaign_run_segment: one run of a campaign over its segment (for an
 * inactivity campaign, the segment's customers inactive for its number of
 * days): the part run_campaign and the scheduler share.
 */
CREATE OR REPLACE FUNCTION recgen.campaign_run_segment(campaign_id bigint, run_key text, source text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c recgen.campaigns;
    rid bigint;
    ids bigint[];
    keys text[];
BEGIN
    SELECT * INTO STRICT c FROM recgen.campaigns ca WHERE ca.campaign_id = campaign_run_segment.campaign_id;
    rid := recgen.campaign_run_start(c.campaign_id, run_key, source);
    IF c.trigger = 'inactivity' THEN
        SELECT array_agg(i.customer_id ORDER BY i.customer_id),
               array_agg('inactive:' || to_char(i.last_active AT TIME ZONE 'UTC', 'YYYY-MM-DD') ORDER BY i.customer_id)
          INTO ids, keys
          FROM recgen.inactive_customers(ARRAY(SELECT recgen.segment_members(c.segment)), c.inactivity_days) i;
    ELSE
        SELECT array_agg(m ORDER BY m), array_agg('run:' || run_key ORDER BY m)
          INTO ids, keys FROM recgen.segment_members(c.segment) m;
    END IF;
    PERFORM recgen.campaign_enter(rid, ids, keys);
    RETURN rid;
END
$$;
COMMENT ON FUNCTION recgen.campaign_run_segment(bigint, text, text) IS
    'One run of a campaign over its segment (inactivity campaigns: the segment''s inactive customers); shared by run_campaign and the scheduler';

/*
 * run_campaign: a manual run of a campaign. The same run key gives the
 * same run and never enters a customer twice; the default key is the day
 * (UTC), so calling it twice on a day is safe.
 */
CREATE OR REPLACE FUNCTION recgen.run_campaign(name text, run_key text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c recgen.campaigns;
    key text := coalesce(run_key, 'manual:' || to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD'));
BEGIN
    SELECT * INTO c FROM recgen.campaigns ca WHERE ca.name = run_campaign.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'campaign "%" does not exist', run_campaign.name
            USING ERRCODE = 'undefined_object', HINT = 'Campaigns are rows of recgen.campaigns.';
    END IF;
    IF NOT c.active THEN
        RAISE EXCEPTION 'campaign "%" is not active', c.name
            USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'UPDATE recgen.campaigns SET active = true first.';
    END IF;
    IF btrim(key) = '' OR length(key) > 200 THEN
        RAISE EXCEPTION 'the run key must be 1 to 200 characters' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN recgen.campaign_run_segment(c.campaign_id, key, 'manual');
END
$$;
COMMENT ON FUNCTION recgen.run_campaign(text, text) IS
    'Runs a campaign: every consenting customer of its segment enters (variant or holdout, contact policy recorded) and gets one job; the same run key returns the same run id and never generates twice for a customer. Default run key: manual:<UTC date>.';
REVOKE ALL ON FUNCTION recgen.run_campaign(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.run_campaign(text, text) TO recgen_admin;

/*
 * campaign_trigger_enter: the part both event triggers share: for each
 * active campaign with the trigger, the fresh (customer, key, time) rows
 * within its window and segment enter the day's run.
 */
CREATE OR REPLACE FUNCTION recgen.campaign_trigger_enter(trig text, customers bigint[], keys text[], times timestamptz[])
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c recgen.campaigns;
    ids bigint[];
    ks text[];
    total integer := 0;
BEGIN
    FOR c IN SELECT * FROM recgen.campaigns ca WHERE ca.active AND ca.trigger = trig ORDER BY ca.campaign_id LOOP
        SELECT array_agg(x.customer_id), array_agg(x.k) INTO ids, ks
          FROM unnest(customers, keys, times) x(customer_id, k, t)
         WHERE x.t > now() - c.trigger_window AND x.t <= now() + interval '1 hour'
           AND x.customer_id IN (SELECT recgen.segment_members(c.segment, customers));
        IF ids IS NOT NULL THEN
            total := total + recgen.campaign_enter(
                recgen.campaign_run_start(c.campaign_id, trig || ':' || to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD'), trig),
                ids, ks);
        END IF;
    END LOOP;
    RETURN total;
END
$$;
COMMENT ON FUNCTION recgen.campaign_trigger_enter(text, bigint[], text[], timestamptz[]) IS
    'Enters fresh triggering customers (with entry keys and event times) into the day''s run of every active campaign with that trigger, within its window and segment';

/*
 * events_enter_campaigns: AFTER INSERT ... FOR EACH STATEMENT on events.
 * One row per customer and basket (an event without a basket is its own)
 * of the statement's fresh purchases.
 */
CREATE OR REPLACE FUNCTION recgen.events_enter_campaigns() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    w interval;
    ids bigint[];
    keys text[];
    times timestamptz[];
BEGIN
    SELECT max(c.trigger_window) INTO w FROM recgen.campaigns c WHERE c.active AND c.trigger = 'purchase';
    IF w IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT array_agg(b.customer_id), array_agg(b.k), array_agg(b.t) INTO ids, keys, times
      FROM (SELECT n.customer_id, 'purchase:' || coalesce(n.basket_id, 'event-' || n.event_id) AS k,
                   max(n.occurred_at) AS t
              FROM new_events n
             WHERE n.kind = 'purchase' AND n.occurred_at > now() - w
             GROUP BY 1, 2) b;
    IF ids IS NOT NULL THEN
        PERFORM recgen.campaign_trigger_enter('purchase', ids, keys, times);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION recgen.events_enter_campaigns() IS
    'Statement trigger on recgen.events: fresh purchases enter the active purchase campaigns (one entry per customer and basket)';
CREATE OR REPLACE TRIGGER events_enter_campaigns AFTER INSERT ON recgen.events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION recgen.events_enter_campaigns();

/*
 * customers_enter_campaigns: AFTER INSERT ... FOR EACH STATEMENT on
 * customers: fresh sign-ups (created_at within the window) enter the
 * active signup campaigns.
 */
CREATE OR REPLACE FUNCTION recgen.customers_enter_campaigns() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    w interval;
    ids bigint[];
    keys text[];
    times timestamptz[];
BEGIN
    SELECT max(c.trigger_window) INTO w FROM recgen.campaigns c WHERE c.active AND c.trigger = 'signup';
    IF w IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT array_agg(n.customer_id), array_agg('signup'::text), array_agg(n.created_at) INTO ids, keys, times
      FROM new_customers n WHERE n.created_at > now() - w;
    IF ids IS NOT NULL THEN
        PERFORM recgen.campaign_trigger_enter('signup', ids, keys, times);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION recgen.customers_enter_campaigns() IS
    'Statement trigger on recgen.customers: fresh sign-ups enter the active signup campaigns';
CREATE OR REPLACE TRIGGER customers_enter_campaigns AFTER INSERT ON recgen.customers
    REFERENCING NEW TABLE AS new_customers
    FOR EACH STATEMENT EXECUTE FUNCTION recgen.customers_enter_campaigns();

REVOKE ALL ON FUNCTION recgen.campaign_run_start(bigint, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recgen.campaign_run_segment(bigint, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recgen.campaign_enter(bigint, bigint[], text[], timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION recgen.campaign_trigger_enter(text, bigint[], text[], timestamptz[]) FROM PUBLIC;
