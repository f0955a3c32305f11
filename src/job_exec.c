/*-------------------------------------------------------------------------
 *
 * job_exec.c
 *		One step of a job: its handler called in its own transaction as
 *		recgen_worker, and what the handler returned turned into the job's
 *		next phase (jobs.h lists the answers a handler may give).
 *
 * Transactions: a step starts a transaction, bounds itself by what is left
 * of the kind's timeout (statement_timeout), calls the handler and commits.
 * (Before a step that may outlast a lease, the worker's loop extends the
 * leases of all the jobs it holds; see worker_main.c.) A final step stores the job's state change in the same
 * transaction as whatever the handler stored, and checks that this worker
 * still holds the lease; when it does not (the job was rescued or
 * cancelled meanwhile) the whole transaction rolls back, so a job that runs
 * twice stores once.
 *
 * Errors: a handler that raises rolls its step back; the failure is then
 * recorded in a transaction of its own (JobFailAlone), so the attempt
 * counts. Errors a retry cannot fix (bad input, missing consent, unknown
 * customer: SQLSTATE classes 02, 0A, 22, 23, 28, 2B, 42, 44, P0) discard the
 * job at once; the others (connection, timeout, lock, serialization,
 * resources, internal) retry with backoff.
 *
 * The handler is called through fmgr (no SQL parsing per step); its
 * FmgrInfo is kept per function for the life of the worker. EXECUTE on
 * it is checked for recgen_worker, as a SQL call would.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/job_exec.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_proc.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "job_actions.h"
#include "job_values.h"
#include "jobs.h"
#include "worker.h"

/* what a handler asked for */
typedef enum StepAction
{
	SA_DONE,
	SA_FAIL,
	SA_SNOOZE,
	SA_REQUESTS,				/* "llm" or "http": requests on sockets */
	SA_PROCESS
} StepAction;

#define HANDLER_CACHE 32
static struct
{
	Oid			fn;
	FmgrInfo	flinfo;
}			handler_cache[HANDLER_CACHE];
static int	nhandlers = 0;

static Oid	worker_role = InvalidOid;

/*
 * JobExecInit
 *		Look up recgen_worker, whose rights jobs run with.
 */
void
JobExecInit(void)
{
	worker_role = get_role_oid("recgen_worker", false);
}

/*
 * JobSqlstateRetryable
 *		Whether an error may go away on a retry (see the file header).
 */
bool
JobSqlstateRetryable(int sqlerrcode)
{
	switch (ERRCODE_TO_CATEGORY(sqlerrcode))
	{
		case ERRCODE_NO_DATA:
		case ERRCODE_FEATURE_NOT_SUPPORTED:
		case ERRCODE_DATA_EXCEPTION:
		case ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION:
		case ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION:
		case ERRCODE_DEPENDENT_PRIVILEGE_DESCRIPTORS_STILL_EXIST:
		case ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION:
		case ERRCODE_WITH_CHECK_OPTION_VIOLATION:
		case ERRCODE_PLPGSQL_ERROR:
			return false;
		default:
			return true;
	}
}

/*
 * handler_flinfo
 *		The FmgrInfo of a handler function, cached.
 */
static FmgrInfo *
handler_flinfo(Oid fn)
{
	int			i;

	for (i = 0; i < nhandlers; i++)
		if (handler_cache[i].fn == fn)
			return &handler_cache[i].flinfo;
	if (nhandlers == HANDLER_CACHE)
		nhandlers = 0;			/* more kinds than that: start over */
	i = nhandlers++;
	handler_cache[i].fn = InvalidOid;
	fmgr_info_cxt(fn, &handler_cache[i].flinfo, TopMemoryContext);
	handler_cache[i].fn = fn;
	return &handler_cache[i].flinfo;
}

/*
 * call_handler
 *		handler(job, state, results) as recgen_worker. Returns NULL for a
 *		NULL answer.
 */
static Jsonb *
call_handler(JobRun *job, Jsonb *results)
{
	FmgrInfo   *flinfo;
	Oid			save_user;
	int			save_sec;
	Datum		d;

	LOCAL_FCINFO(fcinfo, 3);

	if (!OidIsValid(job->handler))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("the handler function of job kind \"%s\" does not exist", job->kind),
				 errhint("The handler is named in recgen.job_kinds and takes (recgen.jobs, jsonb, jsonb).")));
	if (RecgenProcAclCheck(job->handler, worker_role, ACL_EXECUTE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for the handler of job kind \"%s\"", job->kind),
				 errhint("GRANT EXECUTE on the handler to recgen_worker.")));
	flinfo = handler_flinfo(job->handler);
	InitFunctionCallInfoData(*fcinfo, flinfo, 3, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = job->row;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = PointerGetDatum(job->state);
	fcinfo->args[1].isnull = (job->state == NULL);
	fcinfo->args[2].value = PointerGetDatum(results);
	fcinfo->args[2].isnull = (results == NULL);

	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(worker_role, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	d = FunctionCallInvoke(fcinfo);
	SetUserIdAndSecContext(save_user, save_sec);
	if (fcinfo->isnull)
		return NULL;
	return DatumGetJsonbP(d);
}

/*
 * parse_action
 *		What the handler's answer asks for.
 */
static StepAction
parse_action(Jsonb *out)
{
	if (out == NULL || !JB_ROOT_IS_OBJECT(out))
		return SA_DONE;
	if (JobJsonbText(out, "fail") != NULL)
		return SA_FAIL;
	if (JobJsonbText(out, "snooze") != NULL)
		return SA_SNOOZE;
	/* LLM and plain HTTP requests both wait on sockets (job_actions.c) */
	if (JobJsonbField(out, "llm") != NULL || JobJsonbField(out, "http") != NULL)
		return SA_REQUESTS;
	if (JobJsonbField(out, "process") != NULL)
		return SA_PROCESS;
	return SA_DONE;
}

/*
 * copy_jsonb
 *		A copy of a jsonb in a memory context (NULL stays NULL).
 */
static Jsonb *
copy_jsonb(Jsonb *j, MemoryContext cxt)
{
	Jsonb	   *copy;

	if (j == NULL)
		return NULL;
	copy = MemoryContextAlloc(cxt, VARSIZE(j));
	memcpy(copy, j, VARSIZE(j));
	return copy;
}

/*
 * step_failed
 *		Record a failed attempt inside the step's transaction (the handler
 *		asked for it, or the worker judged the LLM answers). Returns false
 *		when the lease was lost (the transaction must roll back).
 */
static bool
step_failed(JobRun *job, const char *error, const char *sqlstate, bool retryable)
{
	char	   *state = JobBookFail(job, error, sqlstate, retryable);

	if (state == NULL)
	{
		strlcpy(job->outcome, "lost", sizeof(job->outcome));
		return false;
	}
	if (strcmp(state, "discarded") == 0)
		WorkerNotifyFinal(job->job_id, job->kind, "discarded");
	strlcpy(job->outcome, state, sizeof(job->outcome));
	job->phase = JP_FINISHED;
	return true;
}

/*
 * step_body
 *		The part of a step inside its transaction. Returns false when the
 *		transaction must roll back (the lease was lost).
 */
static bool
step_body(JobRun *job)
{
	Jsonb	   *results;
	Jsonb	   *out;
	Jsonb	   *progress;
	char	   *msg;

	/* the model pinned at enqueue time, for what this step builds */
	if (job->model)
		(void) set_config_option("recgen.llm_model", job->model, PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
	results = JobActionResults(job);
	if (job->verdict == JV_SNOOZE)
	{
		if (!JobBookSnooze(job, job->verdict_delay_ms, job->verdict_error))
		{
			strlcpy(job->outcome, "lost", sizeof(job->outcome));
			return false;
		}
		strlcpy(job->outcome, "snoozed", sizeof(job->outcome));
		job->phase = JP_FINISHED;
		return true;
	}
	if (job->verdict == JV_FAIL)
	{
		WorkerSetError(job->verdict_error);
		return step_failed(job, job->verdict_error, "08006", true);
	}
	out = call_handler(job, results);
	job->steps++;
	progress = JobJsonbField(out, "progress");
	if (progress)
		job->progress = copy_jsonb(progress, job->cxt);

	switch (parse_action(out))
	{
		case SA_DONE:
			if (!JobBookComplete(job, JobJsonbField(out, "result")))
			{
				strlcpy(job->outcome, "lost", sizeof(job->outcome));
				return false;
			}
			WorkerNotifyFinal(job->job_id, job->kind, "completed");
			strlcpy(job->outcome, "completed", sizeof(job->outcome));
			job->phase = JP_FINISHED;
			break;
		case SA_FAIL:
			{
				char	   *retry = JobJsonbText(out, "retryable");

				return step_failed(job, JobJsonbText(out, "fail"), NULL,
								   retry == NULL || strcmp(retry, "true") == 0);
			}
		case SA_SNOOZE:
			{
				double		secs = strtod(JobJsonbText(out, "snooze"), NULL);

				msg = JobJsonbText(out, "reason");
				if (!JobBookSnooze(job, (int64) (Max(secs, 0) * 1000), msg ? msg : "the handler asked to run later"))
				{
					strlcpy(job->outcome, "lost", sizeof(job->outcome));
					return false;
				}
				strlcpy(job->outcome, "snoozed", sizeof(job->outcome));
				job->phase = JP_FINISHED;
			}
			break;
		case SA_REQUESTS:
		case SA_PROCESS:
			job->state = copy_jsonb(JobJsonbField(out, "state"), job->cxt);
			JobActionStart(job, out);	/* sets the phase */
			break;
	}
	return true;
}

/*
 * JobStep
 *		Run the job's next step (see the file header). On return the job's
 *		phase says what it waits for, or JP_FINISHED with job->outcome.
 */
void
JobStep(JobRun *job)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	int64		left = JobRemainingMs(job);
	volatile bool commit = false;

	if (left <= 0)
	{
		JobActionAbort(job);
		JobFailAlone(job, psprintf("the job ran longer than its kind's timeout (%lld ms)",
								   (long long) job->timeout_ms), "57014", true);
		return;
	}

	WorkerBegin();
	pgstat_report_activity(STATE_RUNNING,
						   psprintf("recgen job " INT64_FORMAT " (%s), attempt %d, step %d",
									job->job_id, job->kind, job->attempt, job->steps + 1));
	PG_TRY();
	{
		enable_timeout_after(STATEMENT_TIMEOUT, (int) Min(left, PG_INT32_MAX));
		commit = step_body(job);
		disable_timeout(STATEMENT_TIMEOUT, false);
		if (commit)
			WorkerCommit();
		else
		{
			PopActiveSnapshot();
			AbortCurrentTransaction();
			JobActionAbort(job);
			job->phase = JP_FINISHED;
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		disable_timeout(STATEMENT_TIMEOUT, false);
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		MemoryContextSwitchTo(oldcxt);
		JobActionAbort(job);
		/* a shutdown or a cancel of the worker itself is not the job's fault */
		if (ProcDiePending)
		{
			job->phase = JP_READY;
			strlcpy(job->outcome, "interrupted", sizeof(job->outcome));
			FreeErrorData(edata);
			return;
		}
		ereport(LOG,
				(errmsg("recgen: job " INT64_FORMAT " (%s) attempt %d failed: %s",
						job->job_id, job->kind, job->attempt, edata->message)));
		JobFailAlone(job, edata->message, unpack_sql_state(edata->sqlerrcode),
					 JobSqlstateRetryable(edata->sqlerrcode));
		FreeErrorData(edata);
	}
	PG_END_TRY();
	pgstat_report_activity(STATE_IDLE, NULL);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * JobFailAlone
 *		Record a failed attempt in a transaction of its own.
 */
void
JobFailAlone(JobRun *job, const char *error, const char *sqlstate, bool retryable)
{
	char	   *state;

	WorkerBegin();
	JobActionLogCalls(job);
	state = JobBookFail(job, error, sqlstate, retryable);
	if (state && strcmp(state, "discarded") == 0)
		WorkerNotifyFinal(job->job_id, job->kind, "discarded");
	strlcpy(job->outcome, state ? state : "lost", sizeof(job->outcome));
	WorkerCommit();
	WorkerSetError(error);
	job->phase = JP_FINISHED;
}

/*
 * JobSnoozeAlone
 *		Snooze the job (a rate limit) in a transaction of its own.
 */
void
JobSnoozeAlone(JobRun *job, int64 delay_ms, const char *reason)
{
	bool		ok;

	WorkerBegin();
	JobActionLogCalls(job);
	ok = JobBookSnooze(job, delay_ms, reason);
	WorkerCommit();
	strlcpy(job->outcome, ok ? "snoozed" : "lost", sizeof(job->outcome));
	job->phase = JP_FINISHED;
}

/*
 * JobFree
 *		Forget a finished job.
 */
void
JobFree(JobRun *job)
{
	JobActionAbort(job);
	MemoryContextDelete(job->cxt);
}
