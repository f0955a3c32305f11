/*-------------------------------------------------------------------------
 *
 * model_content.c
 *		Content neighbours for the model refresh: TF-IDF cosine over a
 *		product's category, tags and the words of its name and description,
 *		so that new and rarely bought items have neighbours too.
 *
 * Tokens are "c:<category>", "t:<tag>" and "w:<word>" (lower case, letters
 * and digits, three characters or more, a few stop words left out); a
 * product holds each token once (binary term frequency) weighted by
 * idf = ln(N / df). Tokens held by a single product say nothing about
 * similarity, and tokens held by more than recgen.model_content_max_df of
 * the products cost quadratic time for little information: both are
 * skipped (the share is floored at 50 products, so small catalogs keep
 * their common words). For each product the dot products with every product sharing a
 * token are accumulated in a dense array (inverted index, no pair table)
 * and the recgen.model_neighbors best are kept.
 *
 * Also home of TopK, the bounded min-heap both neighbour builders use.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/model_content.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"

#include "engine.h"

#define TOKEN_LEN 48

typedef struct TokenEntry
{
	char		key[TOKEN_LEN];
	int32		id;
} TokenEntry;

static const char *const stop_words[] = {
	"and", "the", "for", "with", "set", "of", "in", "on", "to", "a", "an", "from",
	"this", "that", "your", "our", "you", "are", "its", "has", "have", "per", NULL
};

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

/*
 * token_id
 *		Id of a token, created on first sight.
 */
static int32
token_id(HTAB *tokens, const char *prefix, const char *word, int len, int32 *ntokens)
{
	char		key[TOKEN_LEN];
	TokenEntry *e;
	bool		found;
	int			plen = strlen(prefix);

	memset(key, 0, sizeof(key));
	memcpy(key, prefix, plen);
	len = Min(len, TOKEN_LEN - plen - 1);
	for (int i = 0; i < len; i++)
		key[plen + i] = (char) tolower((unsigned char) word[i]);
	e = hash_search(tokens, key, HASH_ENTER, &found);
	if (!found)
		e->id = (*ntokens)++;
	return e->id;
}

static bool
is_stop_word(const char *w, int len)
{
	for (int i = 0; stop_words[i]; i++)
		if ((int) strlen(stop_words[i]) == len && pg_strncasecmp(stop_words[i], w, len) == 0)
			return true;
	return false;
}

static int
cmp_int32(const void *a, const void *b)
{
	int32		x = *(const int32 *) a,
				y = *(const int32 *) b;

	return (x > y) - (x < y);
}

/*
 * ModelBuildContent
 *		Build content neighbours for all nitems products and hand them to
 *		the sink. Returns the number of distinct pairs sharing a token.
 */
int64
ModelBuildContent(int nitems, const int64 *item_ids, char **category,
				  ArrayType **tags, char **doc, NeighborSink *sink)
{
	HASHCTL		ctl;
	HTAB	   *tokens;
	int32		ntokens = 0;
	int64	   *tstart = palloc0(sizeof(int64) * (nitems + 1));
	int64		cap = 1024,
				ntok = 0;
	int32	   *tok = palloc(sizeof(int32) * cap);
	int32	   *df;
	double	   *idf;
	double	   *norm = palloc0(sizeof(double) * Max(nitems, 1));
	int64	   *pstart;
	int32	   *post;
	int64	   *fill;
	float4	   *acc = palloc0(sizeof(float4) * Max(nitems, 1));
	float4	   *shared = palloc0(sizeof(float4) * Max(nitems, 1));
	int32	   *touched = palloc(sizeof(int32) * Max(nitems, 1));
	int			max_df = (int) (recgen_model_content_max_df * nitems);
	int64		pairs = 0;
	TopK		top;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = TOKEN_LEN;
	ctl.entrysize = sizeof(TokenEntry);
	ctl.hcxt = CurrentMemoryContext;
	tokens = hash_create("recgen content tokens", 1024, &ctl,
						 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	/* tokenize */
	for (int i = 0; i < nitems; i++)
	{
		int32		local[512];
		int			m = 0;

		if (category[i])
			local[m++] = token_id(tokens, "c:", category[i], strlen(category[i]), &ntokens);
		if (tags[i])
		{
			Datum	   *elems;
			bool	   *enulls;
			int			nelems;

			deconstruct_array(tags[i], TEXTOID, -1, false, TYPALIGN_INT,
							  &elems, &enulls, &nelems);
			for (int k = 0; k < nelems && m < 256; k++)
				if (!enulls[k])
				{
					char	   *t = TextDatumGetCString(elems[k]);

					local[m++] = token_id(tokens, "t:", t, strlen(t), &ntokens);
				}
		}
		if (doc[i])
		{
			const char *p = doc[i];

			while (*p && m < 512)
			{
				const char *s;

				while (*p && !isalnum((unsigned char) *p))
					p++;
				s = p;
				while (*p && isalnum((unsigned char) *p))
					p++;
				if (p - s >= 3 && !is_stop_word(s, p - s))
					local[m++] = token_id(tokens, "w:", s, p - s, &ntokens);
			}
		}
		qsort(local, m, sizeof(int32), cmp_int32);
		for (int k = 0; k < m; k++)
		{
			if (k > 0 && local[k] == local[k - 1])
				continue;
			if (ntok >= cap)
			{
				cap *= 2;
				tok = repalloc_huge(tok, sizeof(int32) * cap);
			}
			tok[ntok++] = local[k];
		}
		tstart[i + 1] = ntok;
	}

	/* document frequencies and idf */
	df = palloc0(sizeof(int32) * Max(ntokens, 1));
	idf = palloc(sizeof(double) * Max(ntokens, 1));
	for (int64 p = 0; p < ntok; p++)
		df[tok[p]]++;
	for (int t = 0; t < ntokens; t++)
		idf[t] = log((double) nitems / df[t]);
	for (int i = 0; i < nitems; i++)
	{
		for (int64 p = tstart[i]; p < tstart[i + 1]; p++)
			norm[i] += idf[tok[p]] * idf[tok[p]];
		norm[i] = sqrt(norm[i]);
	}

	/* postings of the useful tokens */
	pstart = palloc0(sizeof(int64) * (ntokens + 1));
	for (int64 p = 0; p < ntok; p++)
		pstart[tok[p] + 1]++;
	for (int t = 0; t < ntokens; t++)
		pstart[t + 1] += pstart[t];
	post = palloc(sizeof(int32) * Max(ntok, 1));
	fill = palloc(sizeof(int64) * Max(ntokens, 1));
	memcpy(fill, pstart, sizeof(int64) * ntokens);
	for (int i = 0; i < nitems; i++)
		for (int64 p = tstart[i]; p < tstart[i + 1]; p++)
			post[fill[tok[p]]++] = i;

	TopKInit(&top, recgen_model_neighbors);
	for (int i = 0; i < nitems; i++)
	{
		int			ntouched = 0;

		if ((i % 1000) == 0)
			CHECK_FOR_INTERRUPTS();
		if (norm[i] <= 0)
			continue;
		for (int64 p = tstart[i]; p < tstart[i + 1]; p++)
		{
			int32		t = tok[p];
			double		w = idf[t] * idf[t];

			if (df[t] < 2 || df[t] > Max(max_df, 50))
				continue;
			for (int64 q = pstart[t]; q < pstart[t + 1]; q++)
			{
				int32		j = post[q];

				if (j == i)
					continue;
				if (shared[j] == 0)
					touched[ntouched++] = j;
				acc[j] += w;
				shared[j] += 1;
			}
		}
		pairs += ntouched;
		top.n = 0;
		for (int k = 0; k < ntouched; k++)
		{
			int32		j = touched[k];

			if (norm[j] > 0)
				TopKOffer(&top, (float4) (acc[j] / (norm[i] * norm[j])), j, shared[j]);
			acc[j] = 0;
			shared[j] = 0;
		}
		TopKSort(&top);
		NeighborSinkReserve(sink, top.n);
		for (int k = 0; k < top.n; k++)
			NeighborSinkAdd(sink, item_ids[i], item_ids[top.e[k].item],
							top.e[k].score, top.e[k].support);
	}
	NeighborSinkFlush(sink);
	hash_destroy(tokens);
	return pairs;
}
