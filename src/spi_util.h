/*-------------------------------------------------------------------------
 *
 * spi_util.h
 *		Small helpers over SPI that recgen's C functions share: a query
 *		prepared once per backend and kept, run and checked; a statement
 *		run and checked; a batch of rows handed to one statement as
 *		arrays (INSERT ... SELECT FROM unnest()); text[] to C strings.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/spi_util.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_SPI_UTIL_H
#define RECGEN_SPI_UTIL_H

#include "executor/spi.h"
#include "utils/snapshot.h"

#define KEPT_QUERY_MAX_ARGS 8

/*
 * A fixed query of a subsystem, prepared on its first run in a backend
 * and kept (SPI_keepplan; the plan cache re-plans it after DDL). Declare
 * one as a static with its text and argument types.
 */
typedef struct KeptQuery
{
	const char *sql;
	int			nargs;
	Oid			argtypes[KEPT_QUERY_MAX_ARGS];
	SPIPlanPtr	plan;			/* NULL until first run */
} KeptQuery;

extern SPIPlanPtr KeptQueryPlan(KeptQuery *q);
extern uint64 KeptQueryRun(KeptQuery *q, Datum *args, bool read_only, int expect);
extern uint64 KeptQueryRunSnapshot(KeptQuery *q, Datum *args, Snapshot snapshot,
								   int expect);
extern uint64 SpiRunChecked(const char *sql, int nargs, Oid *argtypes, Datum *args,
							bool read_only, int expect);

/* one column of a batch: n values of one element type */
typedef struct SpiColumn
{
	Oid			elemtype;
	Datum	   *values;
} SpiColumn;

extern uint64 SpiRunArrays(const char *sql, int nscalars, Oid *scalar_types,
						   Datum *scalars, int ncols, const SpiColumn *cols,
						   const int *lengths, int expect);

extern int	TextArrayStrings(Datum array, char ***out);

#endif							/* RECGEN_SPI_UTIL_H */
