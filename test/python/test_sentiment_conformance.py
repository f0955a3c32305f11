"""Conformance of recgen.sentiment() with the reference vaderSentiment package.

Scores the generated corpus (sentiment_corpus.py, over 2,000 texts covering
every rule) with vaderSentiment in this process and with recgen in the
private cluster, and requires agreement within 1e-3 on every text, for the
compound score and for pos / neu / neg: one test case per text, so the count
says how many texts agree. Also checks that the lexicon files
shipped with recgen are the ones in the installed PyPI package.
"""

import csv
import io
import os
import pathlib
import subprocess

import pytest
from vaderSentiment import vaderSentiment as vs

from sentiment_corpus import corpus

ROOT = pathlib.Path(__file__).resolve().parents[2]
DB = "recgen_sentiment_conformance"
TOLERANCE = 1e-3


def dsn(db):
    return subprocess.run([str(ROOT / "tools/cluster.sh"), "dsn", db], check=True,
                          capture_output=True, text=True).stdout.strip()


def psql(db, sql, stdin=None):
    env = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
    r = subprocess.run(["psql", dsn(db), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                       input=stdin, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture(scope="module")
def db():
    psql("postgres", f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    psql("postgres", f"CREATE DATABASE {DB}")
    psql(DB, "CREATE EXTENSION recgen")
    yield DB
    psql("postgres", f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


def recgen_scores(db, texts):
    """{index: (compound, pos, neu, neg)} from recgen for a list of texts."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for i, t in enumerate(texts):
        w.writerow([i, t])
    env = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
    full = ("CREATE TEMP TABLE c (i int, body text);\n"
            "COPY c FROM STDIN WITH (FORMAT csv);\n" + buf.getvalue() + "\\.\n"
            "SELECT i, d.compound, d.pos, d.neu, d.neg, recgen.sentiment(body) "
            "FROM c, recgen.sentiment_detail(body) d ORDER BY i;\n")
    r = subprocess.run(["psql", dsn(db), "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1"],
                       input=full, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    out = {}
    for line in r.stdout.split("\n")[:-1]:
        i, c, p, u, n, c2 = line.split("\t")
        out[int(i)] = (float(c), float(p), float(u), float(n), float(c2))
    return out


def test_lexicon_files_are_the_reference_package_files():
    pkg = pathlib.Path(vs.__file__).parent
    assert (ROOT / "data/vader/recgen_vader_lexicon.txt").read_bytes() == (pkg / "vader_lexicon.txt").read_bytes()
    assert (ROOT / "data/vader/recgen_vader_emoji.txt").read_bytes() == (pkg / "emoji_utf8_lexicon.txt").read_bytes()
    assert "MIT License" in (ROOT / "data/vader/recgen_vader_LICENSE.txt").read_text()


def test_corpus_covers_every_rule():
    items = corpus()
    assert len(items) >= 2000
    rules = {r for r, _ in items}
    assert {"negation", "negation-special", "booster", "caps", "all-caps", "punctuation", "but",
            "repeated", "least", "idiom", "kind-of", "emoticon", "emoji", "tokens", "unicode",
            "post", "fuzz", "edge", "long-but"} <= rules
    # the corpus is not degenerate: the reference scores it across the range
    a = vs.SentimentIntensityAnalyzer()
    scores = [a.polarity_scores(t)["compound"] for _, t in items]
    assert min(scores) < -0.9 and max(scores) > 0.9
    assert sum(1 for s in scores if s == 0) < len(scores) / 4


ITEMS = corpus()          # deterministic (a fixed seed): the same cases every run


@pytest.fixture(scope="module")
def scores(db):
    """recgen's scores of every text of the corpus, in one round trip."""
    got = recgen_scores(db, [t for _, t in ITEMS])
    assert len(got) == len(ITEMS)
    return got


@pytest.fixture(scope="module")
def reference():
    return vs.SentimentIntensityAnalyzer()


@pytest.mark.parametrize("i", range(len(ITEMS)), ids=[f"{i}-{rule}" for i, (rule, _) in enumerate(ITEMS)])
def test_text_agrees_with_reference(scores, reference, i):
    """One case per text of the corpus: compound (from sentiment_detail and
    from sentiment) and pos / neu / neg within 1e-3 of vaderSentiment."""
    rule, text = ITEMS[i]
    ref = reference.polarity_scores(text)
    c, p, u, n, c2 = scores[i]
    got = {"compound": c, "compound (sentiment)": c2, "pos": p, "neu": u, "neg": n}
    want = {"compound": ref["compound"], "compound (sentiment)": ref["compound"],
            "pos": ref["pos"], "neu": ref["neu"], "neg": ref["neg"]}
    assert got == pytest.approx(want, abs=TOLERANCE), f"[{rule}] {text!r}"
