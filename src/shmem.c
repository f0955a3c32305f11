/*-------------------------------------------------------------------------
 *
 * shmem.c
 *		recgen's shared memory: one struct, requested and initialized when
 *		the library is loaded through shared_preload_libraries.
 *
 * It holds the catalog generation (catalog_generation.c), the ring of
 * llm_calls rows whose transaction rolled back (call_log.c) and the LLM
 * requests each role has in flight (llm_limits.c); the job
 * queue of the background workers will live here too. Without
 * preloading there is no shared state and RecgenShared() returns NULL;
 * callers then fall back to what works without it.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/shmem.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "shmem.h"

static RecgenSharedState *shared_state = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/*
 * recgen_shmem_request
 *		Ask the postmaster for our struct.
 */
static void
recgen_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(RecgenSharedState)));
	RequestNamedLWLockTranche("recgen", 1);
}

/*
 * recgen_shmem_startup
 *		Create (postmaster) or attach to (EXEC_BACKEND children) the struct.
 */
static void
recgen_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared_state = ShmemInitStruct("recgen", sizeof(RecgenSharedState), &found);
	if (!found)
	{
		pg_atomic_init_u64(&shared_state->catalog_generation, 1);
		shared_state->call_ring_lock = &(GetNamedLWLockTranche("recgen"))->lock;
		shared_state->call_ring.head = 0;
		shared_state->call_ring.count = 0;
		shared_state->call_ring.dropped = 0;
		SpinLockInit(&shared_state->inflight.mutex);
		memset(shared_state->inflight.roles, 0, sizeof(shared_state->inflight.roles));
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * RecgenInstallShmemHooks
 *		Called from _PG_init while shared_preload_libraries is processed.
 */
void
RecgenInstallShmemHooks(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = recgen_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = recgen_shmem_startup;
}

/*
 * RecgenShared
 *		The shared struct, or NULL when recgen was not preloaded.
 */
RecgenSharedState *
RecgenShared(void)
{
	return shared_state;
}
