"""recgen.llm_calls rows outlive the transaction that wrote them
(src/call_log.c): a failed call that raised, a rolled-back transaction, a
rolled-back savepoint. Against the fake server; the cluster preloads recgen,
so the shared ring exists."""

import pytest
from psycopg import errors

from content_helpers import connect, fake, fake_get, fresh_db, one  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def db():
    return fresh_db("recgen_py_calllog")


@pytest.fixture
def conn(db, fake):
    fake_get(fake, "/reset")
    c = connect(db, fake)
    c.execute("SELECT recgen.flush_llm_calls()")  # start from an empty ring
    yield c
    c.close()


def calls(conn):
    return one(conn, "SELECT count(*) FROM recgen.llm_calls")


def test_a_failed_call_that_raised_is_written_back(conn):
    before = calls(conn)
    conn.execute("SET recgen.llm_model = 'fake-500'")
    conn.execute("SET recgen.llm_max_retries = 1")
    t0 = one(conn, "SELECT clock_timestamp()")
    with pytest.raises(errors.ExternalRoutineException):
        conn.execute("SELECT recgen.email(1)")
    t1 = one(conn, "SELECT clock_timestamp()")
    assert calls(conn) == before                     # the error rolled it back ...
    assert one(conn, "SELECT recgen.flush_llm_calls()") == 1
    row = conn.execute("SELECT outcome, http_status, attempts, customer_id, purpose, model, called_at, error"
                       " FROM recgen.llm_calls ORDER BY call_id DESC LIMIT 1").fetchone()
    assert row[:6] == ("http_error", 500, 2, 1, "email", "fake-500")   # ... and here it is
    assert t0 <= row[6] <= t1                        # the time of the failed call, not of the write-back
    assert row[7]
    assert one(conn, "SELECT recgen.flush_llm_calls()") == 0          # written once


def test_the_next_call_writes_them_back_by_itself(conn):
    before = calls(conn)
    conn.execute("SET recgen.llm_model = 'fake-malformed'")
    with pytest.raises(errors.ExternalRoutineException):
        conn.execute("SELECT recgen.summary(1)")
    conn.execute("SET recgen.llm_model = 'fake-normal'")
    one(conn, "SELECT recgen.email(1)")
    outcomes = [r[0] for r in conn.execute("SELECT outcome FROM recgen.llm_calls WHERE call_id >"
                                           " (SELECT max(call_id) - 2 FROM recgen.llm_calls) ORDER BY call_id")]
    assert calls(conn) == before + 2
    assert outcomes == ["bad_reply", "ok"]


def test_a_rolled_back_transaction_keeps_its_calls_not_its_content(conn):
    before_calls, before_content = calls(conn), one(conn, "SELECT count(*) FROM recgen.content")
    conn.execute("BEGIN")
    one(conn, "SELECT recgen.email(1)")
    conn.execute("ROLLBACK")
    assert one(conn, "SELECT recgen.flush_llm_calls()") == 1
    assert calls(conn) == before_calls + 1
    assert one(conn, "SELECT count(*) FROM recgen.content") == before_content
    row = conn.execute("SELECT outcome, prompt_tokens, completion_tokens FROM recgen.llm_calls"
                       " ORDER BY call_id DESC LIMIT 1").fetchone()
    assert row == ("ok", 11, 7)


def test_a_rolled_back_savepoint_in_a_committed_transaction(conn):
    before = calls(conn)
    conn.execute("BEGIN")
    conn.execute("SAVEPOINT a")
    one(conn, "SELECT recgen.email(1)")
    conn.execute("ROLLBACK TO SAVEPOINT a")
    conn.execute("COMMIT")
    assert calls(conn) == before
    assert one(conn, "SELECT recgen.flush_llm_calls()") == 1


def test_nested_savepoints(conn):
    before = calls(conn)
    conn.execute("BEGIN")
    conn.execute("SAVEPOINT a")
    one(conn, "SELECT recgen.email(1)")
    conn.execute("ROLLBACK TO SAVEPOINT a")           # this one rolls back
    conn.execute("SAVEPOINT b")
    conn.execute("SAVEPOINT c")
    one(conn, "SELECT recgen.email(4)")               # also writes back savepoint a's row
    conn.execute("RELEASE SAVEPOINT c")               # both commit with b and the transaction
    conn.execute("RELEASE SAVEPOINT b")
    conn.execute("COMMIT")
    assert calls(conn) == before + 2
    assert one(conn, "SELECT recgen.flush_llm_calls()") == 0
    assert sorted(r[0] for r in conn.execute(
        "SELECT customer_id FROM recgen.llm_calls ORDER BY call_id DESC LIMIT 2")) == [1, 4]


def test_a_second_rollback_returns_them_to_the_ring(conn):
    conn.execute("BEGIN")
    one(conn, "SELECT recgen.email(1)")
    conn.execute("ROLLBACK")
    before = calls(conn)
    conn.execute("BEGIN")
    assert one(conn, "SELECT recgen.flush_llm_calls()") == 1
    conn.execute("ROLLBACK")
    assert calls(conn) == before
    assert one(conn, "SELECT recgen.flush_llm_calls()") == 1
    assert calls(conn) == before + 1


def test_rows_go_back_to_their_own_database(conn, fake):
    other = connect(fresh_db("recgen_py_calllog2"), fake)
    try:
        conn.execute("BEGIN")
        one(conn, "SELECT recgen.email(1)")
        conn.execute("ROLLBACK")
        assert one(other, "SELECT recgen.flush_llm_calls()") == 0
        assert one(conn, "SELECT recgen.flush_llm_calls()") == 1
    finally:
        other.close()


def test_analysts_flush_their_own_rows(conn):
    """A session writes back its own role's rows, a superuser's every
    role's; nobody else's rows enter an analyst's transaction."""
    conn.execute("SET ROLE recgen_analyst")
    conn.execute("BEGIN")
    one(conn, "SELECT recgen.email(1)")
    conn.execute("ROLLBACK")
    conn.execute("RESET ROLE")
    conn.execute("BEGIN")
    one(conn, "SELECT recgen.email(4)")
    conn.execute("ROLLBACK")                             # one row of each role waits
    conn.execute("SET ROLE recgen_analyst")
    assert one(conn, "SELECT recgen.flush_llm_calls()") == 1
    assert one(conn, "SELECT recgen.flush_llm_calls()") == 0
    conn.execute("RESET ROLE")
    assert one(conn, "SELECT recgen.flush_llm_calls()") == 1


def test_a_row_that_cannot_be_written_back_is_dropped_not_fatal(conn):
    conn.execute("SET recgen.llm_model = 'fake-poison'")   # answers like fake-normal
    conn.execute("BEGIN")
    one(conn, "SELECT recgen.email(1)")
    conn.execute("ROLLBACK")
    conn.execute("ALTER TABLE recgen.llm_calls ADD CONSTRAINT no_poison CHECK (model <> 'fake-poison') NOT VALID")
    try:
        assert one(conn, "SELECT recgen.flush_llm_calls()") == 0    # logged and dropped ...
        conn.execute("SET recgen.llm_model = 'fake-normal'")
        assert one(conn, "SELECT recgen.email(1)")["verdict"] == "pass"   # ... so calls go on
        assert one(conn, "SELECT count(*) FROM recgen.llm_calls WHERE model = 'fake-poison'") == 0
    finally:
        conn.execute("ALTER TABLE recgen.llm_calls DROP CONSTRAINT no_poison")


def test_requests_interrupted_by_statement_timeout_are_kept(conn, fake):
    """Three customers, two in flight: the cancel finds two requests sent
    and one never started; the two get rows, marked interrupted, with the
    time they ran (more than none; how long depends on the machine)."""
    before = calls(conn)
    conn.execute("SET recgen.llm_model = 'fake-slow'")
    conn.execute("SET recgen.llm_concurrency = 2")
    conn.execute("SET statement_timeout = '1s'")
    with pytest.raises(errors.QueryCanceled):
        conn.execute("SELECT * FROM recgen.email_batch(ARRAY[1, 4, 5]::bigint[])")
    conn.execute("RESET statement_timeout")
    assert calls(conn) == before
    assert one(conn, "SELECT recgen.flush_llm_calls()") == 2
    rows = conn.execute("SELECT outcome, model, latency_ms, http_status, error FROM recgen.llm_calls"
                        " ORDER BY call_id DESC LIMIT 2").fetchall()
    assert len(fake_get(fake, "/requests")) == 2     # the third was never sent
    for outcome, model, latency, status, error in rows:
        assert (outcome, model, status) == ("interrupted", "fake-slow", None)
        assert latency > 0 and "cancelled" in error
