"""The process action of job steps (src/job_process.c): a helper program run
by the worker with no transaction open, its progress lines becoming the job's
progress, its result line and exit status passed to the next step, and the
program stopped (its whole process group) when the job is cancelled, times
out, or the worker gets SIGTERM. The helper is a test script installed as
recgen-test-helper beside the private server's programs (where recgen's
helper programs live); only recgen-* programs of those folders may run."""
import os
import shutil
import stat
import subprocess
import time

import pytest

from content_helpers import ROOT
from jobs_helpers import SETTINGS, connect, jobs_db, one, set_worker_settings, wait_for, wait_jobs

HELPER = """#!/bin/sh
# recgen-test-helper SLEEP [EXIT]: the protocol of recgen's helper programs
echo "progress 0.1 started $$"
sleep "$1"
echo "progress 0.9 done sleeping"
echo "result {\\"slept\\": $1, \\"args\\": $#}"
echo "a note on stderr" >&2
exit "${2:-0}"
"""

KINDS = """
CREATE FUNCTION tst.run_helper(job recgen.jobs, state jsonb, results jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    IF state IS NULL THEN
        RETURN jsonb_build_object('state', '{}'::jsonb, 'process', jsonb_build_object(
            'program', coalesce(job.payload ->> 'program', 'recgen-test-helper'),
            'args', jsonb_build_array(job.payload ->> 'sleep', coalesce(job.payload ->> 'exit', '0')),
            'timeout', coalesce((job.payload ->> 'timeout')::float8, 60)));
    END IF;
    IF (results ->> 'timed_out')::boolean THEN
        RETURN jsonb_build_object('fail', 'the helper timed out', 'retryable', false);
    END IF;
    RETURN jsonb_build_object('result', results);
END $$;
GRANT EXECUTE ON FUNCTION tst.run_helper(recgen.jobs, jsonb, jsonb) TO recgen_worker;
INSERT INTO recgen.job_kinds (kind, handler, max_attempts, timeout, description)
VALUES ('tst_helper', 'tst.run_helper', 1, '2 minutes', 'test: run recgen-test-helper');
"""


@pytest.fixture(scope="module")
def db():
    bindir = subprocess.check_output([os.path.join(ROOT, "tools", "cluster.sh"), "bindir"], text=True).strip()
    path = os.path.join(bindir, "recgen-test-helper")
    with open(path, "w") as f:
        f.write(HELPER)
    os.chmod(path, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    set_worker_settings(SETTINGS)
    d = jobs_db("recgen_py_jobs_process")
    with connect(d) as c:
        c.execute(KINDS)
    yield d
    set_worker_settings({k: None for k in SETTINGS})
    os.unlink(path)


@pytest.fixture
def conn(db):
    c = connect(db)
    yield c
    c.close()


def helper_pid(conn, j):
    phase = wait_for(lambda: one(conn, "SELECT progress ->> 'phase' FROM recgen.jobs WHERE job_id = %s"
                                       " AND progress ->> 'phase' LIKE 'started %%'", (j,)))
    return int(phase.split()[1]) if phase else None


def alive(pid):
    return os.path.exists(f"/proc/{pid}")


def test_a_helper_runs_and_its_outcome_reaches_the_next_step(conn):
    j = one(conn, "SELECT recgen.enqueue('tst_helper', '{\"sleep\": \"0.2\"}')")
    assert wait_jobs(conn, [j]) == ["completed"]
    r = one(conn, "SELECT result FROM recgen.jobs WHERE job_id = %s", (j,))
    assert r["exit_code"] == 0 and r["signal"] is None and not r["timed_out"] and not r["stopped"]
    assert r["result"] == {"slept": 0.2, "args": 2}
    assert r["progress"]["fraction"] == 0.9 and r["progress"]["phase"] == "done sleeping"
    assert "a note on stderr" in r["stderr"]


def test_a_failing_helper_reports_its_exit_status(conn):
    j = one(conn, "SELECT recgen.enqueue('tst_helper', '{\"sleep\": \"0\", \"exit\": \"7\"}')")
    assert wait_jobs(conn, [j]) == ["completed"]
    assert one(conn, "SELECT result -> 'exit_code' FROM recgen.jobs WHERE job_id = %s", (j,)) == 7


def test_progress_is_visible_while_it_runs(conn):
    j = one(conn, "SELECT recgen.enqueue('tst_helper', '{\"sleep\": \"4\"}')")
    pid = helper_pid(conn, j)
    assert pid and alive(pid)
    assert one(conn, "SELECT state FROM recgen.jobs WHERE job_id = %s", (j,)) == "running"
    assert wait_jobs(conn, [j]) == ["completed"]


def test_cancel_stops_the_helper(conn):
    j = one(conn, "SELECT recgen.enqueue('tst_helper', '{\"sleep\": \"60\"}')")
    pid = helper_pid(conn, j)
    assert pid
    assert one(conn, "SELECT recgen.cancel_job(%s)", (j,)) is True
    assert wait_for(lambda: not alive(pid), timeout=20)
    assert one(conn, "SELECT state FROM recgen.jobs WHERE job_id = %s", (j,)) == "cancelled"


def test_a_helper_past_its_timeout_is_stopped(conn):
    j = one(conn, "SELECT recgen.enqueue('tst_helper', '{\"sleep\": \"60\", \"timeout\": 1}')")
    pid = helper_pid(conn, j)
    assert wait_jobs(conn, [j]) == ["discarded"]
    assert not alive(pid)
    assert "timed out" in one(conn, "SELECT errors -> 0 ->> 'error' FROM recgen.jobs WHERE job_id = %s", (j,))


def test_sigterm_stops_the_helper_and_gives_the_job_back(conn):
    j = one(conn, "SELECT recgen.enqueue('tst_helper', '{\"sleep\": \"60\"}')")
    pid = helper_pid(conn, j)
    worker = one(conn, "SELECT leased_by FROM recgen.jobs WHERE job_id = %s", (j,))
    conn.execute("SELECT pg_terminate_backend(%s)", (worker,))
    assert wait_for(lambda: not alive(pid) and one(conn, "SELECT count(*) = 0 FROM pg_stat_activity"
                                                         " WHERE pid = %s", (worker,)), timeout=30)
    state, errors = conn.execute("SELECT state, errors FROM recgen.jobs WHERE job_id = %s", (j,)).fetchone()
    assert errors == [] and state in ("available", "running")
    one(conn, "SELECT recgen.cancel_job(%s)", (j,))


def test_only_recgen_helper_programs_may_run(conn):
    j = one(conn, "SELECT recgen.enqueue('tst_helper', '{\"sleep\": \"0\", \"program\": \"sh\"}')")
    assert wait_jobs(conn, [j]) == ["discarded"]
    err = one(conn, "SELECT errors -> 0 FROM recgen.jobs WHERE job_id = %s", (j,))
    assert err["sqlstate"] == "22023" and "recgen's helper programs" in err["error"]
    k = one(conn, "SELECT recgen.enqueue('tst_helper', '{\"sleep\": \"0\", \"program\": \"recgen-nope\"}')")
    assert wait_jobs(conn, [k]) == ["discarded"]
    assert "is not installed" in one(conn, "SELECT errors -> 0 ->> 'error' FROM recgen.jobs WHERE job_id = %s", (k,))
