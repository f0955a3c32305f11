/*-------------------------------------------------------------------------
 *
 * topk.c
 *		The bounded min-heap of the neighbour builders (topk.h): the worst
 *		kept entry at the root, so an offer that does not make the cut
 *		costs one comparison.
 *
 * Order: a higher score is better; at equal scores a lower item index,
 * so results do not depend on the order entries are offered in.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/topk.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "topk.h"

/*
 * TopKInit
 *		An empty heap keeping the k best entries.
 */
void
TopKInit(TopK *top, int k)
{
	top->k = k;
	top->n = 0;
	top->e = palloc(sizeof(TopKEntry) * Max(k, 1));
}

/* heap order: the worst entry at the root; a lower score, or at equal
 * scores a higher item index, is worse */
static inline bool
topk_worse(const TopKEntry *a, const TopKEntry *b)
{
	if (a->score != b->score)
		return a->score < b->score;
	return a->item > b->item;
}

/*
 * topk_sift_down
 *		Place x in the heap of n entries starting at the hole i, moving
 *		worse children up (no swaps).
 */
static void
topk_sift_down(TopKEntry *heap, int n, int i, TopKEntry x)
{
	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && topk_worse(&heap[c + 1], &heap[c]))
			c++;
		if (!topk_worse(&heap[c], &x))
			break;
		heap[i] = heap[c];
		i = c;
	}
	heap[i] = x;
}

/*
 * TopKPush
 *		Offer an entry; it is kept if it is among the k best so far.
 */
void
TopKPush(TopK *top, float4 score, int32 item, float4 support)
{
	TopKEntry	x;

	if (!(score > 0) || top->k <= 0)
		return;
	x.score = score;
	x.item = item;
	x.support = support;
	if (top->n < top->k)
	{
		int			i = top->n++;

		/* sift up from the new hole */
		while (i > 0 && topk_worse(&x, &top->e[(i - 1) / 2]))
		{
			top->e[i] = top->e[(i - 1) / 2];
			i = (i - 1) / 2;
		}
		top->e[i] = x;
		return;
	}
	if (!topk_worse(&top->e[0], &x))
		return;
	topk_sift_down(top->e, top->n, 0, x);
}

/*
 * TopKSort
 *		Order the kept entries best first (destroys the heap property).
 */
void
TopKSort(TopK *top)
{
	/* heap sort: repeatedly move the worst to the end */
	for (int n = top->n; n > 1; n--)
	{
		TopKEntry	last = top->e[n - 1];

		top->e[n - 1] = top->e[0];
		topk_sift_down(top->e, n - 1, 0, last);
	}
}
