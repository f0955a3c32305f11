/*-------------------------------------------------------------------------
 *
 * worker_guc.c
 *		Settings of the job queue and the background workers.
 *
 * All of them are SIGHUP settings (postgresql.conf or ALTER SYSTEM, then
 * pg_reload_conf()): the launcher, the schedulers and the workers read them
 * and a reload applies them to running processes. STYLE.md suggests
 * POSTMASTER for the number of workers and their databases; since the
 * workers are dynamic background workers started by the launcher, both can
 * change without a restart, so they are SIGHUP too. Each is documented in
 * README.md ("Settings").
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/worker_guc.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"
#include "utils/varlena.h"

#include "worker.h"

int			recgen_workers = 2;
char	   *recgen_databases = NULL;
int			recgen_launcher_naptime = 60000;
int			recgen_worker_idle_timeout = 30000;
int			recgen_worker_jobs = 16;
int			recgen_job_lease = 60000;
int			recgen_job_backoff_base = 10000;
int			recgen_job_backoff_max = 3600000;
int			recgen_job_retention = 7 * 86400;
int			recgen_job_retention_failed = 30 * 86400;
int			recgen_notify_rate = 10;

/*
 * check_databases
 *		recgen.databases is a comma-separated list of database names (or
 *		empty for every database that has the extension).
 */
static bool
check_databases(char **newval, void **extra, GucSource source)
{
	char	   *raw;
	List	   *names;
	bool		ok;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	raw = pstrdup(*newval);
	ok = SplitIdentifierString(raw, ',', &names);
	if (!ok)
		GUC_check_errdetail("The list must be database names separated by commas.");
	list_free(names);
	pfree(raw);
	return ok;
}

/*
 * WorkerDatabaseAllowed
 *		Whether recgen.databases lets the workers serve this database.
 */
bool
WorkerDatabaseAllowed(const char *dbname)
{
	char	   *raw;
	List	   *names;
	ListCell   *lc;
	bool		found = false;

	if (recgen_databases == NULL || recgen_databases[0] == '\0')
		return true;
	raw = pstrdup(recgen_databases);
	if (!SplitIdentifierString(raw, ',', &names))
	{
		pfree(raw);
		return false;
	}
	foreach(lc, names)
	{
		if (strcmp((char *) lfirst(lc), dbname) == 0)
			found = true;
	}
	list_free(names);
	pfree(raw);
	return found;
}

/*
 * RecgenDefineWorkerGucs
 *		Define the settings above; called from _PG_init.
 */
void
RecgenDefineWorkerGucs(void)
{
	DefineCustomIntVariable("recgen.workers",
							"Background worker processes that run jobs, over all databases.",
							"0 stops running jobs. Capped so that recgen leaves two of max_worker_processes to others.",
							&recgen_workers,
							2, 0, RECGEN_WORKER_SLOTS - 8,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("recgen.databases",
							   "Databases whose jobs the workers run (comma-separated); empty for all.",
							   "Databases without the extension are skipped either way.",
							   &recgen_databases,
							   "",
							   PGC_SIGHUP,
							   GUC_LIST_INPUT,
							   check_databases, NULL, NULL);

	DefineCustomIntVariable("recgen.launcher_naptime",
							"How often the launcher looks for work that no wake-up announced.",
							"Enqueueing wakes the workers when its transaction commits; this is the fallback.",
							&recgen_launcher_naptime,
							60000, 1000, 3600000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.worker_idle_timeout",
							"How long a worker or scheduler with nothing to do waits before it exits.",
							NULL,
							&recgen_worker_idle_timeout,
							30000, 100, 3600000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.worker_jobs",
							"Most jobs one worker runs at once (and claims in one transaction).",
							"LLM requests in flight are capped by recgen.llm_concurrency as well.",
							&recgen_worker_jobs,
							16, 1, 256,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.job_lease",
							"Lease of a running job; the worker extends it by heartbeat.",
							"A job whose lease expired (its worker died) is made runnable again by the rescuer.",
							&recgen_job_lease,
							60000, 1000, 86400000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.job_backoff_base",
							"Wait before the first retry of a failed job; doubles with every attempt, with jitter.",
							NULL,
							&recgen_job_backoff_base,
							10000, 1, 86400000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.job_backoff_max",
							"Longest wait before the retry of a failed job.",
							NULL,
							&recgen_job_backoff_max,
							3600000, 1, 604800000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.job_retention",
							"How long completed jobs are kept before they are pruned.",
							NULL,
							&recgen_job_retention,
							7 * 86400, 60, 3650 * 86400,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.job_retention_failed",
							"How long discarded and cancelled jobs are kept before they are pruned.",
							NULL,
							&recgen_job_retention_failed,
							30 * 86400, 60, 3650 * 86400,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.notify_rate",
							"NOTIFY recgen_jobs messages per second and database about single jobs.",
							"Past it, final states are counted and sent as one summary per second.",
							&recgen_notify_rate,
							10, 0, 10000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);
}
