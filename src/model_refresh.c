/*-------------------------------------------------------------------------
 *
 * model_refresh.c
 *		recgen.refresh_model(as_of): builds the recommendation model from
 *		the events before as_of.
 *
 * What is built, under a new model_id:
 *	- co-occurrence neighbours: every basket (basket_id of a customer's
 *	  events, or of an anonymous basket) and every customer's recent
 *	  history (the recgen.model_history_items most recent distinct items,
 *	  weighted recgen.model_history_weight) is a "transaction". For items
 *	  i and j, c(i,j) is the weighted number of transactions holding both
 *	  and n(i) the weighted number holding i; the score is the cosine
 *	  c / sqrt(n(i) n(j)) shrunk by c / (c + recgen.model_shrinkage), and
 *	  the recgen.model_neighbors best are kept per item (kind "cooc");
 *	- content neighbours (model_content.c, kind "content");
 *	- popularity and trend per item, overall and per segment and country
 *	  (model_popularity.c, counted during the same scan of the events;
 *	  recgen.model_scope_items per segment and country);
 *	- purchase profiles of the customer pool, for customer neighbours
 *	  (model_customers.c, recgen.customer_profiles).
 *
 * Consent: only events of customers with consent_profiling are read
 * (model_events.c filters in its queries: the function runs as the
 * extension owner, SECURITY DEFINER, usually a superuser whom row-level
 * security does not bind). Anonymous baskets carry no person and are used.
 *
 * Files: this one holds the SQL function, the catalog read and the swap;
 * model_events.c the event scans (transactions, popularity counts),
 * model_cooc.c and model_content.c the neighbour builders, and
 * model_popularity.c the popularity rows. The state of a build is one
 * ModelBuild (model_build.h) in a memory context of its own, passed down
 * to every step and deleted at the end: nothing of a build outlives it.
 *
 * Swap: everything runs in the caller's transaction. The new rows, the
 * move of recgen.model_current and the deletion of the previous model's
 * rows commit together, so readers never see a half-built model (MVCC),
 * and they are not blocked meanwhile: the refresh takes an EXCLUSIVE lock
 * on recgen.model_current, which only conflicts with another refresh.
 *
 * Progress: each phase and every 1,000 items the function's entry in
 * pg_stat_activity.query is set to "recgen.refresh_model: <phase> i/n",
 * and a DEBUG1 message is logged. Every step checks for interrupts per
 * bounded unit of work (an event, a transaction of an item, a token of a
 * product), and an error (a cancel included) carries the phase and how
 * far it got in its context.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/model_refresh.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "portability/instr_time.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "engine.h"
#include "model_build.h"
#include "spi_util.h"

/*
 * read_catalog
 *		The catalog sorted by id, with what content similarity needs:
 *		category, tags and name with description, lower-cased by the
 *		database (its collation decides what lower case is).
 */
static void
read_catalog(ModelBuild *mb)
{
	uint64		n;
	int64	   *ids;
	MemoryContext old;

	n = SpiRunChecked("SELECT product_id, lower(category), "
					  "(SELECT array_agg(lower(t)) FROM unnest(tags) AS t), "
					  "lower(name || ' ' || coalesce(description, '')) "
					  "FROM recgen.products ORDER BY product_id",
					  0, NULL, NULL, true, SPI_OK_SELECT);
	old = MemoryContextSwitchTo(mb->cxt);
	ids = palloc(sizeof(int64) * Max(n, 1));
	mb->category = palloc(sizeof(char *) * Max(n, 1));
	mb->tags = palloc(sizeof(ArrayType *) * Max(n, 1));
	mb->doc = palloc(sizeof(char *) * Max(n, 1));
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d;

		ids[i] = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		mb->category[i] = SPI_getvalue(tup, desc, 2);
		d = SPI_getbinval(tup, desc, 3, &isnull);
		mb->tags[i] = isnull ? NULL : DatumGetArrayTypePCopy(d);
		mb->doc[i] = SPI_getvalue(tup, desc, 4);
	}
	ModelItemsInit(&mb->items, ids, (int) n);
	MemoryContextSwitchTo(old);
	SPI_freetuptable(SPI_tuptable);
}

/*
 * start_model
 *		Lock out other refreshes and register the new model with the
 *		settings it is built with; returns its id.
 */
static int64
start_model(TimestampTz as_of)
{
	char		params[512];
	Oid			argtypes[2] = {TIMESTAMPTZOID, TEXTOID};
	Datum		args[2];
	bool		isnull;

	/* one refresh at a time; readers (ACCESS SHARE) are not blocked */
	SpiRunChecked("LOCK TABLE recgen.model_current IN EXCLUSIVE MODE", 0, NULL, NULL,
				  false, SPI_OK_UTILITY);
	snprintf(params, sizeof(params),
			 "{\"max_basket\": %d, \"neighbors\": %d, \"shrinkage\": %g, "
			 "\"history_items\": %d, \"history_weight\": %g, \"content_max_df\": %g, "
			 "\"half_life_s\": %d, \"scope_items\": %d, \"customer_pool\": %d, "
			 "\"neighbor_half_life_s\": %d}",
			 recgen_model_max_basket, recgen_model_neighbors, recgen_model_shrinkage,
			 recgen_model_history_items, recgen_model_history_weight,
			 recgen_model_content_max_df, recgen_recency_half_life, recgen_model_scope_items,
			 recgen_model_customer_pool, recgen_neighbor_half_life);
	args[0] = TimestampTzGetDatum(as_of);
	args[1] = CStringGetTextDatum(params);
	SpiRunChecked("INSERT INTO recgen.models (as_of, params) VALUES ($1, $2::jsonb) RETURNING model_id",
				  2, argtypes, args, false, SPI_OK_INSERT_RETURNING);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * has_profiles_table
 *		Whether recgen.customer_profiles exists (0.2.0 and later; the
 *		library may meet a 0.1.0 schema before ALTER EXTENSION UPDATE).
 */
static bool
has_profiles_table(void)
{
	bool		isnull;
	bool		has;

	SpiRunChecked("SELECT to_regclass('recgen.customer_profiles') IS NOT NULL",
				  0, NULL, NULL, true, SPI_OK_SELECT);
	has = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return has;
}

/*
 * swap_model
 *		Make model_id current and drop the previous model's rows (profiles:
 *		the schema has recgen.customer_profiles); returns the number of
 *		items with at least one neighbour.
 */
static int
swap_model(ModelBuild *mb, bool profiles)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(mb->model_id)};
	bool		isnull;
	int			items;

	SpiRunChecked("SELECT count(DISTINCT product_id) FROM recgen.item_neighbors WHERE model_id = $1",
				  1, argtypes, args, false, SPI_OK_SELECT);
	items = (int) DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	ModelProgress(mb, "swap", 0, 1);
	SpiRunChecked("INSERT INTO recgen.model_current (singleton, model_id) VALUES (true, $1) "
				  "ON CONFLICT (singleton) DO UPDATE SET model_id = EXCLUDED.model_id",
				  1, argtypes, args, false, SPI_OK_INSERT);
	SpiRunChecked("DELETE FROM recgen.item_neighbors WHERE model_id <> $1",
				  1, argtypes, args, false, SPI_OK_DELETE);
	SpiRunChecked("DELETE FROM recgen.item_popularity WHERE model_id <> $1",
				  1, argtypes, args, false, SPI_OK_DELETE);
	if (profiles)
		SpiRunChecked("DELETE FROM recgen.customer_profiles WHERE model_id <> $1",
					  1, argtypes, args, false, SPI_OK_DELETE);

	/* fresh statistics, so that recommend()'s plans use the indexes */
	SpiRunChecked("ANALYZE recgen.item_neighbors", 0, NULL, NULL, false, SPI_OK_UTILITY);
	SpiRunChecked("ANALYZE recgen.item_popularity", 0, NULL, NULL, false, SPI_OK_UTILITY);
	if (profiles)
		SpiRunChecked("ANALYZE recgen.customer_profiles", 0, NULL, NULL, false, SPI_OK_UTILITY);
	return items;
}

/*
 * recgen_refresh_model
 *		SQL: recgen.refresh_model(as_of timestamptz) returns (model_id,
 *		items, pairs, ms). See the file header.
 */
PG_FUNCTION_INFO_V1(recgen_refresh_model);
Datum
recgen_refresh_model(PG_FUNCTION_ARGS)
{
	instr_time	t0,
				t1;
	TupleDesc	tupdesc;
	MemoryContext old_cxt;
	ModelBuild	mb;
	ErrorContextCallback errcb;
	int64		pairs;
	int			items_with_neighbors;
	int64		total_pairs;
	int64		model_id;
	bool		profiles;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	double		ms;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("as_of must not be null")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	INSTR_TIME_SET_CURRENT(t0);
	memset(&mb, 0, sizeof(mb));
	mb.as_of = PG_GETARG_TIMESTAMPTZ(0);
	mb.cxt = AllocSetContextCreate(CurrentMemoryContext, "recgen model build",
								   ALLOCSET_DEFAULT_SIZES);
	errcb.callback = ModelErrorContext;
	errcb.arg = &mb;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	mb.model_id = start_model(mb.as_of);
	profiles = has_profiles_table();
	read_catalog(&mb);

	/* the steps allocate in the build's context; SPI calls in SPI's */
	old_cxt = MemoryContextSwitchTo(mb.cxt);
	mb.pop = PopAccumCreate(mb.as_of, mb.items.nitems);
	NeighborSinkInit(&mb.sink, mb.model_id, 50000);
	ModelLoadEvents(&mb);
	pairs = ModelBuildCooccurrence(&mb);
	pairs += ModelBuildContent(&mb);
	ModelProgress(&mb, "popularity", 0, 1);
	PopAccumWrite(mb.pop, mb.model_id, mb.items.item_ids);
	if (profiles)
		ModelWriteProfiles(&mb);
	MemoryContextSwitchTo(old_cxt);

	items_with_neighbors = swap_model(&mb, profiles);
	total_pairs = mb.sink.total;
	model_id = mb.model_id;

	INSTR_TIME_SET_CURRENT(t1);
	INSTR_TIME_SUBTRACT(t1, t0);
	ms = INSTR_TIME_GET_MILLISEC(t1);
	{
		Oid			ut[4] = {INT8OID, INT4OID, INT8OID, FLOAT8OID};
		Datum		ua[4] = {Int64GetDatum(model_id), Int32GetDatum(items_with_neighbors),
		Int64GetDatum(total_pairs), Float8GetDatum(ms)};

		SpiRunChecked("UPDATE recgen.models SET items = $2, pairs = $3, ms = $4 WHERE model_id = $1",
					  4, ut, ua, false, SPI_OK_UPDATE);
	}
	SPI_finish();
	error_context_stack = errcb.previous;
	MemoryContextDelete(mb.cxt);
	ereport(DEBUG1, (errmsg_internal("recgen.refresh_model: " INT64_FORMAT " co-occurring pairs", pairs)));
	/* give pg_stat_activity its query back */
	if (debug_query_string)
		pgstat_report_activity(STATE_RUNNING, debug_query_string);

	values[0] = Int64GetDatum(model_id);
	values[1] = Int32GetDatum(items_with_neighbors);
	values[2] = Int64GetDatum(total_pairs);
	values[3] = Float8GetDatum(ms);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
