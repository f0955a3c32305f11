/*-------------------------------------------------------------------------
 *
 * recgen.h
 *		Declarations shared between recgen's source files: settings and
 *		the entry points each subsystem exports to the others.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/recgen.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_H
#define RECGEN_H

#ifndef RECGEN_VERSION
#define RECGEN_VERSION "unknown"
#endif

/* How much personal data a prompt context may carry (recgen.prompt_personal_data) */
typedef enum RecgenPersonalData
{
	RECGEN_PII_NONE,			/* no name at all */
	RECGEN_PII_FIRST_NAME,		/* first name only (default) */
	RECGEN_PII_FULL_NAME		/* first and last name */
} RecgenPersonalData;

/* Settings, defined in guc.c */
extern char *recgen_llm_url;
extern char *recgen_llm_model;
extern char *recgen_llm_api_key;
extern char *recgen_llm_api_key_file;
extern int	recgen_llm_connect_timeout;
extern int	recgen_llm_timeout;
extern int	recgen_llm_max_retries;
extern int	recgen_llm_concurrency;
extern int	recgen_prompt_personal_data;

/* Generation settings, defined in llm_guc.c */
extern int	recgen_llm_max_tokens;
extern double recgen_llm_temperature;
extern bool recgen_llm_json_schema;
extern int	recgen_llm_backoff_base;
extern int	recgen_llm_backoff_max;
extern int	recgen_guard_retries;
extern char *recgen_brand;
extern int	recgen_llm_token_limit;
extern int	recgen_llm_max_requests;
extern int	recgen_llm_max_concurrency;
extern int	recgen_llm_role_max_inflight;

/* guc.c */
extern void RecgenDefineGucs(void);

/* llm_guc.c */
extern void RecgenDefineLlmGucs(void);

/* engine_guc.c */
extern void RecgenDefineEngineGucs(void);

/* recgen.c */
extern bool RecgenIsPreloaded(void);

/* shmem.c: shared state, present only when preloaded */
#include "port/atomics.h"
#include "storage/lwlock.h"

#include "storage/spin.h"

#include "call_log.h"

/* LLM requests in flight per role (llm_limits.c) */
#define RECGEN_INFLIGHT_ROLES 128
typedef struct LlmInflight
{
	slock_t		mutex;
	struct
	{
		Oid			role;
		int			count;
	}			roles[RECGEN_INFLIGHT_ROLES];
} LlmInflight;

typedef struct RecgenSharedState
{
	/* advanced by every committed change of recgen.products */
	pg_atomic_uint64 catalog_generation;
	/* llm_calls rows whose transaction rolled back (call_log.c) */
	LWLock	   *call_ring_lock;
	CallRing	call_ring;
	/* LLM requests in flight per role (llm_limits.c) */
	LlmInflight inflight;
} RecgenSharedState;

extern void RecgenInstallShmemHooks(void);
extern RecgenSharedState *RecgenShared(void);

/* catalog_generation.c */
extern void RecgenInstallCatalogHooks(void);

/* llm_limits.c */
extern int	LlmAcquireSlots(int want);
extern void LlmReleaseSlots(void);

/* call_log.c */
extern void RecgenInstallCallLogHooks(void);
extern bool CatalogGeneration(uint64 *generation);

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

extern bool CatalogCacheCheck(CatalogCacheKey *key, bool *fresh);
extern void CatalogCacheSelect(SPIPlanPtr plan, Datum *args, bool for_cache,
							   const char *what);

#endif							/* RECGEN_H */
