#!/usr/bin/env bash
# demo_campaign.sh - the campaign part of "make demo" (called by tools/demo.sh
# after the content demo): a small retail campaign with two variants and a
# holdout, run by the background workers on the local LLM, its progress, its
# quality and outcome views, delivered to a local webhook receiver
# (tools/demo_campaign.py).
#
# RECGEN_DEMO_RETAIL_DB names the database (default retail).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RETAIL=${RECGEN_DEMO_RETAIL_DB:-retail}

"$ROOT/tools/llm-server.sh" start
exec "$ROOT/.venv/bin/python" "$ROOT/tools/demo_campaign.py" \
	"$("$ROOT/tools/cluster.sh" dsn "$RETAIL")" "$("$ROOT/tools/llm-server.sh" url)"
