"""Content jobs through the workers, against the fake OpenAI-compatible
server (test/fake_llm.py): the LLM requests are sent by the worker between
the job's steps with no transaction open, and each job stores exactly one
content row (content.job_id). Covers the model pinned at enqueue time,
consent under the worker's rights, a 429 that snoozes, an endpoint that is
down, local rate limits, several requests in flight, SIGTERM while an answer
is held back, an unusable answer (retried, then the template on the last
attempt, its first call written back from the shared ring), and two
endpoints of which one stops mid-run."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from content_helpers import ROOT, fake, fake_get  # noqa: F401 (fixture)
from jobs_helpers import (SETTINGS, connect, jobs_db, one, set_db, set_worker_settings, wait_for,
                          wait_jobs)


@pytest.fixture(scope="module")
def db(fake):
    set_worker_settings(SETTINGS)
    d = jobs_db("recgen_py_jobs_content")
    set_db(d, {"recgen.llm_url": f"{fake}/v1", "recgen.llm_backoff_base": "50",
               "recgen.llm_max_retries": "1"})
    yield d
    set_worker_settings({k: None for k in SETTINGS})


@pytest.fixture
def conn(db, fake):
    fake_get(fake, "/reset")
    c = connect(db)
    c.execute("SET recgen.llm_model = 'fake-normal'")
    yield c
    c.close()


def contents(conn, job_id):
    return conn.execute("SELECT content_id, kind, verdict, model FROM recgen.content WHERE job_id = %s",
                        (job_id,)).fetchall()


def test_an_email_job_stores_one_content_with_the_pinned_model(conn, fake):
    j = one(conn, "SELECT recgen.enqueue('email', '{\"tone\": \"friendly\"}', customer_id => 1)")
    conn.execute("SET recgen.llm_model = 'fake-other'")       # later settings do not switch it
    assert wait_jobs(conn, [j]) == ["completed"]
    rows = contents(conn, j)
    assert len(rows) == 1 and rows[0][1:] == ("email", "pass", "fake-normal")
    result = one(conn, "SELECT result FROM recgen.jobs WHERE job_id = %s", (j,))
    assert result["content_id"] == rows[0][0] and result["verdict"] == "pass"
    pinned = conn.execute("SELECT j.model, j.template_tone = c.template_tone, j.template_version = c.template_version,"
                          " j.payload ->> 'brand', j.payload ->> 'tone'"
                          " FROM recgen.jobs j JOIN recgen.content c USING (job_id) WHERE j.job_id = %s", (j,)).fetchone()
    assert pinned == ("fake-normal", True, True, "default", "friendly")
    sent = [r["body"] for r in fake_get(fake, "/requests")]
    assert sent and all(b["model"] == "fake-normal" for b in sent)
    calls = conn.execute("SELECT outcome, model FROM recgen.llm_calls WHERE call_id IN"
                         " (SELECT unnest(call_ids) FROM recgen.content WHERE job_id = %s)", (j,)).fetchall()
    assert calls == [("ok", "fake-normal")]


def test_every_content_kind_runs_as_a_job(conn):
    ids = [one(conn, "SELECT recgen.enqueue(%s, %s::jsonb, customer_id => %s)", (k, json.dumps(p), c))
           for k, p, c in [("describe", {"product_id": 2}, None), ("summary", {}, 1),
                           ("snippet", {"channel": "sms"}, 1), ("explain", {"product_id": 2}, 1)]]
    assert wait_jobs(conn, ids) == ["completed"] * 4
    kinds = [contents(conn, j)[0][1] for j in ids]
    assert kinds == ["describe", "summary", "snippet", "explain"]


def test_enqueue_checks_a_content_payload(conn):
    for kind, payload, customer, msg in [
            ("email", {}, None, "needs a customer"),
            ("email", {"bogus": 1}, 1, 'does not take "bogus"'),
            ("email", {"tone": "shouty"}, 1, 'unknown tone "shouty"'),
            ("explain", {}, 1, "needs a product_id"),
            ("snippet", {"channel": "fax"}, 1, 'unknown channel "fax"')]:
        with pytest.raises(Exception) as e:
            conn.execute("SELECT recgen.enqueue(%s, %s::jsonb, customer_id => %s)", (kind, json.dumps(payload), customer))
        assert msg in str(e.value) and e.value.sqlstate == "22023"


def test_a_customer_without_consent_fails_with_the_consent_error(conn):
    j = one(conn, "SELECT recgen.enqueue('email', customer_id => 3)")   # no consent to profiling
    assert wait_jobs(conn, [j]) == ["discarded"]
    attempt, errors = conn.execute("SELECT attempt, errors FROM recgen.jobs WHERE job_id = %s", (j,)).fetchone()
    assert attempt == 1 and len(errors) == 1
    assert errors[0]["sqlstate"] == "42501" and "consent" in errors[0]["error"]
    assert contents(conn, j) == []


def test_a_429_snoozes_the_job_and_it_completes_after_the_wait(conn):
    conn.execute("SET recgen.llm_model = 'fake-429'")           # 429 with Retry-After: 1, then normal
    j = one(conn, "SELECT recgen.enqueue('email', customer_id => 1)")
    assert wait_for(lambda: one(conn, "SELECT progress ->> 'snoozed' FROM recgen.jobs WHERE job_id = %s", (j,)))
    assert wait_jobs(conn, [j]) == ["completed"]
    attempt, errors, progress = conn.execute("SELECT attempt, errors, progress FROM recgen.jobs WHERE job_id = %s",
                                             (j,)).fetchone()
    assert attempt == 1 and errors == []                          # the snooze used no attempt
    assert len(contents(conn, j)) == 1
    calls = conn.execute("SELECT outcome, http_status FROM recgen.llm_calls WHERE model = 'fake-429'"
                         " ORDER BY call_id").fetchall()
    assert calls == [("http_error", 429), ("ok", 200)]             # the 429 was logged, not retried inline


def test_an_unusable_answer_retries_and_the_last_attempt_falls_back(conn):
    conn.execute("SET recgen.llm_model = 'fake-malformed'")      # 200 with a body that is not JSON
    j = one(conn, "SELECT recgen.enqueue('email', customer_id => 1, max_attempts => 2)")
    assert wait_jobs(conn, [j]) == ["completed"]
    attempt, errors = conn.execute("SELECT attempt, errors FROM recgen.jobs WHERE job_id = %s", (j,)).fetchone()
    assert attempt == 2 and len(errors) == 1 and errors[0]["sqlstate"] == "38000" and errors[0]["retryable"]
    rows = contents(conn, j)
    assert len(rows) == 1 and rows[0][2] == "fallback"
    # the first attempt's call was logged in a step that rolled back: the
    # worker wrote it back from the shared ring
    assert wait_for(lambda: one(conn, "SELECT count(*) = 2 FROM recgen.llm_calls WHERE model = 'fake-malformed'"
                                      " AND outcome = 'bad_reply'"))


def test_local_rate_limits_snooze_what_would_wait_too_long(db, fake):
    c = connect(db)
    c.execute("SET recgen.llm_model = 'fake-normal'")
    # a request sent just before, with no limit, is not charged to the new one
    free = one(c, "SELECT recgen.enqueue('email', customer_id => 5)")
    assert wait_jobs(c, [free]) == ["completed"]
    set_db(db, {"recgen.llm_rpm": "1"})                          # one request a minute
    try:
        a = one(c, "SELECT recgen.enqueue('email', customer_id => 1)")
        assert wait_jobs(c, [a]) == ["completed"]
        assert one(c, "SELECT progress ->> 'snoozed' FROM recgen.jobs WHERE job_id = %s", (a,)) is None
        b = one(c, "SELECT recgen.enqueue('email', customer_id => 4)")
        assert wait_for(lambda: one(c, "SELECT progress ->> 'snoozed' FROM recgen.jobs WHERE job_id = %s", (b,)))
        state, attempt, errors = c.execute("SELECT state, attempt, errors FROM recgen.jobs WHERE job_id = %s",
                                           (b,)).fetchone()
        assert state == "scheduled" and attempt == 0 and errors == []
        assert contents(c, b) == []
        one(c, "SELECT recgen.cancel_job(%s)", (b,))
    finally:
        set_db(db, {"recgen.llm_rpm": None})
        c.close()


def test_several_requests_are_in_flight_at_once(conn, fake):
    conn.execute("SET recgen.llm_model = 'fake-sleep1'")          # answers after 1 s, counts in flight
    ids = [one(conn, "SELECT recgen.enqueue('email', customer_id => %s)", (c,)) for c in (1, 4, 5, 6) * 2]
    assert set(wait_jobs(conn, ids)) == {"completed"}
    assert fake_get(fake, "/inflight")["max"] >= 3
    assert sorted(len(contents(conn, j)) for j in ids) == [1] * 8


def test_sigterm_while_an_answer_is_held_back(conn, fake):
    conn.execute("SET recgen.llm_model = 'fake-slow'")            # answers after 60 s
    j = one(conn, "SELECT recgen.enqueue('email', customer_id => 1)")
    assert wait_for(lambda: any(r["body"].get("model") == "fake-slow" for r in fake_get(fake, "/requests")))
    pid = one(conn, "SELECT leased_by FROM recgen.jobs WHERE job_id = %s AND state = 'running'", (j,))
    assert pid
    conn.execute("SELECT pg_terminate_backend(%s)", (pid,))       # SIGTERM
    # it exits in the middle of the HTTP wait, long before the answer would come
    assert wait_for(lambda: one(conn, "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = %s", (pid,)),
                    timeout=30)
    row = conn.execute("SELECT state, leased_by, errors FROM recgen.jobs WHERE job_id = %s", (j,)).fetchone()
    assert row[0] in ("available", "running") and row[1] != pid and row[2] == []   # given back, not failed
    one(conn, "SELECT recgen.cancel_job(%s)", (j,))
    assert contents(conn, j) == []


def test_an_endpoint_that_is_down_retries_then_discards(db):
    set_db(db, {"recgen.llm_url": "http://127.0.0.1:9/v1"})       # nothing listens there
    c = connect(db)
    try:
        j = one(c, "SELECT recgen.enqueue('email', customer_id => 1, max_attempts => 3)")
        assert wait_jobs(c, [j], timeout=120) == ["discarded"]
        attempt, errors = c.execute("SELECT attempt, errors FROM recgen.jobs WHERE job_id = %s", (j,)).fetchone()
        assert attempt == 3 and len(errors) == 3
        assert all(e["retryable"] and e["sqlstate"] == "08006" and "could not connect" in e["error"] for e in errors)
        assert contents(c, j) == []
        outcomes = [r[0] for r in c.execute("SELECT outcome FROM recgen.llm_calls WHERE customer_id = 1"
                                            " AND called_at > now() - interval '5 minutes' AND http_status IS NULL")]
        assert outcomes.count("connection_error") >= 3
    finally:
        c.close()


def test_two_endpoints_one_stops_mid_run(db):
    servers = [subprocess.Popen([sys.executable, os.path.join(ROOT, "test", "fake_llm.py"), "0"],
                                stdout=subprocess.PIPE, text=True) for _ in range(2)]
    urls = [f"http://127.0.0.1:{int(p.stdout.readline().split()[1])}" for p in servers]
    set_db(db, {"recgen.llm_url": ",".join(u + "/v1" for u in urls)})
    c = connect(db)
    c.execute("SET recgen.llm_model = 'fake-sleep1'")
    try:
        ids = [one(c, "SELECT recgen.enqueue('email', customer_id => %s)", (cust,)) for cust in (1, 4, 5, 6) * 6]
        assert wait_for(lambda: one(c, "SELECT count(*) >= 4 FROM recgen.jobs WHERE job_id = ANY(%s)"
                                       " AND state = 'completed'", (ids,)), timeout=60)
        servers[0].kill()                                           # the first endpoint stops
        servers[0].wait()
        assert set(wait_jobs(c, ids, timeout=180)) == {"completed"}
        per_job = dict(c.execute("SELECT job_id, count(*) FROM recgen.content WHERE job_id = ANY(%s) GROUP BY 1",
                                 (ids,)).fetchall())
        assert len(per_job) == len(ids) and set(per_job.values()) == {1}
        served = fake_get(urls[1], "/requests")
        assert len(served) >= 1
        # the stopped endpoint's circuit breaker opened; the other one never failed
        eps = {r[0]: r[1] for r in c.execute("SELECT detail ->> 'url', detail FROM recgen.worker_status"
                                             " WHERE role = 'endpoint'")}
        dead, alive = eps[urls[0] + "/v1"], eps[urls[1] + "/v1"]
        assert dead["failures"] >= 3 and dead["times_skipped"] >= 1
        assert alive["failures"] == 0 and alive["requests"] >= 1
    finally:
        for p in servers:
            if p.poll() is None:
                p.terminate()
                p.wait()
        set_db(db, {"recgen.llm_url": None})
        c.close()
