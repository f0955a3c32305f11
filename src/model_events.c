/*-------------------------------------------------------------------------
 *
 * model_events.c
 *		The event scans of the model refresh: consented customers' events
 *		and anonymous baskets before as_of become the transaction set of
 *		co-occurrence (one transaction per basket, plus each customer's
 *		recent history), and purchases are counted for popularity on the
 *		way (model_popularity.c), in one pass over the events.
 *
 * Consent: only events of customers with consent_profiling are read, and
 * that is filtered here, in the queries, because refresh_model runs as
 * the extension owner (SECURITY DEFINER), usually a superuser whom
 * row-level security does not bind. Anonymous baskets carry no person.
 *
 * Events reach the C code row by row through a DestReceiver, never
 * materialized; the executor checks for interrupts as it goes, and the
 * receiver at every row.
 *
 * Profiles: with recgen.model_customer_pool > 0 each consented customer's
 * purchases, decayed by recgen.neighbor_half_life, are kept as a profile
 * (model_customers.c), from the same rows.
 *
 * Memory: the transactions are held as an int32 item array with int64
 * offsets and a float4 weight each (about 4 bytes per distinct item of a
 * basket). Baskets larger than recgen.model_max_basket distinct items are
 * sampled down to that many (by a hash of item and basket), which bounds
 * the time of co-occurrence, quadratic in basket size.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/model_events.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/params.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "engine.h"
#include "model_build.h"

/* Rows of one customer, buffered while the scan is on that customer */
typedef struct CustRow
{
	uint32		basket;			/* hash of basket_id */
	bool		has_basket;
	int32		item;
	float4		buy;			/* a purchase: 2^(-age / neighbor_half_life), else 0 */
} CustRow;

/* one item of a customer's profile */
typedef struct ProfileEntry
{
	int32		item;
	float4		weight;
} ProfileEntry;

#define ST_SORT sort_profile
#define ST_ELEMENT_TYPE ProfileEntry
#define ST_COMPARE(a, b) (((a)->item > (b)->item) - ((a)->item < (b)->item))
#define ST_SCOPE static
#define ST_DECLARE
#define ST_DEFINE
#include "lib/sort_template.h"

/* sort_int32: item arrays (most a handful long), comparison inlined */
#define ST_SORT sort_int32
#define ST_ELEMENT_TYPE int32
#define ST_COMPARE(a, b) ((*(a) > *(b)) - (*(a) < *(b)))
#define ST_SCOPE static
#define ST_DECLARE
#define ST_DEFINE
#include "lib/sort_template.h"

/*
 * mix32
 *		A 32-bit integer mixer (the sampling order of large baskets).
 */
static inline uint32
mix32(uint32 x)
{
	x ^= x >> 16;
	x *= 0x7feb352d;
	x ^= x >> 15;
	x *= 0x846ca68b;
	x ^= x >> 16;
	return x;
}

/*
 * cmp_sample
 *		qsort_arg order of a basket's items for sampling: a hash of the
 *		item mixed with the basket's seed (arg), then the item.
 */
static int
cmp_sample(const void *a, const void *b, void *arg)
{
	uint32		seed = *(const uint32 *) arg;
	int32		ia = *(const int32 *) a,
				ib = *(const int32 *) b;
	uint32		x = mix32((uint32) ia ^ seed),
				y = mix32((uint32) ib ^ seed);

	if (x != y)
		return (x > y) - (x < y);
	return (ia > ib) - (ia < ib);
}

/*
 * txn_init
 *		An empty transaction set in the current memory context.
 */
static void
txn_init(TxnSet *ts)
{
	ts->ntxn = 0;
	ts->cap_txn = 1024;
	ts->start = palloc(sizeof(int64) * ts->cap_txn);
	ts->start[0] = 0;
	ts->weight = palloc(sizeof(float4) * ts->cap_txn);
	ts->nitems = 0;
	ts->cap_items = 8192;
	ts->items = palloc(sizeof(int32) * ts->cap_items);
}

/*
 * txn_add
 *		Append one transaction: its distinct items, sampled down to
 *		recgen.model_max_basket. Transactions of fewer than two items say
 *		nothing about pairs and are skipped. items is sorted in place.
 */
static void
txn_add(TxnSet *ts, int32 *items, int n, float4 weight, uint32 seed)
{
	int			m = 0;

	if (n < 2)
		return;
	sort_int32(items, n);
	for (int i = 0; i < n; i++)
		if (m == 0 || items[m - 1] != items[i])
			items[m++] = items[i];
	if (m < 2)
		return;
	if (m > recgen_model_max_basket)
	{
		qsort_arg(items, m, sizeof(int32), cmp_sample, &seed);
		m = recgen_model_max_basket;
		sort_int32(items, m);
	}
	if (ts->ntxn + 1 >= ts->cap_txn)
	{
		ts->cap_txn *= 2;
		ts->start = repalloc_huge(ts->start, sizeof(int64) * ts->cap_txn);
		ts->weight = repalloc_huge(ts->weight, sizeof(float4) * ts->cap_txn);
	}
	if (ts->nitems + m > ts->cap_items)
	{
		while (ts->nitems + m > ts->cap_items)
			ts->cap_items *= 2;
		ts->items = repalloc_huge(ts->items, sizeof(int32) * ts->cap_items);
	}
	memcpy(ts->items + ts->nitems, items, sizeof(int32) * m);
	ts->weight[ts->ntxn] = weight;
	ts->nitems += m;
	ts->ntxn++;
	ts->start[ts->ntxn] = ts->nitems;
}

/* a customer's rows by basket (rows without one last), then item */
static inline int
cmp_custrow(const CustRow *x, const CustRow *y)
{
	if (x->has_basket != y->has_basket)
		return x->has_basket ? -1 : 1;
	if (x->basket != y->basket)
		return (x->basket > y->basket) - (x->basket < y->basket);
	return (x->item > y->item) - (x->item < y->item);
}

#define ST_SORT sort_custrows
#define ST_ELEMENT_TYPE CustRow
#define ST_COMPARE(a, b) cmp_custrow(a, b)
#define ST_SCOPE static
#define ST_DECLARE
#define ST_DEFINE
#include "lib/sort_template.h"

/* what the event scans carry from row to row */
typedef struct EventScan
{
	ModelBuild *mb;
	CustRow    *rows;			/* the current customer's rows */
	int32	   *scratch;		/* flush_customer's work area, or one basket */
	int			cap_rows;
	int			nrows;
	int64		cur_customer;
	bool		have_customer;
	uint32		cur_basket;
	/* the current customer's profile: latest purchase, entries */
	TimestampTz last_purchase;
	bool		has_purchase;
	ProfileEntry *profile;
	int32	   *profile_items;
	float4	   *profile_weights;
	double		half_life_us;	/* recgen.neighbor_half_life */
} EventScan;

/*
 * flush_customer
 *		Turn the current customer's buffered rows (most recent first) into
 *		transactions: one per basket, and the recent history.
 */
static void
flush_customer(EventScan *es)
{
	TxnSet	   *ts = &es->mb->txns;
	CustRow    *rows = es->rows;
	int32	   *scratch = es->scratch;
	int			n = es->nrows;
	int			m = 0;

	if (n == 0)
		return;

	/* the purchase profile, distinct items with their decayed purchases */
	if (es->profile && es->has_purchase)
	{
		int			np = 0;

		for (int i = 0; i < n; i++)
			if (rows[i].buy > 0)
			{
				es->profile[np].item = rows[i].item;
				es->profile[np++].weight = rows[i].buy;
			}
		sort_profile(es->profile, np);
		m = 0;
		for (int i = 0; i < np; i++)
		{
			if (m > 0 && es->profile_items[m - 1] == es->profile[i].item)
				es->profile_weights[m - 1] += es->profile[i].weight;
			else
			{
				es->profile_items[m] = es->profile[i].item;
				es->profile_weights[m++] = es->profile[i].weight;
			}
		}
		CustomerSetAdd(&es->mb->customers, es->cur_customer, es->last_purchase,
					   es->profile_items, es->profile_weights, m);
		m = 0;
	}
	es->has_purchase = false;

	/* history: the most recent distinct items (rows are newest first) */
	if (recgen_model_history_items > 0 && recgen_model_history_weight > 0)
	{
		for (int i = 0; i < n && m < recgen_model_history_items; i++)
		{
			bool		seen = false;

			for (int k = 0; k < m && !seen; k++)
				seen = (scratch[k] == rows[i].item);
			if (!seen)
				scratch[m++] = rows[i].item;
		}
		txn_add(ts, scratch, m, (float4) recgen_model_history_weight,
				(uint32) es->cur_customer);
	}

	/* baskets */
	sort_custrows(rows, n);
	for (int i = 0; i < n;)
	{
		int			j = i;

		if (!rows[i].has_basket)
			break;
		m = 0;
		while (j < n && rows[j].has_basket && rows[j].basket == rows[i].basket)
			scratch[m++] = rows[j++].item;
		txn_add(ts, scratch, m, 1.0f, rows[i].basket);
		i = j;
	}
	es->nrows = 0;
}

/*
 * scope_value
 *		A text datum into buf, cut at a character boundary to fit, "" when
 *		NULL, without allocating: it runs once per customer.
 */
static void
scope_value(Datum d, bool isnull, char *buf, int size)
{
	buf[0] = '\0';
	if (!isnull)
	{
		text_to_cstring_buffer(DatumGetTextPP(d), buf, size);
		buf[pg_mbcliplen(buf, strlen(buf), size - 1)] = '\0';
	}
}

/*
 * scan_room
 *		Make room for one more row of the current customer or basket.
 */
static void
scan_room(EventScan *es)
{
	if (es->nrows < es->cap_rows)
		return;
	es->cap_rows *= 2;
	es->rows = repalloc_huge(es->rows, sizeof(CustRow) * es->cap_rows);
	es->scratch = repalloc_huge(es->scratch, sizeof(int32) * es->cap_rows);
	if (es->profile)
	{
		es->profile = repalloc_huge(es->profile, sizeof(ProfileEntry) * es->cap_rows);
		es->profile_items = repalloc_huge(es->profile_items, sizeof(int32) * es->cap_rows);
		es->profile_weights = repalloc_huge(es->profile_weights, sizeof(float4) * es->cap_rows);
	}
}

/*
 * customer_event
 *		One event of a consented customer (rows come by customer, newest
 *		first): customer_id, basket hash, product_id, is a purchase,
 *		occurred_at, segment, country.
 */
static void
customer_event(EventScan *es, Datum *v, bool *nulls)
{
	int64		cid = DatumGetInt64(v[0]);
	int32		item = ModelItemIndex(&es->mb->items, DatumGetInt64(v[2]));

	if (!es->have_customer || cid != es->cur_customer)
	{
		char		segment[POP_SCOPE_VALUE_LEN];
		char		country[POP_SCOPE_VALUE_LEN];

		flush_customer(es);
		es->cur_customer = cid;
		es->have_customer = true;
		scope_value(v[5], nulls[5], segment, sizeof(segment));
		scope_value(v[6], nulls[6], country, sizeof(country));
		PopAccumSetCustomer(es->mb->pop, segment, country);
	}
	if (item < 0)
		return;
	scan_room(es);
	es->rows[es->nrows].buy = 0;
	if (DatumGetBool(v[3]))
	{
		TimestampTz at = DatumGetTimestampTz(v[4]);

		PopAccumAdd(es->mb->pop, item, at);
		if (es->profile)
		{
			/* rows are newest first: the first purchase is the latest */
			if (!es->has_purchase)
				es->last_purchase = at;
			es->has_purchase = true;
			es->rows[es->nrows].buy = (float4) exp2(-(double) (es->mb->as_of - at) / es->half_life_us);
		}
	}
	es->rows[es->nrows].has_basket = !nulls[1];
	es->rows[es->nrows].basket = nulls[1] ? 0 : (uint32) DatumGetInt32(v[1]);
	es->rows[es->nrows].item = item;
	es->nrows++;
}

/*
 * anonymous_event
 *		One anonymous event (rows come by basket): basket hash, product_id,
 *		is a purchase, occurred_at.
 */
static void
anonymous_event(EventScan *es, Datum *v, bool *nulls)
{
	uint32		bh = (uint32) DatumGetInt32(v[0]);
	int32		item = ModelItemIndex(&es->mb->items, DatumGetInt64(v[1]));

	if (es->nrows > 0 && bh != es->cur_basket)
	{
		txn_add(&es->mb->txns, es->scratch, es->nrows, 1.0f, es->cur_basket);
		es->nrows = 0;
	}
	es->cur_basket = bh;
	if (item < 0)
		return;
	if (DatumGetBool(v[2]))
		PopAccumAdd(es->mb->pop, item, DatumGetTimestampTz(v[3]));
	scan_room(es);
	es->scratch[es->nrows++] = item;
}

typedef void (*EventFn) (EventScan *es, Datum *values, bool *nulls);

/* a DestReceiver handing each row of a query to a function, unmaterialized */
typedef struct RowReceiver
{
	DestReceiver pub;
	EventFn		fn;
	EventScan  *es;
	MemoryContext cxt;			/* where fn allocates (not the executor's) */
	int64		rows;
} RowReceiver;

/*
 * row_receive
 *		receiveSlot of RowReceiver: one row to its function.
 */
static bool
row_receive(TupleTableSlot *slot, DestReceiver *self)
{
	RowReceiver *rr = (RowReceiver *) self;
	MemoryContext old = MemoryContextSwitchTo(rr->cxt);

	slot_getallattrs(slot);
	rr->fn(rr->es, slot->tts_values, slot->tts_isnull);
	MemoryContextSwitchTo(old);
	ModelCheckpoint(rr->es->mb, ++rr->rows);
	if ((rr->rows % 100000) == 0)
		ModelProgress(rr->es->mb, rr->es->mb->phase, rr->rows, 0);
	return true;
}

static void
row_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
row_nothing(DestReceiver *self)
{
}

/*
 * scan_rows
 *		Run a read-only query with $1 = as_of and hand each row to fn, in
 *		the current memory context, without materializing the rows.
 */
static void
scan_rows(EventScan *es, const char *sql, const char *phase, EventFn fn)
{
	RowReceiver rr;
	SPIExecuteOptions opts;
	ParamListInfo params = makeParamList(1);
	int			ret;

	params->params[0].value = TimestampTzGetDatum(es->mb->as_of);
	params->params[0].isnull = false;
	params->params[0].pflags = PARAM_FLAG_CONST;
	params->params[0].ptype = TIMESTAMPTZOID;
	memset(&rr, 0, sizeof(rr));
	rr.pub.receiveSlot = row_receive;
	rr.pub.rStartup = row_startup;
	rr.pub.rShutdown = row_nothing;
	rr.pub.rDestroy = row_nothing;
	rr.pub.mydest = DestNone;
	rr.fn = fn;
	rr.es = es;
	rr.cxt = CurrentMemoryContext;
	memset(&opts, 0, sizeof(opts));
	opts.params = params;
	opts.read_only = true;
	opts.dest = (DestReceiver *) &rr;
	ModelProgress(es->mb, phase, 0, 0);
	/* SPI says SPI_OK_UTILITY for a SELECT whose receiver is not DestSPI */
	ret = SPI_execute_extended(sql, &opts);
	if (ret < 0)
		elog(ERROR, "reading events failed: %s", SPI_result_code_string(ret));
}

/*
 * ModelLoadEvents
 *		Read the consented customers' events and the anonymous baskets
 *		before as_of into mb->txns, counting purchases in mb->pop.
 */
void
ModelLoadEvents(ModelBuild *mb)
{
	EventScan	es;

	memset(&es, 0, sizeof(es));
	es.mb = mb;
	es.cap_rows = 1024;
	es.rows = palloc(sizeof(CustRow) * es.cap_rows);
	es.scratch = palloc(sizeof(int32) * es.cap_rows);
	txn_init(&mb->txns);
	CustomerSetInit(&mb->customers);
	if (recgen_model_customer_pool > 0)
	{
		es.profile = palloc(sizeof(ProfileEntry) * es.cap_rows);
		es.profile_items = palloc(sizeof(int32) * es.cap_rows);
		es.profile_weights = palloc(sizeof(float4) * es.cap_rows);
		es.half_life_us = (double) recgen_neighbor_half_life * USECS_PER_SEC;
	}

	scan_rows(&es, "SELECT e.customer_id, hashtext(e.basket_id), e.product_id, "
			  "e.kind = 'purchase', e.occurred_at, c.segment, c.country "
			  "FROM recgen.events e JOIN recgen.customers c ON c.customer_id = e.customer_id "
			  "WHERE c.consent_profiling AND e.product_id IS NOT NULL "
			  "AND e.kind IN ('purchase', 'cart_add', 'click', 'view') "
			  "AND e.occurred_at < $1 "
			  "ORDER BY e.customer_id, e.occurred_at DESC",
			  "reading events", customer_event);
	flush_customer(&es);
	if (es.profile)
	{
		pfree(es.profile);
		pfree(es.profile_items);
		pfree(es.profile_weights);
		es.profile = NULL;		/* anonymous baskets have no profile */
	}

	/* anonymous baskets: no person, so no consent to check */
	PopAccumSetCustomer(mb->pop, NULL, NULL);
	scan_rows(&es, "SELECT hashtext(basket_id), product_id, kind = 'purchase', occurred_at "
			  "FROM recgen.anonymous_events "
			  "WHERE product_id IS NOT NULL AND occurred_at < $1 "
			  "AND kind IN ('purchase', 'cart_add', 'click', 'view') "
			  "ORDER BY basket_id",
			  "reading anonymous baskets", anonymous_event);
	txn_add(&mb->txns, es.scratch, es.nrows, 1.0f, es.cur_basket);
	pfree(es.rows);
	pfree(es.scratch);
}
