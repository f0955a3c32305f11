/*-------------------------------------------------------------------------
 *
 * http.h
 *		recgen's HTTP client: POST requests run concurrently through the
 *		libcurl multi interface, with retries, query-cancel support, and for
 *		LLM requests the choice of an endpoint among those of
 *		recgen.llm_url (http_endpoints.c).
 *
 * Two ways to use it:
 *	- HttpPerformAll(reqs, n, concurrency): run a batch to its end, waiting
 *	  on the latch and the sockets (recgen.llm_chat);
 *	- HttpStart / HttpPoll / HttpAddWaitEvents / HttpCancel: requests of
 *	  many jobs in flight at once, driven by the caller's own event loop
 *	  (a background worker, which waits on its latch, the sockets and
 *	  helper programs together).
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/http.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_HTTP_H
#define RECGEN_HTTP_H

#include "lib/stringinfo.h"
#include "storage/latch.h"

/* Outcome of one request, after all its attempts */
typedef enum HttpOutcome
{
	HTTP_OK,					/* a 2xx answer */
	HTTP_STATUS_ERROR,			/* a non-2xx answer after the last attempt */
	HTTP_TRANSPORT_ERROR,		/* no answer: refused, reset, DNS */
	HTTP_TIMEOUT,				/* recgen.llm_timeout elapsed */
	HTTP_RATE_LIMITED			/* recgen.llm_rpm/tpm would make it wait too
								 * long (only with rate_wait_max_ms) */
} HttpOutcome;

typedef struct HttpRequest
{
	/* input */
	const char *url;			/* the URL; NULL: an LLM endpoint + path */
	const char *path;			/* with url NULL: appended to the endpoint */
	const char *body;			/* JSON request body */
	const char *bearer;			/* API key or NULL; never logged */
	const char *const *extra_headers;	/* NULL-terminated "Name: value"
										 * lines, or NULL */
	int			timeout_ms;		/* 0: recgen.llm_timeout */
	bool		no_retries;		/* one attempt only (the caller retries) */
	bool		no_retry_429;	/* a 429 ends the request (the caller snoozes) */
	int			est_tokens;		/* for recgen.llm_tpm: prompt + max_tokens */
	int			rate_wait_max_ms;	/* >0: wait no longer for the rate limits */

	/* output */
	HttpOutcome outcome;
	long		status;			/* HTTP status of the last attempt, 0 if none */
	StringInfoData response;	/* body of the last attempt */
	int			attempts;
	double		latency_ms;		/* wall time of all attempts, waits included */
	const char *error;			/* short, static description; never curl text */
	long		retry_after_ms; /* from the last answer's Retry-After; -1
								 * when it had none (readable when done) */
	int			endpoint;		/* endpoint of the last attempt, -1: none */

	/* private state */
	void	   *easy;
	void	   *headers;
	char	   *attempt_url;	/* URL of the current attempt */
	int64		not_before;		/* retry wait: time (us) before which not to start */
	int64		started;
	int			state;
} HttpRequest;

extern void HttpPerformAll(HttpRequest *reqs, int nreqs, int concurrency);
extern bool HttpRequestStarted(const HttpRequest *req);
extern double HttpRequestElapsedMs(const HttpRequest *req);

/* the event-loop interface (background workers) */
extern void HttpStart(HttpRequest *req);
extern int	HttpPoll(int concurrency);
extern bool HttpRequestDone(const HttpRequest *req);
extern long HttpWaitMs(void);
extern int	HttpWaitEventCount(void);
extern int	HttpPendingCount(void);
extern void HttpAddWaitEvents(WaitEventSet *set);
extern void HttpSocketReady(pgsocket fd, uint32 events);
extern void HttpCancel(HttpRequest *req);
extern void HttpChargeTokens(const HttpRequest *req, int actual_tokens);

/* http_endpoints.c: LLM endpoints, their circuit breakers and rate limits */
extern void HttpEndpointsInstallShmemHooks(void);
extern void RecgenDefineEndpointGucs(void);
extern int	EndpointPick(int est_tokens, int64 *wait_us);
extern const char *EndpointUrl(int idx);
extern void EndpointDone(int idx, int verdict);
extern void EndpointCharge(int idx, int tokens);
extern bool EndpointCheckList(const char *list, char **detail);

/* verdicts of EndpointDone */
#define ENDPOINT_SUCCESS 0		/* the server answered (2xx, or a 4xx that is not 429) */
#define ENDPOINT_FAILURE 1		/* no answer, a timeout, a 5xx */
#define ENDPOINT_NEUTRAL 2		/* a 429, a cancel: says nothing of its health */

#endif							/* RECGEN_HTTP_H */
