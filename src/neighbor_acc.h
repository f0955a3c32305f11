/*-------------------------------------------------------------------------
 *
 * neighbor_acc.h
 *		The step every neighbour builder of the model refresh shares: for
 *		one item, accumulate its overlap with every other item in a dense
 *		array (the items touched listed), keep the K best by a scaled and
 *		optionally shrunk score, and hand them to the sink.
 *
 * score(i, j) = acc[j] * scale_i * scale_j[j], times acc / (acc +
 * shrinkage) when shrinkage > 0; support = the count of additions when
 * counted (content: shared tokens), else acc (co-occurrence: weighted
 * transactions).
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/neighbor_acc.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_NEIGHBOR_ACC_H
#define RECGEN_NEIGHBOR_ACC_H

#include "neighbor_sink.h"
#include "topk.h"

typedef struct NeighborAcc
{
	float4	   *acc;			/* by item, 0 between items */
	float4	   *count;			/* additions by item, or NULL */
	int32	   *touched;
	int			ntouched;
	TopK		top;
} NeighborAcc;

extern void NeighborAccInit(NeighborAcc *a, int nitems, int k, bool counted);
extern int	NeighborAccEmit(NeighborAcc *a, int32 item, double scale_i,
							const double *scale_j, double shrinkage,
							NeighborSink *sink, const int64 *item_ids);
extern void NeighborAccFree(NeighborAcc *a);

/*
 * NeighborAccAdd
 *		Add w to the overlap of every item of items[from .. to) but skip.
 *		Uncounted (a->count NULL, co-occurrence): w > 0, and an item is
 *		touched when its sum leaves 0. Counted (content): w >= 0, the
 *		additions are counted and a zero weight still marks an item as
 *		touched. counted is a constant at every call, so each inlined copy
 *		keeps only its own branch. The fields live in locals for the loop:
 *		with -fno-strict-aliasing every store through a->acc would
 *		otherwise reload them.
 */
static inline void
NeighborAccAdd(NeighborAcc *a, const int32 *items, int64 from, int64 to, int32 skip,
			   float4 w, bool counted)
{
	float4	   *acc = a->acc;
	float4	   *count = a->count;
	float4	   *mark = counted ? count : acc;
	int32	   *touched = a->touched;
	int			ntouched = a->ntouched;

	Assert(!counted || count != NULL);
	for (int64 p = from; p < to; p++)
	{
		int32		j = items[p];

		if (j == skip)
			continue;
		if (mark[j] == 0)
			touched[ntouched++] = j;
		acc[j] += w;
		if (counted)
			count[j] += 1;
	}
	a->ntouched = ntouched;
}

#endif							/* RECGEN_NEIGHBOR_ACC_H */
