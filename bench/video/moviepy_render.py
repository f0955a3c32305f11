"""The baseline of bench/video: the MoviePy pipeline of the system recgen
started from, producing the same video as recgen-render from the same
inputs (narration WAV, SRT cues, background, music, watermark).

Every frame is composed in Python (numpy) and piped to FFmpeg: that is how
MoviePy works, and what the benchmark compares against. The music is
ducked under the voice by an envelope over the cue times (MoviePy has no
sidechain compressor), with 0.3 s ramps.

usage: moviepy_render.py --wav W --srt S (--image P | --clip C) --music M
                         --watermark PNG --out OUT.mp4 [--size 1280x720]
                         [--preset P] [--fps N]
"""

import argparse
import re

import numpy as np
from moviepy import (AudioFileClip, CompositeAudioClip, CompositeVideoClip, ImageClip,
                     TextClip, VideoFileClip, afx, vfx)

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def parse_srt(path):
    def t(s):
        h, m, rest = s.replace(",", ".").split(":")
        return int(h) * 3600 + int(m) * 60 + float(rest)

    cues = []
    for block in re.split(r"\n\s*\n", open(path, encoding="utf-8").read().strip()):
        lines = block.splitlines()
        a, b = lines[1].split(" --> ")
        cues.append((t(a), t(b), "\n".join(lines[2:])))
    return cues


def fill(clip, w, h):
    """Scale to cover w x h, then crop the middle."""
    scale = max(w / clip.w, h / clip.h)
    clip = clip.resized(scale)
    return clip.cropped(x_center=clip.w / 2, y_center=clip.h / 2, width=w, height=h)


def duck(music, cues, low=0.25, ramp=0.3):
    """Music envelope: low while a cue is on screen, ramps between."""
    starts = np.array([c[0] for c in cues])
    ends = np.array([c[1] for c in cues])

    def envelope(t):
        t = np.atleast_1d(t)[:, None]
        # distance into / out of the nearest cue, as a 0..1 ramp
        inside = np.clip(np.minimum(t - starts + ramp, ends + ramp - t) / ramp, 0, 1)
        g = 1 - (1 - low) * inside.max(axis=1)
        return g

    def apply(get_frame, t):
        frame = get_frame(t)
        g = envelope(t)
        return frame * (g[:, None] if frame.ndim == 2 else g[0])

    return music.transform(apply, keep_duration=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wav", required=True)
    ap.add_argument("--srt", required=True)
    ap.add_argument("--image")
    ap.add_argument("--clip")
    ap.add_argument("--music", required=True)
    ap.add_argument("--music-volume", type=float, default=0.25)
    ap.add_argument("--watermark", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--preset", default="veryfast")
    ap.add_argument("--fps", type=int, default=25)
    a = ap.parse_args()
    w, h = (int(x) for x in a.size.split("x"))

    voice = AudioFileClip(a.wav)
    dur = voice.duration
    cues = parse_srt(a.srt)

    if a.clip:
        bg = VideoFileClip(a.clip, audio=False).with_effects([vfx.Loop(duration=dur)])
    else:
        bg = ImageClip(a.image).with_duration(dur)
    bg = fill(bg, w, h).with_duration(dur)

    size = int(min(w * 0.9 / (42 * 0.55), h / 15))
    layers = [bg]
    for start, end, text in cues:
        txt = TextClip(font=FONT, text=text, font_size=size, color="white",
                       bg_color=(0, 0, 0), margin=(size // 3, size // 5),
                       method="label", text_align="center")
        txt = txt.with_opacity(0.9).with_start(start).with_duration(end - start)
        layers.append(txt.with_position(("center", h - int(h * 0.06) - txt.h)))
    mark = ImageClip(a.watermark).resized(width=int(w * 0.16)).with_opacity(0.6)
    layers.append(mark.with_position((w - mark.w - h // 25, h // 25)).with_duration(dur))

    music = AudioFileClip(a.music).with_effects([afx.AudioLoop(duration=dur)])
    music = duck(music.with_volume_scaled(a.music_volume), cues)
    audio = CompositeAudioClip([voice, music]).with_duration(dur)

    video = CompositeVideoClip(layers, size=(w, h)).with_audio(audio).with_duration(dur)
    base = a.out.rsplit(".", 1)[0]
    video.write_videofile(a.out, fps=a.fps, codec="libx264", preset=a.preset,
                          temp_audiofile=base + ".audio.m4a", remove_temp=True,
                          audio_codec="aac", audio_fps=44100, threads=2, logger=None,
                          ffmpeg_params=["-movflags", "+faststart", "-pix_fmt", "yuv420p"])
    video.save_frame(base + ".png", t=cues[0][0] + 0.5 if cues else 0)


if __name__ == "__main__":
    main()
