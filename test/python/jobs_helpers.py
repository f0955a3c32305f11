"""Shared fixtures of the job queue tests: a database with the extension, test
job kinds whose handlers leave a mark per run (so a test can count how often a
job really ran), settings that make retries quick, and control of the private
cluster (kill a worker, stop it in immediate mode)."""
import os
import signal
import subprocess
import time

import psycopg

from content_helpers import ROOT, dsn, fresh_db

# Test kinds: handlers in schema tst, run by the workers as recgen_worker.
KINDS = """
CREATE SCHEMA tst;
GRANT USAGE ON SCHEMA tst TO recgen_worker;
CREATE TABLE tst.marks (job_id bigint NOT NULL, attempt integer NOT NULL, who text NOT NULL,
                        at timestamptz NOT NULL DEFAULT clock_timestamp());
GRANT SELECT, INSERT ON tst.marks TO recgen_worker;

-- sleeps payload.sleep seconds, then leaves a mark: what ran, and as whom
CREATE FUNCTION tst.mark(job recgen.jobs, state jsonb, results jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_sleep(coalesce((job.payload ->> 'sleep')::float8, 0));
    INSERT INTO tst.marks (job_id, attempt, who) VALUES (job.job_id, job.attempt, current_user);
    RETURN jsonb_build_object('result', jsonb_build_object('who', current_user));
END $$;

-- raises payload.sqlstate
CREATE FUNCTION tst.fail(job recgen.jobs, state jsonb, results jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'test failure %', job.attempt USING ERRCODE = job.payload ->> 'sqlstate';
END $$;

-- reads its customer: row-level security decides whether it can
CREATE FUNCTION tst.peek(job recgen.jobs, state jsonb, results jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    name text;
BEGIN
    SELECT first_name INTO name FROM recgen.customers WHERE customer_id = job.customer_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'customer % is not visible to %', job.customer_id, current_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN jsonb_build_object('result', jsonb_build_object('name', name, 'who', current_user));
END $$;

-- snoozes on its first run, completes on the next
CREATE FUNCTION tst.snooze_once(job recgen.jobs, state jsonb, results jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tst.marks (job_id, attempt, who) VALUES (job.job_id, job.attempt, current_user);
    IF (SELECT count(*) FROM tst.marks WHERE job_id = job.job_id) = 1 THEN
        RETURN jsonb_build_object('snooze', 0.5, 'reason', 'not yet');
    END IF;
    RETURN jsonb_build_object('result', 'done');
END $$;

GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA tst TO recgen_worker;
INSERT INTO recgen.job_kinds (kind, handler, max_attempts, timeout, description) VALUES
    ('tst_mark', 'tst.mark', 5, '1 minute', 'test: sleep, then mark'),
    ('tst_fail', 'tst.fail', 3, '1 minute', 'test: raise'),
    ('tst_peek', 'tst.peek', 1, '1 minute', 'test: read the customer'),
    ('tst_snooze', 'tst.snooze_once', 2, '1 minute', 'test: snooze once');
"""

# quick retries and leases for the tests; reset at the end
SETTINGS = {
    "recgen.job_backoff_base": "100ms",
    "recgen.job_backoff_max": "300ms",
    "recgen.job_lease": "3s",
    "recgen.worker_idle_timeout": "5s",
}


def admin(timeout=60):
    """A superuser connection to the postgres database, once the server accepts
    connections (it may be restarting after a fault test)."""
    deadline = time.time() + timeout
    while True:
        try:
            return psycopg.connect(dsn("postgres"), autocommit=True)
        except psycopg.OperationalError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def set_worker_settings(settings):
    """ALTER SYSTEM the settings (None resets one) and reload."""
    with admin() as c:
        for k, v in settings.items():
            if v is None:
                c.execute(f"ALTER SYSTEM RESET {k}")
            else:
                c.execute(f"ALTER SYSTEM SET {k} = '{v}'")
        c.execute("SELECT pg_reload_conf()")
    time.sleep(0.3)


def jobs_db(name):
    """A fresh database with the extension and the test kinds."""
    d = fresh_db(name)
    with psycopg.connect(d, autocommit=True) as c:
        c.execute(KINDS)
    return d


def set_db(db_dsn, settings):
    """ALTER DATABASE the settings (None resets one) and restart its workers,
    so that they run with them (a worker reads its database's settings when
    it starts)."""
    name = db_dsn.split("dbname=")[1].split()[0]
    with admin() as a:
        for k, v in settings.items():
            if v is None:
                a.execute(f"ALTER DATABASE {name} RESET {k}")
            else:
                a.execute(f"ALTER DATABASE {name} SET {k} = '{v}'")
        a.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                  " WHERE datname = %s AND backend_type = 'recgen worker'", (name,))
        wait_for(lambda: one(a, "SELECT count(*) = 0 FROM pg_stat_activity WHERE datname = %s"
                                " AND backend_type = 'recgen worker'", (name,)))


def connect(db_dsn):
    c = psycopg.connect(db_dsn, autocommit=True)
    c.execute("SET client_min_messages = warning")
    return c


def one(conn, sql, params=None):
    row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def wait_jobs(conn, ids, timeout=60):
    """States of the jobs once final (or the timeout passed), by polling from
    here: a client-side loop holds no snapshot between polls."""
    deadline = time.time() + timeout
    while True:
        rows = dict(conn.execute("SELECT job_id, state FROM recgen.jobs WHERE job_id = ANY(%s)", (list(ids),)).fetchall())
        if all(rows.get(i) in ("completed", "cancelled", "discarded") for i in ids) or time.time() > deadline:
            return [rows.get(i) for i in ids]
        time.sleep(0.05)


def wait_for(fn, timeout=30, step=0.05):
    """Poll fn() until it returns something true; return it (or None)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return None


def reconnect(db_dsn, timeout=60):
    """A connection once the server accepts them again (after a crash)."""
    deadline = time.time() + timeout
    while True:
        try:
            return connect(db_dsn)
        except psycopg.OperationalError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def kill_and_reconnect(conn, db_dsn, pid):
    """SIGKILL a server process, wait until the postmaster has reset every
    process (conn, open before, is cut off), and return a new connection."""
    os.kill(pid, signal.SIGKILL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn.execute("SELECT 1")
            time.sleep(0.05)
        except psycopg.OperationalError:
            break
    conn.close()
    return reconnect(db_dsn)


def pg_ctl(*args):
    """Run the private cluster's pg_ctl as the server's user."""
    bindir = subprocess.check_output([os.path.join(ROOT, "tools", "cluster.sh"), "bindir"], text=True).strip()
    datadir = os.path.join(os.environ.get("RECGEN_PGDATA_ROOT", os.path.join(ROOT, ".pgdata")), "data")
    cmd = [os.path.join(bindir, "pg_ctl"), "-D", datadir, *args]
    if os.getuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def start_cluster():
    subprocess.run([os.path.join(ROOT, "tools", "cluster.sh"), "start"], check=True, stdout=subprocess.DEVNULL)
