/*-------------------------------------------------------------------------
 *
 * topk.h
 *		A bounded min-heap keeping the K best (score, item, support)
 *		entries, used by every neighbour builder of the model refresh.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/topk.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_TOPK_H
#define RECGEN_TOPK_H

typedef struct TopKEntry
{
	float4		score;
	int32		item;
	float4		support;
} TopKEntry;

typedef struct TopK
{
	int			k;
	int			n;
	TopKEntry  *e;				/* heap order; best first after TopKSort */
} TopK;

extern void TopKInit(TopK *top, int k);
extern void TopKPush(TopK *top, float4 score, int32 item, float4 support);
extern void TopKSort(TopK *top);

/*
 * TopKOffer
 *		TopKPush, with the common case (a full heap whose worst entry is
 *		better) decided inline, without a call.
 */
static inline void
TopKOffer(TopK *top, float4 score, int32 item, float4 support)
{
	if (top->n == top->k &&
		(score < top->e[0].score || (score == top->e[0].score && item > top->e[0].item)))
		return;
	TopKPush(top, score, item, support);
}

#endif							/* RECGEN_TOPK_H */
