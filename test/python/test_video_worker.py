"""render_video end to end through the background workers: recgen.render_video
queues the job, a worker runs the real recgen-render (the "process" action:
its own process group, progress from its standard output, its log from its
standard error) with the real espeak-ng and FFmpeg, and the handler records
the media. Also what must not go wrong: a cancelled render, a render past
recgen.render_timeout, a helper killed with SIGKILL (the attempt fails with
the tail of its log, the job retries, then is discarded); each leaves no
temporary files and a running server."""
import hashlib
import json
import os
import shutil
import signal
import subprocess

import pytest

from content_helpers import ROOT, fake, fake_get, fresh_db  # noqa: F401 (fixture)
from content_helpers import connect as content_connect
from jobs_helpers import SETTINGS, one, set_worker_settings, wait_for, wait_jobs
from render_helpers import as_server, probe

DB = "recgen_py_video_worker"
BASE = os.path.join(ROOT, ".pgdata", "test-video-worker")
# a narration of a few seconds, so that a whole render stays short
SHORT = ("Hello Alice, this is Mark, your advisor.\n\n"
         "The Red Enamel Mug costs 6 pounds 50, and it suits your kitchen.\n\n"
         "Book a call with me in the app. Thank you, Alice.")


@pytest.fixture(scope="module")
def dirs():
    shutil.rmtree(BASE, ignore_errors=True)
    d = {k: os.path.join(BASE, k) for k in ("media", "assets")}
    for p in d.values():
        os.makedirs(p)
    # a moving background: every frame of the video is encoded, so a render
    # of a full narration lasts long enough to be cancelled, timed out, killed
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
                    "-t", "2", "-pix_fmt", "yuv420p", os.path.join(d["assets"], "clip.mp4")], check=True)
    as_server(BASE)
    yield d
    shutil.rmtree(BASE, ignore_errors=True)


@pytest.fixture(scope="module")
def db(dirs):
    d = fresh_db(DB)
    set_worker_settings({**SETTINGS, "recgen.media_dir": dirs["media"], "recgen.asset_dirs": dirs["assets"]})
    yield d
    set_worker_settings({k: None for k in [*SETTINGS, "recgen.media_dir", "recgen.asset_dirs",
                                           "recgen.render_timeout"]})


@pytest.fixture
def conn(db, fake):
    fake_get(fake, "/reset")
    c = content_connect(db, fake)
    yield c
    c.close()


def narration(conn, customer, text=None):
    """A video_script content of the customer (the fallback narration, about
    70 s of speech), its text replaced by text when given."""
    cid = one(conn, "SELECT recgen.video_script(%s)", (customer,))["content_id"]
    if text:
        conn.execute("UPDATE recgen.content SET output = jsonb_set(output, '{text}', to_jsonb(%s::text))"
                     " WHERE customer_id = %s AND content_id = %s", (text, customer, cid))
    return cid


def long_render(conn, dirs, customer, max_attempts=None):
    """A job rendering a full narration over the moving clip."""
    cid = narration(conn, customer)
    options = json.dumps({"background": os.path.join(dirs["assets"], "clip.mp4"), "music": "generated"})
    if max_attempts is None:
        return cid, one(conn, "SELECT recgen.render_video(%s, %s)", (cid, options))
    return cid, one(conn, "SELECT recgen.enqueue('render_video', jsonb_build_object('content_id', %s::bigint,"
                          " 'options', %s::jsonb), %s, max_attempts => %s)", (cid, options, customer, max_attempts))


def proc_stat(pid):
    """(ppid, process group) of a process, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None if fields[0] == "Z" else (int(fields[1]), int(fields[2]))


def group(pgid):
    """The live processes of a process group."""
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and (proc_stat(p) or (0, 0))[1] == pgid]


def helpers(name):
    """[(pid, ppid, process group)] of the recgen-render processes rendering
    name (a helper's child between fork and exec has its command line too)."""
    out = []
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except (FileNotFoundError, ProcessLookupError):
            continue
        st = proc_stat(p)
        if st and argv[0].endswith(b"/recgen-render") and name.encode() in argv:
            out.append((int(p), *st))
    return out


def encoding_helper(conn, cid, job, attempt=1, other_than=None):
    """Once the job's attempt runs FFmpeg's encode: the pid of its helper, the
    child of the worker holding the job and the leader of its own process
    group, with FFmpeg in that group. The first attempt is also seen
    encoding in recgen.jobs.progress (the worker carries the helper's
    progress there)."""
    name = f"video-{cid}-{job}"

    def ready():
        at, worker, phase = conn.execute("SELECT attempt, leased_by, progress ->> 'phase' FROM recgen.jobs"
                                         " WHERE job_id = %s", (job,)).fetchone()
        if at != attempt or (attempt == 1 and phase != "encode"):
            return None
        for pid, ppid, pgid in helpers(name):
            if ppid == worker and pgid == pid and pid != other_than and len(group(pid)) >= 2:
                return pid
        return None
    pid = wait_for(ready, timeout=60)
    assert pid, (helpers(name), one(conn, "SELECT row_to_json(j) FROM recgen.jobs j WHERE job_id = %s", (job,)))
    return pid


def temporary_dirs(dirs):
    return sorted(f for f in os.listdir(dirs["media"]) if f.startswith("recgen-render-"))


def outputs(dirs, cid, job):
    return sorted(f for f in os.listdir(dirs["media"]) if f.startswith(f"video-{cid}-{job}."))


def test_a_render_job_runs_through_a_worker(conn, dirs):
    cid = narration(conn, 1, SHORT)
    job = one(conn, "SELECT recgen.render_video(%s, '{\"watermark_text\": \"Your bank\"}')", (cid,))
    assert wait_jobs(conn, [job], timeout=120) == ["completed"], \
        one(conn, "SELECT errors FROM recgen.jobs WHERE job_id = %s", (job,))
    result, progress = conn.execute("SELECT result, progress FROM recgen.jobs WHERE job_id = %s", (job,)).fetchone()
    rows = conn.execute("SELECT media_id, kind, format, path, bytes, sha256, duration FROM recgen.media"
                        " WHERE job_id = %s ORDER BY format", (job,)).fetchall()
    assert [(r[1], r[2]) for r in rows] == [("video", "mp4"), ("thumbnail", "png"), ("subtitles", "srt"),
                                            ("subtitles", "vtt"), ("audio", "wav")]
    assert sorted(result["media_ids"]) == sorted(r[0] for r in rows)
    assert {m["media_id"]: m["kind"] for m in result["media"]} == {r[0]: r[1] for r in rows}
    assert result["video"] == rows[0][0] and result["render_seconds"] > 0
    for _, _, fmt, path, size, sha, _ in rows:
        assert os.path.dirname(path) == dirs["media"] and os.path.basename(path) == f"video-{cid}-{job}.{fmt}"
        data = open(path, "rb").read()
        assert len(data) == size and hashlib.sha256(data).hexdigest() == sha
    # the helper's last progress line, stored by the worker
    assert progress == {"fraction": 1.0, "phase": "done"}
    info = probe(rows[0][3])
    streams = sorted((s["codec_type"], s["codec_name"]) for s in info["streams"])
    assert streams == [("audio", "aac"), ("video", "h264")]
    voice = float(probe(rows[4][3])["format"]["duration"])
    assert 3 < voice < 20  # the short narration, spoken
    assert abs(float(info["format"]["duration"]) - voice) <= 0.5
    assert abs(rows[0][6] - voice) <= 0.5
    assert temporary_dirs(dirs) == []


def test_cancel_kills_the_render(conn, dirs):
    started = one(conn, "SELECT pg_postmaster_start_time()")
    cid, job = long_render(conn, dirs, 4)
    pid = encoding_helper(conn, cid, job)
    assert temporary_dirs(dirs) != []
    assert one(conn, "SELECT recgen.cancel_job(%s)", (job,)) is True
    # the helper and its FFmpeg: the whole group
    assert wait_for(lambda: group(pid) == [], timeout=30), group(pid)
    assert wait_jobs(conn, [job]) == ["cancelled"]
    assert temporary_dirs(dirs) == [] and outputs(dirs, cid, job) == []
    assert one(conn, "SELECT count(*) FROM recgen.media WHERE job_id = %s", (job,)) == 0
    assert one(conn, "SELECT pg_postmaster_start_time()") == started


def test_a_render_past_the_timeout_fails_the_job(conn, dirs):
    set_worker_settings({"recgen.render_timeout": "1s"})
    try:
        cid, job = long_render(conn, dirs, 5)
        assert wait_jobs(conn, [job], timeout=60) == ["discarded"]
    finally:
        set_worker_settings({"recgen.render_timeout": None})
    errors = one(conn, "SELECT errors FROM recgen.jobs WHERE job_id = %s", (job,))
    assert len(errors) == 1 and errors[0]["retryable"] is False
    assert "took longer than recgen.render_timeout (1s)" in errors[0]["error"]
    assert "recgen-render: started" in errors[0]["error"]  # the tail of its log
    assert wait_for(lambda: helpers(f"video-{cid}-{job}") == [], timeout=10), helpers(f"video-{cid}-{job}")
    assert temporary_dirs(dirs) == [] and outputs(dirs, cid, job) == []


def test_a_killed_helper_fails_the_attempt_and_the_job_retries(conn, dirs):
    started = one(conn, "SELECT pg_postmaster_start_time()")
    cid, job = long_render(conn, dirs, 6, max_attempts=2)
    first = encoding_helper(conn, cid, job)
    os.kill(first, signal.SIGKILL)  # the helper only: nothing of it can clean up
    # the second attempt's helper starts, and removes what the first left
    second = encoding_helper(conn, cid, job, attempt=2, other_than=first)
    assert not [d for d in temporary_dirs(dirs) if d.startswith(f"recgen-render-{first}-")]
    os.kill(second, signal.SIGKILL)
    assert wait_jobs(conn, [job]) == ["discarded"]
    errors = one(conn, "SELECT errors FROM recgen.jobs WHERE job_id = %s", (job,))
    assert [e["attempt"] for e in errors] == [1, 2] and all(e["retryable"] for e in errors)
    for e in errors:
        assert e["error"].startswith("recgen-render was killed by signal 9 during encode")
        assert "recgen-render: FFmpeg: encode" in e["error"]  # the tail of its log
    # FFmpeg died with its helper; the server did not notice
    assert wait_for(lambda: group(first) == [] and group(second) == [], timeout=10)
    assert one(conn, "SELECT pg_postmaster_start_time()") == started
    assert one(conn, "SELECT count(*) FROM recgen.media WHERE job_id = %s", (job,)) == 0
    # the next render removes the directory the last killed helper left
    assert [d for d in temporary_dirs(dirs) if d.startswith(f"recgen-render-{second}-")]
    cid = narration(conn, 1, SHORT)
    again = one(conn, "SELECT recgen.render_video(%s, '{\"music\": \"none\"}')", (cid,))
    assert wait_jobs(conn, [again], timeout=120) == ["completed"]
    assert temporary_dirs(dirs) == []


def test_progress_follows_the_render_between_heartbeats(conn, dirs):
    """With a lease of ten minutes the worker's regular heartbeat comes only
    every 200 s, after this render has ended; the helper's progress must
    still reach recgen.jobs while it encodes (at most once a second)."""
    set_worker_settings({"recgen.job_lease": "10min"})
    try:
        cid, job = long_render(conn, dirs, 4)
        seen = []

        def finished():
            state, progress = conn.execute("SELECT state, progress FROM recgen.jobs WHERE job_id = %s",
                                           (job,)).fetchone()
            if state == "running" and progress and progress["phase"] == "encode" \
                    and progress["fraction"] not in seen:
                seen.append(progress["fraction"])
            return state if state in ("completed", "discarded", "cancelled") else None
        assert wait_for(finished, timeout=120, step=0.1) == "completed"
    finally:
        set_worker_settings({"recgen.job_lease": SETTINGS["recgen.job_lease"]})
    assert len(seen) >= 3, seen
    assert seen == sorted(seen)
