/*-------------------------------------------------------------------------
 *
 * sentiment.c
 *		recgen.sentiment(text) and recgen.sentiment_detail(text): the VADER
 *		sentiment method (Hutto & Gilbert, 2014), scored in C.
 *
 * The behaviour follows the reference implementation, vaderSentiment 3.3.2,
 * rule for rule and quirk for quirk, so that stored scores agree with what
 * analysts get from the Python package (test/python/test_sentiment_conformance.py
 * compares the two on a generated corpus):
 *
 *	- every emoji code point found in the emoji dictionary is replaced by its
 *	  description, preceded by a space unless a space came before it;
 *	- the text is split on (Unicode) whitespace; each token loses leading and
 *	  trailing ASCII punctuation unless that leaves two code points or fewer
 *	  (so ":)" and "a!" stay as they are);
 *	- lexicon words get their valence; "no" before a lexicon word negates it;
 *	  ALL-CAPS words get emphasis when the text is not all caps; up to three
 *	  preceding non-lexicon words apply boosters/dampeners (scaled 1, 0.95,
 *	  0.9 by distance) and negations (scalar -0.74), including the
 *	  reference's "never so/this" and "without doubt" cases and its habit of
 *	  boosting by 1.25 whenever the word before is "so" or "this" three words
 *	  in; special-case idioms and "kind of"/"sort of" are checked at that
 *	  step; "least" negates unless after "at" or "very";
 *	- a "but" halves the words before it and multiplies those after by 1.5,
 *	  applied through the reference's first-equal-value lookup (a repeated
 *	  valence is rescaled at its first occurrence, possibly several times);
 *	- exclamation marks (up to 4) and two or more question marks add
 *	  emphasis; the sum is normalized with x / sqrt(x^2 + 15) and rounded to
 *	  4 decimals (pos, neu, neg to 3), as the reference does.
 *
 * Case (lower-casing and Python's str.isupper()) is in sentiment_text.c.
 *
 * Speed. The lexicon is hashed once per backend (sentiment_lexicon.c). A
 * call allocates nothing per token: the text, the lower-cased tokens and the
 * per-token arrays live in scratch buffers, kept between calls while they
 * are small (see scratch()), sized exactly from a first pass otherwise.
 * Every step is linear in the text (the "but" rule O(n log n),
 * sentiment_but.c) and checks for interrupts every few thousand words,
 * so a 10 MB post scores in a fraction of a second and a cancel stops
 * it; an error raised meanwhile says which text in its context.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/sentiment.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <stdio.h>

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "sentiment_but.h"
#include "sentiment_lexicon.h"
#include "sentiment_text.h"

#define N_SCALAR (-0.74)
#define C_INCR 0.733

/* One whitespace-separated token of the text */
typedef struct Token
{
	const char *orig;			/* as written (after punctuation stripping) */
	int			olen;
	const char *low;			/* lower-cased */
	int			llen;
	const SentimentWordInfo *info;	/* NULL when no table knows it */
	bool		upper;			/* Python's str.isupper() */
} Token;

/* The scores of one text */
typedef struct SentimentScores
{
	double		compound;
	double		pos;
	double		neu;
	double		neg;
} SentimentScores;

/*
 * Scratch buffers: kept in TopMemoryContext between calls while a text
 * needs at most SCRATCH_KEEP bytes of each (posts are a few hundred
 * bytes), so a scan over many rows does not churn memory; a larger text
 * gets its buffers in a context of its own, deleted when it is scored,
 * so a 10 MB post leaves nothing behind.
 */
#define SCRATCH_KEEP ((Size) 256 * 1024)

typedef enum ScratchKind
{
	SCRATCH_TEXT,				/* the text with emoji replaced */
	SCRATCH_LOW,				/* the lower-cased tokens */
	SCRATCH_TOKENS,				/* Token per token */
	SCRATCH_SENT,				/* valence per token */
	SCRATCH_KINDS
} ScratchKind;

static void *kept_buf[SCRATCH_KINDS];
static Size kept_size[SCRATCH_KINDS];

/*
 * scratch
 *		A buffer of at least need bytes for one call: a kept one when need
 *		is small, else one in *large (created on first use as a child of
 *		the current memory context; the caller deletes it).
 */
static void *
scratch(ScratchKind which, Size need, MemoryContext *large)
{
	need = Max(need, 16);
	if (need <= SCRATCH_KEEP)
	{
		if (kept_buf[which] == NULL || kept_size[which] < need)
		{
			Size		newsize = Min(Max(need, Max(kept_size[which] * 2, 1024)), SCRATCH_KEEP);

			if (kept_buf[which])
				pfree(kept_buf[which]);
			kept_buf[which] = NULL;
			kept_size[which] = 0;
			kept_buf[which] = MemoryContextAlloc(TopMemoryContext, newsize);
			kept_size[which] = newsize;
		}
		return kept_buf[which];
	}
	if (*large == NULL)
		*large = AllocSetContextCreate(CurrentMemoryContext, "recgen sentiment of a long text",
									   ALLOCSET_DEFAULT_SIZES);
	return MemoryContextAllocExtended(*large, need, MCXT_ALLOC_HUGE);
}

/* how often the long loops check for interrupts (a power of two) */
#define INTERRUPT_EVERY 4096

/* ASCII whitespace as Python's str.split() sees it */
static const bool ascii_space[256] = {
	['\t'] = true, ['\n'] = true, ['\v'] = true, ['\f'] = true, ['\r'] = true,
	[0x1C] = true, [0x1D] = true, [0x1E] = true, [0x1F] = true, [' '] = true
};

/*
 * space_len
 *		Byte length of the whitespace character at p (as Python's str.split
 *		sees whitespace), or 0 when it is not whitespace.
 */
static inline int
space_len(const unsigned char *p, const unsigned char *end)
{
	if (*p < 0x80)
		return (*p == ' ' || (*p >= 0x09 && *p <= 0x0D) || (*p >= 0x1C && *p <= 0x1F)) ? 1 : 0;
	if (p[0] == 0xC2 && p + 1 < end)
		return (p[1] == 0x85 || p[1] == 0xA0) ? 2 : 0;
	if (p + 2 >= end)
		return 0;
	if (p[0] == 0xE1 && p[1] == 0x9A && p[2] == 0x80)
		return 3;
	if (p[0] == 0xE2 && p[1] == 0x80 &&
		((p[2] >= 0x80 && p[2] <= 0x8A) || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF))
		return 3;
	if (p[0] == 0xE2 && p[1] == 0x81 && p[2] == 0x9F)
		return 3;
	if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80)
		return 3;
	return 0;
}

/* ASCII punctuation, as Python's string.punctuation */
static inline bool
is_punct(unsigned char c)
{
	return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) ||
		(c >= 91 && c <= 96) || (c >= 123 && c <= 126);
}

/* The rules look words up by identity through their table entry */
#define WORD_IS(t, id) ((t).info != NULL && (t).info->word_id == (id))
#define IN_LEXICON(t) ((t).info != NULL && (t).info->in_lexicon)

/*
 * negated
 *		The reference's negated() for one word: a negation word, or any word
 *		containing "n't".
 */
static inline bool
negated(const Token *t)
{
	if (t->info != NULL && t->info->negation)
		return true;
	for (int i = 0; i + 2 < t->llen; i++)
		if (t->low[i] == 'n' && t->low[i + 1] == '\'' && t->low[i + 2] == 't')
			return true;
	return false;
}

/*
 * phrase
 *		Join the lower-cased tokens from..to (inclusive) with single spaces
 *		into buf; returns the length, or -1 when it cannot be an idiom (a
 *		word that occurs in none, or longer than any).
 */
static int
phrase(const Token *w, int from, int to, char *buf, int bufsize)
{
	int			n = 0;

	/* an idiom can only match when every word occurs in some idiom */
	for (int k = from; k <= to; k++)
		if (w[k].info == NULL || !w[k].info->in_phrase)
			return -1;
	for (int k = from; k <= to; k++)
	{
		if (n + w[k].llen + 1 >= bufsize)
			return -1;
		if (k > from)
			buf[n++] = ' ';
		memcpy(buf + n, w[k].low, w[k].llen);
		n += w[k].llen;
	}
	return n;
}

/*
 * special_idioms
 *		The reference's _special_idioms_check at word i (i >= 3).
 */
static double
special_idioms(double valence, const Token *w, int n, int i)
{
	static const int seqs[5][2] = {{-1, 0}, {-2, 0}, {-2, -1}, {-3, -1}, {-3, -2}};
	static const int grams[3][2] = {{-3, -1}, {-3, -2}, {-2, -1}};
	char		buf[64];
	int			len;
	double		v;
	int			last = Min(i + 2, n - 1);
	bool		possible = false;

	/*
	 * Every idiom and two-word booster checked below spans two adjacent
	 * words of w[i-3 .. i+2] that both occur in some idiom: without such a
	 * pair (the usual case) nothing can match.
	 */
	for (int k = i - 3; k < last && !possible; k++)
		possible = w[k].info != NULL && w[k].info->in_phrase &&
			w[k + 1].info != NULL && w[k + 1].info->in_phrase;
	if (!possible)
		return valence;

	for (int s = 0; s < 5; s++)
	{
		len = phrase(w, i + seqs[s][0], i + seqs[s][1], buf, sizeof(buf));
		if (len > 0 && SentimentSpecialCase(buf, len, &v))
		{
			valence = v;
			break;
		}
	}
	if (n - 1 > i)
	{
		len = phrase(w, i, i + 1, buf, sizeof(buf));
		if (len > 0 && SentimentSpecialCase(buf, len, &v))
			valence = v;
	}
	if (n - 1 > i + 1)
	{
		len = phrase(w, i, i + 2, buf, sizeof(buf));
		if (len > 0 && SentimentSpecialCase(buf, len, &v))
			valence = v;
	}
	for (int g = 0; g < 3; g++)
	{
		len = phrase(w, i + grams[g][0], i + grams[g][1], buf, sizeof(buf));
		if (len > 0)
			valence = valence + SentimentBoosterPhrase(buf, len);
	}
	return valence;
}

/*
 * negation_check
 *		The reference's _negation_check for the word start_i + 1 places
 *		before word i.
 */
static double
negation_check(double valence, const Token *w, int start_i, int i)
{
	if (start_i == 0)
	{
		if (negated(&w[i - 1]))
			valence = valence * N_SCALAR;
	}
	else if (start_i == 1)
	{
		if (WORD_IS(w[i - 2], SW_NEVER) &&
			(WORD_IS(w[i - 1], SW_SO) || WORD_IS(w[i - 1], SW_THIS)))
			valence = valence * 1.25;
		else if (WORD_IS(w[i - 2], SW_WITHOUT) && WORD_IS(w[i - 1], SW_DOUBT))
			 /* unchanged */ ;
		else if (negated(&w[i - 2]))
			valence = valence * N_SCALAR;
	}
	else
	{
		/* sic: "so" or "this" just before boosts even without "never" */
		if ((WORD_IS(w[i - 3], SW_NEVER) &&
			 (WORD_IS(w[i - 2], SW_SO) || WORD_IS(w[i - 2], SW_THIS))) ||
			WORD_IS(w[i - 1], SW_SO) || WORD_IS(w[i - 1], SW_THIS))
			valence = valence * 1.25;
		else if (WORD_IS(w[i - 3], SW_WITHOUT) &&
				 (WORD_IS(w[i - 2], SW_DOUBT) || WORD_IS(w[i - 1], SW_DOUBT)))
			 /* unchanged */ ;
		else if (negated(&w[i - 3]))
			valence = valence * N_SCALAR;
	}
	return valence;
}

/*
 * word_valence
 *		The reference's sentiment_valence for lexicon word i.
 */
static double
word_valence(const Token *w, int n, int i, bool cap_diff)
{
	double		valence = w[i].info->valence;

	if (WORD_IS(w[i], SW_NO) && i != n - 1 && IN_LEXICON(w[i + 1]))
		valence = 0.0;
	if ((i > 0 && WORD_IS(w[i - 1], SW_NO)) ||
		(i > 1 && WORD_IS(w[i - 2], SW_NO)) ||
		(i > 2 && WORD_IS(w[i - 3], SW_NO) &&
		 (WORD_IS(w[i - 1], SW_OR) || WORD_IS(w[i - 1], SW_NOR))))
		valence = w[i].info->valence * N_SCALAR;

	if (w[i].upper && cap_diff)
	{
		if (valence > 0)
			valence += C_INCR;
		else
			valence -= C_INCR;
	}

	for (int start_i = 0; start_i < 3; start_i++)
	{
		const Token *prev;
		double		s = 0.0;

		if (i <= start_i || IN_LEXICON(w[i - (start_i + 1)]))
			continue;
		prev = &w[i - (start_i + 1)];
		if (prev->info != NULL && prev->info->booster)
		{
			s = prev->info->boost;
			if (valence < 0)
				s *= -1;
			if (prev->upper && cap_diff)
			{
				if (valence > 0)
					s += C_INCR;
				else
					s -= C_INCR;
			}
		}
		if (start_i == 1 && s != 0)
			s = s * 0.95;
		if (start_i == 2 && s != 0)
			s = s * 0.9;
		valence = valence + s;
		valence = negation_check(valence, w, start_i, i);
		if (start_i == 2)
			valence = special_idioms(valence, w, n, i);
	}

	/* "least" negates, except in "at least" and "very least" */
	if (i > 1 && !IN_LEXICON(w[i - 1]) && WORD_IS(w[i - 1], SW_LEAST))
	{
		if (!WORD_IS(w[i - 2], SW_AT) && !WORD_IS(w[i - 2], SW_VERY))
			valence = valence * N_SCALAR;
	}
	else if (i > 0 && !IN_LEXICON(w[i - 1]) && WORD_IS(w[i - 1], SW_LEAST))
		valence = valence * N_SCALAR;

	return valence;
}

/*
 * py_round
 *		Python's round(x, digits): correctly rounded, ties to even on the
 *		exact binary value. The quick path is exact away from ties; near a
 *		tie, printf (which rounds the exact value) decides.
 */
static double
py_round(double x, int digits)
{
	double		scale = (digits == 4) ? 10000.0 : 1000.0;
	double		y = x * scale;
	double		frac = fabs(y - trunc(y));
	char		buf[64];

	if (fabs(frac - 0.5) > 1e-6)
		return rint(y) / scale;
	snprintf(buf, sizeof(buf), "%.*f", digits, x);
	return strtod(buf, NULL);
}

/*
 * count_tokens
 *		How many whitespace-separated tokens the text [p, end) has (step 2
 *		splits it the same way).
 */
static int
count_tokens(const unsigned char *p, const unsigned char *end, bool ascii)
{
	int			n = 0;
	bool		in_token = false;

	while (p < end)
	{
		int			sl;

		if (ascii)
			sl = ascii_space[*p] ? 1 : 0;
		else
			sl = space_len(p, end);
		if (sl > 0)
		{
			in_token = false;
			p += sl;
			continue;
		}
		if (!in_token)
			n++;
		in_token = true;
		p += (*p < 0x80) ? 1 : Max(1, Min(pg_utf_mblen(p), end - p));
		if ((n & (INTERRUPT_EVERY - 1)) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return n;
}

/*
 * score_text
 *		Score UTF-8 text of len bytes: the compound score, and pos, neu and
 *		neg when detail is true (else they are left unset).
 */
static void
score_text(const char *text, int len, bool detail, SentimentScores *out)
{
	const unsigned char *p = (const unsigned char *) text;
	const unsigned char *end = p + len;
	char	   *d;
	int			n = 0;
	int			n_upper = 0;
	int			ep_count = 0;
	int			qm_count = 0;
	bool		prev_space = true;
	bool		ascii;
	bool		cap_diff;
	int			bi = -1;
	char	   *low;
	Token	   *w;
	double	   *sent;
	double		sum_s = 0.0;
	double		amp;
	double		pos_sum = 0.0;
	double		neg_sum = 0.0;
	int			neu_count = 0;
	const unsigned char *t;
	const unsigned char *tend;
	char	   *scratch_text;
	int			ntokens;
	int64		steps = 0;
	MemoryContext large = NULL;

	SentimentLexiconEnsureLoaded();

	/*
	 * 1. emoji to descriptions. Every emoji is outside ASCII, so pure ASCII
	 * text (most posts) is scored in place; otherwise it is rewritten into
	 * the scratch buffer, where a code point of two or more bytes may become
	 * a space and the longest description.
	 */
	{
		uint64		high = 0;
		const unsigned char *q = p;
		const char *c;

		/* eight bytes at a time for the high bit; memchr for the marks */
		for (; q + 8 <= end; q += 8)
		{
			uint64		chunk;

			memcpy(&chunk, q, 8);
			high |= chunk;
		}
		for (; q < end; q++)
			high |= *q;
		ascii = (high & UINT64CONST(0x8080808080808080)) == 0;
		for (c = text; (c = memchr(c, '!', (const char *) end - c)) != NULL; c++)
			ep_count++;
		for (c = text; (c = memchr(c, '?', (const char *) end - c)) != NULL; c++)
			qm_count++;
	}
	if (ascii)
		d = (char *) end;
	else
	{
		Size		need = 0;

		/* the rewritten text's exact size: a space and the description per emoji */
		for (const unsigned char *q = p; q < end;)
		{
			int			l = (*q < 0x80) ? 1 : Min(pg_utf_mblen(q), end - q);
			int			dlen;

			if ((((q - p) + 1) & (INTERRUPT_EVERY - 1)) == 0)
				CHECK_FOR_INTERRUPTS();
			if (*q >= 0x80 && SentimentLookupEmoji(utf8_to_unicode(q), &dlen) != NULL)
				need += dlen + 1;
			else
				need += l;
			q += Max(l, 1);
		}
		ep_count = qm_count = 0;
		d = scratch_text = scratch(SCRATCH_TEXT, need + 8, &large);
	}
	while (!ascii && p < end)
	{
		int			l;
		int			dlen;
		const char *desc;

		if (((++steps) & (INTERRUPT_EVERY - 1)) == 0)
			CHECK_FOR_INTERRUPTS();
		if (*p < 0x80)
		{
			if (*p == '!')
				ep_count++;
			else if (*p == '?')
				qm_count++;
			prev_space = (*p == ' ');
			*d++ = *p++;
			continue;
		}
		l = pg_utf_mblen(p);
		if (p + l > end)
			l = end - p;
		desc = SentimentLookupEmoji(utf8_to_unicode(p), &dlen);
		if (desc != NULL)
		{
			if (!prev_space)
				*d++ = ' ';
			memcpy(d, desc, dlen);
			for (int k = 0; k < dlen; k++)
			{
				if (desc[k] == '!')
					ep_count++;
				else if (desc[k] == '?')
					qm_count++;
			}
			d += dlen;
			prev_space = false;
		}
		else
		{
			memcpy(d, p, l);
			d += l;
			prev_space = false;
		}
		p += l;
	}

	/* 2. split on whitespace, strip punctuation, lower-case */
	p = ascii ? (const unsigned char *) text : (const unsigned char *) scratch_text;
	end = (const unsigned char *) d;
	ntokens = count_tokens(p, end, ascii);
	low = scratch(SCRATCH_LOW, (Size) (end - p) * (ascii ? 1 : 2) + 8, &large);
	w = scratch(SCRATCH_TOKENS, sizeof(Token) * (ntokens + 1), &large);
	sent = scratch(SCRATCH_SENT, sizeof(double) * (ntokens + 1), &large);
	while (p < end)
	{
		int			sl;
		int			ncp = 0;

		if ((sl = space_len(p, end)) > 0)
		{
			p += sl;
			continue;
		}
		if (((n + 1) & (INTERRUPT_EVERY - 1)) == 0)
			CHECK_FOR_INTERRUPTS();
		t = p;
		if (ascii)
		{
			while (p < end && !ascii_space[*p])
				p++;
		}
		else
		{
			while (p < end && space_len(p, end) == 0)
				p += (*p < 0x80) ? 1 : Max(1, Min(pg_utf_mblen(p), end - p));
		}
		tend = p;
		{
			const unsigned char *a = t;
			const unsigned char *b = tend;

			while (a < b && is_punct(*a))
				a++;
			while (b > a && is_punct(b[-1]))
				b--;
			for (const unsigned char *q = a; q < b && ncp <= 2; q++)
				if ((*q & 0xC0) != 0x80)
					ncp++;
			if (ncp > 2)
			{
				t = a;
				tend = b;
			}
		}
		w[n].orig = (const char *) t;
		w[n].olen = tend - t;
		w[n].low = low;
		if (ascii)
		{
			/* one pass: lower-case, hash, and the case of the word */
			uint32		h = SENTIMENT_HASH_INIT;
			bool		has_upper = false;
			bool		has_lower = false;

			for (const unsigned char *q = t; q < tend; q++)
			{
				unsigned char c = *q;

				if (c >= 'A' && c <= 'Z')
				{
					has_upper = true;
					c += 32;
				}
				else if (c >= 'a' && c <= 'z')
					has_lower = true;
				*low++ = (char) c;
				h = SENTIMENT_HASH_STEP(h, c);
			}
			w[n].llen = w[n].olen;
			w[n].info = SentimentLookupWordHashed(w[n].low, w[n].llen, h);
			w[n].upper = has_upper && !has_lower;
		}
		else
		{
			w[n].llen = SentimentLower(w[n].orig, w[n].olen, low);
			low += w[n].llen;
			w[n].info = SentimentLookupWord(w[n].low, w[n].llen);
			w[n].upper = SentimentIsUpper(w[n].orig, w[n].olen);
		}
		if (w[n].upper)
			n_upper++;
		if (bi < 0 && WORD_IS(w[n], SW_BUT))
			bi = n;
		n++;
	}

	Assert(n <= ntokens);
	if (n == 0)
	{
		out->compound = out->pos = out->neu = out->neg = 0.0;
		if (large)
			MemoryContextDelete(large);
		return;
	}
	cap_diff = (n - n_upper > 0 && n - n_upper < n);

	/* 3. valence of each word */
	for (int i = 0; i < n; i++)
	{
		if (((i + 1) & (INTERRUPT_EVERY - 1)) == 0)
			CHECK_FOR_INTERRUPTS();
		if ((w[i].info != NULL && w[i].info->booster) ||
			(i < n - 1 && WORD_IS(w[i], SW_KIND) && WORD_IS(w[i + 1], SW_OF)))
			sent[i] = 0.0;
		else if (IN_LEXICON(w[i]))
			sent[i] = word_valence(w, n, i, cap_diff);
		else
			sent[i] = 0.0;
	}

	/* 4. "but": as the reference, through the first equal value */
	if (bi >= 0)
	{
		MemoryContext old = large ? MemoryContextSwitchTo(large) : CurrentMemoryContext;

		SentimentButShift(sent, n, bi);
		MemoryContextSwitchTo(old);
	}

	/* 5. sum, punctuation emphasis, normalization, proportions */
	for (int i = 0; i < n; i++)
		sum_s += sent[i];
	amp = Min(ep_count, 4) * 0.292;
	if (qm_count > 1)
		amp += (qm_count <= 3) ? qm_count * 0.18 : 0.96;
	if (sum_s > 0)
		sum_s += amp;
	else if (sum_s < 0)
		sum_s -= amp;
	out->compound = sum_s / sqrt(sum_s * sum_s + 15);
	if (out->compound < -1.0)
		out->compound = -1.0;
	else if (out->compound > 1.0)
		out->compound = 1.0;
	out->compound = py_round(out->compound, 4);
	if (!detail)
	{
		if (large)
			MemoryContextDelete(large);
		return;
	}

	for (int i = 0; i < n; i++)
	{
		if (sent[i] > 0)
			pos_sum += sent[i] + 1;
		if (sent[i] < 0)
			neg_sum += sent[i] - 1;
		if (sent[i] == 0)
			neu_count++;
	}
	if (pos_sum > fabs(neg_sum))
		pos_sum += amp;
	else if (pos_sum < fabs(neg_sum))
		neg_sum -= amp;
	{
		double		total = pos_sum + fabs(neg_sum) + neu_count;

		out->pos = py_round(fabs(pos_sum / total), 3);
		out->neg = py_round(fabs(neg_sum / total), 3);
		out->neu = py_round(fabs(neu_count / total), 3);
	}
	if (large)
		MemoryContextDelete(large);
}

/*
 * score_error_context
 *		Error context of a scoring (a cancel included): which text.
 */
static void
score_error_context(void *arg)
{
	errcontext("recgen.sentiment of a text of %d bytes", *(int *) arg);
}

/*
 * score_datum
 *		Score a text datum, converting to UTF-8 when the database is not
 *		(in a SQL_ASCII database the bytes must already be valid UTF-8).
 */
static void
score_datum(text *t, bool detail, SentimentScores *out)
{
	char	   *s = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);
	ErrorContextCallback errcb;

	errcb.callback = score_error_context;
	errcb.arg = &len;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	if (GetDatabaseEncoding() != PG_UTF8)
	{
		char	   *u = pg_server_to_any(s, len, PG_UTF8);

		if (u != s)
		{
			s = u;
			len = strlen(u);
		}
		else
			(void) pg_verify_mbstr(PG_UTF8, s, len, false); /* SQL_ASCII */
	}
	score_text(s, len, detail, out);
	error_context_stack = errcb.previous;
}

/*
 * recgen_sentiment
 *		recgen.sentiment(text): the VADER compound score in [-1, 1].
 */
PG_FUNCTION_INFO_V1(recgen_sentiment);
Datum
recgen_sentiment(PG_FUNCTION_ARGS)
{
	SentimentScores sc;

	score_datum(PG_GETARG_TEXT_PP(0), false, &sc);
	PG_RETURN_FLOAT4((float4) sc.compound);
}

/*
 * recgen_sentiment_detail
 *		recgen.sentiment_detail(text): pos, neu, neg and compound.
 */
PG_FUNCTION_INFO_V1(recgen_sentiment_detail);
Datum
recgen_sentiment_detail(PG_FUNCTION_ARGS)
{
	SentimentScores sc;
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	score_datum(PG_GETARG_TEXT_PP(0), true, &sc);
	values[0] = Float4GetDatum((float4) sc.pos);
	values[1] = Float4GetDatum((float4) sc.neu);
	values[2] = Float4GetDatum((float4) sc.neg);
	values[3] = Float4GetDatum((float4) sc.compound);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}
