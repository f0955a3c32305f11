/*-------------------------------------------------------------------------
 *
 * recgen.c
 *		Module entry point of recgen: _PG_init and the version function.
 *
 * _PG_init defines every setting (whether or not the library is preloaded,
 * so SET and SHOW work in any session) and then reserves the "recgen."
 * prefix, so a misspelt setting is an error instead of a silent
 * placeholder. The background workers (worker.h) and the shared memory
 * are registered only when the library is in shared_preload_libraries.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/recgen.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "compat.h"
#include "http.h"
#include "recgen.h"
#include "worker.h"

RECGEN_MODULE_MAGIC;

/* true when loaded through shared_preload_libraries */
static bool recgen_preloaded = false;

void		_PG_init(void);

/*
 * _PG_init
 *		Define settings and remember whether we were preloaded.
 */
void
_PG_init(void)
{
	recgen_preloaded = process_shared_preload_libraries_in_progress;

	RecgenDefineGucs();
	RecgenDefineLlmGucs();
	RecgenDefineEngineGucs();
	RecgenDefineWorkerGucs();
	RecgenDefineEndpointGucs();
	RecgenDefineVideoGucs();

	MarkGUCPrefixReserved("recgen");

	if (recgen_preloaded)
	{
		RecgenInstallShmemHooks();
		WorkerInstallShmemHooks();
		HttpEndpointsInstallShmemHooks();
		WorkerRegisterLauncher();
		WorkerInstallUtilityHook();
	}
	RecgenInstallCatalogHooks();
	RecgenInstallCallLogHooks();
	WorkerInstallXactHooks();
}

/*
 * RecgenIsPreloaded
 *		Whether the library was loaded by shared_preload_libraries, which the
 *		background workers require.
 */
bool
RecgenIsPreloaded(void)
{
	return recgen_preloaded;
}

/*
 * recgen_version
 *		The version of the loaded shared library, which a user can compare
 *		with pg_extension.extversion after an upgrade.
 */
PG_FUNCTION_INFO_V1(recgen_version);
Datum
recgen_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(RECGEN_VERSION));
}

/*
 * recgen_preloaded
 *		Whether recgen is in shared_preload_libraries of this server.
 */
PG_FUNCTION_INFO_V1(recgen_is_preloaded);
Datum
recgen_is_preloaded(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(recgen_preloaded);
}
