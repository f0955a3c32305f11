/*-------------------------------------------------------------------------
 *
 * cues.c
 *		Subtitle cues from the spoken words, and the SRT, WebVTT and ASS
 *		files that carry them.
 *
 * A cue holds whole words, at most two lines of about max_chars each (a
 * word longer than a line gets a line of its own, never split). A cue ends
 * at the end of a sentence, at a paragraph, at a pause in the speech, or
 * when the next word would not fit; in the last case it ends at its last
 * comma if there is one (cues break at clauses), and it never leaves the
 * last word or two of a sentence alone in the next cue. A cue
 * is shown from its first word's start to its last word's end (the times
 * the speech gives, not an even spread), so cues never overlap and the
 * screen is empty in the pauses.
 *
 * Lines: a cue that fits on one line is one line; otherwise it is split
 * between words where the longer line is shortest (balanced lines), a
 * split after a comma counting as 8 characters shorter and one inside a
 * capitalised name as 8 longer.
 *
 * The ASS file is what FFmpeg's subtitles filter burns in (styles sized
 * for the frame, the text watermark and the product cards as styles of
 * their own). For still backgrounds it is written "one per second": cue k
 * on screen from k+1.1 s to k+1.9 s, with the card shown during it, and
 * card j alone from ncues+j+1.1 s (the picture of a pause inside card j),
 * so that rendering one frame per second gives each picture once
 * (compose.c).
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		render/cues.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

/* a pause longer than this ends a cue */
#define CUE_PAUSE 0.45

/* characters of words [a, b] joined by single spaces */
static size_t
span_chars(const RenderSpeech *sp, const char *script, int a, int b)
{
	size_t		n = 0;

	for (int i = a; i <= b; i++)
	{
		const char *s = script + sp->words[i].offset;

		/* count characters, not bytes (UTF-8 continuation bytes are free) */
		for (size_t j = 0; j < sp->words[i].length; j++)
			if (((unsigned char) s[j] & 0xC0) != 0x80)
				n++;
		if (i < b)
			n++;
	}
	return n;
}

/*
 * Where to break words [a, b] into two lines: the index of the last word
 * of the first line, or b for one line. Sets *fits to whether no line is
 * longer than max (a single overlong word always "fits" on its own line).
 */
static int
best_break(const RenderSpeech *sp, const char *script, int a, int b,
		   int max, int *fits)
{
	size_t		total = span_chars(sp, script, a, b);
	int			best = b;
	size_t		best_long = total;

	*fits = total <= (size_t) max || a == b;
	if (*fits)
		return b;
	for (int k = a; k < b; k++)
	{
		size_t		l1 = span_chars(sp, script, a, k);
		size_t		l2 = span_chars(sp, script, k + 1, b);
		size_t		longer = l1 > l2 ? l1 : l2;
		int			ok = (l1 <= (size_t) max || k == a) &&
			(l2 <= (size_t) max || k + 1 == b);
		const char *next = script + sp->words[k + 1].offset;
		const char *cur = script + sp->words[k].offset;

		/*
		 * A line ends better after a comma, and worse inside a name
		 * ("Cash-Back Credit / Card"): weigh that against the balance.
		 */
		if (sp->words[k].sentence_end)
			longer = longer > 8 ? longer - 8 : 0;
		else if (isupper((unsigned char) cur[0]) && isupper((unsigned char) next[0]))
			longer += 8;
		if (ok && (!*fits || longer < best_long))
		{
			best = k;
			best_long = longer;
			*fits = 1;
		}
	}
	return best;
}

/* the text of a cue: its words, lines separated by '\n' */
static char *
cue_text(const RenderSpeech *sp, const char *script, int a, int b, int brk)
{
	size_t		cap = 0;
	char	   *t,
			   *p;

	for (int i = a; i <= b; i++)
		cap += sp->words[i].length + 1;
	t = p = xmalloc(cap + 1);
	for (int i = a; i <= b; i++)
	{
		memcpy(p, script + sp->words[i].offset, sp->words[i].length);
		p += sp->words[i].length;
		if (i < b)
			*p++ = (i == brk) ? '\n' : ' ';
	}
	*p = '\0';
	return t;
}

/* a cue shorter than this reads as a fragment */
#define CUE_MIN_CHARS 20

/*
 * Where a full cue of words [a, b] (the next word does not fit) ends: at
 * its last clause (a comma) leaving at least CUE_MIN_CHARS before it; else,
 * when the rest of the sentence after b would be a fragment ("restaurants."
 * alone), a word or more earlier, so that the next cue carries enough of
 * the sentence; else at b.
 */
static int
full_cue_end(const RenderSpeech *sp, const char *script, int a, int b)
{
	int			s = b + 1;

	for (int k = b - 1; k > a; k--)
		if (sp->words[k].sentence_end == 1 &&
			span_chars(sp, script, a, k) >= CUE_MIN_CHARS)
			return k;
	/* the end of the sentence b is in */
	while (s < sp->nwords && sp->words[s - 1].sentence_end != 2 &&
		   !sp->words[s - 1].paragraph_end)
		s++;
	if (s - 1 > b && span_chars(sp, script, b + 1, s - 1) < CUE_MIN_CHARS)
	{
		for (int k = b - 1; k > a; k--)
			if (span_chars(sp, script, k + 1, s - 1) >= CUE_MIN_CHARS)
				return span_chars(sp, script, a, k) >= CUE_MIN_CHARS ? k : b;
	}
	return b;
}

/*
 * Build the cues of the speech; returns how many, the array in *cues.
 */
int
CuesBuild(const RenderSpeech *sp, const char *script, int max_chars,
		  RenderCue **cues)
{
	RenderCue  *out = xmalloc(sizeof(RenderCue) * (sp->nwords + 1));
	int			n = 0;
	int			a = 0;

	while (a < sp->nwords)
	{
		int			b = a;
		int			fits;

		for (;;)
		{
			const RenderWord *w = &sp->words[b];

			if (w->paragraph_end || w->sentence_end == 2 || b + 1 >= sp->nwords)
				break;
			if (sp->words[b + 1].start - w->end > CUE_PAUSE)
				break;
			best_break(sp, script, a, b + 1, max_chars, &fits);
			if (!fits)
			{
				b = full_cue_end(sp, script, a, b);
				break;
			}
			b++;
		}
		out[n].first = a;
		out[n].last = b;
		out[n].start = sp->words[a].start;
		out[n].end = sp->words[b].end;
		out[n].text = cue_text(sp, script, a, b,
							   best_break(sp, script, a, b, max_chars, &fits));
		n++;
		a = b + 1;
	}

	/* a cue made only of unspoken tokens has no time: fold it backwards */
	for (int i = 1; i < n; i++)
	{
		if (out[i].end - out[i].start < 0.01)
		{
			char	   *t = xasprintf("%s %s", out[i - 1].text, out[i].text);

			free(out[i - 1].text);
			free(out[i].text);
			out[i - 1].text = t;
			out[i - 1].last = out[i].last;
			memmove(&out[i], &out[i + 1], sizeof(RenderCue) * (n - i - 1));
			n--;
			i--;
		}
	}
	*cues = out;
	return n;
}

/* format seconds as HH:MM:SS<sep>mmm */
static void
fmt_time(char *buf, double t, char sep)
{
	long		ms = lround(t * 1000);

	sprintf(buf, "%02ld:%02ld:%02ld%c%03ld", ms / 3600000, ms / 60000 % 60,
			ms / 1000 % 60, sep, ms % 1000);
}

static FILE *
open_out(const char *path)
{
	FILE	   *f = fopen(path, "w");

	if (f == NULL)
		RenderFail("could not write \"%s\": %m", path);
	return f;
}

static void
close_out(FILE *f, const char *path)
{
	if (ferror(f) || fclose(f) != 0)
		RenderFail("could not write \"%s\": %m", path);
}

/*
 * SubRip: numbered cues, comma before the milliseconds.
 */
void
CuesWriteSrt(const RenderCue *cues, int n, const char *path)
{
	FILE	   *f = open_out(path);

	for (int i = 0; i < n; i++)
	{
		char		a[32],
					b[32];

		fmt_time(a, cues[i].start, ',');
		fmt_time(b, cues[i].end, ',');
		fprintf(f, "%d\n%s --> %s\n%s\n\n", i + 1, a, b, cues[i].text);
	}
	close_out(f, path);
}

/*
 * WebVTT: the header, a dot before the milliseconds, and &, <, > escaped
 * (they would start entities or tags).
 */
void
CuesWriteVtt(const RenderCue *cues, int n, const char *path)
{
	FILE	   *f = open_out(path);

	fputs("WEBVTT\n\n", f);
	for (int i = 0; i < n; i++)
	{
		char		a[32],
					b[32];

		fmt_time(a, cues[i].start, '.');
		fmt_time(b, cues[i].end, '.');
		fprintf(f, "%d\n%s --> %s\n", i + 1, a, b);
		for (const char *p = cues[i].text; *p; p++)
		{
			if (*p == '&')
				fputs("&amp;", f);
			else if (*p == '<')
				fputs("&lt;", f);
			else if (*p == '>')
				fputs("&gt;", f);
			else
				fputc(*p, f);
		}
		fputs("\n\n", f);
	}
	close_out(f, path);
}

/* H:MM:SS.cc, the time format of ASS */
static void
fmt_ass(char *buf, double t)
{
	long		cs = lround(t * 100);

	sprintf(buf, "%ld:%02ld:%02ld.%02ld", cs / 360000, cs / 6000 % 60,
			cs / 100 % 60, cs % 100);
}

/* ASS text: '\n' -> \N; braces and backslashes would start overrides */
static void
put_ass_text(FILE *f, const char *s)
{
	for (; *s; s++)
	{
		if (*s == '\n')
			fputs("\\N", f);
		else if (*s == '{')
			fputc('(', f);
		else if (*s == '}')
			fputc(')', f);
		else if (*s == '\\')
			fputc('/', f);
		else
			fputc(*s, f);
	}
}

/* a card's text: its title in bold, its detail on a second line */
static void
put_card(FILE *f, const char *a, const char *b, const RenderCard *card)
{
	fprintf(f, "Dialogue: 2,%s,%s,Card,,0,0,0,,{\\b1}", a, b);
	put_ass_text(f, card->title);
	fputs("{\\b0}", f);
	if (card->detail)
	{
		fputs("\\N", f);
		put_ass_text(f, card->detail);
	}
	fputc('\n', f);
}

/* numpad alignment of ASS for a watermark position name */
static int
ass_alignment(const char *pos)
{
	if (strcmp(pos, "top-left") == 0)
		return 7;
	if (strcmp(pos, "top-right") == 0)
		return 9;
	if (strcmp(pos, "bottom-left") == 0)
		return 1;
	if (strcmp(pos, "center") == 0)
		return 5;
	return 3;					/* bottom-right */
}

/*
 * The ASS script FFmpeg burns in: subtitle style sized for the frame (42
 * characters of DejaVu Sans fit 90% of the width), the text watermark for
 * the whole video, the product cards in the top corner the watermark
 * leaves free. one_per_second: cue k at [k+1.1, k+1.9), card j alone at
 * [n+j+1.1, n+j+1.9) (see header).
 */
void
CuesWriteAss(const RenderOptions *opt, const RenderCue *cues, int n,
			 const RenderCard *cards, int ncards,
			 double duration, int one_per_second, const char *path)
{
	FILE	   *f = open_out(path);
	double		by_width = opt->width * 0.9 / (opt->max_line_chars * 0.55);
	double		by_height = opt->height / 15.0;
	int			size = (int) (fmin(by_width, by_height) * opt->sub_scale);
	int			margin = (int) (opt->height * (opt->height > opt->width ? 0.12 : 0.06));
	int			wm_size;
	unsigned	rgb = (unsigned) strtoul(opt->sub_color, NULL, 16);
	int			wm_alpha = (int) lround((1.0 - opt->wm_opacity) * 255);
	char		a[32],
				b[32];

	/* keep the subtitles clear of a watermark on the same edge */
	wm_size = opt->wm_image ? (int) (opt->width * 0.16) : size * 3 / 4 + 8;
	if ((opt->wm_text || opt->wm_image) &&
		strncmp(opt->wm_position, opt->sub_position, strlen(opt->sub_position)) == 0)
		margin += opt->wm_image ? wm_size / 2 : wm_size;

	fprintf(f, "[Script Info]\nScriptType: v4.00+\nPlayResX: %d\nPlayResY: %d\n"
			"WrapStyle: 2\nScaledBorderAndShadow: yes\n\n",
			opt->width, opt->height);
	fputs("[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, "
		  "SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, "
		  "StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, "
		  "Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n", f);
	/* ASS colours are &HAABBGGRR */
	fprintf(f, "Style: Sub,%s,%d,&H00%02X%02X%02X,&H00FFFFFF,&H%s000000,"
			"&H50000000,0,0,0,0,100,100,0,0,%d,%d,%d,%d,%d,%d,%d,1\n",
			opt->font, size, rgb & 0xff, (rgb >> 8) & 0xff, (rgb >> 16) & 0xff,
			opt->sub_box ? "FF" : "00", opt->sub_box ? 4 : 1,
			opt->sub_box ? size / 4 : (size + 12) / 14, opt->sub_box ? 0 : 1,
			strcmp(opt->sub_position, "top") == 0 ? 8 : 2,
			opt->width / 20, opt->width / 20, margin);
	fprintf(f, "Style: Mark,%s,%d,&H%02XFFFFFF,&H00FFFFFF,&H%02X000000,"
			"&H%02X000000,1,0,0,0,100,100,0,0,1,%d,0,%d,%d,%d,%d,1\n\n",
			opt->font, size * 3 / 4, wm_alpha, wm_alpha, wm_alpha,
			(size + 20) / 20, ass_alignment(opt->wm_position),
			opt->height / 25, opt->height / 25, opt->height / 25);
	/* a boxed card, two thirds of the subtitles' size, top-left or top-right */
	fprintf(f, "Style: Card,%s,%d,&H00FFFFFF,&H00FFFFFF,&H60202020,"
			"&H60202020,0,0,0,0,100,100,0,0,3,%d,0,%d,%d,%d,%d,1\n\n",
			opt->font, size * 2 / 3, size / 5,
			strcmp(opt->wm_position, "top-left") == 0 ? 9 : 7,
			opt->width / 20, opt->width / 20, opt->height / 12);
	fputs("[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, "
		  "MarginV, Effect, Text\n", f);
	for (int i = 0; i < n; i++)
	{
		fmt_ass(a, one_per_second ? i + 1.1 : cues[i].start);
		fmt_ass(b, one_per_second ? i + 1.9 : cues[i].end);
		fprintf(f, "Dialogue: 0,%s,%s,Sub,,0,0,0,,", a, b);
		put_ass_text(f, cues[i].text);
		fputc('\n', f);
		if (one_per_second && CardAt(cards, ncards, i) >= 0)
			put_card(f, a, b, &cards[CardAt(cards, ncards, i)]);
	}
	for (int j = 0; j < ncards; j++)
	{
		/* never spoken, or named in the same cue as an earlier card */
		if (cards[j].first < 0 || CardAt(cards, ncards, cards[j].first) != j)
			continue;
		fmt_ass(a, one_per_second ? n + j + 1.1 : cues[cards[j].first].start);
		fmt_ass(b, one_per_second ? n + j + 1.9 : cues[cards[j].last].end);
		put_card(f, a, b, &cards[j]);
	}
	if (opt->wm_text != NULL)
	{
		fmt_ass(a, 0);
		fmt_ass(b, (one_per_second ? n + ncards + 1 : duration) + 1);
		fprintf(f, "Dialogue: 1,%s,%s,Mark,,0,0,0,,", a, b);
		put_ass_text(f, opt->wm_text);
		fputc('\n', f);
	}
	close_out(f, path);
}
