#!/usr/bin/env bash
# cluster.sh - the project's private PostgreSQL 15 cluster.
#
#   cluster.sh prepare        copy Debian's PostgreSQL 15 into .pgdata/pg, so
#                             the extension installs there and not system-wide
#   cluster.sh init           initdb (first time) and configure, no start
#   cluster.sh start          init, then start; idempotent
#   cluster.sh stop           stop the cluster (and the local LLM server)
#   cluster.sh status         exit 0 when running
#   cluster.sh dsn [DB]       print a libpq connection string (default: retail)
#   cluster.sh psql [DB]      open psql on it
#   cluster.sh bindir         print the private PostgreSQL's bin directory
#
# PostgreSQL refuses to run as root, so when we are root the server runs as
# Debian's unprivileged "postgres" user, which owns .pgdata/data and
# .pgdata/run. PostgreSQL finds its share and lib directories relative to its
# binaries, so a copy under .pgdata/pg is a complete, private installation:
# several checkouts (and CI) can each build and test their own recgen.so
# without touching /usr or each other. RECGEN_PORT picks the port;
# RECGEN_PGDATA_ROOT another folder for all of it (the valgrind run uses one);
# RECGEN_PRELOAD what shared_preload_libraries holds (default recgen; the
# test without preloading sets it empty).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PGDATA_ROOT=${RECGEN_PGDATA_ROOT:-$ROOT/.pgdata}
PGCOPY=$PGDATA_ROOT/pg
SYS_BINDIR=/usr/lib/postgresql/15/bin
BINDIR=$PGCOPY/usr/lib/postgresql/15/bin
DATADIR=$PGDATA_ROOT/data
RUNDIR=$PGDATA_ROOT/run
LOGFILE=$PGDATA_ROOT/postgresql.log
PORT=${RECGEN_PORT:-5491}
SUPERUSER=postgres

as_server_user() {
	if [[ $(id -u) -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# Copy the PostgreSQL installation once (or again when Debian upgraded it).
prepare() {
	local stamp=$PGCOPY/.source-version want
	want=$("$SYS_BINDIR/postgres" --version)
	if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
		# refresh extensions installed system-wide since (pgtap, pg_cron)
		cp -an /usr/share/postgresql/15/extension/. "$PGCOPY/usr/share/postgresql/15/extension/"
		cp -an /usr/lib/postgresql/15/lib/. "$PGCOPY/usr/lib/postgresql/15/lib/"
		return
	fi
	rm -rf "$PGCOPY"
	mkdir -p "$PGCOPY/usr/lib/postgresql" "$PGCOPY/usr/share/postgresql"
	cp -a /usr/lib/postgresql/15 "$PGCOPY/usr/lib/postgresql/"
	cp -a /usr/share/postgresql/15 "$PGCOPY/usr/share/postgresql/"
	echo "$want" >"$stamp"
}

# The server user must be able to reach the project folder (read and traverse).
check_reachable() {
	if [[ $(id -u) -eq 0 ]] && ! runuser -u postgres -- test -x "$BINDIR/postgres"; then
		echo "recgen: user postgres cannot reach $BINDIR; make the project path traversable (chmod o+x on its parents)" >&2
		exit 1
	fi
}

# Checksum of the installed recgen.so, to tell when the server must restart.
library_sum() {
	sha256sum "$PGCOPY/usr/lib/postgresql/15/lib/recgen.so" 2>/dev/null | cut -d' ' -f1
}

is_running() {
	[[ -f $DATADIR/postmaster.pid ]] && as_server_user "$BINDIR/pg_ctl" -D "$DATADIR" status >/dev/null 2>&1
}

init_cluster() {
	mkdir -p "$PGDATA_ROOT" "$RUNDIR"
	[[ $(id -u) -eq 0 ]] && chown postgres: "$RUNDIR"
	if [[ ! -f $DATADIR/PG_VERSION ]]; then
		mkdir -p "$DATADIR"
		[[ $(id -u) -eq 0 ]] && chown postgres: "$DATADIR"
		as_server_user "$BINDIR/initdb" -D "$DATADIR" -U "$SUPERUSER" -A trust -E UTF8 \
			--locale=C.UTF-8 >"$PGDATA_ROOT/initdb.log"
		echo "recgen: initialized cluster in .pgdata/data"
	fi
	# pg_cron, when installed, ticks the scheduled campaigns (docs/campaigns.md):
	# its metadata lives in the postgres database, its jobs connect over the
	# socket (the cluster trusts local connections)
	local preload=recgen cron_conf=
	if [[ -n ${RECGEN_PRELOAD+set} ]]; then
		preload=$RECGEN_PRELOAD          # as given (the test without preloading: empty)
	elif [[ -f $PGCOPY/usr/lib/postgresql/15/lib/pg_cron.so ]]; then
		preload=recgen,pg_cron
		cron_conf=$(printf "cron.database_name = 'postgres'\ncron.host = '%s'\ncron.log_min_messages = warning" "$RUNDIR")
	fi
	# Our settings live in their own file, rewritten on every start.
	cat >"$DATADIR/recgen.auto.conf" <<-CONF
		# written by tools/cluster.sh; edit there
		port = $PORT
		listen_addresses = '127.0.0.1'
		unix_socket_directories = '$RUNDIR'
		shared_preload_libraries = '$preload'
		$cron_conf
		max_connections = 50
		max_worker_processes = 16
		shared_buffers = 256MB
		work_mem = 32MB
		maintenance_work_mem = 256MB
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		logging_collector = off
		log_min_messages = warning
		log_line_prefix = '%m [%p] %q%u@%d '
	CONF
	[[ $(id -u) -eq 0 ]] && chown postgres: "$DATADIR/recgen.auto.conf"
	grep -q "^include_if_exists = 'recgen.auto.conf'" "$DATADIR/postgresql.conf" ||
		echo "include_if_exists = 'recgen.auto.conf'" >>"$DATADIR/postgresql.conf"
}

start() {
	check_reachable
	init_cluster
	if is_running; then
		# Pick up a changed recgen.so: preloaded libraries need a restart.
		if [[ $(library_sum) != $(cat "$PGDATA_ROOT/loaded.sha256" 2>/dev/null) ]]; then
			as_server_user "$BINDIR/pg_ctl" -D "$DATADIR" -m fast -w restart -l "$LOGFILE" >/dev/null
			library_sum >"$PGDATA_ROOT/loaded.sha256"
			echo "recgen: restarted cluster (new recgen.so) on port $PORT"
		fi
		return
	fi
	library_sum >"$PGDATA_ROOT/loaded.sha256"
	touch "$LOGFILE"
	[[ $(id -u) -eq 0 ]] && chown postgres: "$LOGFILE"
	if ! as_server_user "$BINDIR/pg_ctl" -D "$DATADIR" -l "$LOGFILE" -w -t 120 start >/dev/null; then
		echo "recgen: the cluster did not start; last lines of $LOGFILE:" >&2
		tail -20 "$LOGFILE" >&2
		exit 1
	fi
	echo "recgen: started private cluster on port $PORT (socket in ${RUNDIR#"$ROOT"/})"
}

stop() {
	if [[ -x $ROOT/tools/llm-server.sh ]]; then
		"$ROOT/tools/llm-server.sh" stop || true
	fi
	if [[ -f $DATADIR/postmaster.pid ]] && is_running; then
		as_server_user "$BINDIR/pg_ctl" -D "$DATADIR" -m fast -w stop >/dev/null
		echo "recgen: stopped cluster"
	else
		echo "recgen: cluster is not running"
	fi
}

dsn() {
	echo "host=$RUNDIR port=$PORT dbname=${1:-retail} user=$SUPERUSER"
}

case ${1:-} in
prepare) prepare ;;
init) init_cluster ;;
start) start ;;
stop) stop ;;
status) is_running ;;
dsn) dsn "${2:-}" ;;
psql) exec psql "$(dsn "${2:-}")" ;;
bindir) echo "$BINDIR" ;;
*)
	echo "usage: $0 prepare|init|start|stop|status|dsn [DB]|psql [DB]|bindir" >&2
	exit 2
	;;
esac
