/*
 * What the marketing team and BI tools read: progress per run (and its
 * NOTIFY), the latest content per customer and campaign, quality per
 * variant and outcomes with lift over the holdout. Flat views, one row per
 * thing, columns documented with COMMENT. docs/campaigns.md.
 *
 * The views run with the reader's rights (security_invoker), so an analyst
 * sees, and aggregates, only customers who consented to profiling.
 */

CREATE OR REPLACE FUNCTION recgen.two_proportion_p(x1 bigint, n1 bigint, x2 bigint, n2 bigint)
RETURNS double precision
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'recgen_two_proportion_p';
COMMENT ON FUNCTION recgen.two_proportion_p(bigint, bigint, bigint, bigint) IS
    'Two-sided p-value of the pooled two-proportion z-test of x1 of n1 against x2 of n2 (NULL when undefined)';

-- progress ---------------------------------------------------------------------

CREATE OR REPLACE VIEW recgen.campaign_progress WITH (security_invoker = true) AS
SELECT c.name AS campaign,
       r.run_id AS run,
       r.run_key,
       r.source,
       r.model,
       r.started_at,
       s.entries,
       s.queued,
       s.waiting,
       s.running,
       s.done,
       s.failed,
       s.held,
       s.holdout,
       s.capped,
       s.quiet_hours,
       s.no_consent,
       s.reentry,
       coalesce(dl.delivered, 0) AS delivered,
       coalesce(dl.delivering, 0) AS delivering,
       coalesce(dl.delivery_failed, 0) AS delivery_failed,
       coalesce(tk.prompt_tokens, 0) AS prompt_tokens,
       coalesce(tk.completion_tokens, 0) AS completion_tokens,
       round((coalesce(tk.prompt_tokens, 0) * mp.prompt_per_million
              + coalesce(tk.completion_tokens, 0) * mp.completion_per_million) / 1e6, 6) AS estimated_cost,
       mp.currency,
       s.done_last_5min / 5.0 AS per_minute,
       CASE WHEN s.queued + s.running = 0 THEN interval '0'
            WHEN s.done_last_5min > 0
            THEN make_interval(secs => round((s.queued + s.running) * 300.0 / s.done_last_5min)) END AS eta,
       s.queued + s.waiting + s.running = 0 AS finished,
       s.last_change
  FROM recgen.campaign_runs r
  JOIN recgen.campaigns c ON c.campaign_id = r.campaign_id
  CROSS JOIN LATERAL (
        SELECT count(*) AS entries,
               count(*) FILTER (WHERE e.state = 'queued' AND NOT x.dead AND NOT x.running) AS queued,
               count(*) FILTER (WHERE e.state = 'waiting' AND NOT x.dead) AS waiting,
               count(*) FILTER (WHERE e.state IN ('queued', 'generating') AND x.running
                                   OR e.state = 'generating' AND NOT x.dead) AS running,
               count(*) FILTER (WHERE e.state = 'generated') AS done,
               count(*) FILTER (WHERE e.state = 'failed' OR e.state IN ('queued', 'waiting', 'generating') AND x.dead) AS failed,
               count(*) FILTER (WHERE e.state = 'held') AS held,
               count(*) FILTER (WHERE e.state = 'held' AND e.reason = 'holdout') AS holdout,
               count(*) FILTER (WHERE e.state = 'held' AND e.reason = 'capped') AS capped,
               count(*) FILTER (WHERE e.reason = 'quiet_hours') AS quiet_hours,
               count(*) FILTER (WHERE e.state = 'held' AND e.reason = 'no_consent') AS no_consent,
               count(*) FILTER (WHERE e.state = 'held' AND e.reason = 'reentry') AS reentry,
               count(*) FILTER (WHERE e.state = 'generated' AND e.sent_at > now() - interval '5 minutes') AS done_last_5min,
               max(e.updated_at) AS last_change
          FROM recgen.campaign_entries e
          LEFT JOIN recgen.jobs j ON j.job_id = e.job_id
          -- an entry whose job ended without finishing it (discarded after its
          -- attempts, cancelled, pruned) failed
          CROSS JOIN LATERAL (SELECT e.job_id IS NOT NULL AND (j.job_id IS NULL OR j.state IN ('discarded', 'cancelled', 'completed')) AS dead,
                                     coalesce(j.state = 'running', false) AS running) x
         WHERE e.run_id = r.run_id) s
  LEFT JOIN LATERAL (
        SELECT sum(ct.prompt_tokens) AS prompt_tokens, sum(ct.completion_tokens) AS completion_tokens
          FROM recgen.campaign_entries e
          JOIN recgen.content ct ON ct.customer_id = e.customer_id AND ct.content_id = e.content_id
         WHERE e.run_id = r.run_id) tk ON true
  LEFT JOIN LATERAL (
        SELECT count(*) FILTER (WHERE d.state = 'delivered') AS delivered,
               count(*) FILTER (WHERE d.state IN ('pending', 'retrying')) AS delivering,
               count(*) FILTER (WHERE d.state IN ('failed', 'disabled')) AS delivery_failed
          FROM recgen.campaign_entries e
          JOIN recgen.deliveries d ON d.customer_id = e.customer_id AND d.content_id = e.content_id
         WHERE e.run_id = r.run_id) dl ON true
  LEFT JOIN recgen.model_prices mp ON mp.model = r.model;
COMMENT ON VIEW recgen.campaign_progress IS
    'One row per campaign run: entries by state (queued, waiting for quiet hours to end, running, done, failed), held back by reason, deliveries, tokens, estimated cost (recgen.model_prices), rate and ETA. LISTEN recgen_progress for the same as JSON while it runs.';
COMMENT ON COLUMN recgen.campaign_progress.run IS 'Run id (recgen.run_campaign returns it)';
COMMENT ON COLUMN recgen.campaign_progress.entries IS 'Customers who entered the run';
COMMENT ON COLUMN recgen.campaign_progress.queued IS 'Entries whose job has not started';
COMMENT ON COLUMN recgen.campaign_progress.waiting IS 'Entries held until the customer''s quiet hours end';
COMMENT ON COLUMN recgen.campaign_progress.running IS 'Entries whose content is being generated';
COMMENT ON COLUMN recgen.campaign_progress.done IS 'Entries with their content generated and stored';
COMMENT ON COLUMN recgen.campaign_progress.failed IS 'Entries that failed for good: nothing to recommend, or their job discarded after its attempts or cancelled (its errors are in recgen.jobs)';
COMMENT ON COLUMN recgen.campaign_progress.held IS 'Entries held back (holdout, capped, quiet_hours with skip, no_consent, reentry)';
COMMENT ON COLUMN recgen.campaign_progress.quiet_hours IS 'Entries that met quiet hours: skipped, or waiting for them to end';
COMMENT ON COLUMN recgen.campaign_progress.delivered IS 'Contents delivered to the webhook endpoint';
COMMENT ON COLUMN recgen.campaign_progress.delivering IS 'Deliveries pending or retrying';
COMMENT ON COLUMN recgen.campaign_progress.delivery_failed IS 'Deliveries failed or disabled';
COMMENT ON COLUMN recgen.campaign_progress.estimated_cost IS 'Tokens times the model''s price (NULL when the model has no row in recgen.model_prices)';
COMMENT ON COLUMN recgen.campaign_progress.per_minute IS 'Contents generated per minute over the last 5 minutes';
COMMENT ON COLUMN recgen.campaign_progress.eta IS 'Time until the queued and running entries are done at that rate (NULL: no rate yet)';
COMMENT ON COLUMN recgen.campaign_progress.finished IS 'Nothing queued, waiting or running';

/*
 * campaign_progress_notify: NOTIFY recgen_progress with a run's progress
 * as JSON, at most once a second per run (force: now, as when a run
 * finishes). The throttle is a timestamp on the run row.
 */
CREATE OR REPLACE FUNCTION recgen.campaign_progress_notify(run_id bigint, force boolean DEFAULT false)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
BEGIN
    UPDATE recgen.campaign_runs r SET notified_at = clock_timestamp()
     WHERE r.run_id = campaign_progress_notify.run_id
       AND (force OR r.notified_at IS NULL OR r.notified_at < clock_timestamp() - interval '1 second');
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    SELECT * INTO p FROM recgen.campaign_progress cp WHERE cp.run = campaign_progress_notify.run_id;
    PERFORM pg_notify('recgen_progress', jsonb_build_object(
        'campaign', p.campaign, 'run', p.run, 'run_key', p.run_key, 'entries', p.entries,
        'queued', p.queued, 'waiting', p.waiting, 'running', p.running, 'done', p.done, 'failed', p.failed,
        'held', p.held, 'delivered', p.delivered, 'tokens', p.prompt_tokens + p.completion_tokens,
        'per_minute', round(p.per_minute, 1), 'eta_seconds', extract(epoch FROM p.eta)::integer,
        'finished', p.finished)::text);
    RETURN true;
END
$$;
COMMENT ON FUNCTION recgen.campaign_progress_notify(bigint, boolean) IS
    'Sends NOTIFY recgen_progress with a run''s progress as JSON, at most once a second per run unless forced; returns whether it did';
REVOKE ALL ON FUNCTION recgen.campaign_progress_notify(bigint, boolean) FROM PUBLIC;

-- latest content ---------------------------------------------------------------

CREATE OR REPLACE VIEW recgen.latest_content WITH (security_invoker = true) AS
SELECT DISTINCT ON (ct.campaign, ct.customer_id)
       ct.campaign,
       ct.customer_id,
       ct.content_id,
       e.run_id,
       e.variant,
       ct.kind,
       coalesce(ct.channel, e.channel) AS channel,
       ct.tone,
       ct.output ->> 'subject' AS subject,
       ct.output ->> 'preheader' AS preheader,
       coalesce(ct.output ->> 'body', ct.output ->> 'text') AS body,
       ct.output ->> 'cta' AS cta,
       ct.product_ids,
       (SELECT array_agg(p.name ORDER BY u.ord) FROM unnest(ct.product_ids) WITH ORDINALITY u(pid, ord)
          JOIN recgen.products p ON p.product_id = u.pid) AS products,
       ct.verdict,
       ct.model,
       ct.created_at,
       d.endpoint,
       d.state AS delivery_state,
       d.attempts AS delivery_attempts,
       d.delivered_at
  FROM recgen.content ct
  LEFT JOIN recgen.campaign_entries e ON e.customer_id = ct.customer_id AND e.content_id = ct.content_id
  LEFT JOIN LATERAL (SELECT * FROM recgen.deliveries dd
                      WHERE dd.customer_id = ct.customer_id AND dd.content_id = ct.content_id
                      ORDER BY dd.delivery_id DESC LIMIT 1) d ON true
 WHERE ct.campaign IS NOT NULL
 ORDER BY ct.campaign, ct.customer_id, ct.created_at DESC, ct.content_id DESC;
COMMENT ON VIEW recgen.latest_content IS
    'The latest content of each customer in each campaign: subject, preheader, body (or the text of a snippet), call to action, products, guard verdict, run, variant and delivery state';
COMMENT ON COLUMN recgen.latest_content.body IS 'The email body, or the text of other kinds';
COMMENT ON COLUMN recgen.latest_content.products IS 'Names of the recommended products, in order';
COMMENT ON COLUMN recgen.latest_content.verdict IS 'pass (the model''s answer passed the guard) or fallback (rendered from the template)';
COMMENT ON COLUMN recgen.latest_content.delivery_state IS 'State of its webhook delivery (NULL: the campaign has no endpoint)';

-- quality ----------------------------------------------------------------------

/*
 * campaign_quality: recgen.evaluate_content (the content-quality measures,
 * sql/idempotent/66_quality.sql) over each campaign's and variant's
 * generated contents, with the guard pass rate, the tail of the LLM time
 * and the estimated cost beside it.
 */
CREATE OR REPLACE VIEW recgen.campaign_quality WITH (security_invoker = true) AS
WITH g AS (
    SELECT e.campaign_id, e.variant,
           array_agg(ct.content_id ORDER BY ct.content_id) AS ids,
           avg((ct.verdict = 'pass')::integer)::double precision AS pass_rate,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY ct.llm_ms) AS p95_llm_ms,
           round(sum(ct.prompt_tokens * mp.prompt_per_million + ct.completion_tokens * mp.completion_per_million) / 1e6, 6)
               AS estimated_cost
      FROM recgen.campaign_entries e
      JOIN recgen.content ct ON ct.customer_id = e.customer_id AND ct.content_id = e.content_id
      LEFT JOIN recgen.model_prices mp ON mp.model = ct.model
     WHERE e.state = 'generated'
     GROUP BY e.campaign_id, e.variant
)
SELECT ca.name AS campaign, g.variant, q.contents, q.first_attempt_pass, g.pass_rate, q.fallback,
       q.personalization, q.products_named, q.all_products_named, q.without_products,
       q.distinct_1, q.distinct_2, q.mean_similarity, q.mean_words, q.min_words, q.max_words,
       q.prompt_tokens, q.completion_tokens, q.llm_ms_per_content, g.p95_llm_ms, g.estimated_cost
  FROM g
  JOIN recgen.campaigns ca ON ca.campaign_id = g.campaign_id
  CROSS JOIN LATERAL recgen.evaluate_content(g.ids) q;
COMMENT ON VIEW recgen.campaign_quality IS
    'Quality of a campaign''s contents per variant (recgen.evaluate_content): first-attempt guard pass rate, pass and fallback rates, personalization, products named, diversity (distinct-1/2, mean pairwise similarity), length in words, tokens, LLM time and estimated cost';
COMMENT ON COLUMN recgen.campaign_quality.first_attempt_pass IS 'Share of contents whose first answer passed the guard (recgen.evaluate_content)';
COMMENT ON COLUMN recgen.campaign_quality.pass_rate IS 'Share of contents the model wrote (verdict pass, rewrites included)';
COMMENT ON COLUMN recgen.campaign_quality.fallback IS 'Share of contents rendered from the deterministic template after the guard rejected every answer';
COMMENT ON COLUMN recgen.campaign_quality.personalization IS 'Share of contents personalized (recgen.evaluate_content: names the customer or their history)';
COMMENT ON COLUMN recgen.campaign_quality.products_named IS 'Mean number of the context''s products a content names';
COMMENT ON COLUMN recgen.campaign_quality.distinct_2 IS 'Distinct word bigrams over all bigrams of the texts (1: no phrase repeats across contents)';
COMMENT ON COLUMN recgen.campaign_quality.mean_similarity IS 'Mean pairwise similarity of the texts (0: nothing in common, 1: the same)';
COMMENT ON COLUMN recgen.campaign_quality.p95_llm_ms IS '95th percentile of the time waiting for the LLM per content';
COMMENT ON COLUMN recgen.campaign_quality.estimated_cost IS 'Tokens times the model''s price (recgen.model_prices)';

-- outcomes ---------------------------------------------------------------------

CREATE OR REPLACE VIEW recgen.campaign_outcomes WITH (security_invoker = true) AS
WITH exposed AS (
    SELECT e.campaign_id, coalesce(e.variant, 'holdout') AS variant, e.customer_id,
           CASE WHEN e.reason = 'holdout' THEN e.entered_at ELSE e.sent_at END AS t0,
           ct.product_ids
      FROM recgen.campaign_entries e
      LEFT JOIN recgen.content ct ON ct.customer_id = e.customer_id AND ct.content_id = e.content_id
     WHERE e.state = 'generated' OR e.reason = 'holdout'
), conv AS (
    SELECT x.campaign_id, x.variant,
           count(*) AS customers,
           count(*) FILTER (WHERE x.t0 + ca.attribution_window > now()) AS window_open,
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM recgen.events ev
                WHERE ev.customer_id = x.customer_id AND ev.kind = 'purchase'
                  AND ev.occurred_at > x.t0 AND ev.occurred_at <= x.t0 + ca.attribution_window)) AS converted,
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM recgen.events ev
                WHERE ev.customer_id = x.customer_id AND ev.kind = 'purchase'
                  AND ev.product_id = ANY (x.product_ids)
                  AND ev.occurred_at > x.t0 AND ev.occurred_at <= x.t0 + ca.attribution_window)) AS converted_recommended
      FROM exposed x JOIN recgen.campaigns ca ON ca.campaign_id = x.campaign_id
     GROUP BY x.campaign_id, x.variant
), firsts AS (
    SELECT ca.campaign_id, ca.variants -> 0 ->> 'name' AS first_variant FROM recgen.campaigns ca
)
SELECT ca.name AS campaign,
       v.variant,
       v.variant = 'holdout' AS is_holdout,
       v.customers,
       v.window_open,
       v.converted,
       v.converted::double precision / nullif(v.customers, 0) AS conversion_rate,
       CASE WHEN v.variant <> 'holdout' THEN v.converted_recommended END AS converted_recommended,
       CASE WHEN v.variant <> 'holdout' THEN v.converted_recommended::double precision / nullif(v.customers, 0) END
           AS recommended_conversion_rate,
       CASE WHEN v.variant <> 'holdout' AND h.converted > 0
            THEN (v.converted::double precision / v.customers) / (h.converted::double precision / h.customers) - 1 END
           AS lift,
       CASE WHEN v.variant <> 'holdout' THEN recgen.two_proportion_p(v.converted, v.customers, h.converted, h.customers) END
           AS p_value,
       f.first_variant AS compared_to,
       CASE WHEN v.variant NOT IN ('holdout', f.first_variant)
            THEN recgen.two_proportion_p(v.converted, v.customers, a.converted, a.customers) END AS p_value_vs_first
  FROM conv v
  JOIN recgen.campaigns ca ON ca.campaign_id = v.campaign_id
  JOIN firsts f ON f.campaign_id = v.campaign_id
  LEFT JOIN conv h ON h.campaign_id = v.campaign_id AND h.variant = 'holdout'
  LEFT JOIN conv a ON a.campaign_id = v.campaign_id AND a.variant = f.first_variant;
COMMENT ON VIEW recgen.campaign_outcomes IS
    'Conversions per campaign and variant, and for the holdout: a purchase within the attribution window after the content (for the holdout, after entering), a purchase of a recommended product, the lift over the holdout and two-proportion test p-values (against the holdout, and against the first variant)';
COMMENT ON COLUMN recgen.campaign_outcomes.customers IS 'Entries with content generated (for the holdout: held-out entries)';
COMMENT ON COLUMN recgen.campaign_outcomes.window_open IS 'Of these, entries whose attribution window has not ended yet (their conversions may still come)';
COMMENT ON COLUMN recgen.campaign_outcomes.converted IS 'Entries followed by a purchase of the customer within the attribution window';
COMMENT ON COLUMN recgen.campaign_outcomes.converted_recommended IS 'Entries followed by a purchase of a product the content recommended (NULL for the holdout)';
COMMENT ON COLUMN recgen.campaign_outcomes.lift IS 'Conversion rate over the holdout''s, minus 1 (0.25: a quarter more); NULL without holdout conversions';
COMMENT ON COLUMN recgen.campaign_outcomes.p_value IS 'Two-sided p-value of the two-proportion z-test of this variant against the holdout (small: unlikely to be chance)';
COMMENT ON COLUMN recgen.campaign_outcomes.compared_to IS 'The first variant, that p_value_vs_first compares with';
COMMENT ON COLUMN recgen.campaign_outcomes.p_value_vs_first IS 'Two-sided p-value of this variant against the first variant (does B really beat A?)';

GRANT SELECT ON recgen.campaign_progress, recgen.latest_content, recgen.campaign_quality, recgen.campaign_outcomes
    TO recgen_admin, recgen_analyst, recgen_worker;
GRANT SELECT ON recgen.campaign_entries TO recgen_admin, recgen_analyst, recgen_worker;
DROP POLICY IF EXISTS admin_all ON recgen.campaign_entries;
CREATE POLICY admin_all ON recgen.campaign_entries FOR SELECT TO recgen_admin USING (true);
DROP POLICY IF EXISTS consented_profiling ON recgen.campaign_entries;
CREATE POLICY consented_profiling ON recgen.campaign_entries FOR SELECT TO recgen_analyst, recgen_worker
    USING (recgen.profiling_allowed(customer_id));
COMMENT ON POLICY admin_all ON recgen.campaign_entries IS 'recgen_admin reads every entry (only recgen''s functions write them)';
COMMENT ON POLICY consented_profiling ON recgen.campaign_entries IS 'Analysts and workers see entries of customers who consented to profiling';
