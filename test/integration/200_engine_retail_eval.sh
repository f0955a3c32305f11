#!/usr/bin/env bash
# 200_engine_retail_eval.sh - the engine on the real Online Retail data:
# the model builds from consented customers only, and on a temporal split
# (a sample of evaluation customers, to stay fast) recgen ranks better than
# popularity under both protocols; popularity equals its SQL definition.
source "$(dirname "$0")/../lib/tap.sh"
cd "$TAP_ROOT"
plan 9
DB=recgen_it_engine
fresh_db $DB
tools/load.sh retail $DB >/dev/null 2>&1
ok $? "the Online Retail file loads"

summary=$(q $DB "SELECT items > 3000 AND pairs > 100000 FROM recgen.refresh_model('2011-09-01')")
is "$summary" t "refresh_model on the retail data reports thousands of items and pairs"

# popularity (counted in C during the event scan) equals its plain-SQL definition
diff=$(psql "$(tools/cluster.sh dsn $DB)" -X -qAt -v ON_ERROR_STOP=1 -v as_of=2011-09-01 \
	-f test/lib/popularity_reference.sql)
is "$diff" 0 "item_popularity (all, segment, country scopes) equals the SQL reference row for row"
is "$(q $DB "SELECT count(DISTINCT scope) FROM recgen.item_popularity")" 3 "popularity has all three scopes"
is "$(q $DB "SELECT max(n) FROM (SELECT count(*) AS n FROM recgen.item_popularity
	WHERE scope <> 'all' GROUP BY scope, scope_value) s")" 1000 \
	"the largest segment or country scope is cut at recgen.model_scope_items"

# nothing learned from non-consenting customers: an item only they bought has no cooc row
only_nc=$(q $DB "SELECT count(*) FROM recgen.item_neighbors n WHERE n.kind = 'cooc' AND n.product_id IN (
	SELECT e.product_id FROM recgen.events e JOIN recgen.customers c USING (customer_id)
	WHERE e.product_id IS NOT NULL AND e.occurred_at < '2011-09-01'
	GROUP BY e.product_id HAVING bool_and(NOT c.consent_profiling))
	AND NOT EXISTS (SELECT 1 FROM recgen.anonymous_events a WHERE a.product_id = n.product_id)")
is "$only_nc" 0 "items bought only by non-consenting customers have no co-occurrence neighbours"

res=$(q $DB "SELECT string_agg(method || ':' || protocol || ':' || round(ndcg::numeric, 4), ' ' ORDER BY method, protocol)
	FROM recgen.evaluate_recommendations('2011-09-01', 10, '{recgen,popular}', '{all,new}', NULL, 400)")
echo "# $res"
ndcg() { echo "$res" | tr ' ' '\n' | sed -n "s/^$1:$2://p"; }
ok $(echo "$(ndcg recgen all) > $(ndcg popular all)" | bc -l | grep -q 1; echo $?) "recgen beats popularity on NDCG@10 (protocol all)"
ok $(echo "$(ndcg recgen new) > $(ndcg popular new)" | bc -l | grep -q 1; echo $?) "recgen beats popularity on NDCG@10 (protocol new)"
is "$(q $DB "SELECT model_id FROM recgen.model_current")" "$(q $DB "SELECT min(model_id) FROM recgen.models")" \
	"the evaluation leaves the current model as it was"

q postgres "DROP DATABASE $DB WITH (FORCE)" >/dev/null
done_testing
