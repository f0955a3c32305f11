/*-------------------------------------------------------------------------
 *
 * http_endpoints.c
 *		The LLM endpoints of recgen.llm_url (one model behind several
 *		servers): which one an attempt goes to, their circuit breakers and
 *		their requests- and tokens-per-minute limits, shared by every
 *		process of the cluster.
 *
 * Choice: among the endpoints of the list, the one with the fewest
 * requests in flight (ties taken in turn), skipping those whose breaker is
 * open and those whose rate budget is spent. A retry picks again, so it
 * goes elsewhere when an endpoint fails.
 *
 * Circuit breaker: recgen.llm_breaker_failures failures in a row (no
 * answer, a timeout, a 5xx; a 429 or a 4xx says the server is up) open an
 * endpoint's breaker for recgen.llm_breaker_cooldown: it is skipped; then
 * one request at a time probes it (half open) until one succeeds. With a
 * single endpoint, or when every breaker is open, requests still go out
 * (to the endpoint whose breaker opened first): the breaker orders the
 * choice, it never refuses a request.
 *
 * Rate limits: a token bucket per endpoint for requests (recgen.llm_rpm)
 * and one for tokens (recgen.llm_tpm: a request is charged its prompt's
 * length / 4 plus its max_tokens when it starts, and corrected with the
 * usage the answer reports). Buckets hold a tenth of a minute's budget, so
 * traffic is spread over the minute rather than sent in a burst. A request
 * with no budget waits (HttpPoll starts it when the bucket has refilled).
 *
 * State lives in this file's own shared memory struct (64 endpoints under
 * one LWLock, taken for a few loads and stores); without
 * shared_preload_libraries each backend keeps its own.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/http_endpoints.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "http.h"
#include "http_endpoints.h"
#include "recgen.h"

#define URL_LIST_MAX 16

int			recgen_llm_rpm = 0;
int			recgen_llm_tpm = 0;
int			recgen_llm_breaker_failures = 3;
int			recgen_llm_breaker_cooldown = 30000;

static EndpointShared *shared = NULL;
static EndpointShared *local = NULL;	/* without shared memory */
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* recgen.llm_url split, and the string it was split from */
static char *parsed_from = NULL;
static char *urls[URL_LIST_MAX];
static int	nurls = 0;

/*
 * endpoints_shmem_request, endpoints_shmem_startup
 *		Our own struct and lock.
 */
static void
endpoints_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(EndpointShared)));
	RequestNamedLWLockTranche("recgen_endpoints", 1);
}

static void
endpoints_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("recgen_endpoints", sizeof(EndpointShared), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(EndpointShared));
		shared->lock = &(GetNamedLWLockTranche("recgen_endpoints"))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * HttpEndpointsInstallShmemHooks
 *		Called from _PG_init while shared_preload_libraries is processed.
 */
void
HttpEndpointsInstallShmemHooks(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = endpoints_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = endpoints_shmem_startup;
}

/*
 * state, lock, unlock
 *		The shared struct (or this backend's), under its lock.
 */
static EndpointShared *
state(void)
{
	if (shared)
		return shared;
	if (local == NULL)
		local = MemoryContextAllocZero(TopMemoryContext, sizeof(EndpointShared));
	return local;
}

static void
lock(EndpointShared *es)
{
	if (es->lock)
		LWLockAcquire(es->lock, LW_EXCLUSIVE);
}

static void
unlock(EndpointShared *es)
{
	if (es->lock)
		LWLockRelease(es->lock);
}

/*
 * split_list
 *		Split a comma-separated list of URLs (spaces around them allowed)
 *		into out (palloc'd copies). Returns how many, -1 when there are too
 *		many.
 */
static int
split_list(const char *list, char **out)
{
	const char *p = list;
	int			n = 0;

	while (*p)
	{
		const char *start;
		const char *end;

		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p && *p != ',')
			p++;
		end = p;
		while (end > start && end[-1] == ' ')
			end--;
		if (n == URL_LIST_MAX)
			return -1;
		out[n++] = pnstrdup(start, end - start);
	}
	return n;
}

/*
 * EndpointCheckList
 *		Validate recgen.llm_url: empty, or up to 16 comma-separated http://
 *		or https:// URLs without spaces. *detail says what is wrong.
 */
bool
EndpointCheckList(const char *list, char **detail)
{
	char	   *parts[URL_LIST_MAX];
	int			n;
	int			i;

	if (list == NULL || list[0] == '\0')
		return true;
	n = split_list(list, parts);
	if (n < 0)
	{
		*detail = psprintf("At most %d URLs may be listed.", URL_LIST_MAX);
		return false;
	}
	for (i = 0; i < n; i++)
	{
		if (strncmp(parts[i], "http://", 7) != 0 && strncmp(parts[i], "https://", 8) != 0)
		{
			*detail = pstrdup("Each URL must start with \"http://\" or \"https://\".");
			return false;
		}
		if (strchr(parts[i], ' ') != NULL)
		{
			*detail = pstrdup("A URL must not contain spaces; separate URLs with commas.");
			return false;
		}
		if (strlen(parts[i]) >= ENDPOINT_URL_LEN)
		{
			*detail = psprintf("A URL may have at most %d characters.", ENDPOINT_URL_LEN - 1);
			return false;
		}
	}
	return true;
}

/*
 * current_urls
 *		recgen.llm_url as a list, split again when the setting changed.
 */
static int
current_urls(void)
{
	MemoryContext old;
	const char *setting = recgen_llm_url ? recgen_llm_url : "";
	int			n;

	if (parsed_from && strcmp(parsed_from, setting) == 0)
		return nurls;
	old = MemoryContextSwitchTo(TopMemoryContext);
	while (nurls > 0)
		pfree(urls[--nurls]);
	if (parsed_from)
		pfree(parsed_from);
	parsed_from = pstrdup(setting);
	n = split_list(setting, urls);
	nurls = Max(n, 0);
	MemoryContextSwitchTo(old);
	return nurls;
}

/*
 * find_endpoint
 *		The entry of a URL, made when missing (recycling the least recently
 *		used entry with nothing in flight). Caller holds the lock.
 */
static int
find_endpoint(EndpointShared *es, const char *url)
{
	int			i;
	int			victim = -1;

	for (i = 0; i < RECGEN_MAX_ENDPOINTS; i++)
		if (es->eps[i].used && strcmp(es->eps[i].url, url) == 0)
			return i;
	for (i = 0; i < RECGEN_MAX_ENDPOINTS; i++)
	{
		Endpoint   *e = &es->eps[i];

		if (!e->used)
		{
			victim = i;
			break;
		}
		if (e->inflight == 0 && (victim < 0 || e->last_used < es->eps[victim].last_used))
			victim = i;
	}
	if (victim < 0)
		return -1;
	memset(&es->eps[victim], 0, sizeof(Endpoint));
	es->eps[victim].used = true;
	strlcpy(es->eps[victim].url, url, ENDPOINT_URL_LEN);
	es->eps[victim].req_bucket = -1;	/* filled at first use */
	return victim;
}

/*
 * refill
 *		Top up an endpoint's buckets for the time since the last refill.
 */
static void
refill(Endpoint *e, TimestampTz now)
{
	double		req_cap = Max(1.0, recgen_llm_rpm / 10.0);
	double		tok_cap = Max(1.0, recgen_llm_tpm / 10.0);
	double		minutes;

	if (e->req_bucket < 0)
	{
		e->req_bucket = req_cap;
		e->tok_bucket = tok_cap;
		e->refilled_at = now;
		return;
	}
	minutes = (double) (now - e->refilled_at) / 60e6;
	e->req_bucket = Min(req_cap, e->req_bucket + minutes * recgen_llm_rpm);
	e->tok_bucket = Min(tok_cap, e->tok_bucket + minutes * recgen_llm_tpm);
	/*
	 * No limit, a full bucket: requests sent while a limit was 0 must not
	 * make the first request under a new limit wait (nor do they charge
	 * it; see EndpointPick).
	 */
	if (recgen_llm_rpm == 0)
		e->req_bucket = req_cap;
	if (recgen_llm_tpm == 0)
		e->tok_bucket = tok_cap;
	e->refilled_at = now;
}

/*
 * budget_wait_us
 *		0 when the endpoint may take a request of est tokens now, else how
 *		long until it may.
 */
static int64
budget_wait_us(Endpoint *e, int est)
{
	double		wait_min = 0;

	if (recgen_llm_rpm > 0 && e->req_bucket < 1.0)
		wait_min = Max(wait_min, (1.0 - e->req_bucket) / recgen_llm_rpm);
	if (recgen_llm_tpm > 0)
	{
		double		need = Min((double) est, Max(1.0, recgen_llm_tpm / 10.0));

		if (e->tok_bucket < need)
			wait_min = Max(wait_min, (need - e->tok_bucket) / recgen_llm_tpm);
	}
	return (int64) (wait_min * 60e6);
}

/*
 * EndpointPick
 *		The endpoint the next attempt of an LLM request goes to (see the
 *		file header), counted in flight and charged to its budget; -1 with
 *		*wait_us when every candidate's budget is spent (or when the list
 *		is empty, with *wait_us 0: the caller's check of recgen.llm_url
 *		makes that impossible).
 */
int
EndpointPick(int est_tokens, int64 *wait_us)
{
	EndpointShared *es = state();
	int			n = current_urls();
	int			idx[URL_LIST_MAX];
	TimestampTz now = GetCurrentTimestamp();
	int			best = -1;
	int			fallback = -1;
	int64		best_wait = PG_INT64_MAX;
	int			i;

	*wait_us = 0;
	if (n == 0)
		return -1;
	lock(es);
	for (i = 0; i < n; i++)
	{
		idx[i] = find_endpoint(es, urls[(i + es->rr) % n]);
		if (idx[i] >= 0)
			refill(&es->eps[idx[i]], now);
	}
	for (i = 0; i < n; i++)
	{
		Endpoint   *e;
		bool		usable;
		int64		w;

		if (idx[i] < 0)
			continue;
		e = &es->eps[idx[i]];
		/* open breakers are skipped; after the cooldown one probe at a time */
		usable = n == 1 || e->open_until == 0 || (e->open_until <= now && !e->probing);
		if (!usable)
		{
			if (fallback < 0 || e->open_until < es->eps[idx[fallback]].open_until)
				fallback = i;
			continue;
		}
		w = budget_wait_us(e, est_tokens);
		if (w > 0)
		{
			best_wait = Min(best_wait, w);
			continue;
		}
		if (best < 0 || e->inflight < es->eps[idx[best]].inflight)
			best = i;
	}
	if (best < 0 && best_wait == PG_INT64_MAX && fallback >= 0)
	{
		/* every breaker is open: the one that opened first is tried */
		int64		w = budget_wait_us(&es->eps[idx[fallback]], est_tokens);

		if (w == 0)
			best = fallback;
		else
			best_wait = w;
	}
	if (best >= 0)
	{
		Endpoint   *e = &es->eps[idx[best]];

		e->inflight++;
		e->requests++;
		/* charged only under a limit: unlimited requests leave no debt */
		if (recgen_llm_rpm > 0)
			e->req_bucket -= 1.0;
		if (recgen_llm_tpm > 0)
			e->tok_bucket -= est_tokens;
		e->last_used = now;
		if (e->open_until != 0 && n > 1)
			e->probing = true;
		es->rr++;
		best = idx[best];
	}
	unlock(es);
	if (best < 0)
		*wait_us = best_wait == PG_INT64_MAX ? 1000000 : best_wait;
	return best;
}

/*
 * EndpointUrl
 *		The base URL of an endpoint picked by EndpointPick.
 */
const char *
EndpointUrl(int idx)
{
	return state()->eps[idx].url;
}

/*
 * EndpointDone
 *		An attempt on the endpoint ended: no longer in flight, and its
 *		breaker told how it went.
 */
void
EndpointDone(int idx, int verdict)
{
	EndpointShared *es = state();
	Endpoint   *e = &es->eps[idx];
	bool		opened = false;
	char		url[ENDPOINT_URL_LEN];
	int			failures = 0;

	lock(es);
	if (e->inflight > 0)
		e->inflight--;
	e->probing = false;
	if (verdict == ENDPOINT_FAILURE)
	{
		e->errors++;
		e->failures++;
		if (e->failures >= recgen_llm_breaker_failures &&
			(e->open_until == 0 || e->open_until <= GetCurrentTimestamp()))
		{
			e->open_until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), recgen_llm_breaker_cooldown);
			e->opened++;
			opened = true;
			failures = e->failures;
			strlcpy(url, e->url, sizeof(url));
		}
	}
	else if (verdict == ENDPOINT_SUCCESS)
	{
		e->failures = 0;
		e->open_until = 0;
	}
	unlock(es);
	if (opened && current_urls() > 1)
		ereport(LOG,
				(errmsg("recgen: LLM endpoint %s is skipped for %d ms after %d failures in a row",
						EndpointDisplayUrl(url), recgen_llm_breaker_cooldown, failures)));
}

/*
 * EndpointCharge
 *		Correct an endpoint's token budget by delta tokens.
 */
void
EndpointCharge(int idx, int delta)
{
	EndpointShared *es = state();

	if (recgen_llm_tpm <= 0)
		return;
	lock(es);
	es->eps[idx].tok_bucket -= delta;
	unlock(es);
}

/*
 * EndpointSnapshot
 *		A copy of the endpoints in use, for recgen.worker_status.
 */
int
EndpointSnapshot(Endpoint *out, int max)
{
	EndpointShared *es = state();
	int			n = 0;
	int			i;

	lock(es);
	for (i = 0; i < RECGEN_MAX_ENDPOINTS && n < max; i++)
		if (es->eps[i].used)
			out[n++] = es->eps[i];
	unlock(es);
	return n;
}

/*
 * EndpointDisplayUrl
 *		A URL without the user and password it may carry (palloc'd).
 */
char *
EndpointDisplayUrl(const char *url)
{
	const char *scheme = strstr(url, "://");
	const char *at;
	const char *slash;

	if (scheme == NULL)
		return pstrdup(url);
	at = strchr(scheme + 3, '@');
	slash = strchr(scheme + 3, '/');
	if (at == NULL || (slash && slash < at))
		return pstrdup(url);
	return psprintf("%.*s%s", (int) (scheme + 3 - url), url, at + 1);
}

/*
 * RecgenDefineEndpointGucs
 *		The settings of this file; called from _PG_init.
 */
void
RecgenDefineEndpointGucs(void)
{
	DefineCustomIntVariable("recgen.llm_rpm",
							"Requests per minute each LLM endpoint may receive (0: no limit).",
							"Shared by every session and worker of the cluster.",
							&recgen_llm_rpm,
							0, 0, 1000000,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.llm_tpm",
							"Tokens per minute each LLM endpoint may receive (0: no limit).",
							"A request counts its prompt (length / 4) and max_tokens, corrected by the usage the answer reports.",
							&recgen_llm_tpm,
							0, 0, 100000000,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.llm_breaker_failures",
							"Failures in a row after which an LLM endpoint is skipped for a while.",
							"Only when recgen.llm_url lists several endpoints.",
							&recgen_llm_breaker_failures,
							3, 1, 1000,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.llm_breaker_cooldown",
							"How long an LLM endpoint that kept failing is skipped before it is tried again.",
							NULL,
							&recgen_llm_breaker_cooldown,
							30000, 100, 3600000,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
}
