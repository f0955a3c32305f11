/*-------------------------------------------------------------------------
 *
 * profile_cache.c
 *		Per-backend cache of the current model's customer profiles
 *		(recgen.customer_profiles) for customer neighbours: each profile's
 *		items as model slots with their weights, and the inverted index
 *		from item slot to the profiles holding it.
 *
 * Profiles are personal data read with the caller's rights (row-level
 * security shows an analyst the profiles of consenting customers only),
 * so the cache is keyed by the current user as well as by the model
 * (model_cache.c's key): another role, or another model, reads them
 * again. Like the co-occurrence it was built with, a profile stays in
 * the model until the next refresh_model(); a backend that cached it
 * before its customer withdrew consent keeps it until the model changes.
 * Memory: 16 bytes per profile entry, bounded by recgen.model_customer_pool.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/profile_cache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/memutils.h"

#include "recommend.h"
#include "spi_util.h"

static MemoryContext cache_cxt = NULL;
static bool cache_valid = false;
static int64 cache_model = -1;
static TimestampTz cache_built_at = 0;
static Oid	cache_user = InvalidOid;
static ProfileIndex cache_index;

static KeptQuery profiles_query = {
	"SELECT customer_id, product_ids, weights FROM recgen.customer_profiles "
	"WHERE model_id = $1 ORDER BY customer_id", 1, {INT8OID}
};

/*
 * read_profiles
 *		Read the profiles of the cached model into idx (cache_cxt).
 */
static void
read_profiles(ProfileIndex *idx, int64 model_id)
{
	Datum		args[1] = {Int64GetDatum(model_id)};
	uint64		n = 0;
	int			nslots = ModelCacheSize();
	bool		isnull;
	int64		cap = 1024;
	MemoryContext old;

	/* a 0.1.0 schema (not updated yet) has no profiles */
	SpiRunChecked("SELECT to_regclass('recgen.customer_profiles') IS NOT NULL",
				  0, NULL, NULL, true, SPI_OK_SELECT);
	if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
		n = KeptQueryRun(&profiles_query, args, true, SPI_OK_SELECT);
	old = MemoryContextSwitchTo(cache_cxt);
	idx->nprofiles = 0;
	idx->customer_ids = palloc(sizeof(int64) * Max(n, 1));
	idx->start = palloc(sizeof(int64) * (n + 1));
	idx->slot = palloc(sizeof(int32) * cap);
	idx->weight = palloc(sizeof(float4) * cap);
	idx->start[0] = 0;
	for (uint64 r = 0; r < n; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		ArrayType  *ids = DatumGetArrayTypeP(SPI_getbinval(tup, desc, 2, &isnull));
		ArrayType  *ws = DatumGetArrayTypeP(SPI_getbinval(tup, desc, 3, &isnull));
		int			len = ArrayGetNItems(ARR_NDIM(ids), ARR_DIMS(ids));
		const int64 *pid = (const int64 *) ARR_DATA_PTR(ids);
		const float4 *pw = (const float4 *) ARR_DATA_PTR(ws);
		int64		e = idx->start[idx->nprofiles];

		if ((r % 1024) == 0)
			CHECK_FOR_INTERRUPTS();
		if (ARR_HASNULL(ids) || ARR_HASNULL(ws) || ArrayGetNItems(ARR_NDIM(ws), ARR_DIMS(ws)) != len)
			continue;
		while (e + len > cap)
		{
			cap *= 2;
			idx->slot = repalloc_huge(idx->slot, sizeof(int32) * cap);
			idx->weight = repalloc_huge(idx->weight, sizeof(float4) * cap);
		}
		for (int k = 0; k < len; k++)
		{
			const ModelItem *m = ModelCacheItem(pid[k]);

			if (m == NULL)
				continue;		/* an item of no model row: no neighbour may share it */
			idx->slot[e] = m->slot;
			idx->weight[e++] = pw[k];
		}
		idx->customer_ids[idx->nprofiles++] = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		idx->start[idx->nprofiles] = e;
	}
	if (n > 0)
		SPI_freetuptable(SPI_tuptable);

	/* inverted index: slot -> (profile, weight) */
	{
		int64		total = idx->start[idx->nprofiles];
		int64	   *fill = palloc0(sizeof(int64) * (nslots + 1));

		idx->nslots = nslots;
		idx->post_start = palloc0(sizeof(int64) * (nslots + 1));
		idx->post_profile = palloc(sizeof(int32) * Max(total, 1));
		idx->post_weight = palloc(sizeof(float4) * Max(total, 1));
		for (int64 e = 0; e < total; e++)
			idx->post_start[idx->slot[e] + 1]++;
		for (int s = 0; s < nslots; s++)
			idx->post_start[s + 1] += idx->post_start[s];
		memcpy(fill, idx->post_start, sizeof(int64) * nslots);
		for (int p = 0; p < idx->nprofiles; p++)
			for (int64 e = idx->start[p]; e < idx->start[p + 1]; e++)
			{
				int64		at = fill[idx->slot[e]]++;

				idx->post_profile[at] = p;
				idx->post_weight[at] = idx->weight[e];
			}
		pfree(fill);
	}
	MemoryContextSwitchTo(old);
}

/*
 * ProfileCacheGet
 *		The profiles of the model the model cache holds (ModelCacheEnsure
 *		first), as the current user may read them. Must be called inside
 *		SPI.
 */
const ProfileIndex *
ProfileCacheGet(void)
{
	int64		model_id;
	TimestampTz built_at;
	Oid			user = GetUserId();

	ModelCacheKey(&model_id, &built_at);
	if (cache_valid && cache_model == model_id && cache_built_at == built_at && cache_user == user)
		return &cache_index;
	cache_valid = false;
	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(TopMemoryContext, "recgen profile cache",
										  ALLOCSET_DEFAULT_SIZES);
	else
		MemoryContextReset(cache_cxt);
	read_profiles(&cache_index, model_id);
	cache_model = model_id;
	cache_built_at = built_at;
	cache_user = user;
	cache_valid = true;
	return &cache_index;
}
