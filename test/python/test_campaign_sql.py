"""Campaign functions checked against independent implementations: the
Standard Webhooks signature against the `standardwebhooks` package and an
HMAC computed here, and cron schedules against `croniter`."""
import base64
import datetime as dt
import hashlib
import hmac
import json
import random
import time

import pytest
from croniter import croniter
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from content_helpers import fresh_db, connect, one


@pytest.fixture(scope="module")
def db():
    conn = connect(fresh_db("recgen_campaign_sql"))
    yield conn
    conn.close()


def local_signature(secret, msg_id, ts, body):
    key = base64.b64decode(secret[len("whsec_"):])
    mac = hmac.new(key, f"{msg_id}.{ts}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


BODIES = [
    '{"type": "content.created", "data": {"body": "Hi Zoë, £12.50 — ça va?"}}',
    json.dumps({"x": "a" * 5000}),
    "{}",
    '{"emoji": "\U0001F600", "quote": "\\"", "nl": "a\\nb"}',
]


@pytest.mark.parametrize("body", BODIES)
def test_signature_matches_independent_hmac_and_library(db, body):
    secret = one(db, "SELECT recgen.webhook_secret()")
    msg_id = "msg_" + hashlib.md5(body.encode()).hexdigest()
    ts = int(time.time())
    sig = one(db, "SELECT recgen.webhook_signature(%s, %s, %s, %s)", (secret, msg_id, ts, body))
    assert sig == local_signature(secret, msg_id, ts, body)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": sig}
    assert Webhook(secret).verify(body, headers) == json.loads(body)


def test_wrong_secret_fails_verification(db):
    secret, other = one(db, "SELECT ARRAY[recgen.webhook_secret(), recgen.webhook_secret()]")
    ts = int(time.time())
    sig = one(db, "SELECT recgen.webhook_signature(%s, 'msg_1', %s, '{}')", (secret, ts))
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(ts), "webhook-signature": sig}
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify("{}", headers)
    assert sig != local_signature(other, "msg_1", ts, "{}")
    # a changed body fails too
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify('{"a": 1}', headers)


EXPRESSIONS = [
    "* * * * *", "*/7 * * * *", "0 * * * *", "15,45 9-17 * * *", "0 9 * * 1-5", "30 6 1,15 * *",
    "0 0 13 * 5", "0 12 * * sun", "5 4 * jan,jul *", "0 0 29 2 *", "10-50/20 */3 * * *",
    "0 8 * * 7", "0 0 31 * *", "59 23 * * 6", "0 0 1 */2 *", "*/30 1-3 10-20 * mon-wed",
]


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_cron_next_matches_croniter(db, expr):
    rnd = random.Random(expr)
    for _ in range(12):
        start = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=rnd.randrange(0, 2 * 366 * 1440))
        start += dt.timedelta(seconds=rnd.choice([0, 30]))
        want = croniter(expr, start).get_next(dt.datetime)
        got = one(db, "SELECT recgen.cron_next(%s, %s)", (expr, start))
        assert got == want, f"{expr} after {start}"


def test_cron_rejects_what_croniter_rejects(db):
    for expr in ["60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "a b c d e", "* * * *"]:
        with pytest.raises(Exception):
            croniter(expr)
        with pytest.raises(Exception) as e:
            one(db, "SELECT recgen.cron_next(%s, now())", (expr,))
        assert getattr(e.value, "sqlstate", None) == "22023"
