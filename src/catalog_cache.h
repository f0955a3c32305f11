/*-------------------------------------------------------------------------
 *
 * catalog_cache.h
 *		The catalog generation (catalog_generation.c): a shared counter that
 *		every committed change of recgen.products advances, and the checks
 *		per-backend caches of product data make with it.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/catalog_cache.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_CATALOG_CACHE_H
#define RECGEN_CATALOG_CACHE_H

#include "executor/spi.h"

/*
 * What a per-backend cache of recgen.products was built under: the
 * catalog generation, the current user (another role may not be allowed
 * to read the table) and the table's OID (the extension dropped and
 * created again).
 */
typedef struct CatalogCacheKey
{
	bool		valid;			/* the cache holds what the key says */
	uint64		generation;
	Oid			user;
	Oid			relid;
} CatalogCacheKey;

extern void RecgenInstallCatalogHooks(void);
extern bool CatalogGeneration(uint64 *generation);
extern bool CatalogCacheCheck(CatalogCacheKey *key, bool *fresh);
extern void CatalogCacheSelect(SPIPlanPtr plan, Datum *args, bool for_cache,
							   const char *what);

#endif							/* RECGEN_CATALOG_CACHE_H */
