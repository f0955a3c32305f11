/*-------------------------------------------------------------------------
 *
 * worker_main.c
 *		A worker ("recgen worker"): a dynamic background worker bound to
 *		one database that claims jobs and runs them, several at a time.
 *
 * The loop:
 *	1. claim up to recgen.worker_jobs jobs in one short transaction
 *	   (FOR UPDATE SKIP LOCKED), committed before any work starts; a claim
 *	   that comes back short means the queue is empty, and the worker
 *	   claims again only when its latch is set (an enqueue committed, the
 *	   scheduler promoted due jobs);
 *	2. run the next step of every job that is ready (job_exec.c), each in
 *	   its own transaction;
 *	3. wait, with no transaction open, on the latch and on what the jobs
 *	   wait for (LLM answers, helper programs), at most until the next
 *	   heartbeat, which extends the leases of the jobs it holds and drops
 *	   those it no longer holds (cancelled, rescued); a helper program's
 *	   new progress brings the heartbeat forward, to at most one a second,
 *	   so that recgen.jobs.progress follows a render as it runs;
 *	4. write back the llm_calls rows waiting in call_log's shared ring.
 * With nothing to do for recgen.worker_idle_timeout it exits, giving its
 * slot back to the launcher.
 *
 * SIGTERM (die) during a wait: the worker stops what is in flight, gives
 * its jobs back (available again, the attempt not counted) in a last
 * transaction with interrupts held, and exits. During a SQL step die()
 * ends the process at the next interrupt check; its jobs are then rescued
 * by the scheduler, which sees that their worker is gone.
 *
 * Memory: the loop's context is reset on every iteration; each job has its
 * own context (job_book.c), deleted when the job is finished.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/worker_main.c
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
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "call_log.h"
#include "http.h"
#include "job_actions.h"
#include "job_values.h"
#include "jobs.h"
#include "recgen.h"
#include "worker.h"

#define MAX_JOBS 256

/* how often at most a job's changed progress is written to recgen.jobs */
#define PROGRESS_INTERVAL_MS 1000

typedef struct WorkerLoop
{
	JobRun	   *jobs[MAX_JOBS];
	int			njobs;
	MemoryContext jobs_cxt;
	bool		want_claim;
	TimestampTz idle_since;
	TimestampTz next_heartbeat;
	TimestampTz next_progress;	/* no progress write before this */
	TimestampTz last_flush;
} WorkerLoop;

/*
 * worker_release_and_exit
 *		Give the jobs back and exit (SIGTERM). Interrupts are held so that
 *		the pending die() does not end the process inside the transaction.
 */
static void
worker_release_and_exit(WorkerLoop *w)
{
	int			released = 0;
	int			i;

	HOLD_INTERRUPTS();
	WorkerSetState(WS_STOPPING);
	for (i = 0; i < w->njobs; i++)
		JobActionAbort(w->jobs[i]);
	if (w->njobs > 0)
	{
		WorkerBegin();
		for (i = 0; i < w->njobs; i++)
			JobActionLogCalls(w->jobs[i]);
		released = JobBookRelease(w->jobs, w->njobs);
		WorkerCommit();
		/* the jobs are runnable again: let another worker have them */
		WorkerWakeDatabase(MyDatabaseId, released);
	}
	ereport(LOG,
			(errmsg("recgen: worker stopping on request; %d running job(s) given back", released)));
	proc_exit(0);
}

/*
 * worker_claim
 *		Claim jobs into the free places of the loop.
 */
static void
worker_claim(WorkerLoop *w)
{
	int			room = Min(recgen_worker_jobs, MAX_JOBS) - w->njobs;
	int			got;
	MemoryContext cxt = CurrentMemoryContext;

	if (room <= 0)
		return;
	WorkerSetState(WS_CLAIMING);
	PG_TRY();
	{
		WorkerBegin();
		got = JobBookClaim(&w->jobs[w->njobs], room, w->jobs_cxt);
		WorkerCommit();
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		bool		ready;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		WorkerBegin();
		ready = WorkerExtensionReady();
		WorkerCommit();
		if (!ready)
			proc_exit(0);		/* DROP EXTENSION: nothing left to run */
		WorkerSetError(edata->message);
		ereport(LOG, (errmsg("recgen: a worker could not claim jobs: %s", edata->message)));
		FreeErrorData(edata);
		pg_usleep(1000000L);
		return;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	w->njobs += got;
	if (got < room)
	{
		w->want_claim = false;
		if (got == 0 && w->njobs == 0)
			WorkerSetPending(0);
	}
	if (got > 0)
		w->next_heartbeat = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), recgen_job_lease / 3);
}

/*
 * worker_heartbeat
 *		Extend the leases of the jobs held to lease_ms from now; forget
 *		those lost (cancelled, rescued).
 */
static void
worker_heartbeat(WorkerLoop *w, int64 lease_ms)
{
	bool		held[MAX_JOBS];
	int			i;

	if (w->njobs > 0)
	{
		WorkerBegin();
		JobBookHeartbeat(w->jobs, w->njobs, held, lease_ms);
		WorkerCommit();
		for (i = 0; i < w->njobs; i++)
			w->jobs[i]->progress_new = false;
		for (i = 0; i < w->njobs; i++)
			if (!held[i])
			{
				JobActionAbort(w->jobs[i]);
				strlcpy(w->jobs[i]->outcome, "lost", sizeof(w->jobs[i]->outcome));
				w->jobs[i]->phase = JP_FINISHED;
			}
	}
	w->next_heartbeat = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), recgen_job_lease / 3);
	w->next_progress = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), PROGRESS_INTERVAL_MS);
}

/*
 * worker_heartbeat_due
 *		When the next heartbeat is due: at the regular time, or sooner when
 *		a job has new progress to show (PROGRESS_INTERVAL_MS after the last
 *		write).
 */
static TimestampTz
worker_heartbeat_due(WorkerLoop *w)
{
	int			i;

	for (i = 0; i < w->njobs; i++)
		if (w->jobs[i]->progress_new)
			return Min(w->next_heartbeat, w->next_progress);
	return w->next_heartbeat;
}

/*
 * worker_before_long_step
 *		A step of this job may run longer than a lease, and the loop cannot
 *		heartbeat during a step: give back the jobs not started yet (other
 *		workers run them meanwhile) and extend the leases of the others to
 *		cover the step. A worker that dies meanwhile is noticed anyway (its
 *		pid leaves the worker slots).
 */
static void
worker_before_long_step(WorkerLoop *w, JobRun *job)
{
	JobRun	   *unstarted[MAX_JOBS];
	int			n = 0;
	int			kept = 0;
	int			i;

	for (i = 0; i < w->njobs; i++)
	{
		JobRun	   *j = w->jobs[i];

		if (j != job && j->phase == JP_READY && j->steps == 0)
			unstarted[n++] = j;
		else
			w->jobs[kept++] = j;
	}
	if (n > 0)
	{
		int			released;

		WorkerBegin();
		released = JobBookRelease(unstarted, n);
		WorkerCommit();
		for (i = 0; i < n; i++)
			JobFree(unstarted[i]);
		w->njobs = kept;
		WorkerWakeDatabase(MyDatabaseId, released);
	}
	worker_heartbeat(w, JobRemainingMs(job) + recgen_job_lease);
}

/*
 * worker_next_ready
 *		A job whose next step can run and that has not had a step in this
 *		pass, or NULL.
 */
static JobRun *
worker_next_ready(WorkerLoop *w, uint32 pass)
{
	int			i;

	for (i = 0; i < w->njobs; i++)
		if (w->jobs[i]->phase == JP_READY && w->jobs[i]->pass != pass)
			return w->jobs[i];
	return NULL;
}

/*
 * worker_run_ready
 *		Run the next step of every job that is ready, with heartbeats in
 *		between when due; then forget the finished jobs.
 */
static void
worker_run_ready(WorkerLoop *w)
{
	static uint32 pass = 0;
	JobRun	   *job;
	int			i;
	int			kept = 0;
	int			done = 0;
	int			failed = 0;

	pass++;
	while ((job = worker_next_ready(w, pass)) != NULL)
	{
		job->pass = pass;
		if (job->timeout_ms > recgen_job_lease)
			worker_before_long_step(w, job);
		else if (GetCurrentTimestamp() >= w->next_heartbeat)
			worker_heartbeat(w, recgen_job_lease);
		if (job->phase != JP_READY)
			continue;			/* lost it */
		WorkerSetJob(job->job_id, job->kind, w->njobs, 0, 0);
		WorkerSetState(WS_RUNNING);
		JobStep(job);
		if (ProcDiePending)
			worker_release_and_exit(w);
	}
	for (i = 0; i < w->njobs; i++)
	{
		job = w->jobs[i];
		if (job->phase == JP_FINISHED)
		{
			if (strcmp(job->outcome, "completed") == 0)
				done++;
			else if (strcmp(job->outcome, "retryable") == 0 || strcmp(job->outcome, "discarded") == 0)
				failed++;
			JobFree(job);
		}
		else
			w->jobs[kept++] = job;
	}
	w->njobs = kept;
	WorkerSetJob(kept > 0 ? w->jobs[0]->job_id : 0, kept > 0 ? w->jobs[0]->kind : NULL,
				 kept, done, failed);
}

/*
 * worker_flush_calls
 *		Write back the llm_calls rows of rolled-back transactions of this
 *		database, at most once a second.
 */
static void
worker_flush_calls(WorkerLoop *w)
{
	RecgenSharedState *shared = RecgenShared();
	TimestampTz now = GetCurrentTimestamp();

	if (shared == NULL || shared->call_ring.count == 0 ||
		!TimestampDifferenceExceeds(w->last_flush, now, 1000))
		return;
	w->last_flush = now;
	WorkerBegin();
	CallLogFlush();
	WorkerCommit();
}

/*
 * worker_wait
 *		Wait, with no transaction open, for the latch or what the jobs wait
 *		for, at most timeout_ms; then mark the jobs whose action ended as
 *		ready. Returns whether the latch was set.
 */
static bool
worker_wait(WorkerLoop *w, long timeout_ms)
{
	bool		latch = JobActionsWait(w->jobs, w->njobs, Max(timeout_ms, 0));
	int			i;

	for (i = 0; i < w->njobs; i++)
	{
		JobRun	   *job = w->jobs[i];

		if ((job->phase == JP_LLM || job->phase == JP_PROCESS) && JobActionEnded(job))
			job->phase = JP_READY;
	}
	return latch;
}

/*
 * ms_until
 *		Milliseconds from now to t (0 when past).
 */
static long
ms_until(TimestampTz t)
{
	TimestampTz now = GetCurrentTimestamp();

	return t <= now ? 0 : (long) ((t - now) / 1000);
}

/*
 * RecgenWorkerMain
 *		Entry point of a worker; see the file header.
 */
void
RecgenWorkerMain(Datum arg)
{
	WorkerLoop *w;
	MemoryContext loop_cxt;
	bool		ready;

	WorkerConnect(arg, WR_WORKER);
	pqsignal(SIGCHLD, SIG_DFL);	/* helper programs are reaped with waitpid */
	WorkerBegin();
	ready = WorkerExtensionReady();
	if (ready)
		JobExecInit();
	WorkerCommit();
	if (!ready)
		proc_exit(0);

	w = MemoryContextAllocZero(TopMemoryContext, sizeof(WorkerLoop));
	w->jobs_cxt = AllocSetContextCreate(TopMemoryContext, "recgen jobs", ALLOCSET_DEFAULT_SIZES);
	loop_cxt = AllocSetContextCreate(TopMemoryContext, "recgen worker loop", ALLOCSET_DEFAULT_SIZES);
	w->want_claim = true;
	w->idle_since = GetCurrentTimestamp();

	for (;;)
	{
		bool		any_ready = false;
		int			i;

		MemoryContextReset(loop_cxt);
		MemoryContextSwitchTo(loop_cxt);
		if (ProcDiePending)
			worker_release_and_exit(w);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (WorkerTakeLeaseCheck())
			worker_heartbeat(w, recgen_job_lease);

		/* no more jobs while LLM requests wait for a place in flight */
		if (w->want_claim && recgen_workers > 0 && HttpPendingCount() == 0)
			worker_claim(w);
		worker_run_ready(w);
		worker_flush_calls(w);

		if (w->njobs > 0 && GetCurrentTimestamp() >= worker_heartbeat_due(w))
			worker_heartbeat(w, recgen_job_lease);

		for (i = 0; i < w->njobs; i++)
			if (w->jobs[i]->phase == JP_READY)
				any_ready = true;
		if (any_ready)
			continue;

		if (w->njobs == 0)
		{
			TimestampTz now = GetCurrentTimestamp();

			if (w->want_claim)
				continue;		/* the last claim was full: there is more */
			WorkerSetState(WS_IDLE);
			if (TimestampDifferenceExceeds(w->idle_since, now, recgen_worker_idle_timeout))
				break;
			if (worker_wait(w, ms_until(TimestampTzPlusMilliseconds(w->idle_since, recgen_worker_idle_timeout))))
				w->want_claim = true;
		}
		else
		{
			WorkerSetState(WS_WAITING);
			if (worker_wait(w, ms_until(worker_heartbeat_due(w))))
				w->want_claim = true;
			w->idle_since = GetCurrentTimestamp();
		}
		if (w->njobs > 0 || w->want_claim)
			w->idle_since = GetCurrentTimestamp();
	}
	WorkerSetState(WS_STOPPING);
	proc_exit(0);
}
