/*-------------------------------------------------------------------------
 *
 * llm_guc.c
 *		Settings of content generation beyond the endpoint ones in guc.c:
 *		generation defaults (max tokens, temperature, JSON schema output),
 *		retry backoff, and how often the guard lets the model try again.
 *
 * The per-request knobs are USERSET: they shape one request, never where
 * data goes (that is recgen.llm_url, SUSET, in guc.c). Templates may
 * override max tokens and temperature per kind of content.
 *
 * SUSET, because a caller must not be able to choose them:
 *	- the bounds of recgen.llm_chat: tokens an answer may be asked for,
 *	  requests per call, requests in flight per call and per role (the
 *	  LLM server's capacity is shared by every role);
 *	- recgen.brand: whose rules (banned phrases, disclaimer) the guard
 *	  applies; set per database (ALTER DATABASE ... SET) or per role by a
 *	  superuser, never by the caller choosing a weaker brand.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/llm_guc.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"

#include "recgen.h"

int			recgen_llm_max_tokens = 256;
double		recgen_llm_temperature = 0.2;
bool		recgen_llm_json_schema = true;
int			recgen_llm_backoff_base = 500;
int			recgen_llm_backoff_max = 30000;
int			recgen_guard_retries = 1;
char	   *recgen_brand = NULL;
int			recgen_llm_token_limit = 4096;
int			recgen_llm_max_requests = 1000;
int			recgen_llm_max_concurrency = 8;
int			recgen_llm_role_max_inflight = 4;

/*
 * RecgenDefineLlmGucs
 *		Define the generation settings. Called from _PG_init.
 */
void
RecgenDefineLlmGucs(void)
{
	DefineCustomIntVariable("recgen.llm_max_tokens",
							"Default maximum number of tokens an LLM answer may have.",
							"A prompt template's own max_tokens takes precedence.",
							&recgen_llm_max_tokens,
							256, 1, 32768,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomRealVariable("recgen.llm_temperature",
							 "Default sampling temperature of LLM requests.",
							 "A prompt template's own temperature takes precedence.",
							 &recgen_llm_temperature,
							 0.2, 0.0, 2.0,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("recgen.llm_json_schema",
							 "Ask the server for JSON constrained by a schema (response_format).",
							 "Turn off for servers that reject response_format; answers are then parsed leniently.",
							 &recgen_llm_json_schema,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.llm_backoff_base",
							"First wait before retrying an LLM request; doubles on every retry, with jitter.",
							"A server's Retry-After is honoured when it asks for longer.",
							&recgen_llm_backoff_base,
							500, 1, 600000,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.llm_backoff_max",
							"Longest wait between two attempts of an LLM request (before Retry-After).",
							NULL,
							&recgen_llm_backoff_max,
							30000, 1, 3600000,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.guard_retries",
							"How many times the model may rewrite an answer the guard rejected.",
							"After these, the content is rendered from a deterministic template and marked as fallback.",
							&recgen_guard_retries,
							1, 0, 5,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("recgen.brand",
							   "Brand (a row of recgen.brands) whose voice and rules content follows.",
							   "Superuser only: set it per database or per role, so callers cannot pick a brand with weaker rules.",
							   &recgen_brand,
							   "default",
							   PGC_SUSET, 0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.llm_token_limit",
							"Most tokens an LLM answer may be asked for in one request.",
							"A request (or template) asking for more is refused. Superuser only.",
							&recgen_llm_token_limit,
							4096, 1, 1000000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.llm_max_requests",
							"Most LLM requests one call of recgen.llm_chat (one batch) may send.",
							"Superuser only.",
							&recgen_llm_max_requests,
							1000, 1, 1000000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.llm_max_concurrency",
							"Most LLM requests one call may have in flight, whatever recgen.llm_concurrency asks.",
							"Superuser only: the LLM server's capacity is shared by every role.",
							&recgen_llm_max_concurrency,
							8, 1, 256,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.llm_role_max_inflight",
							"Most LLM requests one role may have in flight across all its sessions (0: no limit).",
							"Below the LLM server's capacity, so one role cannot take every slot. Superusers are not limited. Superuser only; needs shared_preload_libraries; a call waits while its role has none left.",
							&recgen_llm_role_max_inflight,
							4, 0, 10000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
}
