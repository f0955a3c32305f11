/*-------------------------------------------------------------------------
 *
 * http.c
 *		HTTP POST for the LLM client: libcurl's multi interface runs up to
 *		recgen.llm_concurrency requests at once, retries 429, 5xx and
 *		connection errors with exponential backoff and jitter (honouring
 *		Retry-After), and lets query cancel and statement_timeout interrupt
 *		a transfer promptly.
 *
 * One request and a batch take the same path (a batch of one), so the
 * single-call functions and recgen.email_batch share every behaviour.
 *
 * Interrupts: the event loop waits in curl_multi_poll for at most 100 ms at
 * a time and calls CHECK_FOR_INTERRUPTS() between waits; a progress
 * callback also aborts a transfer as soon as a cancel or termination is
 * pending. Whatever way we leave the loop (normal end, ERROR from a
 * cancel), PG_FINALLY detaches and frees every easy handle and header list:
 * libcurl memory is malloc'd and would otherwise leak for the life of the
 * backend.
 *
 * The multi handle lives for the whole backend so that its connection
 * cache keeps connections to the LLM server open between calls.
 *
 * Errors are reported by the caller (llm.c) from the outcome recorded here:
 * this file never puts libcurl's own error text anywhere, and never sees
 * or logs what the body contains.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/http.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "common/pg_prng.h"
#include "miscadmin.h"
#include "utils/timestamp.h"

#include "http.h"
#include "recgen.h"

/* request states */
#define HS_PENDING	0
#define HS_RUNNING	1
#define HS_WAITING	2			/* waiting before a retry */
#define HS_DONE		3

/* answers larger than this are cut off (an LLM answer is a few kB) */
#define HTTP_MAX_RESPONSE (16 * 1024 * 1024)

static CURLM *http_multi = NULL;
static bool http_initialized = false;

/*
 * http_write
 *		libcurl write callback: append to the request's StringInfo.
 */
static size_t
http_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	HttpRequest *req = (HttpRequest *) userdata;
	size_t		n = size * nmemb;

	if (req->response.len + n > HTTP_MAX_RESPONSE)
		return 0;				/* makes curl fail with CURLE_WRITE_ERROR */
	appendBinaryStringInfo(&req->response, ptr, (int) n);
	return n;
}

/*
 * http_header
 *		libcurl header callback: remember Retry-After (in seconds; the
 *		HTTP-date form is ignored and the backoff applies instead).
 */
static size_t
http_header(char *buffer, size_t size, size_t nitems, void *userdata)
{
	HttpRequest *req = (HttpRequest *) userdata;
	size_t		n = size * nitems;

	if (n > 12 && pg_strncasecmp(buffer, "retry-after:", 12) == 0)
	{
		char		tmp[32];
		size_t		len = Min(n - 12, sizeof(tmp) - 1);
		char	   *end;
		long		secs;

		memcpy(tmp, buffer + 12, len);
		tmp[len] = '\0';
		secs = strtol(tmp, &end, 10);
		if (end != tmp && secs >= 0 && secs < 86400)
			req->retry_after_ms = secs * 1000;
	}
	return n;
}

/*
 * http_progress
 *		libcurl progress callback: abort the transfer when the query is
 *		being cancelled (query cancel, statement_timeout) or the backend is
 *		terminating. The event loop then raises the error through
 *		CHECK_FOR_INTERRUPTS().
 */
static int
http_progress(void *clientp, curl_off_t dltotal, curl_off_t dlnow,
			  curl_off_t ultotal, curl_off_t ulnow)
{
	return (QueryCancelPending || ProcDiePending) ? 1 : 0;
}

/*
 * http_setup
 *		Create the request's easy handle and header list.
 */
static void
http_setup(HttpRequest *req)
{
	CURL	   *easy;
	struct curl_slist *headers = NULL;

	easy = curl_easy_init();
	if (easy == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not create an HTTP handle")));
	req->easy = easy;

	headers = curl_slist_append(headers, "Content-Type: application/json");
	headers = curl_slist_append(headers, "Accept: application/json");
	/* no "100 Continue" round trip for bodies over 1 kB */
	headers = curl_slist_append(headers, "Expect:");
	if (req->extra_headers)
	{
		const char *const *h;

		for (h = req->extra_headers; *h; h++)
			headers = curl_slist_append(headers, *h);
	}
	if (req->bearer && req->bearer[0])
	{
		char	   *auth = psprintf("Authorization: Bearer %s", req->bearer);

		headers = curl_slist_append(headers, auth);
		memset(auth, 0, strlen(auth));
		pfree(auth);
	}
	req->headers = headers;
	if (headers == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not create HTTP headers")));

	curl_easy_setopt(easy, CURLOPT_URL, req->url);
	curl_easy_setopt(easy, CURLOPT_POST, 1L);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long) strlen(req->body));
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, req);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, http_header);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, req);
	curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, http_progress);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long) recgen_llm_connect_timeout);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
					 (long) (req->timeout_ms > 0 ? req->timeout_ms : recgen_llm_timeout));
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "recgen/" RECGEN_VERSION);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, req);
}

/*
 * http_start
 *		Start (or restart) an attempt of a request.
 */
static void
http_start(HttpRequest *req)
{
	CURLMcode	mc;

	if (req->easy == NULL)
		http_setup(req);
	resetStringInfo(&req->response);
	req->retry_after_ms = -1;
	req->status = 0;
	req->attempts++;
	mc = curl_multi_add_handle(http_multi, req->easy);
	if (mc != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not start an HTTP request")));
	req->state = HS_RUNNING;
}

/*
 * http_backoff_ms
 *		Wait before the next attempt: base * 2^(attempt-1), with full
 *		jitter in [50%, 150%], capped at recgen.llm_backoff_max, and never
 *		shorter than the server's Retry-After.
 */
static long
http_backoff_ms(HttpRequest *req)
{
	double		wait = (double) recgen_llm_backoff_base;
	int			i;

	for (i = 1; i < req->attempts && wait < recgen_llm_backoff_max; i++)
		wait *= 2;
	wait *= 0.5 + pg_prng_double(&pg_global_prng_state);
	if (wait > recgen_llm_backoff_max)
		wait = recgen_llm_backoff_max;
	if (req->retry_after_ms >= 0 && wait < req->retry_after_ms)
		wait = req->retry_after_ms;
	return (long) wait;
}

/*
 * http_finish
 *		An attempt ended: classify it and either finish the request or
 *		schedule a retry.
 */
static void
http_finish(HttpRequest *req, CURLcode code)
{
	bool		retryable = false;
	int64		now = GetCurrentTimestamp();

	curl_multi_remove_handle(http_multi, req->easy);

	if (code == CURLE_OK)
	{
		curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &req->status);
		if (req->status >= 200 && req->status < 300)
		{
			req->outcome = HTTP_OK;
			req->error = NULL;
		}
		else
		{
			req->outcome = HTTP_STATUS_ERROR;
			req->error = "the server answered with an error status";
			retryable = (req->status == 429 || req->status >= 500);
		}
	}
	else if (code == CURLE_OPERATION_TIMEDOUT)
	{
		req->outcome = HTTP_TIMEOUT;
		req->error = "the request timed out";
	}
	else
	{
		req->outcome = HTTP_TRANSPORT_ERROR;
		switch (code)
		{
			case CURLE_COULDNT_CONNECT:
				req->error = "could not connect to the server";
				retryable = true;
				break;
			case CURLE_COULDNT_RESOLVE_HOST:
				req->error = "could not resolve the server's host name";
				retryable = true;
				break;
			case CURLE_SEND_ERROR:
			case CURLE_RECV_ERROR:
			case CURLE_GOT_NOTHING:
			case CURLE_PARTIAL_FILE:
				req->error = "the connection to the server failed";
				retryable = true;
				break;
			case CURLE_WRITE_ERROR:
				req->error = "the answer was too large";
				break;
			case CURLE_ABORTED_BY_CALLBACK:
				req->error = "the request was cancelled";
				break;
			default:
				req->error = "the HTTP transfer failed";
				break;
		}
	}

	if (retryable && !req->no_retries && req->attempts <= recgen_llm_max_retries)
	{
		long		wait = http_backoff_ms(req);

		/* a Retry-After beyond the request timeout: give up now */
		if (wait <= recgen_llm_timeout)
		{
			req->not_before = now + (int64) wait * 1000;
			req->state = HS_WAITING;
			return;
		}
	}
	req->latency_ms = (double) (now - req->started) / 1000.0;
	req->state = HS_DONE;
}

/*
 * http_cleanup
 *		Detach and free every easy handle and header list of the batch.
 *		Safe to call on any path, more than once.
 */
static void
http_cleanup(HttpRequest *reqs, int nreqs)
{
	int			i;

	for (i = 0; i < nreqs; i++)
	{
		HttpRequest *req = &reqs[i];

		if (req->easy)
		{
			curl_multi_remove_handle(http_multi, req->easy);
			curl_easy_cleanup(req->easy);
			req->easy = NULL;
		}
		if (req->headers)
		{
			curl_slist_free_all((struct curl_slist *) req->headers);
			req->headers = NULL;
		}
	}
}

/*
 * HttpPerformAll
 *		Run every request of reqs (url, body and bearer set, the rest
 *		zeroed), at most concurrency at a time, until each has an outcome.
 *		Raises only for interrupts and out-of-memory; HTTP failures are
 *		recorded in the requests.
 */
void
HttpPerformAll(HttpRequest *reqs, int nreqs, int concurrency)
{
	const int	cap = concurrency < 1 ? 1 : concurrency;
	int			i;

	if (!http_initialized)
	{
		if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("could not initialize libcurl")));
		http_initialized = true;
	}
	if (http_multi == NULL)
	{
		http_multi = curl_multi_init();
		if (http_multi == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("could not create an HTTP multi handle")));
	}
	for (i = 0; i < nreqs; i++)
	{
		initStringInfo(&reqs[i].response);
		reqs[i].state = HS_PENDING;
		reqs[i].attempts = 0;
		reqs[i].easy = NULL;
		reqs[i].headers = NULL;
		reqs[i].error = NULL;
	}

	PG_TRY();
	{
		int			ndone = 0;

		while (ndone < nreqs)
		{
			int64		now = GetCurrentTimestamp();
			int			running = 0;
			int			still;
			long		timeout_ms = 100;
			CURLMsg    *msg;
			int			nmsgs;

			CHECK_FOR_INTERRUPTS();

			for (i = 0; i < nreqs; i++)
				if (reqs[i].state == HS_RUNNING)
					running++;
			/* retries first, then new requests, up to the concurrency cap */
			for (i = 0; i < nreqs && running < cap; i++)
				if (reqs[i].state == HS_WAITING && reqs[i].not_before <= now)
				{
					http_start(&reqs[i]);
					running++;
				}
			for (i = 0; i < nreqs && running < cap; i++)
				if (reqs[i].state == HS_PENDING)
				{
					reqs[i].started = now;
					http_start(&reqs[i]);
					running++;
				}

			curl_multi_perform(http_multi, &still);

			while ((msg = curl_multi_info_read(http_multi, &nmsgs)) != NULL)
			{
				HttpRequest *req;

				if (msg->msg != CURLMSG_DONE)
					continue;
				curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &req);
				http_finish(req, msg->data.result);
				if (req->state == HS_DONE)
					ndone++;
			}
			if (ndone >= nreqs)
				break;

			/* sleep until there is traffic, a retry is due, or 100 ms */
			now = GetCurrentTimestamp();
			for (i = 0; i < nreqs; i++)
				if (reqs[i].state == HS_WAITING)
				{
					long		due = (long) ((reqs[i].not_before - now) / 1000);

					timeout_ms = Max(0, Min(timeout_ms, due));
				}
			if (still > 0)
				curl_multi_poll(http_multi, NULL, 0, (int) timeout_ms, NULL);
			else if (timeout_ms > 0)
				pg_usleep(timeout_ms * 1000L);
		}
	}
	PG_FINALLY();
	{
		http_cleanup(reqs, nreqs);
	}
	PG_END_TRY();
}

/*
 * HttpRequestStarted
 *		Whether a request of a batch was sent (HttpPerformAll may have been
 *		interrupted before it started them all).
 */
bool
HttpRequestStarted(const HttpRequest *req)
{
	return req->state != HS_PENDING;
}

/*
 * HttpRequestElapsedMs
 *		A request's latency: its final one when it ended, else the time since
 *		its first attempt started (for a batch that was interrupted).
 */
double
HttpRequestElapsedMs(const HttpRequest *req)
{
	if (req->state == HS_DONE)
		return req->latency_ms;
	return (double) (GetCurrentTimestamp() - req->started) / 1000.0;
}
