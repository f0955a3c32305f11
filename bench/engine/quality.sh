#!/usr/bin/env bash
# quality.sh - ranking quality on Online Retail, temporal split (train before
# SPLIT, default 2011-09-01; test from it to TEST_END, default the end of
# the data): HR@10 and NDCG@10 under both protocols (all, new) for recgen,
# popularity, each customer's own most-bought items, implicit's ALS and
# cosine item-item, and a TIFU-KNN-style user-neighbour model
# (tifu_knn_eval.py), all on the same customers and training events, with
# each one's training time. Prints one table; ratio = NDCG@10 /
# popularity's NDCG@10 (same protocol).
#   bench/engine/quality.sh                                   (test period)
#   SPLIT=2011-06-01 TEST_END=2011-09-01 bench/engine/quality.sh   (validation)
source "$(dirname "$0")/common.sh"
ensure_retail_db
tools/venv.sh >/dev/null

TEST_END=${TEST_END:-}
end_sql=NULL
[[ -n $TEST_END ]] && end_sql="'$TEST_END'"
out=$(mktemp)
bq "SELECT method, protocol, customers, hr, ndcg, precision_at_k, recall_at_k, coverage, train_ms
    FROM recgen.evaluate_recommendations('$SPLIT', 10, test_end => $end_sql)" >"$out"
.venv/bin/python bench/engine/implicit_eval.py "$(bench_dsn)" "$SPLIT" 10 $TEST_END >>"$out"
.venv/bin/python bench/engine/tifu_knn_eval.py "$(bench_dsn)" "$SPLIT" 10 $TEST_END >>"$out"

echo "Online Retail, train before $SPLIT, test from it${TEST_END:+ to $TEST_END}; $(bq "SELECT count(*) FROM recgen.events WHERE kind = 'purchase'") purchase lines, $(bq "SELECT count(*) FROM recgen.products") products; k = 10"
awk -F'|' '
	{ m[NR] = $1; p[NR] = $2; c[NR] = $3; hr[NR] = $4; nd[NR] = $5; pr[NR] = $6; rc[NR] = $7; cv[NR] = $8; ms[NR] = $9
	  if ($1 == "popular") base[$2] = $5 }
	END {
		printf "%-16s %-8s %9s %7s %8s %7s %7s %8s %9s %10s\n", "method", "protocol", "customers", "HR@10", "NDCG@10", "P@10", "R@10", "coverage", "train_ms", "ndcg/pop"
		for (i = 1; i <= NR; i++)
			printf "%-16s %-8s %9d %7.4f %8.4f %7.4f %7.4f %8.3f %9.0f %10.2f\n", m[i], p[i], c[i], hr[i], nd[i], pr[i], rc[i], cv[i], ms[i], (base[p[i]] > 0 ? nd[i] / base[p[i]] : 0)
	}' "$out" | { read -r header; echo "$header"; sort -b -k2,2 -k5,5gr; }
rm -f "$out"
