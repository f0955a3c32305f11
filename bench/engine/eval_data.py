"""eval_data.py - what the Python baselines of bench/engine share with
recgen.evaluate_recommendations(): the same temporal split, evaluation
customers, training events and metric definitions.

Reads the data with psql (COPY ... TO STDOUT), so it needs no driver.
"""
import math
import subprocess


def query(dsn, sql):
    out = subprocess.run(["psql", dsn, "-X", "-q", "-At", "-F", "\t", "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


class Split:
    """Training purchases before split (of consented customers) and the
    targets bought from split to test_end, as evaluate_recommendations()."""

    def __init__(self, dsn, split, test_end=None):
        end = f"AND e.occurred_at < '{test_end}'" if test_end else ""
        # one row per purchase line: customer, product, days before the split
        self.train = [(int(c), int(p), float(d)) for c, p, d in query(dsn, f"""
            SELECT e.customer_id, e.product_id,
                   extract(epoch FROM '{split}'::timestamptz - e.occurred_at) / 86400
            FROM recgen.events e JOIN recgen.customers c ON c.customer_id = e.customer_id
            WHERE c.consent_profiling AND e.kind = 'purchase' AND e.product_id IS NOT NULL
              AND e.occurred_at < '{split}'""")]
        test = query(dsn, f"""
            SELECT DISTINCT e.customer_id, e.product_id
            FROM recgen.events e JOIN recgen.customers c ON c.customer_id = e.customer_id
            WHERE c.consent_profiling AND e.kind = 'purchase' AND e.product_id IS NOT NULL
              AND e.occurred_at >= '{split}' {end}""")
        self.nproducts = int(query(dsn, "SELECT count(*) FROM recgen.products")[0][0])
        self.bought = {}
        for c, p, _ in self.train:
            self.bought.setdefault(c, set()).add(p)
        self.targets = {}
        for c, p in test:
            c = int(c)
            if c in self.bought:
                self.targets.setdefault(c, set()).add(int(p))
        self.customers = sorted(self.targets)

    def score(self, method, protocol, recs, k, train_ms):
        """The line evaluate_recommendations() would give: recs maps each
        evaluation customer to its ranked product ids."""
        hr = nd = pr = rc = 0.0
        n = 0
        seen = set()
        for c in self.customers:
            t = self.targets[c] if protocol == "all" else self.targets[c] - self.bought[c]
            if not t:
                continue
            n += 1
            rec = recs.get(c, [])[:k]
            seen.update(rec)
            hits = [r + 1 for r, p in enumerate(rec) if p in t]
            dcg = sum(1.0 / math.log2(r + 1) for r in hits)
            idcg = sum(1.0 / math.log2(i + 1) for i in range(1, min(k, len(t)) + 1))
            hr += 1.0 if hits else 0.0
            nd += dcg / idcg
            pr += len(hits) / k
            rc += len(hits) / len(t)
        return "|".join([method, protocol, str(n), f"{hr / n:.4f}", f"{nd / n:.4f}",
                         f"{pr / n:.4f}", f"{rc / n:.4f}", f"{len(seen) / self.nproducts:.4f}",
                         f"{train_ms:.0f}"])
