#!/usr/bin/env bash
# demo_content.sh - the content part of "make demo" (called by tools/demo.sh
# once the cluster runs and the retail and bank databases are loaded).
#
# Starts the local LLM server (tools/llm-server.sh, cached install) and
# prints, written by the local model: an email for the README's retail and
# bank customers (subject, body, the products and why), a product
# description and a sales summary, each with the guard's verdict.
#
# RECGEN_DEMO_RETAIL_DB / RECGEN_DEMO_BANK_DB name the databases (default
# retail and bank); RECGEN_LLM_PORT the server's port (default 8631).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RETAIL=${RECGEN_DEMO_RETAIL_DB:-retail}
BANK=${RECGEN_DEMO_BANK_DB:-bank}

"$ROOT/tools/llm-server.sh" start
URL=$("$ROOT/tools/llm-server.sh" url)
MODEL=$("$ROOT/.venv/bin/python" "$ROOT/tools/llm_models.py" alias)
# a shared or slow machine can take minutes per answer: wait up to 10 minutes
export PGOPTIONS="-c client_min_messages=warning -c recgen.llm_url=$URL -c recgen.llm_model=$MODEL -c recgen.llm_timeout=600s"

sql() {
	psql "$("$ROOT/tools/cluster.sh" dsn "$1")" -X -qAt -v ON_ERROR_STOP=1 "${@:2}"
}

# the customers of the README's first examples (12352 and 100002)
show_email() {
	local db=$1 brand=$2 label=$3 cid=$4
	echo
	echo "== Email for a $label customer (database $db, written by the local model, $MODEL) =="
	sql "$db" <<-SQL
		SET recgen.brand = '$brand';
		\set cid $cid
		SELECT recgen.email(:cid, 'friendly') AS e \gset
		SELECT format(E'customer %s\nsubject:   %s\npreheader: %s\n\n%s\n\n[%s]   (guard verdict: %s)',
		              :cid, e->>'subject', e->>'preheader', e->>'body', e->>'cta', e->>'verdict')
		  FROM (SELECT :'e'::jsonb AS e) x;
		SELECT E'\nThe products and why:';
		SELECT format('  - %s%s: %s', i->>'name', coalesce(', ' || (i->>'price_text'), ''), i->>'reason')
		  FROM recgen.content c, jsonb_array_elements(c.context->'items') i
		 WHERE c.content_id = (:'e'::jsonb->>'content_id')::bigint;
	SQL
}

show_email "$RETAIL" default retail 12352
show_email "$BANK" bank banking 100002

echo
echo "== Product description (database $RETAIL) =="
sql "$RETAIL" <<-SQL
	SELECT product_id AS pid FROM recgen.products p
	 WHERE active AND EXISTS (SELECT 1 FROM recgen.events e WHERE e.product_id = p.product_id)
	 ORDER BY product_id LIMIT 1 \gset
	SELECT format(E'%s\n%s\n(guard verdict: %s)', p.name, d->>'text', d->>'verdict')
	  FROM recgen.products p, recgen.describe(:pid, 'informative') d WHERE p.product_id = :pid;
SQL

echo
echo "== Sales summary (database $BANK) =="
sql "$BANK" <<-SQL
	SET recgen.brand = 'bank';
	SELECT customer_id AS cid FROM recgen.customers WHERE consent_profiling ORDER BY customer_id LIMIT 1 \gset
	SELECT format(E'customer %s\n%s\n(guard verdict: %s)', :cid, s->>'text', s->>'verdict')
	  FROM recgen.summary(:cid) s;
SQL
echo
echo "Every text above is stored in recgen.content with its context and verdict;"
echo "usage and latency of each LLM call are in recgen.llm_calls."
