#!/usr/bin/env python3
"""tifu_knn_eval.py - a user-based neighbourhood baseline in the style of
TIFU-KNN (Hu et al., "Modeling Personalized Item Frequency Information for
Next-basket Recommendation", SIGIR 2020), on the same temporal split,
customers and training events as recgen.evaluate_recommendations(), with
the same metric definitions (eval_data.py).

Each training customer is a vector of their purchases, each line weighted
2^(-age / HALF_LIFE days) before the split; neighbours are the NEIGHBOURS
customers of highest cosine similarity (the customer left out); the score
is ALPHA * the customer's own normalised vector + (1 - ALPHA) * the mean of
the neighbours' normalised vectors. Protocol "new" ranks the neighbours'
part with the customer's bought items removed.

Usage: tifu_knn_eval.py DSN SPLIT [K [TEST_END]]
Prints method|protocol|customers|hr|ndcg|precision|recall|coverage|train_ms
"""
import sys
import time

import numpy as np
import scipy.sparse as sp

from eval_data import Split

HALF_LIFE = 120.0
NEIGHBOURS = 100
ALPHA = 0.7


def top_k(scores, k, exclude=None):
    """Column indexes of the k highest positive scores, best first (ties by index)."""
    s = scores.copy()
    if exclude is not None:
        s[exclude] = -np.inf
    cand = np.argpartition(-s, min(k, len(s) - 1))[:k + 1]
    cand = cand[s[cand] > 0]
    return cand[np.lexsort((cand, -s[cand]))][:k]


def main():
    dsn, split = sys.argv[1], sys.argv[2]
    k = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    data = Split(dsn, split, sys.argv[4] if len(sys.argv) > 4 else None)

    t0 = time.time()
    users, items = {}, {}
    rows, cols, vals = [], [], []
    for c, p, days in data.train:
        rows.append(users.setdefault(c, len(users)))
        cols.append(items.setdefault(p, len(items)))
        vals.append(2.0 ** (-days / HALF_LIFE))
    v = sp.csr_matrix((np.array(vals), (rows, cols)), shape=(len(users), len(items)))
    v.sum_duplicates()
    norms = np.sqrt(np.asarray(v.multiply(v).sum(axis=1)).ravel())
    vn = sp.diags(1.0 / np.maximum(norms, 1e-12)) @ v
    vn = vn.tocsr()
    item_ids = np.array(sorted(items, key=items.get))

    # cosine similarities of the evaluation customers to every customer
    uidx = np.array([users[c] for c in data.customers])
    sims = (vn[uidx] @ vn.T).toarray()
    sims[np.arange(len(uidx)), uidx] = 0.0           # not one's own neighbour
    nb = np.argpartition(-sims, NEIGHBOURS, axis=1)[:, :NEIGHBOURS]
    neighbour_part = np.zeros((len(uidx), len(items)))
    for r in range(len(uidx)):
        neighbour_part[r] = np.asarray(vn[nb[r]].mean(axis=0)).ravel()
    own = vn[uidx].toarray()
    blended = ALPHA * own + (1 - ALPHA) * neighbour_part
    train_ms = (time.time() - t0) * 1000

    for protocol in ("all", "new"):
        ranked = {}
        for r, c in enumerate(data.customers):
            if protocol == "all":
                cols_ = top_k(blended[r], k)
            else:
                cols_ = top_k(neighbour_part[r], k, exclude=own[r] > 0)
            ranked[c] = [int(item_ids[j]) for j in cols_]
        print(data.score("tifu_knn", protocol, ranked, k, train_ms))


if __name__ == "__main__":
    main()
