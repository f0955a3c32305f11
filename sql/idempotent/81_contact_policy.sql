/*
 * Contact policy, across campaigns: who may be contacted now, and if not,
 * why. docs/campaigns.md.
 *
 * recgen.contact_check() is the one place that decides. It is called when
 * a customer enters a campaign (run_campaign, the triggers, the
 * inactivity scan) and again when the job runs, just before generation,
 * because consent can be withdrawn and other campaigns can reach the
 * customer in between. Reasons, in the order they are checked:
 *   no_consent   no marketing consent (or the customer is gone)
 *   reentry      entered this campaign too often, or too recently
 *   capped       a frequency cap of the channel is reached
 *   holdout      (decided by the caller, from the variant assignment)
 *   quiet_hours  inside the customer's quiet hours: held until they end
 *                (campaign quiet_hours = 'hold') or skipped ('skip')
 * What counts as a contact: an entry that is generating or generated
 * (sent_at), on the channel, within the cap's period.
 *
 * The checks at run time take a per-customer advisory lock
 * (recgen.lock_customer) so two jobs of one customer cannot both pass a
 * cap of one; recgen.forget_customer takes the same lock.
 */

/*
 * customer_time_zone: the customer's time zone: attributes->>'time_zone'
 * when it is a valid zone name, else by country, else by the region of
 * the locale (en-GB: GB), else UTC.
 */
CREATE OR REPLACE FUNCTION recgen.customer_time_zone(country text, locale text, attributes jsonb DEFAULT '{}')
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(
        (SELECT z.name FROM pg_catalog.pg_timezone_names z WHERE z.name = $3 ->> 'time_zone'),
        (SELECT t.time_zone FROM recgen.time_zones t WHERE lower(t.country) = lower(btrim($1)) LIMIT 1),
        (SELECT t.time_zone FROM recgen.time_zones t
          WHERE t.country = upper(split_part(replace($2, '_', '-'), '-', 2))),
        'UTC')
$$;
COMMENT ON FUNCTION recgen.customer_time_zone(text, text, jsonb) IS
    'Time zone of a customer: attributes.time_zone if valid, else recgen.time_zones by country, else by the locale''s region code, else UTC';

/*
 * quiet_until: NULL when "at" is outside the quiet hours of the channel in
 * the time zone, else the moment they end there.
 */
CREATE OR REPLACE FUNCTION recgen.quiet_until(channel text, time_zone text, at timestamptz DEFAULT now())
RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    q recgen.quiet_hours;
    local timestamp := at AT TIME ZONE time_zone;
    t time := local::time;
BEGIN
    SELECT * INTO q FROM recgen.quiet_hours h WHERE h.channel IN (quiet_until.channel, '*')
     ORDER BY h.channel = '*' LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF q.starts < q.ends THEN           -- within one day, e.g. 12:00-14:00
        IF t >= q.starts AND t < q.ends THEN
            RETURN (local::date + q.ends) AT TIME ZONE time_zone;
        END IF;
    ELSIF t >= q.starts THEN            -- spans midnight, evening part
        RETURN (local::date + 1 + q.ends) AT TIME ZONE time_zone;
    ELSIF t < q.ends THEN               -- spans midnight, morning part
        RETURN (local::date + q.ends) AT TIME ZONE time_zone;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION recgen.quiet_until(text, text, timestamptz) IS
    'When the quiet hours (recgen.quiet_hours) of a channel end in a time zone, if the given time falls inside them; NULL otherwise';

/*
 * lock_customer: a transaction-scoped advisory lock for one customer,
 * taken by the contact checks at run time and by forget_customer.
 */
CREATE OR REPLACE FUNCTION recgen.lock_customer(customer_id bigint) RETURNS void
LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_advisory_xact_lock(7106737, hashint8(customer_id))
$$;
COMMENT ON FUNCTION recgen.lock_customer(bigint) IS
    'Takes a transaction advisory lock for a customer (class 7106737): serializes contact checks and erasure of one customer';

/*
 * contact_check: why a customer may not be contacted by a campaign at a
 * time (reason and a detail line), or may (reason NULL). hold_until is
 * set for quiet hours with the hold policy. exclude_entry is the entry
 * being checked itself, which must not count against its own cap.
 */
CREATE OR REPLACE FUNCTION recgen.contact_check(customer_id bigint, campaign_id bigint,
                                                at timestamptz DEFAULT now(), exclude_entry bigint DEFAULT NULL,
                                                OUT reason text, OUT detail text, OUT hold_until timestamptz)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cu record;
    ca recgen.campaigns;
    cap recgen.frequency_caps;
    n bigint;
    last_entry timestamptz;
    until timestamptz;
BEGIN
    SELECT * INTO ca FROM recgen.campaigns c WHERE c.campaign_id = contact_check.campaign_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'campaign % does not exist', campaign_id USING ERRCODE = 'undefined_object';
    END IF;
    SELECT c.consent_marketing, c.consent_profiling, c.country, c.locale, c.attributes INTO cu
      FROM recgen.customers c WHERE c.customer_id = contact_check.customer_id;
    IF NOT FOUND OR NOT cu.consent_marketing OR NOT cu.consent_profiling THEN
        reason := 'no_consent';
        detail := CASE WHEN NOT FOUND THEN 'the customer does not exist (or is not visible)'
                       WHEN NOT cu.consent_profiling THEN 'no consent to profiling'
                       ELSE 'no consent to marketing' END;
        RETURN;
    END IF;

    IF ca.reentry_limit IS NOT NULL OR ca.reentry_after IS NOT NULL THEN
        SELECT count(*), max(e.entered_at) INTO n, last_entry
          FROM recgen.campaign_entries e
         WHERE e.customer_id = contact_check.customer_id AND e.campaign_id = ca.campaign_id
           AND e.entry_id IS DISTINCT FROM exclude_entry
           AND (e.state IN ('queued', 'waiting', 'generating', 'generated') OR e.reason = 'holdout');
        IF n >= ca.reentry_limit THEN
            reason := 'reentry';
            detail := format('already entered %s time(s); the campaign allows %s', n, ca.reentry_limit);
            RETURN;
        END IF;
        IF last_entry > at - ca.reentry_after THEN
            reason := 'reentry';
            detail := format('entered %s ago; the campaign allows one entry per %s',
                             date_trunc('second', at - last_entry), ca.reentry_after);
            RETURN;
        END IF;
    END IF;

    FOR cap IN SELECT * FROM recgen.frequency_caps f WHERE f.channel IN (ca.channel, '*') ORDER BY f.per LOOP
        SELECT count(*) INTO n FROM recgen.campaign_entries e
         WHERE e.customer_id = contact_check.customer_id
           AND e.state IN ('generating', 'generated')
           AND (cap.channel = '*' OR e.channel = cap.channel)
           AND e.sent_at > at - cap.per
           AND e.entry_id IS DISTINCT FROM exclude_entry;
        IF n >= cap.max_contacts THEN
            reason := 'capped';
            detail := format('%s contact(s) on %s in the last %s; the cap is %s',
                             n, CASE WHEN cap.channel = '*' THEN 'all channels' ELSE cap.channel END,
                             cap.per, cap.max_contacts);
            RETURN;
        END IF;
    END LOOP;

    IF ca.quiet_hours <> 'ignore' THEN
        until := recgen.quiet_until(ca.channel, recgen.customer_time_zone(cu.country, cu.locale, cu.attributes), at);
        IF until IS NOT NULL THEN
            reason := 'quiet_hours';
            detail := format('quiet hours in %s until %s local time',
                             recgen.customer_time_zone(cu.country, cu.locale, cu.attributes),
                             to_char(until AT TIME ZONE recgen.customer_time_zone(cu.country, cu.locale, cu.attributes), 'HH24:MI'));
            IF ca.quiet_hours = 'hold' THEN
                hold_until := until;
            END IF;
            RETURN;
        END IF;
    END IF;
END
$$;
COMMENT ON FUNCTION recgen.contact_check(bigint, bigint, timestamptz, bigint) IS
    'Whether a campaign may contact a customer at a time: reason NULL, or no_consent, reentry, capped or quiet_hours (with hold_until when the campaign holds until morning), and a detail line';
REVOKE ALL ON FUNCTION recgen.contact_check(bigint, bigint, timestamptz, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.contact_check(bigint, bigint, timestamptz, bigint) TO recgen_admin, recgen_analyst, recgen_worker;
REVOKE ALL ON FUNCTION recgen.lock_customer(bigint) FROM PUBLIC;
