"""The job queue with its real workers (src/worker_*.c): jobs queued by one
transaction run when it commits and never when it rolls back, failures are
counted in their own transaction and retried with backoff, permanent errors
and exhausted attempts discard, snoozes give the attempt back, jobs run as
recgen_worker under row-level security, cancel, notifications, status views,
and DROP DATABASE with a worker connected. The kinds are the test kinds of
jobs_helpers (handlers that leave a mark per run)."""
import os
import select
import signal
import time

import psycopg
import pytest

from jobs_helpers import (SETTINGS, admin, connect, jobs_db, one, set_worker_settings, wait_for,
                          wait_jobs)


@pytest.fixture(scope="module")
def db():
    set_worker_settings(SETTINGS)
    yield jobs_db("recgen_py_jobs")
    set_worker_settings({k: None for k in SETTINGS})


@pytest.fixture
def conn(db):
    c = connect(db)
    yield c
    c.close()


def marks(conn, job_id):
    return one(conn, "SELECT count(*) FROM tst.marks WHERE job_id = %s", (job_id,))


def test_a_job_runs_once_as_recgen_worker(conn):
    j = one(conn, "SELECT recgen.enqueue('tst_mark')")
    assert wait_jobs(conn, [j]) == ["completed"]
    assert marks(conn, j) == 1
    row = conn.execute("SELECT attempt, result, errors, finalized_at >= attempted_at FROM recgen.jobs"
                       " WHERE job_id = %s", (j,)).fetchone()
    assert row == (1, {"who": "recgen_worker"}, [], True)
    assert one(conn, "SELECT who FROM tst.marks WHERE job_id = %s", (j,)) == "recgen_worker"


def test_many_jobs_two_workers_each_runs_once(conn):
    ids = [r[0] for r in conn.execute("SELECT recgen.enqueue('tst_mark') FROM generate_series(1, 300)")]
    assert set(wait_jobs(conn, ids)) == {"completed"}
    per_job = conn.execute("SELECT job_id, count(*) FROM tst.marks WHERE job_id = ANY(%s) GROUP BY 1",
                           (ids,)).fetchall()
    assert len(per_job) == 300 and {n for _, n in per_job} == {1}


def test_a_rolled_back_enqueue_never_runs(conn):
    conn.execute("BEGIN")
    j = one(conn, "SELECT recgen.enqueue('tst_mark')")
    conn.execute("ROLLBACK")
    # a job committed after it runs, so the workers were awake all along
    k = one(conn, "SELECT recgen.enqueue('tst_mark')")
    assert wait_jobs(conn, [k]) == ["completed"]
    assert one(conn, "SELECT count(*) FROM recgen.jobs WHERE job_id = %s", (j,)) == 0
    assert marks(conn, j) == 0


def test_a_retryable_error_retries_with_backoff_then_discards(conn):
    j = one(conn, "SELECT recgen.enqueue('tst_fail', '{\"sqlstate\": \"08006\"}')")
    assert wait_jobs(conn, [j]) == ["discarded"]
    attempt, errors = conn.execute("SELECT attempt, errors FROM recgen.jobs WHERE job_id = %s", (j,)).fetchone()
    assert attempt == 3 and len(errors) == 3                 # the kind's max_attempts
    assert [e["attempt"] for e in errors] == [1, 2, 3]
    assert all(e["retryable"] and e["sqlstate"] == "08006" and "test failure" in e["error"] for e in errors)
    # each failure was recorded in its own transaction, after a backoff of
    # 100 ms doubling with jitter (50-150 %): at least 50 ms, then 100 ms
    times = [r[0] for r in conn.execute("SELECT (e ->> 'at')::timestamptz FROM recgen.jobs,"
                                        " jsonb_array_elements(errors) e WHERE job_id = %s ORDER BY 1", (j,))]
    assert (times[1] - times[0]).total_seconds() >= 0.05
    assert (times[2] - times[1]).total_seconds() >= 0.1


def test_a_permanent_error_discards_at_once(conn):
    j = one(conn, "SELECT recgen.enqueue('tst_fail', '{\"sqlstate\": \"22023\"}')")
    assert wait_jobs(conn, [j]) == ["discarded"]
    attempt, errors = conn.execute("SELECT attempt, errors FROM recgen.jobs WHERE job_id = %s", (j,)).fetchone()
    assert attempt == 1 and len(errors) == 1 and errors[0]["retryable"] is False


def test_retry_job_runs_a_discarded_job_again(conn):
    j = one(conn, "SELECT recgen.enqueue('tst_fail', '{\"sqlstate\": \"22023\"}')")
    assert wait_jobs(conn, [j]) == ["discarded"]
    assert one(conn, "SELECT recgen.retry_job(%s)", (j,)) is True
    assert wait_jobs(conn, [j]) == ["discarded"]
    assert conn.execute("SELECT attempt, jsonb_array_length(errors) FROM recgen.jobs WHERE job_id = %s",
                        (j,)).fetchone() == (2, 2)


def test_a_snooze_runs_again_without_using_an_attempt(conn):
    j = one(conn, "SELECT recgen.enqueue('tst_snooze', max_attempts => 1)")
    assert wait_jobs(conn, [j]) == ["completed"]              # one attempt was enough twice
    assert marks(conn, j) == 2
    assert conn.execute("SELECT attempt, errors FROM recgen.jobs WHERE job_id = %s", (j,)).fetchone() == (1, [])
    t = [r[0] for r in conn.execute("SELECT at FROM tst.marks WHERE job_id = %s ORDER BY at", (j,))]
    assert (t[1] - t[0]).total_seconds() >= 0.5


def test_row_level_security_binds_jobs(conn):
    ok = one(conn, "SELECT recgen.enqueue('tst_peek', customer_id => 1)")      # consents to profiling
    hidden = one(conn, "SELECT recgen.enqueue('tst_peek', customer_id => 3)")  # does not
    assert wait_jobs(conn, [ok, hidden]) == ["completed", "discarded"]
    assert one(conn, "SELECT result FROM recgen.jobs WHERE job_id = %s", (ok,)) == {"name": "Alice",
                                                                                    "who": "recgen_worker"}
    err = one(conn, "SELECT errors -> 0 FROM recgen.jobs WHERE job_id = %s", (hidden,))
    assert err["sqlstate"] == "42501" and "not visible to recgen_worker" in err["error"]


def test_cancel_a_queued_and_a_running_job(conn):
    later = one(conn, "SELECT recgen.enqueue('tst_mark', run_at => now() + interval '2 seconds')")
    assert one(conn, "SELECT recgen.cancel_job(%s)", (later,)) is True
    running = one(conn, "SELECT recgen.enqueue('tst_mark', '{\"sleep\": 2}')")
    assert wait_for(lambda: one(conn, "SELECT state = 'running' FROM recgen.jobs WHERE job_id = %s", (running,)))
    assert one(conn, "SELECT recgen.cancel_job(%s)", (running,)) is True
    time.sleep(3)
    # the running one finished its sleep, found its lease gone and rolled back its mark
    assert wait_jobs(conn, [later, running]) == ["cancelled", "cancelled"]
    assert marks(conn, later) == 0 and marks(conn, running) == 0
    assert one(conn, "SELECT result FROM recgen.jobs WHERE job_id = %s", (running,)) is None


def test_final_states_are_notified(db, conn):
    listener = connect(db)
    listener.execute("LISTEN recgen_jobs")
    j = one(conn, "SELECT recgen.enqueue('tst_mark')")
    got = []
    deadline = time.time() + 30
    while time.time() < deadline and not any(n.get("job_id") == j for n in got):
        for n in listener.notifies(timeout=1, stop_after=1):
            got.append(__import__("json").loads(n.payload))
    listener.close()
    assert {"job_id": j, "kind": "tst_mark", "state": "completed"} in got


def test_status_views(conn):
    j = one(conn, "SELECT recgen.enqueue('tst_mark', '{\"sleep\": 1.5}')")
    assert wait_for(lambda: one(conn, "SELECT state = 'running' FROM recgen.jobs WHERE job_id = %s", (j,)))
    status = conn.execute("SELECT role, database, state, job_id, kind FROM recgen.worker_status").fetchall()
    assert ("launcher", None) in [(r[0], r[1]) for r in status]
    assert any(r[0] == "scheduler" and r[1] == "recgen_py_jobs" for r in status)
    assert any(r[0] == "worker" and r[3] == j and r[4] == "tst_mark" for r in status)
    types = {r[0] for r in conn.execute("SELECT backend_type FROM pg_stat_activity")}
    assert {"recgen launcher", "recgen worker", "recgen scheduler"} <= types
    assert wait_jobs(conn, [j]) == ["completed"]
    row = conn.execute("SELECT completed, completed_last_hour, mean_run_time > interval '0',"
                       " p95_run_time >= mean_run_time, oldest_available IS NULL"
                       " FROM recgen.job_stats WHERE kind = 'tst_mark'").fetchone()
    done = one(conn, "SELECT count(*) FROM recgen.jobs WHERE kind = 'tst_mark' AND state = 'completed'")
    assert row == (done, done, True, True, True)


def test_drop_database_is_not_blocked_by_a_worker(db):
    other = jobs_db("recgen_py_jobs_drop")
    c = connect(other)
    j = one(c, "SELECT recgen.enqueue('tst_mark', '{\"sleep\": 30}')")
    assert wait_for(lambda: one(c, "SELECT state = 'running' FROM recgen.jobs WHERE job_id = %s", (j,)))
    c.close()
    with admin() as a:
        a.execute("DROP DATABASE recgen_py_jobs_drop")      # no FORCE: would wait 5 s and fail
        assert one(a, "SELECT count(*) FROM pg_database WHERE datname = 'recgen_py_jobs_drop'") == 0
