#!/usr/bin/env bash
# 500_sentiment_bank.sh - loads the generated banking scenario and checks that
# every social post gets its sentiment from the trigger, that complaints and
# praise score as such, that concerns come out of the posts (home loan
# application complaints among them) for consenting customers only, and that
# withdrawing social consent removes a customer from posts and concerns for
# analysts at once.
source "$(dirname "$0")/../lib/tap.sh"
cd "$TAP_ROOT"
plan 15
DB=recgen_it_sentiment
fresh_db $DB

tools/load.sh bank $DB >/dev/null 2>&1
ok $? "the banking scenario loads"

posts=$(q $DB "SELECT count(*) FROM recgen.social_posts")
cmp_ok "$posts" -gt 1000 "the scenario has social posts ($posts)"
is "$(q $DB "SELECT count(*) FROM recgen.social_posts WHERE sentiment IS NULL")" 0 "the trigger scored every post"
is "$(q $DB "SELECT count(*) FROM recgen.social_posts WHERE sentiment IS DISTINCT FROM recgen.sentiment(body)")" 0 \
	"stored scores equal recgen.sentiment(body)"
is "$(q $DB "SELECT avg(sentiment) < -0.2 FROM recgen.social_posts WHERE attributes->>'tone' = 'complaint'")" t \
	"complaints score negative on average"
is "$(q $DB "SELECT bool_and(sentiment > 0) FROM recgen.social_posts WHERE attributes->>'tone' = 'praise'")" t \
	"every praise post scores positive"

is "$(q $DB "SELECT count(*) > 50 FROM recgen.customer_concerns WHERE topic = 'home loan application' AND polarity = -1")" t \
	"home loan application complaints become concerns"
is "$(q $DB "SELECT count(*) > 20 FROM recgen.customer_concerns WHERE polarity = 1")" t "praise becomes positive interest"
is "$(q $DB "SELECT count(*) FROM recgen.customer_concerns cc JOIN recgen.customers c USING (customer_id)
             WHERE NOT (c.consent_social AND c.consent_profiling)")" 0 "concerns only for customers with social and profiling consent"
is "$(q $DB "SELECT count(*) FROM recgen.customer_concerns cc JOIN recgen.social_posts p
             ON p.post_id = cc.example_post_id AND p.customer_id = cc.customer_id
             WHERE (cc.polarity = -1) <> (p.sentiment < 0)")" 0 "each example post has the concern's polarity"
before=$(q $DB "SELECT count(*) FROM recgen.customer_concerns")
is "$(q $DB "SELECT recgen.refresh_concerns()")" "$before" "a full refresh reproduces what the triggers kept"

cust=$(q $DB "SELECT customer_id FROM recgen.customer_concerns WHERE topic = 'home loan application' ORDER BY customer_id LIMIT 1")
analyst() {
	psql "$(dsn $DB)" -X -qAt -v ON_ERROR_STOP=1 -c "SET ROLE recgen_it_sentiment_analyst" -c "$1" | tail -1
}
q $DB "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'recgen_it_sentiment_analyst') THEN
       CREATE ROLE recgen_it_sentiment_analyst IN ROLE recgen_analyst; END IF; END \$\$" >/dev/null
cmp_ok "$(analyst "SELECT count(*) FROM recgen.customer_concerns WHERE customer_id = $cust")" -gt 0 \
	"an analyst sees a consenting customer's concerns"
q $DB "UPDATE recgen.customers SET consent_social = false WHERE customer_id = $cust" >/dev/null
is "$(analyst "SELECT count(*) FROM recgen.social_posts WHERE customer_id = $cust")" 0 "after withdrawal the analyst sees no posts"
is "$(analyst "SELECT count(*) FROM recgen.customer_concerns WHERE customer_id = $cust")" 0 "nor concerns"
is "$(q $DB "SELECT count(*) FROM recgen.customer_concerns WHERE customer_id = $cust")" 0 "the concern rows are deleted, not just hidden"

q postgres "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
q postgres "DROP ROLE IF EXISTS recgen_it_sentiment_analyst" >/dev/null
done_testing
