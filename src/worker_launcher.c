/*-------------------------------------------------------------------------
 *
 * worker_launcher.c
 *		The launcher ("recgen launcher"): a static background worker that
 *		serves every database of the cluster. It lists the databases
 *		(recgen.databases may restrict them), and starts for each database
 *		with work a scheduler and up to its share of recgen.workers workers,
 *		as dynamic background workers.
 *
 * How the launcher learns of work: an enqueue sets its latch when the
 * transaction commits (worker_shmem.c), and a scheduler reports what is
 * runnable in its database. As a fallback, every recgen.launcher_naptime it
 * starts a scheduler in each database it has not looked at for that long
 * (one in a database without the extension exits at once and is not
 * started again for ten naptimes): that finds jobs queued before a restart,
 * by a prepared transaction, or when the shared memory had no room.
 *
 * Limits: recgen.workers workers in total, and recgen's processes together
 * (launcher, schedulers, workers) leave two of max_worker_processes to
 * parallel query and other extensions. Running out of slots is a LOG line
 * (at most one a minute), not a hang: the launcher tries again later. A
 * database whose processes fail to start is tried again with an exponential
 * backoff (1 s doubling to 5 min).
 *
 * The launcher connects to no database; it reads pg_database, a shared
 * catalog, at most once a second when it wakes up. It is not registered under binary upgrade, and the postmaster
 * restarts it 5 s after a crash.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/worker_launcher.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "recgen.h"
#include "worker.h"

/* handles of the processes this launcher started, by slot */
static BackgroundWorkerHandle *handles[RECGEN_WORKER_SLOTS];
static TimestampTz last_slot_warning = 0;

/*
 * WorkerRegisterLauncher
 *		Register the launcher; called from _PG_init when preloaded.
 */
void
WorkerRegisterLauncher(void)
{
	BackgroundWorker bgw;

	if (IsBinaryUpgrade)
		return;
	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = 5;
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, "recgen");
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, "RecgenLauncherMain");
	snprintf(bgw.bgw_name, BGW_MAXLEN, "recgen launcher");
	snprintf(bgw.bgw_type, BGW_MAXLEN, "recgen launcher");
	RegisterBackgroundWorker(&bgw);
}

/*
 * launcher_scan_databases
 *		Make an entry for every database the workers may serve, and drop
 *		the entries of databases that are gone.
 */
static void
launcher_scan_databases(WorkerShared *ws)
{
	MemoryContext cxt = CurrentMemoryContext;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	Oid		   *oids;
	NameData   *names;
	int			n = 0;
	int			cap = 64;
	int			i,
				j;
	TimestampTz now = GetCurrentTimestamp();

	oids = palloc(sizeof(Oid) * cap);
	names = palloc(sizeof(NameData) * cap);
	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database d = (Form_pg_database) GETSTRUCT(tup);

		if (!d->datallowconn || d->datistemplate || !WorkerDatabaseAllowed(NameStr(d->datname)))
			continue;
		if (n == cap)
		{
			MemoryContext old = MemoryContextSwitchTo(cxt);

			cap *= 2;
			oids = repalloc(oids, sizeof(Oid) * cap);
			names = repalloc(names, sizeof(NameData) * cap);
			MemoryContextSwitchTo(old);
		}
		oids[n] = d->oid;
		namestrcpy(&names[n], NameStr(d->datname));
		n++;
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);

	LWLockAcquire(ws->lock, LW_EXCLUSIVE);
	for (i = 0; i < n; i++)
	{
		WorkerDatabase *db = WorkerFindDatabase(oids[i], false);

		if (db == NULL)
		{
			db = WorkerFindDatabase(oids[i], true);
			if (db == NULL)
				break;			/* no room; the others wait for a free entry */
			db->next_check = now;
		}
		strlcpy(db->name, NameStr(names[i]), NAMEDATALEN);
	}
	for (j = 0; j < RECGEN_WORKER_DATABASES; j++)
	{
		WorkerDatabase *db = &ws->dbs[j];
		bool		listed = false;

		if (db->dboid == InvalidOid)
			continue;
		for (i = 0; i < n && !listed; i++)
			listed = (oids[i] == db->dboid);
		if (!listed && !db->has_scheduler && db->nworkers == 0)
			memset(db, 0, sizeof(WorkerDatabase));
	}
	LWLockRelease(ws->lock);
	pfree(oids);
	pfree(names);
}

/*
 * launcher_start
 *		Start a scheduler or a worker for a database in slot slotno, which
 *		the caller reserved. Returns whether the postmaster took it.
 */
static bool
launcher_start(int slotno, WorkerRole role, WorkerDatabase *db)
{
	BackgroundWorker bgw;
	const char *type = role == WR_SCHEDULER ? "recgen scheduler" : "recgen worker";
	MemoryContext old;
	bool		ok;

	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, "recgen");
	snprintf(bgw.bgw_function_name, BGW_MAXLEN,
			 role == WR_SCHEDULER ? "RecgenSchedulerMain" : "RecgenWorkerMain");
	snprintf(bgw.bgw_name, BGW_MAXLEN, "%s for database \"%s\"", type, db->name);
	snprintf(bgw.bgw_type, BGW_MAXLEN, "%s", type);
	bgw.bgw_main_arg = Int32GetDatum(slotno);
	bgw.bgw_notify_pid = MyProcPid;
	if (handles[slotno])
	{
		pfree(handles[slotno]);
		handles[slotno] = NULL;
	}
	/* the handle outlives the loop's memory context */
	old = MemoryContextSwitchTo(TopMemoryContext);
	ok = RegisterDynamicBackgroundWorker(&bgw, &handles[slotno]);
	MemoryContextSwitchTo(old);
	return ok;
}

/*
 * launcher_reap
 *		Free the slots of processes that stopped before they attached (the
 *		postmaster could not start them, or they failed at once), counting
 *		a failure against their database.
 */
static void
launcher_reap(WorkerShared *ws)
{
	int			i;

	for (i = 0; i < RECGEN_WORKER_SLOTS; i++)
	{
		pid_t		pid;
		WorkerSlot *s = &ws->slots[i];

		if (handles[i] == NULL)
			continue;
		if (GetBackgroundWorkerPid(handles[i], &pid) != BGWH_STOPPED)
			continue;
		pfree(handles[i]);
		handles[i] = NULL;
		LWLockAcquire(ws->lock, LW_EXCLUSIVE);
		if ((s->role == WR_SCHEDULER || s->role == WR_WORKER) && s->pid == 0)
		{
			WorkerDatabase *db = WorkerFindDatabase(s->dboid, false);

			if (db)
			{
				if (s->role == WR_SCHEDULER)
					db->has_scheduler = false;
				else if (db->nworkers > 0)
					db->nworkers--;
				db->failures++;
				db->restart_after = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
																Min(1000L << Min(db->failures, 9), 300000L));
			}
			memset(s, 0, sizeof(WorkerSlot));
			s->pgprocno = -1;
		}
		LWLockRelease(ws->lock);
	}
}

/*
 * launcher_free_slot
 *		A free slot, or -1. Caller holds the lock.
 */
static int
launcher_free_slot(WorkerShared *ws)
{
	int			i;

	for (i = 0; i < RECGEN_WORKER_SLOTS; i++)
		if (ws->slots[i].role == WR_NONE)
			return i;
	return -1;
}

/*
 * launcher_out_of_slots
 *		Say (at most once a minute) that a process could not be started.
 */
static void
launcher_out_of_slots(const char *what, const char *dbname)
{
	TimestampTz now = GetCurrentTimestamp();

	if (last_slot_warning != 0 && !TimestampDifferenceExceeds(last_slot_warning, now, 60000))
		return;
	last_slot_warning = now;
	ereport(LOG,
			(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
			 errmsg("recgen: no background worker slot for a %s of database \"%s\"", what, dbname),
			 errhint("Raise max_worker_processes (now %d; recgen leaves 2 to others) or lower recgen.workers (now %d).",
					 max_worker_processes, recgen_workers)));
}

/*
 * launcher_spawn
 *		Reserve a slot for a scheduler or worker of a database and start it.
 *		The caller holds the lock (released for a moment to log a lack of
 *		slots). Returns whether the process was started.
 */
static bool
launcher_spawn(WorkerShared *ws, WorkerDatabase *db, WorkerRole role, int *budget)
{
	int			slotno = launcher_free_slot(ws);
	bool		started = false;

	if (*budget > 0 && slotno >= 0)
	{
		ws->slots[slotno].role = role;
		ws->slots[slotno].dboid = db->dboid;
		if (role == WR_SCHEDULER)
			db->has_scheduler = true;
		else
			db->nworkers++;
		started = launcher_start(slotno, role, db);
		if (started)
			(*budget)--;
		else
		{
			memset(&ws->slots[slotno], 0, sizeof(WorkerSlot));
			ws->slots[slotno].pgprocno = -1;
			if (role == WR_SCHEDULER)
				db->has_scheduler = false;
			else
				db->nworkers--;
		}
	}
	if (!started)
	{
		LWLockRelease(ws->lock);
		launcher_out_of_slots(role == WR_SCHEDULER ? "scheduler" : "worker", db->name);
		LWLockAcquire(ws->lock, LW_EXCLUSIVE);
	}
	return started;
}

/*
 * launcher_balance
 *		Start the schedulers and workers the databases need now. Returns
 *		the number of milliseconds until something is due.
 */
static long
launcher_balance(WorkerShared *ws)
{
	TimestampTz now = GetCurrentTimestamp();
	long		wait_ms = recgen_launcher_naptime;
	int			budget;
	int			used = 0;
	int			workers = 0;
	int			demanding = 0;
	int			schedulers = 0;
	int			rank = 0;
	int			i;

	LWLockAcquire(ws->lock, LW_EXCLUSIVE);
	for (i = 0; i < RECGEN_WORKER_SLOTS; i++)
	{
		if (ws->slots[i].role != WR_NONE)
			used++;
		if (ws->slots[i].role == WR_WORKER)
			workers++;
		if (ws->slots[i].role == WR_SCHEDULER)
			schedulers++;
	}
	budget = Min(max_worker_processes - 2, RECGEN_WORKER_SLOTS) - used;
	for (i = 0; i < RECGEN_WORKER_DATABASES; i++)
		if (ws->dbs[i].dboid != InvalidOid && ws->dbs[i].pending > 0 && ws->dbs[i].blocked_until <= now)
			demanding++;

	for (i = 0; i < RECGEN_WORKER_DATABASES; i++)
	{
		WorkerDatabase *db = &ws->dbs[i];
		int			share;
		int			target;

		if (db->dboid == InvalidOid || db->name[0] == '\0')
			continue;
		if (db->blocked_until > now)
		{
			wait_ms = Min(wait_ms, 1000);
			continue;
		}
		if (db->restart_after > now)
		{
			long		secs;
			int			usecs;

			TimestampDifference(now, db->restart_after, &secs, &usecs);
			wait_ms = Min(wait_ms, secs * 1000 + usecs / 1000 + 1);
			if (db->pending > 0)
				rank++;
			continue;
		}

		/*
		 * A scheduler when there is work, or to look for it; looks without
		 * known work start one or two at a time.
		 */
		if (!db->has_scheduler && db->pending <= 0 && db->next_check <= now &&
			schedulers >= demanding + 2)
			wait_ms = Min(wait_ms, 100);
		else if (!db->has_scheduler && (db->pending > 0 || db->next_check <= now))
		{
			if (launcher_spawn(ws, db, WR_SCHEDULER, &budget))
			{
				db->next_check = TimestampTzPlusMilliseconds(now, recgen_launcher_naptime);
				schedulers++;
			}
			else
				wait_ms = Min(wait_ms, 1000);
		}
		else if (!db->has_scheduler && db->next_check > now)
		{
			long		secs;
			int			usecs;

			TimestampDifference(now, db->next_check, &secs, &usecs);
			wait_ms = Min(wait_ms, secs * 1000 + usecs / 1000 + 1);
		}

		if (db->pending <= 0)
			continue;

		/* workers: an even share of recgen.workers, no more than the work */
		share = demanding > 0 ? recgen_workers / demanding : 0;
		if (rank < recgen_workers % Max(demanding, 1))
			share++;
		rank++;
		target = Min(share, (db->pending + recgen_worker_jobs - 1) / recgen_worker_jobs);
		target = Max(target, Min(share, 1));
		while (db->nworkers < target && workers < recgen_workers)
		{
			if (!launcher_spawn(ws, db, WR_WORKER, &budget))
			{
				wait_ms = Min(wait_ms, 1000);
				break;
			}
			workers++;
		}
	}
	LWLockRelease(ws->lock);
	return Max(wait_ms, 10);
}

/*
 * launcher_forget_orphans
 *		At start-up: slots reserved by a previous launcher for processes
 *		that never attached are free again.
 */
static void
launcher_forget_orphans(WorkerShared *ws)
{
	int			i;

	LWLockAcquire(ws->lock, LW_EXCLUSIVE);
	for (i = 0; i < RECGEN_WORKER_SLOTS; i++)
	{
		WorkerSlot *s = &ws->slots[i];

		if ((s->role == WR_SCHEDULER || s->role == WR_WORKER) && s->pid == 0)
		{
			WorkerDatabase *db = WorkerFindDatabase(s->dboid, false);

			if (db && s->role == WR_SCHEDULER)
				db->has_scheduler = false;
			else if (db && db->nworkers > 0)
				db->nworkers--;
			memset(s, 0, sizeof(WorkerSlot));
			s->pgprocno = -1;
		}
	}
	LWLockRelease(ws->lock);
}

/*
 * RecgenLauncherMain
 *		Entry point of the launcher.
 */
void
RecgenLauncherMain(Datum arg)
{
	WorkerShared *ws = WorkerShmem();
	MemoryContext loop_cxt;
	TimestampTz last_scan = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	if (ws == NULL)
		proc_exit(0);
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	if (WorkerSlotAttach(-1, WR_LAUNCHER) < 0)
	{
		ereport(LOG, (errmsg("recgen: no slot for the launcher")));
		proc_exit(1);
	}
	pgstat_report_appname("recgen launcher");
	launcher_forget_orphans(ws);
	loop_cxt = AllocSetContextCreate(TopMemoryContext, "recgen launcher", ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		long		wait_ms;
		TimestampTz now = GetCurrentTimestamp();

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			last_scan = 0;		/* recgen.databases may have changed */
		}
		MemoryContextReset(loop_cxt);
		MemoryContextSwitchTo(loop_cxt);

		/* at most once a second: cheap, and forgets dropped databases */
		if (last_scan == 0 || TimestampDifferenceExceeds(last_scan, now, 1000))
		{
			launcher_scan_databases(ws);
			last_scan = now;
		}
		launcher_reap(ws);
		WorkerSetState(WS_IDLE);
		wait_ms = launcher_balance(ws);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 wait_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
