#!/usr/bin/env bash
# demo.sh - the second half of "make demo" (the Makefile has already
# installed the packages, built recgen and started the private cluster):
# create the retail and bank databases, load them once, run the content demo
# when it is there, and print how to connect. Safe to run again: databases
# that are already loaded are left as they are (RELOAD=1 reloads them).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PGOPTIONS="-c client_min_messages=warning"

q() { psql "$(tools/cluster.sh dsn "$1")" -X -qAt -v ON_ERROR_STOP=1 -c "$2"; }

for db in retail bank; do
	if [[ -z $(q postgres "SELECT 1 FROM pg_database WHERE datname = '$db'") ]]; then
		q postgres "CREATE DATABASE $db" >/dev/null
		echo "recgen: created database \"$db\""
	fi
	# 0.1.0 is not released yet: when the extension script changed since this
	# database was set up, re-create the extension (and reload the data).
	stamp=$(tools/cluster.sh dsn "$db" | sed 's/.*dbname=\([^ ]*\).*/\1/')
	stamp=.pgdata/demo-$stamp.sha256
	script_sum=$(cat sql/recgen--*.sql | sha256sum | cut -d' ' -f1)
	if [[ -f $stamp && $(cat "$stamp") != "$script_sum" ]] ||
		[[ ! -f $stamp && -n $(q "$db" "SELECT 1 FROM pg_extension WHERE extname = 'recgen'") ]]; then
		echo "recgen: the extension changed since \"$db\" was set up; re-creating it"
		q "$db" "DROP EXTENSION IF EXISTS recgen CASCADE" >/dev/null
	fi
	q "$db" "CREATE EXTENSION IF NOT EXISTS recgen" >/dev/null
	echo "$script_sum" >"$stamp"
	if [[ ${RELOAD:-0} == 1 || $(q "$db" "SELECT count(*) FROM recgen.customers") == 0 ]]; then
		tools/load.sh "$db" "$db"
	else
		echo "recgen: database \"$db\" is already loaded (RELOAD=1 make demo reloads it)"
	fi
done

# Later steps, in order: the recommendation model, generated content, a video.
for step in tools/demo_model.sh tools/demo_content.sh tools/demo_campaign.sh tools/demo_video.sh; do
	if [[ -x $step ]]; then "$step"; fi
done

cat <<EOT

recgen is running.
  retail (UCI Online Retail):  $(q retail "SELECT count(*) FROM recgen.customers") customers, $(q retail "SELECT count(*) FROM recgen.events") events, $(q retail "SELECT count(*) FROM recgen.products") products
  bank (generated scenario):   $(q bank "SELECT count(*) FROM recgen.customers") customers, $(q bank "SELECT count(*) FROM recgen.events") events, $(q bank "SELECT count(*) FROM recgen.social_posts") social posts

Connect:
  psql "\$(make -s dsn)"            # retail
  psql "\$(make -s dsn DB=bank)"    # bank
  connection string: $(tools/cluster.sh dsn retail)
Stop with: make stop
Online Retail data: Chen, D. (2015). Online Retail [Dataset]. UCI Machine Learning
Repository. https://doi.org/10.24432/C5BW33. CC BY 4.0.
EOT
