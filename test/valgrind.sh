#!/usr/bin/env bash
# valgrind.sh - run the pg_regress and pgTAP suites (plus the sections in
# RECGEN_MEMCHECK_SECTIONS) against a second private cluster whose server
# runs under valgrind's memcheck, and fail on any valgrind error that the
# reviewed suppression file test/valgrind.supp does not name. Prints TAP.
#
# Every process of the server writes its own log (--log-file=vg.%p.log);
# test/lib/valgrind_report.py reads them and prints how many errors valgrind
# saw, how many each suppression hid, and every other error with its stack.
# Nothing depends on where the sources are: an error fails the section
# whatever its stack holds, unless a suppression (each with its reason)
# matches it. Leak checking is off: PostgreSQL frees by memory context and
# exits without freeing. JIT is off: LLVM's generated code and the loading
# of llvmjit.so are PostgreSQL's, and glibc's loader reads past short
# strings there in a way valgrind reports. RECGEN_VALGRIND_OPTS adds options (when reading a
# report: --track-origins=yes says where an uninitialised value came from).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BASE_PORT=${RECGEN_PORT:-5491}
export RECGEN_PGDATA_ROOT=$ROOT/.pgdata/memcheck
export RECGEN_PORT=$((BASE_PORT + 100))
REPORTS=$RECGEN_PGDATA_ROOT/reports
SUPP=$RECGEN_PGDATA_ROOT/valgrind.supp
n=0
fail=0
tap() { n=$((n + 1)); if [[ $1 -eq 0 ]]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
echo "1..5"

mkdir -p "$RECGEN_PGDATA_ROOT" "$REPORTS" "$RECGEN_PGDATA_ROOT/tmp"
ln -sfn ../pg "$RECGEN_PGDATA_ROOT/pg"  # the same private PostgreSQL and recgen.so
cp test/valgrind.supp "$SUPP"            # where the server's user can read it
chown postgres: "$REPORTS" "$RECGEN_PGDATA_ROOT/tmp" 2>/dev/null
chmod a+r "$SUPP"
rm -f "$REPORTS"/vg.*
tools/cluster.sh stop >/dev/null 2>&1
tools/cluster.sh init >/dev/null
# tell cluster.sh (called by run.sh) that this server already runs the
# installed recgen.so, so it does not restart it without valgrind
sha256sum "$RECGEN_PGDATA_ROOT/pg/usr/lib/postgresql/15/lib/recgen.so" | cut -d' ' -f1 >"$RECGEN_PGDATA_ROOT/loaded.sha256"
BINDIR=$(tools/cluster.sh bindir)
as_server_user() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

as_server_user env TMPDIR="$RECGEN_PGDATA_ROOT/tmp" valgrind --tool=memcheck --trace-children=no \
	--error-limit=no --num-callers=40 --leak-check=no --track-origins=no \
	--suppressions="$SUPP" --show-error-list=yes --log-file="$REPORTS/vg.%p.log" ${RECGEN_VALGRIND_OPTS:-} \
	"$BINDIR/postgres" -D "$RECGEN_PGDATA_ROOT/data" -c jit=off >"$RECGEN_PGDATA_ROOT/postgresql.log" 2>&1 &
for _ in $(seq 1 180); do
	pg_isready -q -h "$RECGEN_PGDATA_ROOT/run" -p "$RECGEN_PORT" && break
	sleep 1
done
pg_isready -q -h "$RECGEN_PGDATA_ROOT/run" -p "$RECGEN_PORT"
tap $? "the server starts under valgrind"
if [[ $fail -ne 0 ]]; then
	sed 's/^/# /' "$RECGEN_PGDATA_ROOT/postgresql.log" | tail -20
	exit 1
fi

# a backend of this server is valgrind's memcheck with recgen loaded (else
# the section would pass having watched nothing)
probe=$(psql "$(tools/cluster.sh dsn postgres)" -X -qAt -v ON_ERROR_STOP=1 \
	-c "SELECT pg_backend_pid() || ' ' || (current_setting('recgen.llm_model', true) IS NOT NULL)" 2>&1)
pid=${probe%% *}
exe=$(readlink "/proc/$pid/exe" 2>/dev/null)
[[ $exe == *memcheck* && $probe == *" true" ]]
tap $? "the server's backends run under memcheck with recgen loaded (${exe##*/})"

RECGEN_TEST_SECTIONS="regress pgtap ${RECGEN_MEMCHECK_SECTIONS:-}" test/run.sh >"$RECGEN_PGDATA_ROOT/suite.log" 2>&1
rc=$?
summary=$(tail -1 "$RECGEN_PGDATA_ROOT/suite.log")
tap $rc "the suites pass with the server under valgrind (${summary#recgen: })"
[[ $rc -eq 0 ]] || grep -E '^not ok|FAILED|planned' "$RECGEN_PGDATA_ROOT/suite.log" | head -20 | sed 's/^/# /'

tools/cluster.sh stop >/dev/null 2>&1
wait
report=$(python3 test/lib/valgrind_report.py "$REPORTS")
rc=$?
head -1 <<<"$report" | grep -q 'valgrind watched'
seen=$?
tap $((rc + seen)) "valgrind reported no error outside test/valgrind.supp"
echo "$report"

# every suppression says why it is there
entries=$(grep -c '^{' test/valgrind.supp)
reasoned=$(awk '/^{/ { inb = 1; why = 0; next } inb && /^ *#/ { why = 1 } /^}/ { if (why) c++; inb = 0 } END { print c + 0 }' test/valgrind.supp)
[[ $entries -gt 0 && $entries -eq $reasoned ]]
tap $? "each of the $entries suppressions in test/valgrind.supp gives its reason"
exit $fail
