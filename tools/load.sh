#!/usr/bin/env bash
# load.sh - load a scenario into a database of the private cluster.
#
#   tools/load.sh retail DB [FILE]   UCI Online Retail (default: the shared copy)
#   tools/load.sh bank DB            the generated banking scenario (and the
#                                    database's recgen.brand set to bank)
#
# Each load runs in one transaction and replaces the recgen tables of DB. A
# malformed file or row stops it with the file, the line and the reason, and
# leaves the tables as they were. DB must already have the extension.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
RETAIL_FILE_DEFAULT=$ROOT/../shared/data/online_retail/online_retail.csv.gz
RETAIL_SHA256=24bb5fccf34d11309a5b1462ea4b875ebf120ec76fb38b2df2ddc308656f0623

scenario=${1:?usage: load.sh retail|bank DB [FILE]}
db=${2:?usage: load.sh retail|bank DB [FILE]}
dsn=$(tools/cluster.sh dsn "$db")

# Run psql on a loader script; on failure turn psql's report into
# "FILE: line N: reason".
run_loader() {
	local label=$1 script=$2 err
	err=$(mktemp)
	if psql "$dsn" -X -v ON_ERROR_STOP=1 -f "$script" 2>"$err"; then
		rm -f "$err"
		return 0
	fi
	local reason line
	reason=$(sed -n 's/^.*ERROR:  *//p' "$err" | head -1)
	line=$(sed -n 's/^CONTEXT:.*line \([0-9][0-9]*\).*/\1/p' "$err" | head -1)
	if [[ -n $line ]]; then
		echo "recgen: $label: line $line: $reason" >&2
	else
		echo "recgen: $label: ${reason:-$(cat "$err")}" >&2
	fi
	echo "recgen: load failed; the tables of database \"$db\" are unchanged" >&2
	rm -f "$err"
	return 1
}

case $scenario in
retail)
	file=${3:-$RETAIL_FILE_DEFAULT}
	[[ -r $file ]] || {
		echo "recgen: $file: cannot read the file" >&2
		exit 1
	}
	if [[ -z ${3:-} ]]; then
		echo "$RETAIL_SHA256  $file" | sha256sum -c --quiet - >/dev/null ||
			{ echo "recgen: $file: checksum mismatch (see its README)" >&2; exit 1; }
	fi
	echo "recgen: loading Online Retail from $(basename "$file") into database \"$db\""
	case $file in
	*.gz) reader=(gzip -dc "$file") ;;
	*) reader=(cat "$file") ;;
	esac
	"${reader[@]}" | run_loader "$(basename "$file")" tools/loaders/online_retail.sql
	;;
bank)
	echo "recgen: generating the banking scenario into database \"$db\""
	run_loader "bank generator" tools/loaders/bank.sql </dev/null
	# the database's content follows the bank's brand (a superuser setting,
	# so that no caller can pick a brand with weaker rules)
	psql "$dsn" -X -q -v ON_ERROR_STOP=1 -c "ALTER DATABASE \"$db\" SET recgen.brand = 'bank'"
	;;
*)
	echo "usage: load.sh retail|bank DB [FILE]" >&2
	exit 2
	;;
esac
