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
 *	  recgen.model_scope_items per segment and country).
 *
 * Consent: only events of customers with consent_profiling are read, and
 * that is filtered here, in the queries, because the function runs as the
 * extension owner (SECURITY DEFINER), usually a superuser whom row-level
 * security does not bind. Anonymous baskets carry no person and are used.
 *
 * Memory: the transactions are held as two int32/float4 arrays (about
 * 4 bytes per distinct item of a basket), the inverted index as much
 * again, and one float accumulator per item: O(events + items), never
 * O(pairs). Baskets larger than recgen.model_max_basket distinct items
 * are sampled down to that many (by a hash of item and basket), which
 * also bounds the time, quadratic in basket size.
 *
 * Swap: everything runs in the caller's transaction. The new rows, the
 * move of recgen.model_current and the deletion of the previous model's
 * rows commit together, so readers never see a half-built model (MVCC),
 * and they are not blocked meanwhile: the refresh takes an EXCLUSIVE lock
 * on recgen.model_current, which only conflicts with another refresh.
 *
 * Progress: each phase and every 10,000 items the function's entry in
 * pg_stat_activity.query is set to "recgen.refresh_model: <phase> i/n",
 * and a DEBUG1 message is logged.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/model_refresh.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "nodes/params.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "tcop/tcopprot.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "engine.h"
#include "recgen.h"


/* The transactions (baskets and histories) as compressed rows */
typedef struct TxnSet
{
	int			ntxn;
	int			cap_txn;
	int64	   *start;			/* ntxn + 1 offsets into items */
	float4	   *weight;
	int64		nitems;
	int64		cap_items;
	int32	   *items;
} TxnSet;

/* Rows of one customer, buffered while the cursor is on that customer */
typedef struct CustRow
{
	uint32		basket;			/* hash of basket_id */
	bool		has_basket;
	int32		item;
} CustRow;

static int	nitems_g;
static const int64 *item_ids_g;

/* product_id - id_base -> item index (-1: none), when the ids are dense enough */
static int32 *id_map_g;
static int64 id_base_g;
static int64 id_span_g;

/*
 * report_progress
 *		Show the phase in pg_stat_activity and log it at DEBUG1.
 */
static void
report_progress(const char *phase, int64 done, int64 total)
{
	char		buf[128];

	snprintf(buf, sizeof(buf), "recgen.refresh_model: %s " INT64_FORMAT "/" INT64_FORMAT,
			 phase, done, total);
	pgstat_report_activity(STATE_RUNNING, buf);
	ereport(DEBUG1, (errmsg_internal("%s", buf)));
}

/*
 * build_id_map
 *		A direct map from product id to item index when the ids span at
 *		most four times their number (serial ids do), so that item_index,
 *		called once per event, needs no search.
 */
static void
build_id_map(void)
{
	id_map_g = NULL;
	if (nitems_g == 0)
		return;
	id_base_g = item_ids_g[0];
	id_span_g = item_ids_g[nitems_g - 1] - id_base_g + 1;
	if (id_span_g <= 0 || id_span_g > 4 * (int64) nitems_g + 1024)
		return;
	id_map_g = palloc_extended(sizeof(int32) * id_span_g, MCXT_ALLOC_HUGE);
	memset(id_map_g, 0xff, sizeof(int32) * id_span_g);	/* -1 */
	for (int i = 0; i < nitems_g; i++)
		id_map_g[item_ids_g[i] - id_base_g] = i;
}

/*
 * item_index
 *		Dense index of a product id (direct map, else binary search in the
 *		sorted ids), or -1.
 */
static int32
item_index(int64 product_id)
{
	int			lo = 0,
				hi = nitems_g - 1;

	if (id_map_g)
		return (product_id >= id_base_g && product_id - id_base_g < id_span_g) ?
			id_map_g[product_id - id_base_g] : -1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (item_ids_g[mid] == product_id)
			return mid;
		if (item_ids_g[mid] < product_id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

static int
cmp_int32(const void *a, const void *b)
{
	int32		x = *(const int32 *) a,
				y = *(const int32 *) b;

	return (x > y) - (x < y);
}

/* sort_int32: item arrays (most a handful long), comparison inlined */
#define ST_SORT sort_int32
#define ST_ELEMENT_TYPE int32
#define ST_COMPARE(a, b) ((*(a) > *(b)) - (*(a) < *(b)))
#define ST_SCOPE static
#define ST_DECLARE
#define ST_DEFINE
#include "lib/sort_template.h"

/* sampling order: a hash of the item mixed with the basket's seed */
static uint32 sample_seed;

static uint32
mix32(uint32 x)
{
	x ^= x >> 16;
	x *= 0x7feb352d;
	x ^= x >> 15;
	x *= 0x846ca68b;
	x ^= x >> 16;
	return x;
}

static int
cmp_sample(const void *a, const void *b)
{
	uint32		x = mix32(*(const uint32 *) a ^ sample_seed),
				y = mix32(*(const uint32 *) b ^ sample_seed);

	if (x != y)
		return (x > y) - (x < y);
	return cmp_int32(a, b);
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
		sample_seed = seed;
		qsort(items, m, sizeof(int32), cmp_sample);
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

/*
 * flush_customer
 *		Turn one customer's buffered rows (most recent first) into
 *		transactions: one per basket, and the recent history.
 */
static void
flush_customer(TxnSet *ts, CustRow *rows, int n, int32 *scratch, int64 customer_id)
{
	int			m = 0;

	if (n == 0)
		return;

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
				(uint32) customer_id);
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

/* what the event scans carry from row to row */
typedef struct EventScan
{
	TxnSet	   *ts;
	PopAccum   *pop;
	CustRow    *rows;			/* the current customer's rows */
	int32	   *scratch;		/* flush_customer's work area, or one basket */
	int			cap_rows;
	int			nrows;
	int64		cur_customer;
	bool		have_customer;
	uint32		cur_basket;
} EventScan;

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
}

/*
 * customer_event
 *		One event of a consented customer (rows come by customer, newest
 *		first): customer_id, basket hash, product_id, is a purchase,
 *		occurred_at, segment, country.
 */
static void
customer_event(void *arg, Datum *v, bool *nulls)
{
	EventScan  *es = arg;
	int64		cid = DatumGetInt64(v[0]);
	int32		item = item_index(DatumGetInt64(v[2]));

	if (!es->have_customer || cid != es->cur_customer)
	{
		char		segment[POP_SCOPE_VALUE_LEN];
		char		country[POP_SCOPE_VALUE_LEN];

		flush_customer(es->ts, es->rows, es->nrows, es->scratch, es->cur_customer);
		es->nrows = 0;
		es->cur_customer = cid;
		es->have_customer = true;
		scope_value(v[5], nulls[5], segment, sizeof(segment));
		scope_value(v[6], nulls[6], country, sizeof(country));
		PopAccumSetCustomer(es->pop, segment, country);
	}
	if (item < 0)
		return;
	if (DatumGetBool(v[3]))
		PopAccumAdd(es->pop, item, DatumGetTimestampTz(v[4]));
	scan_room(es);
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
anonymous_event(void *arg, Datum *v, bool *nulls)
{
	EventScan  *es = arg;
	uint32		bh = (uint32) DatumGetInt32(v[0]);
	int32		item = item_index(DatumGetInt64(v[1]));

	if (es->nrows > 0 && bh != es->cur_basket)
	{
		txn_add(es->ts, es->scratch, es->nrows, 1.0f, es->cur_basket);
		es->nrows = 0;
	}
	es->cur_basket = bh;
	if (item < 0)
		return;
	if (DatumGetBool(v[2]))
		PopAccumAdd(es->pop, item, DatumGetTimestampTz(v[3]));
	scan_room(es);
	es->scratch[es->nrows++] = item;
}

/* a DestReceiver handing each row of a query to a function, unmaterialized */
typedef struct RowReceiver
{
	DestReceiver pub;
	void		(*fn) (void *arg, Datum *values, bool *nulls);
	void	   *arg;
	MemoryContext cxt;			/* where fn allocates (not the executor's) */
	const char *phase;
	int64		rows;
} RowReceiver;

static bool
row_receive(TupleTableSlot *slot, DestReceiver *self)
{
	RowReceiver *rr = (RowReceiver *) self;
	MemoryContext old = MemoryContextSwitchTo(rr->cxt);

	slot_getallattrs(slot);
	rr->fn(rr->arg, slot->tts_values, slot->tts_isnull);
	MemoryContextSwitchTo(old);
	if ((++rr->rows % 100000) == 0)
		report_progress(rr->phase, rr->rows, rr->rows);
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
 *		the current memory context, without materializing the rows (the
 *		executor checks for interrupts as it goes).
 */
static void
scan_rows(const char *sql, TimestampTz as_of, const char *phase,
		  void (*fn) (void *arg, Datum *values, bool *nulls), void *arg)
{
	RowReceiver rr;
	SPIExecuteOptions opts;
	ParamListInfo params = makeParamList(1);
	int			ret;

	params->params[0].value = TimestampTzGetDatum(as_of);
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
	rr.arg = arg;
	rr.cxt = CurrentMemoryContext;
	rr.phase = phase;
	memset(&opts, 0, sizeof(opts));
	opts.params = params;
	opts.read_only = true;
	opts.dest = (DestReceiver *) &rr;
	report_progress(phase, 0, 0);
	/* SPI says SPI_OK_UTILITY for a SELECT whose receiver is not DestSPI */
	ret = SPI_execute_extended(sql, &opts);
	if (ret < 0)
		elog(ERROR, "reading events failed: %s", SPI_result_code_string(ret));
}

/*
 * load_transactions
 *		Read the consented customers' events and the anonymous baskets
 *		before as_of and build the transaction set; count the purchases
 *		in pop on the way.
 */
static void
load_transactions(TxnSet *ts, TimestampTz as_of, PopAccum *pop)
{
	EventScan	es;

	memset(&es, 0, sizeof(es));
	es.ts = ts;
	es.pop = pop;
	es.cap_rows = 1024;
	es.rows = palloc(sizeof(CustRow) * es.cap_rows);
	es.scratch = palloc(sizeof(int32) * es.cap_rows);

	scan_rows("SELECT e.customer_id, hashtext(e.basket_id), e.product_id, "
			  "e.kind = 'purchase', e.occurred_at, c.segment, c.country "
			  "FROM recgen.events e JOIN recgen.customers c ON c.customer_id = e.customer_id "
			  "WHERE c.consent_profiling AND e.product_id IS NOT NULL "
			  "AND e.kind IN ('purchase', 'cart_add', 'click', 'view') "
			  "AND e.occurred_at < $1 "
			  "ORDER BY e.customer_id, e.occurred_at DESC",
			  as_of, "reading events", customer_event, &es);
	flush_customer(ts, es.rows, es.nrows, es.scratch, es.cur_customer);

	/* anonymous baskets: no person, so no consent to check */
	es.nrows = 0;
	PopAccumSetCustomer(pop, NULL, NULL);
	scan_rows("SELECT hashtext(basket_id), product_id, kind = 'purchase', occurred_at "
			  "FROM recgen.anonymous_events "
			  "WHERE product_id IS NOT NULL AND occurred_at < $1 "
			  "AND kind IN ('purchase', 'cart_add', 'click', 'view') "
			  "ORDER BY basket_id",
			  as_of, "reading anonymous baskets", anonymous_event, &es);
	txn_add(ts, es.scratch, es.nrows, 1.0f, es.cur_basket);
	pfree(es.rows);
	pfree(es.scratch);
}

/*
 * NeighborSinkReserve
 *		Make room for k more pairs, flushing first if needed, so that one
 *		item's neighbours are never split between two flushes.
 */
void
NeighborSinkReserve(NeighborSink *sink, int k)
{
	if (sink->n + k > sink->cap)
		NeighborSinkFlush(sink);
}

/*
 * NeighborSinkAdd
 *		Buffer one neighbour pair (call NeighborSinkReserve per item first).
 */
void
NeighborSinkAdd(NeighborSink *sink, int64 product, int64 neighbor,
				float4 score, float4 support)
{
	Assert(sink->n < sink->cap);
	sink->product[sink->n] = product;
	sink->neighbor[sink->n] = neighbor;
	sink->score[sink->n] = score;
	sink->support[sink->n] = support;
	sink->n++;
	sink->total++;
}

/*
 * NeighborSinkFlush
 *		Write the buffered pairs, one row per item with its neighbours as
 *		arrays, best first. The pairs are grouped by item already
 *		(NeighborSinkReserve), so each row takes a slice of the pair
 *		arrays: one INSERT ... SELECT FROM unnest() of the items and
 *		their slice bounds, with no sorting or aggregation in SQL.
 */
void
NeighborSinkFlush(NeighborSink *sink)
{
	Oid			argtypes[8] = {INT8OID, TEXTOID, INT8ARRAYOID, INT4ARRAYOID, INT4ARRAYOID,
	INT8ARRAYOID, FLOAT4ARRAYOID, FLOAT4ARRAYOID};
	Datum		args[8];
	Datum	   *d;
	Datum	   *first;
	Datum	   *last;
	int			nrows = 0;
	int			ret;

	if (sink->n == 0)
		return;
	d = palloc(sizeof(Datum) * sink->n);
	first = palloc(sizeof(Datum) * sink->n);
	last = palloc(sizeof(Datum) * sink->n);
	/* the items and their runs, 1-based inclusive bounds */
	for (int i = 0; i < sink->n; i++)
	{
		if (i == 0 || sink->product[i] != sink->product[i - 1])
		{
			d[nrows] = Int64GetDatum(sink->product[i]);
			first[nrows] = Int32GetDatum(i + 1);
			nrows++;
		}
		last[nrows - 1] = Int32GetDatum(i + 1);
	}
	args[0] = Int64GetDatum(sink->model_id);
	args[1] = CStringGetTextDatum(sink->kind);
	args[2] = PointerGetDatum(construct_array(d, nrows, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[3] = PointerGetDatum(construct_array(first, nrows, INT4OID, 4, true, TYPALIGN_INT));
	args[4] = PointerGetDatum(construct_array(last, nrows, INT4OID, 4, true, TYPALIGN_INT));
	for (int i = 0; i < sink->n; i++)
		d[i] = Int64GetDatum(sink->neighbor[i]);
	args[5] = PointerGetDatum(construct_array(d, sink->n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	for (int i = 0; i < sink->n; i++)
		d[i] = Float4GetDatum(sink->score[i]);
	args[6] = PointerGetDatum(construct_array(d, sink->n, FLOAT4OID, 4, true, TYPALIGN_INT));
	for (int i = 0; i < sink->n; i++)
		d[i] = Float4GetDatum(sink->support[i]);
	args[7] = PointerGetDatum(construct_array(d, sink->n, FLOAT4OID, 4, true, TYPALIGN_INT));

	ret = SPI_execute_with_args("INSERT INTO recgen.item_neighbors "
								"(model_id, product_id, kind, neighbor_ids, scores, supports) "
								"SELECT $1, u.p, $2, $6[u.a:u.b], $7[u.a:u.b], $8[u.a:u.b] "
								"FROM unnest($3, $4, $5) AS u(p, a, b)",
								8, argtypes, args, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "inserting item neighbours failed: %s", SPI_result_code_string(ret));
	for (int i = 2; i < 8; i++)
		pfree(DatumGetPointer(args[i]));
	pfree(d);
	pfree(first);
	pfree(last);
	sink->n = 0;
}

/*
 * build_cooccurrence
 *		Shrunk cosine top-K neighbours from the transaction set, one item at
 *		a time with a dense accumulator (no pair table). Returns the number
 *		of distinct co-occurring (ordered) pairs seen.
 */
static int64
build_cooccurrence(TxnSet *ts, NeighborSink *sink)
{
	int			n = nitems_g;
	int64	   *istart = palloc0(sizeof(int64) * (n + 1));
	int32	   *itxn = palloc_extended(sizeof(int32) * Max(ts->nitems, 1), MCXT_ALLOC_HUGE);
	int64	   *fill = palloc(sizeof(int64) * n);
	float4	   *cnt = palloc0(sizeof(float4) * n);
	double	   *inv_sqrt_cnt = palloc0(sizeof(double) * n);
	float4	   *acc = palloc0(sizeof(float4) * n);
	int32	   *touched = palloc(sizeof(int32) * n);
	TopK		top;
	int64		pairs = 0;

	/* inverted index: item -> transactions */
	for (int64 p = 0; p < ts->nitems; p++)
		istart[ts->items[p] + 1]++;
	for (int i = 0; i < n; i++)
		istart[i + 1] += istart[i];
	memcpy(fill, istart, sizeof(int64) * n);
	for (int t = 0; t < ts->ntxn; t++)
		for (int64 p = ts->start[t]; p < ts->start[t + 1]; p++)
		{
			itxn[fill[ts->items[p]]++] = t;
			cnt[ts->items[p]] += ts->weight[t];
		}

	for (int i = 0; i < n; i++)
		if (cnt[i] > 0)
			inv_sqrt_cnt[i] = 1.0 / sqrt((double) cnt[i]);

	TopKInit(&top, recgen_model_neighbors);
	for (int i = 0; i < n; i++)
	{
		int			ntouched = 0;

		if ((i % 10000) == 0)
		{
			report_progress("co-occurrence", i, n);
			CHECK_FOR_INTERRUPTS();
		}
		if (istart[i] == istart[i + 1])
			continue;
		for (int64 q = istart[i]; q < istart[i + 1]; q++)
		{
			int			t = itxn[q];
			float4		w = ts->weight[t];

			for (int64 p = ts->start[t]; p < ts->start[t + 1]; p++)
			{
				int32		j = ts->items[p];

				if (j == i)
					continue;
				if (acc[j] == 0)
					touched[ntouched++] = j;
				acc[j] += w;
			}
		}
		pairs += ntouched;
		top.n = 0;
		for (int k = 0; k < ntouched; k++)
		{
			int32		j = touched[k];
			double		c = acc[j];
			double		s = c * inv_sqrt_cnt[i] * inv_sqrt_cnt[j] * (c / (c + recgen_model_shrinkage));

			TopKOffer(&top, (float4) s, j, (float4) c);
			acc[j] = 0;
		}
		TopKSort(&top);
		NeighborSinkReserve(sink, top.n);
		for (int k = 0; k < top.n; k++)
			NeighborSinkAdd(sink, item_ids_g[i], item_ids_g[top.e[k].item],
							top.e[k].score, top.e[k].support);
	}
	NeighborSinkFlush(sink);
	pfree(istart);
	pfree(itxn);
	pfree(fill);
	pfree(cnt);
	pfree(inv_sqrt_cnt);
	pfree(acc);
	pfree(touched);
	return pairs;
}

/*
 * exec_checked
 *		Run a parameterized statement and insist on the expected SPI code.
 */
static void
exec_checked(const char *sql, int nargs, Oid *argtypes, Datum *args, int expect)
{
	int			ret = SPI_execute_with_args(sql, nargs, argtypes, args, NULL, false, 0);

	if (ret != expect)
		elog(ERROR, "\"%s\" failed: %s", sql, SPI_result_code_string(ret));
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
	TimestampTz as_of;
	instr_time	t0,
				t1;
	TupleDesc	tupdesc;
	MemoryContext build_cxt,
				old_cxt;
	int64		model_id;
	int64		pairs;
	int			items_with_neighbors = 0;
	int			nitems;
	int64	   *item_ids;
	char	  **category;
	ArrayType **tags;
	char	  **doc;
	TxnSet		ts;
	PopAccum   *pop;
	NeighborSink sink;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	double		ms;
	bool		isnull;
	Oid			argtypes[3];
	Datum		args[3];
	char		params[512];

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("as_of must not be null")));
	as_of = PG_GETARG_TIMESTAMPTZ(0);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	INSTR_TIME_SET_CURRENT(t0);
	build_cxt = AllocSetContextCreate(CurrentMemoryContext, "recgen model build",
									  ALLOCSET_DEFAULT_SIZES);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* one refresh at a time; readers (ACCESS SHARE) are not blocked */
	exec_checked("LOCK TABLE recgen.model_current IN EXCLUSIVE MODE", 0, NULL, NULL, SPI_OK_UTILITY);

	snprintf(params, sizeof(params),
			 "{\"max_basket\": %d, \"neighbors\": %d, \"shrinkage\": %g, "
			 "\"history_items\": %d, \"history_weight\": %g, \"content_max_df\": %g, "
			 "\"half_life_s\": %d, \"scope_items\": %d}",
			 recgen_model_max_basket, recgen_model_neighbors, recgen_model_shrinkage,
			 recgen_model_history_items, recgen_model_history_weight,
			 recgen_model_content_max_df, recgen_recency_half_life, recgen_model_scope_items);
	argtypes[0] = TIMESTAMPTZOID;
	argtypes[1] = TEXTOID;
	args[0] = TimestampTzGetDatum(as_of);
	args[1] = CStringGetTextDatum(params);
	exec_checked("INSERT INTO recgen.models (as_of, params) VALUES ($1, $2::jsonb) RETURNING model_id",
				 2, argtypes, args, SPI_OK_INSERT_RETURNING);
	model_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	/* the catalog, sorted by id, with what content similarity needs */
	exec_checked("SELECT product_id, category, tags, "
				 "name || ' ' || coalesce(description, '') FROM recgen.products ORDER BY product_id",
				 0, NULL, NULL, SPI_OK_SELECT);
	nitems = (int) SPI_processed;
	old_cxt = MemoryContextSwitchTo(build_cxt);
	item_ids = palloc(sizeof(int64) * Max(nitems, 1));
	category = palloc(sizeof(char *) * Max(nitems, 1));
	tags = palloc(sizeof(ArrayType *) * Max(nitems, 1));
	doc = palloc(sizeof(char *) * Max(nitems, 1));
	for (int i = 0; i < nitems; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Datum		d;

		item_ids[i] = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		category[i] = SPI_getvalue(tup, desc, 2);
		d = SPI_getbinval(tup, desc, 3, &isnull);
		tags[i] = isnull ? NULL : DatumGetArrayTypePCopy(d);
		doc[i] = SPI_getvalue(tup, desc, 4);
	}
	SPI_freetuptable(SPI_tuptable);
	nitems_g = nitems;
	item_ids_g = item_ids;
	build_id_map();

	ts.ntxn = 0;
	ts.cap_txn = 1024;
	ts.start = palloc(sizeof(int64) * ts.cap_txn);
	ts.start[0] = 0;
	ts.weight = palloc(sizeof(float4) * ts.cap_txn);
	ts.nitems = 0;
	ts.cap_items = 8192;
	ts.items = palloc(sizeof(int32) * ts.cap_items);
	pop = PopAccumCreate(as_of, nitems);
	load_transactions(&ts, as_of, pop);

	sink.cap = 50000;
	sink.n = 0;
	sink.total = 0;
	sink.model_id = model_id;
	sink.product = palloc(sizeof(int64) * sink.cap);
	sink.neighbor = palloc(sizeof(int64) * sink.cap);
	sink.score = palloc(sizeof(float4) * sink.cap);
	sink.support = palloc(sizeof(float4) * sink.cap);
	sink.kind = "cooc";
	MemoryContextSwitchTo(old_cxt);

	/* SPI calls inside allocate in SPI's context; our arrays in build_cxt */
	old_cxt = MemoryContextSwitchTo(build_cxt);
	pairs = build_cooccurrence(&ts, &sink);
	sink.kind = "content";
	report_progress("content similarity", 0, nitems);
	pairs += ModelBuildContent(nitems, item_ids, category, tags, doc, &sink);
	NeighborSinkFlush(&sink);
	MemoryContextSwitchTo(old_cxt);

	report_progress("popularity", 0, 1);
	old_cxt = MemoryContextSwitchTo(build_cxt);
	PopAccumWrite(pop, model_id, item_ids);
	MemoryContextSwitchTo(old_cxt);

	/* items that have at least one neighbour */
	argtypes[0] = INT8OID;
	args[0] = Int64GetDatum(model_id);
	exec_checked("SELECT count(DISTINCT product_id) FROM recgen.item_neighbors WHERE model_id = $1",
				 1, argtypes, args, SPI_OK_SELECT);
	items_with_neighbors = (int) DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
															SPI_tuptable->tupdesc, 1, &isnull));

	/* swap: move the pointer and drop the previous model's rows */
	report_progress("swap", 0, 1);
	exec_checked("INSERT INTO recgen.model_current (singleton, model_id) VALUES (true, $1) "
				 "ON CONFLICT (singleton) DO UPDATE SET model_id = EXCLUDED.model_id",
				 1, argtypes, args, SPI_OK_INSERT);
	exec_checked("DELETE FROM recgen.item_neighbors WHERE model_id <> $1", 1, argtypes, args, SPI_OK_DELETE);
	exec_checked("DELETE FROM recgen.item_popularity WHERE model_id <> $1", 1, argtypes, args, SPI_OK_DELETE);

	/* fresh statistics, so that recommend()'s plans use the indexes */
	exec_checked("ANALYZE recgen.item_neighbors", 0, NULL, NULL, SPI_OK_UTILITY);
	exec_checked("ANALYZE recgen.item_popularity", 0, NULL, NULL, SPI_OK_UTILITY);

	INSTR_TIME_SET_CURRENT(t1);
	INSTR_TIME_SUBTRACT(t1, t0);
	ms = INSTR_TIME_GET_MILLISEC(t1);
	{
		Oid			ut[4] = {INT8OID, INT4OID, INT8OID, FLOAT8OID};
		Datum		ua[4] = {Int64GetDatum(model_id), Int32GetDatum(items_with_neighbors),
		Int64GetDatum(sink.total), Float8GetDatum(ms)};

		exec_checked("UPDATE recgen.models SET items = $2, pairs = $3, ms = $4 WHERE model_id = $1",
					 4, ut, ua, SPI_OK_UPDATE);
	}
	SPI_finish();
	MemoryContextDelete(build_cxt);
	ereport(DEBUG1, (errmsg_internal("recgen.refresh_model: " INT64_FORMAT " co-occurring pairs", pairs)));
	/* give pg_stat_activity its query back */
	if (debug_query_string)
		pgstat_report_activity(STATE_RUNNING, debug_query_string);

	values[0] = Int64GetDatum(model_id);
	values[1] = Int32GetDatum(items_with_neighbors);
	values[2] = Int64GetDatum(sink.total);
	values[3] = Float8GetDatum(ms);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
