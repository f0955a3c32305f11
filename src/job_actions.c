/*-------------------------------------------------------------------------
 *
 * job_actions.c
 *		The actions a handler may ask for between two steps.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/job_actions.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "job_actions.h"

/*
 * JobActionStart
 *		Start what the handler's answer asks for, and set the job's phase.
 */
void
JobActionStart(JobRun *job, Jsonb *answer)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("job kind \"%s\" asked for an action this version of the workers does not run", job->kind)));
}

/*
 * JobActionResults
 *		The results of the action that ended, for the next step (NULL on
 *		the first step). Runs inside the step's transaction.
 */
Jsonb *
JobActionResults(JobRun *job)
{
	Jsonb	   *results = job->results;

	job->results = NULL;
	return results;
}

/*
 * JobActionLogCalls
 *		Write what the ended action must leave behind (LLM calls) in a
 *		failure's own transaction.
 */
void
JobActionLogCalls(JobRun *job)
{
}

/*
 * JobActionAbort
 *		Stop whatever the job still has in flight.
 */
void
JobActionAbort(JobRun *job)
{
}
