/*-------------------------------------------------------------------------
 *
 * category_index.c
 *		The available products of each category, cheapest first, kept per
 *		backend for recgen.recommend(): the candidates of upsell, and the
 *		categories whose caps decide when a list cannot grow any more.
 *
 * Kept like the product facts (product_cache.c): valid for one catalog
 * generation, user and OID of recgen.products, read again after any
 * committed change of the catalog, and read per call (with the
 * statement's snapshot) where no generation can be trusted.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/category_index.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "catalog_cache.h"
#include "recommend.h"
#include "spi_util.h"

#define CATEGORY_KEY_LEN 128

typedef struct CategoryEntry
{
	char		key[CATEGORY_KEY_LEN];	/* the category ("" for none), cut */
	char	   *category;		/* whole */
	int			n;
	int			cap;
	int64	   *ids;			/* cheapest first */
	double	   *prices;
} CategoryEntry;

typedef struct CategoryIndex
{
	HTAB	   *by_category;
	char	  **names;
	int			nnames;
} CategoryIndex;

static MemoryContext cache_cxt = NULL;
static CatalogCacheKey cache_key;
static CategoryIndex cache_index;

/* this call's index: the cached one, or one of its own (NULL: not read) */
static CategoryIndex *call_index = NULL;
static CategoryIndex call_own;
static bool call_cached = false;

static KeptQuery index_query = {
	"SELECT coalesce(category, ''), product_id, coalesce(price, 0)::float8 FROM recgen.products "
	"WHERE active AND coalesce(stock, 1) > 0 ORDER BY 1, price, product_id", 0, {InvalidOid}
};

/*
 * CategoryIndexBeginCall
 *		Decide where this call's index comes from; it is read on first
 *		use. Call once per recommend().
 */
void
CategoryIndexBeginCall(void)
{
	bool		fresh;

	call_index = NULL;
	call_cached = CatalogCacheCheck(&cache_key, &fresh);
	if (call_cached && fresh)
		call_index = &cache_index;
}

/*
 * read_index
 *		Read the index into idx, allocated in cxt.
 */
static void
read_index(CategoryIndex *idx, MemoryContext cxt, bool for_cache)
{
	HASHCTL		ctl;
	MemoryContext old;
	CategoryEntry *cur = NULL;
	uint64		n;

	CatalogCacheSelect(KeptQueryPlan(&index_query), NULL, for_cache, "products by category");
	n = SPI_processed;
	old = MemoryContextSwitchTo(cxt);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = CATEGORY_KEY_LEN;
	ctl.entrysize = sizeof(CategoryEntry);
	ctl.hcxt = cxt;
	idx->by_category = hash_create("recgen products by category", 64, &ctl,
								   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	idx->names = palloc(sizeof(char *) * Max(n, 1));
	idx->nnames = 0;
	for (uint64 r = 0; r < n; r++)
	{
		char	   *cat = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc,
													 2, &isnull));
		double		price = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc,
														 3, &isnull));

		if (cur == NULL || strcmp(cur->category, cat) != 0)
		{
			char		key[CATEGORY_KEY_LEN];
			bool		found;

			strlcpy(key, cat, sizeof(key));
			cur = hash_search(idx->by_category, key, HASH_ENTER, &found);
			if (!found)
			{
				cur->category = cat;
				cur->n = 0;
				cur->cap = 16;
				cur->ids = palloc(sizeof(int64) * cur->cap);
				cur->prices = palloc(sizeof(double) * cur->cap);
				idx->names[idx->nnames++] = cat;
			}
		}
		if (cur->n == cur->cap)
		{
			cur->cap *= 2;
			cur->ids = repalloc(cur->ids, sizeof(int64) * cur->cap);
			cur->prices = repalloc(cur->prices, sizeof(double) * cur->cap);
		}
		cur->ids[cur->n] = id;
		cur->prices[cur->n++] = price;
	}
	MemoryContextSwitchTo(old);
	SPI_freetuptable(SPI_tuptable);
}

/*
 * ensure_index
 *		This call's index, read when needed.
 */
static CategoryIndex *
ensure_index(void)
{
	if (call_index)
		return call_index;
	if (call_cached)
	{
		if (cache_cxt == NULL)
			cache_cxt = AllocSetContextCreate(TopMemoryContext, "recgen category index",
											  ALLOCSET_DEFAULT_SIZES);
		MemoryContextReset(cache_cxt);
		cache_key.valid = false;
		read_index(&cache_index, cache_cxt, true);
		cache_key.valid = true;
		call_index = &cache_index;
	}
	else
	{
		read_index(&call_own, CurrentMemoryContext, false);
		call_index = &call_own;
	}
	return call_index;
}

/*
 * CategoryNames
 *		The categories of the available products ("" for none); returns
 *		how many, the names in *out.
 */
int
CategoryNames(char ***out)
{
	CategoryIndex *idx = ensure_index();

	*out = idx->names;
	return idx->nnames;
}

/*
 * CategoryProducts
 *		The available products of a category (NULL: none), cheapest first;
 *		returns how many, their ids in *ids and prices in *prices.
 */
int
CategoryProducts(const char *category, const int64 **ids, const double **prices)
{
	CategoryIndex *idx = ensure_index();
	char		key[CATEGORY_KEY_LEN];
	CategoryEntry *e;

	strlcpy(key, category ? category : "", sizeof(key));
	e = hash_search(idx->by_category, key, HASH_FIND, NULL);
	/* a key cut at CATEGORY_KEY_LEN may name another long category */
	if (e == NULL || strcmp(e->category, category ? category : "") != 0)
	{
		*ids = NULL;
		*prices = NULL;
		return 0;
	}
	*ids = e->ids;
	*prices = e->prices;
	return e->n;
}
