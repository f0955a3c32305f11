# tap.sh - a few TAP helpers for the shell-based integration tests, and the
# private cluster's connection details. Source it, declare the plan first and
# call done_testing last.
#
#   plan N                                  declare N assertions up front
#   ok COND_EXIT_STATUS "description"     e.g.  ok $? "loader exits 0"
#   is GOT WANT "description"
#   like TEXT REGEX "description"
#   cmp_ok GOT OP WANT "description"        integers; OP is -eq -ne -lt -le -gt -ge
#   fresh_db NAME                           drop and create NAME with recgen
#   q DB SQL                                one value from a query
#
# The plan is what test/run.sh counts: an assertion that never printed (a
# query that failed inside $(...), a script that died half way) is counted
# as failed, so the suite's total always equals the assertions declared.

TAP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TAP_N=0
export PGOPTIONS="-c client_min_messages=warning"
TAP_FAILED=0

ok() {
	TAP_N=$((TAP_N + 1))
	if [[ $1 == 0 ]]; then
		echo "ok $TAP_N - $2"
	else
		echo "not ok $TAP_N - $2"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

is() {
	if [[ "$1" == "$2" ]]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		echo "#   got:      '$1'"
		echo "#   expected: '$2'"
	fi
}

like() {
	if [[ "$1" =~ $2 ]]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		echo "#   '$1'"
		echo "#   does not match /$2/"
	fi
}

# cmp_ok GOT OP WANT DESC: an integer comparison that fails (rather than
# vanishing in a bash arithmetic error) when GOT is empty or not a number,
# as it is when the query that produced it failed.
cmp_ok() {
	if [[ ! $1 =~ ^-?[0-9]+$ || ! $3 =~ ^-?[0-9]+$ ]]; then
		ok 1 "$4"
		echo "#   '$1' $2 '$3': not integers"
	elif [ "$1" "$2" "$3" ]; then
		ok 0 "$4"
	else
		ok 1 "$4"
		echo "#   got $1, wanted $2 $3"
	fi
}

done_testing() {
	if [[ -z ${TAP_PLAN:-} ]]; then
		echo "not ok $((TAP_N + 1)) - the script declares no plan (call plan N first)"
		return 1
	fi
	if [[ $TAP_N -ne $TAP_PLAN ]]; then
		echo "# planned $TAP_PLAN assertions, ran $TAP_N"
		return 1
	fi
	[[ $TAP_FAILED -eq 0 ]]
}

dsn() {
	"$TAP_ROOT/tools/cluster.sh" dsn "$1"
}

q() {
	psql "$(dsn "$1")" -X -qAt -v ON_ERROR_STOP=1 -c "$2"
}

fresh_db() {
	q postgres "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null
	q postgres "CREATE DATABASE $1" >/dev/null
	q "$1" "CREATE EXTENSION recgen" >/dev/null
}

# plan N: declare the number of assertions up front; done_testing then fails
# when a different number ran, and test/run.sh counts the missing ones.
plan() {
	TAP_PLAN=$1
	echo "1..$1"
}
