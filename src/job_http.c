/*-------------------------------------------------------------------------
 *
 * job_http.c
 *		The "http" action of a job step: POST requests a handler built
 *		(webhook deliveries), sent by the worker with no transaction open,
 *		their answers handed to the handler's next step.
 *
 * A handler returns {"state": s, "http": [{url, headers, body,
 * timeout_ms}, ...]}; the worker builds the requests with JobHttpPrepare,
 * sends them through its event loop (job_actions.c) after the step's
 * transaction has committed and passes the results (JobHttpResults),
 * [{status, error, duration_ms, retry_after_s}, ...] in the same order, to
 * the next step. Each request is tried once: retrying, and how long to
 * wait, is the handler's decision (a delivery retries for hours, as jobs).
 * The transfer goes through http.c (libcurl multi, only http and https,
 * no redirects followed, query cancel and termination honoured).
 *
 * Requests are checked again here although recgen's own SQL builds them:
 * an http or https URL, header names of letters, digits and dashes, and no
 * line break in a value (no header injection).
 *
 * cJSON allocates with malloc: the trees are freed in PG_FINALLY.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/job_http.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <cjson/cJSON.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "http.h"
#include "job_http.h"

/* the most requests one action may send */
#define JOB_HTTP_MAX_REQUESTS 64

/*
 * http_header_ok
 *		Whether a header name and value may be sent as they are.
 */
static bool
http_header_ok(const char *name, const char *value)
{
	const char *p;

	if (name[0] == '\0')
		return false;
	for (p = name; *p; p++)
		if (!(isalnum((unsigned char) *p) || *p == '-'))
			return false;
	for (p = value; *p; p++)
		if (*p == '\r' || *p == '\n')
			return false;
	return true;
}

/*
 * http_prepare
 *		Fill one HttpRequest from its JSON description, or raise.
 */
static void
http_prepare(cJSON *r, HttpRequest *req)
{
	cJSON	   *url = cJSON_GetObjectItemCaseSensitive(r, "url");
	cJSON	   *body = cJSON_GetObjectItemCaseSensitive(r, "body");
	cJSON	   *headers = cJSON_GetObjectItemCaseSensitive(r, "headers");
	cJSON	   *timeout = cJSON_GetObjectItemCaseSensitive(r, "timeout_ms");
	cJSON	   *h;
	const char **lines;
	int			n = 0;

	if (!cJSON_IsString(url) || !cJSON_IsString(body) ||
		(pg_strncasecmp(url->valuestring, "http://", 7) != 0 &&
		 pg_strncasecmp(url->valuestring, "https://", 8) != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an http request needs an http:// or https:// url and a body")));
	req->url = pstrdup(url->valuestring);
	req->body = pstrdup(body->valuestring);
	req->timeout_ms = cJSON_IsNumber(timeout) ? (int) timeout->valuedouble : 0;
	req->no_retries = true;

	lines = palloc0(sizeof(char *) * (cJSON_GetArraySize(headers) + 1));
	cJSON_ArrayForEach(h, headers)
	{
		if (!cJSON_IsString(h) || !http_header_ok(h->string, h->valuestring))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("http request header \"%s\" is not valid", h->string ? h->string : "")));
		/* http.c sends the JSON content type itself */
		if (pg_strcasecmp(h->string, "content-type") == 0)
			continue;
		lines[n++] = psprintf("%s: %s", h->string, h->valuestring);
	}
	req->extra_headers = lines;
}

/*
 * append_result
 *		Append the JSON result of one finished request to buf.
 */
static void
append_result(StringInfo buf, HttpRequest *req)
{
	appendStringInfoString(buf, "{\"status\": ");
	if (req->status > 0)
		appendStringInfo(buf, "%ld", req->status);
	else
		appendStringInfoString(buf, "null");
	appendStringInfoString(buf, ", \"error\": ");
	if (req->outcome == HTTP_OK)
		appendStringInfoString(buf, "null");
	else if (req->outcome == HTTP_STATUS_ERROR)
		escape_json(buf, psprintf("the endpoint answered %ld", req->status));
	else
		escape_json(buf, req->error ? req->error : "the HTTP transfer failed");
	appendStringInfo(buf, ", \"duration_ms\": %.3f", req->latency_ms);
	if (req->retry_after_ms >= 0 && req->status > 0)
		appendStringInfo(buf, ", \"retry_after_s\": %ld", req->retry_after_ms / 1000);
	appendStringInfoChar(buf, '}');
}

/*
 * JobHttpPrepare
 *		The HttpRequests of an "http" action (a JSON array), not started;
 *		*n gets how many. Raises for a malformed request.
 */
HttpRequest *
JobHttpPrepare(Jsonb *requests, int *n)
{
	char	   *text = JsonbToCString(NULL, &requests->root, VARSIZE(requests));
	cJSON	   *volatile arr = NULL;
	HttpRequest *reqs = NULL;

	PG_TRY();
	{
		cJSON	   *r;
		int			i = 0;

		arr = cJSON_Parse(text);
		if (!cJSON_IsArray(arr))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("an http action is an array of requests")));
		*n = cJSON_GetArraySize(arr);
		if (*n < 1 || *n > JOB_HTTP_MAX_REQUESTS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("an http action sends 1 to %d requests, not %d", JOB_HTTP_MAX_REQUESTS, *n)));
		reqs = palloc0(sizeof(HttpRequest) * *n);
		cJSON_ArrayForEach(r, arr)
			http_prepare(r, &reqs[i++]);
	}
	PG_FINALLY();
	{
		cJSON_Delete(arr);
	}
	PG_END_TRY();
	return reqs;
}

/*
 * JobHttpResults
 *		The results of the requests of an "http" action, in order (built in
 *		palloc'd memory: nothing to free when an error is raised).
 */
Jsonb *
JobHttpResults(HttpRequest *reqs, int n)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		append_result(&buf, &reqs[i]);
	}
	appendStringInfoChar(&buf, ']');
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/*
 * JobHttpRun
 *		Send the requests of an "http" action at once and return their
 *		results, in order (recgen.webhook_ping; the workers send them
 *		through their event loop instead). Raises for a malformed request,
 *		an interrupt or out-of-memory; HTTP failures are results.
 */
Jsonb *
JobHttpRun(Jsonb *requests)
{
	int			n;
	HttpRequest *reqs = JobHttpPrepare(requests, &n);

	HttpPerformAll(reqs, n, n);
	return JobHttpResults(reqs, n);
}

/*
 * recgen_http_action
 *		SQL entry point of the same action, for recgen.webhook_ping (an
 *		admin's test message to an endpoint, sent synchronously). Nobody
 *		else may call it: it posts to any URL it is given.
 */
PG_FUNCTION_INFO_V1(recgen_http_action);
Datum
recgen_http_action(PG_FUNCTION_ARGS)
{
	PG_RETURN_JSONB_P(JobHttpRun(PG_GETARG_JSONB_P(0)));
}
