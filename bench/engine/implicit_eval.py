#!/usr/bin/env python3
"""implicit_eval.py - the Python library `implicit` (ALS and cosine item-item)
on the same temporal split, customers and training events as
recgen.evaluate_recommendations(), with the same metric definitions
(eval_data.py).

Usage: implicit_eval.py DSN SPLIT [K [TEST_END]]
Prints one line per method and protocol:
  method|protocol|customers|hr|ndcg|precision|recall|coverage|train_ms
"""
import sys
import time

import numpy as np
import scipy.sparse as sp
from implicit.als import AlternatingLeastSquares
from implicit.nearest_neighbours import CosineRecommender

from eval_data import Split


def main():
    dsn, split = sys.argv[1], sys.argv[2]
    k = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    data = Split(dsn, split, sys.argv[4] if len(sys.argv) > 4 else None)

    users, items = {}, {}
    counts = {}
    for c, p, _ in data.train:
        u = users.setdefault(c, len(users))
        i = items.setdefault(p, len(items))
        counts[(u, i)] = counts.get((u, i), 0) + 1
    rows = [u for u, _ in counts]
    cols = [i for _, i in counts]
    ui = sp.csr_matrix((np.array(list(counts.values()), dtype=np.float32), (rows, cols)),
                       shape=(len(users), len(items)))
    item_ids = np.array(sorted(items, key=items.get))

    models = {
        "implicit_als": AlternatingLeastSquares(factors=64, regularization=0.05, iterations=15,
                                                random_state=42),
        "implicit_cosine": CosineRecommender(K=50),
    }
    for name, model in models.items():
        weighted = ui
        if name == "implicit_als":
            weighted = (ui * 20.0).tocsr()   # confidence scaling
        t0 = time.time()
        model.fit(weighted, show_progress=False)
        train_ms = (time.time() - t0) * 1000
        for protocol in ("all", "new"):
            uidx = np.array([users[c] for c in data.customers])
            recs, _ = model.recommend(uidx, ui[uidx], N=k,
                                      filter_already_liked_items=(protocol == "new"))
            ranked = {c: [int(item_ids[j]) for j in row if j >= 0]
                      for c, row in zip(data.customers, recs)}
            print(data.score(name, protocol, ranked, k, train_ms))


if __name__ == "__main__":
    main()
