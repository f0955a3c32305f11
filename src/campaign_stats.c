/*-------------------------------------------------------------------------
 *
 * campaign_stats.c
 *		Statistics of campaign outcomes: the two-proportion z-test that
 *		tells whether a variant's conversion rate differs from another's
 *		(or from the holdout's) by more than chance.
 *
 * The normal tail comes from the C library's erfc(), which SQL does not
 * expose on PostgreSQL 15.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/campaign_stats.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"

/*
 * recgen_two_proportion_p
 *		Two-sided p-value of the pooled two-proportion z-test of x1/n1
 *		against x2/n2. NULL when it is undefined: an empty group, or every
 *		customer of both groups converted (or none did).
 */
PG_FUNCTION_INFO_V1(recgen_two_proportion_p);
Datum
recgen_two_proportion_p(PG_FUNCTION_ARGS)
{
	int64		x1 = PG_GETARG_INT64(0);
	int64		n1 = PG_GETARG_INT64(1);
	int64		x2 = PG_GETARG_INT64(2);
	int64		n2 = PG_GETARG_INT64(3);
	double		p1,
				p2,
				pooled,
				se,
				z;

	if (x1 < 0 || x2 < 0 || x1 > n1 || x2 > n2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("conversions must lie between 0 and the group size"),
				 errdetail("Got %lld of %lld and %lld of %lld.",
						   (long long) x1, (long long) n1,
						   (long long) x2, (long long) n2)));
	if (n1 <= 0 || n2 <= 0)
		PG_RETURN_NULL();

	p1 = (double) x1 / (double) n1;
	p2 = (double) x2 / (double) n2;
	pooled = (double) (x1 + x2) / (double) (n1 + n2);
	se = sqrt(pooled * (1.0 - pooled) * (1.0 / (double) n1 + 1.0 / (double) n2));
	if (se <= 0.0)
		PG_RETURN_NULL();
	z = fabs(p1 - p2) / se;
	/* P(|Z| >= z) = erfc(z / sqrt(2)) */
	PG_RETURN_FLOAT8(erfc(z / M_SQRT2));
}
