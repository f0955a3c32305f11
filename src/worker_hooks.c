/*-------------------------------------------------------------------------
 *
 * worker_hooks.c
 *		Statements that need a database to themselves: recgen's processes
 *		step aside so that DROP DATABASE, ALTER DATABASE ... RENAME or
 *		SET TABLESPACE, CREATE DATABASE ... TEMPLATE and DROP EXTENSION
 *		recgen are not blocked by a worker's connection.
 *
 * PostgreSQL refuses those statements while other sessions are connected
 * to the database (DROP DATABASE waits 5 s and fails; WITH (FORCE)
 * terminates everyone). This ProcessUtility hook, installed in every
 * backend by shared_preload_libraries, asks the database's schedulers and
 * workers to exit (a worker gives its jobs back first), keeps the launcher
 * from starting new ones for a while, waits until they are gone (up to 5
 * s) and then runs the statement. Only a caller who may run the statement
 * (the database's owner or a superuser) evicts anyone. When the statement
 * ends the database may be served again.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/worker_hooks.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/acl.h"

#include "compat.h"
#include "worker.h"

static ProcessUtility_hook_type prev_utility_hook = NULL;

/*
 * option_value
 *		The string value of a DefElem option of a list, or NULL.
 */
static char *
option_value(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *d = lfirst_node(DefElem, lc);

		if (strcmp(d->defname, name) == 0 && d->arg != NULL)
			return defGetString(d);
	}
	return NULL;
}

/*
 * statement_database
 *		The database a statement needs to itself, or InvalidOid.
 */
static Oid
statement_database(Node *stmt)
{
	char	   *name = NULL;

	switch (nodeTag(stmt))
	{
		case T_DropdbStmt:
			name = ((DropdbStmt *) stmt)->dbname;
			break;
		case T_CreatedbStmt:
			name = option_value(((CreatedbStmt *) stmt)->options, "template");
			break;
		case T_AlterDatabaseStmt:
			if (option_value(((AlterDatabaseStmt *) stmt)->options, "tablespace"))
				name = ((AlterDatabaseStmt *) stmt)->dbname;
			break;
		case T_RenameStmt:
			if (((RenameStmt *) stmt)->renameType == OBJECT_DATABASE)
				name = ((RenameStmt *) stmt)->subname;
			break;
		case T_DropStmt:
			{
				DropStmt   *drop = (DropStmt *) stmt;
				ListCell   *lc;

				if (drop->removeType != OBJECT_EXTENSION)
					break;
				foreach(lc, drop->objects)
					if (IsA(lfirst(lc), String) && strcmp(strVal(lfirst(lc)), "recgen") == 0)
						return MyDatabaseId;
			}
			break;
		default:
			break;
	}
	if (name == NULL)
		return InvalidOid;
	return get_database_oid(name, true);
}

/*
 * worker_utility_hook
 *		See the file header.
 */
static void
worker_utility_hook(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
					ProcessUtilityContext context, ParamListInfo params,
					QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	volatile Oid dboid = InvalidOid;

	if (WorkerShmem() != NULL)
	{
		dboid = statement_database(pstmt->utilityStmt);
		if (OidIsValid(dboid) && !superuser() &&
			!(dboid == MyDatabaseId || RecgenDatabaseOwnercheck(dboid, GetUserId())))
			dboid = InvalidOid;
		if (OidIsValid(dboid))
			(void) WorkerEvictDatabase(dboid, 60000);
	}
	PG_TRY();
	{
		if (prev_utility_hook)
			prev_utility_hook(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		if (OidIsValid(dboid))
			WorkerUnblockDatabase(dboid);
	}
	PG_END_TRY();
}

/*
 * WorkerInstallUtilityHook
 *		Called from _PG_init when preloaded.
 */
void
WorkerInstallUtilityHook(void)
{
	prev_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = worker_utility_hook;
}
