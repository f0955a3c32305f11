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

/* pg_proc_aclcheck became object_aclcheck in PostgreSQL 16 */
#if PG_VERSION_NUM >= 160000
#define RecgenProcAclCheck(oid, role, mode) object_aclcheck(ProcedureRelationId, (oid), (role), (mode))
#else
#define RecgenProcAclCheck(oid, role, mode) pg_proc_aclcheck((oid), (role), (mode))
#endif

/* pg_database_ownercheck became object_ownercheck in PostgreSQL 16 */
#if PG_VERSION_NUM >= 160000
#define RecgenDatabaseOwnercheck(oid, role) object_ownercheck(DatabaseRelationId, (oid), (role))
#else
#define RecgenDatabaseOwnercheck(oid, role) pg_database_ownercheck((oid), (role))
#endif

#endif							/* RECGEN_COMPAT_H */
