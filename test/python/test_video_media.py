"""Video files on the server: render options checked at call time, paths
confined to recgen.asset_dirs and recgen.media_dir (outside, "..",
symbolic links out), recgen.media with row-level security, media_bytes,
files removed when their rows are deleted (only on commit), and the
render_video job: queued with its checks, its handler's steps driven by
hand around a real run of recgen-render (the workers' process action
runs the same argument vector)."""
import hashlib
import json
import os
import shutil
import subprocess
import time

import psycopg
import pytest
from psycopg import errors

from content_helpers import ROOT, connect, fake, fake_get, fresh_db, one  # noqa: F401 (fixture)
from render_helpers import as_server, protocol_line

DB = "recgen_py_video_media"
BASE = os.path.join(ROOT, ".pgdata", "test-video")


@pytest.fixture(scope="module")
def dirs():
    shutil.rmtree(BASE, ignore_errors=True)
    d = {k: os.path.join(BASE, k) for k in ("media", "assets", "outside")}
    for p in d.values():
        os.makedirs(p)
    for name in ("bg.png", "clip.mp4", "music.wav", "notes.txt"):
        open(os.path.join(d["assets"], name), "wb").write(b"x")
    open(os.path.join(d["outside"], "secret.png"), "wb").write(b"x")
    os.symlink(os.path.join(d["outside"], "secret.png"), os.path.join(d["assets"], "link.png"))
    as_server(BASE)
    yield d
    shutil.rmtree(BASE, ignore_errors=True)


@pytest.fixture(scope="module")
def db(dirs):
    d = fresh_db(DB)
    with psycopg.connect(d, autocommit=True) as c:
        c.execute("ALTER SYSTEM SET recgen.media_dir = %s" % psycopg.sql.quote(dirs["media"]))
        c.execute("ALTER SYSTEM SET recgen.asset_dirs = %s" % psycopg.sql.quote(dirs["assets"]))
        # jobs are driven by hand here: no worker takes them
        c.execute("ALTER SYSTEM SET recgen.workers = 0")
        c.execute("SELECT pg_reload_conf()")
    time.sleep(0.5)
    yield d
    with psycopg.connect(d, autocommit=True) as c:
        # the render jobs queued here must not run once workers are back (they
        # would render into the next module's media directory)
        c.execute("SELECT recgen.cancel_job(job_id) FROM recgen.jobs"
                  " WHERE state NOT IN ('completed', 'cancelled', 'discarded')")
        c.execute("ALTER SYSTEM RESET recgen.media_dir")
        c.execute("ALTER SYSTEM RESET recgen.asset_dirs")
        c.execute("ALTER SYSTEM RESET recgen.workers")
        c.execute("SELECT pg_reload_conf()")


@pytest.fixture
def conn(db, fake):
    fake_get(fake, "/reset")
    c = connect(db, fake)
    yield c
    c.close()


def test_defaults_and_arguments(conn):
    o = one(conn, "SELECT recgen.render_options('{}')")
    assert o["size"] == "1280x720" and o["background"] == "generated" and o["music"] == "generated"
    assert o["args"][:2] == ["--voice", "en-gb"] and "--background-generated" in o["args"]
    o = one(conn, "SELECT recgen.render_options(%s)",
            ('{"size": "portrait", "rate": 150, "watermark_text": "Your bank", "watermark_position": "bottom-left"}',))
    assert o["size"] == "1080x1920" and o["rate"] == 150
    i = o["args"].index("--watermark-text")
    assert o["args"][i + 1] == "Your bank"


def test_files_inside_the_asset_directories(conn, dirs):
    o = one(conn, "SELECT recgen.render_options(%s)",
            ('{"background": "%s/clip.mp4", "music": "%s/music.wav"}' % (dirs["assets"], dirs["assets"]),))
    assert o["args"][o["args"].index("--background-clip") + 1] == os.path.join(dirs["assets"], "clip.mp4")
    o = one(conn, "SELECT recgen.render_options(%s)", ('{"background": "%s/bg.png"}' % dirs["assets"],))
    assert "--background-image" in o["args"]


@pytest.mark.parametrize("path, exc, message", [
    ("{outside}/secret.png", errors.InsufficientPrivilege, "outside the asset directories"),
    ("{assets}/link.png", errors.InsufficientPrivilege, "outside the asset directories"),
    ("{assets}/../outside/secret.png", errors.InvalidParameterValue, 'must not contain ".."'),
    ("relative/bg.png", errors.InvalidParameterValue, "must be absolute"),
    ("{assets}/missing.png", errors.UndefinedFile, "does not exist"),
    ("{assets}/notes.txt", errors.InvalidParameterValue, "neither a picture nor a clip"),
])
def test_paths_are_confined(conn, dirs, path, exc, message):
    p = path.format(**dirs)
    with pytest.raises(exc) as e:
        one(conn, "SELECT recgen.render_options(jsonb_build_object('background', %s::text))", (p,))
    assert message in str(e.value)


@pytest.mark.parametrize("options, message, hint", [
    ('{"colour": "red"}', 'unknown video option "colour"', "Allowed keys: voice, rate, size"),
    ('{"watermark_position": "middle"}', "watermark_position", "top-left, top-right (the default)"),
    ('{"size": "huge"}', "size", "portrait (1080x1920)"),
    ('{"rate": 900}', "from 80 to 450", None),
    ('{"music_volume": "loud"}', "not one", "music_volume"),
    ('{"voice": "en; rm -rf /"}', "espeak-ng voice", "en-gb"),
    ('{"watermark_text": "a", "watermark_image": "/x.png"}', "exclude each other", None),
])
def test_bad_options_say_what_is_allowed(conn, options, message, hint):
    with pytest.raises(errors.InvalidParameterValue) as e:
        one(conn, "SELECT recgen.render_options(%s)", (options,))
    assert message in str(e.value)
    if hint:
        assert hint in (e.value.diag.message_hint or "")


def test_output_directory(conn, dirs):
    assert one(conn, "SELECT recgen.media_path(%s, 'output')", (dirs["media"],)) == dirs["media"]
    with pytest.raises(errors.InsufficientPrivilege):
        one(conn, "SELECT recgen.media_path(%s, 'output')", (dirs["outside"],))


def media_row(conn, dirs, customer, name, data):
    """A content row for the customer (fallback narration) and a media row
    with a file in the media directory."""
    v = one(conn, "SELECT recgen.video_script(%s)", (customer,))
    path = os.path.join(dirs["media"], name)
    with open(path, "wb") as f:
        f.write(data)
    as_server(path)
    mid = one(conn, "INSERT INTO recgen.media (customer_id, content_id, kind, format, path, bytes, sha256) "
                    "VALUES (%s, %s, 'video', 'mp4', %s, %s, repeat('a', 64)) RETURNING media_id",
              (customer, v["content_id"], path, len(data)))
    return v["content_id"], mid, path


def test_media_bytes_follow_consent(conn, dirs):
    _, mid, path = media_row(conn, dirs, 1, "alice.mp4", b"alice video bytes")
    assert bytes(one(conn, "SELECT recgen.media_bytes(%s)", (mid,))) == b"alice video bytes"
    conn.execute("SET ROLE recgen_analyst")
    assert bytes(one(conn, "SELECT recgen.media_bytes(%s)", (mid,))) == b"alice video bytes"
    conn.execute("RESET ROLE")
    # Alice withdraws consent to profiling: analysts no longer see her media
    conn.execute("UPDATE recgen.customers SET consent_profiling = false WHERE customer_id = 1")
    try:
        conn.execute("SET ROLE recgen_analyst")
        with pytest.raises(errors.NoDataFound):
            one(conn, "SELECT recgen.media_bytes(%s)", (mid,))
        assert one(conn, "SELECT count(*) FROM recgen.media WHERE media_id = %s", (mid,)) == 0
        conn.execute("RESET ROLE")
        conn.execute("SET ROLE recgen_admin")
        assert bytes(one(conn, "SELECT recgen.media_bytes(%s)", (mid,))) == b"alice video bytes"
    finally:
        conn.execute("RESET ROLE")
        conn.execute("UPDATE recgen.customers SET consent_profiling = true WHERE customer_id = 1")


def test_files_go_with_their_rows_on_commit_only(conn, dirs):
    content_id, mid, path = media_row(conn, dirs, 4, "dan.mp4", b"dan")
    conn.execute("BEGIN")
    conn.execute("DELETE FROM recgen.content WHERE customer_id = 4 AND content_id = %s", (content_id,))
    conn.execute("ROLLBACK")
    assert os.path.exists(path)
    assert one(conn, "SELECT count(*) FROM recgen.media WHERE media_id = %s", (mid,)) == 1
    conn.execute("DELETE FROM recgen.content WHERE customer_id = 4 AND content_id = %s", (content_id,))
    assert not os.path.exists(path)


def test_forget_customer_removes_the_files(conn, dirs):
    _, _, path = media_row(conn, dirs, 5, "eve.mp4", b"eve")
    counts = one(conn, "SELECT recgen.forget_customer(5)")
    assert counts["recgen.media"] == 1
    assert not os.path.exists(path)


# --- the render job ------------------------------------------------------

PKGLIB = subprocess.check_output(["pg_config", "--pkglibdir"], text=True).strip()


def render_program():
    """recgen-render as the private install has it (pkglibdir)."""
    private = os.path.join(ROOT, ".pgdata", "pg") + PKGLIB
    return os.path.join(private if os.path.isdir(private) else PKGLIB, "recgen-render")


def narration(conn, customer):
    return one(conn, "SELECT recgen.video_script(%s)", (customer,))["content_id"]


def handler(conn, job_id, state, results):
    conn.execute("SET ROLE recgen_worker")
    try:
        return one(conn, "SELECT recgen.job_render_video(j, %s, %s) FROM recgen.jobs j WHERE job_id = %s",
                   (json.dumps(state) if state is not None else None,
                    json.dumps(results) if results is not None else None, job_id))
    finally:
        conn.execute("RESET ROLE")


def run_process(spec):
    """What a worker's process action does, by hand: the program from
    pkglibdir with the argument vector, in its own process group."""
    assert spec["program"] == "recgen-render" and spec["timeout"] == 600
    p = subprocess.run([render_program(), *spec["args"]], capture_output=True, text=True,
                       start_new_session=True, timeout=spec["timeout"])
    out = {"exit_code": p.returncode, "stderr": p.stderr[-4096:]}
    for line in p.stdout.splitlines():
        what, value = protocol_line(line)
        out[what] = value
    return out


def test_render_video_checks_at_call_time(conn, dirs):
    cid = narration(conn, 6)
    job = one(conn, "SELECT recgen.render_video(%s, '{\"size\": \"square\", \"watermark_text\": \"Your bank\"}')", (cid,))
    kind, customer, payload = conn.execute(
        "SELECT kind, customer_id, payload FROM recgen.jobs WHERE job_id = %s", (job,)).fetchone()
    assert kind == "render_video" and customer == 6 and payload["content_id"] == cid
    assert payload["options"]["size"] == "1080x1080" and "--watermark-text" in payload["options"]["args"]
    email = one(conn, "SELECT recgen.email(6) ->> 'content_id'")
    before = one(conn, "SELECT count(*) FROM recgen.jobs")
    with pytest.raises(errors.InvalidParameterValue) as e:
        one(conn, "SELECT recgen.render_video(%s)", (int(email),))
    assert "not a narration" in str(e.value) and "video_script" in e.value.diag.message_hint
    with pytest.raises(errors.InvalidParameterValue):
        one(conn, "SELECT recgen.render_video(%s, '{\"watermark_position\": \"middle\"}')", (cid,))
    with pytest.raises(errors.InsufficientPrivilege):
        one(conn, "SELECT recgen.render_video(%s, jsonb_build_object('music', %s::text))",
            (cid, os.path.join(dirs["outside"], "secret.png")))
    with pytest.raises(errors.NoDataFound):
        one(conn, "SELECT recgen.render_video(987654321)")
    assert one(conn, "SELECT count(*) FROM recgen.jobs") == before


def test_analysts_render_only_what_they_may_see(conn):
    cid = narration(conn, 6)
    conn.execute("UPDATE recgen.customers SET consent_profiling = false WHERE customer_id = 6")
    try:
        conn.execute("SET ROLE recgen_analyst")
        with pytest.raises(errors.NoDataFound):
            one(conn, "SELECT recgen.render_video(%s)", (cid,))
    finally:
        conn.execute("RESET ROLE")
        conn.execute("UPDATE recgen.customers SET consent_profiling = true WHERE customer_id = 6")


def test_render_job_runs_the_helper_and_records_the_media(conn, dirs):
    cid = narration(conn, 6)
    job = one(conn, "SELECT recgen.render_video(%s, '{\"music\": \"none\"}')", (cid,))
    step = handler(conn, job, None, None)
    spec = step["process"]
    args = spec["args"]
    assert args[0] == "--text" and "£" not in args[1] and args[args.index("--out-dir") + 1] == dirs["media"]
    results = run_process(spec)
    assert results["exit_code"] == 0, results["stderr"]
    done = handler(conn, job, step["state"], results)["result"]
    assert len(done["media_ids"]) == 5
    rows = conn.execute("SELECT kind, format, path, bytes, sha256, duration FROM recgen.media "
                        "WHERE job_id = %s ORDER BY format", (job,)).fetchall()
    assert sorted(r[1] for r in rows) == ["mp4", "png", "srt", "vtt", "wav"]
    for kind, fmt, path, size, sha, duration in rows:
        data = open(path, "rb").read()
        assert len(data) == size and hashlib.sha256(data).hexdigest() == sha
        assert (duration is not None) == (kind in ("video", "audio"))
    video = done["video"]
    data = bytes(one(conn, "SELECT recgen.media_bytes(%s)", (video,)))
    assert data[4:8] == b"ftyp"
    # a second run of the final step stores nothing twice
    assert handler(conn, job, step["state"], results)["result"]["media_ids"] == []
    assert one(conn, "SELECT count(*) FROM recgen.media WHERE job_id = %s", (job,)) == 5


def test_render_job_failure_carries_the_log(conn):
    cid = narration(conn, 6)
    job = one(conn, "SELECT recgen.render_video(%s)", (cid,))
    step = handler(conn, job, None, None)
    out = handler(conn, job, step["state"], {"exit_code": 1, "stderr": "recgen-render: FFmpeg failed (exit status 1) in encode:\nmoov atom not found"})
    assert out["retryable"] is True and "moov atom not found" in out["fail"]
    out = handler(conn, job, step["state"], {"exit_code": 2, "stderr": "recgen-render: --size must be ..."})
    assert out["retryable"] is False
    out = handler(conn, job, step["state"], {"exit_code": None, "signal": 9, "stderr": ""})
    assert "signal 9" in out["fail"]


def test_render_job_rechecks_consent(conn):
    cid = narration(conn, 6)
    job = one(conn, "SELECT recgen.render_video(%s)", (cid,))
    conn.execute("UPDATE recgen.customers SET consent_marketing = false WHERE customer_id = 6")
    try:
        with pytest.raises(errors.InsufficientPrivilege):
            handler(conn, job, None, None)
    finally:
        conn.execute("UPDATE recgen.customers SET consent_marketing = true WHERE customer_id = 6")
