/*-------------------------------------------------------------------------
 *
 * recommend_customers.c
 *		Customer neighbours of recommend(): what the customers most like
 *		this one bought, in the manner of TIFU-KNN (Hu et al., SIGIR 2020).
 *
 * The customer's profile is their purchases decayed by
 * recgen.neighbor_half_life (from the history query), scaled to unit
 * length like the pool's (model_customers.c), so a dot product is the
 * cosine similarity. Through the inverted index of the pool
 * (profile_cache.c) only profiles sharing an item are touched; the
 * recgen.neighbor_customers most similar ones (the customer's own
 * profile left out) give
 *	cust(c) = the mean of their weights of c,
 * scaled so that the largest is 1; balanced adds recgen.neighbor_weight
 * times it to the score, and every item they bought is a candidate.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/recommend_customers.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "engine.h"
#include "recommend.h"
#include "topk.h"

/*
 * self_profile
 *		The index of the customer's own profile (ids ascend), or -1.
 */
static int
self_profile(const ProfileIndex *idx, int64 customer_id)
{
	int			lo = 0,
				hi = idx->nprofiles - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (idx->customer_ids[mid] == customer_id)
			return mid;
		if (idx->customer_ids[mid] < customer_id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/*
 * defer_threshold
 *		The smallest cust (in [0, 1]) an item must have to be made now, so
 *		that about `keep' of the m pending ones are: the lower edge of the
 *		histogram bin (64 bins) where the count from the top reaches keep.
 */
static double
defer_threshold(const double *cust, int m, int keep)
{
	int			bins[64] = {0};
	int			above = 0;

	if (m <= keep)
		return 0;
	for (int i = 0; i < m; i++)
		bins[Min((int) (cust[i] * 64), 63)]++;
	for (int b = 63; b > 0; b--)
	{
		above += bins[b];
		if (above >= keep)
			return b / 64.0;
	}
	return 0;
}

/*
 * RecCustomerNeighbors
 *		Set cust(c) of every item the nearest customers bought, making each
 *		a candidate. Returns how many neighbours were found.
 *
 * Most of those items are bought by one or two of the neighbours, with a
 * cust far below what the list will need, and making an item of each
 * costs more than the rest of their ranking. So the items that exist
 * already get their cust, and of the others only about `keep' with the
 * largest cust are made now; the rest go into *def, with the largest cust
 * and popularity among them, for RecRankerDefer: the ranker asks for them
 * (RecCustomerMaterialize) only when that bound could reach the list.
 */
int
RecCustomerNeighbors(RecItems *items, int64 customer_id, int keep, RecDeferred *def)
{
	const ProfileIndex *idx;
	const int64 *slot_ids;
	const double *slot_pop;
	double		norm = 0;
	double	   *acc;
	int32	   *touched;
	int			ntouched = 0;
	int			self;
	int			k = recgen_neighbor_customers;
	TopK		top;
	double		largest = 0;
	int			nitems = RecItemsCount(items);
	int			nslots;
	double	   *by_slot;
	int32	   *slots;
	bool	   *seen;
	int			nseen = 0;
	int			npending = 0;
	double		theta;

	memset(def, 0, sizeof(RecDeferred));
	if (k <= 0 || recgen_neighbor_weight <= 0)
		return 0;
	for (int i = 0; i < nitems; i++)
		norm += RecItemsAt(items, i)->nbw * RecItemsAt(items, i)->nbw;
	if (norm <= 0)
		return 0;
	idx = ProfileCacheGet();
	if (idx->nprofiles == 0)
		return 0;
	norm = 1.0 / sqrt(norm);
	self = self_profile(idx, customer_id);

	/* similarity to every profile sharing an item */
	acc = palloc0(sizeof(double) * idx->nprofiles);
	touched = palloc(sizeof(int32) * idx->nprofiles);
	for (int i = 0; i < nitems; i++)
	{
		RecItem    *it = RecItemsAt(items, i);
		const ModelItem *m;
		double		w;

		if (it->nbw <= 0 || (m = ModelCacheItem(it->product_id)) == NULL || m->slot >= idx->nslots)
			continue;
		w = it->nbw * norm;
		CHECK_FOR_INTERRUPTS();
		for (int64 q = idx->post_start[m->slot]; q < idx->post_start[m->slot + 1]; q++)
		{
			int32		p = idx->post_profile[q];

			if (acc[p] == 0)
				touched[ntouched++] = p;
			acc[p] += w * idx->post_weight[q];
		}
	}

	/* the k most similar, the customer's own profile left out */
	TopKInit(&top, k);
	for (int t = 0; t < ntouched; t++)
		if (touched[t] != self)
			TopKOffer(&top, (float4) acc[touched[t]], touched[t], 0);

	/*
	 * the mean of their profiles, summed by model slot (in the order of the
	 * neighbours, so each sum is the same whatever the layout), then
	 * scaled so that the largest is 1
	 */
	slot_ids = ModelCacheSlotIds();
	slot_pop = ModelCacheSlotPopularity();
	nslots = idx->nslots;
	by_slot = palloc0(sizeof(double) * Max(nslots, 1));
	slots = palloc(sizeof(int32) * Max(nslots, 1));
	seen = palloc0(sizeof(bool) * Max(nslots, 1));
	for (int h = 0; h < top.n; h++)
	{
		int32		p = top.e[h].item;

		for (int64 e = idx->start[p]; e < idx->start[p + 1]; e++)
		{
			int32		s = idx->slot[e];

			if (!seen[s])
			{
				seen[s] = true;
				slots[nseen++] = s;
			}
			by_slot[s] += idx->weight[e] / top.n;
		}
	}
	for (int i = 0; i < nseen; i++)
		largest = Max(largest, by_slot[slots[i]]);
	for (int i = 0; i < nseen; i++)
		if (largest > 0)
			by_slot[slots[i]] /= largest;

	/* items that exist get their cust; the others wait in slots[0 .. npending) */
	for (int i = 0; i < nseen; i++)
	{
		int32		s = slots[i];
		RecItem    *c = RecItemFind(items, slot_ids[s]);

		if (c == NULL)
		{
			slots[npending++] = s;
			continue;
		}
		c->candidate = true;
		c->pop = slot_pop[s];
		c->pop_known = true;
		c->cust = by_slot[s];
	}

	/* the pending ones: the largest made now, the rest deferred */
	def->ids = palloc(sizeof(int64) * Max(npending, 1));
	def->cust = palloc(sizeof(double) * Max(npending, 1));
	def->pop = palloc(sizeof(double) * Max(npending, 1));
	for (int i = 0; i < npending; i++)
		def->cust[i] = by_slot[slots[i]];
	theta = defer_threshold(def->cust, npending, keep);
	for (int i = 0; i < npending; i++)
	{
		int32		s = slots[i];

		if (by_slot[s] >= theta)
		{
			RecItem    *c = RecItemGet(items, slot_ids[s]);

			c->candidate = true;
			c->pop = slot_pop[s];
			c->pop_known = true;
			c->cust = by_slot[s];
			continue;
		}
		def->ids[def->n] = slot_ids[s];
		def->cust[def->n] = by_slot[s];
		def->pop[def->n] = slot_pop[s];
		def->max_cust = Max(def->max_cust, by_slot[s]);
		def->max_pop = Max(def->max_pop, slot_pop[s]);
		def->n++;
	}
	pfree(acc);
	pfree(touched);
	pfree(by_slot);
	pfree(slots);
	pfree(seen);
	pfree(top.e);
	return top.n;
}

/*
 * RecCustomerMaterialize
 *		Make the items RecCustomerNeighbors deferred, as candidates with
 *		their cust and popularity; def is empty afterwards.
 */
void
RecCustomerMaterialize(RecItems *items, RecDeferred *def)
{
	for (int i = 0; i < def->n; i++)
	{
		RecItem    *c = RecItemGet(items, def->ids[i]);

		c->candidate = true;
		c->pop = def->pop[i];
		c->pop_known = true;
		c->cust = def->cust[i];
	}
	def->n = 0;
}
