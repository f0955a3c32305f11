/*-------------------------------------------------------------------------
 *
 * llm_limits.h
 *		LLM requests in flight per role, across sessions (llm_limits.c).
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/llm_limits.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_LLM_LIMITS_H
#define RECGEN_LLM_LIMITS_H

extern int	LlmAcquireSlots(int want);
extern void LlmReleaseSlots(void);

#endif							/* RECGEN_LLM_LIMITS_H */
