/*-------------------------------------------------------------------------
 *
 * worker_shmem.c
 *		The worker subsystem's shared memory (WorkerShared, worker.h): its
 *		size request and start-up, the process slots, the database entries,
 *		and the wake-ups that run work when an enqueuing transaction
 *		commits.
 *
 * Own struct, own request and startup hooks (as pg_stat_statements does),
 * chained to whatever was there before. Without shared_preload_libraries
 * there is no struct: WorkerShmem() returns NULL and every function here
 * does nothing, so enqueue() still works (the jobs wait for a server that
 * preloads recgen).
 *
 * Wake-ups: enqueue() and retry_job() count what they queued in a
 * backend-local counter; a transaction callback turns it into a wake-up at
 * COMMIT (the launcher's latch and those of the database's workers) and
 * forgets it at ABORT, so a rolled-back enqueue wakes nothing. The callback
 * runs after the commit is visible to others (after ProcArrayEndTransaction),
 * so a woken worker finds the job. cancel_job() does the same for the
 * worker running a cancelled job.
 *
 * Locking: one LWLock for the whole struct, held for a few loads and
 * stores; nothing under it allocates, fails or waits.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/worker_shmem.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "worker.h"

static WorkerShared *worker_shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* this process's slot, when it is a launcher, scheduler or worker */
static int	my_slot = -1;

/* what this transaction queued and cancelled, acted on at commit */
static int	wake_pending = 0;
#define MAX_CANCEL_PIDS 32
static int	cancel_pids[MAX_CANCEL_PIDS];
static int	ncancel_pids = 0;
static bool cancel_all = false;

/*
 * worker_shmem_request
 *		Ask the postmaster for our struct and its lock.
 */
static void
worker_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(WorkerShared)));
	RequestNamedLWLockTranche("recgen_worker", 1);
}

/*
 * worker_shmem_startup
 *		Create (postmaster) or attach to the struct.
 */
static void
worker_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	worker_shared = ShmemInitStruct("recgen_worker", sizeof(WorkerShared), &found);
	if (!found)
	{
		int			i;

		memset(worker_shared, 0, sizeof(WorkerShared));
		worker_shared->lock = &(GetNamedLWLockTranche("recgen_worker"))->lock;
		worker_shared->launcher_pgprocno = -1;
		for (i = 0; i < RECGEN_WORKER_SLOTS; i++)
			worker_shared->slots[i].pgprocno = -1;
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * WorkerInstallShmemHooks
 *		Called from _PG_init while shared_preload_libraries is processed.
 */
void
WorkerInstallShmemHooks(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = worker_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = worker_shmem_startup;
}

/*
 * WorkerShmem
 *		The shared struct, or NULL when recgen was not preloaded.
 */
WorkerShared *
WorkerShmem(void)
{
	return worker_shared;
}

/*
 * WorkerSetLatch
 *		Set the latch of the process with this pgprocno (-1: nobody).
 */
void
WorkerSetLatch(int pgprocno)
{
	if (pgprocno >= 0 && pgprocno < (int) ProcGlobal->allProcCount)
		SetLatch(&ProcGlobal->allProcs[pgprocno].procLatch);
}

/*
 * WorkerFindDatabase
 *		The entry of a database, creating it when asked (and there is
 *		room). The caller holds the lock, exclusively when create is set.
 */
WorkerDatabase *
WorkerFindDatabase(Oid dboid, bool create)
{
	WorkerDatabase *free_entry = NULL;
	int			i;

	for (i = 0; i < RECGEN_WORKER_DATABASES; i++)
	{
		WorkerDatabase *db = &worker_shared->dbs[i];

		if (db->dboid == dboid)
			return db;
		if (db->dboid == InvalidOid && free_entry == NULL)
			free_entry = db;
	}
	if (!create || free_entry == NULL)
		return NULL;
	memset(free_entry, 0, sizeof(WorkerDatabase));
	free_entry->dboid = dboid;
	return free_entry;
}

/*
 * WorkerWakeDatabase
 *		njobs jobs became runnable in a database: record it and set the
 *		latches of the launcher and of the database's processes. Never
 *		fails (it runs in a commit callback).
 */
void
WorkerWakeDatabase(Oid dboid, int njobs)
{
	WorkerDatabase *db;
	int			latches[RECGEN_WORKER_SLOTS + 1];
	int			n = 0;
	int			i;

	if (worker_shared == NULL)
		return;
	LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
	db = WorkerFindDatabase(dboid, true);
	if (db)
	{
		db->pending = (int) Min((int64) db->pending + njobs, 1000000);
		db->next_check = 0;
	}
	latches[n++] = worker_shared->launcher_pgprocno;
	for (i = 0; i < RECGEN_WORKER_SLOTS; i++)
	{
		WorkerSlot *s = &worker_shared->slots[i];

		if (s->role != WR_NONE && s->role != WR_LAUNCHER && s->dboid == dboid && s->pid != MyProcPid)
			latches[n++] = s->pgprocno;
	}
	LWLockRelease(worker_shared->lock);
	for (i = 0; i < n; i++)
		WorkerSetLatch(latches[i]);
}

/*
 * WorkerWakeAtCommit
 *		Count jobs queued by this transaction; they wake the workers when it
 *		commits.
 */
void
WorkerWakeAtCommit(int njobs)
{
	wake_pending += njobs;
}

/*
 * WorkerCancelAtCommit
 *		A job run by the worker with this pid was cancelled: at commit, tell
 *		it to check its leases at once.
 */
void
WorkerCancelAtCommit(int pid)
{
	if (ncancel_pids < MAX_CANCEL_PIDS)
		cancel_pids[ncancel_pids++] = pid;
	else
		cancel_all = true;
}

/*
 * worker_tell_cancelled
 *		At commit: flag the workers whose jobs were cancelled.
 */
static void
worker_tell_cancelled(void)
{
	int			latches[RECGEN_WORKER_SLOTS];
	int			n = 0;
	int			i,
				j;

	LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < RECGEN_WORKER_SLOTS; i++)
	{
		WorkerSlot *s = &worker_shared->slots[i];

		if (s->role != WR_WORKER || s->dboid != MyDatabaseId)
			continue;
		for (j = 0; j < ncancel_pids; j++)
			if (cancel_all || s->pid == cancel_pids[j])
			{
				s->check_leases = true;
				latches[n++] = s->pgprocno;
				break;
			}
	}
	LWLockRelease(worker_shared->lock);
	for (i = 0; i < n; i++)
		WorkerSetLatch(latches[i]);
}

/*
 * worker_xact_callback
 *		Turn what the transaction queued into wake-ups when it commits.
 */
static void
worker_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (worker_shared)
			{
				if (wake_pending > 0)
					WorkerWakeDatabase(MyDatabaseId, wake_pending);
				if (ncancel_pids > 0 || cancel_all)
					worker_tell_cancelled();
			}
			wake_pending = 0;
			ncancel_pids = 0;
			cancel_all = false;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			/* a prepared transaction's jobs are found by the fallback */
			wake_pending = 0;
			ncancel_pids = 0;
			cancel_all = false;
			break;
		default:
			break;
	}
}

/*
 * WorkerInstallXactHooks
 *		Called from _PG_init in every backend.
 */
void
WorkerInstallXactHooks(void)
{
	RegisterXactCallback(worker_xact_callback, NULL);
}

/*
 * worker_slot_detach
 *		on_shmem_exit callback: give the slot back, and tell the launcher.
 *		A scheduler or worker that exits with an error delays the next
 *		start in its database (1 s, doubling up to 5 min).
 */
static void
worker_slot_detach(int code, Datum arg)
{
	int			launcher;

	if (worker_shared == NULL || my_slot < 0)
		return;
	LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
	{
		WorkerSlot *s = &worker_shared->slots[my_slot];
		WorkerDatabase *db = s->role == WR_LAUNCHER ? NULL : WorkerFindDatabase(s->dboid, false);

		if (db && s->role == WR_SCHEDULER)
			db->has_scheduler = false;
		else if (db && s->role == WR_WORKER && db->nworkers > 0)
			db->nworkers--;
		/* a process that failed is started again after a growing pause */
		if (db && code != 0)
		{
			db->failures++;
			db->restart_after = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
															Min(1000L << Min(db->failures, 9), 300000L));
		}
		else if (db)
			db->failures = 0;
		if (s->role == WR_LAUNCHER)
		{
			worker_shared->launcher_pgprocno = -1;
			worker_shared->launcher_pid = 0;
		}
		memset(s, 0, sizeof(WorkerSlot));
		s->pgprocno = -1;
	}
	launcher = worker_shared->launcher_pgprocno;
	LWLockRelease(worker_shared->lock);
	my_slot = -1;
	WorkerSetLatch(launcher);
}

/*
 * WorkerSlotAttach
 *		Take slot slotno (reserved by the launcher for a scheduler or
 *		worker; any free one for the launcher itself, slotno -1) for this
 *		process. Returns the slot number, -1 when none could be had.
 */
int
WorkerSlotAttach(int slotno, WorkerRole role)
{
	int			i;

	if (worker_shared == NULL)
		return -1;
	LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
	if (slotno < 0)
	{
		for (i = 0; i < RECGEN_WORKER_SLOTS; i++)
			if (worker_shared->slots[i].role == WR_NONE)
			{
				slotno = i;
				worker_shared->slots[i].role = role;
				break;
			}
	}
	if (slotno < 0 || slotno >= RECGEN_WORKER_SLOTS ||
		worker_shared->slots[slotno].role != role ||
		worker_shared->slots[slotno].pid != 0)
	{
		LWLockRelease(worker_shared->lock);
		return -1;
	}
	{
		WorkerSlot *s = &worker_shared->slots[slotno];

		s->pid = MyProcPid;
		s->pgprocno = MyProc->pgprocno;
		s->state = WS_STARTING;
		s->started_at = GetCurrentTimestamp();
		s->heartbeat_at = s->started_at;
		if (role == WR_LAUNCHER)
		{
			worker_shared->launcher_pgprocno = MyProc->pgprocno;
			worker_shared->launcher_pid = MyProcPid;
		}
	}
	LWLockRelease(worker_shared->lock);
	my_slot = slotno;
	on_shmem_exit(worker_slot_detach, (Datum) 0);
	return slotno;
}

/*
 * WorkerMySlot
 *		This process's slot, or NULL.
 */
WorkerSlot *
WorkerMySlot(void)
{
	if (worker_shared == NULL || my_slot < 0)
		return NULL;
	return &worker_shared->slots[my_slot];
}

/*
 * WorkerSetState
 *		Publish what this process does now (worker_status reads it). Single
 *		aligned stores; readers take the lock.
 */
void
WorkerSetState(WorkerState state)
{
	WorkerSlot *s = WorkerMySlot();

	if (s == NULL)
		return;
	LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
	s->state = state;
	s->heartbeat_at = GetCurrentTimestamp();
	LWLockRelease(worker_shared->lock);
}

/*
 * WorkerSetError
 *		Remember the last error of this process.
 */
void
WorkerSetError(const char *message)
{
	WorkerSlot *s = WorkerMySlot();

	if (s == NULL)
		return;
	LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
	strlcpy(s->last_error, message ? message : "", sizeof(s->last_error));
	s->last_error_at = GetCurrentTimestamp();
	LWLockRelease(worker_shared->lock);
}

/*
 * WorkerSetPending
 *		Record how many jobs are runnable in this process's database (a
 *		worker that found none says 0; the scheduler counts them).
 */
void
WorkerSetPending(int pending)
{
	WorkerDatabase *db;

	if (worker_shared == NULL)
		return;
	LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
	db = WorkerFindDatabase(MyDatabaseId, true);
	if (db)
		db->pending = pending;
	LWLockRelease(worker_shared->lock);
}

/*
 * WorkerSetJob
 *		Publish the job this worker runs now (0: none) and its counters.
 */
void
WorkerSetJob(int64 job_id, const char *kind, int active, int done, int failed)
{
	WorkerSlot *s = WorkerMySlot();

	if (s == NULL)
		return;
	LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
	s->job_id = job_id;
	strlcpy(s->kind, kind ? kind : "", sizeof(s->kind));
	s->active_jobs = active;
	s->jobs_done += done;
	s->jobs_failed += failed;
	LWLockRelease(worker_shared->lock);
}

/*
 * WorkerTakeLeaseCheck
 *		Whether cancel_job asked this worker to check its leases (and clear
 *		the request).
 */
bool
WorkerTakeLeaseCheck(void)
{
	WorkerSlot *s = WorkerMySlot();
	bool		check;

	if (s == NULL || !s->check_leases)
		return false;
	LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
	check = s->check_leases;
	s->check_leases = false;
	LWLockRelease(worker_shared->lock);
	return check;
}

/*
 * WorkerLivePids
 *		Pids of the workers of a database that are alive now, for the
 *		rescuer: a running job leased by another pid lost its worker.
 */
int
WorkerLivePids(Oid dboid, int *pids, int max)
{
	int			n = 0;
	int			i;

	if (worker_shared == NULL)
		return 0;
	LWLockAcquire(worker_shared->lock, LW_SHARED);
	for (i = 0; i < RECGEN_WORKER_SLOTS && n < max; i++)
	{
		WorkerSlot *s = &worker_shared->slots[i];

		if (s->role == WR_WORKER && s->dboid == dboid && s->pid != 0)
			pids[n++] = s->pid;
	}
	LWLockRelease(worker_shared->lock);
	return n;
}

/*
 * WorkerEvictDatabase
 *		Keep recgen's processes away from a database for block_ms and ask
 *		those connected to it to exit (SIGTERM: a worker gives its jobs back
 *		first). Waits until they are gone, up to 5 seconds. Returns how many
 *		were still there at the end.
 */
int
WorkerEvictDatabase(Oid dboid, int block_ms)
{
	int			waited;
	int			left = 0;

	if (worker_shared == NULL)
		return 0;
	for (waited = 0; waited <= 5000; waited += 10)
	{
		int			pids[RECGEN_WORKER_SLOTS];
		int			n = 0;
		int			i;
		WorkerDatabase *db;

		LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
		db = WorkerFindDatabase(dboid, true);
		if (db)
			db->blocked_until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), block_ms);
		for (i = 0; i < RECGEN_WORKER_SLOTS; i++)
		{
			WorkerSlot *s = &worker_shared->slots[i];

			if (s->role != WR_NONE && s->role != WR_LAUNCHER && s->dboid == dboid && s->pid != 0)
				pids[n++] = s->pid;
		}
		LWLockRelease(worker_shared->lock);
		left = n;
		if (n == 0)
			break;
		if (waited % 500 == 0)
			for (i = 0; i < n; i++)
				kill(pids[i], SIGTERM);
		pg_usleep(10000L);
		CHECK_FOR_INTERRUPTS();
	}
	return left;
}

/*
 * WorkerUnblockDatabase
 *		The statement that evicted the workers ended: the database may be
 *		served again (if it still exists).
 */
void
WorkerUnblockDatabase(Oid dboid)
{
	WorkerDatabase *db;

	if (worker_shared == NULL)
		return;
	LWLockAcquire(worker_shared->lock, LW_EXCLUSIVE);
	db = WorkerFindDatabase(dboid, false);
	if (db)
	{
		/* long enough for the launcher to notice a dropped database first */
		db->blocked_until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), 1500);
		db->next_check = 0;
	}
	LWLockRelease(worker_shared->lock);
}

/*
 * WorkerStateName, WorkerRoleName
 *		The words worker_status shows.
 */
const char *
WorkerStateName(WorkerState state)
{
	switch (state)
	{
		case WS_STARTING:
			return "starting";
		case WS_IDLE:
			return "idle";
		case WS_CLAIMING:
			return "claiming";
		case WS_RUNNING:
			return "running";
		case WS_WAITING:
			return "waiting";
		case WS_MAINTAINING:
			return "maintaining";
		case WS_STOPPING:
			return "stopping";
	}
	return "unknown";
}

const char *
WorkerRoleName(WorkerRole role)
{
	switch (role)
	{
		case WR_LAUNCHER:
			return "launcher";
		case WR_SCHEDULER:
			return "scheduler";
		case WR_WORKER:
			return "worker";
		case WR_NONE:
			break;
	}
	return "none";
}
