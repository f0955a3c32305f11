/*-------------------------------------------------------------------------
 *
 * llm.c
 *		OpenAI-compatible chat-completions client: builds the request bodies
 *		(model, messages, max tokens, temperature, and a JSON schema as
 *		response_format where enabled), runs them through http.c, parses the
 *		answers with cJSON (leniently: code fences and text around a JSON
 *		object are tolerated), and records every call in recgen.llm_calls.
 *
 * SQL surface: recgen.llm_chat(requests jsonb, raise_on_error boolean)
 * takes an array of requests and returns an array of results in the same
 * order; the requests run concurrently (recgen.llm_concurrency). The
 * content functions (sql/idempotent/6*.sql) are its only callers; the
 * background workers run the same batches (LlmBatchPrepare, then http.c
 * across their event loop, then LlmBatchFinish and LlmBatchResults). Bounds
 * no caller can raise (superuser settings): max_tokens of a request
 * (recgen.llm_token_limit), requests per call (recgen.llm_max_requests),
 * requests in flight per call (recgen.llm_max_concurrency) and per role
 * across sessions (recgen.llm_role_max_inflight, llm_limits.c).
 *
 * llm_calls rows are written in the caller's transaction, after every
 * request of the batch has ended and before any error is raised, through
 * call_log.c: when that transaction (or a subtransaction) rolls back, for
 * instance because a failed call raised an ERROR with raise_on_error set,
 * the rows are written back later (the next llm_chat in the database
 * starts with that). A failed call also gets a LOG line with status,
 * attempts and latency (never the key, the URL's credentials or the
 * prompt).
 *
 * cJSON allocates with malloc: every cJSON tree is freed in PG_FINALLY
 * blocks so an ERROR (bad input, cancel) cannot leak it.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/llm.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <cjson/cJSON.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "http.h"
#include "llm.h"
#include "llm_limits.h"
#include "recgen.h"


/*
 * llm_api_key
 *		The API key: recgen.llm_api_key, else the first line of
 *		recgen.llm_api_key_file, else NULL. The key is never logged.
 */
static char *
llm_api_key(void)
{
	FILE	   *f;
	char		buf[1024];
	int			len;

	if (recgen_llm_api_key && recgen_llm_api_key[0])
		return recgen_llm_api_key;
	if (recgen_llm_api_key_file == NULL || recgen_llm_api_key_file[0] == '\0')
		return NULL;
	f = AllocateFile(recgen_llm_api_key_file, "r");
	if (f == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("could not read the file named by recgen.llm_api_key_file")));
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	FreeFile(f);
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
					   buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		buf[--len] = '\0';
	return len > 0 ? pstrdup(buf) : NULL;
}

/*
 * llm_ordered_schema
 *		A copy of a JSON schema whose "properties" follow the order of its
 *		"required" array. jsonb sorts object keys, and grammar-constrained
 *		servers (llama.cpp) generate properties in the order the schema
 *		lists them: without this an email would be written call to action
 *		first, which small models handle badly.
 */
static cJSON *
llm_ordered_schema(cJSON *schema)
{
	cJSON	   *copy = cJSON_Duplicate(schema, true);
	cJSON	   *props = cJSON_GetObjectItemCaseSensitive(copy, "properties");
	cJSON	   *required = cJSON_GetObjectItemCaseSensitive(copy, "required");
	cJSON	   *ordered;
	cJSON	   *name;

	if (!cJSON_IsObject(props) || !cJSON_IsArray(required))
		return copy;
	ordered = cJSON_CreateObject();
	cJSON_ArrayForEach(name, required)
	{
		cJSON	   *p;

		if (!cJSON_IsString(name))
			continue;
		p = cJSON_DetachItemFromObjectCaseSensitive(props, name->valuestring);
		if (p)
			cJSON_AddItemToObject(ordered, name->valuestring, p);
	}
	/* properties not listed as required keep their order, after */
	while (props->child)
	{
		cJSON	   *p = props->child;
		char	   *key = p->string;

		cJSON_DetachItemViaPointer(props, p);
		cJSON_AddItemToObject(ordered, key, p);
	}
	cJSON_ReplaceItemInObjectCaseSensitive(copy, "properties", ordered);
	return copy;
}

/*
 * llm_request_model
 *		The model a request names ("model", as jobs pin it), else
 *		recgen.llm_model.
 */
static const char *
llm_request_model(cJSON *in)
{
	cJSON	   *model = cJSON_GetObjectItemCaseSensitive(in, "model");

	if (cJSON_IsString(model) && model->valuestring[0] != '\0')
		return model->valuestring;
	return recgen_llm_model ? recgen_llm_model : "";
}

/*
 * llm_build_body
 *		The chat-completions body of one request object of the input array:
 *		{"messages": [...], "max_tokens"?, "temperature"?, "schema"?,
 *		 "schema_name"?}. Returns a palloc'd string.
 */
static char *
llm_build_body(cJSON *in)
{
	cJSON	   *body = cJSON_CreateObject();
	cJSON	   *messages = cJSON_GetObjectItemCaseSensitive(in, "messages");
	cJSON	   *max_tokens = cJSON_GetObjectItemCaseSensitive(in, "max_tokens");
	cJSON	   *temperature = cJSON_GetObjectItemCaseSensitive(in, "temperature");
	cJSON	   *schema = cJSON_GetObjectItemCaseSensitive(in, "schema");
	cJSON	   *schema_name = cJSON_GetObjectItemCaseSensitive(in, "schema_name");
	double		tokens;
	char	   *printed;
	char	   *result;

	if (!cJSON_IsArray(messages) || cJSON_GetArraySize(messages) == 0)
	{
		cJSON_Delete(body);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an LLM request needs a non-empty \"messages\" array")));
	}
	tokens = cJSON_IsNumber(max_tokens) ? max_tokens->valuedouble : recgen_llm_max_tokens;
	if (!(tokens >= 1 && tokens <= recgen_llm_token_limit) || tokens != (int) tokens)
	{
		cJSON_Delete(body);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an LLM request may ask for 1 to %d tokens, not %g",
						recgen_llm_token_limit, tokens),
				 errhint("recgen.llm_token_limit (a superuser setting) bounds max_tokens.")));
	}
	cJSON_AddStringToObject(body, "model", llm_request_model(in));
	cJSON_AddItemToObject(body, "messages", cJSON_Duplicate(messages, true));
	cJSON_AddNumberToObject(body, "max_tokens", tokens);
	cJSON_AddNumberToObject(body, "temperature",
							cJSON_IsNumber(temperature) ? temperature->valuedouble : recgen_llm_temperature);
	cJSON_AddFalseToObject(body, "stream");
	if (recgen_llm_json_schema && cJSON_IsObject(schema))
	{
		cJSON	   *rf = cJSON_AddObjectToObject(body, "response_format");
		cJSON	   *js;

		cJSON_AddStringToObject(rf, "type", "json_schema");
		js = cJSON_AddObjectToObject(rf, "json_schema");
		cJSON_AddStringToObject(js, "name",
								cJSON_IsString(schema_name) ? schema_name->valuestring : "content");
		cJSON_AddTrueToObject(js, "strict");
		cJSON_AddItemToObject(js, "schema", llm_ordered_schema(schema));
	}
	printed = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if (printed == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not build an LLM request")));
	result = pstrdup(printed);
	cJSON_free(printed);
	return result;
}

/*
 * LlmExtractJson
 *		Find a JSON object in a model's text: the whole text, else the part
 *		inside ``` fences, else from the first '{' to the last '}'. Returns
 *		the object printed compactly (palloc'd), or NULL.
 */
static char *
LlmExtractJson(const char *text)
{
	const char *start = strchr(text, '{');
	const char *end = strrchr(text, '}');
	cJSON	   *obj;
	char	   *printed;
	char	   *result;

	if (start == NULL || end == NULL || end < start)
		return NULL;
	obj = cJSON_ParseWithLength(start, end - start + 1);
	if (obj == NULL || !cJSON_IsObject(obj))
	{
		cJSON_Delete(obj);
		return NULL;
	}
	printed = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	if (printed == NULL)
		return NULL;
	result = pstrdup(printed);
	cJSON_free(printed);
	return result;
}

/*
 * llm_parse_answer
 *		Read content, usage and timings from a 2xx answer.
 */
static void
llm_parse_answer(HttpRequest *req, LlmCall *call)
{
	cJSON	   *root = cJSON_ParseWithLength(req->response.data, req->response.len);

	PG_TRY();
	{
		cJSON	   *choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
		cJSON	   *choice = cJSON_GetArrayItem(choices, 0);
		cJSON	   *message = cJSON_GetObjectItemCaseSensitive(choice, "message");
		cJSON	   *content = cJSON_GetObjectItemCaseSensitive(message, "content");
		cJSON	   *finish = cJSON_GetObjectItemCaseSensitive(choice, "finish_reason");
		cJSON	   *usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
		cJSON	   *timings = cJSON_GetObjectItemCaseSensitive(root, "timings");
		cJSON	   *v;

		if (root == NULL)
			call->error = "the answer is not valid JSON";
		else if (!cJSON_IsString(content))
			call->error = "the answer has no choices[0].message.content";
		else
		{
			call->ok = true;
			call->content = pstrdup(content->valuestring);
			call->json = LlmExtractJson(call->content);
			if (cJSON_IsString(finish))
				call->finish_reason = pstrdup(finish->valuestring);
		}
		v = cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens");
		if (cJSON_IsNumber(v))
			call->prompt_tokens = v->valueint;
		v = cJSON_GetObjectItemCaseSensitive(usage, "completion_tokens");
		if (cJSON_IsNumber(v))
			call->completion_tokens = v->valueint;
		call->server_ms = -1;
		if (cJSON_IsObject(timings))
		{
			cJSON	   *p = cJSON_GetObjectItemCaseSensitive(timings, "prompt_ms");
			cJSON	   *g = cJSON_GetObjectItemCaseSensitive(timings, "predicted_ms");

			if (cJSON_IsNumber(p) && cJSON_IsNumber(g))
				call->server_ms = p->valuedouble + g->valuedouble;
		}
	}
	PG_FINALLY();
	{
		cJSON_Delete(root);
	}
	PG_END_TRY();
}

/*
 * llm_outcome_name
 *		The status word stored in recgen.llm_calls.outcome.
 */
static const char *
llm_outcome_name(HttpRequest *req, LlmCall *call)
{
	switch (req->outcome)
	{
		case HTTP_OK:
			return call->ok ? "ok" : "bad_reply";
		case HTTP_STATUS_ERROR:
			return "http_error";
		case HTTP_TIMEOUT:
			return "timeout";
		case HTTP_TRANSPORT_ERROR:
			return "connection_error";
		case HTTP_RATE_LIMITED:
			/* never sent, so never logged; the worker snoozes its job */
			return "interrupted";
	}
	return "unknown";
}

/*
 * llm_log_calls
 *		One recgen.llm_calls row per request, through call_log.c (which
 *		keeps them across a rollback); remembers the call ids.
 */
static void
llm_log_calls(HttpRequest *reqs, LlmCall *calls, int n)
{
	CallRecord *recs = palloc0(sizeof(CallRecord) * Max(n, 1));
	int64	   *ids = palloc(sizeof(int64) * Max(n, 1));
	int		   *which = palloc(sizeof(int) * Max(n, 1));
	int			nsent = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		CallRecord *r = &recs[nsent];

		if (reqs[i].attempts == 0)
			continue;			/* never sent (a rate limit held it back) */
		which[nsent++] = i;
		r->called_at = reqs[i].started;
		r->customer_id = calls[i].customer_id;
		r->has_customer = calls[i].has_customer;
		r->http_status = (int32) reqs[i].status;
		r->attempts = reqs[i].attempts;
		r->latency_ms = reqs[i].latency_ms;
		r->server_ms = calls[i].server_ms;
		r->prompt_tokens = calls[i].prompt_tokens;
		r->completion_tokens = calls[i].completion_tokens;
		CallRecordSetText(r->purpose, sizeof(r->purpose), calls[i].purpose);
		CallRecordSetText(r->model, sizeof(r->model), calls[i].model);
		CallRecordSetText(r->outcome, sizeof(r->outcome), llm_outcome_name(&reqs[i], &calls[i]));
		CallRecordSetText(r->finish_reason, sizeof(r->finish_reason), calls[i].finish_reason);
		CallRecordSetText(r->error, sizeof(r->error), calls[i].error);
	}
	CallLogWrite(recs, nsent, ids);
	for (i = 0; i < nsent; i++)
		calls[which[i]].call_id = ids[i];
	pfree(recs);
	pfree(ids);
	pfree(which);
}

/*
 * llm_keep_interrupted
 *		HttpPerformAll was interrupted (cancel, statement_timeout, an error):
 *		every request it had sent gets a row with the outcome "interrupted"
 *		and the time it ran, put straight into call_log's ring. Runs while
 *		the error propagates: nothing here allocates.
 */
static void
llm_keep_interrupted(HttpRequest *reqs, LlmCall *calls, int n)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		CallRecord	r;

		if (!HttpRequestStarted(&reqs[i]))
			continue;
		memset(&r, 0, sizeof(r));
		r.called_at = reqs[i].started;
		r.customer_id = calls[i].customer_id;
		r.has_customer = calls[i].has_customer;
		r.http_status = (int32) reqs[i].status;
		r.attempts = reqs[i].attempts;
		r.latency_ms = HttpRequestElapsedMs(&reqs[i]);
		r.server_ms = -1;
		CallRecordSetText(r.purpose, sizeof(r.purpose), calls[i].purpose);
		CallRecordSetText(r.model, sizeof(r.model), calls[i].model);
		CallRecordSetText(r.outcome, sizeof(r.outcome), "interrupted");
		CallRecordSetText(r.error, sizeof(r.error), "the statement was cancelled or failed before the answer was read");
		CallLogKeep(&r);
	}
}

/*
 * llm_raise
 *		Report a failed call: CONNECTION_FAILURE for transport errors and
 *		timeouts, EXTERNAL_ROUTINE_EXCEPTION for a bad reply, with the HTTP
 *		status in the detail.
 */
static void
llm_raise(HttpRequest *req, LlmCall *call)
{
	if (req->outcome == HTTP_TRANSPORT_ERROR || req->outcome == HTTP_TIMEOUT)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("LLM request failed: %s", req->error),
				 errdetail("%d attempt(s) over %.0f ms.", req->attempts, req->latency_ms),
				 errhint("Check recgen.llm_url and that its server is running. The local server "
						 "that make demo sets up starts with \"tools/llm-server.sh start\" in the "
						 "recgen source folder.")));
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("LLM server gave an unusable answer: %s", call->error ? call->error : req->error),
			 errdetail("HTTP status %ld after %d attempt(s).", req->status, req->attempts)));
}

/*
 * LlmBatchPrepare
 *		Parse an array of chat requests (llm_chat's input) and build the
 *		HTTP requests, sent to the endpoints of recgen.llm_url; nothing is
 *		sent yet. Everything is allocated in the current memory context.
 */
LlmBatch *
LlmBatchPrepare(const char *requests_json)
{
	LlmBatch   *b = palloc0(sizeof(LlmBatch));
	char	   *key;
	cJSON	   *volatile arr = NULL;
	int			i;

	if (recgen_llm_url == NULL || recgen_llm_url[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("content generation is disabled"),
				 errhint("Set recgen.llm_url to an OpenAI-compatible endpoint.")));
	key = llm_api_key();

	PG_TRY();
	{
		arr = cJSON_Parse(requests_json);
		if (!cJSON_IsArray(arr))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("recgen.llm_chat expects a JSON array of requests")));
		b->n = cJSON_GetArraySize(arr);
		if (b->n > recgen_llm_max_requests)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("recgen.llm_chat was given %d requests; at most %d may be sent at once",
							b->n, recgen_llm_max_requests),
					 errhint("Split the batch, or ask a superuser to raise recgen.llm_max_requests.")));
		b->reqs = palloc0(sizeof(HttpRequest) * Max(b->n, 1));
		b->calls = palloc0(sizeof(LlmCall) * Max(b->n, 1));
		for (i = 0; i < b->n; i++)
		{
			cJSON	   *item = cJSON_GetArrayItem(arr, i);
			cJSON	   *purpose = cJSON_GetObjectItemCaseSensitive(item, "purpose");
			cJSON	   *cust = cJSON_GetObjectItemCaseSensitive(item, "customer_id");
			cJSON	   *max_tokens = cJSON_GetObjectItemCaseSensitive(item, "max_tokens");
			LlmCall    *call = &b->calls[i];
			HttpRequest *req = &b->reqs[i];

			req->url = NULL;	/* an endpoint of recgen.llm_url, per attempt */
			req->path = "chat/completions";
			req->bearer = key;
			req->body = llm_build_body(item);
			req->est_tokens = strlen(req->body) / 4 +
				(cJSON_IsNumber(max_tokens) ? (int) max_tokens->valuedouble : recgen_llm_max_tokens);
			call->purpose = pstrdup(cJSON_IsString(purpose) ? purpose->valuestring : "chat");
			call->has_customer = cJSON_IsNumber(cust);
			call->customer_id = cJSON_IsNumber(cust) ? (int64) cust->valuedouble : 0;
			call->model = pstrdup(llm_request_model(item));
		}
	}
	PG_FINALLY();
	{
		cJSON_Delete(arr);
	}
	PG_END_TRY();
	return b;
}

/*
 * LlmBatchFinish
 *		Every request of the batch ended: parse the answers, write their
 *		llm_calls rows (in the current transaction, kept across a rollback
 *		by call_log.c) and LOG the failed ones. Once.
 */
void
LlmBatchFinish(LlmBatch *b)
{
	int			i;

	if (b->finished)
		return;
	for (i = 0; i < b->n; i++)
	{
		if (b->reqs[i].outcome == HTTP_OK)
			llm_parse_answer(&b->reqs[i], &b->calls[i]);
		else
		{
			b->calls[i].error = b->reqs[i].error;
			b->calls[i].server_ms = -1;
		}
		HttpChargeTokens(&b->reqs[i], b->calls[i].prompt_tokens + b->calls[i].completion_tokens);
	}
	llm_log_calls(b->reqs, b->calls, b->n);
	b->finished = true;

	for (i = 0; i < b->n; i++)
		if (!b->calls[i].ok)
			ereport(LOG,
					(errmsg("recgen: LLM call %lld (%s) failed: %s",
							(long long) b->calls[i].call_id, b->calls[i].purpose,
							b->calls[i].error ? b->calls[i].error : "unknown error"),
					 errdetail("HTTP status %ld, %d attempt(s), %.0f ms.",
							   b->reqs[i].status, b->reqs[i].attempts, b->reqs[i].latency_ms)));
}

/*
 * LlmBatchResults
 *		The results of a finished batch, in order (what llm_chat returns).
 */
Jsonb *
LlmBatchResults(LlmBatch *b)
{
	StringInfoData out;
	int			i;

	initStringInfo(&out);
	appendStringInfoChar(&out, '[');
	for (i = 0; i < b->n; i++)
	{
		LlmCall    *c = &b->calls[i];
		HttpRequest *req = &b->reqs[i];

		if (i > 0)
			appendStringInfoChar(&out, ',');
		appendStringInfo(&out, "{\"call_id\":" INT64_FORMAT ",\"ok\":%s,\"outcome\":",
						 c->call_id, c->ok ? "true" : "false");
		escape_json(&out, llm_outcome_name(req, c));
		appendStringInfo(&out, ",\"status\":%ld,\"attempts\":%d,\"latency_ms\":%.3f",
						 req->status, req->attempts, req->latency_ms);
		appendStringInfo(&out, ",\"prompt_tokens\":%d,\"completion_tokens\":%d",
						 c->prompt_tokens, c->completion_tokens);
		if (req->retry_after_ms >= 0 && req->outcome != HTTP_OK)
			appendStringInfo(&out, ",\"retry_after_ms\":%ld", req->retry_after_ms);
		appendStringInfoString(&out, ",\"content\":");
		if (c->content)
			escape_json(&out, c->content);
		else
			appendStringInfoString(&out, "null");
		appendStringInfo(&out, ",\"json\":%s", c->json ? c->json : "null");
		appendStringInfoString(&out, ",\"finish_reason\":");
		if (c->finish_reason)
			escape_json(&out, c->finish_reason);
		else
			appendStringInfoString(&out, "null");
		appendStringInfoString(&out, ",\"error\":");
		if (c->error)
			escape_json(&out, c->error);
		else
			appendStringInfoString(&out, "null");
		appendStringInfoChar(&out, '}');
	}
	appendStringInfoChar(&out, ']');
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}

/*
 * LlmBatchInterrupted
 *		The batch was stopped before it ended (cancel, an error, a worker
 *		stopping): rows for the requests that were sent go to call_log's
 *		ring. Nothing here allocates.
 */
void
LlmBatchInterrupted(LlmBatch *b)
{
	if (!b->finished)
		llm_keep_interrupted(b->reqs, b->calls, b->n);
	b->finished = true;
}

/*
 * recgen_llm_chat
 *		recgen.llm_chat(requests jsonb, raise_on_error boolean) -> jsonb
 *		Run an array of chat requests concurrently; see the file header.
 */
PG_FUNCTION_INFO_V1(recgen_llm_chat);
Datum
recgen_llm_chat(PG_FUNCTION_ARGS)
{
	Jsonb	   *in = PG_GETARG_JSONB_P(0);
	bool		raise_on_error = PG_GETARG_BOOL(1);
	char	   *in_text = JsonbToCString(NULL, &in->root, VARSIZE(in));
	LlmBatch   *b;
	int			inflight;
	int			i;

	CallLogFlush();				/* rows of earlier calls that rolled back */
	b = LlmBatchPrepare(in_text);

	/* in flight: what the caller asks, within the superuser's bounds */
	inflight = LlmAcquireSlots(Min(Min(recgen_llm_concurrency, recgen_llm_max_concurrency), Max(b->n, 1)));
	PG_TRY();
	{
		HttpPerformAll(b->reqs, b->n, inflight);
	}
	PG_CATCH();
	{
		LlmReleaseSlots();
		LlmBatchInterrupted(b);
		PG_RE_THROW();
	}
	PG_END_TRY();
	LlmReleaseSlots();
	LlmBatchFinish(b);

	if (raise_on_error)
		for (i = 0; i < b->n; i++)
			if (!b->calls[i].ok)
				llm_raise(&b->reqs[i], &b->calls[i]);

	PG_RETURN_JSONB_P(LlmBatchResults(b));
}
