#!/usr/bin/env bash
# 010_retail_loader.sh - loads the full UCI Online Retail file into a fresh
# database and checks the counts the dataset's README gives, consent under
# row-level security on real data, and that a corrupted copy fails with its
# line number and leaves the tables unchanged.
source "$(dirname "$0")/../lib/tap.sh"
cd "$TAP_ROOT"
plan 19
DB=recgen_it_retail
fresh_db $DB

out=$(tools/load.sh retail $DB 2>&1)
ok $? "the Online Retail file loads"
like "$out" "lines without a customer +\| +135080" "the loader reports the 135,080 lines without a customer"

is "$(q $DB "SELECT count(*) FROM recgen.customers")" 4372 "4,372 customers"
is "$(q $DB "SELECT count(*) FROM recgen.events WHERE kind IN ('purchase','return')")" 406829 \
	"406,829 invoice lines with a customer are purchase and return events"
is "$(q $DB "SELECT count(*) FROM recgen.events WHERE kind = 'return'")" \
	"$(q $DB "SELECT count(*) FROM recgen.events WHERE basket_id LIKE 'C%'")" "every cancellation is a return"
is "$(q $DB "SELECT count(*) FROM recgen.products WHERE sku IN ('POST','DOT','M','C2','D','S','BANK CHARGES','AMAZONFEE','CRUK','PADS','B')")" 0 \
	"non-product stock codes are not products"
is "$(q $DB "SELECT count(*) FROM recgen.events WHERE product_id IS NULL AND attributes->>'stock_code' = 'POST'")" \
	"$(q $DB "SELECT count(*) FROM recgen.events WHERE attributes->>'stock_code' = 'POST'")" "postage lines stay events without a product"
is "$(q $DB "SELECT name FROM recgen.products WHERE sku = '85123A'")" "WHITE HANGING HEART T-LIGHT HOLDER" \
	"a product is named by its most common description"
is "$(q $DB "SELECT category FROM recgen.products WHERE sku = '85123A'")" "lighting" "categories follow the documented rules"
is "$(q $DB "SELECT count(*) FROM recgen.anonymous_events")" 133741 "guest lines are kept as anonymous baskets"
share=$(q $DB "SELECT round(100.0 * avg(consent_profiling::int)) FROM recgen.customers")
[[ $share =~ ^[0-9]+$ ]] && ((share >= 80 && share <= 90))
ok $? "about 85% of customers consent to profiling ($share%)"

# consent on real data: as an analyst, no row of a non-consenting customer
q $DB "DROP ROLE IF EXISTS it_analyst; CREATE ROLE it_analyst LOGIN IN ROLE recgen_analyst" >/dev/null
leak=$(psql "$(dsn $DB) user=it_analyst" -X -qAt -c "
	SELECT (SELECT count(*) FROM recgen.customers WHERE NOT consent_profiling)
	     + (SELECT count(*) FROM recgen.events e WHERE e.customer_id NOT IN
	          (SELECT customer_id FROM recgen.customers))")
is "$leak" 0 "an analyst sees no customer or event of a non-consenting customer"
is "$(psql "$(dsn $DB) user=it_analyst" -X -qAt -c "SELECT count(*) FROM recgen.customers")" \
	"$(q $DB "SELECT count(*) FROM recgen.customers WHERE consent_profiling")" "an analyst sees every consenting customer"

# a corrupted copy: line 1001 gets an extra column
before=$(q $DB "SELECT md5(string_agg(customer_id::text || ':' || event_id, ',' ORDER BY customer_id, event_id)) FROM recgen.events")
bad=$(mktemp --suffix=.csv)
gzip -dc ../shared/data/online_retail/online_retail.csv.gz | head -2000 |
	awk 'NR == 1001 { print $0 ",extra"; next } { print }' >"$bad"
err=$(tools/load.sh retail $DB "$bad" 2>&1)
rc=$?
cmp_ok $rc -ne 0 "a line with a wrong column count fails the load"
like "$err" "line 1001: extra data after last expected column" "the error names the line and the reason"
like "$err" "$(basename "$bad")" "the error names the file"
is "$(q $DB "SELECT md5(string_agg(customer_id::text || ':' || event_id, ',' ORDER BY customer_id, event_id)) FROM recgen.events")" \
	"$before" "the tables are unchanged after the failed load"
is "$(q $DB "SELECT count(*) FROM recgen.customers")" 4372 "customers are unchanged after the failed load"

# a malformed value: a quantity that is not a number on line 7
gzip -dc ../shared/data/online_retail/online_retail.csv.gz | head -20 |
	awk -F, 'NR == 7 { $4 = "six"; print; next } { print }' OFS=, >"$bad"
err=$(tools/load.sh retail $DB "$bad" 2>&1)
like "$err" "line 7: invalid input syntax for type integer" "a malformed quantity names line 7"
rm -f "$bad"

q postgres "DROP DATABASE $DB WITH (FORCE)" >/dev/null
q postgres "DROP ROLE it_analyst" >/dev/null
done_testing
