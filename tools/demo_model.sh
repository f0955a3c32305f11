#!/usr/bin/env bash
# demo_model.sh - part of "make demo": build the recommendation model of
# both databases (when it is missing, or with RELOAD=1) and show
# recommendations for one consenting customer of each.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PGOPTIONS="-c client_min_messages=warning"
q() { psql "$(tools/cluster.sh dsn "$1")" -X -v ON_ERROR_STOP=1 "${@:2}"; }

for db in retail bank; do
	stale=$(q "$db" -qAt -c "SELECT NOT EXISTS (SELECT 1 FROM recgen.model_current)")
	if [[ ${RELOAD:-0} == 1 || $stale == t ]]; then
		echo "recgen: building the recommendation model of \"$db\""
		q "$db" -c "SELECT items, pairs, round(ms) AS ms FROM recgen.refresh_model()"
	fi
done

customer=$(q retail -qAt -c "SELECT e.customer_id FROM recgen.events e JOIN recgen.customers c USING (customer_id)
                               WHERE c.consent_profiling AND c.consent_marketing AND e.kind = 'purchase'
                               GROUP BY 1 HAVING count(*) BETWEEN 20 AND 60 ORDER BY 1 LIMIT 1")
echo
echo "Recommendations for retail customer $customer:  SELECT * FROM recgen.recommend($customer, 5);"
q retail -c "SELECT rank, name, round(score::numeric, 3) AS score, reason FROM recgen.recommend($customer, 5)"
customer=$(q bank -qAt -c "SELECT customer_id FROM recgen.customers WHERE consent_profiling AND consent_marketing
                             AND segment = 'family' ORDER BY customer_id LIMIT 1")
echo "Recommendations for bank customer $customer:  SELECT * FROM recgen.recommend($customer, 3);"
q bank -c "SELECT rank, name, round(score::numeric, 3) AS score, reason FROM recgen.recommend($customer, 3)"
