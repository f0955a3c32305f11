/*-------------------------------------------------------------------------
 *
 * job_values.c
 *		Small readers the steps of a job share: a key of a handler's jsonb
 *		answer (as jsonb or as text) and the time left of an attempt. Kept
 *		apart so that job_exec.c, job_actions.c and job_process.c depend on
 *		it one way instead of on each other.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/job_values.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "job_values.h"

/*
 * JobJsonbField
 *		The value of a key of a jsonb object as a jsonb of its own, or NULL
 *		(also for JSON null).
 */
Jsonb *
JobJsonbField(Jsonb *obj, const char *key)
{
	JsonbValue	v;

	if (obj == NULL || !JB_ROOT_IS_OBJECT(obj))
		return NULL;
	if (getKeyJsonValueFromContainer(&obj->root, key, strlen(key), &v) == NULL)
		return NULL;
	if (v.type == jbvNull)
		return NULL;
	return JsonbValueToJsonb(&v);
}

/*
 * JobJsonbText
 *		A string (or any scalar, as text) at key, or NULL.
 */
char *
JobJsonbText(Jsonb *obj, const char *key)
{
	JsonbValue	v;

	if (obj == NULL || !JB_ROOT_IS_OBJECT(obj))
		return NULL;
	if (getKeyJsonValueFromContainer(&obj->root, key, strlen(key), &v) == NULL)
		return NULL;
	switch (v.type)
	{
		case jbvString:
			return pnstrdup(v.val.string.val, v.val.string.len);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v.val.numeric)));
		case jbvBool:
			return pstrdup(v.val.boolean ? "true" : "false");
		default:
			return NULL;
	}
}

/*
 * JobRemainingMs
 *		What is left of the job's time for this attempt.
 */
int64
JobRemainingMs(JobRun *job)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(job->started, job->timeout_ms);
	TimestampTz now = GetCurrentTimestamp();

	if (now >= deadline)
		return 0;
	return (deadline - now) / 1000;
}
