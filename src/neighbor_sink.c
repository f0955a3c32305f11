/*-------------------------------------------------------------------------
 *
 * neighbor_sink.c
 *		Buffered writer of recgen.item_neighbors rows (neighbor_sink.h).
 *
 * One item's neighbours are never split between two flushes, so every
 * flush writes whole rows: one INSERT ... SELECT FROM unnest() of the
 * items and the bounds of their slices of the pair arrays, with no
 * sorting or aggregation in SQL.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/neighbor_sink.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"

#include "neighbor_sink.h"
#include "spi_util.h"

/*
 * NeighborSinkInit
 *		An empty sink of model_id buffering up to cap pairs, in the current
 *		memory context.
 */
void
NeighborSinkInit(NeighborSink *sink, int64 model_id, int cap)
{
	memset(sink, 0, sizeof(NeighborSink));
	sink->cap = cap;
	sink->model_id = model_id;
	sink->product = palloc(sizeof(int64) * cap);
	sink->neighbor = palloc(sizeof(int64) * cap);
	sink->score = palloc(sizeof(float4) * cap);
	sink->support = palloc(sizeof(float4) * cap);
	sink->kind = "cooc";
}

/*
 * NeighborSinkAddTop
 *		Buffer the neighbours of product kept in top (sorted best first by
 *		TopKSort; items are indexes into item_ids), flushing first when
 *		they would not fit.
 */
void
NeighborSinkAddTop(NeighborSink *sink, int64 product, const TopK *top,
				   const int64 *item_ids)
{
	if (top->n == 0)
		return;
	if (sink->n + top->n > sink->cap)
		NeighborSinkFlush(sink);
	Assert(top->n <= sink->cap);
	for (int k = 0; k < top->n; k++)
	{
		sink->product[sink->n] = product;
		sink->neighbor[sink->n] = item_ids[top->e[k].item];
		sink->score[sink->n] = top->e[k].score;
		sink->support[sink->n] = top->e[k].support;
		sink->n++;
	}
	sink->total += top->n;
}

/*
 * NeighborSinkFlush
 *		Write the buffered pairs, one row per item with its neighbours as
 *		arrays, best first.
 */
void
NeighborSinkFlush(NeighborSink *sink)
{
	Datum	   *items;
	Datum	   *first;
	Datum	   *last;
	Datum	   *neighbor;
	Datum	   *score;
	Datum	   *support;
	int			nrows = 0;
	Oid			scalar_types[2] = {INT8OID, TEXTOID};
	Datum		scalars[2];
	SpiColumn	cols[6];
	int			lengths[6];

	if (sink->n == 0)
		return;
	items = palloc(sizeof(Datum) * sink->n);
	first = palloc(sizeof(Datum) * sink->n);
	last = palloc(sizeof(Datum) * sink->n);
	neighbor = palloc(sizeof(Datum) * sink->n);
	score = palloc(sizeof(Datum) * sink->n);
	support = palloc(sizeof(Datum) * sink->n);
	/* the items and their runs, 1-based inclusive bounds */
	for (int i = 0; i < sink->n; i++)
	{
		if (i == 0 || sink->product[i] != sink->product[i - 1])
		{
			items[nrows] = Int64GetDatum(sink->product[i]);
			first[nrows] = Int32GetDatum(i + 1);
			nrows++;
		}
		last[nrows - 1] = Int32GetDatum(i + 1);
		neighbor[i] = Int64GetDatum(sink->neighbor[i]);
		score[i] = Float4GetDatum(sink->score[i]);
		support[i] = Float4GetDatum(sink->support[i]);
	}
	scalars[0] = Int64GetDatum(sink->model_id);
	scalars[1] = CStringGetTextDatum(sink->kind);
	cols[0] = (SpiColumn) {INT8OID, items};
	cols[1] = (SpiColumn) {INT4OID, first};
	cols[2] = (SpiColumn) {INT4OID, last};
	cols[3] = (SpiColumn) {INT8OID, neighbor};
	cols[4] = (SpiColumn) {FLOAT4OID, score};
	cols[5] = (SpiColumn) {FLOAT4OID, support};
	lengths[0] = lengths[1] = lengths[2] = nrows;
	lengths[3] = lengths[4] = lengths[5] = sink->n;
	SpiRunArrays("INSERT INTO recgen.item_neighbors "
				 "(model_id, product_id, kind, neighbor_ids, scores, supports) "
				 "SELECT $1, u.p, $2, $6[u.a:u.b], $7[u.a:u.b], $8[u.a:u.b] "
				 "FROM unnest($3, $4, $5) AS u(p, a, b)",
				 2, scalar_types, scalars, 6, cols, lengths, SPI_OK_INSERT);
	pfree(items);
	pfree(first);
	pfree(last);
	pfree(neighbor);
	pfree(score);
	pfree(support);
	pfree(DatumGetPointer(scalars[1]));
	sink->n = 0;
}
