/*-------------------------------------------------------------------------
 *
 * compat.h
 *		Shims between the PostgreSQL major versions recgen builds against.
 *
 * Only PostgreSQL 15 is tested here; keep every version difference in this
 * file so that 16 and 17 build too.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_COMPAT_H
#define RECGEN_COMPAT_H

#include "fmgr.h"

/* PG_MODULE_MAGIC_EXT (PostgreSQL 18) records name and version */
#ifdef PG_MODULE_MAGIC_EXT
#define RECGEN_MODULE_MAGIC PG_MODULE_MAGIC_EXT(.name = "recgen", .version = RECGEN_VERSION)
#else
#define RECGEN_MODULE_MAGIC PG_MODULE_MAGIC
#endif

#endif							/* RECGEN_COMPAT_H */
