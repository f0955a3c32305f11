/*-------------------------------------------------------------------------
 *
 * http.h
 *		recgen's HTTP client: POST requests run concurrently through the
 *		libcurl multi interface, with retries and query-cancel support.
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

/* Outcome of one request, after all its attempts */
typedef enum HttpOutcome
{
	HTTP_OK,					/* a 2xx answer */
	HTTP_STATUS_ERROR,			/* a non-2xx answer after the last attempt */
	HTTP_TRANSPORT_ERROR,		/* no answer: refused, reset, DNS */
	HTTP_TIMEOUT				/* recgen.llm_timeout elapsed */
} HttpOutcome;

typedef struct HttpRequest
{
	/* input */
	const char *url;
	const char *body;			/* JSON request body */
	const char *bearer;			/* API key or NULL; never logged */
	const char *const *extra_headers;	/* NULL-terminated "Name: value"
										 * lines, or NULL */
	int			timeout_ms;		/* 0: recgen.llm_timeout */
	bool		no_retries;		/* one attempt only (the caller retries) */

	/* output */
	HttpOutcome outcome;
	long		status;			/* HTTP status of the last attempt, 0 if none */
	StringInfoData response;	/* body of the last attempt */
	int			attempts;
	double		latency_ms;		/* wall time of all attempts, waits included */
	const char *error;			/* short, static description; never curl text */

	/* private state */
	void	   *easy;
	void	   *headers;
	long		retry_after_ms; /* from the last answer's Retry-After; -1
								 * when it had none (readable when done) */
	int64		not_before;		/* retry wait: time (us) before which not to start */
	int64		started;
	int			state;
} HttpRequest;

extern void HttpPerformAll(HttpRequest *reqs, int nreqs, int concurrency);
extern bool HttpRequestStarted(const HttpRequest *req);
extern double HttpRequestElapsedMs(const HttpRequest *req);

#endif							/* RECGEN_HTTP_H */
