"""The generation pipeline (sql/idempotent/65_generate.sql) step by step,
against the fake OpenAI-compatible server: prepare / requests / absorb /
store, idempotent storage per job, LLM failures left to the caller, per-job
errors in batches, "nothing to recommend", and who may call what.

Login roles granted recgen_analyst and recgen_worker try what the audit of
0.1.0 found: calling the pipeline with a context of their own, or storing
content through it."""
import json

import psycopg
import pytest
from psycopg import errors

from content_helpers import connect, dsn, fake, fake_get, fresh_db, one  # noqa: F401 (fixture)

DB = "recgen_py_pipeline"
ROLES = {"analyst": "recgen_analyst", "worker": "recgen_worker"}


@pytest.fixture(scope="module")
def db():
    d = fresh_db(DB)
    with psycopg.connect(d, autocommit=True) as c:
        c.execute("SET client_min_messages = warning")
        for login, group in ROLES.items():
            c.execute(f"DROP ROLE IF EXISTS py_pipeline_{login}")
            c.execute(f"CREATE ROLE py_pipeline_{login} LOGIN IN ROLE {group}")
        # a consenting customer whose name holds one of the brand's banned phrases
        # (the context leaves such a name out: recgen.safe_name)
        c.execute("INSERT INTO recgen.customers (customer_id, first_name, segment, country,"
                  " consent_marketing, consent_profiling) VALUES (7, 'Click Here', 'regular', 'Ireland', true, true)")
        c.execute("INSERT INTO recgen.events (customer_id, product_id, kind, occurred_at, basket_id)"
                  " VALUES (7, 1, 'purchase', now() - interval '3 days', 'b7')")
    yield d
    with psycopg.connect(dsn("postgres"), autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        for login in ROLES:
            c.execute(f"DROP ROLE IF EXISTS py_pipeline_{login}")


@pytest.fixture
def conn(db, fake):
    fake_get(fake, "/reset")
    c = connect(db, fake)
    yield c
    c.close()


def as_role(db, fake, login):
    c = psycopg.connect(db + f" user=py_pipeline_{login}", autocommit=True)
    c.execute("SET client_min_messages = warning")
    c.execute("SET recgen.llm_model = 'fake-normal'")
    return c


def run(conn, state):
    """The send/absorb loop of recgen.generate, one round at a time."""
    while True:
        reqs = one(conn, "SELECT recgen.generation_requests(%s)", (json.dumps(state),))
        if not reqs:
            return state
        res = one(conn, "SELECT recgen.llm_chat(%s, false)", (json.dumps(reqs),))
        state = one(conn, "SELECT recgen.generation_absorb(%s, %s)", (json.dumps(state), json.dumps(res)))


def test_steps_and_per_job_errors(conn):
    jobs = [{"kind": "email", "customer_id": 1}, {"kind": "email", "customer_id": 999},
            {"kind": "email", "customer_id": 2}, {"kind": "summary", "customer_id": 4}]
    st = one(conn, "SELECT recgen.generation_prepare(%s, false)", (json.dumps(jobs),))
    assert [j["state"] for j in st["jobs"]] == ["pending", "failed", "failed", "pending"]
    reqs = one(conn, "SELECT recgen.generation_requests(%s)", (json.dumps(st),))
    assert [r["job"] for r in reqs] == [0, 3]
    assert all("schema" in r for r in reqs if r["purpose"] == "email")
    st = run(conn, st)
    rows = conn.execute("SELECT customer_id, kind, verdict FROM recgen.generation_store(%s)",
                        (json.dumps(st),)).fetchall()
    assert rows == [(1, "email", "pass"), (4, "summary", "pass")]
    errs = conn.execute("SELECT job, customer_id, sqlstate FROM recgen.generation_errors(%s)",
                        (json.dumps(st),)).fetchall()
    assert errs == [(1, 999, "P0002"), (2, 2, "42501")]


def test_store_is_idempotent_per_job(conn):
    st = one(conn, "SELECT recgen.generation_prepare(%s)", (json.dumps([{"kind": "email", "customer_id": 1, "job_id": 4242}]),))
    st = run(conn, st)
    first = one(conn, "SELECT content_id FROM recgen.generation_store(%s)", (json.dumps(st),))
    # the same job finishing again (a worker killed after the answer came) stores nothing new
    again = one(conn, "SELECT content_id FROM recgen.generation_store(%s)", (json.dumps(st),))
    assert again == first
    assert one(conn, "SELECT count(*) FROM recgen.content WHERE job_id = 4242") == 1


def test_llm_failure_left_to_the_caller(conn):
    conn.execute("SET recgen.llm_model = 'fake-500'")
    conn.execute("SET recgen.llm_max_retries = 0")
    st = one(conn, "SELECT recgen.generation_prepare(%s, false, 'fail')",
             (json.dumps([{"kind": "email", "customer_id": 1, "job_id": 4343}]),))
    st = run(conn, st)
    job = st["jobs"][0]
    assert job["state"] == "failed" and job["error"]["outcome"] == "http_error" and job["error"]["status"] == 500
    assert conn.execute("SELECT * FROM recgen.generation_store(%s)", (json.dumps(st),)).fetchall() == []
    assert one(conn, "SELECT sqlstate FROM recgen.generation_errors(%s)", (json.dumps(st),)) == "38000"
    assert one(conn, "SELECT count(*) FROM recgen.content WHERE job_id = 4343") == 0


def test_a_job_never_takes_a_context(conn):
    forged = {"customer": {"first_name": "Zed"}, "items": [{"product_id": 99, "name": "Gold Bar", "price_text": "£0.01"}]}
    with pytest.raises(errors.InvalidParameterValue):
        conn.execute("SELECT recgen.generation_prepare(%s)",
                     (json.dumps([{"kind": "email", "customer_id": 1, "context": forged}]),))


@pytest.mark.parametrize("login", list(ROLES))
def test_roles_cannot_call_the_pipeline(conn, db, fake, login):
    # where data is sent is a superuser setting: set it for the database
    conn.execute(f"ALTER DATABASE {DB} SET recgen.llm_url = '{fake}/v1'")
    c = as_role(db, fake, login)
    forged = json.dumps([{"kind": "email", "customer_id": 2, "tone": "friendly", "channel": "email",
                          "context": {"customer": {}, "items": [{"name": "Gold Bar", "price_text": "£0.01"}]}}])
    for sql in ("SELECT * FROM recgen.generate(%s)", "SELECT recgen.generation_prepare(%s)",
                "SELECT * FROM recgen.generation_store(%s)", "SELECT recgen.generate_one(%s::jsonb -> 0)"):
        with pytest.raises(errors.InsufficientPrivilege):
            c.execute(sql, (forged,))
    state = json.dumps({"brand": "default", "model": "x", "jobs": [{"state": "pass", "spec": {"kind": "email", "customer_id": 1},
                                                                    "context": {}, "output": {"body": "Send your bank details"}}]})
    with pytest.raises(errors.InsufficientPrivilege):
        c.execute("SELECT * FROM recgen.generation_store(%s)", (state,))
    # the public functions work, and check consent themselves
    e = one(c, "SELECT recgen.email(1)")
    assert e["verdict"] == "pass"
    with pytest.raises(errors.InsufficientPrivilege):
        c.execute("SELECT recgen.email(2)")   # no marketing consent
    c.close()
    conn.execute(f"ALTER DATABASE {DB} RESET recgen.llm_url")


def test_nothing_to_recommend_is_an_error(conn):
    conn.execute("BEGIN")
    conn.execute("INSERT INTO recgen.rules (name, kind) VALUES ('nothing at all', 'exclude')")
    before = one(conn, "SELECT count(*) FROM recgen.content WHERE kind IN ('email', 'snippet')")
    with pytest.raises(errors.NoDataFound) as e:
        conn.execute("SAVEPOINT a; SELECT recgen.email(1)")
    assert "recgen.rules" in e.value.diag.message_hint
    conn.execute("ROLLBACK TO a")
    with pytest.raises(errors.NoDataFound):
        conn.execute("SELECT recgen.snippet(1, 'sms')")
    conn.execute("ROLLBACK TO a")
    rows = conn.execute("SELECT customer_id, content_id, error FROM recgen.email_batch(ARRAY[1, 4])").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(1, None), (4, None)]
    assert all("no product can be recommended" in r[2] for r in rows)
    # a text about one given product does not need recommendations
    assert one(conn, "SELECT recgen.explain(1, 5)")["verdict"] == "pass"
    # and nothing was stored for the refused ones
    assert one(conn, "SELECT count(*) FROM recgen.content WHERE kind IN ('email', 'snippet')") == before
    conn.execute("ROLLBACK")


def test_fallback_that_breaks_the_guard_fails_only_its_customer(conn):
    # every answer names a product outside the context, and there is no rewrite:
    # each email falls back. Customer 7's name is left out of the context, so
    # its fallback greets nobody by name; the brand bans that greeting for this test
    conn.execute("SET recgen.llm_model = 'fake-hallucinate'")
    conn.execute("SET recgen.guard_retries = 0")
    greeting = one(conn, "SELECT split_part(recgen.render_fallback('email', recgen.context(7), 'default', 'email') ->> 'body',"
                         " ',', 1)")
    assert greeting and greeting not in one(conn, "SELECT recgen.render_fallback('email', recgen.context(1), 'default',"
                                                  " 'email') ->> 'body'")
    conn.execute("UPDATE recgen.brands SET banned_phrases = banned_phrases || %s::text WHERE brand = 'default'", (greeting,))
    try:
        rows = {r[0]: r for r in conn.execute("SELECT customer_id, content_id, verdict, error"
                                              " FROM recgen.email_batch(ARRAY[7, 1])").fetchall()}
        assert rows[1][2] == "fallback" and rows[1][1] is not None
        assert rows[7][1] is None and "could not produce deliverable email" in rows[7][3]
        with pytest.raises(errors.DataException):
            conn.execute("SELECT recgen.email(7)")
    finally:
        conn.execute("UPDATE recgen.brands SET banned_phrases = array_remove(banned_phrases, %s::text)"
                     " WHERE brand = 'default'", (greeting,))
