/*-------------------------------------------------------------------------
 *
 * caller.c
 *		What the role that called recgen may see, asked from inside
 *		recgen's SECURITY DEFINER functions.
 *
 * The content functions run as the extension's owner, whom row-level
 * security does not bind, and check consent themselves. Whether the
 * customer exists for the caller at all is a question of the caller's
 * rights: an analyst must get the same answer for a customer hidden from
 * it (no profiling consent) as for one that does not exist, or which
 * consents a hidden customer gave could be probed. recgen.caller_sees_customer
 * asks the customers table as the outer user (current_user outside every
 * SECURITY DEFINER function: the session's role, or the one SET ROLE
 * chose), under that role's policies.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/caller.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"

#include "recgen.h"

/*
 * recgen_caller_sees_customer
 *		recgen.caller_sees_customer(customer_id bigint) -> boolean
 *		Whether the outer user sees the customer's row in recgen.customers.
 */
PG_FUNCTION_INFO_V1(recgen_caller_sees_customer);
Datum
recgen_caller_sees_customer(PG_FUNCTION_ARGS)
{
	Datum		args[1] = {PG_GETARG_DATUM(0)};
	Oid			argtypes[1] = {INT8OID};
	Oid			save_userid;
	int			save_sec_context;
	volatile bool seen = false;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(GetOuterUserId(), save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		int			rc;

		SPI_connect();
		rc = SPI_execute_with_args("SELECT 1 FROM recgen.customers WHERE customer_id = $1",
								   1, argtypes, args, NULL, true, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "could not look up a customer: %s", SPI_result_code_string(rc));
		seen = SPI_processed > 0;
		SPI_finish();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();
	PG_RETURN_BOOL(seen);
}
