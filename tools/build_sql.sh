#!/usr/bin/env bash
# build_sql.sh - assemble recgen's extension scripts from the parts in sql/.
#
#   build_sql.sh install VERSION        the script of CREATE EXTENSION ... VERSION
#   build_sql.sh upgrade FROM TO        the script of ALTER EXTENSION ... UPDATE
#
# An install script is the incremental parts of every version up to VERSION
# (sql/incremental/<version>/*.sql, versions in order, files in name order),
# then every idempotent part (sql/idempotent/*.sql). An upgrade script is the
# incremental parts of the versions after FROM up to TO, then every
# idempotent part again. So a fresh install and an upgrade run the same
# table statements in the same order and end with the same functions, views,
# policies, grants and comments (test/integration/040_upgrade.sh compares
# the two catalogs). See sql/README.md for what goes where.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SQL=$ROOT/sql

versions() {
	local d
	for d in "$SQL"/incremental/*/; do
		basename "$d"
	done | sort -V
}

# version_le A B: A <= B
version_le() {
	[[ $(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1) == "$1" ]]
}

emit_parts() {
	local f
	for f in "$@"; do
		printf '\n-- %s\n' "${f#"$SQL"/}"
		cat "$f"
	done
}

incremental_between() {  # FROM (exclusive, may be empty) TO (inclusive)
	local from=$1 to=$2 v
	for v in $(versions); do
		if [[ -n $from ]] && version_le "$v" "$from"; then continue; fi
		version_le "$v" "$to" || continue
		shopt -s nullglob
		local parts=("$SQL/incremental/$v"/*.sql)
		shopt -u nullglob
		if ((${#parts[@]})); then emit_parts "${parts[@]}"; fi
	done
}

case ${1:-} in
install)
	to=${2:?version}
	cat <<-HDR
		/*
		 * recgen $to: extension install script, built by tools/build_sql.sh from
		 * sql/incremental (versions up to $to) and sql/idempotent. Edit the parts.
		 */
		\\echo Use "CREATE EXTENSION recgen" to load this file. \\quit
	HDR
	incremental_between "" "$to"
	emit_parts "$SQL"/idempotent/*.sql
	;;
upgrade)
	from=${2:?from version} to=${3:?to version}
	cat <<-HDR
		/*
		 * recgen $from -> $to: upgrade script, built by tools/build_sql.sh from
		 * sql/incremental (versions after $from up to $to) and sql/idempotent.
		 */
		\\echo Use "ALTER EXTENSION recgen UPDATE TO '$to'" to load this file. \\quit
	HDR
	incremental_between "$from" "$to"
	emit_parts "$SQL"/idempotent/*.sql
	;;
*)
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac
