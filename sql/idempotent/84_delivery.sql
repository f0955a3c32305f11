/*
 * Delivery: campaign content POSTed to webhook endpoints, signed the
 * Standard Webhooks way, retried for hours, every attempt recorded.
 * docs/campaigns.md ("Delivery").
 *
 * One recgen.deliveries row per content and endpoint holds the exact body
 * and the webhook-id, both the same on every attempt, so a receiver that
 * keeps the ids it has seen processes each content once. Each attempt is
 * a 'webhook' job: delivery_request() (a short transaction) re-checks the
 * endpoint and the customer's consent, records the attempt and returns
 * the signed request; the worker POSTs it with no transaction open;
 * delivery_result() (another short transaction) records the answer and
 * decides: 2xx delivered; 410 disables the endpoint; 5xx, 408, 429, a
 * timeout or a connection error retry after the endpoint's
 * retry_schedule (or the Retry-After, when longer) as a new job; anything
 * else, or the schedule exhausted, fails. recgen.redeliver() replays one.
 *
 * Signature (Standard Webhooks v1): webhook-signature is "v1," and the
 * base64 of HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")
 * where key is the base64-decoded part of the secret after "whsec_". The
 * timestamp is the attempt's (receivers reject old ones), so the
 * signature changes between attempts; the id and the body do not.
 *
 * Who may do what: admins create endpoints and read their secrets;
 * analysts see an endpoint's name and state but neither its URL nor its
 * secret, and cannot change either; nobody but these functions writes
 * deliveries.
 */

CREATE OR REPLACE FUNCTION recgen.hmac_sha256(key bytea, message bytea)
RETURNS bytea
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'recgen_hmac_sha256';
COMMENT ON FUNCTION recgen.hmac_sha256(bytea, bytea) IS
    'HMAC-SHA256 of a message under a key (PostgreSQL''s own HMAC, OpenSSL underneath)';

CREATE OR REPLACE FUNCTION recgen.webhook_secret()
RETURNS text
LANGUAGE c VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'recgen_webhook_secret';
COMMENT ON FUNCTION recgen.webhook_secret() IS
    'A new Standard Webhooks signing secret: whsec_ and the base64 of 32 strong random bytes';

/*
 * webhook_signature: the webhook-signature header value of a message.
 */
CREATE OR REPLACE FUNCTION recgen.webhook_signature(secret text, webhook_id text, webhook_timestamp bigint, body text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'v1,' || encode(recgen.hmac_sha256(decode(substr(secret, 7), 'base64'),
                                              convert_to(webhook_id || '.' || webhook_timestamp || '.' || body, 'UTF8')),
                           'base64')
$$;
COMMENT ON FUNCTION recgen.webhook_signature(text, text, bigint, text) IS
    'Standard Webhooks v1 signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body" under the decoded whsec_ secret>';
REVOKE ALL ON FUNCTION recgen.webhook_signature(text, text, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.webhook_signature(text, text, bigint, text) TO recgen_admin;

/*
 * webhook_endpoints_check: a missing secret is generated; a given one must
 * decode to 24 to 64 bytes. Changing the URL or the secret, or turning an
 * endpoint active again, clears a 410's disabling.
 */
CREATE OR REPLACE FUNCTION recgen.webhook_endpoints_check() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    IF NEW.url IS NULL OR NEW.url !~* '^https?://[^/?#@[:space:]]+([/?#][^[:space:]]*)?$' THEN
        RAISE EXCEPTION 'a webhook URL must be an http:// or https:// URL with a host and no user name'
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.secret IS NULL THEN
        NEW.secret := recgen.webhook_secret();
    END IF;
    BEGIN
        n := length(decode(substr(NEW.secret, 7), 'base64'));
    EXCEPTION WHEN invalid_parameter_value THEN
        n := -1;
    END;
    IF NEW.secret NOT LIKE 'whsec\_%' OR n NOT BETWEEN 24 AND 64 THEN
        RAISE EXCEPTION 'a webhook secret must be whsec_ followed by the base64 of 24 to 64 bytes'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave the secret out and recgen generates one (recgen.webhook_secret()).';
    END IF;
    IF TG_OP = 'UPDATE' AND (NEW.url IS DISTINCT FROM OLD.url OR NEW.secret IS DISTINCT FROM OLD.secret
                             OR (NEW.active AND NOT OLD.active)) THEN
        NEW.disabled_at := NULL;
        NEW.disabled_reason := NULL;
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION recgen.webhook_endpoints_check() IS
    'Trigger: generates a missing webhook secret, checks a given one, clears the disabling when the URL or secret changes or the endpoint is activated again';
CREATE OR REPLACE TRIGGER webhook_endpoints_check BEFORE INSERT OR UPDATE ON recgen.webhook_endpoints
    FOR EACH ROW EXECUTE FUNCTION recgen.webhook_endpoints_check();

/*
 * delivery_body: the JSON body of a content's delivery, Standard Webhooks
 * style {type, timestamp, data}. data has the content as stored, its
 * products, the campaign, run and variant, and the customer's id and
 * external reference (the downstream tool's key), never an e-mail address
 * or phone number.
 */
CREATE OR REPLACE FUNCTION recgen.delivery_body(customer_id bigint, content_id bigint)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object(
        'type', 'content.created',
        'timestamp', to_char(ct.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'data', jsonb_strip_nulls(jsonb_build_object(
            'content_id', ct.content_id,
            'customer_id', ct.customer_id,
            'external_ref', cu.external_ref,
            'locale', cu.locale,
            'campaign', ct.campaign,
            'run_id', e.run_id,
            'variant', e.variant,
            'kind', ct.kind,
            'channel', coalesce(ct.channel, e.channel),
            'tone', ct.tone,
            'verdict', ct.verdict,
            'created_at', to_char(ct.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'subject', ct.output ->> 'subject',
            'preheader', ct.output ->> 'preheader',
            'body', ct.output ->> 'body',
            'cta', ct.output ->> 'cta',
            'text', ct.output ->> 'text',
            'products', (SELECT coalesce(jsonb_agg(jsonb_build_object('product_id', p.product_id, 'sku', p.sku,
                                                                      'name', p.name, 'price', p.price,
                                                                      'currency', p.currency) ORDER BY u.ord), '[]')
                           FROM unnest(ct.product_ids) WITH ORDINALITY u(pid, ord)
                           JOIN recgen.products p ON p.product_id = u.pid))))::text
      FROM recgen.content ct
      LEFT JOIN recgen.customers cu ON cu.customer_id = ct.customer_id
      LEFT JOIN recgen.campaign_entries e ON e.customer_id = ct.customer_id AND e.content_id = ct.content_id
     WHERE ct.customer_id = delivery_body.customer_id AND ct.content_id = delivery_body.content_id
$$;
COMMENT ON FUNCTION recgen.delivery_body(bigint, bigint) IS
    'JSON body of a content''s webhook delivery: {type: content.created, timestamp, data: content, products, campaign, run, variant, customer id and external_ref}; no e-mail address or phone number';

/*
 * delivery_enqueue: the job of a delivery's next attempt.
 */
CREATE OR REPLACE FUNCTION recgen.delivery_enqueue(customer_id bigint, delivery_id bigint, run_at timestamptz, tag text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    jid bigint;
BEGIN
    jid := recgen.enqueue('webhook', jsonb_build_object('delivery_id', delivery_id),
                          customer_id, 0, run_at, format('webhook:%s:%s', delivery_id, tag), 3);
    UPDATE recgen.deliveries d SET job_id = jid, next_attempt_at = run_at, updated_at = now()
     WHERE d.customer_id = delivery_enqueue.customer_id AND d.delivery_id = delivery_enqueue.delivery_id;
    RETURN jid;
END
$$;
COMMENT ON FUNCTION recgen.delivery_enqueue(bigint, bigint, timestamptz, text) IS
    'Queues the webhook job of a delivery''s next attempt (unique per delivery and tag)';

/*
 * delivery_create: a content's delivery to an endpoint, created once
 * (again: the existing one), its first attempt queued.
 */
CREATE OR REPLACE FUNCTION recgen.delivery_create(customer_id bigint, content_id bigint, endpoint text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    did bigint;
    b text := recgen.delivery_body(customer_id, content_id);
BEGIN
    IF b IS NULL THEN
        RAISE EXCEPTION 'content % of customer % does not exist', content_id, customer_id
            USING ERRCODE = 'no_data_found';
    END IF;
    INSERT INTO recgen.deliveries AS d (customer_id, content_id, endpoint, body)
    VALUES (customer_id, content_id, endpoint, b)
    ON CONFLICT ON CONSTRAINT deliveries_customer_id_content_id_endpoint_key DO NOTHING
    RETURNING d.delivery_id INTO did;
    IF did IS NULL THEN
        SELECT d.delivery_id INTO STRICT did FROM recgen.deliveries d
         WHERE d.customer_id = delivery_create.customer_id AND d.content_id = delivery_create.content_id
           AND d.endpoint = delivery_create.endpoint;
        RETURN did;
    END IF;
    PERFORM recgen.delivery_enqueue(customer_id, did, now(), '1');
    RETURN did;
END
$$;
COMMENT ON FUNCTION recgen.delivery_create(bigint, bigint, text) IS
    'Creates the delivery of a content to a webhook endpoint (once) and queues its first attempt; returns the delivery id';

/*
 * leased_job_payload_id: the id a running job of a kind carries in its
 * payload, when the calling backend is the worker holding the job's
 * lease; an error otherwise. The SECURITY DEFINER steps of recgen's job
 * kinds call it first, so no other session (a member of recgen_worker
 * included) can drive them with made-up answers.
 */
CREATE OR REPLACE FUNCTION recgen.leased_job_payload_id(job_id bigint, kind text, field text)
RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    id bigint;
BEGIN
    SELECT (j.payload ->> field)::bigint INTO id FROM recgen.jobs j
     WHERE j.job_id = leased_job_payload_id.job_id AND j.kind = leased_job_payload_id.kind
       AND j.state = 'running' AND j.leased_by = pg_backend_pid();
    IF id IS NULL THEN
        RAISE EXCEPTION 'job % is not a running % job of this worker', job_id, kind
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Only the background worker holding a job''s lease runs its steps.';
    END IF;
    RETURN id;
END
$$;
COMMENT ON FUNCTION recgen.leased_job_payload_id(bigint, text, text) IS
    'The id in a payload field of a running job of a kind, when the caller is the worker holding its lease; an error otherwise';

/*
 * delivery_quiet_until: when a delivery attempt must wait for the end of
 * the customer's quiet hours: the content's campaign does not ignore them
 * (recgen.campaigns.quiet_hours hold or skip) and "at" falls inside those
 * of its channel in the customer's time zone; NULL otherwise (content of no
 * campaign, or outside the quiet hours). hold and skip decided whether the
 * content was generated; a content generated is never dropped for quiet
 * hours, only its delivery postponed.
 */
CREATE OR REPLACE FUNCTION recgen.delivery_quiet_until(customer_id bigint, content_id bigint,
                                                       at timestamptz DEFAULT now())
RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT recgen.quiet_until(ca.channel, recgen.customer_time_zone(cu.country, cu.locale, cu.attributes), at)
      FROM recgen.content ct
      JOIN recgen.campaigns ca ON ca.name = ct.campaign
      JOIN recgen.customers cu ON cu.customer_id = ct.customer_id
     WHERE ct.customer_id = delivery_quiet_until.customer_id AND ct.content_id = delivery_quiet_until.content_id
       AND ca.quiet_hours <> 'ignore'
$$;
COMMENT ON FUNCTION recgen.delivery_quiet_until(bigint, bigint, timestamptz) IS
    'When the quiet hours of the customer end, if a delivery attempt of the content at that time falls inside them and its campaign does not ignore them; NULL otherwise';

/*
 * delivery_request: start the next attempt of a delivery, for the worker.
 * Returns {attempt, url, timeout_ms, headers, body}, or {skip: reason}
 * when there is nothing to send (delivered, failed, disabled, no
 * consent). The attempt is recorded before anything is sent; an attempt
 * of a worker that stopped before recording its answer is marked so.
 */
CREATE OR REPLACE FUNCTION recgen.delivery_request(job_id bigint)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d recgen.deliveries;
    ep recgen.webhook_endpoints;
    ts bigint := floor(extract(epoch FROM clock_timestamp()))::bigint;
    n integer;
    quiet timestamptz;
BEGIN
    SELECT * INTO d FROM recgen.deliveries dd
     WHERE dd.delivery_id = recgen.leased_job_payload_id(delivery_request.job_id, 'webhook', 'delivery_id') FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('skip', 'the delivery no longer exists');
    END IF;
    IF d.state NOT IN ('pending', 'retrying') THEN
        RETURN jsonb_build_object('skip', 'the delivery is ' || d.state);
    END IF;
    -- an attempt that never got its answer recorded (the worker stopped)
    UPDATE recgen.delivery_attempts a SET error = 'no answer recorded: the worker stopped during the attempt'
     WHERE a.customer_id = d.customer_id AND a.delivery_id = d.delivery_id AND a.attempt = d.attempts
       AND a.http_status IS NULL AND a.error = 'in flight';

    SELECT * INTO ep FROM recgen.webhook_endpoints w WHERE w.name = d.endpoint;
    IF NOT ep.active THEN
        UPDATE recgen.deliveries dd SET state = 'disabled', next_attempt_at = NULL, updated_at = now(),
               last_error = coalesce('endpoint disabled: ' || ep.disabled_reason, 'endpoint inactive')
         WHERE dd.customer_id = d.customer_id AND dd.delivery_id = d.delivery_id;
        RETURN jsonb_build_object('skip', 'the endpoint is not active');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM recgen.customers c WHERE c.customer_id = d.customer_id
                    AND c.consent_marketing AND c.consent_profiling) THEN
        UPDATE recgen.deliveries dd SET state = 'failed', next_attempt_at = NULL, updated_at = now(),
               last_error = 'not sent: the customer no longer consents to marketing (or was erased)'
         WHERE dd.customer_id = d.customer_id AND dd.delivery_id = d.delivery_id;
        RETURN jsonb_build_object('skip', 'no consent');
    END IF;

    -- no attempt inside the customer's quiet hours (a retry hours after a
    -- 5xx, say), except a manual replay (recgen.redeliver): postponed, the
    -- same attempt, to when they end
    quiet := recgen.delivery_quiet_until(d.customer_id, d.content_id, now());
    IF quiet IS NOT NULL AND NOT EXISTS (SELECT 1 FROM recgen.jobs j
                                          WHERE j.job_id = delivery_request.job_id AND j.unique_key LIKE '%:replay-%') THEN
        UPDATE recgen.deliveries dd SET last_error = format('postponed: quiet hours of the customer until %s', quiet),
               updated_at = now()
         WHERE dd.customer_id = d.customer_id AND dd.delivery_id = d.delivery_id;
        PERFORM recgen.delivery_enqueue(d.customer_id, d.delivery_id, quiet,
                                        format('%s-after-quiet-%s', d.attempts + 1, extract(epoch FROM quiet)::bigint));
        RETURN jsonb_build_object('skip', 'quiet hours', 'postponed_until', quiet);
    END IF;

    n := d.attempts + 1;
    INSERT INTO recgen.delivery_attempts (customer_id, delivery_id, attempt, error)
    VALUES (d.customer_id, d.delivery_id, n, 'in flight')
    ON CONFLICT (customer_id, delivery_id, attempt) DO UPDATE SET attempted_at = now(), error = 'in flight';
    UPDATE recgen.deliveries dd SET attempts = n, updated_at = now()
     WHERE dd.customer_id = d.customer_id AND dd.delivery_id = d.delivery_id;
    RETURN jsonb_build_object(
        'attempt', n,
        'url', ep.url,
        'timeout_ms', (extract(epoch FROM ep.timeout) * 1000)::integer,
        'headers', jsonb_build_object(
            'content-type', 'application/json',
            'webhook-id', d.webhook_id,
            'webhook-timestamp', ts::text,
            'webhook-signature', recgen.webhook_signature(ep.secret, d.webhook_id, ts, d.body)),
        'body', d.body);
END
$$;
COMMENT ON FUNCTION recgen.delivery_request(bigint) IS
    'For the worker running a webhook job (by job id; only the worker holding its lease may call it): records the next attempt of a delivery and returns the signed request ({attempt, url, timeout_ms, headers, body}), or {skip: reason} when the delivery is settled, the endpoint inactive or consent withdrawn, or the attempt postponed to the end of the customer''s quiet hours (not for a replay)';

/*
 * delivery_result: the answer to an attempt (status NULL: none came, with
 * the error), and what follows. Returns {state, next_attempt_at}.
 */
CREATE OR REPLACE FUNCTION recgen.delivery_result(job_id bigint, attempt integer, http_status integer,
                                                  error text, duration_ms double precision,
                                                  retry_after_s integer DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d recgen.deliveries;
    ep recgen.webhook_endpoints;
    st text;
    wait interval;
    next_at timestamptz;
    err text;
BEGIN
    SELECT * INTO d FROM recgen.deliveries dd
     WHERE dd.delivery_id = recgen.leased_job_payload_id(delivery_result.job_id, 'webhook', 'delivery_id') FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('state', 'gone');
    END IF;
    IF d.attempts <> attempt OR d.state NOT IN ('pending', 'retrying') THEN
        -- a late answer of an attempt that was superseded: record it only
        UPDATE recgen.delivery_attempts a SET http_status = delivery_result.http_status,
               error = delivery_result.error, duration_ms = delivery_result.duration_ms
         WHERE a.customer_id = d.customer_id AND a.delivery_id = d.delivery_id AND a.attempt = delivery_result.attempt;
        RETURN jsonb_build_object('state', d.state);
    END IF;
    SELECT * INTO ep FROM recgen.webhook_endpoints w WHERE w.name = d.endpoint;
    err := CASE WHEN http_status BETWEEN 200 AND 299 THEN NULL
                WHEN http_status IS NOT NULL THEN coalesce(error, format('the endpoint answered %s', http_status))
                ELSE coalesce(error, 'no answer') END;
    UPDATE recgen.delivery_attempts a
       SET http_status = delivery_result.http_status, error = err, duration_ms = delivery_result.duration_ms,
           retry_after = make_interval(secs => retry_after_s)
     WHERE a.customer_id = d.customer_id AND a.delivery_id = d.delivery_id AND a.attempt = delivery_result.attempt;

    IF http_status BETWEEN 200 AND 299 THEN
        st := 'delivered';
    ELSIF http_status = 410 THEN
        st := 'disabled';
        UPDATE recgen.webhook_endpoints w SET active = false, disabled_at = now(),
               disabled_reason = format('answered 410 Gone to delivery %s', d.delivery_id)
         WHERE w.name = d.endpoint;
        UPDATE recgen.deliveries dd SET state = 'disabled', next_attempt_at = NULL, updated_at = now(),
               last_error = 'endpoint disabled: it answered 410 Gone'
         WHERE dd.endpoint = d.endpoint AND dd.state IN ('pending', 'retrying') AND dd.delivery_id <> d.delivery_id;
    ELSIF http_status IS NULL OR http_status IN (408, 429) OR http_status >= 500 THEN
        IF attempt <= cardinality(ep.retry_schedule) THEN
            st := 'retrying';
            wait := greatest(ep.retry_schedule[attempt], make_interval(secs => coalesce(retry_after_s, 0)));
            wait := least(wait, interval '2 days');
            next_at := now() + wait;
        ELSE
            st := 'failed';
            err := err || format(' (after %s attempts)', attempt);
        END IF;
    ELSE
        st := 'failed';             -- the receiver refused it: retrying would not help
    END IF;

    UPDATE recgen.deliveries dd
       SET state = st, last_status = http_status, last_error = err, next_attempt_at = next_at,
           delivered_at = CASE WHEN st = 'delivered' THEN now() END, updated_at = now()
     WHERE dd.customer_id = d.customer_id AND dd.delivery_id = d.delivery_id;
    IF st = 'retrying' THEN
        PERFORM recgen.delivery_enqueue(d.customer_id, d.delivery_id, next_at, (attempt + 1)::text);
    END IF;
    RETURN jsonb_build_object('state', st, 'next_attempt_at', next_at);
END
$$;
COMMENT ON FUNCTION recgen.delivery_result(bigint, integer, integer, text, double precision, integer) IS
    'For the worker running a webhook job (by job id; only the worker holding its lease may call it): records the answer of an attempt (HTTP status or NULL with the error) and moves the delivery on: delivered, disabled (410: the endpoint too), retrying (next attempt queued) or failed';

/*
 * redeliver: a manual replay of a delivery (any state), with the same
 * webhook-id and body. Returns the job id of the new attempt.
 */
CREATE OR REPLACE FUNCTION recgen.redeliver(delivery_id bigint)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d recgen.deliveries;
BEGIN
    SELECT * INTO d FROM recgen.deliveries dd WHERE dd.delivery_id = redeliver.delivery_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'delivery % does not exist', delivery_id USING ERRCODE = 'no_data_found';
    END IF;
    IF NOT (SELECT w.active FROM recgen.webhook_endpoints w WHERE w.name = d.endpoint) THEN
        RAISE EXCEPTION 'webhook endpoint "%" is not active', d.endpoint
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'UPDATE recgen.webhook_endpoints SET active = true (after fixing it) first.';
    END IF;
    UPDATE recgen.deliveries dd SET state = 'pending', delivered_at = NULL, updated_at = now()
     WHERE dd.customer_id = d.customer_id AND dd.delivery_id = d.delivery_id;
    RETURN recgen.delivery_enqueue(d.customer_id, d.delivery_id, now(), 'replay-' || (d.attempts + 1));
END
$$;
COMMENT ON FUNCTION recgen.redeliver(bigint) IS
    'Replays a delivery now (same webhook-id and body): back to pending and a new attempt queued; returns its job id';

CREATE OR REPLACE FUNCTION recgen.http_action(requests jsonb)
RETURNS jsonb
LANGUAGE c VOLATILE STRICT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'recgen_http_action';
COMMENT ON FUNCTION recgen.http_action(jsonb) IS
    'Internal: sends the POST requests of a job''s http action ([{url, headers, body, timeout_ms}]) once each and returns [{status, error, duration_ms, retry_after_s}]; callable only by the extension owner';
REVOKE ALL ON FUNCTION recgen.http_action(jsonb) FROM PUBLIC;

/*
 * webhook_ping: a signed test message ({"type": "recgen.ping"}) to an
 * endpoint, sent now, synchronously: what an admin runs after setting up
 * the receiver. Records no delivery.
 */
CREATE OR REPLACE FUNCTION recgen.webhook_ping(endpoint text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ep recgen.webhook_endpoints;
    id text := 'msg_ping_' || replace(gen_random_uuid()::text, '-', '');
    ts bigint := floor(extract(epoch FROM clock_timestamp()))::bigint;
    body text := jsonb_build_object('type', 'recgen.ping', 'timestamp',
                                    to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                    'data', jsonb_build_object('endpoint', endpoint))::text;
BEGIN
    SELECT * INTO ep FROM recgen.webhook_endpoints w WHERE w.name = webhook_ping.endpoint;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'webhook endpoint "%" does not exist', endpoint USING ERRCODE = 'undefined_object';
    END IF;
    RETURN jsonb_build_object('webhook_id', id) || (recgen.http_action(jsonb_build_array(jsonb_build_object(
        'url', ep.url, 'timeout_ms', (extract(epoch FROM ep.timeout) * 1000)::integer, 'body', body,
        'headers', jsonb_build_object('webhook-id', id, 'webhook-timestamp', ts::text,
                                      'webhook-signature', recgen.webhook_signature(ep.secret, id, ts, body))))) -> 0);
END
$$;
COMMENT ON FUNCTION recgen.webhook_ping(text) IS
    'Sends a signed test message ({"type": "recgen.ping"}) to a webhook endpoint now and returns {webhook_id, status, error, duration_ms}; records no delivery. recgen_admin';
REVOKE ALL ON FUNCTION recgen.webhook_ping(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.webhook_ping(text) TO recgen_admin;

GRANT SELECT, INSERT, UPDATE, DELETE ON recgen.webhook_endpoints TO recgen_admin;
GRANT SELECT (name, active, timeout, retry_schedule, disabled_at, disabled_reason, created_at, updated_at)
    ON recgen.webhook_endpoints TO recgen_analyst;
GRANT SELECT ON recgen.deliveries, recgen.delivery_attempts TO recgen_admin, recgen_analyst, recgen_worker;
DROP POLICY IF EXISTS admin_all ON recgen.deliveries;
CREATE POLICY admin_all ON recgen.deliveries FOR SELECT TO recgen_admin USING (true);
DROP POLICY IF EXISTS consented_profiling ON recgen.deliveries;
CREATE POLICY consented_profiling ON recgen.deliveries FOR SELECT TO recgen_analyst, recgen_worker
    USING (recgen.profiling_allowed(customer_id));
DROP POLICY IF EXISTS admin_all ON recgen.delivery_attempts;
CREATE POLICY admin_all ON recgen.delivery_attempts FOR SELECT TO recgen_admin USING (true);
DROP POLICY IF EXISTS consented_profiling ON recgen.delivery_attempts;
CREATE POLICY consented_profiling ON recgen.delivery_attempts FOR SELECT TO recgen_analyst, recgen_worker
    USING (recgen.profiling_allowed(customer_id));
COMMENT ON POLICY admin_all ON recgen.deliveries IS 'recgen_admin reads every delivery (only recgen''s functions write them)';
COMMENT ON POLICY consented_profiling ON recgen.deliveries IS 'Analysts and workers see deliveries of customers who consented to profiling';
COMMENT ON POLICY admin_all ON recgen.delivery_attempts IS 'recgen_admin reads every attempt';
COMMENT ON POLICY consented_profiling ON recgen.delivery_attempts IS 'Analysts and workers see attempts of customers who consented to profiling';
REVOKE ALL ON FUNCTION recgen.leased_job_payload_id(bigint, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recgen.delivery_body(bigint, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION recgen.delivery_quiet_until(bigint, bigint, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION recgen.delivery_enqueue(bigint, bigint, timestamptz, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recgen.delivery_create(bigint, bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recgen.delivery_request(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION recgen.delivery_result(bigint, integer, integer, text, double precision, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION recgen.redeliver(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.delivery_request(bigint) TO recgen_worker;
GRANT EXECUTE ON FUNCTION recgen.delivery_result(bigint, integer, integer, text, double precision, integer) TO recgen_worker;
GRANT EXECUTE ON FUNCTION recgen.redeliver(bigint) TO recgen_admin;
REVOKE ALL ON FUNCTION recgen.webhook_secret() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.webhook_secret() TO recgen_admin;
