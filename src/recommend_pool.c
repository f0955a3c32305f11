/*-------------------------------------------------------------------------
 *
 * recommend_pool.c
 *		The candidates of strategy balanced, pooled by model slot before
 *		any of them becomes an item of the call.
 *
 * Balanced takes as candidates every neighbour of the history (50
 * co-occurrence and 50 content neighbours of each of up to 50 items) and
 * every product the nearest customers bought: for a customer of Online
 * Retail about half of the catalog, most of it far below what the list
 * will need, and making an item of each (a hash insert, a few hundred
 * bytes to clear, its bound in the ranker's heap) cost more than the rest
 * of the call. So their neighbour sums cooc(c), content(c) and cust(c)
 * are first summed in arrays by model slot, in the order the item-based
 * sums used (so every sum is the same number), the items that exist
 * already (history, bought, popular) get theirs, and of the others only
 * about `keep' with the largest upper bound are made items now. The rest
 * are deferred with the largest of their bounds (RecRankerDefer): the
 * ranker asks for them (RecPoolMaterialize) only when that bound could
 * reach the list, so the list is the same as with every item made.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/recommend_pool.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "recommend.h"

struct RecPool
{
	RecItems   *items;
	const int64 *slot_ids;
	const double *slot_pop;
	const NeighborRow *rows;	/* the history's links, by slot (no items) */
	int			nrows;
	int			nslots;			/* length of the arrays by slot */
	double		sumw;
	/* by model slot */
	double	   *cooc;
	double	   *content;
	double	   *cust;
	RecItem   **item;			/* the item made of it, or NULL */
	bool	   *fresh;			/* made by the current step (its sources to add) */
	/* the slots not made into items, and the largest base of their bounds */
	int32	   *deferred;
	int			ndeferred;
	int			ndeferred_first;
	double		max_base;
};

/*
 * take_slot
 *		Make slot s's product a candidate with its sums and popularity.
 */
static void
take_slot(RecPool *pool, RecItem *c, int32 s)
{
	c->candidate = true;
	c->pop = pool->slot_pop[s];
	c->pop_known = true;
	c->cooc = pool->cooc[s];
	c->content = pool->content[s];
	c->cust = pool->cust[s];
	pool->item[s] = c;
	pool->fresh[s] = true;
}

/*
 * add_sources
 *		The strongest sources of the items made by this step, from the
 *		links in their order (as RecSumNeighbors adds them).
 */
static void
add_sources(RecPool *pool)
{
	for (int r = 0; r < pool->nrows; r++)
	{
		const NeighborRow *row = &pool->rows[r];
		RecItem    *h = row->h;

		if (!pool->fresh[row->slot] || h->w <= 0 || pool->sumw <= 0)
			continue;
		RecAddSource(pool->item[row->slot], h->product_id, h->w * row->s / pool->sumw);
	}
}

/*
 * defer_threshold
 *		The smallest base an item must have to be made now, so that about
 *		`keep' of the m pending ones are: the lower edge of the bin (64
 *		bins from 0 to the largest) where the count from the top reaches
 *		keep; 0 when all are to be made.
 */
static double
defer_threshold(const double *base, int m, int keep)
{
	int			bins[64] = {0};
	int			above = 0;
	double		top = 0;

	if (m <= keep)
		return 0;
	for (int i = 0; i < m; i++)
		top = Max(top, base[i]);
	if (!(top > 0))
		return 0;
	for (int i = 0; i < m; i++)
		bins[Min((int) (base[i] / top * 64), 63)]++;
	for (int b = 63; b > 0; b--)
	{
		above += bins[b];
		if (above >= keep)
			return top * b / 64;
	}
	return 0;
}

/*
 * RecPoolCreate
 *		Pool balanced's candidates: the links (rows, from
 *		RecCollectNeighbors without items) and the nearest customers'
 *		products. max_aff is the ranker's largest category affinity (what
 *		an item's bound assumes before its category is known).
 */
RecPool *
RecPoolCreate(RecItems *items, const NeighborRow *rows, int nrows, double sumw,
			  int64 customer_id, int keep, double max_aff)
{
	RecPool    *pool = palloc0(sizeof(RecPool));
	int			nslots = ModelCacheSize();
	int32	   *touched = palloc(sizeof(int32) * Max(nslots, 1));
	bool	   *seen = palloc0(sizeof(bool) * Max(nslots, 1));
	int			ntouched = 0;
	double	   *base;
	int			npending = 0;
	double		theta;

	pool->items = items;
	pool->nslots = Max(nslots, 1);
	pool->slot_ids = ModelCacheSlotIds();
	pool->slot_pop = ModelCacheSlotPopularity();
	pool->rows = rows;
	pool->nrows = nrows;
	pool->sumw = sumw;
	pool->cooc = palloc0(sizeof(double) * Max(nslots, 1));
	pool->content = palloc0(sizeof(double) * Max(nslots, 1));
	pool->cust = palloc0(sizeof(double) * Max(nslots, 1));
	pool->item = palloc0(sizeof(RecItem *) * Max(nslots, 1));
	pool->fresh = palloc0(sizeof(bool) * Max(nslots, 1));

	/* the neighbour sums, as RecSumNeighbors: every link makes a candidate */
	for (int r = 0; r < nrows; r++)
	{
		const NeighborRow *row = &rows[r];
		RecItem    *h = row->h;
		double		contrib;

		if (!seen[row->slot])
		{
			seen[row->slot] = true;
			touched[ntouched++] = row->slot;
		}
		if (h->w <= 0 || sumw <= 0)
			continue;
		contrib = h->w * row->s / sumw;
		if (row->content)
			pool->content[row->slot] += contrib;
		else
			pool->cooc[row->slot] += contrib;
	}
	RecCustomerNeighbors(items, customer_id, pool->cust, seen, touched, &ntouched);

	/*
	 * items that exist get their sums; the others wait in touched[0 ..
	 * npending) with the base of their bound: RecUpperBound's balanced one
	 * of an item never bought (RecBalancedBound, repeat share 0)
	 */
	base = palloc(sizeof(double) * Max(ntouched, 1));
	for (int i = 0; i < ntouched; i++)
	{
		int32		s = touched[i];
		RecItem    *c = RecItemFind(items, pool->slot_ids[s]);

		if (c != NULL)
		{
			take_slot(pool, c, s);
			continue;
		}
		touched[npending] = s;
		base[npending++] = RecBalancedBound(pool->cooc[s], pool->content[s], 0.0,
											pool->cust[s], max_aff, pool->slot_pop[s]);
	}

	/* the pending ones with the largest bounds made now, the rest deferred */
	theta = defer_threshold(base, npending, keep);
	pool->deferred = palloc(sizeof(int32) * Max(npending, 1));
	for (int i = 0; i < npending; i++)
	{
		int32		s = touched[i];

		if (base[i] >= theta)
			take_slot(pool, RecItemGet(items, pool->slot_ids[s]), s);
		else
		{
			pool->deferred[pool->ndeferred++] = s;
			pool->max_base = Max(pool->max_base, base[i]);
		}
	}
	pool->ndeferred_first = pool->ndeferred;
	add_sources(pool);
	pfree(base);
	pfree(touched);
	pfree(seen);
	return pool;
}

/*
 * RecPoolDeferred
 *		How many candidates are deferred, and the largest base of their
 *		bounds (for RecRankerDefer) in *max_base.
 */
int
RecPoolDeferred(const RecPool *pool, double *max_base)
{
	*max_base = pool->max_base;
	return pool->ndeferred;
}

/*
 * RecPoolMaterialize
 *		Make the deferred candidates items (their sums and sources).
 */
void
RecPoolMaterialize(RecPool *pool)
{
	memset(pool->fresh, 0, sizeof(bool) * pool->nslots);
	for (int i = 0; i < pool->ndeferred; i++)
	{
		int32		s = pool->deferred[i];

		take_slot(pool, RecItemGet(pool->items, pool->slot_ids[s]), s);
	}
	add_sources(pool);
	pool->ndeferred = 0;
	pool->max_base = 0;
}

/*
 * RecPoolCounts
 *		For the DEBUG line: how many were deferred at first, how many of
 *		those were made items later.
 */
void
RecPoolCounts(const RecPool *pool, int *deferred, int *made_later)
{
	*deferred = pool->ndeferred_first;
	*made_later = pool->ndeferred_first - pool->ndeferred;
}
