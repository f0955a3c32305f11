/*-------------------------------------------------------------------------
 *
 * guc.c
 *		Definitions of recgen's settings (GUCs), all prefixed "recgen.".
 *
 * Contexts follow what a setting can do:
 *	- SUSET for anything that changes where data is sent (the LLM endpoint)
 *	  or how much personal data leaves the database;
 *	- the API key and key file are also GUC_SUPERUSER_ONLY and
 *	  GUC_NO_SHOW_ALL, so non-superusers can neither SHOW them nor find
 *	  them in pg_settings;
 *	- USERSET for per-query knobs (model, timeouts, retries).
 * Every numeric setting has bounds and, where it has one, a unit. Each
 * setting is documented in README.md ("Settings").
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/guc.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"

#include "http.h"
#include "recgen.h"

char	   *recgen_llm_url = NULL;
char	   *recgen_llm_model = NULL;
char	   *recgen_llm_api_key = NULL;
char	   *recgen_llm_api_key_file = NULL;
int			recgen_llm_connect_timeout = 5000;
int			recgen_llm_timeout = 120000;
int			recgen_llm_max_retries = 3;
int			recgen_llm_concurrency = 8;
int			recgen_prompt_personal_data = RECGEN_PII_FIRST_NAME;

static const struct config_enum_entry personal_data_options[] = {
	{"none", RECGEN_PII_NONE, false},
	{"first_name", RECGEN_PII_FIRST_NAME, false},
	{"full_name", RECGEN_PII_FULL_NAME, false},
	{NULL, 0, false}
};

/*
 * check_llm_url
 *		Accept only http:// and https:// URLs, one or several separated by
 *		commas (one model behind several servers, http_endpoints.c), or the
 *		empty string, which disables generation, so a typo fails at SET
 *		time rather than at the first request.
 */
static bool
check_llm_url(char **newval, void **extra, GucSource source)
{
	char	   *detail = NULL;

	if (!EndpointCheckList(*newval, &detail))
	{
		GUC_check_errdetail("%s", detail);
		return false;
	}
	return true;
}

/*
 * RecgenDefineGucs
 *		Define the general recgen.* settings. Called from _PG_init whether or
 *		not the library is preloaded; subsystems with settings of their own
 *		define them beside this call.
 */
void
RecgenDefineGucs(void)
{
	DefineCustomStringVariable("recgen.llm_url",
							   "Base URL of the OpenAI-compatible LLM server, or several separated by commas.",
							   "The client posts to <url>/chat/completions, spreading requests over the URLs. Empty disables generation.",
							   &recgen_llm_url,
							   "http://127.0.0.1:8631/v1",
							   PGC_SUSET,
							   0,
							   check_llm_url, NULL, NULL);

	DefineCustomStringVariable("recgen.llm_model",
							   "Model name sent to the LLM server.",
							   NULL,
							   &recgen_llm_model,
							   "qwen2.5-coder-1.5b-instruct",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("recgen.llm_api_key",
							   "API key sent as a bearer token to the LLM server.",
							   "Visible to superusers only; prefer recgen.llm_api_key_file.",
							   &recgen_llm_api_key,
							   "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("recgen.llm_api_key_file",
							   "File holding the API key for the LLM server.",
							   "Read by the server process; used when recgen.llm_api_key is empty.",
							   &recgen_llm_api_key_file,
							   "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.llm_connect_timeout",
							"Time allowed to connect to the LLM server.",
							NULL,
							&recgen_llm_connect_timeout,
							5000, 100, 600000,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.llm_timeout",
							"Time allowed for one LLM request, transfer included.",
							"LLM answers take tens of seconds; statement_timeout and query cancel still interrupt sooner.",
							&recgen_llm_timeout,
							120000, 100, 3600000,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.llm_max_retries",
							"Retries of an LLM request after a 429, a 5xx or a connection error.",
							NULL,
							&recgen_llm_max_retries,
							3, 0, 20,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.llm_concurrency",
							"Maximum LLM requests in flight for one batch call.",
							NULL,
							&recgen_llm_concurrency,
							8, 1, 256,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomEnumVariable("recgen.prompt_personal_data",
							 "How much of a customer's name a prompt context may carry.",
							 "none, first_name (default) or full_name. E-mail addresses and phone numbers never do.",
							 &recgen_prompt_personal_data,
							 RECGEN_PII_FIRST_NAME,
							 personal_data_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

}
