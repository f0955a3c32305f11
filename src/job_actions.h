/*-------------------------------------------------------------------------
 *
 * job_actions.h
 *		What a job waits for between two steps: LLM requests (job_llm.c) or
 *		a helper program (job_process.c), and how the worker's loop waits
 *		for them with its latch.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/job_actions.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_JOB_ACTIONS_H
#define RECGEN_JOB_ACTIONS_H

#include "jobs.h"

/* job_actions.c */
extern void JobActionStart(JobRun *job, Jsonb *answer);
extern Jsonb *JobActionResults(JobRun *job);
extern void JobActionLogCalls(JobRun *job);
extern void JobActionAbort(JobRun *job);
extern bool JobActionEnded(JobRun *job);
extern bool JobActionsWait(JobRun **jobs, int njobs, long timeout_ms);

#endif							/* RECGEN_JOB_ACTIONS_H */
