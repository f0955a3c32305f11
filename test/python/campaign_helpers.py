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
