"""Campaign entries through the background workers, before any content is
generated: a run key run twice, the holdout and consent at entry, quiet hours
holding a job until morning or skipping, the purchase trigger (fresh
baskets only, one entry per basket, nothing from a rolled-back purchase),
consent withdrawn before a delivery, and steps that refuse any session but
the worker holding the job. No LLM is needed."""

import base64
import datetime as dt
import hashlib
import hmac
import time

import psycopg
import pytest

from campaign_helpers import (connect, endpoint, one, running_receiver, settled, states, worker_campaign_db)


@pytest.fixture(scope="module")
def db():
    yield from worker_campaign_db("recgen_campaign_entries")


@pytest.fixture
def receiver(db):
    yield from running_receiver(db)


def campaign(db, name, **kw):
    cols = {"goal": "newsletter", "quiet_hours": "ignore"}
    cols.update(kw)
    db.execute("DELETE FROM recgen.campaigns WHERE name = %s", (name,))
    one(db, f"INSERT INTO recgen.campaigns (name, {', '.join(cols)}) VALUES (%s, {', '.join(['%s'] * len(cols))}) RETURNING 1",
        (name, *cols.values()))


def entries(db, name):
    return {r[0]: (r[1], r[2], r[3]) for r in db.execute(
        """SELECT e.customer_id, e.state, e.reason, e.job_id FROM recgen.campaign_entries e
             JOIN recgen.campaigns c USING (campaign_id) WHERE c.name = %s""", (name,)).fetchall()}


def test_run_key_holdout_and_consent_at_entry(db):
    campaign(db, "entries", holdout_pct=30, variants='[{"name": "a", "split": 50}, {"name": "b", "split": 50}]',
             active=True)
    run1 = one(db, "SELECT recgen.run_campaign('entries', 'k1')")
    assert one(db, "SELECT recgen.run_campaign('entries', 'k1')") == run1, "the same run key, the same run"
    e = entries(db, "entries")
    assert set(e) == {1, 2, 4, 5, 6}, "3 has no profiling consent: never considered"
    want_holdout = {c for c in (1, 4, 5, 6)
                    if int(hashlib.md5(f"holdout:entries:{c}".encode()).hexdigest()[:8], 16) % 10000 < 3000}
    assert {c for c, v in e.items() if v[1] == "holdout"} == want_holdout
    assert e[2][:2] == ("held", "no_consent")
    queued = {c for c, v in e.items() if v[2] is not None}
    assert queued == {1, 4, 5, 6} - want_holdout, "one job per customer who may be contacted"
    assert one(db, """SELECT count(*) FROM recgen.jobs WHERE kind = 'campaign'
                       AND payload ->> 'run_id' = %s""", (str(run1),)) == len(queued)
    assert one(db, "SELECT count(DISTINCT unique_key) FROM recgen.jobs WHERE kind = 'campaign' AND payload ->> 'run_id' = %s",
               (str(run1),)) == len(queued)
    db.execute("UPDATE recgen.campaigns SET active = false WHERE name = 'entries'")


def test_quiet_hours_hold_schedules_the_job(db):
    now = dt.datetime.now(dt.timezone.utc)
    night = (now.hour - 23) % 24                       # hours behind UTC where it is 23:xx now
    zone = "Etc/GMT+%d" % night if night <= 12 else "Etc/GMT-%d" % (24 - night)
    db.execute("UPDATE recgen.customers SET attributes = jsonb_build_object('time_zone', %s::text) WHERE customer_id = 1",
               (zone,))
    try:
        campaign(db, "night", quiet_hours="hold", segment='{"customers": [1]}')
        run = one(db, "SELECT recgen.run_campaign('night', 'k')")
        state, reason, job = entries(db, "night")[1]
        hold, run_at, jstate = db.execute("""SELECT e.hold_until, j.run_at, j.state FROM recgen.campaign_entries e
                                               JOIN recgen.jobs j USING (job_id) WHERE e.run_id = %s""", (run,)).fetchone()
        assert (state, reason) == ("waiting", "quiet_hours") and hold == run_at and jstate == "scheduled"
        local = hold.astimezone(dt.timezone(dt.timedelta(hours=-night if night <= 12 else 24 - night)))
        assert (local.hour, local.minute) == (8, 0) and hold > now
        campaign(db, "night-skip", quiet_hours="skip", segment='{"customers": [1]}')
        one(db, "SELECT recgen.run_campaign('night-skip', 'k')")
        assert entries(db, "night-skip")[1] == ("held", "quiet_hours", None)
    finally:
        db.execute("UPDATE recgen.customers SET attributes = '{}'")
        db.execute("UPDATE recgen.campaigns SET active = false WHERE name IN ('night', 'night-skip')")


def test_purchase_trigger_fresh_baskets_only_and_rollback(db):
    campaign(db, "after-purchase", goal="post_purchase", trigger="purchase")
    db.execute("""INSERT INTO recgen.events (customer_id, product_id, kind, amount, occurred_at, basket_id)
                  SELECT 1, p, 'purchase', 5, now(), 'fresh-1' FROM generate_series(1, 3) p""")
    db.execute("""INSERT INTO recgen.events (customer_id, product_id, kind, amount, occurred_at, basket_id)
                  VALUES (1, 4, 'purchase', 5, now(), 'fresh-1'),
                         (4, 1, 'purchase', 5, now() - interval '3 days', 'history-4')""")
    with psycopg.connect(db.info.dsn) as c:
        c.execute("""INSERT INTO recgen.events (customer_id, product_id, kind, amount, occurred_at, basket_id)
                     VALUES (6, 2, 'purchase', 5, now(), 'rolled-back')""")
        inside = c.execute("""SELECT count(*) FROM recgen.campaign_entries e JOIN recgen.campaigns ca USING (campaign_id)
                               WHERE ca.name = 'after-purchase' AND e.customer_id = 6""").fetchone()[0]
        c.rollback()
    assert inside == 1, "inside its transaction the purchase had entered the campaign"
    e = entries(db, "after-purchase")
    assert set(e) == {1}, "one entry for the basket of four lines; history and the rolled-back purchase: none"
    assert one(db, "SELECT count(*) FROM recgen.jobs WHERE unique_key LIKE %s", ("%:purchase:fresh-1:1",)) == 1
    assert one(db, "SELECT count(*) FROM recgen.jobs WHERE unique_key LIKE %s", ("%:rolled-back:%",)) == 0
    db.execute("UPDATE recgen.campaigns SET active = false WHERE name = 'after-purchase'")


def test_consent_withdrawn_before_delivery(db, receiver):
    endpoint(db, "crm-consent", receiver.url, receiver.secret)
    with psycopg.connect(db.info.dsn) as c:      # one transaction: the job runs after it commits
        content = c.execute("""INSERT INTO recgen.content (customer_id, kind, brand, campaign, model, context, output, verdict)
                               VALUES (5, 'email', 'default', 'consent', 'm', '{}', '{"subject": "x", "body": "y"}', 'pass')
                               RETURNING content_id""").fetchone()[0]
        did = c.execute("SELECT recgen.delivery_create(5, %s, 'crm-consent')", (content,)).fetchone()[0]
        c.execute("UPDATE recgen.customers SET consent_marketing = false WHERE customer_id = 5")
    try:
        assert settled(db, [did])
        assert states(db, [did])[0][1:3] == ("failed", 0)
        assert "consent" in one(db, "SELECT last_error FROM recgen.deliveries WHERE delivery_id = %s", (did,))
        assert receiver.get("/received") == [], "nothing was sent"
    finally:
        db.execute("UPDATE recgen.customers SET consent_marketing = true WHERE customer_id = 5")


def test_steps_refuse_a_session_that_is_not_the_worker(db):
    job = one(db, "SELECT job_id FROM recgen.jobs WHERE kind = 'webhook' ORDER BY job_id LIMIT 1")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.execute("SELECT recgen.delivery_result(%s, 1, 200, NULL, 1)", (job,))
