#!/usr/bin/env bash
# 600_readme_examples.sh - the README's first SQL examples work as written on
# the demo data: the retail and bank scenarios loaded as make demo loads them,
# the model built, the LLM answered by the fake server (test/fake_llm.py; the
# wording is not what is tested). Each example block of the README that starts
# with "-- the retail database" or "-- the bank database" is run in that
# database; recommend() must give the rows asked for and email() a deliverable
# email naming products, for the customers the README uses.
source "$(dirname "$0")/../lib/tap.sh"
cd "$TAP_ROOT"
plan 11
RETAIL=recgen_it_readme_retail
BANK=recgen_it_readme_bank
TMP=$(mktemp -d)
trap 'kill "$FAKE" 2>/dev/null; rm -rf "$TMP"' EXIT

for db in $RETAIL $BANK; do fresh_db $db; done
tools/load.sh retail $RETAIL >/dev/null 2>&1
ok $? "the retail scenario loads"
tools/load.sh bank $BANK >/dev/null 2>&1
ok $? "the bank scenario loads"
q $BANK "SELECT recgen.refresh_model()" >/dev/null

python3 test/fake_llm.py 0 >"$TMP/fake.out" &
FAKE=$!
for _ in $(seq 1 50); do grep -q PORT "$TMP/fake.out" && break; sleep 0.1; done
PORT=$(awk '/PORT/ { print $2 }' "$TMP/fake.out")

# the example blocks: from a line "-- the <db> database" to the closing fence
block() {
	awk -v want="-- the $1 database" '
		/^```sql/ { inblock = 1; text = ""; next }
		/^```/ && inblock { if (index(text, want) == 1) printf "%s", text; inblock = 0; next }
		inblock { text = text $0 "\n" }' README.md
}
run() {
	PGOPTIONS="-c client_min_messages=warning -c recgen.llm_url=http://127.0.0.1:$PORT/v1 -c recgen.llm_model=fake-normal" \
		psql "$(dsn "$1")" -X -qAt -v ON_ERROR_STOP=1 -f - 2>&1
}

retail_sql=$(block retail)
like "$retail_sql" "recgen.email\(" "the README has a retail example block with an email"
out=$(echo "$retail_sql" | run $RETAIL)
ok $? "the retail examples run without an error"
cid=$(echo "$retail_sql" | sed -n 's/.*recgen.recommend(\([0-9]*\), *\([0-9]*\)).*/\1/p' | head -1)
n=$(echo "$retail_sql" | sed -n 's/.*recgen.recommend(\([0-9]*\), *\([0-9]*\)).*/\2/p' | head -1)
is "$(q $RETAIL "SELECT count(*) FROM recgen.recommend($cid, $n)")" "$n" "recommend($cid, $n) gives $n rows"
email=$(echo "$out" | grep '"content_id"' | tail -1)
like "$email" '"verdict": "(pass|fallback)"' "email($cid) is deliverable"
like "$email" '"product_ids": \[[0-9]' "email($cid) names products"
is "$(q $RETAIL "SELECT consent_marketing AND consent_profiling FROM recgen.customers WHERE customer_id = $cid")" t \
	"the README's retail customer consented to marketing and profiling"

bank_sql=$(block bank)
like "$bank_sql" "recgen.email\(" "the README has a bank example block with an email"
out=$(echo "$bank_sql" | run $BANK)
ok $? "the bank examples run without an error"
like "$out" "Eligibility, terms and conditions apply" "the bank email carries the bank's disclaimer"

for db in $RETAIL $BANK; do q postgres "DROP DATABASE $db WITH (FORCE)" >/dev/null; done
done_testing
