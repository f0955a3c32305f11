"""video_script content through the generation pipeline (fake LLM server):
guarded like every content, its narration rules, the fallback narration,
consent, and a narration the helper can speak (recgen-render)."""
import json
import re

import pytest
from psycopg import errors

from content_helpers import connect, fake, fake_get, fresh_db, one  # noqa: F401 (fixture)
from render_helpers import RENDER, parse_cues, render

DB = "recgen_py_video_script"


@pytest.fixture(scope="module")
def db():
    return fresh_db(DB)


@pytest.fixture
def conn(db, fake):
    fake_get(fake, "/reset")
    c = connect(db, fake)
    yield c
    c.close()


def test_short_answer_falls_back_to_a_grounded_narration(conn):
    conn.execute("INSERT INTO recgen.customer_concerns VALUES (1, 'delivery', -1, 0.8, now(), "
                 "(SELECT min(post_id) FROM recgen.social_posts WHERE customer_id = 1)) ON CONFLICT DO NOTHING")
    # the fake server answers with two sentences: too short for a narration
    v = one(conn, "SELECT recgen.video_script(1)")
    assert v["verdict"] == "fallback"
    viol, ctx, attempts = conn.execute(
        "SELECT violations, context, attempts FROM recgen.content WHERE content_id = %s",
        (v["content_id"],)).fetchone()
    assert any(x["rule"] == "length" for x in viol)
    assert attempts == 2  # the answer and one rewrite, both rejected
    text = v["text"]
    assert text.startswith("Hello Alice,")
    for item in ctx["items"]:
        assert item["name"] in text and item["price_text"] in text
    assert v["product_ids"] == [i["product_id"] for i in ctx["items"]]
    # Alice consented to social: her concern is in the context and the narration
    assert ctx["concerns"] and ctx["concerns"][0]["topic"] in text
    assert 150 <= len(v["speech"].split()) <= 220
    assert "£" not in v["speech"] and " pounds" in v["speech"]
    assert one(conn, "SELECT (recgen.guard('video_script', %s, %s, 'default', 'video') ->> 'ok')::boolean",
               (json.dumps({"text": text}), json.dumps(ctx)))


def test_the_prompt_asks_for_a_narration(conn, fake):
    one(conn, "SELECT recgen.video_script(4, 'formal')")
    body = fake_get(fake, "/requests")[0]["body"]
    prompt = " ".join(m["content"] for m in body["messages"])
    assert "150 to 220 words" in prompt and "read aloud" in prompt
    # the name is customer-written text: fenced like a post (recgen.prompt_doc)
    dan = "Customer: <<customer_text>>Dan<</customer_text>>."
    assert dan in prompt and "Products to present:" in prompt
    # Dan did not consent to social: no concerns reach the prompt
    assert "Topics they raised" not in prompt.split("Write the narration.")[-2].split(dan)[-1]


def test_consent_is_required(conn):
    with pytest.raises(errors.InsufficientPrivilege):
        one(conn, "SELECT recgen.video_script(2)")   # no marketing consent
    with pytest.raises(errors.InsufficientPrivilege):
        one(conn, "SELECT recgen.video_script(3)")   # no profiling consent
    with pytest.raises(errors.NoDataFound):
        one(conn, "SELECT recgen.video_script(424242)")


@pytest.mark.skipif(not RENDER.exists(), reason="recgen-render not built")
def test_the_narration_is_spoken_and_subtitled(conn, tmp_path):
    v = one(conn, "SELECT recgen.video_script(5)")
    _, res = render(tmp_path, "--music", "none", script=v["speech"])
    cues = parse_cues(tmp_path / "v.srt")
    shown = " ".join(" ".join(c[2]) for c in cues)
    assert shown.split() == v["speech"].split()
    assert not re.search(r"[£$€%]|https?:", shown)
    # about 2.5 words a second: the voice reads the whole script
    assert 150 / 4 < res["duration"] < 220 / 1.5
