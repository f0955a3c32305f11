#!/usr/bin/env bash
# 030_login_roles.sh - what a logged-in analyst cannot do to widen its own
# rights (SET ROLE and SET SESSION AUTHORIZATION check the login, so this
# needs a real login session rather than SET ROLE inside pgTAP).
source "$(dirname "$0")/../lib/tap.sh"
cd "$TAP_ROOT"
plan 7
DB=recgen_it_roles
fresh_db $DB
q $DB "DROP ROLE IF EXISTS it_login_analyst; CREATE ROLE it_login_analyst LOGIN IN ROLE recgen_analyst" >/dev/null
q $DB "INSERT INTO recgen.customers (customer_id, consent_profiling) VALUES (1, true), (2, false)" >/dev/null

as_analyst() { psql "$(dsn $DB) user=it_login_analyst" -X -qAt -v ON_ERROR_STOP=1 -c "$1" 2>&1; }

like "$(as_analyst "SET ROLE recgen_admin")" "permission denied to set role" "analyst cannot SET ROLE recgen_admin"
like "$(as_analyst "SET ROLE postgres")" "permission denied to set role" "analyst cannot SET ROLE to the superuser"
like "$(as_analyst "SET SESSION AUTHORIZATION postgres")" "permission denied" "analyst cannot switch session authorization"
like "$(as_analyst "GRANT recgen_admin TO it_login_analyst")" "must have admin option|permission denied" "analyst cannot grant itself recgen_admin"
like "$(as_analyst "ALTER TABLE recgen.customers DISABLE ROW LEVEL SECURITY")" "must be owner" "analyst cannot disable RLS"
like "$(as_analyst "SET row_security = off; SELECT count(*) FROM recgen.customers")" "query would be affected by row-level security policy" \
	"analyst cannot switch row security off to read around the policy"
is "$(as_analyst "SELECT count(*) FROM recgen.customers")" 1 "analyst still sees only the consenting customer"

q postgres "DROP DATABASE $DB WITH (FORCE)" >/dev/null
q postgres "DROP ROLE it_login_analyst" >/dev/null
done_testing
