#!/usr/bin/env bash
# 020_bank_generator.sh - the banking scenario is generated deterministically,
# has the shape the design asks for, and respects consent under RLS.
source "$(dirname "$0")/../lib/tap.sh"
cd "$TAP_ROOT"
plan 13
DB=recgen_it_bank
fresh_db $DB

fingerprint() {
	q $DB "SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
	         SELECT customer_id || segment || coalesce(first_name, '') || consent_profiling || consent_social AS x FROM recgen.customers
	         UNION ALL SELECT customer_id || ':' || coalesce(product_id, 0) || ':' || kind || ':' || amount || ':' || occurred_at FROM recgen.events
	         UNION ALL SELECT customer_id || ':' || body || ':' || posted_at FROM recgen.social_posts) t"
}

tools/load.sh bank $DB >/dev/null
ok $? "the banking scenario generates"
first=$(fingerprint)
tools/load.sh bank $DB >/dev/null
is "$(fingerprint)" "$first" "a second run generates identical rows"

n=$(q $DB "SELECT count(*) FROM recgen.customers")
[[ $n =~ ^[0-9]+$ ]] && ((n >= 2000 && n <= 10000))
ok $? "a few thousand customers ($n)"
is "$(q $DB "SELECT count(*) FROM recgen.products WHERE sku IN ('MORT-FIX2','LOAN-PERS','CARD-CASH','SAV-EASY','INV-ADVICE','BUS-ACC')")" 6 \
	"the catalog has mortgage, personal loan, cash-back card, savings, investment advice and small-business account"
cmp_ok "$(q $DB "SELECT count(DISTINCT attributes->>'merchant_category') FROM recgen.events WHERE kind = 'transaction'")" -ge 10 \
	"card transactions span at least ten merchant categories"
is "$(q $DB "SELECT count(*) FROM recgen.events WHERE kind = 'transaction' AND (product_id IS NOT NULL OR amount <= 0)")" 0 \
	"transactions carry an amount and no product"
cmp_ok "$(q $DB "SELECT count(*) FROM recgen.social_posts WHERE body ILIKE '%home loan application%'")" -gt 0 \
	"some posts complain about the home loan application process"
cmp_ok "$(q $DB "SELECT count(*) FROM recgen.social_posts WHERE attributes->>'tone' = 'praise'")" -gt 0 \
	"some posts praise the bank"
seg=$(q $DB "SELECT count(DISTINCT segment) FROM recgen.customers")
is "$seg" 6 "customers fall in six segments"

q $DB "DROP ROLE IF EXISTS it_bank_analyst; CREATE ROLE it_bank_analyst LOGIN IN ROLE recgen_analyst" >/dev/null
as_analyst() { psql "$(dsn $DB) user=it_bank_analyst" -X -qAt -c "$1"; }
is "$(as_analyst "SELECT count(*) FROM recgen.customers WHERE NOT consent_profiling")" 0 \
	"analyst: no customer without profiling consent"
is "$(as_analyst "SELECT count(*) FROM recgen.social_posts p WHERE NOT EXISTS (SELECT 1 FROM recgen.customers c WHERE c.customer_id = p.customer_id AND c.consent_social)")" 0 \
	"analyst: no post of a customer without social consent"
is "$(as_analyst "SELECT count(*) FROM recgen.social_posts")" \
	"$(q $DB "SELECT count(*) FROM recgen.social_posts p JOIN recgen.customers c USING (customer_id) WHERE c.consent_profiling AND c.consent_social")" \
	"analyst: every post of a consenting customer"
is "$(as_analyst "SELECT count(DISTINCT customer_id) FROM recgen.events")" \
	"$(q $DB "SELECT count(DISTINCT customer_id) FROM recgen.events e JOIN recgen.customers c USING (customer_id) WHERE c.consent_profiling")" \
	"analyst: events of exactly the consenting customers"

q postgres "DROP DATABASE $DB WITH (FORCE)" >/dev/null
q postgres "DROP ROLE it_bank_analyst" >/dev/null
done_testing
