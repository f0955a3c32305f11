#!/usr/bin/env bash
# throughput.sh - a campaign of N customers of Online Retail on the local LLM,
# end to end (a bulk insert of fresh purchases -> the purchase trigger ->
# campaign jobs in the workers -> LLM -> guard -> content -> webhook job ->
# delivered to a local receiver), in contents per minute, against the LLM
# server alone with the same prompts and the same concurrency.
#
#   bench/campaigns/throughput.sh [N]          (default 500)
#
# The baseline sends the requests recgen's generation pipeline builds for the
# same customers (bench/campaigns/llm_alone.py, as src/llm.c sends them),
# RECGEN_BENCH_CONCURRENCY at a time (default 8, the local server's slots);
# the campaign runs with recgen.workers x recgen.llm_concurrency = the same.
# recgen.guard_retries = 0 in both, so each content is one LLM request. The
# baseline runs before and after the campaign (the machine is shared: the
# ratio is against their mean, and the load average is printed). Target:
# campaign >= 90% of the server alone. RECGEN_BENCH_LLM_URL and
# RECGEN_BENCH_MODEL point it at another server instead, e.g. test/fake_llm.py
# with model fake-sleep1 (one second per answer) to measure recgen's own
# overhead apart from the model's speed.
# Data: Chen, D. (2015). Online Retail [Dataset]. UCI Machine Learning
# Repository. https://doi.org/10.24432/C5BW33. CC BY 4.0.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
N=${1:-500}
CONC=${RECGEN_BENCH_CONCURRENCY:-8}
export BENCH_DB=recgen_bench_campaign
# shellcheck source=../engine/common.sh
source "$ROOT/bench/engine/common.sh"
PY=$ROOT/.venv/bin/python
TMP=$(mktemp -d)
RECV_PID=
cleanup() {
	[[ -n $RECV_PID ]] && kill "$RECV_PID" 2>/dev/null
	bq "ALTER DATABASE $BENCH_DB RESET recgen.guard_retries" 2>/dev/null || true
	bq "ALTER DATABASE $BENCH_DB RESET recgen.llm_model" 2>/dev/null || true
	rm -rf "$TMP"
	psql "$(bench_dsn postgres)" -X -qAt -c "ALTER SYSTEM RESET recgen.llm_concurrency" -c "SELECT pg_reload_conf()" >/dev/null 2>&1 || true
}
trap cleanup EXIT

ensure_retail_db
if [[ -n ${RECGEN_BENCH_LLM_URL:-} ]]; then
	# another OpenAI-compatible server (test/fake_llm.py measures recgen's own overhead)
	URL=$RECGEN_BENCH_LLM_URL
	MODEL=${RECGEN_BENCH_MODEL:?set RECGEN_BENCH_MODEL with RECGEN_BENCH_LLM_URL}
	bq "ALTER DATABASE $BENCH_DB SET recgen.llm_model = '$MODEL'"
else
	tools/llm-server.sh start
	URL=$(tools/llm-server.sh url)
	MODEL=$(bq "SHOW recgen.llm_model")
fi
[[ $(bq "SELECT count(*) FROM recgen.models") -gt 0 ]] 2>/dev/null || bq "SELECT recgen.refresh_model()" >/dev/null

# the workers of this database: the local LLM, one request per content
bq "ALTER DATABASE $BENCH_DB SET recgen.llm_url = '$URL'"
bq "ALTER DATABASE $BENCH_DB SET recgen.guard_retries = 0"
# the same requests in flight: recgen.workers x recgen.llm_concurrency = CONC
W=$(bq "SHOW recgen.workers")
PER=$(((CONC + W - 1) / W))
CONC=$((PER * W))
psql "$(bench_dsn postgres)" -X -qAt -c "ALTER SYSTEM SET recgen.llm_concurrency = $PER" -c "SELECT pg_reload_conf()" >/dev/null

# the customers: consenting, with something to recommend
bq "DROP TABLE IF EXISTS bench_customers"
bq "CREATE TABLE bench_customers AS
    SELECT customer_id FROM recgen.customers c
     WHERE consent_marketing AND consent_profiling
       AND EXISTS (SELECT 1 FROM recgen.recommend(c.customer_id, 3))
     ORDER BY md5(customer_id::text) LIMIT $N"
n=$(bq "SELECT count(*) FROM bench_customers")

# the prompts recgen sends for them, for the baseline
bq "SELECT r FROM jsonb_array_elements(recgen.generation_requests(recgen.generation_prepare(
        (SELECT jsonb_agg(jsonb_build_object('kind', 'email', 'customer_id', customer_id, 'tone', 'friendly',
                                             'campaign', 'bench-throughput', 'n', 3)) FROM bench_customers),
        false, 'fallback'))) r" >"$TMP/requests.jsonl"

baseline() {
	"$PY" bench/campaigns/llm_alone.py "$URL" "$TMP/requests.jsonl" "$CONC" "$MODEL"
}
echo "baseline 1: the LLM server alone, $n requests, $CONC at a time ..."
b1=$(baseline)
echo "  $b1   load average $(cut -d' ' -f1-3 /proc/loadavg)"

# the campaign: a purchase trigger, delivered to a local receiver
SECRET=$(bq "SELECT recgen.webhook_secret()")
"$PY" tools/webhook_receiver.py --secret "$SECRET" >"$TMP/receiver.out" &
RECV_PID=$!
for _ in $(seq 1 50); do [[ -s $TMP/receiver.out ]] && break; sleep 0.1; done
PORT=$(cut -d' ' -f2 "$TMP/receiver.out")
bq "DELETE FROM recgen.frequency_caps"
bq "DELETE FROM recgen.campaigns WHERE name = 'bench-throughput'"
bq "DELETE FROM recgen.deliveries WHERE endpoint = 'bench-receiver'"
bq "DELETE FROM recgen.webhook_endpoints WHERE name = 'bench-receiver'"
bq "INSERT INTO recgen.webhook_endpoints (name, url, secret) VALUES ('bench-receiver', 'http://127.0.0.1:$PORT/h', '$SECRET')"
bq "INSERT INTO recgen.campaigns (name, goal, trigger, quiet_hours, endpoint, n_products, tone)
    VALUES ('bench-throughput', 'post_purchase', 'purchase', 'ignore', 'bench-receiver', 3, 'friendly')"
echo "campaign: $n fresh purchases in one INSERT, through the trigger, the workers and the receiver ..."
t0=$(bq "SELECT extract(epoch FROM clock_timestamp())")
bq "INSERT INTO recgen.events (customer_id, product_id, kind, quantity, amount, occurred_at, basket_id)
    SELECT b.customer_id, (SELECT product_id FROM recgen.products WHERE active ORDER BY product_id LIMIT 1),
           'purchase', 1, 1, now(), 'bench-' || b.customer_id || '-' || extract(epoch FROM now())::bigint
      FROM bench_customers b"
deadline=$((SECONDS + 3600))
while :; do
	done_n=$(bq "SELECT count(*) FROM recgen.deliveries d JOIN recgen.content c USING (customer_id, content_id)
	              WHERE c.campaign = 'bench-throughput' AND d.state IN ('delivered', 'failed', 'disabled')")
	held=$(bq "SELECT count(*) FROM recgen.campaign_entries e JOIN recgen.campaigns c USING (campaign_id)
	            WHERE c.name = 'bench-throughput' AND e.state IN ('held', 'failed')")
	[[ $((done_n + held)) -ge $n || $SECONDS -gt $deadline ]] && break
	sleep 1
done
t1=$(bq "SELECT extract(epoch FROM max(d.delivered_at)) FROM recgen.deliveries d JOIN recgen.content c USING (customer_id, content_id)
          WHERE c.campaign = 'bench-throughput'")
delivered=$(bq "SELECT count(*) FROM recgen.deliveries d JOIN recgen.content c USING (customer_id, content_id)
                 WHERE c.campaign = 'bench-throughput' AND d.state = 'delivered'")
echo "  delivered $delivered of $n (held or failed: $held) in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s   load average $(cut -d' ' -f1-3 /proc/loadavg)"

echo "baseline 2 ..."
b2=$(baseline)
echo "  $b2   load average $(cut -d' ' -f1-3 /proc/loadavg)"

"$PY" - "$b1" "$b2" "$t0" "$t1" "$delivered" "$n" <<'EOF'
import json, sys
b1, b2 = json.loads(sys.argv[1]), json.loads(sys.argv[2])
t0, t1, delivered, n = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
rate = lambda req, s: req / s * 60
base = (rate(b1["requests"], b1["seconds"]) + rate(b2["requests"], b2["seconds"])) / 2
camp = rate(delivered, t1 - t0)
print()
print(f"{'run':<44}{'contents/min':>14}{'ratio':>8}")
print(f"{'LLM server alone (mean of 2 runs)':<44}{base:>14.1f}{1.0:>8.2f}")
print(f"{'campaign end to end (trigger -> delivered)':<44}{camp:>14.1f}{camp / base:>8.2f}")
print(f"customers: {n}, delivered: {delivered}, baseline failures: {b1['failed'] + b2['failed']}")
EOF
echo "in flight: $CONC ($W workers x recgen.llm_concurrency $PER; the baseline $CONC threads)"
echo "cores: $(nproc), load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
