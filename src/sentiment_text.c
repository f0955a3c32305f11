/*-------------------------------------------------------------------------
 *
 * sentiment_text.c
 *		Letter case for the sentiment scorer: lower-casing UTF-8 words and
 *		Python's str.isupper(), as the reference implementation sees them.
 *
 * The reference lower-cases with Python's full Unicode tables and asks
 * str.isupper(). Here ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic,
 * fullwidth Latin and the Kelvin sign are mapped; other scripts count as
 * uncased. The lexicon is ASCII, so this can only change the ALL-CAPS rule
 * for words written in other cased scripts (Armenian, Georgian, Cherokee,
 * Latin Extended-B and beyond): such a word is not "upper case" here.
 * Tables from PostgreSQL itself would not help: version 15 has no Unicode
 * case mapping of its own, and libc's depends on the locale, which an
 * IMMUTABLE function must not.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/sentiment_text.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "mb/pg_wchar.h"

#include "sentiment.h"

/*
 * case_of
 *		Case class of a code point: 1 upper, 2 lower, 0 uncased; for an upper
 *		case letter also its lower-case code point.
 */
static int
case_of(uint32 c, uint32 *lower)
{
	*lower = c;
	if (c < 0x80)
	{
		if (c >= 'A' && c <= 'Z')
		{
			*lower = c + 32;
			return 1;
		}
		return (c >= 'a' && c <= 'z') ? 2 : 0;
	}
	if (c <= 0xFF)
	{
		if (c == 0xAA || c == 0xB5 || c == 0xBA)
			return 2;
		if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
		{
			*lower = c + 32;
			return 1;
		}
		return (c >= 0xDF && c != 0xF7) ? 2 : 0;
	}
	if (c <= 0x17F)
	{
		if (c == 0x130 || c == 0x178)
		{
			*lower = (c == 0x178) ? 0xFF : 'i';
			return 1;
		}
		if (c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F)
			return 2;
		if ((c <= 0x137 || (c >= 0x14A && c <= 0x177)) ? (c % 2 == 0) : (c % 2 == 1))
		{
			*lower = c + 1;
			return 1;
		}
		return 2;
	}
	if (c >= 0x386 && c <= 0x3CE)
	{
		if (c == 0x386)
			*lower = 0x3AC;
		else if (c >= 0x388 && c <= 0x38A)
			*lower = c + 37;
		else if (c == 0x38C)
			*lower = 0x3CC;
		else if (c == 0x38E || c == 0x38F)
			*lower = c + 63;
		else if (c >= 0x391 && c <= 0x3AB && c != 0x3A2)
			*lower = c + 32;
		else if (c == 0x390 || c >= 0x3AC)
			return 2;
		else
			return 0;
		return 1;
	}
	if (c >= 0x400 && c <= 0x45F)
	{
		if (c >= 0x430)
			return 2;
		*lower = (c < 0x410) ? c + 80 : c + 32;
		return 1;
	}
	if (c == 0x212A)
	{
		*lower = 'k';
		return 1;
	}
	if (c >= 0xFF21 && c <= 0xFF3A)
	{
		*lower = c + 32;
		return 1;
	}
	if (c >= 0xFF41 && c <= 0xFF5A)
		return 2;
	return 0;
}

/*
 * SentimentLower
 *		Lower-case UTF-8 text into dst (room for 2 * len bytes); returns the
 *		length written. Python maps U+0130 to "i" plus a combining dot.
 */
int
SentimentLower(const char *src, int len, char *dst)
{
	const unsigned char *p = (const unsigned char *) src;
	const unsigned char *end = p + len;
	char	   *d = dst;

	while (p < end)
	{
		uint32		c;
		uint32		lc;
		int			l;

		if (*p < 0x80)
		{
			*d++ = (*p >= 'A' && *p <= 'Z') ? *p + 32 : *p;
			p++;
			continue;
		}
		l = pg_utf_mblen(p);
		if (p + l > end)
			l = end - p;
		c = utf8_to_unicode(p);
		if (case_of(c, &lc) == 1)
		{
			unicode_to_utf8(lc, (unsigned char *) d);
			d += pg_utf_mblen((unsigned char *) d);
			if (c == 0x130)
			{
				unicode_to_utf8(0x307, (unsigned char *) d);
				d += 2;
			}
		}
		else
		{
			memcpy(d, p, l);
			d += l;
		}
		p += l;
	}
	return d - dst;
}

/*
 * SentimentIsUpper
 *		Python's str.isupper(): at least one cased letter, none lower case.
 */
bool
SentimentIsUpper(const char *s, int len)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + len;
	bool		cased = false;

	while (p < end)
	{
		uint32		lc;
		int			k;

		if (*p < 0x80)
		{
			if (*p >= 'a' && *p <= 'z')
				return false;
			if (*p >= 'A' && *p <= 'Z')
				cased = true;
			p++;
			continue;
		}
		k = case_of(utf8_to_unicode(p), &lc);
		if (k == 2)
			return false;
		if (k == 1)
			cased = true;
		p += pg_utf_mblen(p);
	}
	return cased;
}
