#!/usr/bin/env bash
# 060_no_preload.sh - recgen without shared_preload_libraries, as the docs
# describe it: no shared memory, so no ring for the llm_calls rows of
# rolled-back transactions (they are lost, nothing fails) and no per-role
# limit of requests in flight; calls that commit are logged, the guard's
# name index and recommend()'s product cache work per backend. A second
# private cluster on RECGEN_PORT + 200, stopped at the end.
source "$(dirname "$0")/../lib/tap.sh"
cd "$TAP_ROOT"
plan 7
ROOT=$TAP_ROOT
export RECGEN_PGDATA_ROOT=$ROOT/.pgdata/nopreload
export RECGEN_PORT=$((${RECGEN_PORT:-5491} + 200))
export RECGEN_PRELOAD=
mkdir -p "$RECGEN_PGDATA_ROOT"
ln -sfn ../pg "$RECGEN_PGDATA_ROOT/pg"   # the same private PostgreSQL and recgen.so
trap 'tools/cluster.sh stop >/dev/null 2>&1' EXIT
tools/cluster.sh start >/dev/null
ok $? "a cluster without shared_preload_libraries starts"
DB=recgen_it_nopreload
fresh_db $DB
is "$(q $DB "SELECT recgen.is_preloaded()")" f "recgen knows it is not preloaded"

sql() { psql "$(dsn $DB)" -X -qAt -v ON_ERROR_STOP=1 "$@" 2>&1; }
req='[{"messages": [{"role": "user", "content": "x"}], "purpose": "email"}]'
out=$(sql -c "SET recgen.llm_url = 'http://127.0.0.1:9/v1'" -c "SET recgen.llm_max_retries = 0" \
	-c "BEGIN" -c "SELECT recgen.llm_chat('$req', false) -> 0 ->> 'outcome'" -c "ROLLBACK" \
	-c "SELECT recgen.flush_llm_calls()" -c "SELECT count(*) FROM recgen.llm_calls")
is "$out" $'connection_error\n0\n0' "a rolled-back call's row is lost, and flushing finds nothing, without an error"
out=$(sql -c "SET recgen.llm_url = 'http://127.0.0.1:9/v1'" -c "SET recgen.llm_max_retries = 0" \
	-c "SELECT recgen.llm_chat('$req', false) -> 0 ->> 'outcome'" -c "SELECT count(*) FROM recgen.llm_calls")
is "$out" $'connection_error\n1' "a call that commits is logged"
out=$(sql -c "SET recgen.llm_url = 'http://127.0.0.1:9/v1'" -c "SET recgen.llm_max_retries = 0" \
	-c "SET recgen.llm_role_max_inflight = 1" -c "SET recgen.llm_concurrency = 4" \
	-c "SELECT jsonb_array_length(recgen.llm_chat((SELECT jsonb_agg(r) FROM jsonb_array_elements('$req') r, generate_series(1, 4)), false))")
is "$out" 4 "without shared memory the per-role limit does not hold a call back"

q $DB "INSERT INTO recgen.products (product_id, sku, name, category, price) VALUES
	(1, 'A', 'Walnut Writing Desk', 'office', 120), (2, 'B', 'Brass Desk Lamp', 'office', 40)" >/dev/null
q $DB "INSERT INTO recgen.customers (customer_id, consent_profiling) SELECT g, true FROM generate_series(1, 5) g" >/dev/null
q $DB "INSERT INTO recgen.events (customer_id, product_id, kind, occurred_at, basket_id)
	SELECT c, p, 'purchase'::recgen.event_kind, now() - interval '3 days', 'b' || c FROM generate_series(2, 5) c, generate_series(1, 2) p
	UNION ALL SELECT 1, 1, 'purchase', now() - interval '1 day', 'b1'" >/dev/null
q $DB "SELECT count(*) FROM recgen.refresh_model()" >/dev/null
is "$(q $DB "SELECT string_agg(product_id::text, ',') FROM recgen.recommend(1, 3)")" \
	2 "recommend() works without shared memory (product facts read on every call)"
is "$(q $DB "SELECT (recgen.guard('snippet', '{\"text\": \"Try the Brass Desk Lamp.\"}', '{}') -> 'violations' -> 0 ->> 'rule')")" \
	product "the guard's catalog name index works without shared memory"

q postgres "DROP DATABASE $DB WITH (FORCE)" >/dev/null
done_testing
