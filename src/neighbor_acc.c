/*-------------------------------------------------------------------------
 *
 * neighbor_acc.c
 *		Dense overlap accumulator and top-K step of the neighbour builders
 *		(neighbor_acc.h).
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/neighbor_acc.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "neighbor_acc.h"

/*
 * NeighborAccInit
 *		An accumulator over nitems items keeping the k best, counted or
 *		not, in the current memory context.
 */
void
NeighborAccInit(NeighborAcc *a, int nitems, int k, bool counted)
{
	a->acc = palloc0(sizeof(float4) * Max(nitems, 1));
	a->count = counted ? palloc0(sizeof(float4) * Max(nitems, 1)) : NULL;
	a->touched = palloc(sizeof(int32) * Max(nitems, 1));
	a->ntouched = 0;
	TopKInit(&a->top, k);
}

/*
 * NeighborAccEmit
 *		Score every item touched since the last call against item, keep
 *		the best, write them to the sink (best first) and clear the
 *		accumulator. Returns how many items were touched.
 */
int
NeighborAccEmit(NeighborAcc *a, int32 item, double scale_i, const double *scale_j,
				double shrinkage, NeighborSink *sink, const int64 *item_ids)
{
	int			ntouched = a->ntouched;
	float4	   *acc = a->acc;
	float4	   *count = a->count;
	const int32 *touched = a->touched;
	TopK	   *top = &a->top;

	top->n = 0;
	for (int k = 0; k < ntouched; k++)
	{
		int32		j = touched[k];
		double		c = acc[j];
		double		s = c * scale_i * scale_j[j];

		if (shrinkage > 0)
			s *= c / (c + shrinkage);
		TopKOffer(top, (float4) s, j, count ? count[j] : (float4) c);
		acc[j] = 0;
		if (count)
			count[j] = 0;
	}
	a->ntouched = 0;
	TopKSort(top);
	NeighborSinkAddTop(sink, item_ids[item], top, item_ids);
	return ntouched;
}

/*
 * NeighborAccFree
 *		Free the accumulator's arrays.
 */
void
NeighborAccFree(NeighborAcc *a)
{
	pfree(a->acc);
	if (a->count)
		pfree(a->count);
	pfree(a->touched);
	pfree(a->top.e);
}
