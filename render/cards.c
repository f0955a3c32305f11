/*-------------------------------------------------------------------------
 *
 * cards.c
 *		Product cards: a product's name and price shown in a corner while
 *		the narration presents that product.
 *
 * A card is given on the command line as "TITLE|DETAIL" (--card, once per
 * product). It is placed where the narration first names its product: the
 * title is looked up in the spoken script, comparing letters and digits
 * only and ignoring case (so "Red Enamel Mug" finds "the RED ENAMEL MUG,"
 * and "T-Light Holder" finds "t light holder"), and the card is shown from
 * the cue holding that word to the end of its paragraph, or until the next
 * card starts. A card whose product is never named is not shown (the log
 * says so). cues.c writes the cards into the ASS script; compose.c gives
 * the pauses inside a card their own picture.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		render/cards.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

/* a letter or digit of a name (bytes of UTF-8 letters count as such) */
static int
name_char(unsigned char c)
{
	return isalnum(c) || c >= 0x80;
}

/*
 * Whether script at s starts with title, comparing letters and digits
 * only, case-insensitively; *end is set past the last byte matched.
 */
static int
matches_at(const char *s, const char *title, const char **end)
{
	const char *t = title;

	for (;;)
	{
		while (*t && !name_char((unsigned char) *t))
			t++;
		if (*t == '\0')
		{
			*end = s;
			return 1;
		}
		while (*s && !name_char((unsigned char) *s))
			s++;
		if (*s == '\0' || tolower((unsigned char) *s) != tolower((unsigned char) *t))
			return 0;
		s++;
		t++;
	}
}

/*
 * Byte offset in script of the first mention of title as whole words, or
 * -1.
 */
static long
find_title(const char *script, const char *title)
{
	for (const char *s = script; *s; s++)
	{
		const char *end;

		if (!name_char((unsigned char) *s) ||
			(s > script && name_char((unsigned char) s[-1])))
			continue;
		if (matches_at(s, title, &end) && !name_char((unsigned char) *end))
			return s - script;
	}
	return -1;
}

/* the cue holding the word at byte offset pos, or -1 */
static int
cue_at_offset(const RenderSpeech *sp, const RenderCue *cues, int ncues, long pos)
{
	int			w;

	for (w = 0; w < sp->nwords; w++)
		if ((long) (sp->words[w].offset + sp->words[w].length) > pos)
			break;
	for (int i = 0; i < ncues; i++)
		if (cues[i].first <= w && w <= cues[i].last)
			return i;
	return -1;
}

/*
 * CardsPlace
 *		The cards of the options, each with the cues it is shown over;
 *		returns their number (cards never spoken have first = -1).
 */
int
CardsPlace(const RenderOptions *opt, const RenderSpeech *sp, const char *script,
		   const RenderCue *cues, int ncues, RenderCard **out)
{
	RenderCard *cards = xmalloc(sizeof(RenderCard) * (opt->ncards + 1));

	for (int i = 0; i < opt->ncards; i++)
	{
		char	   *bar;
		long		pos;

		cards[i].title = xstrdup(opt->card_args[i]);
		bar = strchr(cards[i].title, '|');
		cards[i].detail = NULL;
		if (bar != NULL)
		{
			*bar = '\0';
			if (bar[1] != '\0')
				cards[i].detail = bar + 1;
		}
		pos = find_title(script, cards[i].title);
		cards[i].first = pos < 0 ? -1 : cue_at_offset(sp, cues, ncues, pos);
		if (cards[i].first < 0)
			RenderLog("card \"%s\": the narration never names it; not shown", cards[i].title);
	}
	for (int i = 0; i < opt->ncards; i++)
	{
		int			last;
		int			next = ncues;

		if (cards[i].first < 0)
		{
			cards[i].last = -1;
			continue;
		}
		/* the end of its paragraph, before the next card */
		for (last = cards[i].first; last < ncues - 1; last++)
			if (sp->words[cues[last].last].paragraph_end)
				break;
		for (int j = 0; j < opt->ncards; j++)
			if (j != i && cards[j].first > cards[i].first && cards[j].first < next)
				next = cards[j].first;
		cards[i].last = last < next ? last : next - 1;
	}
	*out = cards;
	return opt->ncards;
}

/*
 * CardAt
 *		The card shown during cue k, or -1 (two cards never share a cue: the
 *		later one's start ends the earlier one; two named in the same cue
 *		show the first given).
 */
int
CardAt(const RenderCard *cards, int n, int k)
{
	for (int i = 0; i < n; i++)
		if (cards[i].first >= 0 && cards[i].first <= k && k <= cards[i].last)
			return i;
	return -1;
}

/* CardsFree: free what CardsPlace allocated */
void
CardsFree(RenderCard *cards, int n)
{
	for (int i = 0; i < n; i++)
		free(cards[i].title);
	free(cards);
}
