/*-------------------------------------------------------------------------
 *
 * catalog_names.c
 *		recgen.catalog_names_in(text): the names of catalog products that
 *		occur in a text, for the guard's product rule ("no product of the
 *		catalog is named unless it is in the context").
 *
 * The text comes lower-cased by the caller (SQL lower()); a product
 * matches when lower(name), of 6 characters or more, occurs in it as a
 * substring, as strpos(text, lower(name)) > 0 would find it. Instead of
 * comparing the text with every name of the catalog on each call, the
 * lower-cased names are indexed by their first 6 bytes, and each position
 * of the text is looked up once: O(text length), whatever the catalog size.
 *
 * The index is kept per backend under a CatalogCacheKey (the catalog
 * generation, the user and the table's OID; catalog_generation.c) and
 * built again when that changes; where no generation can be trusted it is
 * built for the call alone, with the statement's snapshot.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/catalog_names.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "int64_hash.h"
#include "recgen.h"

/* bytes of a name's start that index it; names shorter are not searched */
#define NAME_PREFIX 6

typedef struct CatalogName
{
	char	   *lower;			/* lower(name) */
	int			len;			/* its bytes */
	text	   *name;			/* as the catalog spells it */
	int32		next;			/* next name with the same prefix, or -1 */
	uint32		seen;			/* call that last reported it */
} CatalogName;

/* prefix (6 bytes as an integer) -> first name with it */
typedef struct PrefixEntry
{
	uint64		prefix;
	char		status;
	int32		first;
} PrefixEntry;

#define SH_PREFIX			prefixtab
#define SH_ELEMENT_TYPE		PrefixEntry
#define SH_KEY_TYPE			uint64
#define SH_KEY				prefix
#define SH_HASH_KEY(tb, k)	RecHashInt64(k)
#define SH_EQUAL(tb, a, b)	((a) == (b))
#define SH_SCOPE			static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

typedef struct NameIndex
{
	CatalogName *names;
	int32		nnames;
	prefixtab_hash *prefixes;
	uint32		call;
} NameIndex;

static MemoryContext cache_cxt = NULL;
static CatalogCacheKey cache_key;
static NameIndex cache_index;

static uint64
prefix_of(const char *s)
{
	uint64		p = 0;

	memcpy(&p, s, NAME_PREFIX);
	return p;
}

/*
 * build_index
 *		Read the catalog's names into idx, allocated in cxt; for_cache
 *		when the index is kept (CatalogCacheSelect).
 */
static void
build_index(NameIndex *idx, MemoryContext cxt, bool for_cache)
{
	SPIPlanPtr	plan;
	MemoryContext old;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare("SELECT DISTINCT ON (lower(name)) lower(name), name "
					   "FROM recgen.products WHERE length(name) >= 6 "
					   "ORDER BY lower(name), product_id", 0, NULL);
	if (plan == NULL)
		elog(ERROR, "preparing the catalog names query failed: %s",
			 SPI_result_code_string(SPI_result));
	CatalogCacheSelect(plan, NULL, for_cache, "catalog names");

	old = MemoryContextSwitchTo(cxt);
	idx->nnames = (int32) SPI_processed;
	idx->names = palloc_extended(sizeof(CatalogName) * Max(idx->nnames, 1), MCXT_ALLOC_HUGE);
	idx->prefixes = prefixtab_create(cxt, Max(idx->nnames, 16), NULL);
	idx->call = 0;
	for (int32 i = 0; i < idx->nnames; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		bool		isnull;
		CatalogName *n = &idx->names[i];
		PrefixEntry *e;
		bool		found;

		n->lower = TextDatumGetCString(SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull));
		n->len = strlen(n->lower);
		n->name = DatumGetTextPCopy(SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull));
		n->seen = 0;
		n->next = -1;
		/* 6 characters are at least 6 bytes */
		e = prefixtab_insert(idx->prefixes, prefix_of(n->lower), &found);
		if (found)
			n->next = e->first;
		e->first = i;
		if ((i % 10000) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	MemoryContextSwitchTo(old);
	SPI_finish();
}

/*
 * names_in
 *		The names of idx occurring in s (len bytes), once each, in the
 *		order of their first occurrence.
 */
static ArrayType *
names_in(NameIndex *idx, const char *s, int len)
{
	Datum	   *found = NULL;
	int			nfound = 0;
	int			cap = 0;

	if (++idx->call == 0)
	{
		/* the call counter wrapped: forget what earlier calls saw */
		for (int32 i = 0; i < idx->nnames; i++)
			idx->names[i].seen = 0;
		idx->call = 1;
	}
	for (int pos = 0; pos + NAME_PREFIX <= len; pos++)
	{
		PrefixEntry *e = prefixtab_lookup(idx->prefixes, prefix_of(s + pos));

		if ((pos % 4096) == 0)
			CHECK_FOR_INTERRUPTS();
		if (e == NULL)
			continue;
		for (int32 i = e->first; i >= 0; i = idx->names[i].next)
		{
			CatalogName *n = &idx->names[i];

			if (n->seen == idx->call || pos + n->len > len ||
				memcmp(s + pos, n->lower, n->len) != 0)
				continue;
			n->seen = idx->call;
			if (nfound == cap)
			{
				cap = Max(8, cap * 2);
				found = found ? repalloc(found, sizeof(Datum) * cap) : palloc(sizeof(Datum) * cap);
			}
			found[nfound++] = PointerGetDatum(n->name);
		}
	}
	if (nfound == 0)
		return construct_empty_array(TEXTOID);
	return construct_array(found, nfound, TEXTOID, -1, false, TYPALIGN_INT);
}

PG_FUNCTION_INFO_V1(recgen_catalog_names_in);
Datum
recgen_catalog_names_in(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	bool		fresh;
	NameIndex	call_index;

	if (!CatalogCacheCheck(&cache_key, &fresh))
	{
		/* no cache to trust: an index of this call's own */
		build_index(&call_index, CurrentMemoryContext, false);
		PG_RETURN_ARRAYTYPE_P(names_in(&call_index, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)));
	}
	if (!fresh)
	{
		if (cache_cxt == NULL)
			cache_cxt = AllocSetContextCreate(TopMemoryContext, "recgen catalog names",
											  ALLOCSET_DEFAULT_SIZES);
		MemoryContextReset(cache_cxt);
		build_index(&cache_index, cache_cxt, true);
		/* only a complete index is marked valid: an error above leaves it invalid */
		cache_key.valid = true;
	}
	PG_RETURN_ARRAYTYPE_P(names_in(&cache_index, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)));
}
