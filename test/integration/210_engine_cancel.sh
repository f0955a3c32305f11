#!/usr/bin/env bash
# 210_engine_cancel.sh - pg_cancel_backend stops a large refresh_model()
# inside the phase it was running: 600 baskets of 1,000 items make the
# co-occurrence of each of 3,000 items cost about 200,000 additions (fewer
# items than refresh used to run between interrupt checks). The error's
# context names the phase, and the refresh leaves no model behind.
source "$(dirname "$0")/../lib/tap.sh"
cd "$TAP_ROOT"
plan 7
DB=recgen_it_cancel
fresh_db $DB

q $DB "INSERT INTO recgen.products (product_id, sku, name, category, price)
	SELECT g, 'S' || g, 'product ' || g, 'c' || (g % 10), 1 FROM generate_series(1, 3000) g;
	INSERT INTO recgen.anonymous_events (product_id, kind, occurred_at, basket_id)
	SELECT 1 + (b * 7 + k * 13) % 3000, 'purchase', '2024-01-01', 'b' || b
	FROM generate_series(1, 600) b, generate_series(0, 999) k;
	ANALYZE recgen.anonymous_events" >/dev/null
is "$(q $DB "SELECT count(*) FROM recgen.anonymous_events")" 600000 "600,000 anonymous basket lines"

err=$(mktemp)
psql "$(dsn $DB)" -X -q -v ON_ERROR_STOP=1 -v VERBOSITY=default \
	-c "SET recgen.model_max_basket = 1000" -c "SELECT * FROM recgen.refresh_model()" >/dev/null 2>"$err" &
bg=$!

# wait until the refresh is in its co-occurrence phase, then cancel it
phase=""
for _ in $(seq 1 600); do
	phase=$(q $DB "SELECT query FROM pg_stat_activity WHERE query LIKE 'recgen.refresh_model: co-occurrence%' LIMIT 1")
	[[ -n $phase ]] && break
	sleep 0.1
done
like "$phase" "^recgen.refresh_model: co-occurrence [0-9]+/3000" "pg_stat_activity shows the co-occurrence phase and its progress"
cancelled=$(q $DB "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'recgen.refresh_model: co-occurrence%'")
is "$cancelled" t "the refresh is sent a cancel"
wait $bg
rc=$?
cmp_ok $rc -ne 0 "the refresh ends with an error"
like "$(cat "$err")" "canceling statement due to user request" "the error is the cancel"
# the context ends with the phase; a cancel that lands while the phase
# writes a batch of neighbours names that INSERT first
like "$(cat "$err")" "CONTEXT: .*recgen.refresh_model: co-occurrence, [0-9]+ of 3000" \
	"it stopped inside the co-occurrence phase (the context says where)"
is "$(q $DB "SELECT count(*) FROM recgen.models")" 0 "the cancelled refresh left no model"
cat "$err" | sed 's/^/# /'
rm -f "$err"

q postgres "DROP DATABASE $DB WITH (FORCE)" >/dev/null
done_testing
