#!/usr/bin/env bash
# run.sh - video rendering speed: recgen-render against the MoviePy pipeline
# of the original system (moviepy_render.py), in the same run, on the same
# narration WAV, cues, background, music and watermark, at 720p, for a
# 30 s and a 60 s narration, with a still picture, a generated gradient
# (recgen only: MoviePy has no equivalent) and a moving clip.
#
# Prints one row per case: narration length, median wall time of each
# (RUNS runs, alternating), speed as a multiple of real time, and the
# MoviePy / recgen ratio (median of the pairwise ratios). The machine's
# load is printed before and after: the ratios are what to compare.
#
# Usage: bench/video/run.sh            (RUNS=3 by default)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
RUNS=${RUNS:-3}
make -s render/recgen-render >/dev/null
tools/venv.sh >/dev/null
RENDER=$ROOT/render/recgen-render
PY=$ROOT/.venv/bin/python
# MoviePy runs the same FFmpeg (and x264) as recgen-render
export IMAGEIO_FFMPEG_EXE=${IMAGEIO_FFMPEG_EXE:-$(command -v ffmpeg)}

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# inputs: a 720p moving clip (10 s, looped), a still picture, a PNG
# watermark, a 20 s music file (looped)
ffmpeg -v error -f lavfi -i "testsrc2=s=1280x720:r=25:d=10" -c:v libx264 -preset veryfast \
	-pix_fmt yuv420p "$W/clip.mp4"
ffmpeg -v error -f lavfi -i "gradients=s=1920x1080:c0=0x264653:c1=0x2a9d8f:x0=0:y0=0:x1=1920:y1=1080" \
	-frames:v 1 "$W/bg.png"
ffmpeg -v error -f lavfi -i "color=c=0xf4a261:s=240x90,format=rgba" -frames:v 1 "$W/wm.png"
ffmpeg -v error -f lavfi -i "sine=f=220:d=20,volume=0.5" -f lavfi -i "sine=f=330:d=20,volume=0.4" \
	-filter_complex amix=inputs=2 "$W/music.wav"

intro() {
	cat <<'EOF'
Hello Anna, this is Mark, your advisor at Northbridge Bank. I have looked at how you use your accounts, and I have a few ideas for you.

The Cash-Back Credit Card pays one percent back on everything you buy, with no annual fee.

Our Fixed Rate Saver pays four point one percent a year, and it has no fees at all.

EOF
}
closing() {
	cat <<'EOF'
Third, a Home Insurance plan from 12 pounds 50 a month covers your new flat and everything in it. If any of these sound right for you, book a call with me in the app.

EOF
}
# about 30 s and 60 s of narration
{ intro; closing; } >"$W/s30.txt"
{ intro; closing; intro; closing; } >"$W/s60.txt"

secs() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.4f\", $* }"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "video render benchmark: $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg), runs: $RUNS"
printf '%-10s %-9s %9s %9s %8s %9s %8s %9s\n' case narration recgen_s x_rt moviepy_s x_rt ratio frames
for len in 30 60; do
	for bg in image generated clip; do
		case $bg in
			image) rargs=(--background-image "$W/bg.png"); margs=(--image "$W/bg.png" --preset veryfast) ;;
			generated) rargs=(--background-generated 0x264653,0x2a9d8f); margs=() ;;
			clip) rargs=(--background-clip "$W/clip.mp4"); margs=(--clip "$W/clip.mp4" --preset superfast) ;;
		esac
		rt=() mt=() ratios=()
		for ((i = 0; i < RUNS; i++)); do
			t0=$(secs)
			"$RENDER" --script "$W/s$len.txt" --out-dir "$W" --name "r$len$bg" --keep-wav \
				"${rargs[@]}" --music "$W/music.wav" --watermark-image "$W/wm.png" >"$W/result" 2>"$W/err" ||
				{ cat "$W/err"; exit 1; }
			t1=$(secs)
			rt+=("$(calc "$t1 - $t0")")
			if [[ ${#margs[@]} -gt 0 ]]; then
				t0=$(secs)
				"$PY" bench/video/moviepy_render.py --wav "$W/r$len$bg.wav" --srt "$W/r$len$bg.srt" \
					"${margs[@]}" --music "$W/music.wav" --watermark "$W/wm.png" --out "$W/m$len$bg.mp4"
				t1=$(secs)
				mt+=("$(calc "$t1 - $t0")")
				ratios+=("$(calc "${mt[-1]} / ${rt[-1]}")")
			fi
		done
		dur=$(sed -n 's/.*"duration":\([0-9.]*\).*/\1/p' "$W/result")
		frames=$(ffprobe -v error -count_packets -select_streams v -show_entries stream=nb_read_packets \
			-of csv=p=0 "$W/r$len$bg.mp4")
		r=$(median "${rt[@]}")
		if [[ ${#mt[@]} -gt 0 ]]; then
			m=$(median "${mt[@]}")
			printf '%-10s %8.1fs %9.2f %8.1fx %9.2f %7.2fx %8.1fx %9s\n' "$bg" "$dur" "$r" \
				"$(calc "$dur / $r")" "$m" "$(calc "$dur / $m")" "$(median "${ratios[@]}")" "$frames"
		else
			printf '%-10s %8.1fs %9.2f %8.1fx %9s %8s %9s %9s\n' "$bg" "$dur" "$r" \
				"$(calc "$dur / $r")" - - - "$frames"
		fi
	done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "x_rt: narration seconds per wall second; ratio: MoviePy time / recgen time, pair by pair (median)"
