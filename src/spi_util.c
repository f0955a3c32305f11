/*-------------------------------------------------------------------------
 *
 * spi_util.c
 *		Helpers over SPI shared by recgen's C functions (spi_util.h).
 *
 * Every query recgen runs through SPI is a fixed text with typed
 * parameters; the fixed queries a call runs again and again are kept
 * plans (KeptQuery), prepared once per backend. Every run insists on the
 * exact SPI_OK_* code it expects: anything else "cannot happen" for
 * these queries (elog with the query's start).
 *
 * Batches of rows are written by one statement per batch whose
 * parameters are arrays (SpiRunArrays): an INSERT ... SELECT FROM
 * unnest($k, ...) costs one parse, one plan and one executor start per
 * batch instead of per row.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/spi_util.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "spi_util.h"

/*
 * check_result
 *		Error out unless an SPI run returned what the caller expects.
 */
static void
check_result(const char *sql, int ret, int expect)
{
	if (ret != expect)
		elog(ERROR, "recgen query \"%.60s...\" failed: %s", sql,
			 SPI_result_code_string(ret));
}

/*
 * KeptQueryPlan
 *		The kept plan of q, prepared on first use. Must be called inside
 *		SPI.
 */
SPIPlanPtr
KeptQueryPlan(KeptQuery *q)
{
	if (q->plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(q->sql, q->nargs, q->argtypes);

		if (plan == NULL)
			elog(ERROR, "preparing recgen query \"%.60s...\" failed: %s", q->sql,
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "keeping the plan of recgen query \"%.60s...\" failed", q->sql);
		q->plan = plan;
	}
	return q->plan;
}

/*
 * KeptQueryRun
 *		Run q with args (no nulls), expecting the SPI code expect; returns
 *		SPI_processed. The rows are in SPI_tuptable.
 */
uint64
KeptQueryRun(KeptQuery *q, Datum *args, bool read_only, int expect)
{
	int			ret = SPI_execute_plan(KeptQueryPlan(q), args, NULL, read_only, 0);

	check_result(q->sql, ret, expect);
	return SPI_processed;
}

/*
 * KeptQueryRunSnapshot
 *		Run the read-only q with an explicit snapshot (see
 *		CatalogCacheSelect).
 */
uint64
KeptQueryRunSnapshot(KeptQuery *q, Datum *args, Snapshot snapshot, int expect)
{
	int			ret = SPI_execute_snapshot(KeptQueryPlan(q), args, NULL, snapshot,
										   InvalidSnapshot, true, false, 0);

	check_result(q->sql, ret, expect);
	return SPI_processed;
}

/*
 * SpiRunChecked
 *		Run a parameterized statement once (not kept), expecting the SPI
 *		code expect; returns SPI_processed.
 */
uint64
SpiRunChecked(const char *sql, int nargs, Oid *argtypes, Datum *args,
			  bool read_only, int expect)
{
	int			ret = SPI_execute_with_args(sql, nargs, argtypes, args, NULL, read_only, 0);

	check_result(sql, ret, expect);
	return SPI_processed;
}

/*
 * SpiRunArrays
 *		Run sql with nscalars scalar parameters ($1 ...) followed by one
 *		array parameter per column (cols[c] has lengths[c] values), as in
 *		INSERT INTO t SELECT $1, u.* FROM unnest($2, $3) AS u. The arrays
 *		are built here and freed after the run. Returns SPI_processed.
 */
uint64
SpiRunArrays(const char *sql, int nscalars, Oid *scalar_types, Datum *scalars,
			 int ncols, const SpiColumn *cols, const int *lengths, int expect)
{
	int			nargs = nscalars + ncols;
	Oid		   *types = palloc(sizeof(Oid) * nargs);
	Datum	   *args = palloc(sizeof(Datum) * nargs);
	uint64		processed;

	for (int i = 0; i < nscalars; i++)
	{
		types[i] = scalar_types[i];
		args[i] = scalars[i];
	}
	for (int c = 0; c < ncols; c++)
	{
		int16		typlen;
		bool		typbyval;
		char		typalign;

		get_typlenbyvalalign(cols[c].elemtype, &typlen, &typbyval, &typalign);
		types[nscalars + c] = get_array_type(cols[c].elemtype);
		args[nscalars + c] = PointerGetDatum(construct_array(cols[c].values, lengths[c],
															  cols[c].elemtype, typlen,
															  typbyval, typalign));
	}
	processed = SpiRunChecked(sql, nargs, types, args, false, expect);
	for (int c = 0; c < ncols; c++)
		pfree(DatumGetPointer(args[nscalars + c]));
	pfree(types);
	pfree(args);
	return processed;
}

/*
 * TextArrayStrings
 *		The non-null elements of a text[] datum as C strings, allocated in
 *		the current memory context (the intermediate arrays are freed);
 *		returns how many, the strings in *out.
 */
int
TextArrayStrings(Datum array, char ***out)
{
	ArrayType  *arr = DatumGetArrayTypeP(array);
	Datum	   *elems;
	bool	   *nulls;
	int			ne;
	int			n = 0;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &ne);
	*out = palloc(sizeof(char *) * Max(ne, 1));
	for (int k = 0; k < ne; k++)
		if (!nulls[k])
			(*out)[n++] = TextDatumGetCString(elems[k]);
	pfree(elems);
	pfree(nulls);
	if ((Pointer) arr != DatumGetPointer(array))
		pfree(arr);
	return n;
}
