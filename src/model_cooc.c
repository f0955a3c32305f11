/*-------------------------------------------------------------------------
 *
 * model_cooc.c
 *		Co-occurrence neighbours of the model refresh (kind "cooc"), from
 *		the transaction set of model_events.c.
 *
 * For items i and j, c(i,j) is the weighted number of transactions
 * holding both and n(i) the weighted number holding i; the score is the
 * cosine c / sqrt(n(i) n(j)) shrunk by c / (c + recgen.model_shrinkage),
 * and the recgen.model_neighbors best are kept per item. Items are done
 * one at a time with a dense accumulator over an inverted index (item ->
 * transactions): memory O(events + items), never O(pairs).
 *
 * Interrupts: one item can cost as much as the sum of the sizes of its
 * transactions (10^8 for an item in every large basket), so a pending
 * cancel is honoured every 64 transactions of an item (at most
 * 64 * recgen.model_max_basket additions), not only per item.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/model_cooc.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "engine.h"
#include "model_build.h"
#include "neighbor_acc.h"

/*
 * ModelBuildCooccurrence
 *		Shrunk cosine top-K neighbours of every item into mb->sink. Returns
 *		the number of distinct co-occurring (ordered) pairs seen.
 */
int64
ModelBuildCooccurrence(ModelBuild *mb)
{
	TxnSet	   *ts = &mb->txns;
	int			n = mb->items.nitems;
	int64	   *istart = palloc0(sizeof(int64) * (n + 1));
	int32	   *itxn = palloc_extended(sizeof(int32) * Max(ts->nitems, 1), MCXT_ALLOC_HUGE);
	int64	   *fill = palloc(sizeof(int64) * Max(n, 1));
	float4	   *cnt = palloc0(sizeof(float4) * Max(n, 1));
	double	   *inv_sqrt_cnt = palloc0(sizeof(double) * Max(n, 1));
	NeighborAcc acc;
	int64		pairs = 0;

	ModelProgress(mb, "co-occurrence", 0, n);
	mb->sink.kind = "cooc";

	/* inverted index: item -> transactions (a cancel is seen every 2^20 entries) */
	for (int64 p = 0; p < ts->nitems; p++)
	{
		if ((p & 0xFFFFF) == 0)
			ModelCheckpoint(mb, 0);
		istart[ts->items[p] + 1]++;
	}
	for (int i = 0; i < n; i++)
		istart[i + 1] += istart[i];
	memcpy(fill, istart, sizeof(int64) * n);
	for (int t = 0; t < ts->ntxn; t++)
	{
		if ((t & 0xFFFF) == 0)
			ModelCheckpoint(mb, 0);
		for (int64 p = ts->start[t]; p < ts->start[t + 1]; p++)
		{
			itxn[fill[ts->items[p]]++] = t;
			cnt[ts->items[p]] += ts->weight[t];
		}
	}

	for (int i = 0; i < n; i++)
		if (cnt[i] > 0)
			inv_sqrt_cnt[i] = 1.0 / sqrt((double) cnt[i]);

	NeighborAccInit(&acc, n, recgen_model_neighbors, false);
	for (int i = 0; i < n; i++)
	{
		if ((i % 1000) == 0)
			ModelProgress(mb, "co-occurrence", i, n);
		for (int64 q = istart[i]; q < istart[i + 1]; q++)
		{
			int			t = itxn[q];
			float4		w = ts->weight[t];

			/* every 64 transactions: at most 6,400 additions between checks */
			if (((q - istart[i]) & 63) == 0)
				ModelCheckpoint(mb, i);
			NeighborAccAdd(&acc, ts->items, ts->start[t], ts->start[t + 1], i, w, false);
		}
		pairs += NeighborAccEmit(&acc, i, inv_sqrt_cnt[i], inv_sqrt_cnt, recgen_model_shrinkage,
								 &mb->sink, mb->items.item_ids);
	}
	NeighborSinkFlush(&mb->sink);
	pfree(istart);
	pfree(itxn);
	pfree(fill);
	pfree(cnt);
	pfree(inv_sqrt_cnt);
	NeighborAccFree(&acc);
	return pairs;
}
