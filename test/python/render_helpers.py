"""Helpers for the recgen-render tests: run the helper, probe and measure
its outputs with FFmpeg's own tools (ffprobe, astats, silencedetect)."""

import json
import os
import pwd
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RENDER = Path(os.environ.get("RECGEN_RENDER", ROOT / "render" / "recgen-render"))

SCRIPT = (
    "Hello Anna, this is Mark, your advisor at Northbridge Bank. I have "
    "three ideas for you this year.\n\n"
    "First, the Cash-Back Credit Card, which pays one percent back on every "
    "purchase, with no annual fee at all.\n\n"
    "Book a call with me in the app. Thank you, Anna.\n"
)


def render(tmp, *args, script=SCRIPT, name="v", check=True):
    """Run recgen-render on script in tmp; returns (completed process,
    result dict or None)."""
    tmp = Path(tmp)
    sp = tmp / f"{name}.txt"
    sp.write_text(script)
    cmd = [str(RENDER), "--script", str(sp), "--out-dir", str(tmp), "--name", name,
           "--words-json", str(tmp / f"{name}.words.json"), "--keep-wav", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if check:
        assert p.returncode == 0, p.stderr
    res = None
    for line in p.stdout.splitlines():
        what, value = protocol_line(line)
        if what == "result":
            res = value
    return p, res


def as_server(path):
    """Make path (a directory tree) readable and writable by the server's user."""
    pw = pwd.getpwnam("postgres")
    for d, _, files in os.walk(path):
        os.chown(d, pw.pw_uid, pw.pw_gid)
        for f in files:
            os.chown(os.path.join(d, f), pw.pw_uid, pw.pw_gid)


def protocol_line(line):
    """One line of the helper's standard output, as the workers read it
    (src/job_process.c): ("progress", {"fraction", "phase"}) or ("result",
    dict). Any other line fails the test."""
    word, _, rest = line.rstrip("\n").partition(" ")
    if word == "progress":
        fraction, _, phase = rest.partition(" ")
        assert 0 <= float(fraction) <= 1 and phase, line
        return word, {"fraction": float(fraction), "phase": phase}
    assert word == "result", line
    return word, json.loads(rest)


def ffmpeg(*args):
    return subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-y", *args],
                          capture_output=True, text=True, check=True, timeout=120)


def probe(path):
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_packets", "-show_entries",
         "stream=codec_type,codec_name,duration,nb_read_packets:format=duration",
         "-of", "json", str(path)],
        capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def parse_time(s):
    h, m, rest = s.replace(",", ".").split(":")
    return int(h) * 3600 + int(m) * 60 + float(rest)


def parse_cues(path):
    """[(start, end, [lines])] of an SRT or WebVTT file."""
    text = Path(path).read_text()
    cues = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.splitlines()
        for i, line in enumerate(lines):
            m = re.match(r"(\S+) --> (\S+)", line)
            if m:
                cues.append((parse_time(m.group(1)), parse_time(m.group(2)), lines[i + 1:]))
                break
    return cues


def rms_db(path, start, end, highpass=None):
    """RMS level (dB) of the audio of path between start and end."""
    af = f"atrim=start={start}:end={end}"
    if highpass:
        af += f",highpass=f={highpass},highpass=f={highpass},highpass=f={highpass}"
    af += ",astats=measure_overall=RMS_level:measure_perchannel=0"
    p = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-i", str(path), "-af", af,
                        "-f", "null", "-"], capture_output=True, text=True, check=True)
    m = re.findall(r"RMS level dB: (\S+)", p.stderr)
    return float(m[-1])


def speech_intervals(wav, noise="-40dB", min_silence=0.08):
    """Intervals of the WAV that are not silence, by FFmpeg's silencedetect."""
    p = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-i", str(wav), "-af",
                        f"silencedetect=n={noise}:d={min_silence}", "-f", "null", "-"],
                       capture_output=True, text=True, check=True)
    starts = [float(x) for x in re.findall(r"silence_start: (\S+)", p.stderr)]
    ends = [float(x) for x in re.findall(r"silence_end: (\S+)", p.stderr)]
    total = float(probe(wav)["format"]["duration"])
    silences = list(zip(starts, ends + [total] * (len(starts) - len(ends))))
    speech, t = [], 0.0
    for s, e in silences:
        if s > t:
            speech.append((t, s))
        t = e
    if t < total:
        speech.append((t, total))
    return speech


def overlap(a, b):
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def frame_rgb(path, t, w, h):
    """The frame at t seconds as raw RGB bytes."""
    p = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-ss", str(t), "-i", str(path),
                        "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                       capture_output=True, check=True)
    assert len(p.stdout) == w * h * 3
    return p.stdout


def region_diff(a, b, w, x0, y0, x1, y1):
    """Mean absolute difference of two RGB frames in a rectangle."""
    total = n = 0
    for y in range(y0, y1):
        row = (y * w + x0) * 3
        end = (y * w + x1) * 3
        ra, rb = a[row:end], b[row:end]
        total += sum(abs(p - q) for p, q in zip(ra, rb))
        n += len(ra)
    return total / n
