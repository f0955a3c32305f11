# common.sh - shared by the engine benchmarks: a database of the private
# cluster holding the Online Retail data (loaded once, reused).
# Data: Chen, D. (2015). Online Retail [Dataset]. UCI Machine Learning
# Repository. https://doi.org/10.24432/C5BW33. CC BY 4.0.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
export PGOPTIONS="-c client_min_messages=warning"
BENCH_DB=${BENCH_DB:-recgen_bench_retail}
SPLIT=${SPLIT:-2011-09-01}

bench_dsn() { tools/cluster.sh dsn "${1:-$BENCH_DB}"; }
bq() { psql "$(bench_dsn)" -X -qAt -v ON_ERROR_STOP=1 -c "$1"; }

# create and load the retail database unless it is already there
ensure_retail_db() {
	tools/cluster.sh start >/dev/null
	local have
	have=$(psql "$(bench_dsn postgres)" -X -qAt -c "SELECT 1 FROM pg_database WHERE datname = '$BENCH_DB'")
	if [[ $have != 1 ]]; then
		psql "$(bench_dsn postgres)" -X -q -c "CREATE DATABASE $BENCH_DB"
		bq "CREATE EXTENSION recgen"
	fi
	if [[ $(bq "SELECT count(*) > 400000 FROM recgen.events") != t ]]; then
		tools/load.sh retail "$BENCH_DB" >/dev/null
	fi
}
