/*-------------------------------------------------------------------------
 *
 * worker_status.c
 *		recgen.worker_status_rows(): the launcher, the schedulers and the
 *		workers as they are now, read from the worker subsystem's shared
 *		memory (the view recgen.worker_status shows it).
 *
 * The slots are copied under the lock, then turned into rows, followed by
 * one row per LLM endpoint with its circuit breaker (http_endpoints.c). The
 * last error of a process may name a customer, so it is shown to
 * superusers and recgen_admin only.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/worker_status.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/dbcommands.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "http.h"
#include "http_endpoints.h"
#include "worker.h"

#define STATUS_COLS 14

/*
 * status_endpoints
 *		One row per LLM endpoint: state ok, skipped (its circuit breaker is
 *		open) or probing (after the cooldown), and in detail its URL (without
 *		credentials), requests in flight, failures in a row, until when it
 *		is skipped, requests and failures since start-up, times skipped.
 */
static void
status_endpoints(ReturnSetInfo *rsinfo)
{
	Endpoint   *eps = palloc(sizeof(Endpoint) * RECGEN_MAX_ENDPOINTS);
	int			n = EndpointSnapshot(eps, RECGEN_MAX_ENDPOINTS);
	TimestampTz now = GetCurrentTimestamp();
	int			i;

	for (i = 0; i < n; i++)
	{
		Endpoint   *e = &eps[i];
		Datum		values[STATUS_COLS];
		bool		nulls[STATUS_COLS];
		StringInfoData d;

		memset(nulls, true, sizeof(nulls));
		values[0] = CStringGetTextDatum("endpoint");
		nulls[0] = false;
		values[3] = CStringGetTextDatum(e->open_until == 0 ? "ok" : e->open_until > now ? "skipped" : "probing");
		nulls[3] = false;
		if (e->last_used)
		{
			values[10] = TimestampTzGetDatum(e->last_used);
			nulls[10] = false;
		}
		initStringInfo(&d);
		appendStringInfoString(&d, "{\"url\": ");
		escape_json(&d, EndpointDisplayUrl(e->url));
		appendStringInfo(&d, ", \"in_flight\": %d, \"failures_in_a_row\": %d, \"requests\": " UINT64_FORMAT
						 ", \"failures\": " UINT64_FORMAT ", \"times_skipped\": " UINT64_FORMAT ", \"skipped_until\": ",
						 e->inflight, e->failures, e->requests, e->errors, e->opened);
		if (e->open_until > now)
			escape_json(&d, timestamptz_to_str(e->open_until));
		else
			appendStringInfoString(&d, "null");
		appendStringInfoChar(&d, '}');
		values[13] = DirectFunctionCall1(jsonb_in, CStringGetDatum(d.data));
		nulls[13] = false;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/*
 * recgen_worker_status_rows
 *		One row per process: role, pid, database, state, job_id, kind,
 *		active_jobs, jobs_done, jobs_failed, started_at, heartbeat_at,
 *		last_error, last_error_at.
 */
PG_FUNCTION_INFO_V1(recgen_worker_status_rows);
Datum
recgen_worker_status_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	WorkerShared *ws = WorkerShmem();
	WorkerSlot *slots;
	Oid			admin = get_role_oid("recgen_admin", true);
	bool		see_errors = superuser() || (OidIsValid(admin) && has_privs_of_role(GetUserId(), admin));
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	if (ws == NULL)
		return (Datum) 0;
	slots = palloc(sizeof(WorkerSlot) * RECGEN_WORKER_SLOTS);
	LWLockAcquire(ws->lock, LW_SHARED);
	memcpy(slots, ws->slots, sizeof(WorkerSlot) * RECGEN_WORKER_SLOTS);
	LWLockRelease(ws->lock);

	for (i = 0; i < RECGEN_WORKER_SLOTS; i++)
	{
		WorkerSlot *s = &slots[i];
		Datum		values[STATUS_COLS];
		bool		nulls[STATUS_COLS];
		char	   *dbname = NULL;

		if (s->role == WR_NONE)
			continue;
		memset(nulls, false, sizeof(nulls));
		values[0] = CStringGetTextDatum(WorkerRoleName(s->role));
		values[1] = Int32GetDatum(s->pid);
		nulls[1] = (s->pid == 0);
		if (OidIsValid(s->dboid))
			dbname = get_database_name(s->dboid);
		values[2] = dbname ? CStringGetTextDatum(dbname) : (Datum) 0;
		nulls[2] = (dbname == NULL);
		values[3] = CStringGetTextDatum(s->pid == 0 ? "starting" : WorkerStateName(s->state));
		values[4] = Int64GetDatum(s->job_id);
		nulls[4] = (s->job_id == 0);
		values[5] = CStringGetTextDatum(s->kind);
		nulls[5] = (s->job_id == 0 || s->kind[0] == '\0');
		values[6] = Int32GetDatum(s->active_jobs);
		nulls[6] = (s->role != WR_WORKER);
		values[7] = Int64GetDatum((int64) s->jobs_done);
		nulls[7] = (s->role != WR_WORKER);
		values[8] = Int64GetDatum((int64) s->jobs_failed);
		nulls[8] = (s->role != WR_WORKER);
		values[9] = TimestampTzGetDatum(s->started_at);
		nulls[9] = (s->started_at == 0);
		values[10] = TimestampTzGetDatum(s->heartbeat_at);
		nulls[10] = (s->heartbeat_at == 0);
		values[11] = CStringGetTextDatum(s->last_error);
		nulls[11] = (s->last_error[0] == '\0' || !see_errors);
		values[12] = TimestampTzGetDatum(s->last_error_at);
		nulls[12] = (s->last_error_at == 0);
		nulls[13] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	status_endpoints(rsinfo);
	return (Datum) 0;
}
