-- 805_contact_policy: frequency caps, re-entry limits, quiet hours and
-- consent, each holding back exactly the customers it should, with its
-- reason. Contacts are entries written directly (as the workers would).
BEGIN;
SELECT plan(18);

INSERT INTO recgen.customers (customer_id, first_name, country, locale, consent_marketing, consent_profiling) VALUES
    (1, 'Ann', 'United Kingdom', 'en-GB', true, true),
    (2, 'Ben', 'United Kingdom', 'en-GB', true, true),
    (3, 'Cat', 'Japan', 'ja-JP', true, true),
    (4, 'Dan', 'United Kingdom', 'en-GB', false, true),
    (5, 'Eve', 'United Kingdom', 'en-GB', true, false);
INSERT INTO recgen.campaigns (campaign_id, name, goal, quiet_hours) VALUES
    (1, 'one', 'newsletter', 'hold'), (2, 'two', 'upsell', 'skip'), (3, 'three', 'cross_sell', 'ignore');
INSERT INTO recgen.campaigns (campaign_id, name, goal, kind, channel, reentry_limit, reentry_after) VALUES
    (4, 'sms', 'post_purchase', 'snippet', 'sms', 2, '3 days');
INSERT INTO recgen.campaign_runs (run_id, campaign_id, run_key, source, model, settings)
SELECT c, c, 'r', 'manual', 'm', '{}' FROM generate_series(1, 4) c;

-- a noon in London (11:00 UTC in winter) is 20:00 in Tokyo: not quiet yet
CREATE TEMP TABLE at_noon AS SELECT timestamptz '2026-01-14 12:00+00' AS t;

-- customer 1: one email 3 hours ago (from campaign one)
INSERT INTO recgen.campaign_entries (customer_id, campaign_id, run_id, entry_key, channel, variant, state, content_id, sent_at, entered_at)
SELECT 1, 1, 1, 'run:x', 'email', 'a', 'generated', 1, t - interval '3 hours', t - interval '3 hours' FROM at_noon;
SELECT is((SELECT reason FROM at_noon, recgen.contact_check(1, 2, t)), 'capped',
          'an email 3 hours ago caps another campaign''s email (1 a day)');
SELECT alike((SELECT detail FROM at_noon, recgen.contact_check(1, 2, t)), '%the cap is 1%', 'the detail names the cap');
SELECT is((SELECT reason FROM at_noon, recgen.contact_check(1, 2, t + interval '1 day')), NULL,
          'a day later the daily cap is free again');
SELECT is((SELECT reason FROM at_noon, recgen.contact_check(1, 4, t)), NULL, 'another channel is not capped by email');
SELECT is((SELECT reason FROM at_noon, recgen.contact_check(1, 2, t, (SELECT entry_id FROM recgen.campaign_entries WHERE customer_id = 1))),
          NULL, 'an entry does not count against itself');
-- a second email 4 days ago: 2 in 7 days
INSERT INTO recgen.campaign_entries (customer_id, campaign_id, run_id, entry_key, channel, variant, state, content_id, sent_at, entered_at)
SELECT 1, 3, 3, 'run:y', 'email', 'a', 'generated', 2, t - interval '4 days', t - interval '4 days' FROM at_noon;
SELECT alike((SELECT detail FROM at_noon, recgen.contact_check(1, 2, t + interval '1 day')), '2 contact(s) on email in the last 7 days%',
            'two emails in 7 days hit the weekly cap');
-- held and failed entries are not contacts
INSERT INTO recgen.campaign_entries (customer_id, campaign_id, run_id, entry_key, channel, variant, state, reason, entered_at)
SELECT 2, 1, 1, 'run:x', 'email', NULL, 'held', 'holdout', t - interval '1 hour' FROM at_noon;
SELECT is((SELECT reason FROM at_noon, recgen.contact_check(2, 2, t)), NULL, 'a holdout entry is not a contact');
INSERT INTO recgen.frequency_caps VALUES ('*', 1, '2 hours');
SELECT is((SELECT reason FROM at_noon, recgen.contact_check(1, 4, t - interval '2 hours')), 'capped',
          'a cap on every channel (*) counts the email against an sms');
DELETE FROM recgen.frequency_caps WHERE channel = '*';

-- re-entry: at most 2 entries, 3 days apart
INSERT INTO recgen.campaign_entries (customer_id, campaign_id, run_id, entry_key, channel, variant, state, content_id, sent_at, entered_at)
SELECT 2, 4, 4, 'purchase:b1', 'sms', 'a', 'generated', 3, t - interval '1 day', t - interval '1 day' FROM at_noon;
SELECT alike((SELECT detail FROM at_noon, recgen.contact_check(2, 4, t)), 'entered 1 day%', 're-entering within 3 days is refused');
SELECT is((SELECT reason FROM at_noon, recgen.contact_check(2, 4, t + interval '3 days')), 'capped',
          'after 3 days re-entry is allowed, but the sms cap (1 in 7 days) is not free yet');
SELECT is((SELECT reason FROM at_noon, recgen.contact_check(2, 4, t + interval '7 days')), NULL, 'after 7 days it is allowed');
INSERT INTO recgen.campaign_entries (customer_id, campaign_id, run_id, entry_key, channel, variant, state, entered_at)
SELECT 2, 4, 4, 'purchase:b2', 'sms', 'a', 'queued', t - interval '4 days' FROM at_noon;
SELECT is((SELECT detail FROM at_noon, recgen.contact_check(2, 4, t + interval '7 days')),
          'already entered 2 time(s); the campaign allows 2', 'a third entry is refused (queued entries count)');

-- quiet hours: 22:30 in London
SELECT is((SELECT row(reason, hold_until)::text FROM at_noon, recgen.contact_check(2, 1, t + interval '10 hours 30 minutes')),
          row('quiet_hours', timestamptz '2026-01-15 08:00+00')::text, 'hold: quiet hours until 08:00 London time');
SELECT is((SELECT row(reason, hold_until)::text FROM at_noon, recgen.contact_check(2, 2, t + interval '10 hours 30 minutes')),
          row('quiet_hours', NULL::timestamptz)::text, 'skip: quiet hours, no hold');
SELECT is((SELECT reason FROM at_noon, recgen.contact_check(2, 3, t + interval '10 hours 30 minutes')), NULL,
          'ignore: no quiet hours');
SELECT is((SELECT row(reason, hold_until)::text FROM at_noon, recgen.contact_check(3, 1, t + interval '1 hour 30 minutes')),
          row('quiet_hours', timestamptz '2026-01-14 23:00+00')::text,
          '13:30 in London is 22:30 in Tokyo: quiet until 08:00 there');

-- consent
SELECT is((SELECT detail FROM at_noon, recgen.contact_check(4, 1, t)), 'no consent to marketing', 'no marketing consent');
SELECT is((SELECT detail FROM at_noon, recgen.contact_check(5, 1, t)), 'no consent to profiling', 'no profiling consent');

SELECT * FROM finish();
ROLLBACK;
