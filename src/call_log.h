/*-------------------------------------------------------------------------
 *
 * call_log.h
 *		The rows of recgen.llm_calls as fixed-size records, and the log that
 *		keeps them across rollbacks (call_log.c).
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/call_log.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_CALL_LOG_H
#define RECGEN_CALL_LOG_H

#include "datatype/timestamp.h"

/* Rows a rollback can hand to the shared ring before the oldest are dropped */
#define RECGEN_CALL_RING 512

/*
 * One recgen.llm_calls row. Fixed size, so it can be copied into shared
 * memory in the abort path without allocating; texts are cut at a character
 * boundary (the purposes are short words, model names fit in 127 bytes, an
 * error message keeps its first 255). An empty finish_reason or error stands for NULL, and so do
 * http_status 0 and a negative server_ms.
 */
typedef struct CallRecord
{
	Oid			dbid;			/* database whose recgen.llm_calls it belongs in */
	Oid			roleid;			/* role that made the call (the outer user) */
	TimestampTz called_at;
	int64		customer_id;
	bool		has_customer;
	int32		http_status;
	int32		attempts;
	int32		prompt_tokens;
	int32		completion_tokens;
	double		latency_ms;
	double		server_ms;
	char		purpose[32];
	char		model[128];
	char		outcome[24];
	char		finish_reason[24];
	char		error[256];
} CallRecord;

/* The ring in shared memory (part of RecgenSharedState; see shmem.c) */
typedef struct CallRing
{
	int			head;			/* oldest row */
	int			count;
	uint64		dropped;		/* rows lost to a full ring since start-up */
	CallRecord	rows[RECGEN_CALL_RING];
} CallRing;

extern void CallRecordSetText(char *dst, size_t size, const char *src);
extern void CallLogWrite(CallRecord *recs, int n, int64 *ids);

/*
 * CallLogFlush writes back the waiting rows of this database that the
 * current role made (every role's for a superuser, as the background
 * workers run), into the current transaction; returns how many.
 */
extern int	CallLogFlush(void);
extern void CallLogKeep(const CallRecord *rec);

#endif							/* RECGEN_CALL_LOG_H */
