/*-------------------------------------------------------------------------
 *
 * job_book.c
 *		The queue's bookkeeping as the workers and schedulers call it: thin
 *		wrappers around the recgen._job_* SQL functions
 *		(sql/idempotent/70_jobs.sql), each run inside the caller's
 *		transaction through a plan prepared once per process.
 *
 * The SQL functions hold the rules (which state and lease each update
 * expects); this file only passes this process's pid, the settings and the
 * jobs' ids and reads back what they return. The jobs a claim returns get a
 * memory context each, under the caller's, holding a copy of their row.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/job_book.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "jobs.h"
#include "worker.h"

/* plans of this process, kept for its life */
typedef enum BookPlan
{
	BP_CLAIM,
	BP_COMPLETE,
	BP_FAIL,
	BP_SNOOZE,
	BP_HEARTBEAT,
	BP_RELEASE,
	BP_RESCUE,
	BP_PROMOTE,
	BP_OVERVIEW,
	BP_PRUNE,
	BP_COUNT
} BookPlan;

static SPIPlanPtr plans[BP_COUNT];

/*
 * book_plan
 *		The plan of a bookkeeping call, prepared on first use. The caller is
 *		connected to SPI.
 */
static SPIPlanPtr
book_plan(BookPlan which)
{
	static const struct
	{
		const char *sql;
		int			nargs;
		Oid			types[8];
	}			defs[BP_COUNT] = {
		[BP_CLAIM] = {"SELECT * FROM recgen._job_claim($1, $2, $3)", 3, {INT4OID, INT4OID, INT4OID}},
		[BP_COMPLETE] = {"SELECT recgen._job_complete($1, $2, $3, $4)", 4, {INT8OID, INT4OID, INT4OID, JSONBOID}},
		[BP_FAIL] = {"SELECT recgen._job_fail($1, $2, $3, $4, $5, $6, $7, $8)", 8,
		{INT8OID, INT4OID, INT4OID, TEXTOID, TEXTOID, BOOLOID, INT4OID, INT4OID}},
		[BP_SNOOZE] = {"SELECT recgen._job_snooze($1, $2, $3, $4, $5)", 5, {INT8OID, INT4OID, INT4OID, INT8OID, TEXTOID}},
			[BP_HEARTBEAT] = {"SELECT * FROM recgen._job_heartbeat($1, $2, $3, $4)", 4, {INT8ARRAYOID, INT4OID, INT4OID, JSONBOID}},
		[BP_RELEASE] = {"SELECT recgen._job_release($1, $2)", 2, {INT8ARRAYOID, INT4OID}},
		[BP_RESCUE] = {"SELECT recgen._job_rescue($1, $2, $3, $4, $5)", 5,
		{INT4ARRAYOID, TIMESTAMPTZOID, INT4OID, INT4OID, INT4OID}},
		[BP_PROMOTE] = {"SELECT recgen._job_promote($1)", 1, {INT4OID}},
		[BP_OVERVIEW] = {"SELECT * FROM recgen._job_overview()", 0, {0}},
		[BP_PRUNE] = {"SELECT recgen._job_prune($1, $2, $3)", 3, {INT4OID, INT4OID, INT4OID}},
	};

	return JobKeptPlan(&plans[which], defs[which].sql, defs[which].nargs, defs[which].types);
}

/*
 * JobKeptPlan
 *		*cache, or the statement prepared and kept for the life of the
 *		process (the plan cache revalidates it when the schema changes). The
 *		caller is connected to SPI.
 */
SPIPlanPtr
JobKeptPlan(SPIPlanPtr *cache, const char *sql, int nargs, const Oid *types)
{
	if (*cache == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(sql, nargs, (Oid *) types);

		if (plan == NULL)
			elog(ERROR, "could not prepare \"%s\": %s", sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		*cache = plan;
	}
	return *cache;
}

/*
 * book_exec
 *		Run a bookkeeping call; the caller reads SPI_tuptable and then calls
 *		SPI_finish.
 */
static void
book_exec(BookPlan which, Datum *values, const char *nulls)
{
	int			rc;

	SPI_connect();
	rc = SPI_execute_plan(book_plan(which), values, nulls, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "recgen job bookkeeping failed: %s", SPI_result_code_string(rc));
}

/*
 * book_scalar
 *		The first column of the first row of the last call, or isnull.
 */
static Datum
book_scalar(bool *isnull)
{
	if (SPI_processed < 1)
	{
		*isnull = true;
		return (Datum) 0;
	}
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);
}

/*
 * id_array
 *		An int8[] of the jobs' ids.
 */
static Datum
id_array(JobRun **jobs, int n)
{
	Datum	   *ids = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		ids[i] = Int64GetDatum(jobs[i]->job_id);
	return PointerGetDatum(construct_array(ids, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * JobBookClaim
 *		Claim up to max available jobs; each gets its own memory context
 *		under parent. Returns how many.
 */
int
JobBookClaim(JobRun **jobs, int max, MemoryContext parent)
{
	Datum		values[3];
	uint64		i;
	int			n;

	values[0] = Int32GetDatum(MyProcPid);
	values[1] = Int32GetDatum(max);
	values[2] = Int32GetDatum(recgen_job_lease);
	book_exec(BP_CLAIM, values, NULL);
	n = (int) SPI_processed;
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext cxt = AllocSetContextCreate(parent, "recgen job", ALLOCSET_SMALL_SIZES);
		JobRun	   *job = MemoryContextAllocZero(cxt, sizeof(JobRun));
		bool		isnull;
		Datum		d;
		char	   *kind;
		MemoryContext old;

		job->cxt = cxt;
		d = SPI_getbinval(tup, desc, 1, &isnull);
		old = MemoryContextSwitchTo(cxt);
		job->row = datumCopy(d, false, -1);
		MemoryContextSwitchTo(old);
		job->job_id = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
		job->attempt = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
		kind = SPI_getvalue(tup, desc, 4);
		strlcpy(job->kind, kind ? kind : "", sizeof(job->kind));
		d = SPI_getbinval(tup, desc, 6, &isnull);
		job->handler = isnull ? InvalidOid : DatumGetObjectId(d);
		d = SPI_getbinval(tup, desc, 7, &isnull);
		job->timeout_ms = isnull ? 900000 : DatumGetInt64(d);
		kind = SPI_getvalue(tup, desc, 8);
		job->model = kind ? MemoryContextStrdup(cxt, kind) : NULL;
		job->started = GetCurrentTimestamp();
		job->phase = JP_READY;
		jobs[i] = job;
	}
	SPI_finish();
	return n;
}

/*
 * JobBookComplete
 *		Mark the job completed with its result; false when this worker lost
 *		its lease (the caller must then roll back).
 */
bool
JobBookComplete(JobRun *job, Jsonb *result)
{
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	bool		isnull;
	bool		ok;

	values[0] = Int64GetDatum(job->job_id);
	values[1] = Int32GetDatum(MyProcPid);
	values[2] = Int32GetDatum(job->attempt);
	values[3] = PointerGetDatum(result);
	if (result == NULL)
		nulls[3] = 'n';
	book_exec(BP_COMPLETE, values, nulls);
	ok = DatumGetBool(book_scalar(&isnull)) && !isnull;
	SPI_finish();
	return ok;
}

/*
 * JobBookFail
 *		Record a failed attempt; returns the job's new state (palloc'd), or
 *		NULL when the lease was lost.
 */
char *
JobBookFail(JobRun *job, const char *error, const char *sqlstate, bool retryable)
{
	Datum		values[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	char	   *state = NULL;

	values[0] = Int64GetDatum(job->job_id);
	values[1] = Int32GetDatum(MyProcPid);
	values[2] = Int32GetDatum(job->attempt);
	values[3] = CStringGetTextDatum(error ? error : "unknown error");
	values[4] = sqlstate ? CStringGetTextDatum(sqlstate) : (Datum) 0;
	if (sqlstate == NULL)
		nulls[4] = 'n';
	values[5] = BoolGetDatum(retryable);
	values[6] = Int32GetDatum(recgen_job_backoff_base);
	values[7] = Int32GetDatum(recgen_job_backoff_max);
	book_exec(BP_FAIL, values, nulls);
	if (SPI_processed > 0)
	{
		char	   *s = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (s)
			state = MemoryContextStrdup(TopTransactionContext, s);
	}
	SPI_finish();
	return state;
}

/*
 * JobBookSnooze
 *		Put the job back for later without using an attempt.
 */
bool
JobBookSnooze(JobRun *job, int64 delay_ms, const char *reason)
{
	Datum		values[5];
	bool		isnull;
	bool		ok;

	values[0] = Int64GetDatum(job->job_id);
	values[1] = Int32GetDatum(MyProcPid);
	values[2] = Int32GetDatum(job->attempt);
	values[3] = Int64GetDatum(delay_ms);
	values[4] = CStringGetTextDatum(reason ? reason : "rate limited");
	book_exec(BP_SNOOZE, values, NULL);
	ok = DatumGetBool(book_scalar(&isnull)) && !isnull;
	SPI_finish();
	return ok;
}

/*
 * JobBookHeartbeat
 *		Extend the leases of jobs[0..n) to lease_ms from now and store their
 *		progress; held[i] tells whether this worker still holds job i.
 *		Returns how many it holds.
 */
int
JobBookHeartbeat(JobRun **jobs, int n, bool *held, int64 lease_ms)
{
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	StringInfoData progress;
	bool		any_progress = false;
	uint64		r;
	int			i;
	int			count = 0;

	initStringInfo(&progress);
	appendStringInfoChar(&progress, '{');
	for (i = 0; i < n; i++)
	{
		held[i] = false;
		if (jobs[i]->progress == NULL)
			continue;
		if (any_progress)
			appendStringInfoChar(&progress, ',');
		appendStringInfo(&progress, "\"" INT64_FORMAT "\":", jobs[i]->job_id);
		appendStringInfoString(&progress, JsonbToCString(NULL, &jobs[i]->progress->root,
														 VARSIZE(jobs[i]->progress)));
		any_progress = true;
	}
	appendStringInfoChar(&progress, '}');
	values[0] = id_array(jobs, n);
	values[1] = Int32GetDatum(MyProcPid);
	values[2] = Int32GetDatum((int32) Min(lease_ms, PG_INT32_MAX));
	if (any_progress)
		values[3] = DirectFunctionCall1(jsonb_in, CStringGetDatum(progress.data));
	else
		nulls[3] = 'n';
	book_exec(BP_HEARTBEAT, values, nulls);
	for (r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));

		for (i = 0; i < n; i++)
			if (jobs[i]->job_id == id && !held[i])
			{
				held[i] = true;
				count++;
			}
	}
	SPI_finish();
	for (i = 0; i < n; i++)
		if (held[i])
			jobs[i]->progress = NULL;
	return count;
}

/*
 * JobBookRelease
 *		Give running jobs back (this worker is stopping).
 */
int
JobBookRelease(JobRun **jobs, int n)
{
	Datum		values[2];
	bool		isnull;
	int			count;

	values[0] = id_array(jobs, n);
	values[1] = Int32GetDatum(MyProcPid);
	book_exec(BP_RELEASE, values, NULL);
	count = DatumGetInt32(book_scalar(&isnull));
	SPI_finish();
	return isnull ? 0 : count;
}

/*
 * JobBookRescue
 *		Make runnable the running jobs whose lease expired or whose worker
 *		is gone (scheduler). Returns how many.
 */
int
JobBookRescue(void)
{
	int			pids[RECGEN_WORKER_SLOTS];
	Datum	   *pid_datums;
	Datum		values[5];
	TimestampTz seen_at;
	bool		isnull;
	int			n;
	int			i;
	int			count;

	/* the time first: a worker that attaches after it claims after it too */
	seen_at = GetCurrentTimestamp();
	n = WorkerLivePids(MyDatabaseId, pids, RECGEN_WORKER_SLOTS);
	pid_datums = palloc(sizeof(Datum) * Max(n, 1));
	for (i = 0; i < n; i++)
		pid_datums[i] = Int32GetDatum(pids[i]);
	values[0] = PointerGetDatum(construct_array(pid_datums, n, INT4OID, 4, true, TYPALIGN_INT));
	values[1] = TimestampTzGetDatum(seen_at);
	values[2] = Int32GetDatum(1000);
	values[3] = Int32GetDatum(recgen_job_backoff_base);
	values[4] = Int32GetDatum(recgen_job_backoff_max);
	book_exec(BP_RESCUE, values, NULL);
	count = DatumGetInt32(book_scalar(&isnull));
	SPI_finish();
	return isnull ? 0 : count;
}

/*
 * JobBookPromote
 *		Make due scheduled and retryable jobs available (scheduler).
 */
int
JobBookPromote(void)
{
	Datum		values[1];
	bool		isnull;
	int			count;

	values[0] = Int32GetDatum(10000);
	book_exec(BP_PROMOTE, values, NULL);
	count = DatumGetInt32(book_scalar(&isnull));
	SPI_finish();
	return isnull ? 0 : count;
}

/*
 * JobBookOverview
 *		Available and running jobs, and when the next one is due (0: none).
 */
void
JobBookOverview(int *available, int *running, TimestampTz *next_due)
{
	bool		isnull;
	Datum		d;

	book_exec(BP_OVERVIEW, NULL, NULL);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	*available = isnull ? 0 : DatumGetInt32(d);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	*running = isnull ? 0 : DatumGetInt32(d);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
	*next_due = isnull ? 0 : DatumGetTimestampTz(d);
	SPI_finish();
}

/*
 * JobBookPrune
 *		Delete one batch of jobs past their retention (scheduler).
 */
int
JobBookPrune(void)
{
	Datum		values[3];
	bool		isnull;
	int			count;

	values[0] = Int32GetDatum(recgen_job_retention);
	values[1] = Int32GetDatum(recgen_job_retention_failed);
	values[2] = Int32GetDatum(500);
	book_exec(BP_PRUNE, values, NULL);
	count = DatumGetInt32(book_scalar(&isnull));
	SPI_finish();
	return isnull ? 0 : count;
}
