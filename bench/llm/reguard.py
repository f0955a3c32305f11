"""reguard.py - the emails of a quality run guarded again by the rules of now.

    .venv/bin/python bench/llm/reguard.py DSN BRAND FILE.jsonl [FILE.jsonl ...]

FILE is what bench/llm/quality.sh writes with RECGEN_BENCH_EMAILS (one JSON
line per email: customer_id, verdict, attempts, output, context). Each
output is guarded again against its own context with recgen.guard in the
database DSN (the rules installed there), and the script prints how many of
the run's first-attempt passes and of its fallbacks still pass, the first
pass rate the run would have had (a pass that fails now counted as failed,
with no retry), and each new violation. Nothing is written to the database.
"""
import collections
import json
import sys

import psycopg


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    dsn, brand, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET client_min_messages = warning")
        for path in files:
            with open(path, encoding="utf-8") as f:
                rows = [json.loads(line) for line in f if line.strip()]
            kept = collections.Counter()
            total = collections.Counter()
            rules = collections.Counter()
            for r in rows:
                first = "pass" if r["verdict"] == "pass" and r["attempts"] == 1 else r["verdict"]
                g = conn.execute("SELECT recgen.guard('email', %s, %s, %s)",
                                 (json.dumps(r["output"]), json.dumps(r["context"]), brand)).fetchone()[0]
                total[first] += 1
                if g["ok"]:
                    kept[first] += 1
                    continue
                for v in g["violations"]:
                    rules[v["rule"]] += 1
                    print(f"  {r['customer_id']} ({first}): {v['rule']}: {v['detail']}")
            passes = kept["pass"]
            print(f"{path}: {len(rows)} emails; first-attempt passes still passing {passes}/{total['pass']}, "
                  f"fallbacks {kept['fallback']}/{total['fallback']}; first pass now "
                  f"{passes / max(len(rows), 1):.3f} (was {total['pass'] / max(len(rows), 1):.3f}); "
                  "new violations: " + (", ".join(f"{k} {n}" for k, n in rules.most_common()) or "none"))


if __name__ == "__main__":
    main()
