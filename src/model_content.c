/*-------------------------------------------------------------------------
 *
 * model_content.c
 *		Content neighbours for the model refresh: TF-IDF cosine over a
 *		product's category, tags and the words of its name and description,
 *		so that new and rarely bought items have neighbours too.
 *
 * Tokens are "c:<category>", "t:<tag>" and "w:<word>"; a product holds
 * each token once (binary term frequency) weighted by idf = ln(N / df).
 * Tokens held by a single product say nothing about similarity, and
 * tokens held by more than recgen.model_content_max_df of the products
 * cost quadratic time for little information: both are skipped (the
 * share is floored at 50 products, so small catalogs keep their common
 * words). For each product the dot products with every product sharing
 * a token are accumulated in a dense array (inverted index, no pair
 * table) and the recgen.model_neighbors best are kept.
 *
 * Words are runs of letters and digits, by character: the texts arrive
 * lower-cased by the database's lower() (model_refresh.c), so case
 * follows the database's collation, and are split here after conversion
 * to UTF-8 (a no-op in a UTF-8 database). An ASCII character is a word
 * character when it is a letter or digit; any other character unless
 * the C library's wide-character classes (the database's LC_CTYPE) call
 * it punctuation or space, so "müsli" stays one word in every locale.
 * Words of three characters or more count, a few stop words left out.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/model_content.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <wctype.h>

#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"

#include "engine.h"
#include "model_build.h"
#include "neighbor_acc.h"

#define TOKEN_LEN 48
/* tokens of one product at the most (tags at most half of them) */
#define PRODUCT_TOKENS 512

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
 * token_id
 *		Id of the token prefix + the UTF-8 word of len bytes, created on
 *		first sight; a long word is cut at a character boundary.
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
	if (len > TOKEN_LEN - plen - 1)
		len = pg_encoding_mbcliplen(PG_UTF8, word, len, TOKEN_LEN - plen - 1);
	memcpy(key + plen, word, len);
	e = hash_search(tokens, key, HASH_ENTER, &found);
	if (!found)
		e->id = (*ntokens)++;
	return e->id;
}

/*
 * is_stop_word
 *		Whether a (lower-case) word of len bytes is a stop word.
 */
static bool
is_stop_word(const char *w, int len)
{
	for (int i = 0; stop_words[i]; i++)
		if ((int) strlen(stop_words[i]) == len && memcmp(stop_words[i], w, len) == 0)
			return true;
	return false;
}

/*
 * word_char
 *		Byte length of the character at p (< end) and whether it belongs to
 *		a word (see the file header). Bytes that are no valid UTF-8 count
 *		one at a time, as word characters.
 */
static inline int
word_char(const unsigned char *p, const unsigned char *end, bool *is_word)
{
	int			l;
	pg_wchar	cp;

	if (*p < 0x80)
	{
		*is_word = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9');
		return 1;
	}
	l = pg_utf_mblen(p);
	if (l > end - p || !pg_utf8_islegal(p, l))
	{
		*is_word = true;
		return 1;
	}
	cp = utf8_to_unicode(p);
	*is_word = !iswspace((wint_t) cp) && !iswpunct((wint_t) cp);
	return l;
}

/*
 * content_words
 *		Append to out (room for max - *m more) the token ids of the words
 *		of a lower-cased UTF-8 text.
 */
static void
content_words(HTAB *tokens, const char *text, int32 *ntokens, int32 *out, int *m, int max)
{
	const unsigned char *p = (const unsigned char *) text;
	const unsigned char *end = p + strlen(text);

	while (p < end && *m < max)
	{
		const unsigned char *s;
		int			nchars = 0;
		bool		is_word;
		int			l;

		/* skip to the next word */
		while (p < end && (l = word_char(p, end, &is_word)) > 0 && !is_word)
			p += l;
		s = p;
		while (p < end && (l = word_char(p, end, &is_word)) > 0 && is_word)
		{
			p += l;
			nchars++;
		}
		if (nchars >= 3 && !is_stop_word((const char *) s, p - s))
			out[(*m)++] = token_id(tokens, "w:", (const char *) s, p - s, ntokens);
	}
}

/*
 * utf8_of
 *		A server-encoded string in UTF-8 (itself in a UTF-8 or SQL_ASCII
 *		database).
 */
static char *
utf8_of(char *s)
{
	if (s == NULL || GetDatabaseEncoding() == PG_UTF8)
		return s;
	return pg_server_to_any(s, strlen(s), PG_UTF8);
}

static int
cmp_int32(const void *a, const void *b)
{
	int32		x = *(const int32 *) a,
				y = *(const int32 *) b;

	return (x > y) - (x < y);
}

/*
 * tokenize
 *		Every product's distinct token ids, as compressed rows: the tokens
 *		of product i are tok[tstart[i] .. tstart[i + 1]). Returns the
 *		number of distinct tokens.
 */
static int32
tokenize(ModelBuild *mb, int64 *tstart, int32 **tok_out, int64 *ntok_out)
{
	int			nitems = mb->items.nitems;
	HASHCTL		ctl;
	HTAB	   *tokens;
	int32		ntokens = 0;
	int64		cap = 1024,
				ntok = 0;
	int32	   *tok = palloc(sizeof(int32) * cap);

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = TOKEN_LEN;
	ctl.entrysize = sizeof(TokenEntry);
	ctl.hcxt = CurrentMemoryContext;
	tokens = hash_create("recgen content tokens", 1024, &ctl,
						 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	tstart[0] = 0;
	for (int i = 0; i < nitems; i++)
	{
		int32		local[PRODUCT_TOKENS];
		int			m = 0;

		ModelCheckpoint(mb, i);
		if (mb->category[i])
		{
			char	   *c = utf8_of(mb->category[i]);

			local[m++] = token_id(tokens, "c:", c, strlen(c), &ntokens);
		}
		if (mb->tags[i])
		{
			Datum	   *elems;
			bool	   *enulls;
			int			nelems;

			deconstruct_array(mb->tags[i], TEXTOID, -1, false, TYPALIGN_INT,
							  &elems, &enulls, &nelems);
			for (int k = 0; k < nelems && m < PRODUCT_TOKENS / 2; k++)
				if (!enulls[k])
				{
					char	   *t = utf8_of(TextDatumGetCString(elems[k]));

					local[m++] = token_id(tokens, "t:", t, strlen(t), &ntokens);
				}
		}
		if (mb->doc[i])
			content_words(tokens, utf8_of(mb->doc[i]), &ntokens, local, &m, PRODUCT_TOKENS);
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
	hash_destroy(tokens);
	*tok_out = tok;
	*ntok_out = ntok;
	return ntokens;
}

/*
 * ModelBuildContent
 *		Build content neighbours of every item into mb->sink. Returns the
 *		number of distinct pairs sharing a token.
 */
int64
ModelBuildContent(ModelBuild *mb)
{
	int			nitems = mb->items.nitems;
	int64	   *tstart = palloc0(sizeof(int64) * (nitems + 1));
	int32	   *tok;
	int64		ntok;
	int32		ntokens;
	int32	   *df;
	double	   *idf;
	double	   *inv_norm = palloc0(sizeof(double) * Max(nitems, 1));
	int64	   *pstart;
	int32	   *post;
	int64	   *fill;
	int			max_df = Max((int) (recgen_model_content_max_df * nitems), 50);
	int64		pairs = 0;
	NeighborAcc acc;

	ModelProgress(mb, "content tokens", 0, nitems);
	mb->sink.kind = "content";
	ntokens = tokenize(mb, tstart, &tok, &ntok);

	/* document frequencies, idf and norms */
	df = palloc0(sizeof(int32) * Max(ntokens, 1));
	idf = palloc(sizeof(double) * Max(ntokens, 1));
	for (int64 p = 0; p < ntok; p++)
		df[tok[p]]++;
	for (int t = 0; t < ntokens; t++)
		idf[t] = log((double) nitems / df[t]);
	for (int i = 0; i < nitems; i++)
	{
		double		norm = 0;

		for (int64 p = tstart[i]; p < tstart[i + 1]; p++)
			norm += idf[tok[p]] * idf[tok[p]];
		inv_norm[i] = norm > 0 ? 1.0 / sqrt(norm) : 0;
	}

	/* postings: token -> products */
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

	ModelProgress(mb, "content similarity", 0, nitems);
	NeighborAccInit(&acc, nitems, recgen_model_neighbors, true);
	for (int i = 0; i < nitems; i++)
	{
		if ((i % 1000) == 0)
			ModelProgress(mb, "content similarity", i, nitems);
		if (inv_norm[i] <= 0)
			continue;
		for (int64 p = tstart[i]; p < tstart[i + 1]; p++)
		{
			int32		t = tok[p];
			float4		w = (float4) (idf[t] * idf[t]);

			ModelCheckpoint(mb, i);
			if (df[t] < 2 || df[t] > max_df)
				continue;
			NeighborAccAdd(&acc, post, pstart[t], pstart[t + 1], i, w, true);
		}
		pairs += NeighborAccEmit(&acc, i, inv_norm[i], inv_norm, 0, &mb->sink,
								 mb->items.item_ids);
	}
	NeighborSinkFlush(&mb->sink);
	NeighborAccFree(&acc);
	pfree(tstart);
	pfree(tok);
	pfree(df);
	pfree(idf);
	pfree(inv_norm);
	pfree(pstart);
	pfree(post);
	pfree(fill);
	return pairs;
}
