"""recgen-render, the video helper program, on its own: streams, duration,
speech-timed subtitles, watermark, ducked music, stop and failure clean-up,
bad arguments. Everything is measured on the outputs with FFmpeg's tools."""

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from render_helpers import (RENDER, SCRIPT, ffmpeg, frame_rgb, overlap, parse_cues, protocol_line,
                            probe, region_diff, render, rms_db, speech_intervals)

pytestmark = pytest.mark.skipif(not RENDER.exists(), reason="recgen-render not built")


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    """A moving clip, a background picture, a PNG watermark, a music file."""
    d = tmp_path_factory.mktemp("assets")
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=4", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", str(d / "clip.mp4"))
    ffmpeg("-f", "lavfi", "-i", "mandelbrot=s=1600x1200", "-frames:v", "1", str(d / "bg.png"))
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=200x80,format=rgba", "-frames:v", "1",
           str(d / "wm.png"))
    # a 12 kHz tone: the voice (22.05 kHz) has nothing above 11 kHz, so a
    # high-pass filter on the mix hears the music alone
    ffmpeg("-f", "lavfi", "-i", "sine=f=12000:r=44100:d=7", str(d / "tone.wav"))
    return d


@pytest.fixture(scope="module")
def still(tmp_path_factory):
    d = tmp_path_factory.mktemp("still")
    _, res = render(d, "--watermark-text", "Northbridge Bank")
    return d, res


def words_of(d, name="v"):
    return json.loads((Path(d) / f"{name}.words.json").read_text())


def check_streams(mp4, wav):
    info = probe(mp4)
    kinds = sorted((s["codec_type"], s["codec_name"]) for s in info["streams"])
    assert kinds == [("audio", "aac"), ("video", "h264")]
    narration = float(probe(wav)["format"]["duration"])
    assert abs(float(info["format"]["duration"]) - narration) <= 0.5
    for s in info["streams"]:
        assert abs(float(s["duration"]) - narration) <= 0.5, s
    return info


def test_still_streams_duration_and_files(still):
    d, res = still
    for key in ("mp4", "srt", "vtt", "png", "wav"):
        assert Path(res[key]).is_file() and Path(res[key]).stat().st_size > 0
    # each file reported with its kind, size and SHA-256
    assert sorted(f["kind"] for f in res["files"]) == ["audio", "subtitles", "subtitles", "thumbnail", "video"]
    for f in res["files"]:
        data = Path(f["path"]).read_bytes()
        assert f["bytes"] == len(data) and f["sha256"] == hashlib.sha256(data).hexdigest()
    info = check_streams(d / "v.mp4", d / "v.wav")
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    # one frame per picture: a few per cue, nowhere near 25 per second
    assert int(video["nb_read_packets"]) <= 3 * res["cues"] + 4
    assert int(video["nb_read_packets"]) >= res["cues"]
    assert abs(res["duration"] - float(probe(d / "v.wav")["format"]["duration"])) < 0.01
    # the thumbnail is a full-size picture
    thumb = probe(d / "v.png")
    assert thumb["streams"][0]["codec_name"] == "png"
    assert not list(d.glob("recgen-render-*"))


def test_clip_background_every_frame(tmp_path, assets):
    _, res = render(tmp_path, "--background-clip", str(assets / "clip.mp4"),
                    "--size", "640x360", "--music", "none")
    info = check_streams(tmp_path / "v.mp4", tmp_path / "v.wav")
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    # a moving clip (4 s, looped) is encoded at its full rate
    assert int(video["nb_read_packets"]) >= 24 * res["duration"]


def test_image_background_and_portrait_size(tmp_path, assets):
    render(tmp_path, "--background-image", str(assets / "bg.png"), "--size", "1080x1920",
           "--watermark-image", str(assets / "wm.png"))
    check_streams(tmp_path / "v.mp4", tmp_path / "v.wav")
    p = probe(tmp_path / "v.png")
    assert p["streams"][0]["codec_name"] == "png"
    w = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=width,height",
                        "-of", "csv=p=0", str(tmp_path / "v.mp4")],
                       capture_output=True, text=True).stdout.split()
    assert w[0] == "1080,1920"


def test_cues_cover_the_narration_in_order(still):
    d, _ = still
    words = words_of(d)
    for fmt in ("srt", "vtt"):
        cues = parse_cues(d / f"v.{fmt}")
        assert cues, fmt
        # every word of the script, in order, exactly once
        shown = " ".join(" ".join(lines) for _, _, lines in cues).split()
        assert shown == SCRIPT.split()
        i = 0
        for k, (start, end, lines) in enumerate(cues):
            assert end > start
            if k:
                assert start >= cues[k - 1][1], "cues overlap"
            assert 1 <= len(lines) <= 2
            for line in lines:
                assert len(line) <= 42 or len(line.split()) == 1, line
            n = len(" ".join(lines).split())
            first, last = words[i], words[i + n - 1]
            # shown while its words are spoken, not longer
            assert start >= first["start"] - 0.002 and end <= last["end"] + 0.002
            assert start <= first["start"] + 0.002 and end >= last["end"] - 0.002
            i += n
        assert i == len(words)


def test_cues_follow_the_speech_itself(still):
    """Independent of the helper's own word times: the cues sit on the
    audible speech of the narration (silencedetect) and cover it."""
    d, _ = still
    cues = parse_cues(d / "v.srt")
    speech = speech_intervals(d / "v.wav")
    spoken = sum(e - s for s, e in speech)
    covered = sum(overlap(c[:2], s) for c in cues for s in speech)
    assert covered >= 0.9 * spoken
    for c in cues:
        # a cue appears as its first word is heard and goes as its last ends
        assert min(abs(c[0] - s[0]) for s in speech) <= 0.1, c
        assert min(abs(c[1] - s[1]) for s in speech) <= 0.1, c
        on_speech = sum(overlap(c[:2], s) for s in speech)
        assert on_speech >= 0.6 * (c[1] - c[0]), c
    # the paragraph pauses have no cue on screen
    gaps = [b[0] - a[1] for a, b in zip(cues, cues[1:])]
    assert sum(1 for g in gaps if g >= 0.6) >= 2


def test_lines_never_split_a_word(tmp_path):
    long_word = "Supercalifragilisticexpialidociousnessfulness"  # 45 characters
    script = ("This sentence has a word that is longer than a line, "
              f"{long_word}, and goes on for a while after it to fill the cue.")
    render(tmp_path, "--music", "none", script=script)
    cues = parse_cues(tmp_path / "v.srt")
    lines = [line for c in cues for line in c[2]]
    assert f"{long_word}," in lines
    assert " ".join(lines).split() == script.split()


def test_watermark_changes_its_corner_only(tmp_path, assets):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    render(a, "--watermark-image", str(assets / "wm.png"), "--watermark-position",
           "top-left", "--watermark-opacity", "0.8", "--music", "none")
    render(b, "--music", "none")
    w, h = 1280, 720
    t = 1.0
    fa, fb = frame_rgb(a / "v.mp4", t, w, h), frame_rgb(b / "v.mp4", t, w, h)
    corner = region_diff(fa, fb, w, 30, 30, 230, 90)
    other = region_diff(fa, fb, w, w - 230, 30, w - 30, 90)
    assert corner > 40, corner
    # the rest of the picture is the same but for coding noise (a colour
    # conversion on the watermark's path once shifted the whole frame by 5)
    assert other < 3, other


def test_music_ducks_under_the_voice(tmp_path, assets):
    script = ("Hello Anna, this is a test of the music under the voice, which "
              "should be quieter while I speak.\n\nAnd now, after a long pause, I "
              "speak again for a while, so that the music goes down once more.\n")
    render(tmp_path, "--music", str(assets / "tone.wav"), "--paragraph-pause", "2500",
           "--music-volume", "0.3", script=script)
    words = words_of(tmp_path)
    end_first = next(w["end"] for w in words if w["text"] == "speak.")
    start_second = next(w["start"] for w in words if w["text"] == "And")
    mp4 = tmp_path / "v.mp4"
    under_voice = rms_db(mp4, 1.0, 3.0, highpass=11000)
    in_pause = rms_db(mp4, end_first + 1.2, start_second - 0.1, highpass=11000)
    assert in_pause - under_voice >= 6, (under_voice, in_pause)
    # the music is there at all, and the voice is louder than the music
    assert in_pause > -50
    assert rms_db(mp4, 1.0, 3.0) - under_voice >= 15


def start_clip_render(tmp_path, assets, work):
    """A long clip render in its own process group, returned once FFmpeg
    encodes."""
    script = " ".join([SCRIPT] * 4)
    (tmp_path / "s.txt").write_text(script)
    p = subprocess.Popen([str(RENDER), "--script", str(tmp_path / "s.txt"), "--out-dir",
                          str(tmp_path), "--name", "v", "--work-dir", str(work),
                          "--background-clip", str(assets / "clip.mp4")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    for line in p.stdout:
        what, value = protocol_line(line)
        if what == "progress" and value["phase"] == "encode":
            break
    assert list(work.glob("recgen-render-*")), "no temporary directory while rendering"
    return p


def test_stop_removes_temporary_files(tmp_path, assets):
    work = tmp_path / "work"
    work.mkdir()
    p = start_clip_render(tmp_path, assets, work)
    os.killpg(p.pid, signal.SIGTERM)
    p.wait(timeout=30)
    assert p.returncode == 3, p.stderr.read()
    assert not list(work.iterdir())
    assert not list(tmp_path.glob("v.*"))
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.killpg(p.pid, 0)  # FFmpeg went with it


def test_killed_helper_leftovers_are_removed_by_the_next(tmp_path, assets):
    work = tmp_path / "work"
    work.mkdir()
    p = start_clip_render(tmp_path, assets, work)
    os.killpg(p.pid, signal.SIGKILL)  # nothing can clean up after this
    p.wait(timeout=30)
    left = list(work.glob("recgen-render-*"))
    assert len(left) == 1
    render(tmp_path, "--work-dir", str(work), "--music", "none", name="w")
    assert not list(work.iterdir())


def test_ffmpeg_failure_reports_its_log(tmp_path):
    bad = tmp_path / "not-a-video.mp4"
    bad.write_text("this is not a video\n")
    p, res = render(tmp_path, "--background-clip", str(bad), check=False)
    assert p.returncode == 1 and res is None
    assert "FFmpeg failed" in p.stderr
    assert "not-a-video.mp4" in p.stderr or "Invalid data" in p.stderr
    assert not list(tmp_path.glob("recgen-render-*"))
    assert not (tmp_path / "v.mp4").exists()


@pytest.mark.parametrize("args, message", [
    (["--watermark-position", "middle"], "top-left, top-right, bottom-left, bottom-right or center"),
    (["--size", "1281x720"], "even numbers"),
    (["--rate", "fast"], "from 80 to 450"),
    (["--music-volume", "2"], "from 0 to 1"),
    (["--background-image", "/nonexistent/bg.png"], "not a readable file"),
    (["--preset", "warp"], "not an x264 preset"),
    (["--voice", "xx-nonexistent"], "unknown voice"),
])
def test_bad_arguments(tmp_path, args, message):
    p, res = render(tmp_path, *args, check=False)
    assert p.returncode in (1, 2) and res is None
    assert message in p.stderr
    assert not list(tmp_path.glob("recgen-render-*"))


def test_product_card_shows_while_its_product_is_presented(tmp_path):
    """A card appears in the top-left corner from the cue that names its
    product to the end of that paragraph (its pauses too), and not before;
    a card whose product is never spoken is left out, and the log says so."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    p, _ = render(a, "--music", "none", "--card", "cash-back credit card|No annual fee",
                  "--card", "Home Insurance|from £12.50")
    render(b, "--music", "none")
    assert 'card "Home Insurance": the narration never names it' in p.stderr
    cues = parse_cues(a / "v.srt")
    named = [i for i, c in enumerate(cues) if "Cash-Back" in " ".join(c[2])]
    assert named, cues
    first = named[0]
    # the paragraph's cues: up to the one ending "no annual fee at all."
    last = next(i for i in range(first, len(cues)) if " ".join(cues[i][2]).endswith("at all."))
    w, h = 1280, 720

    def shown_at(path, t):
        # the picture on screen at t: a still video has frames only where the
        # picture changes, so resample to a constant rate before seeking
        out = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-vf", "fps=20",
                              "-ss", str(t), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                             capture_output=True, check=True).stdout
        assert len(out) == w * h * 3
        return out

    def card_shown(t):
        return region_diff(shown_at(a / "v.mp4", t), shown_at(b / "v.mp4", t), w, 70, 60, 330, 120) > 20

    assert not card_shown((cues[0][0] + cues[0][1]) / 2)  # the greeting
    for i in range(first, last + 1):
        assert card_shown((cues[i][0] + cues[i][1]) / 2), i
    for i in range(first, last):
        if cues[i + 1][0] - cues[i][1] > 0.1:  # a pause inside the paragraph
            assert card_shown((cues[i][1] + cues[i + 1][0]) / 2), i
    assert not card_shown((cues[-1][0] + cues[-1][1]) / 2)  # the call to action
