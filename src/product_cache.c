/*-------------------------------------------------------------------------
 *
 * product_cache.c
 *		Product facts for recgen.recommend(): name, category, price, tags,
 *		tier, availability (active and in stock), repurchase interval,
 *		created_at and the keys of its variant group (a hash of the
 *		normalised name, and of group_key when set), kept per backend
 *		between calls.
 *
 * The cache is valid for one key: the catalog generation
 * (catalog_generation.c), the current user (another role may not be
 * allowed to read recgen.products) and the OID of recgen.products (the
 * extension dropped and created again). ProductCacheBeginCall() checks
 * the key once per recommend() call and empties the cache when it
 * changed. Products missing from it are read with a new snapshot taken
 * after the generation was read, so what is cached under generation g
 * includes every change that g counts; a change committed later advances
 * the generation and the next call reads again. The facts can thus be
 * newer than the calling statement's snapshot, never older than the
 * last commit that preceded the call.
 *
 * Where no generation can be trusted (recgen not preloaded, this
 * transaction changed products, or REPEATABLE READ / SERIALIZABLE, whose
 * callers expect their transaction's snapshot) each call reads the
 * facts it needs with the statement's snapshot into a table of its own,
 * as if there were no cache.
 *
 * Products that do not exist are cached too (exists = false), so ids
 * still in the model after a product was deleted are not read again.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/product_cache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "catalog_cache.h"
#include "int64_hash.h"
#include "recommend.h"
#include "spi_util.h"

static MemoryContext cache_cxt = NULL;
static HTAB *cache_table = NULL;
static CatalogCacheKey cache_key;

/* the table of the current call: cache_table, or one of the call's own */
static HTAB *call_table = NULL;
static MemoryContext call_cxt = NULL;
static bool call_cached = false;

#define FACTS_SELECT \
	"SELECT p.product_id, p.name, p.category, p.price::float8, " \
	"p.tags, p.attributes->>'tier', " \
	"p.active AND coalesce(p.stock, 1) > 0, " \
	"p.repurchase_interval, p.created_at, "
#define FACTS_FROM " FROM recgen.products p WHERE p.product_id = ANY($1)"

/* 0.2.0 and later: the variant keys */
static KeptQuery facts_query = {
	FACTS_SELECT "hashtextextended(recgen.variant_name(p.name), 0), "
	"hashtextextended(p.group_key, 0)" FACTS_FROM, 1, {INT8ARRAYOID}
};

/* a 0.1.0 schema (the library updated before ALTER EXTENSION UPDATE) */
static KeptQuery facts_query_0_1 = {
	FACTS_SELECT "hashtextextended(lower(btrim(p.name)), 0), NULL::bigint" FACTS_FROM,
	1, {INT8ARRAYOID}
};

/*
 * facts_plan
 *		The facts query this schema can run: a products table without
 *		group_key (0.1.0, not updated yet) gets the query without it.
 */
static SPIPlanPtr
facts_plan(void)
{
	static int	has_group_key = -1;

	if (has_group_key < 0)
	{
		bool		isnull;

		SpiRunChecked("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute "
					  "WHERE attrelid = 'recgen.products'::regclass AND attname = 'group_key' "
					  "AND NOT attisdropped)", 0, NULL, NULL, true, SPI_OK_SELECT);
		has_group_key = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
												   1, &isnull)) ? 1 : 0;
		SPI_freetuptable(SPI_tuptable);
	}
	return KeptQueryPlan(has_group_key ? &facts_query : &facts_query_0_1);
}

/*
 * new_table
 *		An empty facts table in cxt.
 */
static HTAB *
new_table(MemoryContext cxt)
{
	HASHCTL		ctl;

	RecInt64HashCtl(&ctl, sizeof(ProductFacts), cxt);
	return hash_create("recgen product facts", 1024, &ctl, REC_INT64_HASH_FLAGS);
}

/*
 * ProductCacheBeginCall
 *		Choose the table of this call: the backend's cache when its key
 *		still holds (emptied first when it does not), else a table in the
 *		caller's memory context. Call once per recommend(), before any
 *		ProductFactsGet: emptying the cache frees what earlier calls got.
 */
void
ProductCacheBeginCall(void)
{
	bool		fresh;

	if (!CatalogCacheCheck(&cache_key, &fresh))
	{
		call_cxt = CurrentMemoryContext;
		call_table = new_table(call_cxt);
		call_cached = false;
		return;
	}
	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(TopMemoryContext, "recgen product cache",
										  ALLOCSET_DEFAULT_SIZES);
	if (!fresh)
	{
		/* entries are filled as they are read: an empty table is complete */
		MemoryContextReset(cache_cxt);
		cache_table = new_table(cache_cxt);
		cache_key.valid = true;
	}
	call_table = cache_table;
	call_cxt = cache_cxt;
	call_cached = true;
}

/*
 * ProductFactsGet
 *		The facts of a product read earlier (in this call or, cached, in
 *		an earlier one), or NULL when not read yet.
 */
const ProductFacts *
ProductFactsGet(int64 product_id)
{
	return hash_search(call_table, &product_id, HASH_FIND, NULL);
}

/*
 * facts_from_row
 *		Fill f from a row of the facts query; strings are copied into the
 *		current memory context.
 */
static void
facts_from_row(ProductFacts *f, HeapTuple tup, TupleDesc desc)
{
	Datum		v[11];
	bool		nulls[11];

	heap_deform_tuple(tup, desc, v, nulls);
	f->exists = true;
	f->name = TextDatumGetCString(v[1]);
	f->prod.product_id = f->product_id;
	f->prod.category = nulls[2] ? NULL : TextDatumGetCString(v[2]);
	f->prod.price = nulls[3] ? 0 : DatumGetFloat8(v[3]);
	f->prod.ntags = 0;
	f->prod.tags = NULL;
	if (!nulls[4])
		f->prod.ntags = TextArrayStrings(v[4], &f->prod.tags);
	f->has_tier = false;
	if (!nulls[5])
	{
		char	   *tier = TextDatumGetCString(v[5]);
		char	   *end;

		f->tier = strtod(tier, &end);
		f->has_tier = (end != tier);
	}
	f->available = DatumGetBool(v[6]);
	f->has_interval = !nulls[7];
	if (f->has_interval)
		f->repurchase_interval = *DatumGetIntervalP(v[7]);
	f->created_at = DatumGetTimestampTz(v[8]);
	f->name_key = DatumGetInt64(v[9]);
	f->has_group = !nulls[10];
	f->group_key = nulls[10] ? 0 : DatumGetInt64(v[10]);
}

/*
 * ProductFactsFetch
 *		Read the products of ids (not read yet) into this call's table;
 *		ids that are no product get an entry with exists = false.
 */
void
ProductFactsFetch(const int64 *ids, int n)
{
	Datum	   *elems;
	Datum		args[1];
	MemoryContext oldcxt;

	if (n == 0)
		return;
	elems = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
		elems[i] = Int64GetDatum(ids[i]);
	args[0] = PointerGetDatum(construct_array(elems, n, INT8OID, 8, FLOAT8PASSBYVAL,
											  TYPALIGN_DOUBLE));

	/* cached facts come from a snapshot newer than the generation read */
	CatalogCacheSelect(facts_plan(), args, call_cached, "product facts");

	/* entries are complete before they are entered: an error leaves none half-filled */
	oldcxt = MemoryContextSwitchTo(call_cxt);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		ProductFacts f;
		bool		isnull;

		memset(&f, 0, sizeof(f));
		f.product_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc,
												   1, &isnull));
		facts_from_row(&f, SPI_tuptable->vals[r], SPI_tuptable->tupdesc);
		*(ProductFacts *) hash_search(call_table, &f.product_id, HASH_ENTER, NULL) = f;
	}
	MemoryContextSwitchTo(oldcxt);
	SPI_freetuptable(SPI_tuptable);

	/* ids that are no product */
	for (int i = 0; i < n; i++)
	{
		bool		found;
		ProductFacts *f = hash_search(call_table, &ids[i], HASH_ENTER, &found);

		if (!found)
		{
			memset(f, 0, sizeof(ProductFacts));
			f->product_id = ids[i];
		}
	}
	pfree(elems);
}
