/*-------------------------------------------------------------------------
 *
 * llm_limits.c
 *		How many LLM requests one role has in flight, across all its
 *		sessions: a small table in shared memory, so that one role's long
 *		requests cannot fill the LLM server's slots and stall everyone
 *		else's (recgen.llm_role_max_inflight, a superuser setting).
 *
 * recgen.llm_chat takes its requests' slots before it sends them and gives
 * them back when they end, however they end (error, cancel, or the backend
 * exiting). A call that finds its role's allowance used up waits, in steps
 * of 10 ms that honour query cancel and statement_timeout, until a slot
 * frees; it then runs with as many requests in flight as it got. Roles are
 * counted by their outer user (current_user outside SECURITY DEFINER
 * functions), so recgen's own functions do not pool every role into their
 * owner. Superusers are not limited (they can change the setting anyway,
 * and benchmarks and the demo run as one). Without shared_preload_libraries
 * there is no table and no limit.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/llm_limits.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/spin.h"
#include "utils/wait_event.h"

#include "llm_limits.h"
#include "settings.h"
#include "shmem.h"

/* what this backend holds, for the release at exit */
static int	held = 0;
static Oid	held_role = InvalidOid;
static bool exit_callback_registered = false;

/*
 * role_slot
 *		The entry of a role in the table (a free one when it has none), or
 *		-1 when the table is full. The caller holds the mutex.
 */
static int
role_slot(LlmInflight *t, Oid role)
{
	int			free_slot = -1;
	int			i;

	for (i = 0; i < RECGEN_INFLIGHT_ROLES; i++)
	{
		if (t->roles[i].role == role)
			return i;
		if (free_slot < 0 && t->roles[i].count == 0)
			free_slot = i;
	}
	if (free_slot >= 0)
		t->roles[free_slot].role = role;
	return free_slot;
}

/*
 * release_at_exit
 *		A backend exiting (FATAL, terminate) in the middle of a call gives
 *		its slots back.
 */
static void
release_at_exit(int code, Datum arg)
{
	LlmReleaseSlots();
}

/*
 * LlmAcquireSlots
 *		Take up to `want` (at least 1) request slots of the current role,
 *		waiting while it has none left. Returns how many were taken; the
 *		caller runs that many requests at once and calls LlmReleaseSlots.
 */
int
LlmAcquireSlots(int want)
{
	RecgenSharedState *shared = RecgenShared();
	Oid			role = GetOuterUserId();

	Assert(held == 0);
	want = Max(want, 1);
	if (shared == NULL || recgen_llm_role_max_inflight == 0 || superuser_arg(role))
		return want;
	if (!exit_callback_registered)
	{
		before_shmem_exit(release_at_exit, (Datum) 0);
		exit_callback_registered = true;
	}
	for (;;)
	{
		LlmInflight *t = &shared->inflight;
		int			granted = 0;
		int			slot;

		SpinLockAcquire(&t->mutex);
		slot = role_slot(t, role);
		if (slot < 0)
			granted = want;		/* table full: not counted */
		else if (t->roles[slot].count < recgen_llm_role_max_inflight)
		{
			granted = Min(want, recgen_llm_role_max_inflight - t->roles[slot].count);
			t->roles[slot].count += granted;
			held = granted;
			held_role = role;
		}
		SpinLockRelease(&t->mutex);
		if (granted > 0)
			return granted;

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * LlmReleaseSlots
 *		Give back what LlmAcquireSlots took (nothing when it took none).
 */
void
LlmReleaseSlots(void)
{
	RecgenSharedState *shared = RecgenShared();
	LlmInflight *t;
	int			i;

	if (held == 0 || shared == NULL)
		return;
	t = &shared->inflight;
	SpinLockAcquire(&t->mutex);
	for (i = 0; i < RECGEN_INFLIGHT_ROLES; i++)
		if (t->roles[i].role == held_role)
		{
			t->roles[i].count = Max(0, t->roles[i].count - held);
			break;
		}
	SpinLockRelease(&t->mutex);
	held = 0;
	held_role = InvalidOid;
}
