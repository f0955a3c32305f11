#!/usr/bin/env bash
# 610_llm_server_state.sh - make test leaves the demo's local LLM server
# running: tools/llm-server.sh keeps its pid under the cluster's folder
# (RECGEN_PGDATA_ROOT), so stopping the valgrind cluster (test/valgrind.sh,
# its own folder) does not stop the server of the demo's. A sleeping process
# stands in for the server; no model is loaded.
source "$(dirname "$0")/../lib/tap.sh"
cd "$TAP_ROOT"
plan 5
DEMO=$(mktemp -d)
OTHER=$(mktemp -d)
sleep 300 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; rm -rf "$DEMO" "$OTHER"' EXIT
echo "$SERVER" >"$DEMO/llm-server.pid"

RECGEN_PGDATA_ROOT=$DEMO tools/llm-server.sh status
ok $? "the server counts as running for its own folder"
RECGEN_PGDATA_ROOT=$OTHER tools/llm-server.sh status
ok $((1 - $?)) "another cluster folder has no server"
RECGEN_PGDATA_ROOT=$OTHER tools/cluster.sh stop >/dev/null 2>&1
kill -0 "$SERVER" 2>/dev/null
ok $? "stopping another cluster (as the valgrind run does) leaves the server running"
RECGEN_PGDATA_ROOT=$DEMO tools/llm-server.sh stop
for _ in $(seq 1 20); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SERVER" 2>/dev/null
ok $((1 - $?)) "stopping its own folder's server stops it"
[[ ! -f $DEMO/llm-server.pid ]]
ok $? "and forgets its pid"
done_testing
