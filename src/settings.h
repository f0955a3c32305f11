/*-------------------------------------------------------------------------
 *
 * settings.h
 *		recgen's general and LLM settings (GUCs) and the functions that
 *		define each group of settings at load time.
 *
 * The engine's own settings are declared in engine.h; every group is
 * defined from _PG_init (recgen.c).
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/settings.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_SETTINGS_H
#define RECGEN_SETTINGS_H

/* How much personal data a prompt context may carry (recgen.prompt_personal_data) */
typedef enum RecgenPersonalData
{
	RECGEN_PII_NONE,			/* no name at all */
	RECGEN_PII_FIRST_NAME,		/* first name only (default) */
	RECGEN_PII_FULL_NAME		/* first and last name */
} RecgenPersonalData;

/* Settings, defined in guc.c */
extern char *recgen_llm_url;
extern char *recgen_llm_model;
extern char *recgen_llm_api_key;
extern char *recgen_llm_api_key_file;
extern int	recgen_llm_connect_timeout;
extern int	recgen_llm_timeout;
extern int	recgen_llm_max_retries;
extern int	recgen_llm_concurrency;
extern int	recgen_prompt_personal_data;

/* Generation settings, defined in llm_guc.c */
extern int	recgen_llm_max_tokens;
extern double recgen_llm_temperature;
extern bool recgen_llm_json_schema;
extern int	recgen_llm_backoff_base;
extern int	recgen_llm_backoff_max;
extern int	recgen_guard_retries;
extern char *recgen_brand;
extern int	recgen_llm_token_limit;
extern int	recgen_llm_max_requests;
extern int	recgen_llm_max_concurrency;
extern int	recgen_llm_role_max_inflight;

/* guc.c */
extern void RecgenDefineGucs(void);

/* llm_guc.c */
extern void RecgenDefineLlmGucs(void);

/* engine_guc.c */
extern void RecgenDefineEngineGucs(void);

#endif							/* RECGEN_SETTINGS_H */
