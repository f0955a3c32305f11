#!/usr/bin/env bash
# demo_video.sh - the video part of "make demo" (called by tools/demo.sh after
# the content demo, with the local LLM server running): the narration of a
# personal video for a banking customer (recgen.video_script: an advisor
# presenting three recommended products), rendered by recgen-render, and
# its path, duration, size and render time.
#
# RECGEN_DEMO_BANK_DB names the database (default bank); RECGEN_DEMO_PGOPTIONS
# adds settings (for example "-c recgen.guard_retries=0"); the video goes to
# .pgdata/media (ignored by git).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BANK=${RECGEN_DEMO_BANK_DB:-bank}
MEDIA=$ROOT/.pgdata/media
# installed in the private PostgreSQL's pkglibdir, beside recgen.so
RENDER=$(dirname "$("$ROOT/tools/cluster.sh" bindir)")/lib/recgen-render
mkdir -p "$MEDIA"

"$ROOT/tools/llm-server.sh" start >/dev/null
# a slow (loaded) machine gets more time for the narration's LLM calls
export PGOPTIONS="-c client_min_messages=warning -c recgen.llm_url=$("$ROOT/tools/llm-server.sh" url) -c recgen.brand=bank -c recgen.llm_timeout=5min ${RECGEN_DEMO_PGOPTIONS:-}"
sql() {
	psql "$("$ROOT/tools/cluster.sh" dsn "$BANK")" -X -qAt -v ON_ERROR_STOP=1 "$@"
}

# concerns come from the customers' posts (once)
if [[ $(sql -c "SELECT count(*) FROM recgen.customer_concerns") == 0 ]]; then
	sql -c "SELECT recgen.refresh_concerns()" >/dev/null
fi
# a customer who may receive it, with a concern they raised (social consent)
# and three products to recommend
cid=$(sql -c "
	SELECT c.customer_id FROM recgen.customers c
	 WHERE c.consent_marketing AND c.consent_profiling AND c.consent_social
	   AND EXISTS (SELECT 1 FROM recgen.customer_concerns cc WHERE cc.customer_id = c.customer_id)
	   AND (SELECT count(*) FROM recgen.recommend(c.customer_id, 3)) = 3
	 ORDER BY c.customer_id LIMIT 1")
if [[ -z $cid ]]; then
	cid=$(sql -c "SELECT customer_id FROM recgen.customers WHERE consent_marketing AND consent_profiling
	              ORDER BY customer_id LIMIT 1")
fi

echo
echo "== Narrated video for a banking customer (database $BANK) =="
script=$(mktemp)
trap 'rm -f "$script"' EXIT
content_id=$(sql -c "SELECT recgen.video_script($cid, 'friendly') ->> 'content_id'")
# what the voice reads: the stored script made speakable
sql -c "SELECT recgen.speech_text(output ->> 'text') FROM recgen.content WHERE content_id = $content_id" >"$script"
echo "customer $cid, narration (content $content_id, guard verdict: $(sql -c "SELECT verdict FROM recgen.content WHERE content_id = $content_id")):"
fold -s -w 88 "$script" | sed 's/^/  /'

start=$(date +%s.%N)
"$RENDER" --script "$script" --out-dir "$MEDIA" --name "video-$content_id" \
	--watermark-text "Your bank" --music generated >"$MEDIA/video-$content_id.log"
end=$(date +%s.%N)
mp4=$MEDIA/video-$content_id.mp4
duration=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$mp4")
awk -v d="$duration" -v s="$(stat -c %s "$mp4")" -v t0="$start" -v t1="$end" -v p="$mp4" 'BEGIN {
	printf "\nvideo:       %s\nduration:    %.1f s\nsize:        %.2f MB\nrender time: %.2f s (%.0fx real time)\n",
	       p, d, s / 1048576, t1 - t0, d / (t1 - t0) }'
echo "subtitles:   ${mp4%.mp4}.srt, ${mp4%.mp4}.vtt; thumbnail: ${mp4%.mp4}.png"
echo "first cues:"
awk 'NR > 1 && /-->/ { getline a; getline b; printf "  %s  %s %s\n", $1, a, b; if (++n == 3) exit }' "${mp4%.mp4}.srt"
