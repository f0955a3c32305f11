/*-------------------------------------------------------------------------
 *
 * sentiment_text.c
 *		Letter case for the sentiment scorer: lower-casing UTF-8 words and
 *		Python's str.isupper(), as the reference implementation sees them.
 *
 * The reference lower-cases with Python's full Unicode tables and asks
 * str.isupper(). The ALL-CAPS rule needs the case class of every letter:
 * sentiment_case_table.h has it for all of Unicode, generated from
 * Python's own tables by tools/gen_case_table.py. Lower-casing only feeds
 * lookups in the (ASCII) word lists, so it maps ASCII, Latin-1, Latin
 * Extended-A, Greek, Cyrillic, fullwidth Latin and the only non-ASCII
 * letters Python lower-cases to ASCII (U+212A KELVIN SIGN to "k", U+0130 to
 * "i" and a combining dot); any other letter is left as it is, which cannot
 * change a lookup. PostgreSQL 15 has no Unicode case tables of its own, and
 * libc's depend on the locale, which an IMMUTABLE function must not.
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

#include "sentiment_text.h"

typedef struct CaseRange
{
	uint32		first;
	uint32		last;
	uint8		cls;			/* 1 upper, 2 lower or title case */
} CaseRange;

#include "sentiment_case_table.h"

/*
 * case_class
 *		Case class of a non-ASCII code point for str.isupper(): 1 upper,
 *		2 lower or title case, 0 uncased (binary search of the table).
 */
static int
case_class(uint32 c)
{
	int			lo = 0;
	int			hi = lengthof(case_ranges) - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (c < case_ranges[mid].first)
			hi = mid - 1;
		else if (c > case_ranges[mid].last)
			lo = mid + 1;
		else
			return case_ranges[mid].cls;
	}
	return 0;
}

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
		k = case_class(utf8_to_unicode(p));
		if (k == 2)
			return false;
		if (k == 1)
			cased = true;
		p += pg_utf_mblen(p);
	}
	return cased;
}

/*
 * SentimentHasUpper
 *		Whether UTF-8 text contains an upper-case letter anywhere (a lexicon
 *		key with one can never match a lower-cased word).
 */
bool
SentimentHasUpper(const char *s, int len)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + len;

	while (p < end)
	{
		if (*p < 0x80)
		{
			if (*p >= 'A' && *p <= 'Z')
				return true;
			p++;
			continue;
		}
		if (case_class(utf8_to_unicode(p)) == 1)
			return true;
		p += pg_utf_mblen(p);
	}
	return false;
}
