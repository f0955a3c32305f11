/*-------------------------------------------------------------------------
 *
 * model_build.h
 *		The state of one recgen.refresh_model() build, passed down to every
 *		step (model_events.c, model_cooc.c, model_content.c,
 *		model_popularity.c) instead of file-level globals: a backend that
 *		refreshes in a loop (a worker) never reaches memory of an earlier
 *		build, which lives in that build's context and dies with it.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/model_build.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_MODEL_BUILD_H
#define RECGEN_MODEL_BUILD_H

#include "datatype/timestamp.h"
#include "utils/array.h"
#include "utils/palloc.h"

#include "neighbor_sink.h"

/* The catalog as dense items 0 .. nitems - 1, by ascending product id */
typedef struct ModelItems
{
	int			nitems;
	int64	   *item_ids;
	/* product_id - id_base -> item index (-1: none), when ids are dense enough */
	int32	   *id_map;
	int64		id_base;
	int64		id_span;
} ModelItems;

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

/* The purchase profiles of the consented customers (customer neighbours) */
typedef struct CustomerSet
{
	int			ncust;
	int			cap_cust;
	int64	   *customer_ids;
	TimestampTz *last;			/* latest purchase */
	int64	   *start;			/* ncust + 1 offsets into item and weight */
	int64		nentries;
	int64		cap_entries;
	int32	   *item;			/* distinct items, ascending */
	float4	   *weight;			/* decayed purchases */
} CustomerSet;

typedef struct PopAccum PopAccum;

typedef struct ModelBuild
{
	MemoryContext cxt;			/* everything below lives here */
	TimestampTz as_of;
	int64		model_id;
	ModelItems	items;
	/* what content similarity reads of each item */
	char	  **category;
	ArrayType **tags;
	char	  **doc;
	TxnSet		txns;
	CustomerSet customers;
	PopAccum   *pop;
	NeighborSink sink;
	/* progress, shown in pg_stat_activity and in the context of errors */
	const char *phase;
	int64		done;
	int64		total;
} ModelBuild;

/* model_build.c */
extern void ModelItemsInit(ModelItems *mi, int64 *item_ids, int nitems);
extern void ModelProgress(ModelBuild *mb, const char *phase, int64 done, int64 total);
extern void ModelErrorContext(void *arg);

/*
 * ModelItemIndex
 *		Dense index of a product id (direct map, else binary search in the
 *		sorted ids), or -1. Called once per event.
 */
static inline int32
ModelItemIndex(const ModelItems *mi, int64 product_id)
{
	int			lo = 0,
				hi = mi->nitems - 1;

	if (mi->id_map)
		return (product_id >= mi->id_base && product_id - mi->id_base < mi->id_span) ?
			mi->id_map[product_id - mi->id_base] : -1;
	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (mi->item_ids[mid] == product_id)
			return mid;
		if (mi->item_ids[mid] < product_id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/*
 * ModelCheckpoint
 *		Where a step's unit of work ends: note how far it got and honour a
 *		pending cancel (one flag test when none is pending).
 */
#define ModelCheckpoint(mb, i) \
	do { (mb)->done = (i); CHECK_FOR_INTERRUPTS(); } while (0)

/* model_events.c */
extern void ModelLoadEvents(ModelBuild *mb);

/* model_cooc.c */
extern int64 ModelBuildCooccurrence(ModelBuild *mb);

/* model_customers.c */
extern void CustomerSetInit(CustomerSet *cs);
extern void CustomerSetAdd(CustomerSet *cs, int64 customer_id, TimestampTz last,
						   const int32 *items, const float4 *weights, int n);
extern int64 ModelWriteProfiles(ModelBuild *mb);

/* model_content.c */
extern int64 ModelBuildContent(ModelBuild *mb);

/* model_popularity.c: popularity accumulated during the event scan */
#define POP_SCOPE_VALUE_LEN 128

extern PopAccum *PopAccumCreate(TimestampTz as_of, int nitems);
extern void PopAccumSetCustomer(PopAccum *pa, const char *segment, const char *country);
extern void PopAccumAdd(PopAccum *pa, int32 item, TimestampTz at);
extern int64 PopAccumWrite(PopAccum *pa, int64 model_id, const int64 *item_ids);

#endif							/* RECGEN_MODEL_BUILD_H */
