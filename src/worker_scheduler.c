/*-------------------------------------------------------------------------
 *
 * worker_scheduler.c
 *		A database's scheduler ("recgen scheduler"): the queue's
 *		maintenance, apart from the workers so that a long job never
 *		delays it.
 *
 * Each round, in one short transaction:
 *	- the rescuer: running jobs whose lease expired, or whose worker is no
 *	  longer alive (its pid is in no worker slot: it was killed, or the
 *	  server restarted), become retryable, or discarded when they have no
 *	  attempts left (recgen._job_rescue re-checks each row once locked);
 *	- due scheduled and retryable jobs become available, and the
 *	  database's workers are woken;
 *	- once a minute, one batch of retention (recgen.job_retention for
 *	  completed jobs, recgen.job_retention_failed for the others);
 *	- the NOTIFY summary of final states the rate limit held back;
 *	- what is runnable is reported to the launcher, which starts workers.
 * Rounds run every second while jobs run (to rescue promptly), else when
 * the next job is due or the latch is set. With nothing running, nothing
 * runnable and nothing due within recgen.worker_idle_timeout, the
 * scheduler exits (at once when its first round found nothing: the
 * launcher's periodic look costs a slot only for a moment), telling the launcher when to look again (the next due
 * job, or recgen.launcher_naptime). In a database without recgen's job
 * queue it exits at once, and the launcher looks again after ten
 * naptimes (an enqueue there wakes it sooner).
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/worker_scheduler.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "jobs.h"
#include "worker.h"

/*
 * scheduler_next_check
 *		Tell the launcher when to start a scheduler here again.
 */
static void
scheduler_next_check(TimestampTz when)
{
	WorkerShared *ws = WorkerShmem();
	WorkerDatabase *db;

	LWLockAcquire(ws->lock, LW_EXCLUSIVE);
	db = WorkerFindDatabase(MyDatabaseId, true);
	if (db)
		db->next_check = when;
	LWLockRelease(ws->lock);
}

/*
 * scheduler_round
 *		One round of maintenance (see the file header). Returns the
 *		milliseconds until the next round is needed, or -1 when the
 *		database is idle.
 */
static long
scheduler_round(TimestampTz *last_prune, TimestampTz *next_due)
{
	int			rescued;
	int			available;
	int			running;
	TimestampTz now = GetCurrentTimestamp();
	long		wait_ms = recgen_worker_idle_timeout;

	WorkerSetState(WS_MAINTAINING);
	WorkerBegin();
	rescued = JobBookRescue();
	(void) JobBookPromote();
	if (*last_prune == 0 || TimestampDifferenceExceeds(*last_prune, now, 60000))
	{
		JobBookPrune();
		*last_prune = now;
	}
	WorkerNotifyFlush();
	WorkerCommit();

	WorkerBegin();
	JobBookOverview(&available, &running, next_due);
	WorkerCommit();

	if (rescued > 0)
		ereport(LOG, (errmsg("recgen: %d job(s) whose worker stopped are runnable again", rescued)));
	WorkerSetPending(available);
	/* the workers (and, through the launcher, new ones) take them */
	if (available > 0)
		WorkerWakeDatabase(MyDatabaseId, 0);

	WorkerSetState(WS_IDLE);
	if (running > 0 || available > 0)
		wait_ms = 1000;
	if (*next_due != 0)
	{
		long		secs;
		int			usecs;

		TimestampDifference(GetCurrentTimestamp(), *next_due, &secs, &usecs);
		wait_ms = Min(wait_ms, secs * 1000 + usecs / 1000 + 1);
	}
	if (running == 0 && available == 0 &&
		(*next_due == 0 || wait_ms >= recgen_worker_idle_timeout))
		return -1;
	return Max(wait_ms, 1);
}

/*
 * RecgenSchedulerMain
 *		Entry point of a scheduler.
 */
void
RecgenSchedulerMain(Datum arg)
{
	MemoryContext loop_cxt;
	TimestampTz last_prune = 0;
	TimestampTz idle_since = 0;
	TimestampTz next_due = 0;
	bool		ready;
	bool		had_work = false;

	WorkerConnect(arg, WR_SCHEDULER);
	WorkerBegin();
	ready = WorkerExtensionReady();
	WorkerCommit();
	if (!ready)
	{
		scheduler_next_check(TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
														 (int64) recgen_launcher_naptime * 10));
		proc_exit(0);
	}
	loop_cxt = AllocSetContextCreate(TopMemoryContext, "recgen scheduler", ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		long		wait_ms;
		TimestampTz now;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		MemoryContextReset(loop_cxt);
		MemoryContextSwitchTo(loop_cxt);

		wait_ms = scheduler_round(&last_prune, &next_due);
		now = GetCurrentTimestamp();
		if (wait_ms < 0)
		{
			if (!had_work)
				break;			/* a look that found nothing: leave at once */
			if (idle_since == 0)
				idle_since = now;
			if (TimestampDifferenceExceeds(idle_since, now, recgen_worker_idle_timeout))
				break;
			wait_ms = recgen_worker_idle_timeout;
		}
		else
		{
			idle_since = 0;
			had_work = true;
		}

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 wait_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}

	scheduler_next_check(next_due != 0 ? next_due
						 : TimestampTzPlusMilliseconds(GetCurrentTimestamp(), recgen_launcher_naptime));
	proc_exit(0);
}
