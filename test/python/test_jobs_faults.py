"""Faults of the server side of the job queue: a worker killed with SIGKILL in
the middle of a job (the postmaster restarts everything) and the whole cluster
stopped in immediate mode with jobs queued and running, for SQL jobs (a mark
per run, committed with the completion) and for email jobs on the fake LLM
server (one content row per job). Every job must end completed, and have run
to its end exactly once: no content lost, none twice."""
import pytest

from content_helpers import fake, fake_get  # noqa: F401 (fixture)
from jobs_helpers import (SETTINGS, connect, jobs_db, kill_and_reconnect, one, pg_ctl, reconnect, set_db,
                          set_worker_settings, start_cluster, wait_for, wait_jobs)


# The private cluster runs with synchronous_commit off, so a crash may lose
# the last commits; these tests need them durable, like a production server.
FAULT_SETTINGS = dict(SETTINGS, synchronous_commit="on")


@pytest.fixture(scope="module")
def db(fake):
    set_worker_settings(FAULT_SETTINGS)
    d = jobs_db("recgen_py_jobs_faults")
    set_db(d, {"recgen.llm_url": f"{fake}/v1", "recgen.llm_model": "fake-sleep1"})
    yield d
    set_worker_settings({k: None for k in FAULT_SETTINGS})


def content_rows(conn, ids):
    rows = conn.execute("SELECT job_id, count(*) FROM recgen.content WHERE job_id = ANY(%s) GROUP BY 1", (ids,))
    return dict(rows.fetchall())


def completed_marks(conn, ids):
    rows = conn.execute("SELECT job_id, count(*) FROM tst.marks WHERE job_id = ANY(%s) GROUP BY 1", (ids,))
    return dict(rows.fetchall())


def test_a_worker_killed_in_the_middle_of_a_job(db):
    conn = connect(db)
    j = one(conn, "SELECT recgen.enqueue('tst_mark', '{\"sleep\": 3}')")
    pid = wait_for(lambda: one(conn, "SELECT leased_by FROM recgen.jobs WHERE job_id = %s AND state = 'running'", (j,)))
    assert pid
    conn = kill_and_reconnect(conn, db, pid)   # the postmaster resets every process
    assert wait_jobs(conn, [j], timeout=90) == ["completed"]
    assert completed_marks(conn, [j]) == {j: 1}
    attempt, errors = conn.execute("SELECT attempt, errors FROM recgen.jobs WHERE job_id = %s", (j,)).fetchone()
    assert attempt == 2
    assert len(errors) == 1 and errors[0]["sqlstate"] == "57P01" and errors[0]["attempt"] == 1
    conn.close()


def test_the_cluster_stopped_in_immediate_mode_with_50_jobs(db):
    conn = connect(db)
    ids = [r[0] for r in conn.execute("SELECT recgen.enqueue('tst_mark', '{\"sleep\": 0.3}') FROM generate_series(1, 50)")]
    assert wait_for(lambda: one(conn, "SELECT count(*) >= 2 FROM recgen.jobs WHERE job_id = ANY(%s)"
                                      " AND state IN ('running', 'completed')", (ids,)))
    conn.close()
    pg_ctl("-m", "immediate", "-w", "stop")
    start_cluster()
    conn = reconnect(db)
    before = one(conn, "SELECT count(*) FROM recgen.jobs WHERE job_id = ANY(%s) AND state <> 'completed'", (ids,))
    assert before > 0                     # the stop really cut the run short
    assert set(wait_jobs(conn, ids, timeout=120)) == {"completed"}
    marks = completed_marks(conn, ids)
    assert len(marks) == 50 and set(marks.values()) == {1}
    conn.close()


def test_a_worker_killed_while_waiting_for_an_llm_answer(db, fake):
    conn = connect(db)
    conn.execute("SET recgen.llm_model = 'fake-slowonce'")        # the first answer takes 60 s
    j = one(conn, "SELECT recgen.enqueue('email', customer_id => 1)")
    assert wait_for(lambda: any(r["body"].get("model") == "fake-slowonce" for r in fake_get(fake, "/requests")))
    pid = one(conn, "SELECT leased_by FROM recgen.jobs WHERE job_id = %s AND state = 'running'", (j,))
    conn = kill_and_reconnect(conn, db, pid)
    assert wait_jobs(conn, [j], timeout=90) == ["completed"]
    assert content_rows(conn, [j]) == {j: 1}
    assert one(conn, "SELECT attempt FROM recgen.jobs WHERE job_id = %s", (j,)) == 2
    conn.close()


def test_the_cluster_stopped_in_immediate_mode_with_50_email_jobs(db):
    conn = connect(db)
    conn.execute("SET recgen.llm_model = 'fake-sleep1'")          # each answer takes 1 s
    ids = [r[0] for r in conn.execute("SELECT recgen.enqueue('email', customer_id => c)"
                                      " FROM generate_series(1, 50) g, LATERAL (SELECT (ARRAY[1, 4, 5, 6])[g % 4 + 1] c) x")]
    assert wait_for(lambda: one(conn, "SELECT count(*) >= 4 FROM recgen.jobs WHERE job_id = ANY(%s)"
                                      " AND state = 'completed'", (ids,)), timeout=60)
    conn.close()
    pg_ctl("-m", "immediate", "-w", "stop")
    start_cluster()
    conn = reconnect(db)
    assert one(conn, "SELECT count(*) FROM recgen.jobs WHERE job_id = ANY(%s) AND state <> 'completed'", (ids,)) > 0
    assert set(wait_jobs(conn, ids, timeout=180)) == {"completed"}
    rows = content_rows(conn, ids)
    assert len(rows) == 50 and set(rows.values()) == {1}
    conn.close()
