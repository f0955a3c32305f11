/*-------------------------------------------------------------------------
 *
 * job_http.h
 *		The "http" action of a job step (job_http.c): POST requests built
 *		by a handler, sent by the worker with no transaction open.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/job_http.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_JOB_HTTP_H
#define RECGEN_JOB_HTTP_H

#include "http.h"
#include "utils/jsonb.h"

extern HttpRequest *JobHttpPrepare(Jsonb *requests, int *n);
extern Jsonb *JobHttpResults(HttpRequest *reqs, int n);
extern Jsonb *JobHttpRun(Jsonb *requests);

#endif							/* RECGEN_JOB_HTTP_H */
