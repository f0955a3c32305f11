/*-------------------------------------------------------------------------
 *
 * job_actions.c
 *		What a job waits for between two of its steps, as the handler asked:
 *		LLM requests ("llm"), plain HTTP requests ("http", webhooks) or a
 *		helper program ("process"), and how the worker's loop waits for all
 *		of its jobs' actions at once.
 *
 * Actions start inside the step's transaction (their requests are built
 * from the handler's answer while recgen.llm_model holds the job's pinned
 * model) and run after it committed, with no transaction or snapshot open:
 * the HTTP requests of every job of the worker share one curl multi handle
 * (http.c), in flight at most recgen.llm_concurrency at once; programs are
 * watched through their pipes. The worker waits on its latch, the sockets
 * and the pipes together (JobActionsWait), so SIGTERM and postmaster death
 * are seen at once.
 *
 * LLM answers: before the handler sees them the worker judges the batch.
 * A 429 or a spent rate limit (recgen.llm_rpm/tpm, more than
 * RATE_WAIT_MAX_MS away) snoozes the job for the Retry-After (or the rate's
 * wait); no answer, a timeout or a 5xx after recgen.llm_max_retries fails
 * the attempt as retryable. Other answers (2xx, 4xx, unusable bodies) go to
 * the handler with the llm_calls rows written in its step's transaction.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/job_actions.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/memutils.h"

#include "http.h"
#include "job_actions.h"
#include "job_values.h"
#include "job_http.h"
#include "job_process.h"
#include "llm.h"
#include "settings.h"
#include "worker.h"

/* a local rate limit further away than this snoozes the job instead */
#define RATE_WAIT_MAX_MS 5000

typedef enum ActionType
{
	ACT_LLM,
	ACT_HTTP,
	ACT_PROCESS
} ActionType;

typedef struct JobAction
{
	ActionType	type;
	LlmBatch   *llm;			/* ACT_LLM */
	HttpRequest *http;			/* ACT_HTTP */
	int			nhttp;
	JobProcess *proc;			/* ACT_PROCESS */
} JobAction;

/*
 * action_requests
 *		The HTTP requests of an action (none for a program).
 */
static HttpRequest *
action_requests(JobAction *a, int *n)
{
	if (a->type == ACT_LLM)
	{
		*n = a->llm->n;
		return a->llm->reqs;
	}
	if (a->type == ACT_HTTP)
	{
		*n = a->nhttp;
		return a->http;
	}
	*n = 0;
	return NULL;
}

/*
 * JobActionStart
 *		Start what the handler's answer asks for (llm, http or process) and
 *		set the job's phase. Runs inside the step's transaction; the
 *		action's memory is the job's.
 */
void
JobActionStart(JobRun *job, Jsonb *answer)
{
	MemoryContext old = MemoryContextSwitchTo(job->cxt);
	JobAction  *a = palloc0(sizeof(JobAction));
	Jsonb	   *spec;
	HttpRequest *reqs;
	int			n;
	int			i;

	if ((spec = JobJsonbField(answer, "llm")) != NULL)
	{
		a->type = ACT_LLM;
		a->llm = LlmBatchPrepare(JsonbToCString(NULL, &spec->root, VARSIZE(spec)));
		for (i = 0; i < a->llm->n; i++)
		{
			a->llm->reqs[i].no_retry_429 = true;
			a->llm->reqs[i].rate_wait_max_ms = RATE_WAIT_MAX_MS;
		}
	}
	else if ((spec = JobJsonbField(answer, "http")) != NULL)
	{
		a->type = ACT_HTTP;
		a->http = JobHttpPrepare(spec, &a->nhttp);
	}
	else
	{
		a->type = ACT_PROCESS;
		a->proc = JobProcessStart(JobJsonbField(answer, "process"), JobRemainingMs(job));
	}
	reqs = action_requests(a, &n);
	for (i = 0; i < n; i++)
		HttpStart(&reqs[i]);
	job->action = a;
	job->phase = a->type == ACT_PROCESS ? JP_PROCESS : JP_LLM;
	MemoryContextSwitchTo(old);
}

/*
 * JobActionEnded
 *		Whether the job's action has ended (its requests all have their
 *		outcome, its program exited); then the job is ready for its next
 *		step.
 */
bool
JobActionEnded(JobRun *job)
{
	JobAction  *a = job->action;
	HttpRequest *reqs;
	int			n;
	int			i;

	if (a == NULL)
		return true;
	if (a->type == ACT_PROCESS)
	{
		Jsonb	   *progress;
		bool		ended;
		MemoryContext old = MemoryContextSwitchTo(job->cxt);

		ended = JobProcessPoll(a->proc);
		progress = JobProcessProgress(a->proc);
		if (progress)
		{
			job->progress = progress;
			job->progress_new = true;
		}
		MemoryContextSwitchTo(old);
		return ended;
	}
	reqs = action_requests(a, &n);
	for (i = 0; i < n; i++)
		if (!HttpRequestDone(&reqs[i]))
			return false;
	return true;
}

/*
 * judge_llm
 *		The worker's verdict on a finished LLM batch (see the file header).
 */
static void
judge_llm(JobRun *job, LlmBatch *b)
{
	int			i;

	job->verdict = JV_NONE;
	for (i = 0; i < b->n; i++)
	{
		HttpRequest *req = &b->reqs[i];

		if (req->outcome == HTTP_RATE_LIMITED || req->status == 429)
		{
			int64		delay = req->retry_after_ms >= 0 ? req->retry_after_ms : recgen_job_backoff_base;

			job->verdict = JV_SNOOZE;
			job->verdict_delay_ms = Max(job->verdict_delay_ms, delay);
			job->verdict_error = MemoryContextStrdup(job->cxt, req->outcome == HTTP_RATE_LIMITED
													 ? "rate limit of the LLM endpoints"
													 : "HTTP 429 from the LLM server");
			return;
		}
	}
	for (i = 0; i < b->n; i++)
	{
		HttpRequest *req = &b->reqs[i];

		if (req->outcome == HTTP_TRANSPORT_ERROR || req->outcome == HTTP_TIMEOUT ||
			(req->outcome == HTTP_STATUS_ERROR && req->status >= 500))
		{
			job->verdict = JV_FAIL;
			job->verdict_error = MemoryContextStrdup(job->cxt,
													 psprintf("LLM request failed: %s (HTTP status %ld, %d attempt(s))",
															  req->error ? req->error : "no answer",
															  req->status, req->attempts));
			return;
		}
	}
}

/*
 * JobActionResults
 *		The results of the action that ended, for the next step, or NULL on
 *		a first step. Runs inside the step's transaction: an LLM batch's
 *		calls are logged there, and the worker's verdict on it is set.
 */
Jsonb *
JobActionResults(JobRun *job)
{
	JobAction  *a = job->action;
	Jsonb	   *results = NULL;

	job->verdict = JV_NONE;
	if (a == NULL)
		return NULL;
	switch (a->type)
	{
		case ACT_LLM:
			LlmBatchFinish(a->llm);
			judge_llm(job, a->llm);
			results = LlmBatchResults(a->llm);
			break;
		case ACT_HTTP:
			results = JobHttpResults(a->http, a->nhttp);
			break;
		case ACT_PROCESS:
			results = JobProcessResults(a->proc);
			break;
	}
	job->action = NULL;
	return results;
}

/*
 * JobActionLogCalls
 *		In a failure's own transaction: write the llm_calls rows of an LLM
 *		batch that ended but was never judged.
 */
void
JobActionLogCalls(JobRun *job)
{
	JobAction  *a = job->action;

	if (a && a->type == ACT_LLM && JobActionEnded(job))
		LlmBatchFinish(a->llm);
}

/*
 * JobActionAbort
 *		Stop whatever the job still has in flight: requests are cancelled
 *		(rows of the LLM requests that were sent go to call_log's ring), a
 *		program is stopped. Safe on any job.
 */
void
JobActionAbort(JobRun *job)
{
	JobAction  *a = job->action;
	HttpRequest *reqs;
	int			n;
	int			i;

	if (a == NULL)
		return;
	reqs = action_requests(a, &n);
	for (i = 0; i < n; i++)
		HttpCancel(&reqs[i]);
	if (a->type == ACT_LLM)
		LlmBatchInterrupted(a->llm);
	if (a->type == ACT_PROCESS)
		JobProcessStop(a->proc);
	job->action = NULL;
}

/*
 * JobActionsWait
 *		Wait, with no transaction open, at most timeout_ms for the latch,
 *		the HTTP sockets of every job and the pipes of their programs; then
 *		let curl act and start what may start. Returns whether the latch was
 *		set.
 */
bool
JobActionsWait(JobRun **jobs, int njobs, long timeout_ms)
{
	WaitEventSet *set;
	WaitEvent	events[64];
	int			nevents = 2 + HttpWaitEventCount();
	long		http_ms = HttpWaitMs();
	bool		latch = false;
	int			n;
	int			i;

	for (i = 0; i < njobs; i++)
		if (jobs[i]->action && jobs[i]->action->type == ACT_PROCESS)
		{
			nevents += 2;
			timeout_ms = Min(timeout_ms, 1000);		/* its exit and deadline */
		}
	if (http_ms >= 0)
		timeout_ms = Min(timeout_ms, http_ms);
	set = CreateWaitEventSet(CurrentMemoryContext, nevents);
	AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	HttpAddWaitEvents(set);
	for (i = 0; i < njobs; i++)
		if (jobs[i]->action && jobs[i]->action->type == ACT_PROCESS)
			JobProcessAddWaitEvents(jobs[i]->action->proc, set);
	n = WaitEventSetWait(set, Max(timeout_ms, 0), events, lengthof(events), PG_WAIT_EXTENSION);
	FreeWaitEventSet(set);
	for (i = 0; i < n; i++)
	{
		if (events[i].events & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			latch = true;
		}
		else if (events[i].user_data == NULL &&
				 (events[i].events & (WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE)))
			HttpSocketReady(events[i].fd, events[i].events);
		/* a program's pipe: JobActionEnded reads it */
	}
	HttpPoll(recgen_llm_concurrency);
	return latch;
}
