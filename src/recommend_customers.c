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
 * RecCustomerNeighbors
 *		cust(c), by model slot, of every product the nearest customers
 *		bought, into cust (zeroed, ModelCacheSize() long); each slot not
 *		seen before is marked in seen and appended to touched (*ntouched
 *		of them). Returns how many neighbours were found.
 */
int
RecCustomerNeighbors(RecItems *items, int64 customer_id, double *cust, bool *seen,
					 int32 *touched_slots, int *ntouched_slots)
{
	const ProfileIndex *idx;
	double		norm = 0;
	double	   *acc;
	int32	   *touched;
	int			ntouched = 0;
	int			self;
	int			k = recgen_neighbor_customers;
	TopK		top;
	double		largest = 0;
	int			nitems = RecItemsCount(items);

	if (k <= 0 || recgen_neighbor_weight <= 0)
		return 0;
	for (int i = 0; i < nitems; i++)
		norm += RecItemsAt(items, i)->nbw * RecItemsAt(items, i)->nbw;
	if (norm <= 0)
		return 0;
	idx = ProfileCacheGet();
	if (idx->nprofiles == 0)
		return 0;
	Assert(idx->nslots <= ModelCacheSize());
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
	 * the mean of their profiles, summed by slot in the order of the
	 * neighbours, then scaled so that the largest is 1
	 */
	for (int h = 0; h < top.n; h++)
	{
		int32		p = top.e[h].item;

		for (int64 e = idx->start[p]; e < idx->start[p + 1]; e++)
		{
			int32		s = idx->slot[e];

			if (!seen[s])
			{
				seen[s] = true;
				touched_slots[(*ntouched_slots)++] = s;
			}
			cust[s] += idx->weight[e] / top.n;
			largest = Max(largest, cust[s]);
		}
	}
	/* every slot seen is scaled (one only linked to the history stays 0) */
	if (largest > 0)
		for (int i = 0; i < *ntouched_slots; i++)
			cust[touched_slots[i]] /= largest;
	pfree(acc);
	pfree(touched);
	pfree(top.e);
	return top.n;
}
