/*-------------------------------------------------------------------------
 *
 * shmem.h
 *		recgen's shared memory (shmem.c): one struct, present only when the
 *		library is preloaded; RecgenShared() returns NULL otherwise.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/shmem.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_SHMEM_H
#define RECGEN_SHMEM_H

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

#endif							/* RECGEN_SHMEM_H */
