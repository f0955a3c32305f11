/*-------------------------------------------------------------------------
 *
 * model_customers.c
 *		The purchase profiles of the model's customer pool, for customer
 *		neighbours (recgen.customer_profiles): collected during the event
 *		scan (model_events.c), written by the refresh.
 *
 * A profile holds the products a consented customer bought before
 * as_of, each weighted by 2^(-age / recgen.neighbor_half_life) per
 * purchase line and scaled to unit length, so that recommend() finds a
 * customer's nearest customers by cosine similarity with dot products
 * (recommend_customers.c). The pool is the recgen.model_customer_pool
 * customers whose latest purchase is most recent, which bounds what each
 * backend keeps of it; 0 builds none.
 *
 * Profiles are personal data: the table has row-level security like
 * recgen.events, and a customer's rows go with the customer.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/model_customers.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "engine.h"
#include "model_build.h"
#include "spi_util.h"

/* profile entries written per statement */
#define PROFILE_BATCH 50000

/*
 * CustomerSetInit
 *		An empty set in the current memory context.
 */
void
CustomerSetInit(CustomerSet *cs)
{
	cs->ncust = 0;
	cs->cap_cust = 1024;
	cs->customer_ids = palloc(sizeof(int64) * cs->cap_cust);
	cs->last = palloc(sizeof(TimestampTz) * cs->cap_cust);
	cs->start = palloc(sizeof(int64) * (cs->cap_cust + 1));
	cs->start[0] = 0;
	cs->nentries = 0;
	cs->cap_entries = 8192;
	cs->item = palloc(sizeof(int32) * cs->cap_entries);
	cs->weight = palloc(sizeof(float4) * cs->cap_entries);
}

/*
 * CustomerSetAdd
 *		Append one customer's profile (distinct items, ascending).
 */
void
CustomerSetAdd(CustomerSet *cs, int64 customer_id, TimestampTz last,
			   const int32 *items, const float4 *weights, int n)
{
	if (n == 0)
		return;
	if (cs->ncust == cs->cap_cust)
	{
		cs->cap_cust *= 2;
		cs->customer_ids = repalloc_huge(cs->customer_ids, sizeof(int64) * cs->cap_cust);
		cs->last = repalloc_huge(cs->last, sizeof(TimestampTz) * cs->cap_cust);
		cs->start = repalloc_huge(cs->start, sizeof(int64) * (cs->cap_cust + 1));
	}
	if (cs->nentries + n > cs->cap_entries)
	{
		while (cs->nentries + n > cs->cap_entries)
			cs->cap_entries *= 2;
		cs->item = repalloc_huge(cs->item, sizeof(int32) * cs->cap_entries);
		cs->weight = repalloc_huge(cs->weight, sizeof(float4) * cs->cap_entries);
	}
	memcpy(cs->item + cs->nentries, items, sizeof(int32) * n);
	memcpy(cs->weight + cs->nentries, weights, sizeof(float4) * n);
	cs->customer_ids[cs->ncust] = customer_id;
	cs->last[cs->ncust] = last;
	cs->nentries += n;
	cs->ncust++;
	cs->start[cs->ncust] = cs->nentries;
}

/*
 * cmp_recent
 *		qsort_arg order of customer indexes: latest purchase first, then
 *		customer id.
 */
static int
cmp_recent(const void *a, const void *b, void *arg)
{
	const CustomerSet *cs = arg;
	int			x = *(const int *) a,
				y = *(const int *) b;

	if (cs->last[x] != cs->last[y])
		return cs->last[x] > cs->last[y] ? -1 : 1;
	return (cs->customer_ids[x] > cs->customer_ids[y]) - (cs->customer_ids[x] < cs->customer_ids[y]);
}

/*
 * pool_sift
 *		Restore the heap of customer indexes below i, whose root is the
 *		customer that bought least recently (cmp_recent's last).
 */
static void
pool_sift(int *heap, int n, int i, const CustomerSet *cs)
{
	int			x = heap[i];

	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && cmp_recent(&heap[c + 1], &heap[c], (void *) cs) > 0)
			c++;
		if (cmp_recent(&heap[c], &x, (void *) cs) <= 0)
			break;
		heap[i] = heap[c];
		i = c;
	}
	heap[i] = x;
}

/*
 * pool_order
 *		The indexes of the npool customers who bought most recently, in no
 *		particular order (a heap of npool over all: no sort of every
 *		customer).
 */
static int *
pool_order(const CustomerSet *cs, int npool)
{
	int		   *heap = palloc(sizeof(int) * Max(npool, 1));

	for (int i = 0; i < npool; i++)
		heap[i] = i;
	if (npool == cs->ncust)
		return heap;
	for (int i = npool / 2 - 1; i >= 0; i--)
		pool_sift(heap, npool, i, cs);
	for (int i = npool; i < cs->ncust; i++)
		if (cmp_recent(&i, &heap[0], (void *) cs) < 0)
		{
			heap[0] = i;
			pool_sift(heap, npool, 0, cs);
		}
	return heap;
}

/*
 * write_batch
 *		Insert the profiles of n customers whose entries are in the column
 *		arrays (slices first..last, 1-based).
 */
static void
write_batch(ModelBuild *mb, Datum *cust, Datum *first, Datum *last, int n,
			Datum *products, Datum *weights, int m)
{
	Oid			scalar_types[1] = {INT8OID};
	Datum		scalars[1] = {Int64GetDatum(mb->model_id)};
	SpiColumn	cols[5] = {
		{INT8OID, cust}, {INT4OID, first}, {INT4OID, last},
		{INT8OID, products}, {FLOAT4OID, weights}
	};
	int			lengths[5] = {n, n, n, m, m};

	SpiRunArrays("INSERT INTO recgen.customer_profiles (customer_id, model_id, product_ids, weights) "
				 "SELECT u.c, $1, $5[u.a:u.b], $6[u.a:u.b] FROM unnest($2, $3, $4) AS u(c, a, b)",
				 1, scalar_types, scalars, 5, cols, lengths, SPI_OK_INSERT);
}

/*
 * ModelWriteProfiles
 *		Write the profiles of the pool, scaled to unit length. Returns how
 *		many customers were written.
 */
int64
ModelWriteProfiles(ModelBuild *mb)
{
	CustomerSet *cs = &mb->customers;
	int			npool = Min(cs->ncust, recgen_model_customer_pool);
	int		   *order;
	Datum	   *cust = palloc(sizeof(Datum) * PROFILE_BATCH);
	Datum	   *first = palloc(sizeof(Datum) * PROFILE_BATCH);
	Datum	   *last = palloc(sizeof(Datum) * PROFILE_BATCH);
	Datum	   *products = palloc(sizeof(Datum) * PROFILE_BATCH);
	Datum	   *weights = palloc(sizeof(Datum) * PROFILE_BATCH);
	int			n = 0,
				m = 0;

	if (npool <= 0)
		return 0;
	ModelProgress(mb, "customer profiles", 0, npool);
	order = pool_order(cs, npool);

	for (int k = 0; k < npool; k++)
	{
		int			c = order[k];
		int64		len = cs->start[c + 1] - cs->start[c];
		double		norm = 0;

		ModelCheckpoint(mb, k);
		if (len > PROFILE_BATCH)
			len = PROFILE_BATCH;	/* a profile of more items is cut */
		if (n == PROFILE_BATCH || m + len > PROFILE_BATCH)
		{
			write_batch(mb, cust, first, last, n, products, weights, m);
			n = m = 0;
		}
		for (int64 p = cs->start[c]; p < cs->start[c] + len; p++)
			norm += (double) cs->weight[p] * cs->weight[p];
		norm = norm > 0 ? 1.0 / sqrt(norm) : 0;
		cust[n] = Int64GetDatum(cs->customer_ids[c]);
		first[n] = Int32GetDatum(m + 1);
		for (int64 p = cs->start[c]; p < cs->start[c] + len; p++)
		{
			products[m] = Int64GetDatum(mb->items.item_ids[cs->item[p]]);
			weights[m] = Float4GetDatum((float4) (cs->weight[p] * norm));
			m++;
		}
		last[n] = Int32GetDatum(m);
		n++;
	}
	if (n > 0)
		write_batch(mb, cust, first, last, n, products, weights, m);
	pfree(order);
	pfree(cust);
	pfree(first);
	pfree(last);
	pfree(products);
	pfree(weights);
	return npool;
}
