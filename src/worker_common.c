/*-------------------------------------------------------------------------
 *
 * worker_common.c
 *		What the schedulers and the workers share: starting up in their
 *		database, checking that the extension is there, and the throttled
 *		NOTIFY recgen_jobs.
 *
 * Start-up: signals as in worker_spi (SIGHUP reloads the configuration,
 * SIGTERM is die(), which ends the process at the next interrupt check;
 * the loops also look at ProcDiePending themselves to give jobs back
 * before they exit), the slot the launcher reserved, then the connection
 * to the database as the bootstrap superuser. Jobs themselves run as
 * recgen_worker (job_exec.c).
 *
 * NOTIFY: a final state (completed, cancelled, discarded) sends
 * {"job_id", "kind", "state"} on channel recgen_jobs, in the transaction
 * that finalizes the job, so it is delivered only if that commits. Past
 * recgen.notify_rate messages per second and database, final states are
 * only counted, and the database's scheduler sends them as one summary
 * {"summary": true, "completed", "cancelled", "discarded"} a second later.
 * Payloads never carry customer ids: any role that may connect can LISTEN.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/worker_common.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/async.h"
#include "commands/extension.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "worker.h"

/*
 * WorkerConnect
 *		Start-up of a scheduler or worker: signals, the slot the launcher
 *		reserved (arg), the database. Exits when the slot is not ours.
 */
void
WorkerConnect(Datum arg, WorkerRole role)
{
	int			slotno = DatumGetInt32(arg);
	WorkerShared *ws = WorkerShmem();
	Oid			dboid;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	if (ws == NULL || WorkerSlotAttach(slotno, role) != slotno)
		proc_exit(0);
	dboid = ws->slots[slotno].dboid;
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname(role == WR_SCHEDULER ? "recgen scheduler" : "recgen worker");
}

/*
 * WorkerBegin
 *		Start a transaction with a snapshot. A background worker must set
 *		the statement start time itself: now() is the transaction's start,
 *		taken from it, and leases are computed with now().
 */
void
WorkerBegin(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
}

/*
 * WorkerCommit
 *		Commit what WorkerBegin started, and report statistics now and then.
 */
void
WorkerCommit(void)
{
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
}

/*
 * WorkerExtensionReady
 *		Whether this database has recgen with its job queue (a 0.1.0
 *		install has none). Needs a transaction.
 */
bool
WorkerExtensionReady(void)
{
	Oid			nsp;

	if (!OidIsValid(get_extension_oid("recgen", true)))
		return false;
	nsp = get_namespace_oid("recgen", true);
	return OidIsValid(nsp) && OidIsValid(get_relname_relid("jobs", nsp));
}

/*
 * notify_index
 *		The counter of a final state.
 */
static int
notify_index(const char *state)
{
	if (strcmp(state, "completed") == 0)
		return 0;
	if (strcmp(state, "cancelled") == 0)
		return 1;
	return 2;
}

/*
 * WorkerNotifyFinal
 *		A job reached a final state in the current transaction: NOTIFY it,
 *		or count it when the database's rate is spent (see the header).
 *		Without shared memory every final state is sent.
 */
void
WorkerNotifyFinal(int64 job_id, const char *kind, const char *state)
{
	WorkerShared *ws = WorkerShmem();
	bool		send = true;
	StringInfoData payload;

	if (ws)
	{
		TimestampTz now = GetCurrentTimestamp();
		WorkerDatabase *db;

		LWLockAcquire(ws->lock, LW_EXCLUSIVE);
		db = WorkerFindDatabase(MyDatabaseId, true);
		if (db)
		{
			if (TimestampDifferenceExceeds(db->notify_window, now, 1000))
			{
				db->notify_window = now;
				db->notify_sent = 0;
			}
			if (db->notify_sent < recgen_notify_rate)
				db->notify_sent++;
			else
			{
				db->suppressed[notify_index(state)]++;
				send = false;
			}
		}
		LWLockRelease(ws->lock);
	}
	if (!send)
		return;
	initStringInfo(&payload);
	appendStringInfo(&payload, "{\"job_id\": " INT64_FORMAT ", \"kind\": ", job_id);
	escape_json(&payload, kind);
	appendStringInfoString(&payload, ", \"state\": ");
	escape_json(&payload, state);
	appendStringInfoChar(&payload, '}');
	Async_Notify("recgen_jobs", payload.data);
	pfree(payload.data);
}

/*
 * WorkerNotifyFlush
 *		Send the summary of the final states that were only counted, once
 *		the window they fell in has passed. Called by the scheduler inside a
 *		transaction.
 */
void
WorkerNotifyFlush(void)
{
	WorkerShared *ws = WorkerShmem();
	WorkerDatabase *db;
	uint32		counts[3] = {0, 0, 0};
	TimestampTz now = GetCurrentTimestamp();
	char		payload[160];

	if (ws == NULL)
		return;
	LWLockAcquire(ws->lock, LW_EXCLUSIVE);
	db = WorkerFindDatabase(MyDatabaseId, false);
	if (db && (db->suppressed[0] | db->suppressed[1] | db->suppressed[2]) != 0 &&
		TimestampDifferenceExceeds(db->notify_window, now, 1000))
	{
		memcpy(counts, db->suppressed, sizeof(counts));
		memset(db->suppressed, 0, sizeof(db->suppressed));
	}
	LWLockRelease(ws->lock);
	if ((counts[0] | counts[1] | counts[2]) == 0)
		return;
	snprintf(payload, sizeof(payload),
			 "{\"summary\": true, \"completed\": %u, \"cancelled\": %u, \"discarded\": %u}",
			 counts[0], counts[1], counts[2]);
	Async_Notify("recgen_jobs", payload);
}
