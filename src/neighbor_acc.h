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
 *		Add w > 0 to item j's overlap (uncounted accumulator).
 */
static inline void
NeighborAccAdd(NeighborAcc *a, int32 j, float4 w)
{
	if (a->acc[j] == 0)
		a->touched[a->ntouched++] = j;
	a->acc[j] += w;
}

/*
 * NeighborAccAddCounted
 *		Add w >= 0 to item j's overlap and count the addition (counted
 *		accumulator: a zero weight still marks j as touched).
 */
static inline void
NeighborAccAddCounted(NeighborAcc *a, int32 j, float4 w)
{
	if (a->count[j] == 0)
		a->touched[a->ntouched++] = j;
	a->acc[j] += w;
	a->count[j] += 1;
}

#endif							/* RECGEN_NEIGHBOR_ACC_H */
