#!/usr/bin/env python3
"""implicit_eval.py - the Python library `implicit` (ALS and cosine item-item)
on the same temporal split, customers and training events as
recgen.evaluate_recommendations(), with the same metric definitions.

Usage: implicit_eval.py DSN SPLIT [K]
Prints one line per method and protocol:
  method|protocol|customers|hr|ndcg|precision|recall|coverage|train_ms
Reads the data with psql (COPY ... TO STDOUT), so it needs no driver.
"""
import math
import subprocess
import sys
import time

import numpy as np
import scipy.sparse as sp
from implicit.als import AlternatingLeastSquares
from implicit.nearest_neighbours import CosineRecommender


def query(dsn, sql):
    out = subprocess.run(["psql", dsn, "-X", "-q", "-At", "-F", "\t", "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def main():
    dsn, split = sys.argv[1], sys.argv[2]
    k = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    # the same definitions as recgen.evaluate_recommendations()
    train = query(dsn, f"""
        SELECT e.customer_id, e.product_id, count(*)
        FROM recgen.events e JOIN recgen.customers c ON c.customer_id = e.customer_id
        WHERE c.consent_profiling AND e.kind = 'purchase' AND e.product_id IS NOT NULL
          AND e.occurred_at < '{split}'
        GROUP BY 1, 2""")
    test = query(dsn, f"""
        SELECT DISTINCT e.customer_id, e.product_id
        FROM recgen.events e JOIN recgen.customers c ON c.customer_id = e.customer_id
        WHERE c.consent_profiling AND e.kind = 'purchase' AND e.product_id IS NOT NULL
          AND e.occurred_at >= '{split}'""")
    nproducts = int(query(dsn, "SELECT count(*) FROM recgen.products")[0][0])

    users, items = {}, {}
    rows, cols, vals = [], [], []
    bought = {}
    for c, p, n in train:
        u = users.setdefault(int(c), len(users))
        i = items.setdefault(int(p), len(items))
        rows.append(u)
        cols.append(i)
        vals.append(float(n))
        bought.setdefault(int(c), set()).add(int(p))
    ui = sp.csr_matrix((np.array(vals, dtype=np.float32), (rows, cols)),
                       shape=(len(users), len(items)))
    targets = {}
    for c, p in test:
        c = int(c)
        if c in bought:
            targets.setdefault(c, set()).add(int(p))
    customers = sorted(targets)
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
            uidx = np.array([users[c] for c in customers])
            recs, _ = model.recommend(uidx, ui[uidx], N=k,
                                      filter_already_liked_items=(protocol == "new"))
            hr = nd = pr = rc = 0.0
            n = 0
            seen = set()
            for c, row in zip(customers, recs):
                t = targets[c] if protocol == "all" else targets[c] - bought[c]
                if not t:
                    continue
                n += 1
                rec = [int(item_ids[j]) for j in row if j >= 0]
                seen.update(rec)
                hits = [r + 1 for r, p in enumerate(rec) if p in t]
                dcg = sum(1.0 / math.log2(r + 1) for r in hits)
                idcg = sum(1.0 / math.log2(i + 1) for i in range(1, min(k, len(t)) + 1))
                hr += 1.0 if hits else 0.0
                nd += dcg / idcg
                pr += len(hits) / k
                rc += len(hits) / len(t)
            print("|".join([name, protocol, str(n), f"{hr / n:.4f}", f"{nd / n:.4f}",
                            f"{pr / n:.4f}", f"{rc / n:.4f}", f"{len(seen) / nproducts:.4f}",
                            f"{train_ms:.0f}"]))


if __name__ == "__main__":
    main()
