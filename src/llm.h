/*-------------------------------------------------------------------------
 *
 * llm.h
 *		A batch of chat-completions requests (llm.c), as recgen.llm_chat
 *		runs it in one call and a background worker runs it across its
 *		event loop: prepare, send (http.c), finish (answers parsed, calls
 *		logged), results.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/llm.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_LLM_H
#define RECGEN_LLM_H

#include "http.h"
#include "utils/jsonb.h"

/* What we keep of one request between building it and logging it */
typedef struct LlmCall
{
	char	   *purpose;
	char	   *model;
	int64		customer_id;	/* 0 when none */
	bool		has_customer;
	/* parsed answer */
	bool		ok;
	char	   *content;
	char	   *json;			/* JSON object found in content, or NULL */
	char	   *finish_reason;
	int			prompt_tokens;
	int			completion_tokens;
	double		server_ms;		/* time inside the server, when reported */
	const char *error;
	int64		call_id;
} LlmCall;

typedef struct LlmBatch
{
	int			n;
	HttpRequest *reqs;
	LlmCall    *calls;
	bool		finished;		/* answers parsed and calls logged (or kept) */
} LlmBatch;

extern LlmBatch *LlmBatchPrepare(const char *requests_json);
extern void LlmBatchFinish(LlmBatch *b);
extern Jsonb *LlmBatchResults(LlmBatch *b);
extern void LlmBatchInterrupted(LlmBatch *b);

#endif							/* RECGEN_LLM_H */
