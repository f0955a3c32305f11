#!/usr/bin/env bash
# 220_engine_exact_n.sh - recommend(c, n) returns exactly min(n, E) rows,
# E being the products eligible for the customer under the caps (three per
# category, one per variant group) and the already-bought rule, and top-n
# is the first n of top-50: for every customer with marketing and
# profiling consent of Online Retail and of the bank scenario, for n in
# 1, 3, 5, 10, 50, under every strategy and every recgen.repurchase mode.
# Also: nobody is recommended a product whose name they bought, unless
# repurchase allows it. E is computed here in SQL, independently of the
# engine (test/lib/exact_n_*.sql).
# And the pruning that makes a call cheap, from recommend()'s DEBUG1 line:
# on Online Retail most of balanced's pooled candidates never become items
# and most calls read one batch of candidates (counts, never time).
source "$(dirname "$0")/../lib/tap.sh"
cd "$TAP_ROOT"
plan 46
AS_OF=2011-12-10

# check_db DB LABEL: E computed in SQL, recommend() called in two sessions
# at once (the strategies split about evenly by cost), the lists compared
check_db() {
	local db=$1 label=$2 res strategy mode short prefix named custs out1 out2 rc=0
	psql "$(dsn "$db")" -X -qAt -v ON_ERROR_STOP=1 -v as_of="$AS_OF" -f test/lib/exact_n_setup.sql || rc=1
	out1=$(mktemp)
	out2=$(mktemp)
	psql "$(dsn "$db")" -X -qAt -v ON_ERROR_STOP=1 -v as_of="$AS_OF" -v strategies='{upsell,popular,new}' \
		-f test/lib/exact_n_run.sql >"$out1" 2>&1 &
	local bg=$!
	psql "$(dsn "$db")" -X -qAt -v ON_ERROR_STOP=1 -v as_of="$AS_OF" -v strategies='{balanced,similar,complementary}' \
		-f test/lib/exact_n_run.sql >"$out2" 2>&1 || rc=1
	wait $bg || rc=1
	res=$(psql "$(dsn "$db")" -X -qAt -F ' ' -v ON_ERROR_STOP=1 -v as_of="$AS_OF" -f test/lib/exact_n_report.sql 2>&1) || rc=1
	ok $rc "$label: the lists were computed and compared"
	[[ $rc -ne 0 ]] && cat "$out1" "$out2" | sed 's/^/# /' && echo "$res" | sed 's/^/# /'
	rm -f "$out1" "$out2"
	while read -r strategy mode custs short prefix named; do
		[[ -z $strategy ]] && continue
		echo "# $label $strategy/$mode: $custs customers, short lists $short, prefix violations $prefix, bought names $named"
		is "$short $prefix $named" "0 0 0" "$label, $strategy, repurchase $mode: min(n, E) rows, prefixes of top-50, no bought name"
	done <<<"$(echo "$res" | grep '^row ' | cut -d' ' -f2-)"
	echo "$res" | grep '^stat ' | sed 's/^stat /# /'
}

DB=recgen_it_exact
fresh_db $DB
tools/load.sh retail $DB >/dev/null 2>&1
ok $? "the Online Retail file loads"
is "$(q $DB "SELECT count(*) FILTER (WHERE group_key IS NULL) || ' ' || count(*) FILTER (WHERE repurchase_interval IS NOT NULL)
	FROM recgen.products")" "0 0" "every retail product has a group_key and none a repurchase interval"
is "$(q $DB "SELECT count(*) FROM (SELECT upper(sku) FROM recgen.products GROUP BY 1
	HAVING count(DISTINCT group_key) > 1) s")" 0 "codes that differ only by case share a group_key"
is "$(q $DB "SELECT count(*) FROM (SELECT recgen.variant_name(name) FROM recgen.products GROUP BY 1
	HAVING count(DISTINCT group_key) > 1) s")" 0 "products of the same name share a group_key"
q $DB "SELECT recgen.refresh_model()" >/dev/null
check_db $DB retail

# pruning: balanced top-10 for 300 consenting customers; each DEBUG1 line
# gives items made, candidates, deferred (listed later), evaluated, rows
stats=$(psql "$(dsn $DB)" -X -qAt -c "SET client_min_messages = debug1" \
	-c "SELECT count(*) FROM (SELECT customer_id FROM recgen.customers WHERE consent_profiling
	    ORDER BY customer_id LIMIT 300) c, LATERAL recgen.recommend(c.customer_id, 10, 'balanced', '$AS_OF') r" 2>&1 >/dev/null |
	sed -nE 's/.*recgen.recommend: customer [0-9]+, ([0-9]+) items, [0-9]+ candidates, ([0-9]+) deferred \(([0-9]+) listed later\), ([0-9]+) evaluated, ([0-9]+) rows/\1 \2 \3 \4 \5/p' |
	awk '{ n++; made += $1; deferred += $2; later += $3; if ($4 > 120) more++ }
		END { printf "%d %d %d %d\n", n, (made + deferred > 0 ? 1000 * made / (made + deferred) : 1000), later, more }')
read -r calls made_pm later more <<<"$stats"
echo "# pruning over $calls calls: pooled candidates made items ${made_pm} per mille, listed later $later, calls reading more than one batch ${more:-?}"
is "$calls" 300 "retail: every recommend() call logs its counts at DEBUG1"
cmp_ok "$made_pm" -lt 250 "retail, balanced top-10: fewer than a quarter of the pooled candidates become items"
cmp_ok "${more:-0}" -lt 30 "retail, balanced top-10: fewer than 10 % of the calls read more than one batch (8n + 40) of candidates"
q postgres "DROP DATABASE $DB WITH (FORCE)" >/dev/null

DB=recgen_it_exact_bank
fresh_db $DB
tools/load.sh bank $DB >/dev/null 2>&1
ok $? "the bank scenario loads"
q $DB "SELECT recgen.refresh_model()" >/dev/null
check_db $DB bank
q postgres "DROP DATABASE $DB WITH (FORCE)" >/dev/null
done_testing
