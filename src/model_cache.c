/*-------------------------------------------------------------------------
 *
 * model_cache.c
 *		Per-backend cache of the current recommendation model for
 *		recgen.recommend(): every item's neighbour lists (co-occurrence and
 *		content), the overall popularity (score and rank), and the popular
 *		items of the segments and countries asked for so far.
 *
 * A model's rows never change once built (refresh_model writes a new
 * model_id and deletes the old model's rows), so the cache is keyed by
 * (model_id, built_at) of recgen.models, which recommend reads anyway on
 * every call; another model becoming current (or a rolled-back one
 * ceasing to be) rebuilds it. built_at guards against a model_id being
 * reused after the extension was dropped and created again.
 *
 * Everything lives in one memory context under TopMemoryContext, reset
 * before each (re)build; the key is only set once a build has finished,
 * so an error during a build leaves no half-built cache in use.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/model_cache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "int64_hash.h"
#include "recommend.h"
#include "spi_util.h"

static MemoryContext cache_cxt = NULL;
static HTAB *cache_items = NULL;
static int64 cache_model = -1;
static TimestampTz cache_built_at = 0;
static int	cache_nitems = 0;		/* slots handed out */

/* overall popularity, ordered by rank then product_id */
static int	cache_npop = 0;
static int64 *cache_pop_ids = NULL;
static double *cache_pop_scores = NULL;
static int32 *cache_pop_ranks = NULL;

/* overall popularity and product id by slot (0 if never bought) */
static double *cache_slot_pop = NULL;
static int64 *cache_slot_ids = NULL;

/* popular items of segment and country scopes, read on first use */
#define SCOPE_KEY_LEN 136

typedef struct ScopeList
{
	char		key[SCOPE_KEY_LEN];	/* "segment:value", "country:value" */
	int			n;
	int64	   *ids;
	double	   *scores;
} ScopeList;

static HTAB *cache_scopes = NULL;

static KeptQuery neighbors_query = {
	"SELECT product_id, kind = 'content', neighbor_ids, scores "
	"FROM recgen.item_neighbors WHERE model_id = $1", 1, {INT8OID}
};
static KeptQuery scope_query = {
	"SELECT product_id, score::float8 FROM recgen.item_popularity "
	"WHERE model_id = $1 AND scope = $2 AND scope_value = $3 ORDER BY rank",
	3, {INT8OID, TEXTOID, TEXTOID}
};
static KeptQuery popularity_query = {
	"SELECT product_id, score::float8, rank FROM recgen.item_popularity "
	"WHERE model_id = $1 AND scope = 'all' AND scope_value = '' "
	"ORDER BY rank, product_id", 1, {INT8OID}
};

/*
 * cache_entry
 *		The entry of a product, created empty when missing.
 */
static ModelItem *
cache_entry(int64 product_id)
{
	bool		found;
	ModelItem  *e = hash_search(cache_items, &product_id, HASH_ENTER, &found);

	if (!found)
	{
		memset(e, 0, sizeof(ModelItem));
		e->product_id = product_id;
		e->slot = cache_nitems++;
	}
	return e;
}

/*
 * load_neighbors
 *		Copy every neighbour list of the model into the cache.
 */
static void
load_neighbors(int64 model_id)
{
	Datum		args[1] = {Int64GetDatum(model_id)};

	KeptQueryRun(&neighbors_query, args, true, SPI_OK_SELECT);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		bool		content = DatumGetBool(SPI_getbinval(tup, desc, 2, &isnull));
		ArrayType  *nba = DatumGetArrayTypeP(SPI_getbinval(tup, desc, 3, &isnull));
		ArrayType  *sca = DatumGetArrayTypeP(SPI_getbinval(tup, desc, 4, &isnull));
		int			len = ArrayGetNItems(ARR_NDIM(nba), ARR_DIMS(nba));
		ModelNeighbors *nb;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (ARR_HASNULL(nba) || ARR_HASNULL(sca) ||
			ArrayGetNItems(ARR_NDIM(sca), ARR_DIMS(sca)) != len || len == 0)
			continue;
		nb = &cache_entry(id)->nb[content ? MODEL_NB_CONTENT : MODEL_NB_COOC];
		old = MemoryContextSwitchTo(cache_cxt);
		nb->n = len;
		nb->ids = palloc(sizeof(int64) * len);
		nb->scores = palloc(sizeof(float4) * len);
		nb->slots = palloc(sizeof(int32) * len);
		MemoryContextSwitchTo(old);
		memcpy(nb->ids, ARR_DATA_PTR(nba), sizeof(int64) * len);
		memcpy(nb->scores, ARR_DATA_PTR(sca), sizeof(float4) * len);
		for (int k = 0; k < len; k++)
			nb->slots[k] = cache_entry(nb->ids[k])->slot;
	}
	SPI_freetuptable(SPI_tuptable);
}

/*
 * load_popularity
 *		Overall popularity of the model: per item, and the ranked list.
 */
static void
load_popularity(int64 model_id)
{
	Datum		args[1] = {Int64GetDatum(model_id)};
	MemoryContext old;

	KeptQueryRun(&popularity_query, args, true, SPI_OK_SELECT);
	old = MemoryContextSwitchTo(cache_cxt);
	cache_pop_ids = palloc(sizeof(int64) * (SPI_processed + 1));
	cache_pop_scores = palloc(sizeof(double) * (SPI_processed + 1));
	cache_pop_ranks = palloc(sizeof(int32) * (SPI_processed + 1));
	MemoryContextSwitchTo(old);
	cache_npop = 0;
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		double		score = DatumGetFloat8(SPI_getbinval(tup, desc, 2, &isnull));
		ModelItem  *e = cache_entry(id);

		e->pop = score;
		cache_pop_ids[cache_npop] = id;
		cache_pop_scores[cache_npop] = score;
		cache_pop_ranks[cache_npop] = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
		cache_npop++;
	}
	SPI_freetuptable(SPI_tuptable);
}

/*
 * ModelCacheEnsure
 *		Make the cache hold the model (model_id, built_at), building it
 *		when another one (or none) is cached. Must be called inside SPI.
 */
void
ModelCacheEnsure(int64 model_id, TimestampTz built_at)
{
	HASHCTL		ctl;

	if (cache_items != NULL && cache_model == model_id && cache_built_at == built_at)
		return;

	cache_model = -1;
	cache_items = NULL;
	cache_scopes = NULL;
	cache_npop = 0;
	cache_nitems = 0;
	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(TopMemoryContext, "recgen model cache",
										  ALLOCSET_DEFAULT_SIZES);
	else
		MemoryContextReset(cache_cxt);

	RecInt64HashCtl(&ctl, sizeof(ModelItem), cache_cxt);
	cache_items = hash_create("recgen model cache items", 4096, &ctl, REC_INT64_HASH_FLAGS);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = SCOPE_KEY_LEN;
	ctl.entrysize = sizeof(ScopeList);
	ctl.hcxt = cache_cxt;
	cache_scopes = hash_create("recgen model cache scopes", 64, &ctl,
							   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	PG_TRY();
	{
		HASH_SEQ_STATUS seq;
		ModelItem  *e;

		load_neighbors(model_id);
		load_popularity(model_id);
		cache_slot_pop = MemoryContextAllocZero(cache_cxt, sizeof(double) * Max(cache_nitems, 1));
		cache_slot_ids = MemoryContextAllocZero(cache_cxt, sizeof(int64) * Max(cache_nitems, 1));
		hash_seq_init(&seq, cache_items);
		while ((e = hash_seq_search(&seq)) != NULL)
		{
			cache_slot_pop[e->slot] = e->pop;
			cache_slot_ids[e->slot] = e->product_id;
		}
	}
	PG_CATCH();
	{
		cache_items = NULL;
		cache_scopes = NULL;
		cache_npop = 0;
		PG_RE_THROW();
	}
	PG_END_TRY();
	cache_model = model_id;
	cache_built_at = built_at;
	elog(DEBUG1, "recgen: model " INT64_FORMAT " cached, %ld items",
		 model_id, hash_get_num_entries(cache_items));
}

/*
 * ModelCacheItem
 *		The cached entry of a product, NULL when the model does not know it.
 */
const ModelItem *
ModelCacheItem(int64 product_id)
{
	bool		found;

	Assert(cache_items != NULL);
	return hash_search(cache_items, &product_id, HASH_FIND, &found);
}

/*
 * ModelCacheSize
 *		How many items (slots) the cached model has.
 */
int
ModelCacheSize(void)
{
	return cache_nitems;
}

/*
 * ModelCachePopularity
 *		Overall popularity of a product in [0, 1] (0 if never bought).
 */
double
ModelCachePopularity(int64 product_id)
{
	const ModelItem *e = ModelCacheItem(product_id);

	return e ? e->pop : 0.0;
}

/*
 * ModelCacheSlotPopularity
 *		Overall popularity by slot (ModelItem.slot, ModelNeighbors.slots):
 *		an array of ModelCacheSize() entries.
 */
const double *
ModelCacheSlotPopularity(void)
{
	return cache_slot_pop;
}

/*
 * ModelCacheSlotIds
 *		Product id by slot: an array of ModelCacheSize() entries.
 */
const int64 *
ModelCacheSlotIds(void)
{
	return cache_slot_ids;
}

/*
 * ModelCacheKey
 *		The (model_id, built_at) the cache holds, for caches kept beside it.
 */
void
ModelCacheKey(int64 *model_id, TimestampTz *built_at)
{
	*model_id = cache_model;
	*built_at = cache_built_at;
}

/*
 * ModelCacheScope
 *		The popular items of a segment or country scope of the cached model,
 *		best first, with their scores in the scope: read on first use and
 *		kept with the model. Returns how many (0 for a NULL value). Must be
 *		called inside SPI.
 */
int
ModelCacheScope(const char *scope, const char *value, const int64 **ids,
				const double **scores)
{
	char		key[SCOPE_KEY_LEN];
	ScopeList  *e;
	bool		found;

	*ids = NULL;
	*scores = NULL;
	if (value == NULL)
		return 0;
	snprintf(key, sizeof(key), "%s:%s", scope, value);
	e = hash_search(cache_scopes, key, HASH_FIND, NULL);
	if (e == NULL)
	{
		Datum		args[3];
		int			n;
		int64	   *list_ids;
		double	   *list_scores;

		args[0] = Int64GetDatum(cache_model);
		args[1] = CStringGetTextDatum(scope);
		args[2] = CStringGetTextDatum(value);
		n = (int) KeptQueryRun(&scope_query, args, true, SPI_OK_SELECT);
		list_ids = MemoryContextAlloc(cache_cxt, sizeof(int64) * Max(n, 1));
		list_scores = MemoryContextAlloc(cache_cxt, sizeof(double) * Max(n, 1));
		for (int i = 0; i < n; i++)
		{
			bool		isnull;

			list_ids[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
			list_scores[i] = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
		}
		SPI_freetuptable(SPI_tuptable);
		/* entered once complete: an error leaves no half-read list */
		e = hash_search(cache_scopes, key, HASH_ENTER, &found);
		e->n = n;
		e->ids = list_ids;
		e->scores = list_scores;
	}
	*ids = e->ids;
	*scores = e->scores;
	return e->n;
}

/*
 * ModelCachePopular
 *		The overall popular items with rank <= limit, best first: sets *ids
 *		and *scores to the cache's arrays and returns how many.
 */
int
ModelCachePopular(int limit, const int64 **ids, const double **scores)
{
	int			n = 0;

	while (n < cache_npop && cache_pop_ranks[n] <= limit)
		n++;
	*ids = cache_pop_ids;
	*scores = cache_pop_scores;
	return n;
}
