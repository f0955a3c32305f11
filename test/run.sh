#!/usr/bin/env bash
# run.sh - recgen's whole test suite, as run by "make test" and .ci/run.
#
# Sections, each against the private cluster (tools/cluster.sh) and a fresh
# database per run:
#   regress      pg_regress: sql/<name>.sql against expected/<name>.out
#   pgtap        pgTAP files test/pgtap/*.sql, run by pg_prove
#   isolation    pg_isolation_regress: test/isolation/<name>.spec against
#                test/isolation/expected/<name>.out (the job queue's races)
#   integration  TAP shell scripts test/integration/*.sh (loaders, faults...)
#   python       pytest files test/python/test_*.py (fake LLM server,
#                conformance against reference libraries), in .venv
#   memcheck     the regress and pgTAP suites again with the server under
#                valgrind (test/valgrind.sh), in a second cluster
# Counts every assertion and ends with the line
#   recgen: N passed, M failed[, K skipped]
# exiting non-zero when anything failed or nothing ran. TAP streams are
# counted against their plans (test/lib/tap_count.awk): an assertion that
# never printed counts as failed, so N + M + K is what the tests declare. A
# section whose runner exits non-zero without a failed assertion counts one
# failure; a section that cannot run counts one failure, never a silent skip.
# RECGEN_TEST_SECTIONS="regress pgtap" runs a subset.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECTIONS=${RECGEN_TEST_SECTIONS:-regress pgtap isolation integration python memcheck}
LOGDIR=$ROOT/.pgdata/test-logs
mkdir -p "$LOGDIR"

passed=0
failed=0
skipped=0

section() { printf '\n== %s ==\n' "$1"; }

# Count the TAP streams of a log against their plans: ok / not ok / skip,
# and planned assertions that never printed as failed. Sets count_failed to
# this log's failures.
count_failed=0
count_tap() {
	local p f s
	read -r p f s < <(awk -f test/lib/tap_count.awk "$1")
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	count_failed=$f
}

# A runner that exited non-zero without reporting a failed assertion.
runner_failed() {
	echo "not ok - $1"
	failed=$((failed + 1))
}

tools/cluster.sh start || { echo "recgen: 0 passed, 1 failed"; exit 1; }
BINDIR=$(tools/cluster.sh bindir)
eval "$(tools/cluster.sh dsn postgres | tr ' ' '\n' | sed -n 's/^host=/export PGHOST=/p; s/^port=/export PGPORT=/p; s/^user=/export PGUSER=/p')"
export PGOPTIONS="-c client_min_messages=warning"

run_regress() {
	local pg_regress tests log=$LOGDIR/regress.log
	pg_regress="$(dirname "$(pg_config --pgxs)")/../test/regress/pg_regress"
	tests=$(make -s regress-list)
	"$pg_regress" --inputdir=. --bindir="$BINDIR" --dbname=recgen_regress \
		--load-extension=recgen $tests >"$log" 2>&1
	cat "$log"
	local p f planned
	planned=$(echo $tests | wc -w)
	p=$(grep -cE '\.\.\. ok' "$log")
	f=$(grep -cE '\.\.\. FAILED' "$log")
	if [[ $((p + f)) -lt $planned ]]; then  # pg_regress stopped early
		echo "not ok - pg_regress ran $((p + f)) of $planned tests"
		f=$((planned - p))
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	[[ $f -gt 0 && -f regression.diffs ]] && cat regression.diffs
}

run_pgtap() {
	local log=$LOGDIR/pgtap.log db=recgen_tap
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
	psql -X -q -d $db -c "CREATE EXTENSION pgtap" -c "CREATE EXTENSION recgen"
	pg_prove -v -d $db test/pgtap/*.sql >"$log" 2>&1
	local rc=$?
	cat "$log"
	count_tap "$log"
	# each file is a stream with its plan: one that died before its plan
	# completed counts its missing assertions
	if [[ $rc -ne 0 && $count_failed -eq 0 ]]; then runner_failed "pg_prove exited with status $rc"; fi
}

run_isolation() {
	local tool tests log=$LOGDIR/isolation.log dir=$LOGDIR/isolation p f
	tool="$(dirname "$(pg_config --pgxs)")/../test/isolation/pg_isolation_regress"
	rm -rf "$dir" && mkdir -p "$dir/specs" "$dir/out"
	cp test/isolation/*.spec "$dir/specs/"
	cp -r test/isolation/expected "$dir/"
	tests=$(cd test/isolation && ls *.spec | sed 's/\.spec$//')
	# keep the workers out of the test database while the specs claim jobs
	psql -X -q -d postgres -c "ALTER SYSTEM SET recgen.databases = 'recgen_workers_elsewhere'" -c "SELECT pg_reload_conf()" >/dev/null
	sleep 1
	"$tool" --inputdir="$dir" --outputdir="$dir/out" --bindir="$BINDIR" --dbname=recgen_isolation \
		--load-extension=recgen $tests >"$log" 2>&1
	psql -X -q -d postgres -c "ALTER SYSTEM RESET recgen.databases" -c "SELECT pg_reload_conf()" >/dev/null
	cat "$log"
	local planned
	planned=$(echo $tests | wc -w)
	p=$(grep -cE ' \.\.\. ok|^ok ' "$log")
	f=$(grep -cE 'FAILED|^not ok ' "$log")
	if [[ $((p + f)) -lt $planned ]]; then  # pg_isolation_regress stopped early
		echo "not ok - pg_isolation_regress ran $((p + f)) of $planned specs"
		f=$((planned - p))
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	[[ $f -gt 0 && -f $dir/out/regression.diffs ]] && cat "$dir/out/regression.diffs"
}

run_integration() {
	local t log
	for t in test/integration/*.sh; do
		log=$LOGDIR/$(basename "$t" .sh).log
		echo "-- $t"
		bash "$t" >"$log" 2>&1
		local rc=$?
		cat "$log"
		count_tap "$log"
		if [[ $rc -ne 0 && $count_failed -eq 0 ]]; then runner_failed "$t exited with status $rc"; fi
	done
}

run_python() {
	local files log=$LOGDIR/python.log
	files=$(ls test/python/test_*.py 2>/dev/null)
	[[ -z $files ]] && return
	tools/venv.sh || { failed=$((failed + 1)); return; }
	.venv/bin/python -m pytest -q -p no:cacheprovider $files >"$log" 2>&1
	local rc=$? f_before=$failed
	cat "$log"
	local line
	line=$(grep -E '^[=]* *[0-9]+ (passed|failed)|^[=]* *[0-9]+ failed' "$log" | tail -1)
	passed=$((passed + $(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || echo 0)))
	failed=$((failed + $(echo "$line" | grep -oE '[0-9]+ (failed|error|errors)' | grep -oE '[0-9]+' | awk '{ s += $1 } END { print s + 0 }')))
	skipped=$((skipped + $(echo "$line" | grep -oE '[0-9]+ skipped' | grep -oE '[0-9]+' || echo 0)))
	if [[ -z $line ]]; then
		runner_failed "pytest printed no summary"
	elif [[ $rc -ne 0 && $failed -eq $f_before ]]; then
		runner_failed "pytest exited with status $rc"
	fi
}

run_memcheck() {
	local log=$LOGDIR/memcheck.log
	if [[ ! -f test/valgrind.sh ]]; then
		runner_failed "test/valgrind.sh is missing"
		return
	fi
	bash test/valgrind.sh >"$log" 2>&1
	local rc=$?
	cat "$log"
	count_tap "$log"
	if [[ $rc -ne 0 && $count_failed -eq 0 ]]; then runner_failed "test/valgrind.sh exited with status $rc"; fi
}

for s in $SECTIONS; do
	section "$s"
	if declare -F "run_$s" >/dev/null; then
		"run_$s"
	else
		runner_failed "unknown test section \"$s\""
	fi
done

echo
if [[ $skipped -gt 0 ]]; then
	echo "recgen: $passed passed, $failed failed, $skipped skipped"
else
	echo "recgen: $passed passed, $failed failed"
fi
[[ $failed -eq 0 && $passed -gt 0 ]]
