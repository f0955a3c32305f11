#!/usr/bin/env bash
# 040_upgrade.sh - ALTER EXTENSION recgen UPDATE from the released 0.1.0
# gives exactly the schema of a fresh install of the current version, and
# keeps the data written under 0.1.0.
#
# The two catalogs are compared fact by fact (test/lib/schema_fingerprint.sql:
# tables, columns, constraints, indexes, triggers, policies, functions and
# their definitions, views, privileges, comments, extension membership).
source "$(dirname "$0")/../lib/tap.sh"
cd "$TAP_ROOT"
plan 12
OLD=recgen_it_upgrade_old
NEW=recgen_it_upgrade_new
CURRENT=$(sed -n "s/^default_version *= *'\([^']*\)'/\1/p" recgen.control)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# released scripts are frozen: this is the 0.1.0 script as shipped
is "$(sha256sum sql/recgen--0.1.0.sql | cut -d' ' -f1)" \
	156fe68e945ef372a597775c478d436b089274c5dedafb4920963b84a1144084 "sql/recgen--0.1.0.sql is the released 0.1.0 script, unchanged"

for db in $OLD $NEW; do q postgres "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null; q postgres "CREATE DATABASE $db" >/dev/null; done
q $OLD "CREATE EXTENSION recgen VERSION '0.1.0'" >/dev/null
psql "$(dsn $OLD)" -X -q -v ON_ERROR_STOP=1 -f test/lib/upgrade_fixture_0.1.0.sql >"$TMP/fixture.log" 2>&1
ok $? "0.1.0 installs and takes the fixture data"
is "$(q $OLD "SELECT extversion FROM pg_extension WHERE extname = 'recgen'")" 0.1.0 "the old database runs 0.1.0"

# every row of every 0.1.0 table, over its 0.1.0 columns, one line each
rows_sql=$(q $OLD "
    SELECT string_agg(format('SELECT %L || ''|'' || r::text FROM (SELECT %s FROM %s) r',
                             c.relname, cols, c.oid::regclass), ' UNION ALL ' ORDER BY c.relname)
    FROM pg_class c
    CROSS JOIN LATERAL (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) AS cols
                        FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) a
    WHERE c.relnamespace = 'recgen'::regnamespace AND c.relkind = 'r'")
q $OLD "$rows_sql" | sort >"$TMP/rows_before.txt"
rows_before=$(wc -l <"$TMP/rows_before.txt")
cmp_ok "$rows_before" -gt 7000 "the fixture wrote data to the 0.1.0 tables ($rows_before rows)"

# analyze the fixture's tables now: an autovacuum ANALYZE of them racing the
# update (which alters those tables) can deadlock with it
q $OLD "VACUUM ANALYZE" >/dev/null
q $OLD "ALTER EXTENSION recgen UPDATE" >/dev/null 2>"$TMP/update.err"
ok $? "ALTER EXTENSION recgen UPDATE runs"
[[ -s $TMP/update.err ]] && sed 's/^/# /' "$TMP/update.err"
is "$(q $OLD "SELECT extversion FROM pg_extension WHERE extname = 'recgen'")" "$CURRENT" "the old database now runs $CURRENT"
# an upgrade may add seed rows (sql/README.md) but never change or lose one
q $OLD "$rows_sql" | sort >"$TMP/rows_after.txt"
is "$(comm -23 "$TMP/rows_before.txt" "$TMP/rows_after.txt" | head -5)" "" \
	"every row of every 0.1.0 table is intact after the update ($(comm -13 "$TMP/rows_before.txt" "$TMP/rows_after.txt" | wc -l) seed rows added)"

q $NEW "CREATE EXTENSION recgen" >/dev/null
fingerprint() { psql "$(dsn "$1")" -X -q -v ON_ERROR_STOP=1 -f test/lib/schema_fingerprint.sql; }
fingerprint $OLD >"$TMP/upgraded.txt"
fingerprint $NEW >"$TMP/fresh.txt"
functions=$(grep -c '^function ' "$TMP/fresh.txt")
policies=$(grep -c '^policy ' "$TMP/fresh.txt")
grants=$(grep -c '^grant ' "$TMP/fresh.txt")
((functions > 40 && policies > 5 && grants > 100))
ok $? \
	"the fingerprint covers functions ($functions), policies and grants"
diff "$TMP/upgraded.txt" "$TMP/fresh.txt" >"$TMP/diff.txt"
ok $? "the upgraded schema equals a fresh $CURRENT install"
head -60 "$TMP/diff.txt" | sed 's/^/# /'

# the comparison can fail: a changed function attribute shows up
q $OLD "ALTER FUNCTION recgen.version() STABLE" >/dev/null
fingerprint $OLD >"$TMP/changed.txt"
! diff -q "$TMP/changed.txt" "$TMP/fresh.txt" >/dev/null
ok $? "a one-attribute change in the upgraded schema is detected"
q $OLD "ALTER FUNCTION recgen.version() IMMUTABLE" >/dev/null

# the upgraded database works: recommendations from the model built under 0.1.0
got=$(q $OLD "SELECT count(*) FROM recgen.recommend(2, 5)")
is "$got" 5 "recommend() works on the upgraded database with the 0.1.0 model"
got=$(q $OLD "SELECT count(*) FROM recgen.content WHERE customer_id = 2")
is "$got" 1 "content written under 0.1.0 is readable after the update"

for db in $OLD $NEW; do q postgres "DROP DATABASE $db WITH (FORCE)" >/dev/null; done
done_testing
