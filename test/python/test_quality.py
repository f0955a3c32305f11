"""recgen.evaluate_content (sql/idempotent/66_quality.sql): every measure of
a small hand-made set of contents against the same measure computed here
in Python, plus the edge cases (no ids, invisible rows, a context without
products). No LLM server: the rows are inserted as a generation would
store them."""
import itertools
import json
import math
import re
from collections import Counter

import pytest

from content_helpers import connect, fresh_db, one

DB = "recgen_py_quality"

CTX = {"customer": {"first_name": "Alice"},
       "behaviour": {"recent_categories": ["garden"], "last_purchases": ["Red Enamel Mug"]},
       "concerns": [],
       "items": [{"product_id": 4, "name": "Folding Garden Chair", "because": ["Stoneware Teapot"]},
                 {"product_id": 5, "name": "Terracotta Planter"}]}
BODIES = [
    # names both products, refers to a purchase by name
    ("pass", 1, "Hi Alice, thank you for choosing the Red Enamel Mug. The Folding Garden Chair (£35.00) "
                "and the Terracotta Planter (£12.75) would suit you."),
    # one of two products; "garden" only inside a product name: not personal
    ("pass", 2, "Hi Alice, the Folding Garden Chair is here for you."),
    # fallback, both products, refers to a category (outside product names)
    ("fallback", 2, "Hi Alice, you often shop for garden things: the Folding Garden Chair and the "
                    "Terracotta Planter."),
    # the purchase that led to an item is the customer's own: personal
    ("pass", 1, "Hi Alice, since you chose the Stoneware Teapot, try the Terracotta Planter."),
]


def words(t):
    t = re.sub(r"(?<![0-9])\.|\.(?![0-9])", " ", t.lower())
    return [w for w in re.sub(r"[^\w£$€%.]+", " ", t).split() if w]


def distinct(texts, n):
    grams = [tuple(ws[i:i + n]) for ws in map(words, texts) for i in range(len(ws) - n + 1)]
    return len(set(grams)) / len(grams)


def cosine(a, b):
    ca, cb = Counter(words(a)), Counter(words(b))
    dot = sum(ca[w] * cb[w] for w in ca)
    return dot / (math.sqrt(sum(v * v for v in ca.values())) * math.sqrt(sum(v * v for v in cb.values())))


@pytest.fixture(scope="module")
def conn():
    c = connect(fresh_db(DB))
    ids = []
    for k, (verdict, attempts, body) in enumerate(BODIES):
        ids.append(one(c, """INSERT INTO recgen.content (customer_id, kind, brand, model, context, output, verdict,
                                 attempts, prompt_tokens, completion_tokens, llm_ms)
                             VALUES (1, 'email', 'default', 'test', %s, %s, %s, %s, 100, %s, %s) RETURNING content_id""",
                       (json.dumps(CTX), json.dumps({"subject": "s", "body": body, "cta": "c"}),
                        verdict, attempts, 10 * (k + 1), 1000.0 * (k + 1))))
    c.ids = ids
    yield c
    c.close()


def evaluate(conn, ids):
    cur = conn.execute("SELECT * FROM recgen.evaluate_content(%s)", (ids,))
    return dict(zip([d.name for d in cur.description], cur.fetchone()))


def test_every_measure_matches_a_reference_computation(conn):
    e = evaluate(conn, conn.ids)
    texts = [b for _, _, b in BODIES]
    assert e["contents"] == 4
    assert float(e["first_attempt_pass"]) == pytest.approx(2 / 4)       # pass at attempt 1
    assert float(e["fallback"]) == pytest.approx(1 / 4)
    assert float(e["personalization"]) == pytest.approx(3 / 4)          # all but the second
    assert float(e["products_named"]) == pytest.approx((1 + 0.5 + 1 + 0.5) / 4, abs=1e-3)
    assert float(e["all_products_named"]) == pytest.approx(2 / 4)
    assert e["without_products"] == 0
    assert float(e["distinct_1"]) == pytest.approx(distinct(texts, 1), abs=1e-3)
    assert float(e["distinct_2"]) == pytest.approx(distinct(texts, 2), abs=1e-3)
    sims = [cosine(a, b) for a, b in itertools.combinations(texts, 2)]
    assert float(e["mean_similarity"]) == pytest.approx(sum(sims) / len(sims), abs=1e-3)
    lengths = [len(words(t)) for t in texts]
    assert float(e["mean_words"]) == pytest.approx(sum(lengths) / 4, abs=0.051)  # rounded to 0.1
    assert (e["min_words"], e["max_words"]) == (min(lengths), max(lengths))
    assert (e["prompt_tokens"], e["completion_tokens"]) == (400, 100)
    assert float(e["llm_seconds"]) == pytest.approx(10.0)
    assert float(e["llm_ms_per_content"]) == pytest.approx(2500)


def test_identical_texts_are_fully_similar_and_not_diverse(conn):
    same = [one(conn, """INSERT INTO recgen.content (customer_id, kind, brand, model, context, output, verdict)
                         VALUES (1, 'email', 'default', 'test', %s, '{"body": "Hi Alice, the Terracotta Planter."}',
                                 'pass') RETURNING content_id""", (json.dumps(CTX),)) for _ in range(3)]
    e = evaluate(conn, same)
    assert float(e["mean_similarity"]) == pytest.approx(1.0)
    assert float(e["distinct_2"]) == pytest.approx(1 / 3, abs=1e-3)


def test_a_context_without_products_is_counted(conn):
    cid = one(conn, """INSERT INTO recgen.content (customer_id, kind, brand, model, context, output, verdict)
                       VALUES (1, 'email', 'default', 'test', '{"items": []}', '{"body": "Hi Alice, based on what you like:"}',
                               'fallback') RETURNING content_id""")
    e = evaluate(conn, [cid])
    assert e["without_products"] == 1 and e["products_named"] is None


def test_no_ids_and_invisible_rows(conn):
    assert evaluate(conn, [])["contents"] == 0
    assert evaluate(conn, [10 ** 12])["contents"] == 0
    # an analyst sees only contents of customers who consented to profiling
    conn.execute("UPDATE recgen.customers SET consent_profiling = false WHERE customer_id = 1")
    try:
        conn.execute("SET ROLE recgen_analyst")
        assert evaluate(conn, conn.ids)["contents"] == 0
    finally:
        conn.execute("RESET ROLE")
        conn.execute("UPDATE recgen.customers SET consent_profiling = true WHERE customer_id = 1")
    assert evaluate(conn, conn.ids)["contents"] == 4
