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
 * NeighborAccAddSpan
 *		Add w > 0 to the overlap of every item of items[from .. to) but
 *		skip (uncounted accumulator). The fields live in locals for the
 *		loop: with -fno-strict-aliasing every store through a->acc would
 *		otherwise reload them.
 */
static inline void
NeighborAccAddSpan(NeighborAcc *a, const int32 *items, int64 from, int64 to, int32 skip,
				   float4 w)
{
	float4	   *acc = a->acc;
	int32	   *touched = a->touched;
	int			ntouched = a->ntouched;

	for (int64 p = from; p < to; p++)
	{
		int32		j = items[p];

		if (j == skip)
			continue;
		if (acc[j] == 0)
			touched[ntouched++] = j;
		acc[j] += w;
	}
	a->ntouched = ntouched;
}

/*
 * NeighborAccAddCountedSpan
 *		Add w >= 0 to the overlap of every item of items[from .. to) but
 *		skip, counting the additions (counted accumulator: a zero weight
 *		still marks an item as touched).
 */
static inline void
NeighborAccAddCountedSpan(NeighborAcc *a, const int32 *items, int64 from, int64 to,
						  int32 skip, float4 w)
{
	float4	   *acc = a->acc;
	float4	   *count = a->count;
	int32	   *touched = a->touched;
	int			ntouched = a->ntouched;

	for (int64 p = from; p < to; p++)
	{
		int32		j = items[p];

		if (j == skip)
			continue;
		if (count[j] == 0)
			touched[ntouched++] = j;
		acc[j] += w;
		count[j] += 1;
	}
	a->ntouched = ntouched;
}

#endif							/* RECGEN_NEIGHBOR_ACC_H */
