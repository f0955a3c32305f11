#!/usr/bin/env bash
# tune.sh - choose the blend of recommend() on the VALIDATION split of Online
# Retail (train before 2011-06-01, validate on 2011-06-01 .. 2011-09-01),
# never on the test period: every combination of the grid below is
# evaluated (recgen.evaluate_recommendations with test_end), and ranked by
# the mean of NDCG@10 / the TIFU-KNN-style baseline's NDCG@10 under the two
# protocols (all, new), the baseline computed on the same split. Prints the
# table, best first; the defaults of the settings are the choice (see
# docs/engine.md), and bench/engine/quality.sh reports the test figures.
#   bench/engine/tune.sh
source "$(dirname "$0")/common.sh"
ensure_retail_db
tools/venv.sh >/dev/null
SPLIT=2011-06-01
END=2011-09-01

read -r tifu_all tifu_new <<<"$(.venv/bin/python bench/engine/tifu_knn_eval.py "$(bench_dsn)" $SPLIT 10 $END |
	awk -F'|' '{ v[$2] = $5 } END { print v["all"], v["new"] }')"
echo "validation: train before $SPLIT, validate to $END; TIFU-KNN-style NDCG@10: all $tifu_all, new $tifu_new"

out=$(mktemp)
for nw in 0.3 0.5 1; do
	for nk in 50 100 200; do
		for nh in 60 120 240; do
			for rh in 60 120; do
				set_sql="SET recgen.neighbor_weight = $nw; SET recgen.neighbor_customers = $nk;
					SET recgen.neighbor_half_life = '${nh}d'; SET recgen.recency_half_life = '${rh}d';"
				res=$(psql "$(bench_dsn)" -X -qAt -v ON_ERROR_STOP=1 -c "$set_sql" -c "
					SELECT string_agg(ndcg::text, ' ' ORDER BY protocol)
					FROM recgen.evaluate_recommendations('$SPLIT', 10, '{recgen}', test_end => '$END')")
				read -r all new <<<"$res"
				awk -v a="$all" -v n="$new" -v ta="$tifu_all" -v tn="$tifu_new" \
					-v cfg="neighbor_weight=$nw neighbor_customers=$nk neighbor_half_life=${nh}d recency_half_life=${rh}d" \
					'BEGIN { printf "%.4f %.4f %.4f  %s\n", (a / ta + n / tn) / 2, a, n, cfg }' >>"$out"
			done
		done
	done
done
printf "%-6s %-7s %-7s %s\n" "score" "all" "new" "settings (score: mean of NDCG@10 / TIFU-KNN's, both protocols)"
sort -rn "$out"
rm -f "$out"
