#!/usr/bin/env bash
# 005_tap_counting.sh - the suite's count is what the tests declare: an
# assertion that never printed (a query that failed inside $(...), a script
# that died half way, a pgTAP file that stopped) is counted as failed by
# test/lib/tap_count.awk, which test/run.sh uses for every TAP section.
source "$(dirname "$0")/../lib/tap.sh"
cd "$TAP_ROOT"
plan 8
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
count() { awk -f test/lib/tap_count.awk "$1" 2>/dev/null; }

printf '1..3\nok 1 - a\nok 2 - b\nok 3 - c\n' >"$TMP/full"
is "$(count "$TMP/full")" "3 0 0" "a complete stream: 3 passed"
printf '1..3\nok 1 - a\n' >"$TMP/short"
is "$(count "$TMP/short")" "1 2 0" "two planned assertions that never printed count as failed"
printf 'ok 1 - a\nok 2 - b\n' >"$TMP/noplan"
is "$(count "$TMP/noplan")" "2 1 0" "assertions without a plan count one failure"
printf 't/a.sql .. \n1..2\nok 1\nok 2\nok\nt/b.sql ..... \n1..4\nok 1 # SKIP no server\nnot ok 2\nAll done\n' >"$TMP/prove"
is "$(count "$TMP/prove")" "2 3 1" "pg_prove output: each file is counted against its own plan"

# a script with a failing query inside an assertion, and one that dies
cat >"$TMP/script.sh" <<SCRIPT
source "$TAP_ROOT/test/lib/tap.sh"
plan 3
cmp_ok "\$(psql -X -qAt -h /nonexistent -c 'SELECT 1' 2>/dev/null)" -gt 0 "a value from a query that failed"
ok 0 "fine"
exit 1
ok 0 "never reached"
done_testing
SCRIPT
bash "$TMP/script.sh" >"$TMP/script.log" 2>&1
rc=$?
cmp_ok $rc -ne 0 "the script exits non-zero"
like "$(cat "$TMP/script.log")" "not ok 1 - a value from a query that failed" "an empty query result fails cmp_ok instead of vanishing"
is "$(count "$TMP/script.log")" "1 2 0" "the assertion after the early exit counts as failed"

cat >"$TMP/mismatch.sh" <<SCRIPT
source "$TAP_ROOT/test/lib/tap.sh"
plan 2
ok 0 "one"
done_testing
SCRIPT
bash "$TMP/mismatch.sh" >/dev/null 2>&1
cmp_ok $? -ne 0 "done_testing fails when fewer assertions ran than planned"
done_testing
