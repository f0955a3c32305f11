/*-------------------------------------------------------------------------
 *
 * http.c
 *		HTTP POST for the LLM client and the workers: libcurl's multi
 *		interface runs many requests at once, retries 429, 5xx and
 *		connection errors with exponential backoff and jitter (honouring
 *		Retry-After), spreads LLM requests over the endpoints of
 *		recgen.llm_url (http_endpoints.c: fewest in flight, circuit breaker,
 *		requests- and tokens-per-minute), and waits on the sockets and the
 *		process latch together.
 *
 * Event loop: libcurl's socket interface (CURLMOPT_SOCKETFUNCTION,
 * CURLMOPT_TIMERFUNCTION, curl_multi_socket_action). The sockets curl
 * wants watched are kept in a small table; a waiter puts them in a
 * WaitEventSet beside its latch (HttpAddWaitEvents), so query cancel,
 * statement_timeout, SIGTERM and postmaster death wake it at once, and
 * hands back the sockets that fired (HttpSocketReady). HttpPoll then
 * starts what may start (within the concurrency cap, retries when due) and
 * collects the finished transfers. HttpPerformAll runs a batch to its end
 * this way (recgen.llm_chat); a background worker drives the same calls
 * from its own loop, with the requests of many jobs in flight.
 *
 * A progress callback also aborts a transfer as soon as a cancel or
 * termination is pending. Whatever way a batch ends (normal end, ERROR
 * from a cancel), PG_FINALLY cancels what is left and frees every easy
 * handle and header list: libcurl memory is malloc'd and would otherwise
 * leak for the life of the backend.
 *
 * The multi handle lives for the whole backend so that its connection
 * cache keeps connections to the LLM servers open between calls.
 *
 * Errors are reported by the callers (llm.c, the workers) from the outcome
 * recorded here: this file never puts libcurl's own error text anywhere,
 * and never sees or logs what the body contains.
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
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "http.h"
#include "recgen.h"

/* request states */
#define HS_PENDING	0
#define HS_RUNNING	1
#define HS_WAITING	2			/* waiting before a retry, or for the rate */
#define HS_DONE		3

/* answers larger than this are cut off (an LLM answer is a few kB) */
#define HTTP_MAX_RESPONSE (16 * 1024 * 1024)

/* sockets libcurl asked to have watched */
typedef struct HttpSocket
{
	curl_socket_t fd;
	int			what;			/* CURL_POLL_IN, _OUT, _INOUT */
} HttpSocket;

static CURLM *http_multi = NULL;
static bool http_initialized = false;

/* every request started and not done, oldest first */
static HttpRequest **active = NULL;
static int	nactive = 0;
static int	active_cap = 0;

static HttpSocket *socks = NULL;
static int	nsocks = 0;
static int	socks_cap = 0;

/* curl's timer: when it wants socket_action(TIMEOUT), 0 = none */
static TimestampTz timer_due = 0;

/*
 * http_write
 *		libcurl write callback: append to the request's StringInfo (which
 *		grows in the memory context it was made in).
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
 *		being cancelled (query cancel, statement_timeout) or the process is
 *		terminating.
 */
static int
http_progress(void *clientp, curl_off_t dltotal, curl_off_t dlnow,
			  curl_off_t ultotal, curl_off_t ulnow)
{
	return (QueryCancelPending || ProcDiePending) ? 1 : 0;
}

/*
 * http_socket_cb
 *		CURLMOPT_SOCKETFUNCTION: keep the table of sockets to watch.
 */
static int
http_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	int			i;

	for (i = 0; i < nsocks; i++)
		if (socks[i].fd == fd)
			break;
	if (what == CURL_POLL_REMOVE)
	{
		if (i < nsocks)
			socks[i] = socks[--nsocks];
		return 0;
	}
	if (i == nsocks)
	{
		if (nsocks == socks_cap)
		{
			int			cap = Max(16, socks_cap * 2);

			socks = socks ? repalloc(socks, sizeof(HttpSocket) * cap)
				: MemoryContextAlloc(TopMemoryContext, sizeof(HttpSocket) * cap);
			socks_cap = cap;
		}
		nsocks++;
	}
	socks[i].fd = fd;
	socks[i].what = what;
	return 0;
}

/*
 * http_timer_cb
 *		CURLMOPT_TIMERFUNCTION: when curl wants to be called again.
 */
static int
http_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	timer_due = timeout_ms < 0 ? 0
		: TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
	if (timeout_ms == 0)
		timer_due = 1;			/* at once (and never "none") */
	return 0;
}

/*
 * http_init
 *		libcurl and the backend's multi handle, once.
 */
static void
http_init(void)
{
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
		curl_multi_setopt(http_multi, CURLMOPT_SOCKETFUNCTION, http_socket_cb);
		curl_multi_setopt(http_multi, CURLMOPT_TIMERFUNCTION, http_timer_cb);
	}
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
 * http_forget
 *		Take a request off the list of active ones.
 */
static void
http_forget(HttpRequest *req)
{
	int			i;

	for (i = 0; i < nactive; i++)
		if (active[i] == req)
		{
			memmove(&active[i], &active[i + 1], sizeof(HttpRequest *) * (nactive - i - 1));
			nactive--;
			return;
		}
}

/*
 * http_release
 *		Free the request's handle and headers (libcurl's malloc'd memory).
 */
static void
http_release(HttpRequest *req)
{
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

/*
 * http_done
 *		The request has its outcome.
 */
static void
http_done(HttpRequest *req, int64 now)
{
	req->latency_ms = (double) (now - req->started) / 1000.0;
	req->state = HS_DONE;
	http_release(req);
	http_forget(req);
}

/*
 * http_start
 *		Start (or restart) an attempt of a request: pick its endpoint when
 *		it is an LLM request, which may make it wait for the rate limits.
 */
static void
http_start(HttpRequest *req, int64 now)
{
	CURLMcode	mc;
	const char *url = req->url;

	if (req->url == NULL)
	{
		int64		wait_us = 0;
		int			idx = EndpointPick(req->est_tokens, &wait_us);

		if (idx < 0)
		{
			if (req->rate_wait_max_ms > 0 && wait_us / 1000 > req->rate_wait_max_ms)
			{
				req->outcome = HTTP_RATE_LIMITED;
				req->error = "the rate limits of the LLM endpoints (recgen.llm_rpm, recgen.llm_tpm) are spent";
				req->retry_after_ms = wait_us / 1000;
				http_done(req, now);
			}
			else
			{
				req->not_before = now + Max(wait_us, 1000);
				req->state = HS_WAITING;
			}
			return;
		}
		req->endpoint = idx;
		if (req->attempt_url)
			pfree(req->attempt_url);
		req->attempt_url = MemoryContextStrdup(GetMemoryChunkContext(req->response.data),
											   psprintf("%s%s%s", EndpointUrl(idx),
														EndpointUrl(idx)[strlen(EndpointUrl(idx)) - 1] == '/' ? "" : "/",
														req->path));
		url = req->attempt_url;
	}
	if (req->easy == NULL)
		http_setup(req);
	curl_easy_setopt(req->easy, CURLOPT_URL, url);
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
 * http_classify
 *		Outcome and error of a finished attempt, and whether it may be
 *		retried.
 */
static bool
http_classify(HttpRequest *req, CURLcode code)
{
	if (code == CURLE_OK)
	{
		curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &req->status);
		if (req->status >= 200 && req->status < 300)
		{
			req->outcome = HTTP_OK;
			req->error = NULL;
			return false;
		}
		req->outcome = HTTP_STATUS_ERROR;
		req->error = "the server answered with an error status";
		return (req->status == 429 && !req->no_retry_429) || req->status >= 500;
	}
	if (code == CURLE_OPERATION_TIMEDOUT)
	{
		req->outcome = HTTP_TIMEOUT;
		req->error = "the request timed out";
		return false;
	}
	req->outcome = HTTP_TRANSPORT_ERROR;
	switch (code)
	{
		case CURLE_COULDNT_CONNECT:
			req->error = "could not connect to the server";
			return true;
		case CURLE_COULDNT_RESOLVE_HOST:
			req->error = "could not resolve the server's host name";
			return true;
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
			req->error = "the connection to the server failed";
			return true;
		case CURLE_WRITE_ERROR:
			req->error = "the answer was too large";
			return false;
		case CURLE_ABORTED_BY_CALLBACK:
			req->error = "the request was cancelled";
			return false;
		default:
			req->error = "the HTTP transfer failed";
			return false;
	}
}

/*
 * http_finish
 *		An attempt ended: tell its endpoint, then either finish the request
 *		or schedule a retry.
 */
static void
http_finish(HttpRequest *req, CURLcode code)
{
	bool		retryable;
	int64		now = GetCurrentTimestamp();

	curl_multi_remove_handle(http_multi, req->easy);
	retryable = http_classify(req, code);
	if (req->url == NULL && req->endpoint >= 0)
		EndpointDone(req->endpoint,
					 code == CURLE_ABORTED_BY_CALLBACK || req->status == 429 ? ENDPOINT_NEUTRAL
					 : (req->outcome == HTTP_OK || (req->status >= 400 && req->status < 500)) ? ENDPOINT_SUCCESS
					 : ENDPOINT_FAILURE);

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
	http_done(req, now);
}

/*
 * HttpStart
 *		Queue a request (url or path, body, bearer and options set, the rest
 *		zeroed): HttpPoll starts it when the concurrency cap allows. Its
 *		response grows in the current memory context.
 */
void
HttpStart(HttpRequest *req)
{
	http_init();
	if (nactive == active_cap)
	{
		int			cap = Max(64, active_cap * 2);

		active = active ? repalloc(active, sizeof(HttpRequest *) * cap)
			: MemoryContextAlloc(TopMemoryContext, sizeof(HttpRequest *) * cap);
		active_cap = cap;
	}
	initStringInfo(&req->response);
	req->state = HS_PENDING;
	req->attempts = 0;
	req->easy = NULL;
	req->headers = NULL;
	req->attempt_url = NULL;
	req->error = NULL;
	req->endpoint = -1;
	req->retry_after_ms = -1;
	req->started = GetCurrentTimestamp();
	active[nactive++] = req;
}

/*
 * HttpPoll
 *		Start what may start (retries that are due first, then new requests,
 *		at most concurrency running), let curl work, and collect the
 *		transfers that ended. Returns how many requests got their outcome.
 */
int
HttpPoll(int concurrency)
{
	int64		now = GetCurrentTimestamp();
	int			running = 0;
	int			finished = 0;
	int			still;
	int			nmsgs;
	int			i;
	CURLMsg    *msg;
	const int	cap = Max(concurrency, 1);

	if (nactive == 0)
		return 0;
	for (i = 0; i < nactive; i++)
		if (active[i]->state == HS_RUNNING)
			running++;
	for (i = 0; i < nactive && running < cap; i++)
	{
		HttpRequest *req = active[i];

		if (req->state == HS_WAITING && req->not_before <= now)
		{
			http_start(req, now);
			if (req->state == HS_RUNNING)
				running++;
			else if (req->state == HS_DONE)
			{
				finished++;
				i--;			/* it left the list */
			}
		}
	}
	for (i = 0; i < nactive && running < cap; i++)
	{
		HttpRequest *req = active[i];

		if (req->state == HS_PENDING)
		{
			http_start(req, now);
			if (req->state == HS_RUNNING)
				running++;
			else if (req->state == HS_DONE)
			{
				finished++;
				i--;
			}
		}
	}
	/* curl's timer (new handles set it to "now"); it may set it again */
	for (i = 0; i < 4 && timer_due != 0 && timer_due <= GetCurrentTimestamp(); i++)
	{
		timer_due = 0;
		curl_multi_socket_action(http_multi, CURL_SOCKET_TIMEOUT, 0, &still);
	}
	while ((msg = curl_multi_info_read(http_multi, &nmsgs)) != NULL)
	{
		HttpRequest *req;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &req);
		http_finish(req, msg->data.result);
		if (req->state == HS_DONE)
			finished++;
	}
	return finished;
}

/*
 * HttpRequestDone
 *		Whether a request has its outcome.
 */
bool
HttpRequestDone(const HttpRequest *req)
{
	return req->state == HS_DONE;
}

/*
 * HttpWaitMs
 *		How long the caller may wait before HttpPoll is needed again, at most
 *		a second; -1 when nothing is in flight.
 */
long
HttpWaitMs(void)
{
	TimestampTz now = GetCurrentTimestamp();
	long		wait = 1000;
	int			i;

	if (nactive == 0)
		return -1;
	if (timer_due != 0)
		wait = Min(wait, timer_due <= now ? 0 : (long) ((timer_due - now) / 1000) + 1);
	for (i = 0; i < nactive; i++)
		if (active[i]->state == HS_WAITING)
			wait = Min(wait, active[i]->not_before <= now ? 0
					   : (long) ((active[i]->not_before - now) / 1000) + 1);
	return wait;
}

/*
 * HttpPendingCount
 *		Requests queued that the concurrency cap keeps from starting.
 */
int
HttpPendingCount(void)
{
	int			n = 0;
	int			i;

	for (i = 0; i < nactive; i++)
		if (active[i]->state == HS_PENDING)
			n++;
	return n;
}

/*
 * HttpWaitEventCount
 *		How many sockets HttpAddWaitEvents adds.
 */
int
HttpWaitEventCount(void)
{
	return nsocks;
}

/*
 * HttpAddWaitEvents
 *		Add the sockets curl wants watched to a wait event set (user_data
 *		NULL marks them as ours).
 */
void
HttpAddWaitEvents(WaitEventSet *set)
{
	int			i;

	for (i = 0; i < nsocks; i++)
	{
		uint32		events = 0;

		if (socks[i].what == CURL_POLL_IN || socks[i].what == CURL_POLL_INOUT)
			events |= WL_SOCKET_READABLE;
		if (socks[i].what == CURL_POLL_OUT || socks[i].what == CURL_POLL_INOUT)
			events |= WL_SOCKET_WRITEABLE;
		if (events)
			AddWaitEventToSet(set, events, socks[i].fd, NULL, NULL);
	}
}

/*
 * HttpSocketReady
 *		A socket of HttpAddWaitEvents fired: let curl act on it.
 */
void
HttpSocketReady(pgsocket fd, uint32 events)
{
	int			mask = 0;
	int			still;

	if (http_multi == NULL)
		return;
	if (events & WL_SOCKET_READABLE)
		mask |= CURL_CSELECT_IN;
	if (events & WL_SOCKET_WRITEABLE)
		mask |= CURL_CSELECT_OUT;
	curl_multi_socket_action(http_multi, fd, mask, &still);
}

/*
 * HttpCancel
 *		Stop a request that has not ended (a job cancelled, an error); safe
 *		on any request, more than once.
 */
void
HttpCancel(HttpRequest *req)
{
	if (req->state == HS_DONE)
		return;
	if (req->state == HS_RUNNING && req->url == NULL && req->endpoint >= 0)
		EndpointDone(req->endpoint, ENDPOINT_NEUTRAL);
	if (req->state != HS_PENDING)
	{
		req->outcome = HTTP_TRANSPORT_ERROR;
		req->error = "the request was cancelled";
	}
	http_done(req, GetCurrentTimestamp());
}

/*
 * HttpChargeTokens
 *		The tokens a finished LLM request really used, against its estimate
 *		(recgen.llm_tpm).
 */
void
HttpChargeTokens(const HttpRequest *req, int actual_tokens)
{
	if (req->url == NULL && req->endpoint >= 0 && actual_tokens > 0)
		EndpointCharge(req->endpoint, actual_tokens - req->est_tokens);
}

/*
 * HttpPerformAll
 *		Run every request of reqs (url or path, body and bearer set, the
 *		rest zeroed), at most concurrency at a time, until each has an
 *		outcome, waiting on the latch and the sockets. Raises only for
 *		interrupts and out-of-memory; HTTP failures are recorded in the
 *		requests.
 */
void
HttpPerformAll(HttpRequest *reqs, int nreqs, int concurrency)
{
	int			i;

	for (i = 0; i < nreqs; i++)
		HttpStart(&reqs[i]);

	PG_TRY();
	{
		for (;;)
		{
			bool		all_done = true;
			WaitEventSet *set;
			WaitEvent	events[64];
			long		timeout;
			int			n;

			CHECK_FOR_INTERRUPTS();
			HttpPoll(concurrency);
			for (i = 0; i < nreqs && all_done; i++)
				all_done = HttpRequestDone(&reqs[i]);
			if (all_done)
				break;

			timeout = HttpWaitMs();
			set = CreateWaitEventSet(CurrentMemoryContext, 2 + HttpWaitEventCount());
			AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
			AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
			HttpAddWaitEvents(set);
			n = WaitEventSetWait(set, timeout < 0 ? 1000 : timeout, events, lengthof(events),
								 PG_WAIT_EXTENSION);
			FreeWaitEventSet(set);
			for (i = 0; i < n; i++)
			{
				if (events[i].events & WL_LATCH_SET)
					ResetLatch(MyLatch);
				else if (events[i].events & (WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE))
					HttpSocketReady(events[i].fd, events[i].events);
			}
		}
	}
	PG_FINALLY();
	{
		for (i = 0; i < nreqs; i++)
			HttpCancel(&reqs[i]);
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
	return req->attempts > 0;
}

/*
 * HttpRequestElapsedMs
 *		A request's latency: its final one when it ended, else the time since
 *		its first attempt started (for a batch that was interrupted).
 */
double
HttpRequestElapsedMs(const HttpRequest *req)
{
	if (req->state == HS_DONE && req->latency_ms > 0)
		return req->latency_ms;
	return (double) (GetCurrentTimestamp() - req->started) / 1000.0;
}
