/*-------------------------------------------------------------------------
 *
 * catalog_generation.c
 *		A counter in shared memory that every committed change of
 *		recgen.products advances, so per-backend caches of product facts
 *		(product_cache.c) know when to read again.
 *
 * A statement trigger on recgen.products (INSERT, UPDATE, DELETE,
 * TRUNCATE; ENABLE ALWAYS, so logical replication fires it too) marks the
 * transaction; its commit advances the counter. The transaction callback
 * runs after the commit is visible in the proc array, so a reader that
 * sees generation g and then takes a new snapshot sees every change
 * counted in g. COMMIT PREPARED makes an earlier PREPARE's changes
 * visible in whatever backend runs it, so it advances the counter too.
 *
 * The backend that changed products and has not committed yet must see
 * its own changes: CatalogGeneration() then says "no cache", as it does
 * without shared memory (recgen not preloaded).
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/catalog_generation.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "catalog_cache.h"
#include "shmem.h"

/* this transaction changed recgen.products */
static bool catalog_changed_here = false;
static ProcessUtility_hook_type prev_process_utility = NULL;

/*
 * advance
 *		Count one committed change.
 */
static void
advance(void)
{
	RecgenSharedState *shared = RecgenShared();

	if (shared)
		pg_atomic_fetch_add_u64(&shared->catalog_generation, 1);
}

/*
 * catalog_xact_callback
 *		At commit of a transaction that changed products, advance; at any
 *		end, forget the mark. PREPARE only forgets: the changes become
 *		visible at COMMIT PREPARED (see catalog_process_utility).
 */
static void
catalog_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
			if (catalog_changed_here)
				advance();
			catalog_changed_here = false;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_ABORT:
			catalog_changed_here = false;
			break;
		default:
			break;
	}
}

/*
 * catalog_process_utility
 *		COMMIT PREPARED may publish products changes of another session.
 */
static void
catalog_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
						ProcessUtilityContext context, ParamListInfo params,
						QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	bool		commit_prepared = IsA(parsetree, TransactionStmt) &&
		((TransactionStmt *) parsetree)->kind == TRANS_STMT_COMMIT_PREPARED;

	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context, params,
							 queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
	if (commit_prepared)
		advance();
}

/*
 * RecgenInstallCatalogHooks
 *		Called from _PG_init.
 */
void
RecgenInstallCatalogHooks(void)
{
	RegisterXactCallback(catalog_xact_callback, NULL);
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = catalog_process_utility;
}

/*
 * CatalogGeneration
 *		The current generation, read before any snapshot the caller takes
 *		next. False when there is none to trust: no shared memory, or this
 *		transaction changed products itself.
 */
bool
CatalogGeneration(uint64 *generation)
{
	RecgenSharedState *shared = RecgenShared();

	if (shared == NULL || catalog_changed_here)
		return false;
	*generation = pg_atomic_read_u64(&shared->catalog_generation);
	pg_memory_barrier();
	return true;
}

/*
 * recgen_products_changed
 *		Statement trigger on recgen.products: mark the transaction.
 */
PG_FUNCTION_INFO_V1(recgen_products_changed);
Datum
recgen_products_changed(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("recgen.products_changed() must be called as a trigger")));
	catalog_changed_here = true;
	PG_RETURN_POINTER(NULL);
}

/*
 * CatalogCacheCheck
 *		Whether a per-backend cache of product data may be used in this
 *		call: false where no generation can be trusted (see above) or the
 *		transaction keeps one snapshot (REPEATABLE READ, SERIALIZABLE: its
 *		statements expect that snapshot's data). When it may, *fresh says
 *		whether key still matches; when not, key now holds the new values
 *		with valid = false, and the caller empties the cache and sets valid
 *		once it holds data of the new key. Data read for the cache must be
 *		read with a snapshot taken after this call (GetLatestSnapshot()).
 */
bool
CatalogCacheCheck(CatalogCacheKey *key, bool *fresh)
{
	uint64		generation;
	Oid			user = GetUserId();
	Oid			relid;

	if (IsolationUsesXactSnapshot() || !CatalogGeneration(&generation))
		return false;
	relid = get_relname_relid("products", get_namespace_oid("recgen", false));
	*fresh = key->valid && key->generation == generation && key->user == user &&
		key->relid == relid;
	if (!*fresh)
	{
		key->valid = false;
		key->generation = generation;
		key->user = user;
		key->relid = relid;
	}
	return true;
}

/*
 * CatalogCacheSelect
 *		Run a read-only SELECT of product data: with a new snapshot when
 *		the rows go to a cache (for_cache; see CatalogCacheCheck), else
 *		with the statement's. what names the data in the error.
 */
void
CatalogCacheSelect(SPIPlanPtr plan, Datum *args, bool for_cache, const char *what)
{
	int			ret;

	if (for_cache)
		ret = SPI_execute_snapshot(plan, args, NULL, GetLatestSnapshot(),
								   InvalidSnapshot, true, false, 0);
	else
		ret = SPI_execute_plan(plan, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading %s failed: %s", what, SPI_result_code_string(ret));
}
