"""Campaigns end to end through the background workers, with the fake LLM
server and a local webhook receiver on loopback: triggers, runs, the contact
policy at run time, delivery with its faults, and exactly-once outcomes."""
import base64
import datetime as dt
import hashlib
import hmac
import json
import time

import psycopg
import pytest

from campaign_helpers import Receiver, campaign_db, connect, one, run_settled, wait_for
from content_helpers import fake  # noqa: F401  (fixture)
from jobs_helpers import SETTINGS, set_worker_settings


FAST_RETRIES = "{1 second,1 second,1 second,1 second}"


@pytest.fixture(scope="module")
def db(fake):  # noqa: F811
    settings = dict(SETTINGS, **{"recgen.llm_url": f"{fake}/v1", "recgen.llm_backoff_base": "50ms"})
    set_worker_settings(settings)
    d = campaign_db("recgen_campaigns")
    conn = connect(d)
    conn.execute("DELETE FROM recgen.frequency_caps")     # each test sets the caps it checks
    # the workers serve the new database before the first test
    job = one(conn, "SELECT recgen.enqueue('noop')")
    assert wait_for(lambda: one(conn, "SELECT state FROM recgen.jobs WHERE job_id = %s", (job,)) == "completed", 120)
    yield conn
    conn.close()
    set_worker_settings({k: None for k in settings})


@pytest.fixture
def receiver(db):
    secret = one(db, "SELECT recgen.webhook_secret()")
    r = Receiver(secret).start()
    yield r
    r.stop()


def endpoint(db, name, url, secret, **kw):
    db.execute("DELETE FROM recgen.deliveries WHERE endpoint = %s", (name,))
    db.execute("DELETE FROM recgen.webhook_endpoints WHERE name = %s", (name,))
    db.execute("INSERT INTO recgen.webhook_endpoints (name, url, secret, retry_schedule, timeout) VALUES (%s, %s, %s, %s, %s)",
               (name, url, secret, kw.get("retry_schedule", FAST_RETRIES), kw.get("timeout", "5 seconds")))


def campaign(db, name, **kw):
    cols = {"goal": "newsletter", "quiet_hours": "ignore", "variants": '[{"name": "a", "split": 100}]'}
    cols.update(kw)
    db.execute("DELETE FROM recgen.campaign_entries WHERE campaign_id IN (SELECT campaign_id FROM recgen.campaigns WHERE name = %s)", (name,))
    db.execute("DELETE FROM recgen.campaigns WHERE name = %s", (name,))
    keys = ", ".join(cols)
    marks = ", ".join(["%s"] * len(cols))
    return one(db, f"INSERT INTO recgen.campaigns (name, {keys}) VALUES (%s, {marks}) RETURNING campaign_id",
               (name, *cols.values()))


def entries(db, name):
    return {r[0]: (r[1], r[2]) for r in db.execute(
        """SELECT e.customer_id, e.state, e.reason FROM recgen.campaign_entries e
             JOIN recgen.campaigns c USING (campaign_id) WHERE c.name = %s""", (name,)).fetchall()}


def deliveries(db, name):
    return db.execute(
        """SELECT d.customer_id, d.state, d.attempts, d.webhook_id, d.last_status
             FROM recgen.deliveries d JOIN recgen.content ct USING (customer_id, content_id)
            WHERE ct.campaign = %s ORDER BY d.customer_id""", (name,)).fetchall()


# --- purchase trigger --------------------------------------------------------------

def test_purchase_to_delivered_once_per_basket(db, receiver):
    endpoint(db, "crm-pp", receiver.url, receiver.secret)
    campaign(db, "pp", goal="post_purchase", trigger="purchase", endpoint="crm-pp", kind="email", channel="email")
    # three lines of one basket in one statement, a fourth in another: one entry
    db.execute("""INSERT INTO recgen.events (customer_id, product_id, kind, amount, occurred_at, basket_id)
                  SELECT 1, p, 'purchase', 5, now(), 'fresh-basket-1' FROM generate_series(1, 3) p""")
    db.execute("""INSERT INTO recgen.events (customer_id, product_id, kind, amount, occurred_at, basket_id)
                  VALUES (1, 4, 'purchase', 5, now(), 'fresh-basket-1')""")
    # history (older than the 24-hour window) and a customer without marketing consent
    db.execute("""INSERT INTO recgen.events (customer_id, product_id, kind, amount, occurred_at, basket_id)
                  VALUES (4, 1, 'purchase', 5, now() - interval '3 days', 'old-basket'),
                         (2, 1, 'purchase', 5, now(), 'fresh-basket-2')""")
    assert wait_for(lambda: [d for d in deliveries(db, "pp") if d[1] == "delivered"], 60)
    e = entries(db, "pp")
    assert e == {1: ("generated", None), 2: ("held", "no_consent")}, "history queues nothing; no consent is recorded"
    ds = deliveries(db, "pp")
    assert len(ds) == 1 and ds[0][1] == "delivered" and ds[0][2] == 1
    processed = receiver.get("/processed")
    assert len(processed) == 1
    data = processed[0]["body"]["data"]
    assert data["campaign"] == "pp" and data["customer_id"] == 1 and data["subject"] and data["products"]
    assert "email" not in data and "@" not in json.dumps(data), "no e-mail address leaves the database"
    assert all(r["verified_local"] and r["verified_library"] for r in receiver.get("/received"))


def test_rolled_back_purchase_queues_nothing(db):
    campaign(db, "pp-rollback", goal="post_purchase", trigger="purchase")
    with psycopg.connect(db.info.dsn) as c:            # a transaction of its own
        c.execute("""INSERT INTO recgen.events (customer_id, product_id, kind, amount, occurred_at, basket_id)
                     VALUES (5, 2, 'purchase', 5, now(), 'rolled-back')""")
        inside = c.execute("""SELECT count(*) FROM recgen.campaign_entries e JOIN recgen.campaigns ca USING (campaign_id)
                               WHERE ca.name = 'pp-rollback'""").fetchone()[0]
        c.rollback()
    assert inside == 1, "the trigger queued the entry inside the transaction"
    time.sleep(2)
    assert entries(db, "pp-rollback") == {}
    assert one(db, "SELECT count(*) FROM recgen.jobs WHERE unique_key LIKE '%%:purchase:rolled-back:%%'") == 0
    assert one(db, "SELECT count(*) FROM recgen.content WHERE campaign = 'pp-rollback'") == 0


# --- runs -----------------------------------------------------------------------------

def test_run_twice_no_duplicates_and_holdout(db):
    campaign(db, "ab", holdout_pct=30,
             variants='[{"name": "a", "split": 50}, {"name": "b", "split": 50, "tone": "professional"}]')
    run1 = one(db, "SELECT recgen.run_campaign('ab', 'k1')")
    run2 = one(db, "SELECT recgen.run_campaign('ab', 'k1')")
    assert run1 == run2
    run_settled(db, run1)
    assert one(db, "SELECT recgen.run_campaign('ab', 'k1')") == run1
    e = entries(db, "ab")
    # 1, 4, 5, 6 may be contacted; 2 has no marketing consent; 3 no profiling (never considered)
    assert set(e) == {1, 2, 4, 5, 6}
    want_holdout = {c for c in (1, 4, 5, 6)
                    if int(hashlib.md5(f"holdout:ab:{c}".encode()).hexdigest()[:8], 16) % 10000 < 3000}
    assert {c for c, (s, r) in e.items() if r == "holdout"} == want_holdout
    assert e[2] == ("held", "no_consent")
    generated = {c for c, (s, r) in e.items() if s == "generated"}
    assert generated == {1, 4, 5, 6} - want_holdout
    assert one(db, "SELECT count(*) FROM recgen.content WHERE campaign = 'ab'") == len(generated)
    assert one(db, "SELECT count(DISTINCT job_id) FROM recgen.content WHERE campaign = 'ab'") == len(generated)
    tones = dict(db.execute("""SELECT e.variant, min(ct.tone) FROM recgen.campaign_entries e
                                 JOIN recgen.content ct USING (customer_id, content_id)
                                WHERE e.state = 'generated' GROUP BY 1""").fetchall())
    assert all(tones.get(v) == t for v, t in (("a", "friendly"), ("b", "professional")) if v in tones)


def test_variant_strategy_and_pinned_template_reach_the_pipeline(db):
    # a customer who bought what the seed's customer 1 did (the tests before bought more for 1):
    # balanced recommends 2 (Blue Enamel Mug) first, complementary 5 (Terracotta Planter)
    db.execute("""INSERT INTO recgen.customers (customer_id, first_name, country, consent_marketing, consent_profiling)
                  VALUES (987006, 'Ada', 'United Kingdom', true, true) ON CONFLICT DO NOTHING""")
    db.execute("""INSERT INTO recgen.events (customer_id, product_id, kind, quantity, amount, occurred_at, basket_id)
                  SELECT 987006, p, 'purchase', 1, 10, now() - (3 + p) * interval '1 day', 'ada-' || p
                    FROM unnest(ARRAY[1, 3, 4, 6]) p""")
    first = {s: one(db, "SELECT product_id FROM recgen.recommend(987006, 1, %s)", (s,)) for s in ("balanced", "complementary")}
    assert first["balanced"] != first["complementary"], "the seed must tell the strategies apart"
    campaign(db, "strategies", segment='{"customers": [987006, 6]}',
             variants='[{"name": "a", "split": 50, "n_products": 1}, '
                      '{"name": "b", "split": 50, "n_products": 1, "strategy": "complementary"}]')
    tone = one(db, "SELECT tone FROM recgen.campaigns WHERE name = 'strategies'")
    pinned = db.execute("""SELECT tone, version FROM recgen.prompt_templates
                            WHERE kind = 'email' AND active AND tone IN (%s, '*') ORDER BY tone = %s DESC LIMIT 1""",
                        (tone, tone)).fetchone()
    try:
        with psycopg.connect(db.info.dsn) as c:        # jobs run after this commits
            c.execute("SET recgen.llm_model = 'fake-normal'")
            run = c.execute("SELECT recgen.run_campaign('strategies', 'k')").fetchone()[0]
            # a new active version of the template after the run pinned the old one
            c.execute("UPDATE recgen.prompt_templates SET system_prompt = system_prompt || ' (v-next)' "
                      "WHERE kind = 'email' AND tone = %s AND version = %s", pinned)
        run_settled(db, run)
        rows = db.execute("""SELECT e.customer_id, e.variant, ct.product_ids, ct.template_tone, ct.template_version,
                                    ct.context #>> '{items,0,reason}'
                               FROM recgen.campaign_entries e JOIN recgen.content ct USING (customer_id, content_id)
                              WHERE e.run_id = %s""", (run,)).fetchall()
        assert sorted((r[0], r[1]) for r in rows) == [(6, "a"), (987006, "b")], "the variant buckets of the md5 hash"
        for customer, variant, products, t_tone, t_version, reason in rows:
            strategy = "complementary" if variant == "b" else "balanced"
            want = one(db, "SELECT product_id FROM recgen.recommend(%s, 1, %s)", (customer, strategy))
            assert products == [want], f"variant {variant} recommends with its strategy {strategy}"
            assert reason == one(db, "SELECT recgen.reason_text(reason) FROM recgen.recommend(%s, 1, %s)", (customer, strategy))
            assert (t_tone, t_version) == pinned, "the run's pinned template version, not the newer active one"
    finally:
        one(db, "SELECT recgen.forget_customer(987006)")
        db.execute("DELETE FROM recgen.prompt_templates WHERE kind = 'email' AND tone = %s AND version > %s", pinned)
        db.execute("UPDATE recgen.prompt_templates SET active = true WHERE kind = 'email' AND tone = %s AND version = %s",
                   pinned)


def test_consent_withdrawn_before_the_job_runs(db):
    campaign(db, "consent")
    with psycopg.connect(db.info.dsn) as c:
        c.execute("SET recgen.llm_model = 'fake-normal'")
        run = c.execute("SELECT recgen.run_campaign('consent', 'k')").fetchone()[0]
        # withdrawn after the customer entered, before any job ran (they run after commit)
        c.execute("UPDATE recgen.customers SET consent_marketing = false WHERE customer_id = 5")
    run_settled(db, run)
    e = entries(db, "consent")
    assert e[5] == ("held", "no_consent")
    assert e[1] == ("generated", None)
    assert one(db, "SELECT count(*) FROM recgen.content WHERE campaign = 'consent' AND customer_id = 5") == 0
    db.execute("UPDATE recgen.customers SET consent_marketing = true WHERE customer_id = 5")


def test_frequency_cap_and_reentry(db):
    db.execute("INSERT INTO recgen.frequency_caps VALUES ('email', 1, '1 day')")
    try:
        campaign(db, "first")
        run_settled(db, one(db, "SELECT recgen.run_campaign('first', 'k')"))
        campaign(db, "second", goal="upsell")
        run_settled(db, one(db, "SELECT recgen.run_campaign('second', 'k')"))
        e = entries(db, "second")
        assert {c: v for c, v in e.items() if c != 2} == {c: ("held", "capped") for c in (1, 4, 5, 6)}
    finally:
        db.execute("DELETE FROM recgen.frequency_caps")
    campaign(db, "once", reentry_limit=1)
    run_settled(db, one(db, "SELECT recgen.run_campaign('once', 'k1')"))
    run_settled(db, one(db, "SELECT recgen.run_campaign('once', 'k2')"))
    reasons = db.execute("""SELECT r.run_key, e.customer_id, e.reason FROM recgen.campaign_entries e
                              JOIN recgen.campaign_runs r USING (run_id) JOIN recgen.campaigns c ON c.campaign_id = r.campaign_id
                             WHERE c.name = 'once' AND e.customer_id <> 2 ORDER BY 1, 2""").fetchall()
    assert [(k, c, r) for k, c, r in reasons if k == "k2"] == [("k2", c, "reentry") for c in (1, 4, 5, 6)]


def test_quiet_hours_hold_and_skip(db):
    now = dt.datetime.now(dt.timezone.utc)
    # Etc/GMT+N is N hours behind UTC: pick one where it is 23:xx and one where it is 12:xx
    night = (now.hour - 23) % 24
    day = (now.hour - 12) % 24
    zone = lambda off: "Etc/GMT" + ("+%d" % off if off <= 12 else "-%d" % (24 - off))  # noqa: E731
    db.execute("UPDATE recgen.customers SET attributes = jsonb_build_object('time_zone', %s::text) WHERE customer_id IN (1, 4)",
               (zone(night),))
    db.execute("UPDATE recgen.customers SET attributes = jsonb_build_object('time_zone', %s::text) WHERE customer_id IN (5, 6)",
               (zone(day),))
    try:
        campaign(db, "quiet-skip", quiet_hours="skip")
        run_settled(db, one(db, "SELECT recgen.run_campaign('quiet-skip', 'k')"))
        e = entries(db, "quiet-skip")
        assert (e[1], e[4], e[5], e[6]) == (("held", "quiet_hours"),) * 2 + (("generated", None),) * 2
        campaign(db, "quiet-hold", quiet_hours="hold")
        run = one(db, "SELECT recgen.run_campaign('quiet-hold', 'k')")
        wait_for(lambda: entries(db, "quiet-hold").get(5, ("",))[0] == "generated", 60)
        e = entries(db, "quiet-hold")
        assert e[1] == ("waiting", "quiet_hours") and e[4] == ("waiting", "quiet_hours")
        hold = db.execute("""SELECT e.hold_until, j.run_at, j.state FROM recgen.campaign_entries e
                               JOIN recgen.jobs j USING (job_id) WHERE e.run_id = %s AND e.customer_id = 1""", (run,)).fetchone()
        assert hold[0] == hold[1] and hold[0] > now and hold[2] in ("scheduled", "available")
        assert (hold[0].astimezone(dt.timezone(dt.timedelta(hours=-night if night <= 12 else 24 - night)))).hour == 8
    finally:
        db.execute("UPDATE recgen.customers SET attributes = '{}'")


# --- delivery faults ----------------------------------------------------------------

def delivered_exactly_once(db, receiver, name, n):
    ds = deliveries(db, name)
    assert len(ds) == n and all(d[1] == "delivered" for d in ds), ds
    processed = receiver.get("/processed")
    ids = sorted(p["id"] for p in processed if p["body"]["data"]["campaign"] == name)
    assert ids == sorted(d[3] for d in ds), "every delivery processed once, under its own webhook-id"
    return ds


def test_receiver_down_then_up_delivers_exactly_once(db, receiver):
    endpoint(db, "crm-down", receiver.url, receiver.secret)
    receiver.stop()
    campaign(db, "down", endpoint="crm-down")
    run = one(db, "SELECT recgen.run_campaign('down', 'k')")
    assert wait_for(lambda: len([d for d in deliveries(db, "down") if d[1] == "retrying"]) == 4, 60)
    receiver.start()
    run_settled(db, run)
    ds = delivered_exactly_once(db, receiver, "down", 4)
    assert all(d[2] >= 2 for d in ds)
    errs = db.execute("""SELECT a.error FROM recgen.delivery_attempts a JOIN recgen.deliveries d USING (customer_id, delivery_id)
                          WHERE d.endpoint = 'crm-down' AND a.attempt = 1""").fetchall()
    assert errs and all("connect" in e[0] for e in errs)


def test_500_and_timeout_are_retried(db, receiver):
    endpoint(db, "crm-500", receiver.url, receiver.secret, timeout="1 second")
    receiver.control(mode="500", count=3)
    campaign(db, "five-hundred", endpoint="crm-500", variants='[{"name": "a", "split": 100}]',
             segment='{"customers": [1]}')
    run_settled(db, one(db, "SELECT recgen.run_campaign('five-hundred', 'k')"))
    delivered_exactly_once(db, receiver, "five-hundred", 1)
    statuses = [r[0] for r in db.execute(
        """SELECT a.http_status FROM recgen.delivery_attempts a JOIN recgen.deliveries d USING (customer_id, delivery_id)
            WHERE d.endpoint = 'crm-500' ORDER BY a.attempt""").fetchall()]
    assert statuses == [500, 500, 500, 200]
    # an answer slower than the endpoint's timeout: retried, the same webhook-id again
    receiver.control(mode="timeout", count=1, delay=3)
    campaign(db, "slow", endpoint="crm-500", segment='{"customers": [4]}')
    run_settled(db, one(db, "SELECT recgen.run_campaign('slow', 'k')"))
    ds = delivered_exactly_once(db, receiver, "slow", 1)
    # the timed-out request is answered (after 3 s) when the retry was processed already
    got = wait_for(lambda: [r for r in receiver.get("/received") if r["id"] == ds[0][3]] if len(
        [r for r in receiver.get("/received") if r["id"] == ds[0][3]]) == 2 else None, 10)
    assert got and sorted(r["duplicate"] for r in got) == [False, True], "the late answer is dropped as a duplicate"
    assert [r[0] for r in db.execute(
        """SELECT a.error IS NOT NULL AND a.http_status IS NULL FROM recgen.delivery_attempts a
            WHERE a.delivery_id = (SELECT delivery_id FROM recgen.deliveries WHERE webhook_id = %s) ORDER BY attempt""",
        (ds[0][3],)).fetchall()] == [True, False]


def test_retry_inside_quiet_hours_waits_for_them_to_end(db, receiver):
    now = dt.datetime.now(dt.timezone.utc)
    night, day = (now.hour - 23) % 24, (now.hour - 12) % 24      # offsets where it is 23:xx and 12:xx
    zone = lambda off: "Etc/GMT" + ("+%d" % off if off <= 12 else "-%d" % (24 - off))  # noqa: E731
    endpoint(db, "crm-quiet", receiver.url, receiver.secret, retry_schedule="{5 seconds,5 seconds,5 seconds}")
    campaign(db, "quiet-retry", endpoint="crm-quiet", quiet_hours="hold", segment='{"customers": [1]}')
    db.execute("UPDATE recgen.customers SET attributes = jsonb_build_object('time_zone', %s::text) WHERE customer_id = 1",
               (zone(day),))
    try:
        receiver.control(mode="500", count=1)
        one(db, "SELECT recgen.run_campaign('quiet-retry', 'k')")
        assert wait_for(lambda: [d[1] for d in deliveries(db, "quiet-retry")] == ["retrying"], 60)
        # the first attempt failed at noon; before the retry, it is 23:00 where the customer is
        db.execute("UPDATE recgen.customers SET attributes = jsonb_build_object('time_zone', %s::text) WHERE customer_id = 1",
                   (zone(night),))
        nxt = lambda: one(db, """SELECT d.next_attempt_at FROM recgen.deliveries d JOIN recgen.content ct USING (customer_id, content_id)
                                  WHERE ct.campaign = 'quiet-retry'""")  # noqa: E731
        assert wait_for(lambda: nxt() > dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1), 30), \
            "the retry is postponed to the end of the quiet hours"
        time.sleep(6)                       # a retry that ignored them would have gone now
        d = deliveries(db, "quiet-retry")[0]
        assert d[1] == "retrying" and d[2] == 1, "no second attempt inside the quiet hours"
        assert [r["status"] for r in receiver.get("/received")] == [500]
        local = nxt().astimezone(dt.timezone(dt.timedelta(hours=-night if night <= 12 else 24 - night)))
        assert (local.hour, local.minute) == (8, 0)
        # a manual replay is the admin's call: sent now
        did = one(db, "SELECT d.delivery_id FROM recgen.deliveries d JOIN recgen.content ct USING (customer_id, content_id) "
                      "WHERE ct.campaign = 'quiet-retry'")
        one(db, "SELECT recgen.redeliver(%s)", (did,))
        assert wait_for(lambda: deliveries(db, "quiet-retry")[0][1] == "delivered", 30)
    finally:
        db.execute("UPDATE recgen.customers SET attributes = '{}'")


def test_429_waits_for_retry_after(db, receiver):
    endpoint(db, "crm-429", receiver.url, receiver.secret, retry_schedule="{1 second,1 second}")
    receiver.control(mode="429", count=1, retry_after=3)
    campaign(db, "busy", endpoint="crm-429", segment='{"customers": [5]}')
    run_settled(db, one(db, "SELECT recgen.run_campaign('busy', 'k')"))
    delivered_exactly_once(db, receiver, "busy", 1)
    gap = one(db, """SELECT extract(epoch FROM max(a.attempted_at) - min(a.attempted_at)) FROM recgen.delivery_attempts a
                      JOIN recgen.deliveries d USING (customer_id, delivery_id) WHERE d.endpoint = 'crm-429'""")
    assert gap >= 3, "the second attempt waited for Retry-After (3 s), not the 1 s schedule"


def test_410_disables_the_endpoint(db, receiver):
    endpoint(db, "crm-gone", receiver.url, receiver.secret)
    receiver.control(mode="410")
    campaign(db, "gone", endpoint="crm-gone")
    run_settled(db, one(db, "SELECT recgen.run_campaign('gone', 'k')"))
    receiver.control(mode="ok")
    ds = deliveries(db, "gone")
    assert len(ds) == 4 and all(d[1] == "disabled" for d in ds)
    assert sum(d[2] for d in ds) >= 1 and sum(1 for d in ds if d[4] == 410) >= 1
    active, why = db.execute("SELECT active, disabled_reason FROM recgen.webhook_endpoints WHERE name = 'crm-gone'").fetchone()
    assert not active and "410" in why
    assert receiver.get("/processed") == [] or all(p["body"]["data"]["campaign"] != "gone" for p in receiver.get("/processed"))


def test_bad_secret_fails_verification(db, receiver):
    wrong = one(db, "SELECT recgen.webhook_secret()")
    endpoint(db, "crm-wrong", receiver.url, wrong)            # the receiver knows another secret
    campaign(db, "wrong-secret", endpoint="crm-wrong", segment='{"customers": [6]}')
    run_settled(db, one(db, "SELECT recgen.run_campaign('wrong-secret', 'k')"))
    ds = deliveries(db, "wrong-secret")
    assert ds[0][1] == "failed" and ds[0][4] == 401
    got = [r for r in receiver.get("/received") if r["id"] == ds[0][3]]
    assert got and not got[0]["verified_local"] and got[0]["verified_library"] is False
    # the signature is right for the secret recgen was given: an HMAC computed here agrees
    key = base64.b64decode(wrong[len("whsec_"):])
    mac = hmac.new(key, f"{got[0]['id']}.{got[0]['timestamp']}.{got[0]['body']}".encode(), hashlib.sha256).digest()
    headers_sig = one(db, "SELECT recgen.webhook_signature(%s, %s, %s, %s)",
                      (wrong, got[0]["id"], int(got[0]["timestamp"]), got[0]["body"]))
    assert headers_sig == "v1," + base64.b64encode(mac).decode()


def test_redeliver_replays_with_the_same_id(db, receiver):
    endpoint(db, "crm-replay", receiver.url, receiver.secret)
    campaign(db, "replay", endpoint="crm-replay", segment='{"customers": [1]}')
    run_settled(db, one(db, "SELECT recgen.run_campaign('replay', 'k')"))
    (cid, state, attempts, wid, status), = deliveries(db, "replay")
    job = one(db, "SELECT recgen.redeliver(delivery_id) FROM recgen.deliveries WHERE webhook_id = %s", (wid,))
    assert wait_for(lambda: one(db, "SELECT state FROM recgen.jobs WHERE job_id = %s", (job,)) == "completed", 30)
    got = [r for r in receiver.get("/received") if r["id"] == wid]
    assert len(got) == 2 and got[0]["body"] == got[1]["body"] and got[1]["duplicate"]


def test_progress_notifications(db):
    listener = psycopg.connect(db.info.dsn, autocommit=True)
    listener.execute("LISTEN recgen_progress")
    campaign(db, "notify")
    run = one(db, "SELECT recgen.run_campaign('notify', 'k')")
    msgs = []
    deadline = time.time() + 60
    for n in listener.notifies(timeout=60):
        m = json.loads(n.payload)
        if m["run"] == run:
            msgs.append((time.time(), m))
            if m["finished"] or time.time() > deadline:
                break
    listener.close()
    assert msgs and msgs[-1][1]["finished"] and msgs[-1][1]["done"] == 4
    assert msgs[-1][1]["campaign"] == "notify"


def test_signup_and_inactivity(db):
    campaign(db, "welcome", goal="onboarding", trigger="signup")
    db.execute("""INSERT INTO recgen.customers (customer_id, first_name, country, consent_marketing, consent_profiling, created_at)
                  VALUES (701, 'Nia', 'United Kingdom', true, true, now()),
                         (702, 'Old', 'United Kingdom', true, true, now() - interval '2 years')""")
    e = wait_for(lambda: entries(db, "welcome") if entries(db, "welcome").get(701, ("",))[0] in ("generated", "failed") else None, 60)
    assert set(e) == {701}, "a fresh sign-up enters; a customer loaded with an old created_at does not"
    # inactivity: every seed customer's last event is days ago; 701 and 702 have none
    campaign(db, "wake-up", goal="reactivation", trigger="inactivity", inactivity_days=1, schedule="@daily",
             segment='{"customers": [1, 4, 5, 6, 701, 702]}')
    run = one(db, "SELECT recgen.run_campaign('wake-up', 'k1')")
    run_settled(db, run)
    keys = dict(db.execute("""SELECT e.customer_id, e.entry_key FROM recgen.campaign_entries e
                                JOIN recgen.campaigns c USING (campaign_id) WHERE c.name = 'wake-up'""").fetchall())
    last = dict(db.execute("SELECT customer_id, max(occurred_at) FROM recgen.events "
                           "WHERE customer_id IN (1, 4, 5, 6) GROUP BY 1").fetchall())
    day_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    inactive = {c for c, t in last.items() if t < day_ago}
    assert inactive and set(keys) == inactive | {702}, "701 signed up today: not inactive; 702 two years ago"
    assert all(keys[c] == "inactive:" + last[c].astimezone(dt.timezone.utc).strftime("%Y-%m-%d") for c in inactive)
    # the same spell of inactivity, scanned again under another run key: nobody enters twice
    run_settled(db, one(db, "SELECT recgen.run_campaign('wake-up', 'k2')"))
    assert one(db, """SELECT count(*) FROM recgen.campaign_entries e JOIN recgen.campaigns c USING (campaign_id)
                       WHERE c.name = 'wake-up'""") == len(inactive) + 1


def test_forget_customer_with_jobs_and_deliveries(db, receiver):
    endpoint(db, "crm-forget", receiver.url, receiver.secret)
    db.execute("""INSERT INTO recgen.customers (customer_id, first_name, country, consent_marketing, consent_profiling)
                  VALUES (987001, 'Quentin', 'United Kingdom', true, true)""")
    db.execute("""INSERT INTO recgen.events (customer_id, product_id, kind, amount, occurred_at, basket_id)
                  SELECT 987001, p, 'purchase', 5, now() - interval '5 days', 'q-basket' FROM generate_series(1, 2) p""")
    campaign(db, "forget", endpoint="crm-forget", segment='{"customers": [987001]}')
    run_settled(db, one(db, "SELECT recgen.run_campaign('forget', 'k')"))
    assert [d[1] for d in deliveries(db, "forget")] == ["delivered"]
    counts = one(db, "SELECT recgen.forget_customer(987001)")
    assert counts["recgen.jobs"] >= 2 and counts["recgen.deliveries"] == 1 and counts["recgen.campaign_entries"] >= 1
    left = []
    for (t,) in db.execute("""SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                               WHERE n.nspname = 'recgen' AND c.relkind = 'r'""").fetchall():
        if one(db, f"SELECT count(*) FROM {t} x WHERE x::text ~ '(\\m987001\\M)|Quentin'"):
            left.append(t)
    assert left == [], f"rows of the forgotten customer remain in {left}"


def test_forget_customer_while_the_llm_answers(db):
    db.execute("""INSERT INTO recgen.customers (customer_id, first_name, country, consent_marketing, consent_profiling)
                  VALUES (987002, 'Rosalind', 'United Kingdom', true, true)""")
    db.execute("""INSERT INTO recgen.events (customer_id, product_id, kind, amount, occurred_at, basket_id)
                  SELECT 987002, p, 'purchase', 5, now() - interval '5 days', 'r-basket' FROM generate_series(1, 2) p""")
    campaign(db, "forget-inflight", segment='{"customers": [987002]}')
    with psycopg.connect(db.info.dsn, autocommit=True) as c:
        c.execute("SET recgen.llm_model = 'fake-sleep5'")     # the run pins it: its request takes 5 s
        run = c.execute("SELECT recgen.run_campaign('forget-inflight', 'k')").fetchone()[0]
    assert wait_for(lambda: one(db, "SELECT state FROM recgen.campaign_entries WHERE run_id = %s", (run,)) == "generating", 30)
    time.sleep(1)                                          # the request is out
    one(db, "SELECT recgen.forget_customer(987002)")
    # the answer comes back to a worker whose customer is gone: it stores nothing, not even the call's row
    assert wait_for(lambda: one(db, "SELECT count(*) FROM recgen.jobs WHERE state = 'running' AND kind = 'campaign'") == 0, 60)
    time.sleep(1)
    one(db, "SELECT recgen.flush_llm_calls()")
    left = [t for (t,) in db.execute("""SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                          WHERE n.nspname = 'recgen' AND c.relkind = 'r'""").fetchall()
            if one(db, f"SELECT count(*) FROM {t} x WHERE x::text ~ '(\\m987002\\M)|Rosalind'")]
    assert left == [], f"rows of the forgotten customer remain in {left}"


def test_quality_and_outcomes_views(db):
    campaign(db, "measured", holdout_pct=40,
             variants='[{"name": "a", "split": 50}, {"name": "b", "split": 50, "tone": "professional"}]')
    run_settled(db, one(db, "SELECT recgen.run_campaign('measured', 'k')"))
    e = entries(db, "measured")
    generated = sorted(c for c, (s, r) in e.items() if s == "generated")
    holdout = sorted(c for c, (s, r) in e.items() if r == "holdout")
    q = dict(db.execute("SELECT variant, contents FROM recgen.campaign_quality WHERE campaign = 'measured'").fetchall())
    assert sum(q.values()) == len(generated)
    # a purchase after the content (within the 7-day window) converts; one before it does not
    buyer = generated[0]
    db.execute("""INSERT INTO recgen.events (customer_id, product_id, kind, amount, occurred_at, basket_id)
                  VALUES (%s, 1, 'purchase', 5, now() + interval '1 minute', 'after-content'),
                         (%s, 1, 'purchase', 5, now() - interval '30 days', 'before-content')""",
               (buyer, generated[-1]))
    if holdout:
        db.execute("""INSERT INTO recgen.events (customer_id, product_id, kind, amount, occurred_at, basket_id)
                      VALUES (%s, 2, 'purchase', 5, now() + interval '1 minute', 'holdout-buys')""", (holdout[0],))
    rows = {r[0]: r[1:] for r in db.execute(
        """SELECT variant, customers, converted, converted_recommended, lift, p_value
             FROM recgen.campaign_outcomes WHERE campaign = 'measured'""").fetchall()}
    buyer_variant = one(db, """SELECT variant FROM recgen.campaign_entries e JOIN recgen.campaigns c USING (campaign_id)
                                WHERE c.name = 'measured' AND e.customer_id = %s""", (buyer,))
    assert sum(r[0] for v, r in rows.items() if v != "holdout") == len(generated)
    assert rows[buyer_variant][1] == 1, "the purchase after the content converts, the one before does not"
    recommended = one(db, """SELECT 1 = ANY (ct.product_ids) FROM recgen.campaign_entries e
                              JOIN recgen.content ct USING (customer_id, content_id) WHERE e.customer_id = %s
                               AND e.campaign_id = (SELECT campaign_id FROM recgen.campaigns WHERE name = 'measured')""", (buyer,))
    assert rows[buyer_variant][2] == (1 if recommended else 0)
    if holdout:
        assert rows["holdout"][0] == len(holdout) and rows["holdout"][1] == 1
        assert rows[buyer_variant][4] is not None and 0 <= rows[buyer_variant][4] <= 1
