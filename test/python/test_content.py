"""Content generation against the fake OpenAI-compatible server: exact,
deterministic behaviour, the guard, faults (429, 500, malformed JSON,
timeouts, unreachable endpoint), cancel, consent and errors.

The tests do not depend on which products are recommended: the fake server
names the first product of the prompt, and the assertions compare with the
context stored beside the content."""
import json
import os
import threading
import time

import psycopg
import pytest
from psycopg import errors

from content_helpers import ROOT, connect, fake, fake_get, fresh_db, one  # noqa: F401 (fixture)

DB = "recgen_py_content"


@pytest.fixture(scope="module")
def db():
    return fresh_db(DB)


@pytest.fixture
def conn(db, fake):
    fake_get(fake, "/reset")
    c = connect(db, fake)
    yield c
    c.close()


def wait_for_abandoned(fake, n):
    """The fake server notices a hung-up client within its next poll."""
    for _ in range(100):
        if fake_get(fake, "/abandoned")["abandoned"] >= n:
            break
        time.sleep(0.05)
    assert fake_get(fake, "/abandoned")["abandoned"] == n


def content_row(conn, content_id):
    cur = conn.execute("SELECT verdict, violations, context, output, attempts, call_ids, template_version, model"
                       " FROM recgen.content WHERE content_id = %s", (content_id,))
    return cur.fetchone()


def test_email_passes_and_is_grounded(conn):
    e = one(conn, "SELECT recgen.email(1)")
    assert e["verdict"] == "pass"
    for f in ("subject", "preheader", "body", "cta", "content_id", "product_ids"):
        assert e.get(f), f
    verdict, violations, ctx, output, attempts, call_ids, version, model = content_row(conn, e["content_id"])
    first = ctx["items"][0]
    assert first["name"] in e["body"] and first["price_text"] in e["body"]
    assert e["product_ids"] == [i["product_id"] for i in ctx["items"]]
    assert attempts == 1 and len(call_ids) == 1 and version >= 1 and model == "fake-normal"
    call = conn.execute("SELECT outcome, http_status, attempts, prompt_tokens, completion_tokens, customer_id"
                        " FROM recgen.llm_calls WHERE call_id = %s", (call_ids[0],)).fetchone()
    assert call == ("ok", 200, 1, 11, 7, 1)
    assert one(conn, "SELECT recgen.guard('email', %s, %s)", (json.dumps(output), json.dumps(ctx)))["ok"]


def test_request_body_and_key(conn, fake):
    conn.execute("SET recgen.llm_api_key = 'sk-fake-secret-123'")
    one(conn, "SELECT recgen.email(1, 'formal', 'spring sale')")
    req = fake_get(fake, "/requests")[-1]
    assert req["authorization"] == "Bearer sk-fake-secret-123"
    body = req["body"]
    assert body["model"] == "fake-normal" and body["stream"] is False
    schema = body["response_format"]["json_schema"]["schema"]
    # the model writes the email's frame (the shipped template), subject first
    assert list(schema["properties"]) == ["subject", "opening", "cta"]
    prompt = " ".join(m["content"] for m in body["messages"])
    assert "spring sale" in prompt and "formal, courteous register" in prompt
    # personal data: first name only
    assert "Alice" in prompt and "Smithson" not in prompt and "example.com" not in prompt
    assert "7700" not in prompt
    # the key is nowhere in the database
    for table in ("recgen.llm_calls", "recgen.content"):
        assert not one(conn, f"SELECT bool_or(t::text LIKE '%%sk-fake-secret%%') FROM {table} t")


def test_key_hidden_from_non_superusers(conn):
    conn.execute("SET recgen.llm_api_key = 'sk-hidden'")
    conn.execute("SET ROLE recgen_analyst")
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("SHOW recgen.llm_api_key")
    assert one(conn, "SELECT count(*) FROM pg_settings WHERE name LIKE 'recgen.llm_api_key%%'") == 0
    conn.execute("RESET ROLE")


def test_key_file(conn, fake):
    # the server process reads the file: put it where the postgres user can
    path = os.path.join(ROOT, ".pgdata", "test-llm-key")
    with open(path, "w") as f:
        f.write("sk-from-file\n")
    os.chmod(path, 0o644)
    conn.execute("SET recgen.llm_api_key = ''")
    conn.execute(f"SET recgen.llm_api_key_file = '{path}'")
    one(conn, "SELECT recgen.summary(1)")
    assert fake_get(fake, "/requests")[-1]["authorization"] == "Bearer sk-from-file"


@pytest.mark.parametrize("model,rule", [
    ("fake-hallucinate", "product"),
    ("fake-hallucinate", "price"),
    ("fake-banned", "overpromise"),
    ("fake-pii", "pii"),
])
def test_guard_catches_and_falls_back(conn, model, rule):
    conn.execute(f"SET recgen.llm_model = '{model}'")
    e = one(conn, "SELECT recgen.email(1)")
    assert e["verdict"] == "fallback"
    verdict, violations, ctx, output, attempts, call_ids, _, _ = content_row(conn, e["content_id"])
    assert rule in {v["rule"] for v in violations}
    # one rewrite (recgen.guard_retries = 1); a fault pinned on one part of
    # the first answer (the frame's opening) is asked for alone first: one call more
    assert attempts == 2 and len(call_ids) == (3 if model == "fake-banned" else 2)
    assert "ZETA" not in e["body"] and "guaranteed" not in e["body"] and "@" not in e["body"]
    assert one(conn, "SELECT recgen.guard('email', %s, %s)", (json.dumps(output), json.dumps(ctx)))["ok"]


def test_rewrite_with_violations_fed_back(conn, fake):
    conn.execute("SET recgen.llm_model = 'fake-fix'")
    e = one(conn, "SELECT recgen.email(1)")
    assert e["verdict"] == "pass"
    _, violations, _, _, attempts, _, _, _ = content_row(conn, e["content_id"])
    # the opening alone was asked for again first (a part retry), in vain
    assert attempts == 2 and [(v["rule"], v.get("stage")) for v in violations] == \
        [("overpromise", "part"), ("overpromise", None)]
    second = fake_get(fake, "/requests")[-1]["body"]["messages"]
    assert "guaranteed" in second[-1]["content"] and "broke these rules" in second[-1]["content"]


def test_no_retry_budget_means_direct_fallback(conn):
    conn.execute("SET recgen.llm_model = 'fake-banned'")
    conn.execute("SET recgen.guard_retries = 0")
    e = one(conn, "SELECT recgen.email(1)")
    assert e["verdict"] == "fallback"
    assert content_row(conn, e["content_id"])[4] == 1


@pytest.mark.parametrize("model", ["fake-429", "fake-500once"])
def test_retry_after_transient_errors(conn, model):
    conn.execute(f"SET recgen.llm_model = '{model}'")
    e = one(conn, "SELECT recgen.email(1)")
    assert e["verdict"] == "pass"
    call_id = content_row(conn, e["content_id"])[5][0]
    assert conn.execute("SELECT attempts, http_status, outcome FROM recgen.llm_calls WHERE call_id = %s",
                        (call_id,)).fetchone() == (2, 200, "ok")


def test_retry_after_is_honoured(conn):
    conn.execute("SET recgen.llm_model = 'fake-429'")
    conn.execute("SET recgen.llm_backoff_base = 1")
    one(conn, "SELECT recgen.email(1)")
    # Retry-After: 1 means at least a second between the two attempts
    assert one(conn, "SELECT latency_ms FROM recgen.llm_calls ORDER BY call_id DESC LIMIT 1") >= 1000


def test_persistent_500_is_an_external_error(conn):
    conn.execute("SET recgen.llm_model = 'fake-500'")
    conn.execute("SET recgen.llm_max_retries = 1")
    with pytest.raises(errors.ExternalRoutineException) as ei:
        conn.execute("SELECT recgen.email(1)")
    assert "500" in ei.value.diag.message_detail
    assert "2 attempt" in ei.value.diag.message_detail


def test_malformed_json_is_an_external_error(conn):
    conn.execute("SET recgen.llm_model = 'fake-malformed'")
    with pytest.raises(errors.ExternalRoutineException) as ei:
        conn.execute("SELECT recgen.summary(1)")
    assert "not valid JSON" in ei.value.diag.message_primary
    assert "200" in ei.value.diag.message_detail


def test_unreachable_endpoint(conn):
    conn.execute("SET recgen.llm_url = 'http://127.0.0.1:9/v1'")
    conn.execute("SET recgen.llm_max_retries = 2")
    with pytest.raises(errors.ConnectionFailure) as ei:
        conn.execute("SELECT recgen.email(1)")
    assert "could not connect" in ei.value.diag.message_primary
    assert "3 attempt" in ei.value.diag.message_detail
    # the hint says how to start the local server
    assert "tools/llm-server.sh start" in ei.value.diag.message_hint


def test_request_timeout(conn):
    conn.execute("SET recgen.llm_model = 'fake-slow'")
    conn.execute("SET recgen.llm_timeout = 500")
    with pytest.raises(errors.ConnectionFailure) as ei:
        conn.execute("SELECT recgen.email(1)")
    assert "timed out" in ei.value.diag.message_primary


def test_statement_timeout_cancels_request(conn, fake):
    """The request reached the server, and the timeout hung up on it
    before the server answered (the fake notices the client closing);
    how fast that happens is measured in bench/llm/cancel.py."""
    conn.execute("SET recgen.llm_model = 'fake-slow'")
    conn.execute("SET statement_timeout = '1s'")
    with pytest.raises(errors.QueryCanceled):
        conn.execute("SELECT recgen.email(1)")
    conn.execute("RESET statement_timeout")
    assert len(fake_get(fake, "/requests")) == 1
    wait_for_abandoned(fake, 1)
    assert one(conn, "SELECT 1") == 1          # the session is still usable


def test_cancel_backend_stops_slow_stream(db, fake):
    fake_get(fake, "/reset")
    c = connect(db, fake, "fake-slowstream")
    pid = one(c, "SELECT pg_backend_pid()")
    outcome = {}

    def run():
        t0 = time.monotonic()
        try:
            c.execute("SELECT recgen.email(1)")
            outcome["error"] = None
        except psycopg.Error as e:
            outcome["error"] = e
        outcome["elapsed"] = time.monotonic() - t0

    th = threading.Thread(target=run)
    th.start()
    other = connect(db)
    for _ in range(600):                       # wait until the request is on the wire
        if fake_get(fake, "/requests"):
            break
        time.sleep(0.1)
    assert len(fake_get(fake, "/requests")) == 1   # it reached the server before the cancel
    assert one(other, "SELECT pg_cancel_backend(%s)", (pid,))
    th.join(120)
    assert isinstance(outcome.get("error"), errors.QueryCanceled)
    wait_for_abandoned(fake, 1)                # the client hung up mid-stream
    c.close()
    other.close()


def test_batch_runs_concurrently(conn, fake):
    conn.execute("SET recgen.llm_model = 'fake-sleep1'")
    conn.execute("SET recgen.llm_concurrency = 4")
    rows = conn.execute("SELECT customer_id, content_id, verdict, email, error"
                        " FROM recgen.email_batch(ARRAY[1, 2, 3, 4, 5, 6, 999])").fetchall()
    by_id = {r[0]: r for r in rows}
    assert set(by_id) == {1, 2, 3, 4, 5, 6, 999}
    for cid in (1, 4, 5, 6):
        assert by_id[cid][2] == "pass" and by_id[cid][3]["subject"]
    assert "marketing" in by_id[2][4] and "profiling" in by_id[3][4] and "unknown" in by_id[999][4]
    assert fake_get(fake, "/inflight")["max"] >= 2


def test_batch_survives_llm_failure(conn):
    conn.execute("SET recgen.llm_model = 'fake-500'")
    conn.execute("SET recgen.llm_max_retries = 0")
    rows = conn.execute("SELECT verdict, email FROM recgen.email_batch(ARRAY[1, 4])").fetchall()
    assert [r[0] for r in rows] == ["fallback", "fallback"]
    v = one(conn, "SELECT violations FROM recgen.content ORDER BY content_id DESC LIMIT 1")
    assert v[0]["rule"] == "llm_error"


def test_other_kinds(conn):
    s = one(conn, "SELECT recgen.snippet(1, 'sms')")
    assert s["verdict"] == "pass" and 0 < len(s["text"]) <= 160
    d = one(conn, "SELECT recgen.describe(3)")
    assert d["verdict"] == "pass" and "Stoneware Teapot" in d["text"]
    assert one(conn, "SELECT customer_id FROM recgen.content WHERE content_id = %s", (d["content_id"],)) == 0
    dp = one(conn, "SELECT recgen.describe(3, 'friendly', 1)")
    assert one(conn, "SELECT customer_id FROM recgen.content WHERE content_id = %s", (dp["content_id"],)) == 1
    sm = one(conn, "SELECT recgen.summary(1)")
    assert sm["verdict"] == "pass" and sm["text"]
    x = one(conn, "SELECT recgen.explain(1, 5)")
    assert x["verdict"] == "pass" and "Terracotta Planter" in x["text"]


def test_snippet_length_is_guarded(conn):
    conn.execute("UPDATE recgen.channels SET max_chars = 40 WHERE channel = 'push'")
    s = one(conn, "SELECT recgen.snippet(1, 'push')")
    assert s["verdict"] == "fallback" and len(s["text"]) <= 40
    # the fallback is never cut off: a channel too short for the product's
    # name gets an error, not half a sentence
    conn.execute("UPDATE recgen.channels SET max_chars = 12 WHERE channel = 'push'")
    with pytest.raises(errors.StringDataRightTruncation, match="does not fit the channel"):
        conn.execute("SELECT recgen.snippet(1, 'push')")
    conn.execute("UPDATE recgen.channels SET max_chars = 120 WHERE channel = 'push'")


@pytest.mark.parametrize("sql,exc", [
    ("SELECT recgen.email(999)", errors.NoDataFound),
    ("SELECT recgen.email(2)", errors.InsufficientPrivilege),
    ("SELECT recgen.summary(3)", errors.InsufficientPrivilege),
    ("SELECT recgen.email(1, 'sarcastic')", errors.InvalidParameterValue),
    ("SELECT recgen.snippet(1, 'fax')", errors.InvalidParameterValue),
    ("SELECT recgen.describe(12345)", errors.NoDataFound),
])
def test_errors(conn, sql, exc):
    with pytest.raises(exc):
        conn.execute(sql)


def test_unknown_template(conn):
    conn.execute("BEGIN")
    conn.execute("DELETE FROM recgen.prompt_templates WHERE kind = 'summary'")
    with pytest.raises(errors.UndefinedObject):
        conn.execute("SELECT recgen.summary(1)")
    conn.execute("ROLLBACK")


def test_bank_brand_disclaimer(conn):
    conn.execute("SET recgen.brand = 'bank'")
    e = one(conn, "SELECT recgen.email(1)")
    assert e["verdict"] == "pass" and "terms and conditions apply" in e["body"].lower()
    conn.execute("SET recgen.brand = 'nosuch'")
    with pytest.raises(errors.InvalidParameterValue):
        conn.execute("SELECT recgen.email(1)")
