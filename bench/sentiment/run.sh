#!/usr/bin/env bash
# run.sh - the sentiment benchmark (bench.py): recgen.sentiment() against
# vaderSentiment and TextBlob on the same texts, and agreement with the human
# ratings of ../shared/data/sentiment_tweets/. Builds and starts the private
# cluster first. Usage: bench/sentiment/run.sh [number of posts, default 1000000]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
make -s private-install >/dev/null
tools/cluster.sh start >/dev/null
tools/venv.sh
exec .venv/bin/python bench/sentiment/bench.py "$@"
