/*-------------------------------------------------------------------------
 *
 * jobs_sql.c
 *		recgen.enqueue, recgen.cancel_job and recgen.retry_job.
 *
 * Each checks what the caller may do with the caller's own rights, then
 * writes recgen.jobs as the extension's owner (SetUserIdAndSecContext, as
 * pg_cron does for its metadata): nobody else may write the queue.
 *	- enqueue reads the kind from recgen.job_kinds and runs its validator as
 *	  the caller, so a malformed payload (or a caller who may not queue that
 *	  kind) is refused now, not when the job runs; kinds that use the LLM
 *	  get the model and the active prompt template pinned. The INSERT uses
 *	  ON CONFLICT on the partial unique index over unique_key, so enqueueing
 *	  a key that a job not yet final holds returns that job.
 *	- cancel_job and retry_job act only on a job the caller can see (row-
 *	  level security of recgen.jobs).
 * What they queue wakes the workers when the transaction commits
 * (worker_shmem.c); a cancelled running job's worker is told at commit.
 *
 * Plans are prepared once per backend; validators' plans are kept by name.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/jobs_sql.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "job_actions.h"
#include "job_values.h"
#include "jobs.h"
#include "recgen.h"
#include "worker.h"

#define JOB_STATES_OPEN "('available', 'scheduled', 'running', 'retryable')"

typedef enum SqlPlan
{
	PL_KIND,
	PL_OWNER,
	PL_TEMPLATE,
	PL_INSERT,
	PL_EXISTING,
	PL_VISIBLE,
	PL_CANCEL,
	PL_RETRY,
	PL_KEY_TAKEN,
	PL_COUNT
} SqlPlan;

static SPIPlanPtr plans[PL_COUNT];

#define VALIDATOR_PLANS 32
static struct
{
	char		name[2 * NAMEDATALEN + 2];
	SPIPlanPtr	plan;
}			validator_plans[VALIDATOR_PLANS];
static int	nvalidators = 0;

/*
 * sql_plan
 *		A prepared statement of this file (the caller is connected to SPI).
 */
static SPIPlanPtr
sql_plan(SqlPlan which)
{
	static const struct
	{
		const char *sql;
		int			nargs;
		Oid			types[12];
	}			defs[PL_COUNT] = {
		[PL_KIND] = {"SELECT validator, max_attempts, uses_llm FROM recgen.job_kinds WHERE kind = $1", 1, {TEXTOID}},
		[PL_OWNER] = {"SELECT extowner FROM pg_catalog.pg_extension WHERE extname = 'recgen'", 0, {0}},
		[PL_TEMPLATE] = {"SELECT tone, version FROM recgen.prompt_templates WHERE kind = $1 AND active"
			" AND tone IN ($2, '*') ORDER BY tone = $2 DESC LIMIT 1", 2, {TEXTOID, TEXTOID}},
		[PL_INSERT] = {"INSERT INTO recgen.jobs (kind, customer_id, payload, priority, state, max_attempts,"
			" run_at, unique_key, model, template_tone, template_version, created_by)"
			" VALUES ($1, $2, $3, $4, CASE WHEN $5 > now() THEN 'scheduled' ELSE 'available' END,"
			" $6, $5, $7, $8, $9, $10, $11)"
			" ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND state IN " JOB_STATES_OPEN
			" DO NOTHING RETURNING job_id", 11,
		{TEXTOID, INT8OID, JSONBOID, INT4OID, TIMESTAMPTZOID, INT4OID, TEXTOID, TEXTOID, TEXTOID, INT4OID, NAMEOID}},
		[PL_EXISTING] = {"SELECT job_id FROM recgen.jobs WHERE unique_key = $1 AND state IN " JOB_STATES_OPEN,
		1, {TEXTOID}},
		[PL_VISIBLE] = {"SELECT state, unique_key FROM recgen.jobs WHERE job_id = $1", 1, {INT8OID}},
		[PL_CANCEL] = {"WITH old AS (SELECT job_id, leased_by FROM recgen.jobs WHERE job_id = $1 FOR UPDATE)"
			" UPDATE recgen.jobs j SET state = 'cancelled', finalized_at = now(), leased_by = NULL,"
			" lease_until = NULL FROM old WHERE j.job_id = old.job_id AND j.state IN " JOB_STATES_OPEN
			" RETURNING old.leased_by, j.kind", 1, {INT8OID}},
		[PL_RETRY] = {"UPDATE recgen.jobs SET state = 'available', run_at = now(), finalized_at = NULL,"
			" progress = NULL, max_attempts = greatest(max_attempts, attempt + 1)"
			" WHERE job_id = $1 AND state IN ('discarded', 'cancelled') RETURNING job_id", 1, {INT8OID}},
		[PL_KEY_TAKEN] = {"SELECT job_id FROM recgen.jobs WHERE unique_key = $1 AND job_id <> $2"
			" AND state IN " JOB_STATES_OPEN, 2, {TEXTOID, INT8OID}},
	};

	return JobKeptPlan(&plans[which], defs[which].sql, defs[which].nargs, defs[which].types);
}

/*
 * run_plan
 *		Execute a prepared statement, checking the result code.
 */
static void
run_plan(SPIPlanPtr plan, Datum *values, const char *nulls, int expect)
{
	int			rc = SPI_execute_plan(plan, values, nulls, false, 0);

	if (rc != expect)
		elog(ERROR, "recgen job statement failed: %s", SPI_result_code_string(rc));
}

/*
 * extension_owner
 *		The role that owns the extension, which writes the queue.
 */
static Oid
extension_owner(void)
{
	bool		isnull;

	run_plan(sql_plan(PL_OWNER), NULL, NULL, SPI_OK_SELECT);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"recgen\" is not installed in this database")));
	return DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * validator_plan
 *		The plan that calls a validator "schema.function"($1, $2).
 */
static SPIPlanPtr
validator_plan(const char *name)
{
	Oid			types[2] = {JSONBOID, INT8OID};
	char	   *dot = strchr(name, '.');
	char	   *sql;
	SPIPlanPtr	plan;
	int			i;

	for (i = 0; i < nvalidators; i++)
		if (strcmp(validator_plans[i].name, name) == 0)
			return validator_plans[i].plan;
	if (dot == NULL || strlen(name) >= sizeof(validator_plans[0].name))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("validator \"%s\" is not a schema-qualified function name", name)));
	sql = psprintf("SELECT %s.%s($1, $2)",
				   quote_identifier(pnstrdup(name, dot - name)), quote_identifier(dot + 1));
	plan = NULL;
	JobKeptPlan(&plan, sql, 2, types);
	if (nvalidators == VALIDATOR_PLANS)
		nvalidators = 0;		/* forget the oldest ones: plans are cheap */
	strlcpy(validator_plans[nvalidators].name, name, sizeof(validator_plans[0].name));
	validator_plans[nvalidators].plan = plan;
	nvalidators++;
	return plan;
}

/*
 * validate_payload
 *		Run the kind's validator as the caller; its answer is the payload.
 */
static Jsonb *
validate_payload(const char *kind, const char *validator, Jsonb *payload, bool has_customer, int64 customer_id)
{
	Datum		values[2];
	char		nulls[2] = {' ', has_customer ? ' ' : 'n'};
	bool		isnull;
	Datum		d;
	Jsonb	   *out;

	values[0] = JsonbPGetDatum(payload);
	values[1] = Int64GetDatum(customer_id);
	run_plan(validator_plan(validator), values, nulls, SPI_OK_SELECT);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return payload;
	out = DatumGetJsonbP(d);
	if (!JB_ROOT_IS_OBJECT(out) || JB_ROOT_IS_SCALAR(out))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the validator of job kind \"%s\" did not return a JSON object", kind)));
	return out;
}

/*
 * recgen_enqueue
 *		recgen.enqueue(kind, payload, customer_id, priority, run_at,
 *		unique_key, max_attempts) -> job_id
 */
PG_FUNCTION_INFO_V1(recgen_enqueue);
Datum
recgen_enqueue(PG_FUNCTION_ARGS)
{
	text	   *kind_t;
	char	   *kind;
	Jsonb	   *payload;
	volatile bool has_customer = !PG_ARGISNULL(2);
	volatile int64 customer_id = has_customer ? PG_GETARG_INT64(2) : 0;
	int32		priority = PG_ARGISNULL(3) ? 0 : PG_GETARG_INT32(3);
	TimestampTz run_at = PG_ARGISNULL(4) ? GetCurrentTransactionStartTimestamp() : PG_GETARG_TIMESTAMPTZ(4);
	char	   *unique_key = PG_ARGISNULL(5) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(5));
	int32		max_attempts = PG_ARGISNULL(6) ? 0 : PG_GETARG_INT32(6);
	char	   *validator = NULL;
	bool		uses_llm = false;
	char	   *payload_customer;
	char	   *model = NULL;
	char	   *tpl_tone = NULL;
	int32		tpl_version = 0;
	bool		isnull;
	Oid			owner;
	Oid			save_user;
	int			save_sec;
	int64		job_id = 0;
	int			tries;
	char	   *created_by = GetUserNameFromId(GetUserId(), false);

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the kind of a job must not be null")));
	kind_t = PG_GETARG_TEXT_PP(0);
	kind = text_to_cstring(kind_t);
	payload = PG_ARGISNULL(1) ? DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")))
		: PG_GETARG_JSONB_P(1);
	if (!JB_ROOT_IS_OBJECT(payload) || JB_ROOT_IS_SCALAR(payload))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the payload of a job must be a JSON object")));
	if (priority < -1000 || priority > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("priority %d is out of range", priority),
				 errhint("Priorities go from -1000 to 1000; higher runs first.")));
	if (!PG_ARGISNULL(6) && (max_attempts < 1 || max_attempts > 1000))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_attempts %d is out of range", max_attempts),
				 errhint("A job may have 1 to 1000 attempts.")));

	SPI_connect();
	{
		Datum		values[1] = {PointerGetDatum(kind_t)};

		run_plan(sql_plan(PL_KIND), values, NULL, SPI_OK_SELECT);
		if (SPI_processed != 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown job kind \"%s\"", kind),
					 errhint("Job kinds are the rows of recgen.job_kinds.")));
		validator = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		if (max_attempts == 0)
			max_attempts = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		uses_llm = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	}
	if (validator)
		payload = validate_payload(kind, validator, payload, has_customer, customer_id);

	/* a customer given in the payload is the job's customer */
	payload_customer = JobJsonbText(payload, "customer_id");
	if (payload_customer)
	{
		int64		c = DatumGetInt64(DirectFunctionCall1(int8in, CStringGetDatum(payload_customer)));

		if (has_customer && c != customer_id)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the payload names customer %s but the job is for customer " INT64_FORMAT,
							payload_customer, customer_id)));
		has_customer = true;
		customer_id = c;
	}

	owner = extension_owner();
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		if (uses_llm)
		{
			char	   *tone = JobJsonbText(payload, "tone");
			Datum		values[2];
			char		nulls[2] = {' ', tone ? ' ' : 'n'};

			model = recgen_llm_model;
			values[0] = PointerGetDatum(kind_t);
			values[1] = tone ? CStringGetTextDatum(tone) : (Datum) 0;
			run_plan(sql_plan(PL_TEMPLATE), values, nulls, SPI_OK_SELECT);
			if (SPI_processed == 1)
			{
				tpl_tone = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
				tpl_version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
			}
		}
		for (tries = 0; tries < 5 && job_id == 0; tries++)
		{
			Datum		values[11];
			char		nulls[11] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

			values[0] = PointerGetDatum(kind_t);
			values[1] = Int64GetDatum(customer_id);
			nulls[1] = has_customer ? ' ' : 'n';
			values[2] = JsonbPGetDatum(payload);
			values[3] = Int32GetDatum(priority);
			values[4] = TimestampTzGetDatum(run_at);
			values[5] = Int32GetDatum(max_attempts);
			values[6] = unique_key ? CStringGetTextDatum(unique_key) : (Datum) 0;
			nulls[6] = unique_key ? ' ' : 'n';
			values[7] = model ? CStringGetTextDatum(model) : (Datum) 0;
			nulls[7] = model ? ' ' : 'n';
			values[8] = tpl_tone ? CStringGetTextDatum(tpl_tone) : (Datum) 0;
			nulls[8] = tpl_tone ? ' ' : 'n';
			values[9] = Int32GetDatum(tpl_version);
			nulls[9] = tpl_tone ? ' ' : 'n';
			values[10] = DirectFunctionCall1(namein, CStringGetDatum(created_by));
			run_plan(sql_plan(PL_INSERT), values, nulls, SPI_OK_INSERT_RETURNING);
			if (SPI_processed == 1)
			{
				job_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
				WorkerWakeAtCommit(1);
				break;
			}
			/* the key is taken: return the job that holds it (if still open) */
			run_plan(sql_plan(PL_EXISTING), &values[6], NULL, SPI_OK_SELECT);
			if (SPI_processed == 1)
				job_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		}
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
	SPI_finish();
	if (job_id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not queue the job: unique key \"%s\" kept changing hands", unique_key)));
	PG_RETURN_INT64(job_id);
}

/*
 * visible_state
 *		The state of a job the caller can see, or an error naming it. Sets
 *		*unique_key when the job has one.
 */
static char *
visible_state(int64 job_id, char **unique_key)
{
	Datum		values[1] = {Int64GetDatum(job_id)};

	run_plan(sql_plan(PL_VISIBLE), values, NULL, SPI_OK_SELECT);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("job " INT64_FORMAT " does not exist", job_id),
				 errhint("Jobs of customers without consent to profiling are not visible to analysts; finished jobs are pruned after their retention.")));
	if (unique_key)
		*unique_key = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/*
 * recgen_cancel_job
 *		recgen.cancel_job(job_id) -> boolean
 */
PG_FUNCTION_INFO_V1(recgen_cancel_job);
Datum
recgen_cancel_job(PG_FUNCTION_ARGS)
{
	int64		job_id = PG_GETARG_INT64(0);
	Oid			save_user;
	int			save_sec;
	volatile bool cancelled = false;

	SPI_connect();
	(void) visible_state(job_id, NULL);
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(extension_owner(), save_sec | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		Datum		values[1] = {Int64GetDatum(job_id)};

		run_plan(sql_plan(PL_CANCEL), values, NULL, SPI_OK_UPDATE_RETURNING);
		if (SPI_processed == 1)
		{
			bool		isnull;
			Datum		pid = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
			char	   *kind = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

			cancelled = true;
			if (!isnull)
				WorkerCancelAtCommit(DatumGetInt32(pid));
			WorkerNotifyFinal(job_id, kind, "cancelled");
		}
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
	SPI_finish();
	PG_RETURN_BOOL(cancelled);
}

/*
 * recgen_retry_job
 *		recgen.retry_job(job_id) -> boolean
 */
PG_FUNCTION_INFO_V1(recgen_retry_job);
Datum
recgen_retry_job(PG_FUNCTION_ARGS)
{
	int64		job_id = PG_GETARG_INT64(0);
	char	   *state;
	char	   *unique_key = NULL;
	Oid			save_user;
	int			save_sec;
	volatile bool retried = false;

	SPI_connect();
	state = visible_state(job_id, &unique_key);
	if (strcmp(state, "completed") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("job " INT64_FORMAT " is completed", job_id),
				 errhint("Only discarded or cancelled jobs can be retried; enqueue a new job to run it again.")));
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(extension_owner(), save_sec | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		Datum		values[2];

		if (unique_key)
		{
			values[0] = CStringGetTextDatum(unique_key);
			values[1] = Int64GetDatum(job_id);
			run_plan(sql_plan(PL_KEY_TAKEN), values, NULL, SPI_OK_SELECT);
			if (SPI_processed > 0)
				ereport(ERROR,
						(errcode(ERRCODE_UNIQUE_VIOLATION),
						 errmsg("job " INT64_FORMAT " cannot be retried: job %s holds its unique key \"%s\"",
								job_id, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), unique_key)));
		}
		values[0] = Int64GetDatum(job_id);
		run_plan(sql_plan(PL_RETRY), values, NULL, SPI_OK_UPDATE_RETURNING);
		if (SPI_processed == 1)
		{
			retried = true;
			WorkerWakeAtCommit(1);
		}
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
	SPI_finish();
	PG_RETURN_BOOL(retried);
}
