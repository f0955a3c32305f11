#!/usr/bin/env bash
# tune.sh - choose the blend of recommend() on the VALIDATION split of Online
# Retail (train before 2011-06-01, validate on 2011-06-01 .. 2011-09-01),
# never on the test period: every combination of a grid is evaluated
# (recgen.evaluate_recommendations with test_end), and ranked by the mean
# of NDCG@10 / the TIFU-KNN-style baseline's NDCG@10 under the two
# protocols (all, new), the baseline computed on the same split. Prints the
# table, best first; the defaults of the settings are the choice (see
# docs/engine.md), and bench/engine/quality.sh reports the test figures.
# Grids (each setting not in a grid keeps its default):
#   neighbours  neighbor_weight x neighbor_customers x neighbor_half_life x
#               recency_half_life (54 combinations)
#   repeats     repeat_norm (with the repeat_weight range that suits it) x
#               repeat_order_decay x neighbor_weight (54 combinations)
#   bench/engine/tune.sh [neighbours|repeats|all]   (default all)
source "$(dirname "$0")/common.sh"
ensure_retail_db
tools/venv.sh >/dev/null
SPLIT=2011-06-01
END=2011-09-01
GRID=${1:-all}

read -r tifu_all tifu_new <<<"$(.venv/bin/python bench/engine/tifu_knn_eval.py "$(bench_dsn)" $SPLIT 10 $END |
	awk -F'|' '{ v[$2] = $5 } END { print v["all"], v["new"] }')"
echo "validation: train before $SPLIT, validate to $END; TIFU-KNN-style NDCG@10: all $tifu_all, new $tifu_new"

out=$(mktemp)
# try SETTINGS...: evaluate recgen with recgen.<name> = <value> for each
# name=value, append "score all new settings" to $out
try() {
	local set_sql="" kv res all new
	for kv in "$@"; do set_sql+="SET recgen.${kv%%=*} = '${kv#*=}'; "; done
	res=$(psql "$(bench_dsn)" -X -qAt -v ON_ERROR_STOP=1 -c "$set_sql" -c "
		SELECT string_agg(ndcg::text, ' ' ORDER BY protocol)
		FROM recgen.evaluate_recommendations('$SPLIT', 10, '{recgen}', test_end => '$END')")
	read -r all new <<<"$res"
	awk -v a="$all" -v n="$new" -v ta="$tifu_all" -v tn="$tifu_new" -v cfg="$*" \
		'BEGIN { printf "%.4f %.4f %.4f  %s\n", (a / ta + n / tn) / 2, a, n, cfg }' >>"$out"
}

if [[ $GRID == all || $GRID == neighbours ]]; then
	for nw in 0.3 0.5 1; do
		for nk in 50 100 200; do
			for nh in 60 120 240; do
				for rh in 60 120; do
					try neighbor_weight=$nw neighbor_customers=$nk neighbor_half_life=${nh}d recency_half_life=${rh}d
				done
			done
		done
	done
fi
if [[ $GRID == all || $GRID == repeats ]]; then
	# repeat scores relative to the length of the customer's vector are
	# smaller than relative to the largest, hence larger weights
	for norm in largest length; do
		weights="0.7 1 1.5"
		[[ $norm == length ]] && weights="2 3 4"
		for rw in $weights; do
			for od in 0 0.95 0.9; do
				for nw in 0.7 1 1.5; do
					try repeat_norm=$norm repeat_weight=$rw repeat_order_decay=$od neighbor_weight=$nw
				done
			done
		done
	done
fi
printf "%-6s %-7s %-7s %s\n" "score" "all" "new" "settings (score: mean of NDCG@10 / TIFU-KNN's, both protocols)"
sort -rn "$out"
rm -f "$out"
