/*-------------------------------------------------------------------------
 *
 * int64_hash.h
 *		The one hash of a 64-bit key recgen's hash tables use (simplehash's
 *		SH_HASH_KEY and dynahash's hash function alike), and the HASHCTL of
 *		a dynahash table keyed by an int64.
 *
 * Both halves are mixed with murmurhash32 and combined, so keys that
 * differ only in the high half (scope << 32 | item, 8-byte prefixes of
 * names) spread as well as small integers do.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/int64_hash.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_INT64_HASH_H
#define RECGEN_INT64_HASH_H

#include "common/hashfn.h"
#include "utils/hsearch.h"

/*
 * RecHashInt64
 *		32-bit hash of a 64-bit key.
 */
static inline uint32
RecHashInt64(uint64 k)
{
	return hash_combine(murmurhash32((uint32) k), murmurhash32((uint32) (k >> 32)));
}

/*
 * rec_int64_dynahash
 *		dynahash hash function of an int64 key.
 */
static inline uint32
rec_int64_dynahash(const void *key, Size keysize)
{
	return RecHashInt64(*(const uint64 *) key);
}

/*
 * rec_int64_match
 *		dynahash comparison of int64 keys (0 when equal).
 */
static inline int
rec_int64_match(const void *key1, const void *key2, Size keysize)
{
	return *(const int64 *) key1 != *(const int64 *) key2;
}

#define REC_INT64_HASH_FLAGS	(HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT)

/*
 * RecInt64HashCtl
 *		Fill a HASHCTL for a dynahash table keyed by an int64 at the start
 *		of its entries (create it with REC_INT64_HASH_FLAGS).
 */
static inline void
RecInt64HashCtl(HASHCTL *ctl, Size entrysize, MemoryContext cxt)
{
	memset(ctl, 0, sizeof(HASHCTL));
	ctl->keysize = sizeof(int64);
	ctl->entrysize = entrysize;
	ctl->hash = rec_int64_dynahash;
	ctl->match = rec_int64_match;
	ctl->hcxt = cxt;
}

#endif							/* RECGEN_INT64_HASH_H */
