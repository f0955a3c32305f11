/*-------------------------------------------------------------------------
 *
 * neighbor_sink.h
 *		Buffered writer of recgen.item_neighbors rows for the model
 *		refresh: neighbour pairs go in item by item, best first, and are
 *		written as one row per item with its neighbours as arrays.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/neighbor_sink.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_NEIGHBOR_SINK_H
#define RECGEN_NEIGHBOR_SINK_H

#include "topk.h"

typedef struct NeighborSink
{
	int			n;
	int			cap;
	int64	   *product;
	int64	   *neighbor;
	float4	   *score;
	float4	   *support;
	const char *kind;			/* item_neighbors.kind of what is added */
	int64		model_id;
	int64		total;			/* pairs added so far */
} NeighborSink;

extern void NeighborSinkInit(NeighborSink *sink, int64 model_id, int cap);
extern void NeighborSinkAddTop(NeighborSink *sink, int64 product, const TopK *top,
							   const int64 *item_ids);
extern void NeighborSinkFlush(NeighborSink *sink);

#endif							/* RECGEN_NEIGHBOR_SINK_H */
