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

DSN=$("$ROOT/tools/cluster.sh" dsn "$RETAIL")
if [[ $(psql "$DSN" -X -qAt -c "SELECT count(*) FROM recgen.job_kinds WHERE kind = 'email'") == 0 ]]; then
	echo "recgen: the campaign demo needs the workers' LLM action, not in this build yet; skipped"
	exit 0
fi
"$ROOT/tools/llm-server.sh" start
exec "$ROOT/.venv/bin/python" "$ROOT/tools/demo_campaign.py" \
	"$DSN" "$("$ROOT/tools/llm-server.sh" url)"
