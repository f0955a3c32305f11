/*-------------------------------------------------------------------------
 *
 * call_log.c
 *		Rows of recgen.llm_calls that outlive the transaction that wrote
 *		them.
 *
 * An LLM call has cost its time and tokens whether or not the transaction
 * that made it commits, and failures must be counted in their own
 * transaction (DESIGN.md), yet an email() whose call failed raises an
 * error and rolls back everything it wrote. PostgreSQL has no autonomous
 * transactions, so:
 *
 * - every row is also kept in backend memory, with the subtransaction
 *   that wrote it, until the transaction ends;
 * - when that subtransaction or the whole transaction aborts, its rows are
 *   copied into a ring in shared memory (fixed-size records under an
 *   LWLock: nothing in the abort path allocates or can fail);
 * - the ring goes back into recgen.llm_calls, with the rows' original
 *   times, at the start of the next recgen.llm_chat in the same database
 *   by the same role, or when recgen.flush_llm_calls() is called. Those
 *   rows are tracked like new ones, so a second rollback returns them to
 *   the ring. A session writes back only its own role's rows (a superuser
 *   session, as the background workers run, every role's): rows of
 *   another role's call never enter a user's transaction.
 *
 * No role may INSERT into recgen.llm_calls (usage and cost are not the
 * caller's to write): the rows are inserted as the table's owner, the
 * superuser that created the extension, under a restricted security
 * context.
 *
 * When cancel (or any error) interrupts llm_chat's requests, llm.c puts a
 * row with the outcome "interrupted" for each request it had sent straight
 * into the ring (CallLogKeep), since no row could be written. The
 * ring holds RECGEN_CALL_RING rows; beyond that the oldest are dropped and
 * counted (a LOG line at the next flush). Without shared_preload_libraries
 * there is no ring: rolled-back rows are lost, and llm.c's LOG line is what
 * remains of a failed call.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/call_log.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "recgen.h"

/* A row written by this transaction, and the subtransaction that wrote it */
typedef struct TrackedCall
{
	CallRecord	rec;
	SubTransactionId subid;
} TrackedCall;

/* in TopMemoryContext; emptied when the transaction ends */
static TrackedCall *tracked = NULL;
static int	ntracked = 0;
static int	tracked_cap = 0;

/* the INSERT, prepared once per session (the plan cache revalidates it) */
static SPIPlanPtr insert_plan = NULL;

/*
 * CallRecordSetText
 *		Copy src (NULL: empty) into a fixed field, cut at a character
 *		boundary.
 */
void
CallRecordSetText(char *dst, size_t size, const char *src)
{
	int			len;

	if (src == NULL)
	{
		dst[0] = '\0';
		return;
	}
	len = strlen(src);
	if (len >= (int) size)
		len = pg_mbcliplen(src, len, size - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/*
 * reserve_tracked
 *		Room for n more tracked rows, so that tracking itself cannot fail
 *		once rows have left the ring.
 */
static void
reserve_tracked(int n)
{
	int			want = ntracked + n;

	if (want <= tracked_cap)
		return;
	want = Max(want, Max(tracked_cap * 2, 16));
	if (tracked == NULL)
		tracked = MemoryContextAlloc(TopMemoryContext, sizeof(TrackedCall) * want);
	else
		tracked = repalloc(tracked, sizeof(TrackedCall) * want);
	tracked_cap = want;
}

static void
track(const CallRecord *rec)
{
	Assert(ntracked < tracked_cap);
	tracked[ntracked].rec = *rec;
	tracked[ntracked].subid = GetCurrentSubTransactionId();
	ntracked++;
}

/*
 * ring_append
 *		Add a row to the ring, dropping the oldest when it is full. The
 *		caller holds the ring's lock.
 */
static void
ring_append(CallRing *ring, const CallRecord *rec)
{
	if (ring->count == RECGEN_CALL_RING)
	{
		ring->head = (ring->head + 1) % RECGEN_CALL_RING;
		ring->count--;
		ring->dropped++;
	}
	ring->rows[(ring->head + ring->count) % RECGEN_CALL_RING] = *rec;
	ring->count++;
}

/*
 * ring_take_tracked
 *		Move the tracked rows of subtransaction `from` and its children (ids
 *		at or above it) into the ring. Runs in the abort path: no
 *		allocation, no error.
 */
static void
ring_take_tracked(SubTransactionId from)
{
	RecgenSharedState *shared = RecgenShared();
	int			kept = 0;
	int			i;

	if (ntracked == 0)
		return;
	if (shared)
		LWLockAcquire(shared->call_ring_lock, LW_EXCLUSIVE);
	for (i = 0; i < ntracked; i++)
	{
		if (tracked[i].subid < from)
			tracked[kept++] = tracked[i];
		else if (shared)
			ring_append(&shared->call_ring, &tracked[i].rec);
	}
	if (shared)
		LWLockRelease(shared->call_ring_lock);
	ntracked = kept;
}

/*
 * CallLogKeep
 *		Put a row straight into the ring, for a call whose row could not be
 *		written because the statement is failing (llm_chat interrupted by
 *		cancel). No allocation; without a ring the row is lost.
 */
void
CallLogKeep(const CallRecord *rec)
{
	RecgenSharedState *shared = RecgenShared();
	CallRecord	copy = *rec;

	if (shared == NULL)
		return;
	copy.dbid = MyDatabaseId;
	copy.roleid = GetOuterUserId();
	LWLockAcquire(shared->call_ring_lock, LW_EXCLUSIVE);
	ring_append(&shared->call_ring, &copy);
	LWLockRelease(shared->call_ring_lock);
}

/*
 * forget_tracked
 *		The transaction ended: nothing is tracked any more. A large array is
 *		given back rather than kept for the session.
 */
static void
forget_tracked(void)
{
	ntracked = 0;
	if (tracked_cap > 1024)
	{
		pfree(tracked);
		tracked = NULL;
		tracked_cap = 0;
	}
}

static void
call_log_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			ring_take_tracked(TopSubTransactionId);
			forget_tracked();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			/* rows of aborted subtransactions went to the ring already */
			forget_tracked();
			break;
		default:
			break;
	}
}

static void
call_log_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	int			i;

	if (event == SUBXACT_EVENT_ABORT_SUB)
		ring_take_tracked(mySubid);
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
		for (i = 0; i < ntracked; i++)
			if (tracked[i].subid >= mySubid)
				tracked[i].subid = parentSubid;
}

/*
 * RecgenInstallCallLogHooks
 *		Called from _PG_init.
 */
void
RecgenInstallCallLogHooks(void)
{
	RegisterXactCallback(call_log_xact_callback, NULL);
	RegisterSubXactCallback(call_log_subxact_callback, NULL);
}

/*
 * insert_rows_as_owner
 *		The INSERT itself (insert_rows switches to the owner around it).
 */
static void
insert_rows_as_owner(CallRecord *recs, int n, int64 *ids)
{
	Oid			argtypes[13] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, INT4OID, INT4OID,
		FLOAT8OID, FLOAT8OID, INT4OID, INT4OID, TEXTOID, TEXTOID, TIMESTAMPTZOID};
	int			i;

	SPI_connect();
	if (insert_plan == NULL)
	{
		SPIPlanPtr	plan;

		plan = SPI_prepare("INSERT INTO recgen.llm_calls (customer_id, purpose, model, outcome,"
						   " http_status, attempts, latency_ms, server_ms, prompt_tokens,"
						   " completion_tokens, finish_reason, error, called_at)"
						   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
						   " RETURNING call_id", 13, argtypes);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		insert_plan = plan;
	}
	for (i = 0; i < n; i++)
	{
		CallRecord *r = &recs[i];
		Datum		values[13];
		char		nulls[13];
		bool		isnull;
		int			rc;

		memset(nulls, ' ', sizeof(nulls));
		values[0] = Int64GetDatum(r->customer_id);
		nulls[0] = r->has_customer ? ' ' : 'n';
		values[1] = CStringGetTextDatum(r->purpose);
		values[2] = CStringGetTextDatum(r->model);
		values[3] = CStringGetTextDatum(r->outcome);
		values[4] = Int32GetDatum(r->http_status);
		nulls[4] = r->http_status != 0 ? ' ' : 'n';
		values[5] = Int32GetDatum(r->attempts);
		values[6] = Float8GetDatum(r->latency_ms);
		values[7] = Float8GetDatum(r->server_ms);
		nulls[7] = r->server_ms >= 0 ? ' ' : 'n';
		values[8] = Int32GetDatum(r->prompt_tokens);
		values[9] = Int32GetDatum(r->completion_tokens);
		values[10] = CStringGetTextDatum(r->finish_reason);
		nulls[10] = r->finish_reason[0] ? ' ' : 'n';
		values[11] = CStringGetTextDatum(r->error);
		nulls[11] = r->error[0] ? ' ' : 'n';
		values[12] = TimestampTzGetDatum(r->called_at);
		rc = SPI_execute_plan(insert_plan, values, nulls, false, 1);
		if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
			elog(ERROR, "could not log an LLM call: %s", SPI_result_code_string(rc));
		if (ids)
			ids[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_finish();
}

/*
 * llm_calls_owner
 *		The owner of recgen.llm_calls, as whom the rows are inserted.
 */
static Oid
llm_calls_owner(void)
{
	Oid			relid = get_relname_relid("llm_calls", get_namespace_oid("recgen", false));
	HeapTuple	tup;
	Oid			owner;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"recgen.llm_calls\" does not exist")));
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * insert_rows
 *		INSERT the rows into recgen.llm_calls as the table's owner; their
 *		ids into ids[] when given.
 */
static void
insert_rows(CallRecord *recs, int n, int64 *ids)
{
	Oid			save_userid;
	int			save_sec_context;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(llm_calls_owner(),
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		insert_rows_as_owner(recs, n, ids);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();
}

/*
 * CallLogWrite
 *		Write rows of calls just made to recgen.llm_calls, kept safe from a
 *		rollback as the file header explains; their call_ids into ids[].
 */
void
CallLogWrite(CallRecord *recs, int n, int64 *ids)
{
	int			i;

	reserve_tracked(n);
	for (i = 0; i < n; i++)
	{
		recs[i].dbid = MyDatabaseId;
		recs[i].roleid = GetOuterUserId();
		track(&recs[i]);
	}
	insert_rows(recs, n, ids);
}

/*
 * write_back
 *		INSERT rows taken from the ring, in a subtransaction: a row that
 *		cannot be written (a constraint added since, a revoked privilege)
 *		is dropped with a LOG line instead of failing every later call of
 *		the database. Cancel is passed on. Returns whether they were
 *		written.
 */
static bool
write_back(CallRecord *rows, int n)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool written = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		insert_rows(rows, n, NULL);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		written = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(edata);
		ereport(LOG,
				(errmsg("recgen: %d recgen.llm_calls rows of rolled-back transactions could not be written back: %s",
						n, edata->message)));
		FreeErrorData(edata);
	}
	PG_END_TRY();
	return written;
}

/*
 * mine
 *		Whether this session writes back a row of the ring: this database's,
 *		and made by the current role unless every role's are taken.
 */
static inline bool
mine(const CallRecord *r, Oid role, bool any_role)
{
	return r->dbid == MyDatabaseId && (any_role || r->roleid == role);
}

/*
 * CallLogFlush
 *		Write this database's rows of the current role (every role's for a
 *		superuser) from the ring back to recgen.llm_calls. Returns how many
 *		were written.
 */
int
CallLogFlush(void)
{
	RecgenSharedState *shared = RecgenShared();
	CallRing   *ring;
	CallRecord *rows;
	uint64		dropped;
	int			room;
	int			kept = 0;
	int			n = 0;
	int			i;
	Oid			role = GetOuterUserId();
	bool		any_role;

	/* an unlocked look first: the common case is an empty ring */
	if (shared == NULL || shared->call_ring.count == 0)
		return 0;
	ring = &shared->call_ring;
	any_role = superuser_arg(role);

	/*
	 * Count this database's rows under a shared lock, so that rows of
	 * other databases cost every call only a scan, not an allocation. Rows
	 * that arrive meanwhile wait for the next flush.
	 */
	room = 0;
	LWLockAcquire(shared->call_ring_lock, LW_SHARED);
	for (i = 0; i < ring->count; i++)
		if (mine(&ring->rows[(ring->head + i) % RECGEN_CALL_RING], role, any_role))
			room++;
	LWLockRelease(shared->call_ring_lock);
	if (room == 0)
		return 0;
	rows = palloc(sizeof(CallRecord) * room);
	reserve_tracked(room);

	LWLockAcquire(shared->call_ring_lock, LW_EXCLUSIVE);
	for (i = 0; i < ring->count; i++)
	{
		CallRecord *r = &ring->rows[(ring->head + i) % RECGEN_CALL_RING];

		if (mine(r, role, any_role) && n < room)
		{
			rows[n] = *r;
			track(&rows[n]);	/* from here a rollback returns it */
			n++;
		}
		else
		{
			if (kept != i)
				ring->rows[(ring->head + kept) % RECGEN_CALL_RING] = *r;
			kept++;
		}
	}
	ring->count = kept;
	dropped = ring->dropped;
	ring->dropped = 0;
	LWLockRelease(shared->call_ring_lock);

	if (dropped > 0)
		ereport(LOG,
				(errmsg("recgen: %llu recgen.llm_calls rows of rolled-back transactions were lost",
						(unsigned long long) dropped),
				 errdetail("More than %d rows waited to be written back at once.", RECGEN_CALL_RING)));
	if (n > 0 && !write_back(rows, n))
		n = 0;
	pfree(rows);
	return n;
}

/*
 * recgen_flush_llm_calls
 *		recgen.flush_llm_calls() -> integer
 */
PG_FUNCTION_INFO_V1(recgen_flush_llm_calls);
Datum
recgen_flush_llm_calls(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(CallLogFlush());
}
