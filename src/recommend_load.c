/*-------------------------------------------------------------------------
 *
 * recommend_load.c
 *		The queries of recgen.recommend(): consent and customer, the
 *		customer's history, candidates (neighbours from the model cache,
 *		popular, new and same-category items), product facts and concerns.
 *
 * Every query runs with the caller's rights, so row-level security
 * applies. Plans are prepared once per backend and kept (KeptQuery);
 * the plan cache re-plans them after DDL. Product facts (stock, active,
 * price...) come from product_cache.c, which reads them again after any
 * committed catalog change; neighbour lists and overall popularity come
 * from model_cache.c.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/recommend_load.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "engine.h"
#include "recommend.h"
#include "spi_util.h"

enum
{
	Q_CONSENT,
	Q_CUSTOMER,
	Q_HISTORY,
	Q_POPULAR,
	Q_NEWITEMS,
	Q_CATEGORY,
	Q_COUNT
};

static KeptQuery queries[Q_COUNT] = {
	{"SELECT recgen.check_consent($1, 'profiling')", 1, {INT8OID}},
	{"SELECT m.model_id, m.built_at, c.segment, c.country, "
		"to_regclass('recgen.customer_concerns') IS NOT NULL "
		"AND to_regclass('recgen.concern_topics') IS NOT NULL, c.consent_profiling "
		"FROM recgen.customers c LEFT JOIN (recgen.model_current mc "
		"JOIN recgen.models m ON m.model_id = mc.model_id) ON true "
		"WHERE c.customer_id = $1", 1, {INT8OID}},
	{"SELECT e.product_id, CASE e.kind WHEN 'cart_add' THEN 0 WHEN 'click' THEN 1 "
		"WHEN 'purchase' THEN 2 WHEN 'view' THEN 3 ELSE -1 END, e.occurred_at "
		"FROM recgen.events e WHERE e.customer_id = $1 AND e.occurred_at < $2 "
		"ORDER BY e.occurred_at DESC", 2, {INT8OID, TIMESTAMPTZOID}},
	{"SELECT product_id, score::float8 FROM recgen.item_popularity "
		"WHERE model_id = $1 AND scope = $2 AND scope_value = $3 AND rank <= $4 ORDER BY rank",
	4, {INT8OID, TEXTOID, TEXTOID, INT4OID}},
	{"SELECT product_id FROM recgen.products WHERE active AND created_at >= $1 "
		"AND coalesce(stock, 1) > 0 ORDER BY created_at DESC, product_id LIMIT 500",
	1, {TIMESTAMPTZOID}},
	{"SELECT product_id FROM recgen.products WHERE active AND category = ANY($1) "
		"AND coalesce(stock, 1) > 0 ORDER BY price, product_id LIMIT 500", 1, {TEXTARRAYOID}}
};

/*
 * run_query
 *		Execute one of the fixed queries (read-only).
 */
static void
run_query(int which, Datum *args)
{
	KeptQueryRun(&queries[which], args, true, SPI_OK_SELECT);
}

/*
 * RecCheckCustomer
 *		The customer's segment and country and the current model, after
 *		the consent check. recgen.check_consent() raises the errors for an
 *		unknown customer and a missing consent; it is only called when the
 *		customer's row (read with the caller's rights) is missing or does
 *		not show consent_profiling, since it would pass otherwise.
 */
void
RecCheckCustomer(int64 customer_id, RecCustomer *cust)
{
	Datum		args[1] = {Int64GetDatum(customer_id)};
	bool		visible = false;
	bool		consent = false;
	bool		no_model = true;

	run_query(Q_CUSTOMER, args);
	if (SPI_processed > 0)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;

		visible = true;
		cust->model_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &no_model));
		cust->built_at = DatumGetTimestampTz(SPI_getbinval(tup, desc, 2, &isnull));
		cust->segment = SPI_getvalue(tup, desc, 3);
		cust->country = SPI_getvalue(tup, desc, 4);
		cust->concern_tables = DatumGetBool(SPI_getbinval(tup, desc, 5, &isnull));
		consent = DatumGetBool(SPI_getbinval(tup, desc, 6, &isnull));
		consent = consent && !isnull;
	}
	SPI_freetuptable(SPI_tuptable);

	/* raises the error, unless the row is only hidden from the caller */
	if (!consent)
	{
		run_query(Q_CONSENT, args);
		SPI_freetuptable(SPI_tuptable);
	}
	if (!visible)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("customer " INT64_FORMAT " is not visible to the current user", customer_id)));
	if (no_model)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no recommendation model has been built"),
				 errhint("Run SELECT * FROM recgen.refresh_model(); as recgen_admin.")));
}

/*
 * RecLoadHistory
 *		The customer's events before as_of, newest first, aggregated per
 *		item here: w(h) = sum of kind weight times 2^(-age / half-life),
 *		age counted from the latest event (with or without a product),
 *		purchases, last purchase and decayed purchases. Returns the largest
 *		decayed purchases (to normalize repeats).
 */
double
RecLoadHistory(RecItems *items, int64 customer_id, TimestampTz as_of)
{
	/* kinds by slot, in the order their weights are summed: cart_add, click, purchase, view */
	static const double kind_weight[4] = {0.5, 0.25, 1.0, 0.1};
	Datum		args[2];
	double		maxrep = 0;
	double		half_life = (double) recgen_recency_half_life;
	TimestampTz anchor = 0;
	RecItem    *it;

	args[0] = Int64GetDatum(customer_id);
	args[1] = TimestampTzGetDatum(as_of);
	run_query(Q_HISTORY, args);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		bool		no_product;
		Datum		id = SPI_getbinval(tup, desc, 1, &no_product);
		int			slot = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
		TimestampTz at = DatumGetTimestampTz(SPI_getbinval(tup, desc, 3, &isnull));
		double		age;

		if (r == 0)
			anchor = at;		/* newest first, with or without a product */
		if (no_product)
			continue;
		it = RecItemGet(items, DatumGetInt64(id));
		if (slot < 0)
			continue;
		/* as extract(epoch FROM anchor - at): exact seconds */
		age = (double) (anchor - at) / USECS_PER_SEC;
		it->kindw[slot] += pow(2.0, -age / half_life);
		if (slot == 2)
		{
			it->purchases++;
			if (it->purchases == 1 || at > it->last_purchase)
				it->last_purchase = at;
		}
	}
	SPI_freetuptable(SPI_tuptable);

	/* w in a fixed order of kinds, whatever the order of the rows */
	for (int i = 0; i < RecItemsCount(items); i++)
	{
		it = RecItemsAt(items, i);
		it->w = 0;
		for (int k = 0; k < 4; k++)
			it->w += kind_weight[k] * it->kindw[k];
		if (it->purchases > 0)
		{
			it->rep = it->kindw[2];
			maxrep = Max(maxrep, it->rep);
		}
	}
	return maxrep;
}

/*
 * RecCollectNeighbors
 *		The neighbour links of the history items, from the model cache
 *		(content before co-occurrence, history order), each neighbour
 *		becoming a candidate. Returns the links, their number in *nnb.
 *		Neighbours are found through a per-call array by model slot, so
 *		the items table is probed once per distinct neighbour.
 */
NeighborRow *
RecCollectNeighbors(RecItems *items, RecItem **hist, int nhist, int *nnb)
{
	static const int kinds[2] = {MODEL_NB_CONTENT, MODEL_NB_COOC};
	int			cap = 256;
	int			n = 0;
	NeighborRow *rows = palloc(sizeof(NeighborRow) * cap);
	RecItem   **by_slot = palloc0(sizeof(RecItem *) * Max(ModelCacheSize(), 1));

	for (int i = 0; i < nhist; i++)
	{
		const ModelItem *m = ModelCacheItem(hist[i]->product_id);

		if (m == NULL)
			continue;
		for (int k = 0; k < 2; k++)
		{
			const ModelNeighbors *nb = &m->nb[kinds[k]];

			for (int j = 0; j < nb->n; j++)
			{
				if (n >= cap)
				{
					cap *= 2;
					rows = repalloc(rows, sizeof(NeighborRow) * cap);
				}
				rows[n].h = hist[i];
				if (by_slot[nb->slots[j]] == NULL)
				{
					by_slot[nb->slots[j]] = RecItemGet(items, nb->ids[j]);
					by_slot[nb->slots[j]]->candidate = true;
				}
				rows[n].c = by_slot[nb->slots[j]];
				rows[n].content = (kinds[k] == MODEL_NB_CONTENT);
				rows[n].s = nb->scores[j];
				n++;
			}
		}
	}
	pfree(by_slot);
	*nnb = n;
	return rows;
}

/*
 * add_popular
 *		Mark a popular item as a candidate, keeping the first scope's score.
 */
static void
add_popular(RecItems *items, int64 id, double s, const char *reason)
{
	RecItem    *c = RecItemGet(items, id);

	c->candidate = true;
	if (c->pop_reason == NULL)
	{
		c->pop_scope = s;
		c->pop_reason = reason;
	}
}

/*
 * RecLoadPopular
 *		Add the top popular items of a scope as candidates; returns how
 *		many. The overall list comes from the model cache.
 */
int
RecLoadPopular(RecItems *items, int64 model_id, const char *scope, const char *value,
			   int limit, const char *reason)
{
	Datum		args[4];
	int			n;

	if (value == NULL)
		return 0;
	if (strcmp(scope, "all") == 0)
	{
		const int64 *ids;
		const double *scores;

		n = ModelCachePopular(limit, &ids, &scores);
		for (int i = 0; i < n; i++)
			add_popular(items, ids[i], scores[i], reason);
		return n;
	}
	args[0] = Int64GetDatum(model_id);
	args[1] = CStringGetTextDatum(scope);
	args[2] = CStringGetTextDatum(value);
	args[3] = Int32GetDatum(limit);
	run_query(Q_POPULAR, args);
	n = (int) SPI_processed;
	for (int i = 0; i < n; i++)
	{
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		double		s = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));

		add_popular(items, id, s, reason);
	}
	SPI_freetuptable(SPI_tuptable);
	return n;
}

/*
 * RecLoadNewItems
 *		Products created since `since' (active, in stock) as candidates.
 */
void
RecLoadNewItems(RecItems *items, TimestampTz since)
{
	Datum		args[1] = {TimestampTzGetDatum(since)};

	run_query(Q_NEWITEMS, args);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;

		RecItemGet(items, DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r],
													  SPI_tuptable->tupdesc, 1, &isnull)))->candidate = true;
	}
	SPI_freetuptable(SPI_tuptable);
}

/*
 * RecLoadCategoryItems
 *		Upsell: every product of the history's categories (active, in
 *		stock, cheapest first, at most 500) as candidates. Returns how many
 *		of them were not items yet.
 */
int
RecLoadCategoryItems(RecItems *items, RecItem **hist, int nhist)
{
	Datum	   *cats = palloc(sizeof(Datum) * Max(nhist, 1));
	int			nc = 0;
	int			nnew = 0;
	Datum		args[1];

	for (int i = 0; i < nhist; i++)
		if (hist[i]->prod.category)
			cats[nc++] = CStringGetTextDatum(hist[i]->prod.category);
	args[0] = PointerGetDatum(construct_array(cats, nc, TEXTOID, -1, false, TYPALIGN_INT));
	run_query(Q_CATEGORY, args);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));

		if (RecItemFind(items, id) == NULL)
			nnew++;
		RecItemGet(items, id)->candidate = true;
	}
	SPI_freetuptable(SPI_tuptable);
	return nnew;
}

/*
 * RecLoadProducts
 *		Facts about the history items and candidates not read yet (from
 *		the product cache, which reads what it lacks), and their overall
 *		popularity (model cache).
 */
void
RecLoadProducts(RecItems *items, TimestampTz as_of)
{
	RecItem    *it;
	int			nitems = RecItemsCount(items);
	RecItem   **need = palloc(sizeof(RecItem *) * (nitems + 1));
	int64	   *missing = palloc(sizeof(int64) * (nitems + 1));
	int			nneed = 0;
	int			nmissing = 0;

	for (int i = 0; i < nitems; i++)
	{
		it = RecItemsAt(items, i);
		if ((it->candidate || it->is_hist) && !it->known)
		{
			need[nneed++] = it;
			if (ProductFactsGet(it->product_id) == NULL)
				missing[nmissing++] = it->product_id;
		}
	}
	ProductFactsFetch(missing, nmissing);

	for (int i = 0; i < nneed; i++)
	{
		const ProductFacts *f = ProductFactsGet(need[i]->product_id);

		it = need[i];
		if (f == NULL || !f->exists)
			continue;
		it->known = true;
		it->name = f->name;
		it->prod = f->prod;
		it->has_tier = f->has_tier;
		it->tier = f->tier;
		it->available = f->available;
		if (it->purchases == 0)
			it->repurchase_due = true;	/* never bought */
		else if (recgen_repurchase == RECGEN_REPURCHASE_ALWAYS)
			it->repurchase_due = true;
		else if (recgen_repurchase == RECGEN_REPURCHASE_NEVER || !f->has_interval)
			it->repurchase_due = false;
		else
		{
			TimestampTz due = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
																	  TimestampTzGetDatum(it->last_purchase),
																	  IntervalPGetDatum(&f->repurchase_interval)));

			it->repurchase_due = (due <= as_of);
		}
		it->created_at = f->created_at;
		it->pop = ModelCachePopularity(it->product_id);
	}
	pfree(need);
	pfree(missing);
}


/*
 * RecLoadConcerns
 *		The customer's concerns joined to their topics. Only called when
 *		both tables exist, so plain (not kept) execution.
 */
RecConcern *
RecLoadConcerns(int64 customer_id, int *n)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(customer_id)};
	RecConcern *cs;

	SpiRunChecked("SELECT cc.topic, cc.polarity::int4, cc.strength::float8, "
				  "coalesce(t.categories, '{}'), coalesce(t.remedy_tags, '{}') "
				  "FROM recgen.customer_concerns cc JOIN recgen.concern_topics t "
				  "ON t.topic = cc.topic WHERE cc.customer_id = $1",
				  1, argtypes, args, true, SPI_OK_SELECT);
	*n = (int) SPI_processed;
	cs = palloc0(sizeof(RecConcern) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d;

		cs[i].topic = SPI_getvalue(tup, desc, 1);
		/* NULLs (the table forbids them) count as neither side, no strength */
		d = SPI_getbinval(tup, desc, 2, &isnull);
		cs[i].polarity = isnull ? 0 : DatumGetInt32(d);
		d = SPI_getbinval(tup, desc, 3, &isnull);
		cs[i].strength = isnull ? 0 : DatumGetFloat8(d);
		/* both arrays are coalesced to '{}' by the query */
		cs[i].ncategories = TextArrayStrings(SPI_getbinval(tup, desc, 4, &isnull),
												&cs[i].categories);
		cs[i].nremedy = TextArrayStrings(SPI_getbinval(tup, desc, 5, &isnull),
											&cs[i].remedy_tags);
	}
	SPI_freetuptable(SPI_tuptable);
	return cs;
}

