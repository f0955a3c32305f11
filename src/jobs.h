/*-------------------------------------------------------------------------
 *
 * jobs.h
 *		A job as a worker runs it (JobRun), the queue's bookkeeping calls
 *		(job_book.c) and the handler steps (job_exec.c).
 *
 * A job runs in steps. A step is one call of its kind's handler, in its
 * own transaction, as recgen_worker. What the handler returns says what
 * happens next (docs/jobs.md, "Writing a job kind"):
 *	{"result": ...}				the job is done (stored in the same transaction)
 *	{"state": s, "llm": [...]}	send these LLM requests, with no transaction
 *								open, then call again with (s, their results)
 *	{"state": s, "process": {...}}	run a helper program, then call again
 *	{"fail": msg, "retryable": b}	fail this attempt
 *	{"snooze": seconds}			run again later without using an attempt
 * and "progress" beside any of them is shown in recgen.jobs.progress.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/jobs.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_JOBS_H
#define RECGEN_JOBS_H

#include "datatype/timestamp.h"
#include "utils/jsonb.h"

typedef enum JobPhase
{
	JP_READY,					/* its next step can run now */
	JP_LLM,						/* waiting for LLM answers */
	JP_PROCESS,					/* waiting for a helper program */
	JP_FINISHED					/* done, failed, snoozed, lost: forget it */
} JobPhase;

struct JobAction;

/* what the worker concluded from an action's outcome, before the next step */
typedef enum JobVerdict
{
	JV_NONE,					/* pass the results to the handler */
	JV_SNOOZE,					/* a 429 or a rate limit: run again later */
	JV_FAIL						/* no answer, a timeout, a 5xx: a retryable failure */
} JobVerdict;

typedef struct JobRun
{
	int64		job_id;
	int			attempt;
	char		kind[64];
	Oid			handler;		/* InvalidOid when the function is missing */
	int64		timeout_ms;		/* of one attempt */
	TimestampTz started;		/* when this worker claimed it */
	MemoryContext cxt;			/* all of this job's memory */
	Datum		row;			/* the recgen.jobs row (composite) */
	Jsonb	   *state;			/* handler's state between steps */
	Jsonb	   *results;		/* results of the last action */
	Jsonb	   *progress;		/* to store with the next heartbeat */
	bool		progress_new;	/* changed since it was last stored */
	JobPhase	phase;
	int			steps;
	uint32		pass;			/* the worker loop's pass that last ran it */
	char		outcome[16];	/* the last step's end: completed, retryable,
								 * discarded, snoozed, lost */
	struct JobAction *action;	/* while JP_LLM or JP_PROCESS */
	char	   *model;			/* recgen.jobs.model: set for each step */
	JobVerdict	verdict;
	int64		verdict_delay_ms;
	char	   *verdict_error;
} JobRun;

/* job_book.c: the queue's bookkeeping, each inside the caller's transaction */
#include "executor/spi.h"
extern SPIPlanPtr JobKeptPlan(SPIPlanPtr *cache, const char *sql, int nargs, const Oid *types);
extern int	JobBookClaim(JobRun **jobs, int max, MemoryContext parent);
extern bool JobBookComplete(JobRun *job, Jsonb *result);
extern char *JobBookFail(JobRun *job, const char *error, const char *sqlstate, bool retryable);
extern bool JobBookSnooze(JobRun *job, int64 delay_ms, const char *reason);
extern int	JobBookHeartbeat(JobRun **jobs, int n, bool *held, int64 lease_ms);
extern int	JobBookRelease(JobRun **jobs, int n);
extern int	JobBookRescue(void);
extern int	JobBookPromote(void);
extern void JobBookOverview(int *available, int *running, TimestampTz *next_due);
extern int	JobBookPrune(void);

/* job_exec.c: steps, and failures recorded in their own transaction */
extern void JobExecInit(void);
extern void JobStep(JobRun *job);
extern void JobFailAlone(JobRun *job, const char *error, const char *sqlstate, bool retryable);
extern void JobSnoozeAlone(JobRun *job, int64 delay_ms, const char *reason);
extern bool JobSqlstateRetryable(int sqlerrcode);
extern void JobFree(JobRun *job);

#endif							/* RECGEN_JOBS_H */
