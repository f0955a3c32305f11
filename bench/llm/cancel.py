#!/usr/bin/env python3
"""cancel.py - how long query cancel takes to stop an LLM request, against
how long it takes to stop PostgreSQL's own pg_sleep (the baseline), in the
same run.

    .venv/bin/python bench/llm/cancel.py [N]      (N cancels per case, default 20)

Starts the fake LLM server (test/fake_llm.py) on a free port and a scratch
database recgen_bench_cancel in the private cluster (RECGEN_PORT). For each
case, a session starts the statement; once the request is on the fake
server (or, for pg_sleep, once the backend is sleeping), another session
calls pg_cancel_backend and the time until the first session gets its
error is measured. Cases: pg_sleep(60) (baseline), recgen.email() waiting
for the answer's headers (fake-slow), recgen.email() in the middle of a
slow answer body (fake-slowstream). Prints one table: median, 90th
percentile and worst in ms, and the median's ratio to the baseline.
"""
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

import psycopg

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DB = "recgen_bench_cancel"
N = int(sys.argv[1]) if len(sys.argv) > 1 else 20

SEED = """
INSERT INTO recgen.products (product_id, sku, name, category, price) VALUES
  (1, 'MUG', 'Red Enamel Mug', 'kitchen', 6.50), (2, 'POT', 'Stoneware Teapot', 'kitchen', 24.00);
INSERT INTO recgen.customers (customer_id, first_name, consent_marketing, consent_profiling)
SELECT c, 'Ann', true, true FROM generate_series(1, 20) c;
INSERT INTO recgen.events (customer_id, product_id, kind, quantity, amount, occurred_at, basket_id)
SELECT c, 1 + c % 2, 'purchase', 1, 10, now() - c * interval '1 day', 'b' || c FROM generate_series(1, 20) c;
SELECT recgen.refresh_model();
"""


def dsn(db):
    return subprocess.check_output([os.path.join(ROOT, "tools", "cluster.sh"), "dsn", db], text=True).strip()


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode()


def cancel_once(conn, other, sql, ready):
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    done = {}

    def run():
        try:
            conn.execute(sql)
        except psycopg.errors.QueryCanceled:
            pass
        done["t"] = time.monotonic()

    th = threading.Thread(target=run)
    th.start()
    while not ready(pid):
        time.sleep(0.005)
    t0 = time.monotonic()
    other.execute("SELECT pg_cancel_backend(%s)", (pid,))
    th.join(120)
    return (done["t"] - t0) * 1000


def main():
    fake = subprocess.Popen([sys.executable, os.path.join(ROOT, "test", "fake_llm.py"), "0"],
                            stdout=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{int(fake.stdout.readline().split()[1])}"
    try:
        with psycopg.connect(dsn("postgres"), autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
            c.execute(f"CREATE DATABASE {DB}")
        with psycopg.connect(dsn(DB), autocommit=True) as c:
            c.execute("SET client_min_messages = warning")
            c.execute("CREATE EXTENSION recgen")
            c.execute(SEED)
        conn = psycopg.connect(dsn(DB), autocommit=True)
        other = psycopg.connect(dsn(DB), autocommit=True)
        conn.execute(f"SET recgen.llm_url = '{url}/v1'")

        def sleeping(pid):
            return other.execute("SELECT wait_event = 'PgSleep' FROM pg_stat_activity WHERE pid = %s",
                                 (pid,)).fetchone()[0]

        def on_server(n):
            return lambda pid: get(url + "/requests").count('"path"') >= n

        cases = []
        times = [cancel_once(conn, other, "SELECT pg_sleep(60)", sleeping) for _ in range(N)]
        cases.append(("pg_sleep(60) (baseline)", times))
        for model, label in (("fake-slow", "email(), waiting for the answer"),
                             ("fake-slowstream", "email(), in a slow answer body")):
            conn.execute(f"SET recgen.llm_model = '{model}'")
            get(url + "/reset")
            times = []
            for i in range(N):
                times.append(cancel_once(conn, other, f"SELECT recgen.email({1 + i % 20})", on_server(i + 1)))
            cases.append((label, times))
        conn.execute("SELECT recgen.flush_llm_calls()")   # the interrupted calls' rows
        conn.close()
        other.close()
    finally:
        fake.terminate()
        fake.wait(timeout=10)
    base = statistics.median(cases[0][1])
    print(f"cancel latency, {N} cancels per case (time from pg_cancel_backend to the error)")
    print(f"{'case':36} {'median ms':>10} {'p90 ms':>8} {'worst ms':>9} {'ratio':>6}")
    for label, t in cases:
        t = sorted(t)
        p90 = t[min(len(t) - 1, int(0.9 * len(t)))]
        print(f"{label:36} {statistics.median(t):10.1f} {p90:8.1f} {t[-1]:9.1f} {statistics.median(t) / base:6.2f}")


if __name__ == "__main__":
    main()
