#!/usr/bin/env python3
"""Sentiment benchmark: recgen.sentiment() in Postgres against vaderSentiment
and TextBlob in Python, in the same run.

1. Throughput. N generated short posts (default 1,000,000) are loaded into an
   unlogged table; recgen scores all of them inside Postgres
   (SELECT sum(recgen.sentiment(body)), server-side execution time, parallel
   query off so it is one core like Python). vaderSentiment and TextBlob
   score the first VADER_SAMPLE / TEXTBLOB_SAMPLE of the same texts
   (default 50,000 and 10,000); rates are posts per second. The three are
   timed in BENCH_ROUNDS interleaved rounds (default 5), best of each.
2. Agreement with people. On the human-rated tweets of the VADER paper
   (../shared/data/sentiment_tweets/, Hutto & Gilbert 2014, MIT; never used
   for tuning), the Pearson correlation of each scorer with the mean rating,
   and the accuracy of the sign (positive vs negative). Also the largest
   difference between recgen and vaderSentiment there.

Usage: bench/sentiment/run.sh [N]   (uses the private cluster, RECGEN_PORT)
"""

import csv
import io
import math
import os
import pathlib
import random
import re
import subprocess
import sys
import time

from textblob import TextBlob
from vaderSentiment import vaderSentiment as vs

ROOT = pathlib.Path(__file__).resolve().parents[2]
DB = "recgen_bench_sentiment"
N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
VADER_SAMPLE = int(os.environ.get("VADER_SAMPLE", 50_000))
TEXTBLOB_SAMPLE = int(os.environ.get("TEXTBLOB_SAMPLE", 10_000))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 5))
TWEETS = pathlib.Path(os.environ.get("RECGEN_TWEETS", ROOT / "../shared/data/sentiment_tweets/tweets_ground_truth.tsv"))

SUBJECTS = ["The app", "Customer service", "My home loan application", "The delivery", "The new card",
            "This bank", "The branch staff", "The savings rate", "The parcel", "Their support team",
            "The mortgage process", "The fees", "My order", "The refund", "The checkout"]
GOOD = ["was great", "is amazing", "helped a lot", "made my day", "works perfectly", "was quick and friendly",
        "is the best", "impressed me", "was a pleasure", "is really good value", "was brilliant"]
BAD = ["was terrible", "is a joke", "wasted my time", "is so slow", "keeps crashing", "was rude",
       "is broken again", "ruined my weekend", "is ridiculous", "made me angry", "is a nightmare",
       "let me down", "is not good enough"]
TAILS = ["", "", ".", "!", "!!", "?", "??", " :)", " :(", " lol", " #fail", " #love", " smh", " 😡", " 😍", " 👍"]


def generate(n, seed=7):
    rnd = random.Random(seed)
    a = vs.SentimentIntensityAnalyzer()
    words = [w for w in a.lexicon if w.isalpha()]
    out = []
    for _ in range(n):
        s = f"{rnd.choice(SUBJECTS)} {rnd.choice(['', '', 'really ', 'not ', 'never ', 'kind of ', 'VERY '])}" \
            f"{rnd.choice(GOOD + BAD)}"
        if rnd.random() < 0.3:
            s += f", but {rnd.choice(SUBJECTS).lower()} {rnd.choice(GOOD + BAD)}"
        if rnd.random() < 0.5:
            s += f". {rnd.choice(['So', 'Honestly', 'Totally', 'Just'])} {rnd.choice(words)} and {rnd.choice(words)}"
        out.append(s + rnd.choice(TAILS))
    return out


def dsn(db):
    return subprocess.run([str(ROOT / "tools/cluster.sh"), "dsn", db], check=True,
                          capture_output=True, text=True).stdout.strip()


def psql(db, script):
    env = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
    r = subprocess.run(["psql", dsn(db), "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1"],
                       input=script, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(r.stderr)
    return r.stdout


def copy_script(table, texts):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for i, t in enumerate(texts):
        w.writerow([i, t])
    return (f"DROP TABLE IF EXISTS {table};\nCREATE UNLOGGED TABLE {table} (i int, body text);\n"
            f"COPY {table} FROM STDIN WITH (FORMAT csv);\n" + buf.getvalue() + "\\.\n"
            f"ANALYZE {table};\n")


def exec_ms(sql):
    out = psql(DB, "SET max_parallel_workers_per_gather = 0;\n"
               f"EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) {sql};\n")
    return float(re.search(r"Execution Time: ([0-9.]+) ms", out).group(1))


def pearson(x, y):
    mx, my = sum(x) / len(x), sum(y) / len(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy)


def sign_accuracy(scores, ratings):
    pairs = [(s, r) for s, r in zip(scores, ratings) if r != 0]
    return sum(1 for s, r in pairs if (s > 0) == (r > 0)) / len(pairs)


def main():
    psql("postgres", f"DROP DATABASE IF EXISTS {DB} WITH (FORCE);\nCREATE DATABASE {DB};\n")
    psql(DB, "CREATE EXTENSION recgen;\n")

    texts = generate(N)
    psql(DB, copy_script("bench_posts", texts))
    exec_ms("SELECT sum(recgen.sentiment(body)) FROM bench_posts")   # warm: lexicon, cache
    analyzer = vs.SentimentIntensityAnalyzer()
    sample = texts[:VADER_SAMPLE]
    tb_sample = texts[:TEXTBLOB_SAMPLE]

    def vader_run():
        t0 = time.perf_counter()
        for t in sample:
            analyzer.polarity_scores(t)["compound"]
        return time.perf_counter() - t0

    def textblob_run():
        t0 = time.perf_counter()
        for t in tb_sample:
            TextBlob(t).sentiment.polarity
        return time.perf_counter() - t0

    # interleaved rounds, best of each: a shared machine's load hits all alike
    runs, scans, vader_runs, tb_runs = [], [], [], []
    for _ in range(ROUNDS):
        runs.append(exec_ms("SELECT sum(recgen.sentiment(body)) FROM bench_posts") / 1000)
        vader_runs.append(vader_run())
        scans.append(exec_ms("SELECT sum(length(body)) FROM bench_posts"))
        tb_runs.append(textblob_run())
    recgen_s, vader_s, tb_s, scan = min(runs), min(vader_runs), min(tb_runs), min(scans)

    vader_rate = len(sample) / vader_s
    rows = [("recgen.sentiment() in Postgres", N, recgen_s, N / recgen_s),
            ("  same, minus the scan (sum(length(body)))", N, recgen_s - scan / 1000, N / (recgen_s - scan / 1000)),
            ("vaderSentiment (Python)", len(sample), vader_s, vader_rate),
            ("TextBlob (Python)", len(tb_sample), tb_s, len(tb_sample) / tb_s)]
    print(f"\nThroughput: {N:,} generated posts (mean {sum(map(len, texts)) / N:.0f} characters), one core each, "
          f"best of {ROUNDS} interleaved rounds")
    print(f"{'scorer':46} {'texts':>10} {'seconds':>9} {'posts/s':>12} {'vs vaderSentiment':>18}")
    for name, n, s, rate in rows:
        print(f"{name:46} {n:>10,} {s:>9.2f} {rate:>12,.0f} {rate / vader_rate:>17.1f}x")

    if not TWEETS.exists():
        print(f"\n(no tweets file at {TWEETS}: agreement with human ratings skipped)")
        return
    ids, ratings, tweets = [], [], []
    with open(TWEETS, encoding="utf-8") as f:
        for line in f:
            i, r, t = line.rstrip("\n").split("\t", 2)
            ids.append(i)
            ratings.append(float(r))
            tweets.append(t)
    out = psql(DB, copy_script("tweets", tweets) + "SELECT i, recgen.sentiment(body) FROM tweets ORDER BY i;\n")
    rec = [float(line.split("\t")[1]) for line in out.strip().split("\n")]
    vad = [analyzer.polarity_scores(t)["compound"] for t in tweets]
    tb = [TextBlob(t).sentiment.polarity for t in tweets]
    dev = max(abs(a - b) for a, b in zip(rec, vad))
    print(f"\nAgreement with human ratings: {len(tweets):,} tweets, mean of 20 raters on -4..4 "
          f"(Hutto & Gilbert 2014)")
    print(f"{'scorer':46} {'Pearson r':>10} {'sign accuracy':>14}")
    for name, s in [("recgen.sentiment()", rec), ("vaderSentiment", vad), ("TextBlob", tb)]:
        print(f"{name:46} {pearson(s, ratings):>10.3f} {sign_accuracy(s, ratings):>14.3f}")
    print(f"largest |recgen - vaderSentiment| on these tweets: {dev:.1e}")
    psql("postgres", f"DROP DATABASE IF EXISTS {DB} WITH (FORCE);\n")


if __name__ == "__main__":
    main()
