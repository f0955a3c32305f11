/*-------------------------------------------------------------------------
 *
 * job_values.h
 *		Readers of a handler's answer and of an attempt's time (job_values.c).
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/job_values.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_JOB_VALUES_H
#define RECGEN_JOB_VALUES_H

#include "jobs.h"

extern Jsonb *JobJsonbField(Jsonb *obj, const char *key);
extern char *JobJsonbText(Jsonb *obj, const char *key);
extern int64 JobRemainingMs(JobRun *job);

#endif							/* RECGEN_JOB_VALUES_H */
