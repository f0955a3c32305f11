"""Word lists that live both in SQL CHECK constraints and in C arrays must
name the same words: the strategies (recgen.rules.strategy and
recommend.c), the rule kinds (recgen.rules.kind and rules.c) and the LLM
call outcomes (recgen.llm_calls.outcome and llm.c / call_log.c). A word
only C knows would fail a CHECK when stored; a word only SQL knows would
reach C as something it cannot handle (an unknown rule kind used to act
as "exclude")."""
import pathlib
import re

import pytest

from content_helpers import connect, fresh_db, one

ROOT = pathlib.Path(__file__).resolve().parents[2]
DB = "recgen_py_words"


@pytest.fixture(scope="module")
def db():
    c = connect(fresh_db(DB))
    yield c
    c.close()


def check_words(db, table, column):
    """The quoted words of the CHECK constraint on table.column."""
    defs = one(db, """SELECT string_agg(pg_get_constraintdef(c.oid), ' ')
                      FROM pg_constraint c JOIN pg_attribute a
                        ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
                      WHERE c.contype = 'c' AND c.conrelid = %s::regclass AND a.attname = %s
                        AND cardinality(c.conkey) = 1""", (f"recgen.{table}", column))
    assert defs, f"recgen.{table}.{column} has a CHECK constraint"
    return set(re.findall(r"'([a-z_]+)'::text", defs))


def c_array(path, name):
    """The string literals of a NULL-terminated C array `name`."""
    src = (ROOT / path).read_text()
    m = re.search(r"\b" + name + r"\[\]\s*=\s*\{(.*?)\};", src, re.S)
    assert m, f"{path} defines {name}"
    return set(re.findall(r'"([^"]+)"', m.group(1)))


def c_outcomes():
    """The outcome words llm.c writes: the switch of llm_outcome_name and the
    row of an interrupted request."""
    src = (ROOT / "src/llm.c").read_text()
    body = re.search(r"llm_outcome_name\(HttpRequest \*req, LlmCall \*call\)\s*\{(.*?)\n\}", src, re.S)
    assert body, "llm.c defines llm_outcome_name"
    switch = re.search(r"switch \(req->outcome\)\s*\{(.*?)\n\t\}", body.group(1), re.S)
    words = set(re.findall(r'"([a-z_]+)"', switch.group(1)))
    words |= set(re.findall(r'CallRecordSetText\(r\.outcome, sizeof\(r\.outcome\), "([a-z_]+)"\)', src))
    return words


def test_strategies(db):
    assert c_array("src/recommend.c", "strategy_names") == check_words(db, "rules", "strategy")


def test_rule_kinds(db):
    assert c_array("src/rules.c", "kind_names") == check_words(db, "rules", "kind")


def test_llm_outcomes(db):
    c = c_outcomes()
    assert {"ok", "interrupted"} <= c
    assert c == check_words(db, "llm_calls", "outcome")
