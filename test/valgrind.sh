#!/usr/bin/env bash
# valgrind.sh - run the pg_regress and pgTAP suites (plus the sections in
# RECGEN_MEMCHECK_SECTIONS) against a second private cluster whose server
# runs under valgrind's memcheck, and fail on any error whose stack passes
# through recgen's own C code (src/*.c). Prints TAP.
#
# PostgreSQL itself is not built for valgrind, so it raises a few reports of
# its own (uninitialised padding written to WAL and the like); those do not
# pass through src/ and are only counted. recgen's ProcessUtility hooks
# (catalog_process_utility, worker_utility_hook) are on the stack of every
# utility statement and only pass it on, so their frames alone do not make
# an error recgen's; nor do a background worker's frames under PostgreSQL's
# start-up of its connection (BackgroundWorkerInitializeConnection).
# Leak checking is off: PostgreSQL frees by memory context and exits without
# freeing.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BASE_PORT=${RECGEN_PORT:-5491}
export RECGEN_PGDATA_ROOT=$ROOT/.pgdata/memcheck
export RECGEN_PORT=$((BASE_PORT + 100))
REPORTS=$RECGEN_PGDATA_ROOT/reports
n=0
fail=0
tap() { n=$((n + 1)); if [[ $1 -eq 0 ]]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }

mkdir -p "$RECGEN_PGDATA_ROOT" "$REPORTS" "$RECGEN_PGDATA_ROOT/tmp"
ln -sfn ../pg "$RECGEN_PGDATA_ROOT/pg"  # the same private PostgreSQL and recgen.so
chown postgres: "$REPORTS" "$RECGEN_PGDATA_ROOT/tmp" 2>/dev/null
rm -f "$REPORTS"/vg.*
tools/cluster.sh stop >/dev/null 2>&1
tools/cluster.sh init >/dev/null
# tell cluster.sh (called by run.sh) that this server already runs the
# installed recgen.so, so it does not restart it without valgrind
sha256sum "$RECGEN_PGDATA_ROOT/pg/usr/lib/postgresql/15/lib/recgen.so" | cut -d' ' -f1 >"$RECGEN_PGDATA_ROOT/loaded.sha256"
BINDIR=$(tools/cluster.sh bindir)

runuser -u postgres -- env TMPDIR="$RECGEN_PGDATA_ROOT/tmp" valgrind --quiet --trace-children=no --error-limit=no --num-callers=40 \
	--fullpath-after= --leak-check=no --track-origins=no \
	--log-file="$REPORTS/vg.%p" \
	"$BINDIR/postgres" -D "$RECGEN_PGDATA_ROOT/data" >"$RECGEN_PGDATA_ROOT/postgresql.log" 2>&1 &
for _ in $(seq 1 180); do
	pg_isready -q -h "$RECGEN_PGDATA_ROOT/run" -p "$RECGEN_PORT" && break
	sleep 1
done
pg_isready -q -h "$RECGEN_PGDATA_ROOT/run" -p "$RECGEN_PORT"
tap $? "the server starts under valgrind"
if [[ $fail -ne 0 ]]; then
	sed 's/^/# /' "$RECGEN_PGDATA_ROOT/postgresql.log" | tail -20
	echo "1..$n"
	exit 1
fi

RECGEN_TEST_SECTIONS="regress pgtap ${RECGEN_MEMCHECK_SECTIONS:-}" test/run.sh >"$RECGEN_PGDATA_ROOT/suite.log" 2>&1
rc=$?
tail -1 "$RECGEN_PGDATA_ROOT/suite.log" | sed 's/^/# /'
tap $rc "the suites pass with the server under valgrind"
[[ $rc -eq 0 ]] || grep -E '^not ok|FAILED' "$RECGEN_PGDATA_ROOT/suite.log" | head -20 | sed 's/^/# /'

tools/cluster.sh stop >/dev/null 2>&1
wait
# An error block runs from a line naming the error to the next blank line.
ours=$(awk -v src="$ROOT/src/" '
	!inblock && /^==[0-9]+== [A-Z][a-z]/ { block = $0 "\n"; inblock = 1; startup = 0; next }
	inblock && /^==[0-9]+== *$/ { if (index(block, src) && !startup) { print block; count++ } inblock = 0; next }
	inblock && /catalog_process_utility|worker_utility_hook/ { next }
	inblock && /BackgroundWorkerInitializeConnection/ { startup = 1 }
	inblock { block = block $0 "\n" }
	END { exit count > 0 }' "$REPORTS"/vg.* 2>/dev/null)
tap $? "no valgrind error passes through recgen's C code"
[[ -n $ours ]] && echo "$ours" | head -80 | sed 's/^/# /'
others=$(grep -hcE '^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched)' "$REPORTS"/vg.* 2>/dev/null | awk -F: '{ s += $NF } END { print s + 0 }')
echo "# valgrind reports outside recgen's code (PostgreSQL's own, not counted): ${others:-0}"
echo "1..$n"
exit $fail
