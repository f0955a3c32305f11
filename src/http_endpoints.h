/*-------------------------------------------------------------------------
 *
 * http_endpoints.h
 *		The shared state of the LLM endpoints (http_endpoints.c): what
 *		recgen.worker_status shows of them.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/http_endpoints.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_HTTP_ENDPOINTS_H
#define RECGEN_HTTP_ENDPOINTS_H

#include "datatype/timestamp.h"
#include "storage/lwlock.h"

#define RECGEN_MAX_ENDPOINTS 64
#define ENDPOINT_URL_LEN 512

typedef struct Endpoint
{
	bool		used;
	char		url[ENDPOINT_URL_LEN];
	int			inflight;		/* attempts running now, all processes */
	int			failures;		/* in a row */
	TimestampTz open_until;		/* breaker open until then; 0: closed */
	bool		probing;		/* half open: its one probe is in flight */
	uint64		requests;		/* attempts sent since start-up */
	uint64		errors;			/* of them, failures */
	uint64		opened;			/* times its breaker opened */
	double		req_bucket;		/* recgen.llm_rpm budget; -1: not yet */
	double		tok_bucket;		/* recgen.llm_tpm budget */
	TimestampTz refilled_at;
	TimestampTz last_used;
} Endpoint;

typedef struct EndpointShared
{
	LWLock	   *lock;			/* NULL in a backend's own copy */
	uint32		rr;				/* turn among equals */
	Endpoint	eps[RECGEN_MAX_ENDPOINTS];
} EndpointShared;

extern int	recgen_llm_rpm;
extern int	recgen_llm_tpm;
extern int	recgen_llm_breaker_failures;
extern int	recgen_llm_breaker_cooldown;

extern int	EndpointSnapshot(Endpoint *out, int max);
extern char *EndpointDisplayUrl(const char *url);

#endif							/* RECGEN_HTTP_ENDPOINTS_H */
