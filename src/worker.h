/*-------------------------------------------------------------------------
 *
 * worker.h
 *		The background-worker subsystem: the launcher, the per-database
 *		schedulers and the workers that run recgen.jobs, their settings and
 *		their own shared memory.
 *
 * Processes (docs/jobs.md):
 *	- the launcher ("recgen launcher"), a static background worker started
 *	  by the postmaster, connected to no database: it lists the databases,
 *	  and starts a scheduler and workers for each database that has work;
 *	- a scheduler per database ("recgen scheduler"), a dynamic worker that
 *	  promotes due jobs, rescues jobs whose lease expired, prunes old jobs,
 *	  sends the throttled NOTIFY summaries and tells the launcher how much
 *	  work is waiting; it exits when its database has nothing to do;
 *	- workers ("recgen worker"), dynamic, recgen.workers in total, each
 *	  bound to one database: they claim jobs and run their handlers.
 *
 * The shared struct (WorkerShared) holds one slot per process and one
 * entry per database. Its lock is taken briefly; nothing under it
 * allocates or can fail.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/worker.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_WORKER_H
#define RECGEN_WORKER_H

#include "datatype/timestamp.h"
#include "storage/lwlock.h"

/* slots for the launcher, the schedulers and the workers */
#define RECGEN_WORKER_SLOTS 64
/* databases the launcher keeps track of */
#define RECGEN_WORKER_DATABASES 128

typedef enum WorkerRole
{
	WR_NONE = 0,
	WR_LAUNCHER,
	WR_SCHEDULER,
	WR_WORKER
} WorkerRole;

typedef enum WorkerState
{
	WS_STARTING = 0,
	WS_IDLE,					/* nothing to do, waiting for a wake-up */
	WS_CLAIMING,				/* in a claim transaction */
	WS_RUNNING,					/* running a handler step (SQL) */
	WS_WAITING,					/* waiting on LLM answers or a process */
	WS_MAINTAINING,				/* scheduler: rescue, promote, prune */
	WS_STOPPING
} WorkerState;

typedef struct WorkerSlot
{
	WorkerRole	role;			/* WR_NONE: free */
	int			pid;			/* 0 until the process attached */
	int			pgprocno;		/* for its latch; -1 until attached */
	Oid			dboid;			/* InvalidOid for the launcher */
	WorkerState state;
	int64		job_id;			/* a job it runs now (0: none) */
	int			active_jobs;
	char		kind[64];		/* kind of job_id */
	uint64		jobs_done;
	uint64		jobs_failed;
	TimestampTz started_at;
	TimestampTz heartbeat_at;	/* last pass through its main loop */
	TimestampTz last_error_at;
	char		last_error[256];
	bool		check_leases;	/* cancel_job hit one of its jobs */
} WorkerSlot;

typedef struct WorkerDatabase
{
	Oid			dboid;			/* InvalidOid: free entry */
	char		name[NAMEDATALEN];
	int			pending;		/* runnable jobs, as last counted or woken */
	bool		has_scheduler;
	int			nworkers;		/* workers started or running */
	TimestampTz next_check;		/* start a scheduler to look at it by then */
	TimestampTz blocked_until;	/* being dropped or renamed: keep away */
	TimestampTz restart_after;	/* backoff after workers that failed */
	int			failures;		/* consecutive failed starts */
	/* throttling of NOTIFY recgen_jobs */
	TimestampTz notify_window;	/* start of the current window */
	int			notify_sent;	/* single notifications sent in it */
	uint32		suppressed[3];	/* completed, cancelled, discarded not sent */
} WorkerDatabase;

typedef struct WorkerShared
{
	LWLock	   *lock;
	int			launcher_pgprocno;	/* -1 when no launcher runs */
	int			launcher_pid;
	WorkerSlot	slots[RECGEN_WORKER_SLOTS];
	WorkerDatabase dbs[RECGEN_WORKER_DATABASES];
} WorkerShared;

/* settings (worker_guc.c) */
extern int	recgen_workers;
extern char *recgen_databases;
extern int	recgen_launcher_naptime;
extern int	recgen_worker_idle_timeout;
extern int	recgen_worker_jobs;
extern int	recgen_job_lease;
extern int	recgen_job_backoff_base;
extern int	recgen_job_backoff_max;
extern int	recgen_job_retention;
extern int	recgen_job_retention_failed;
extern int	recgen_notify_rate;

extern void RecgenDefineWorkerGucs(void);
extern bool WorkerDatabaseAllowed(const char *dbname);

/* worker_shmem.c */
extern void WorkerInstallShmemHooks(void);
extern WorkerShared *WorkerShmem(void);
extern void WorkerSetLatch(int pgprocno);
extern WorkerDatabase *WorkerFindDatabase(Oid dboid, bool create);
extern void WorkerWakeDatabase(Oid dboid, int njobs);
extern void WorkerWakeAtCommit(int njobs);
extern void WorkerCancelAtCommit(int pid);
extern void WorkerInstallXactHooks(void);
extern int	WorkerSlotAttach(int slotno, WorkerRole role);
extern WorkerSlot *WorkerMySlot(void);
extern void WorkerSetState(WorkerState state);
extern void WorkerSetError(const char *message);
extern void WorkerSetPending(int pending);
extern void WorkerSetJob(int64 job_id, const char *kind, int active, int done, int failed);
extern bool WorkerTakeLeaseCheck(void);
extern int	WorkerLivePids(Oid dboid, int *pids, int max);
extern int	WorkerEvictDatabase(Oid dboid, int block_ms);
extern void WorkerUnblockDatabase(Oid dboid);
extern const char *WorkerStateName(WorkerState state);
extern const char *WorkerRoleName(WorkerRole role);

/* worker_launcher.c */
extern void WorkerRegisterLauncher(void);
extern PGDLLEXPORT void RecgenLauncherMain(Datum arg);

/* worker_scheduler.c */
extern PGDLLEXPORT void RecgenSchedulerMain(Datum arg);

/* worker_main.c */
extern PGDLLEXPORT void RecgenWorkerMain(Datum arg);

/* worker_common.c: what the scheduler and the workers share */
extern void WorkerConnect(Datum arg, WorkerRole role);
extern void WorkerBegin(void);
extern void WorkerCommit(void);
extern bool WorkerExtensionReady(void);
extern void WorkerNotifyFinal(int64 job_id, const char *kind, const char *state);
extern void WorkerNotifyFlush(void);

/* worker_hooks.c */
extern void WorkerInstallUtilityHook(void);

#endif							/* RECGEN_WORKER_H */
