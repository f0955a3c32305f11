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
#include "utils/float.h"
#include "utils/timestamp.h"

#include "engine.h"
#include "recommend.h"
#include "spi_util.h"

enum
{
	Q_CONSENT,
	Q_CUSTOMER,
	Q_HISTORY,
	Q_NEWITEMS,
	Q_CATALOG,
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
		"WHEN 'purchase' THEN 2 WHEN 'view' THEN 3 ELSE -1 END, e.occurred_at, e.basket_id "
		"FROM recgen.events e WHERE e.customer_id = $1 AND e.occurred_at < $2 "
		"ORDER BY e.occurred_at DESC", 2, {INT8OID, TIMESTAMPTZOID}},
	{"SELECT product_id FROM recgen.products WHERE active AND created_at >= $1 "
		"AND coalesce(stock, 1) > 0", 1, {TIMESTAMPTZOID}},
	{"SELECT product_id FROM recgen.products WHERE active AND coalesce(stock, 1) > 0 "
		"AND product_id > $1 ORDER BY product_id LIMIT $2", 2, {INT8OID, INT4OID}}
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

/* the customer's orders seen so far by RecLoadHistory, newest first */
typedef struct OrderCounter
{
	int			seen;			/* orders seen */
	TimestampTz at;				/* the last purchase's time */
	text	   *basket;			/* and basket (NULL: none), in the tuple */
} OrderCounter;

/*
 * count_order
 *		How many of the customer's orders are later than this purchase (a
 *		purchase row of the history, newest first). An order is a basket
 *		(events.basket_id); purchases without one form an order per moment
 *		(occurred_at).
 */
static int
count_order(OrderCounter *o, HeapTuple tup, TupleDesc desc, TimestampTz at)
{
	bool		isnull;
	Datum		b = SPI_getbinval(tup, desc, 4, &isnull);
	text	   *basket = isnull ? NULL : DatumGetTextPP(b);
	bool		same;

	if (o->seen == 0)
		same = false;
	else if (basket != NULL && o->basket != NULL)
		same = VARSIZE_ANY_EXHDR(basket) == VARSIZE_ANY_EXHDR(o->basket) &&
			memcmp(VARDATA_ANY(basket), VARDATA_ANY(o->basket), VARSIZE_ANY_EXHDR(basket)) == 0;
	else
		same = basket == NULL && o->basket == NULL && at == o->at;
	if (!same)
		o->seen++;
	o->at = at;
	o->basket = basket;
	return o->seen - 1;
}

/*
 * RecLoadHistory
 *		The customer's events before as_of, newest first, aggregated per
 *		item here: w(h) = sum of kind weight times 2^(-age / half-life),
 *		age counted from the latest event (with or without a product),
 *		purchases, last purchase and the repeat score rep: each purchase
 *		decayed by recgen.repeat_order_decay per later order of the
 *		customer (group decay, as TIFU-KNN), or by the half-life when that
 *		is 0. Returns what repeats are relative to (recgen.repeat_norm):
 *		the length of the vector of rep, or the largest rep.
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
	OrderCounter orders = {0};

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
			int			later = count_order(&orders, tup, desc, at);

			if (recgen_repeat_order_decay > 0)
				it->rep += pow(recgen_repeat_order_decay, later);
			it->purchases++;
			if (it->purchases == 1 || at > it->last_purchase)
				it->last_purchase = at;
			/* the customer's profile, as model_customers.c builds the pool's */
			it->nbw += pow(2.0, -age / (double) recgen_neighbor_half_life);
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
			if (recgen_repeat_order_decay <= 0)
				it->rep = it->kindw[2];
			if (recgen_repeat_norm == RECGEN_REPEAT_NORM_LENGTH)
				maxrep += it->rep * it->rep;
			else
				maxrep = Max(maxrep, it->rep);
		}
	}
	return recgen_repeat_norm == RECGEN_REPEAT_NORM_LENGTH ? sqrt(maxrep) : maxrep;
}

/*
 * RecCollectNeighbors
 *		The neighbour links of the history items, from the model cache
 *		(content before co-occurrence, history order), each neighbour
 *		becoming a candidate. Returns the links, their number in *nnb.
 *		Neighbours are found through a per-call array by model slot, so
 *		the items table is probed once per distinct neighbour; without
 *		make_items the links only name the neighbours' slots (balanced:
 *		recommend_pool.c makes the items).
 */
NeighborRow *
RecCollectNeighbors(RecItems *items, RecItem **hist, int nhist, int *nnb, bool make_items)
{
	static const int kinds[2] = {MODEL_NB_CONTENT, MODEL_NB_COOC};
	int			cap = 256;
	int			n = 0;
	NeighborRow *rows = palloc(sizeof(NeighborRow) * cap);
	RecItem   **by_slot = make_items ? palloc0(sizeof(RecItem *) * Max(ModelCacheSize(), 1)) : NULL;
	const double *slot_pop = ModelCacheSlotPopularity();

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
				int32		s = nb->slots[j];

				if (n >= cap)
				{
					cap *= 2;
					rows = repalloc(rows, sizeof(NeighborRow) * cap);
				}
				rows[n].h = hist[i];
				rows[n].c = NULL;
				rows[n].slot = s;
				if (make_items)
				{
					if (by_slot[s] == NULL)
					{
						RecItem    *c = RecItemGet(items, nb->ids[j]);

						c->candidate = true;
						c->pop = slot_pop[s];
						c->pop_known = true;
						by_slot[s] = c;
					}
					rows[n].c = by_slot[s];
				}
				rows[n].content = (kinds[k] == MODEL_NB_CONTENT);
				rows[n].s = nb->scores[j];
				n++;
			}
		}
	}
	if (by_slot)
		pfree(by_slot);
	*nnb = n;
	return rows;
}

/*
 * RecLoadNewItems
 *		Products created since `since' (active, in stock): the candidates
 *		of strategy "new".
 */
void
RecLoadNewItems(RecItems *items, TimestampTz since)
{
	Datum		args[1] = {TimestampTzGetDatum(since)};

	run_query(Q_NEWITEMS, args);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		RecItem    *it = RecItemGet(items, DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r],
																	  SPI_tuptable->tupdesc, 1, &isnull)));

		it->candidate = true;
		it->is_new = true;
	}
	SPI_freetuptable(SPI_tuptable);
}

/*
 * RecLoadCategoryItems
 *		Upsell: the products of the history's categories that could be an
 *		upgrade of one of its items (priced from the cheapest history item
 *		of the category to recgen.upsell_max_price_ratio times the dearest;
 *		the 500 cheapest of that range) as candidates.
 */
void
RecLoadCategoryItems(RecItems *items, RecItem **hist, int nhist)
{
	for (int i = 0; i < nhist; i++)
	{
		const int64 *ids;
		const double *prices;
		int			n;
		bool		dup = false;
		double		lo,
					hi;
		int			first,
					taken = 0;
		bool		tiered;

		if (!hist[i]->prod.category)
			continue;
		for (int k = 0; k < i && !dup; k++)
			dup = hist[k]->prod.category && strcmp(hist[k]->prod.category, hist[i]->prod.category) == 0;
		if (dup)
			continue;
		lo = hi = hist[i]->prod.price;
		tiered = hist[i]->has_tier;
		for (int k = i + 1; k < nhist; k++)
			if (hist[k]->prod.category && strcmp(hist[k]->prod.category, hist[i]->prod.category) == 0)
			{
				lo = Min(lo, hist[k]->prod.price);
				hi = Max(hi, hist[k]->prod.price);
				tiered = tiered || hist[k]->has_tier;
			}
		/* a higher tier is an upgrade at any price within the bound */
		if (tiered)
			lo = 0;
		hi = hi > 0 ? hi * recgen_upsell_max_price_ratio : get_float8_infinity();
		n = CategoryProducts(hist[i]->prod.category, &ids, &prices);
		/* the first product priced lo or more (prices ascend) */
		first = 0;
		for (int l = 0, h = n; l < h;)
		{
			int			mid = (l + h) / 2;

			if (prices[mid] < lo)
				l = first = mid + 1;
			else
				h = mid;
		}
		for (int k = first; k < n && prices[k] <= hi && taken < 500; k++, taken++)
		{
			RecItem    *c = RecItemGet(items, ids[k]);

			c->candidate = true;
			c->cat_hint = hist[i]->prod.category;
		}
	}
}

/*
 * RecLoadCatalogPage
 *		Up to limit available products with ids above `after', in id
 *		order, into ids; returns how many.
 */
int
RecLoadCatalogPage(int64 after, int limit, int64 *ids)
{
	Datum		args[2] = {Int64GetDatum(after), Int32GetDatum(limit)};
	int			n;

	run_query(Q_CATALOG, args);
	n = (int) SPI_processed;
	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		ids[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_freetuptable(SPI_tuptable);
	return n;
}

/*
 * RecLoadFacts
 *		Facts of the listed items that have none yet (from the product
 *		cache, which reads what it lacks in one query) and their overall
 *		popularity (model cache).
 */
void
RecLoadFacts(RecItem **list, int n)
{
	RecItem   **need = palloc(sizeof(RecItem *) * Max(n, 1));
	int64	   *missing = palloc(sizeof(int64) * Max(n, 1));
	int			nneed = 0;
	int			nmissing = 0;

	for (int i = 0; i < n; i++)
	{
		RecItem    *it = list[i];

		if (it->known)
			continue;
		need[nneed++] = it;
		if (ProductFactsGet(it->product_id) == NULL)
			missing[nmissing++] = it->product_id;
	}
	ProductFactsFetch(missing, nmissing);

	for (int i = 0; i < nneed; i++)
	{
		const ProductFacts *f = ProductFactsGet(need[i]->product_id);
		RecItem    *it = need[i];

		it->known = true;		/* looked up: a missing product stays unavailable */
		if (!it->pop_known)
			it->pop = ModelCachePopularity(it->product_id);
		it->pop_known = true;
		if (f == NULL || !f->exists)
			continue;
		it->name = f->name;
		it->prod = f->prod;
		it->has_tier = f->has_tier;
		it->tier = f->tier;
		it->available = f->available;
		it->has_interval = f->has_interval;
		it->repurchase_interval = f->repurchase_interval;
		it->created_at = f->created_at;
		it->cat_key = RecCategoryKey(f->prod.category);
		it->name_key = f->name_key;
		it->has_group = f->has_group;
		it->group_key = f->group_key;
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

