#!/usr/bin/env bash
# 050_settings_documented.sh - every recgen.* setting the library defines has
# its own "### recgen.<name>" section in the README, and the README documents
# no setting that does not exist (a renamed or removed one).
source "$(dirname "$0")/../lib/tap.sh"
cd "$TAP_ROOT"
plan 3
DB=recgen_it_settings
fresh_db $DB
defined=$(q $DB "SELECT name FROM pg_settings WHERE name LIKE 'recgen.%' ORDER BY 1")
documented=$(sed -n 's/^### \(recgen\.[a-z_]*\)$/\1/p' README.md | sort)
count=$(echo "$defined" | grep -c .)
cmp_ok "$count" -ge 20 "the library defines its settings ($count)"
missing=$(comm -23 <(echo "$defined") <(echo "$documented"))
is "$missing" "" "every setting has a README section"
# hidden settings (the API key) are not in pg_settings: ask for each by name
stale=$(for n in $documented; do
	[[ $(q $DB "SELECT current_setting('$n', true) IS NOT NULL") == t ]] || echo "$n"
done)
is "$stale" "" "the README documents only settings that exist"
q postgres "DROP DATABASE $DB WITH (FORCE)" >/dev/null
done_testing
