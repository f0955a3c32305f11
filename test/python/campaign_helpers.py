"""Shared fixtures of the campaign tests: a database with a small catalog and
customers, the fake LLM server, a local webhook receiver
(tools/webhook_receiver.py) on loopback that can be stopped and started on
the same port, and worker settings for quick runs."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import psycopg

from content_helpers import ROOT, dsn, fresh_db

RECEIVER = os.path.join(ROOT, "tools", "webhook_receiver.py")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Receiver:
    """The webhook receiver as its own process; stop() and start() keep the port."""

    def __init__(self, secret=None):
        self.port = free_port()
        self.secret = secret
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hooks/recgen"

    def start(self):
        args = [sys.executable, RECEIVER, "--port", str(self.port)]
        if self.secret:
            args += ["--secret", self.secret]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("PORT"), line
        return self

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def get(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
            return json.loads(r.read())

    def control(self, **kw):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/control", data=json.dumps(kw).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())


def connect(db_dsn, model="fake-normal"):
    c = psycopg.connect(db_dsn, autocommit=True)
    c.execute("SET client_min_messages = warning")
    c.execute(f"SET recgen.llm_model = '{model}'")
    return c


def one(conn, sql, params=None):
    row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def campaign_db(name):
    return fresh_db(name)


def wait_for(pred, timeout=60, every=0.2):
    """Polls pred() from here (no snapshot held between polls) until it is
    truthy or the timeout passes; returns its last value."""
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v or time.time() > deadline:
            return v
        time.sleep(every)


def run_settled(conn, run_id, timeout=90):
    """Waits until nothing of the run is queued or running and its
    deliveries are settled (delivered, failed or disabled)."""
    def settled():
        p = conn.execute("SELECT finished, delivering FROM recgen.campaign_progress WHERE run = %s", (run_id,)).fetchone()
        return p is not None and p[0] and p[1] == 0
    return wait_for(settled, timeout)


# Delivery tests: the workers' database, endpoints, contents to deliver and
# what became of them.

FAST_RETRIES = "{1 second,1 second,1 second,1 second}"


def worker_campaign_db(name):
    """A campaign database the background workers serve, for a module
    fixture (yield from it); the workers' settings are reset after."""
    from jobs_helpers import SETTINGS, set_worker_settings
    set_worker_settings(SETTINGS)
    conn = connect(campaign_db(name))
    conn.execute("DELETE FROM recgen.frequency_caps")
    job = one(conn, "SELECT recgen.enqueue('noop')")
    assert wait_for(lambda: one(conn, "SELECT state FROM recgen.jobs WHERE job_id = %s", (job,)) == "completed", 120)
    yield conn
    conn.close()
    set_worker_settings({k: None for k in SETTINGS})


def running_receiver(db):
    """The webhook receiver with the database's signing secret, for a
    fixture (yield from it); stopped after."""
    r = Receiver(one(db, "SELECT recgen.webhook_secret()")).start()
    yield r
    r.stop()


def endpoint(db, name, url, secret, retry_schedule=FAST_RETRIES, timeout="5 seconds"):
    db.execute("DELETE FROM recgen.deliveries WHERE endpoint = %s", (name,))
    db.execute("DELETE FROM recgen.webhook_endpoints WHERE name = %s", (name,))
    db.execute("INSERT INTO recgen.webhook_endpoints (name, url, secret, retry_schedule, timeout) VALUES (%s, %s, %s, %s, %s)",
               (name, url, secret, retry_schedule, timeout))


def deliver(db, endpoint_name, customers, tag):
    """Stores one content per customer (as the pipeline would) and creates its delivery."""
    ids = []
    for c in customers:
        content = one(db, """INSERT INTO recgen.content (customer_id, kind, brand, campaign, model, context, output,
                                                          product_ids, verdict)
                             VALUES (%s, 'email', 'default', %s, 'm', '{}',
                                     jsonb_build_object('subject', 'A pick for you', 'body', 'Hi, we think you will like it.'),
                                     '{1}', 'pass') RETURNING content_id""", (c, tag))
        ids.append(one(db, "SELECT recgen.delivery_create(%s, %s, %s)", (c, content, endpoint_name)))
    return ids


def states(db, ids):
    return db.execute("""SELECT delivery_id, state, attempts, webhook_id, last_status FROM recgen.deliveries
                          WHERE delivery_id = ANY(%s) ORDER BY delivery_id""", (ids,)).fetchall()


def settled(db, ids, timeout=60):
    return wait_for(lambda: all(s[1] in ("delivered", "failed", "disabled") for s in states(db, ids)), timeout)


def processed_once(receiver, rows):
    ids = sorted(p["id"] for p in receiver.get("/processed"))
    assert ids == sorted(r[3] for r in rows), "every delivery processed once, under its own webhook-id"


def attempts(db, delivery_id):
    return db.execute("""SELECT attempt, http_status, error, attempted_at FROM recgen.delivery_attempts
                          WHERE delivery_id = %s ORDER BY attempt""", (delivery_id,)).fetchall()
