#!/usr/bin/env bash
# demo_video.sh - the video part of "make demo" (called by tools/demo.sh after
# the content demo, with the local LLM server running): the narration of a
# personal video for a banking customer (recgen.video_script: an advisor
# presenting three recommended products), rendered as recgen users do it:
# recgen.render_video() queues a job, a background worker runs recgen-render
# (the progress below is read from recgen.jobs), and the job's result names
# the recgen.media rows. Prints the video's path, duration, size and render
# time.
#
# RECGEN_DEMO_BANK_DB names the database (default bank); RECGEN_DEMO_PGOPTIONS
# adds settings (for example "-c recgen.guard_retries=0"); the files go to
# .pgdata/media (ignored by git), which the demo makes recgen.media_dir.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BANK=${RECGEN_DEMO_BANK_DB:-bank}
MEDIA=$ROOT/.pgdata/media
mkdir -p "$MEDIA"
# the server's user writes the files (the worker runs the helper)
[[ $(id -u) -eq 0 ]] && chown postgres: "$MEDIA"

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

# where renders go: a reload setting, for the whole cluster
if [[ $(sql -c "SHOW recgen.media_dir") != "$MEDIA" ]]; then
	sql -c "ALTER SYSTEM SET recgen.media_dir = '$MEDIA'" -c "SELECT pg_reload_conf()" >/dev/null
	sleep 0.5
fi

start=$(date +%s.%N)
job=$(sql -c "SELECT recgen.render_video($content_id, '{\"watermark_text\": \"Your bank\", \"music\": \"generated\"}')")
echo
echo "render job $job queued; a background worker runs recgen-render:"
last=
while :; do
	IFS='|' read -r state phase fraction < <(sql -c "SELECT state, progress ->> 'phase',
	        round(100 * (progress ->> 'fraction')::numeric) FROM recgen.jobs WHERE job_id = $job")
	# the worker writes the helper's progress with its heartbeats
	[[ $state == available ]] && phase=${phase:-waiting for a worker}
	now="$state${phase:+ $phase}${fraction:+ $fraction%}"
	if [[ $now != "$last" ]]; then
		awk -v t0="$start" -v t1="$(date +%s.%N)" -v s="$now" 'BEGIN { printf "  %6.1f s  %s\n", t1 - t0, s }'
		last=$now
	fi
	case $state in
	completed) break ;;
	cancelled | discarded)
		echo "the render failed:" >&2
		sql -c "SELECT e ->> 'error' FROM recgen.jobs, jsonb_array_elements(errors) e WHERE job_id = $job" >&2
		exit 1
		;;
	esac
	if (($(date +%s) - ${start%.*} > 1800)); then
		echo "the render job $job is not done after 30 minutes (state $state)" >&2
		exit 1
	fi
	sleep 0.2
done
end=$(date +%s.%N)
IFS='|' read -r mp4 bytes helper_s < <(sql -c "SELECT m.path, m.bytes, j.result ->> 'render_seconds'
	FROM recgen.jobs j JOIN recgen.media m ON m.media_id = (j.result ->> 'video')::bigint WHERE j.job_id = $job")
echo "media rows: $(sql -c "SELECT string_agg(kind || ' ' || format || ' (' || media_id || ')', ', ' ORDER BY media_id)
	FROM recgen.media WHERE job_id = $job")"
duration=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$mp4")
awk -v d="$duration" -v s="$bytes" -v t0="$start" -v t1="$end" -v h="$helper_s" -v p="$mp4" 'BEGIN {
	printf "\nvideo:       %s\nduration:    %.1f s\nsize:        %.2f MB\nrender time: %.2f s from the call to the completed job (%.0fx real time); recgen-render itself %.2f s\n",
	       p, d, s / 1048576, t1 - t0, d / (t1 - t0), h }'
echo "subtitles:   ${mp4%.mp4}.srt, ${mp4%.mp4}.vtt; thumbnail: ${mp4%.mp4}.png"
echo "first cues:"
awk 'NR > 1 && /-->/ { getline a; getline b; printf "  %s  %s %s\n", $1, a, b; if (++n == 3) exit }' "${mp4%.mp4}.srt"
