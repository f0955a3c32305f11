/*-------------------------------------------------------------------------
 *
 * sentiment_lexicon.c
 *		The word tables of the VADER sentiment scorer: the lexicon and the
 *		emoji descriptions, read once per backend from data files, plus the
 *		fixed word lists of the method (negations, boosters, idioms).
 *
 * Data. The lexicon (word -> mean valence) and the emoji dictionary (emoji
 * -> English description) are data files of the vaderSentiment package
 * (C.J. Hutto, MIT licence), installed with the extension into
 * share/extension as recgen_vader_lexicon.txt and recgen_vader_emoji.txt
 * with the licence beside them (recgen_vader_LICENSE.txt). They are files,
 * not a table, because recgen.sentiment() is IMMUTABLE: its result must not
 * change with the contents of a table an admin can edit (stored scores and
 * expression indexes would silently go stale), and a file read once needs no
 * SPI, no snapshot and works the same in parallel workers. Changing the
 * lexicon is a new extension version, like any other change of behaviour.
 *
 * The word lists below (negations, boosters and dampeners, special-case
 * idioms) are part of the method as published by Hutto & Gilbert (2014) and
 * implemented by vaderSentiment 3.3.2; they are written out here as data.
 *
 * Lifetime. Everything lives in TopMemoryContext from the first call in a
 * backend until it exits: about 7,500 words and 1,200 emoji, well under a
 * megabyte. Lookups are open-addressing hash probes on FNV-1a hashes; no
 * allocation happens after loading.
 *
 * Reachability. The reference looks words up lower-cased, so a lexicon key
 * with upper-case letters (":D", ":-P") can never match; such keys are
 * skipped. The reference walks the text one code point at a time, so only
 * single-code-point emoji keys can ever match; multi-code-point keys (flags,
 * skin tones, ZWJ sequences) are skipped for the same reason.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/sentiment_lexicon.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>

#include "miscadmin.h"
#include "mb/pg_wchar.h"
#include "storage/fd.h"
#include "utils/memutils.h"

#include "sentiment_lexicon.h"
#include "sentiment_text.h"

#define B_INCR 0.293
#define B_DECR (-0.293)

/* One word of the combined table */
typedef struct WordEntry
{
	char	   *key;			/* NULL when the slot is free */
	int			len;
	uint32		hash;
	SentimentWordInfo info;
} WordEntry;

/* One emoji (a single code point) and its description */
typedef struct EmojiEntry
{
	uint32		codepoint;		/* 0 when the slot is free */
	int			len;
	char	   *description;
} EmojiEntry;

static WordEntry *word_table = NULL;
static uint32 word_mask = 0;
static EmojiEntry *emoji_table = NULL;
static uint32 emoji_mask = 0;
static int	emoji_max_len = 1;
static bool lexicon_loaded = false;

static const char *const negation_words[] = {
	"aint", "arent", "cannot", "cant", "couldnt", "darent", "didnt", "doesnt",
	"ain't", "aren't", "can't", "couldn't", "daren't", "didn't", "doesn't",
	"dont", "hadnt", "hasnt", "havent", "isnt", "mightnt", "mustnt", "neither",
	"don't", "hadn't", "hasn't", "haven't", "isn't", "mightn't", "mustn't",
	"neednt", "needn't", "never", "none", "nope", "nor", "not", "nothing",
	"nowhere", "oughtnt", "shant", "shouldnt", "uhuh", "wasnt", "werent",
	"oughtn't", "shan't", "shouldn't", "uh-uh", "wasn't", "weren't",
	"without", "wont", "wouldnt", "won't", "wouldn't", "rarely", "seldom",
	"despite"
};

static const char *const booster_up[] = {
	"absolutely", "amazingly", "awfully", "completely", "considerable",
	"considerably", "decidedly", "deeply", "effing", "enormous", "enormously",
	"entirely", "especially", "exceptional", "exceptionally", "extreme",
	"extremely", "fabulously", "flipping", "flippin", "frackin", "fracking",
	"fricking", "frickin", "frigging", "friggin", "fully", "fuckin", "fucking",
	"fuggin", "fugging", "greatly", "hella", "highly", "hugely", "incredible",
	"incredibly", "intensely", "major", "majorly", "more", "most",
	"particularly", "purely", "quite", "really", "remarkably", "so",
	"substantially", "thoroughly", "total", "totally", "tremendous",
	"tremendously", "uber", "unbelievably", "unusually", "utter", "utterly",
	"very"
};

/* single-word dampeners; the two-word ones are in booster_phrases */
static const char *const booster_down[] = {
	"almost", "barely", "hardly", "kinda", "kindof", "kind-of", "less",
	"little", "marginal", "marginally", "occasional", "occasionally", "partly",
	"scarce", "scarcely", "slight", "slightly", "somewhat", "sorta", "sortof",
	"sort-of"
};

static const char *const booster_phrases[] = {
	"just enough", "kind of", "sort of"
};

typedef struct SpecialCase
{
	const char *phrase;
	double		valence;
} SpecialCase;

/* idioms that override the valence of the lexicon word they contain */
static const SpecialCase special_cases[] = {
	{"the shit", 3}, {"the bomb", 3}, {"bad ass", 1.5}, {"badass", 1.5},
	{"bus stop", 0.0}, {"yeah right", -2}, {"kiss of death", -1.5},
	{"to die for", 3}, {"beating heart", 3.5}
};

typedef struct NamedWord
{
	const char *word;
	SentimentWordId id;
} NamedWord;

static const NamedWord named_words[] = {
	{"at", SW_AT}, {"but", SW_BUT}, {"doubt", SW_DOUBT}, {"kind", SW_KIND},
	{"least", SW_LEAST}, {"never", SW_NEVER}, {"no", SW_NO}, {"nor", SW_NOR},
	{"of", SW_OF}, {"or", SW_OR}, {"so", SW_SO}, {"this", SW_THIS},
	{"very", SW_VERY}, {"without", SW_WITHOUT}
};

/*
 * hash_bytes_fnv
 *		FNV-1a over a byte string: short, fast for the short keys we have.
 */
static inline uint32
hash_bytes_fnv(const char *s, int len)
{
	uint32		h = SENTIMENT_HASH_INIT;

	for (int i = 0; i < len; i++)
		h = SENTIMENT_HASH_STEP(h, s[i]);
	return h;
}

/*
 * word_slot_hashed
 *		The entry for a word of hash h, inserting an empty one if create is
 *		true; NULL when absent and not created.
 */
static WordEntry *
word_slot_hashed(const char *word, int len, uint32 h, bool create)
{
	uint32		i = h & word_mask;

	for (;;)
	{
		WordEntry  *e = &word_table[i];

		if (e->key == NULL)
		{
			if (!create)
				return NULL;
			e->key = MemoryContextAlloc(TopMemoryContext, len + 1);
			memcpy(e->key, word, len);
			e->key[len] = '\0';
			e->len = len;
			e->hash = h;
			return e;
		}
		if (e->hash == h && e->len == len && memcmp(e->key, word, len) == 0)
			return e;
		i = (i + 1) & word_mask;
	}
}

/*
 * word_slot
 *		word_slot_hashed, hashing the word first.
 */
static WordEntry *
word_slot(const char *word, int len, bool create)
{
	return word_slot_hashed(word, len, hash_bytes_fnv(word, len), create);
}

/*
 * read_data_file
 *		The whole content of share/extension/<name>, palloc'd and
 *		NUL-terminated, in the current memory context.
 */
static char *
read_data_file(const char *name, long *size)
{
	char		sharepath[MAXPGPATH];
	char		path[MAXPGPATH];
	FILE	   *f;
	char	   *buf;
	long		n;

	get_share_path(my_exec_path, sharepath);
	snprintf(path, sizeof(path), "%s/extension/%s", sharepath, name);

	f = AllocateFile(path, PG_BINARY_R);
	if (f == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open sentiment lexicon file \"%s\": %m", path),
				 errhint("The file is installed with the extension; reinstall recgen.")));
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read sentiment lexicon file \"%s\": %m", path)));
	buf = palloc(n + 1);
	if (n > 0 && fread(buf, 1, n, f) != (size_t) n)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read sentiment lexicon file \"%s\": %m", path)));
	buf[n] = '\0';
	FreeFile(f);
	*size = n;
	return buf;
}

/*
 * next_line
 *		Split the next line off *cursor (up to '\n'), trim whitespace at both
 *		ends as Python's str.strip() does for ASCII, and return its start;
 *		NULL at the end of the buffer.
 */
static char *
next_line(char **cursor, int *len)
{
	char	   *start = *cursor;
	char	   *end;

	if (*start == '\0')
		return NULL;
	end = strchr(start, '\n');
	if (end == NULL)
		end = start + strlen(start);
	*cursor = (*end == '\n') ? end + 1 : end;
	while (start < end && (*start == ' ' || (*start >= '\t' && *start <= '\r')))
		start++;
	while (end > start && (end[-1] == ' ' || (end[-1] >= '\t' && end[-1] <= '\r')))
		end--;
	*len = end - start;
	return start;
}

/*
 * load_lexicon
 *		Read the word lexicon: "word<TAB>mean<TAB>sd<TAB>ratings" per line.
 *		A later line for the same word wins, as in the reference's dict.
 */
static void
load_lexicon(void)
{
	long		size;
	char	   *buf = read_data_file("recgen_vader_lexicon.txt", &size);
	char	   *cursor = buf;
	char	   *line;
	int			len;
	char	   *lowered = palloc(2 * size + 8);

	while ((line = next_line(&cursor, &len)) != NULL)
	{
		char	   *tab;
		char	   *endp;
		double		v;
		int			llen;
		WordEntry  *e;

		if (len == 0)
			continue;
		line[len] = '\0';
		tab = strchr(line, '\t');
		if (tab == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("malformed line in sentiment lexicon: \"%s\"", line)));
		*tab = '\0';
		v = strtod(tab + 1, &endp);
		if (endp == tab + 1)
			ereport(ERROR,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("malformed valence for \"%s\" in sentiment lexicon", line)));
		/* keys with upper case can never match a lower-cased token */
		llen = SentimentLower(line, tab - line, lowered);
		if (llen != tab - line || memcmp(lowered, line, llen) != 0 ||
			SentimentHasUpper(line, llen))
			continue;
		e = word_slot(line, llen, true);
		e->info.in_lexicon = true;
		e->info.valence = v;
	}
	pfree(lowered);
	pfree(buf);
}

/*
 * load_emoji
 *		Read the emoji dictionary: "emoji<TAB>description" per line. Only
 *		keys that are one code point are kept (see the file header).
 */
static void
load_emoji(void)
{
	long		size;
	char	   *buf = read_data_file("recgen_vader_emoji.txt", &size);
	char	   *cursor = buf;
	char	   *line;
	int			len;

	while ((line = next_line(&cursor, &len)) != NULL)
	{
		char	   *tab;
		char	   *desc;
		int			klen;
		int			dlen;
		uint32		cp;
		uint32		i;

		line[len] = '\0';
		tab = strchr(line, '\t');
		if (tab == NULL)
			continue;
		klen = tab - line;
		if (klen == 0 || pg_utf_mblen((unsigned char *) line) != klen ||
			!pg_utf8_islegal((unsigned char *) line, klen))
			continue;
		cp = utf8_to_unicode((unsigned char *) line);
		desc = tab + 1;
		dlen = strcspn(desc, "\t");
		i = (cp * 2654435761u) & emoji_mask;
		while (emoji_table[i].codepoint != 0 && emoji_table[i].codepoint != cp)
			i = (i + 1) & emoji_mask;
		emoji_table[i].codepoint = cp;
		emoji_table[i].len = dlen;
		emoji_max_len = Max(emoji_max_len, dlen + 1);
		emoji_table[i].description = MemoryContextAlloc(TopMemoryContext, dlen + 1);
		memcpy(emoji_table[i].description, desc, dlen);
		emoji_table[i].description[dlen] = '\0';
	}
	pfree(buf);
}

/*
 * SentimentLexiconEnsureLoaded
 *		Build the tables on first use in this backend. On error nothing is
 *		marked loaded, so the next call tries again from scratch.
 */
void
SentimentLexiconEnsureLoaded(void)
{
	MemoryContext tmp;
	MemoryContext old;

	if (lexicon_loaded)
		return;

	tmp = AllocSetContextCreate(CurrentMemoryContext, "recgen sentiment load",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(tmp);

	/* 7,500 words and the fixed lists fit at a load factor under one half */
	word_mask = 16384 - 1;
	if (word_table)
		pfree(word_table);
	word_table = MemoryContextAllocZero(TopMemoryContext,
										sizeof(WordEntry) * (word_mask + 1));
	emoji_mask = 4096 - 1;
	if (emoji_table)
		pfree(emoji_table);
	emoji_table = MemoryContextAllocZero(TopMemoryContext,
										 sizeof(EmojiEntry) * (emoji_mask + 1));

	load_lexicon();
	load_emoji();

	for (int i = 0; i < lengthof(negation_words); i++)
		word_slot(negation_words[i], strlen(negation_words[i]), true)->info.negation = true;
	for (int i = 0; i < lengthof(booster_up); i++)
	{
		WordEntry  *e = word_slot(booster_up[i], strlen(booster_up[i]), true);

		e->info.booster = true;
		e->info.boost = B_INCR;
	}
	for (int i = 0; i < lengthof(booster_down); i++)
	{
		WordEntry  *e = word_slot(booster_down[i], strlen(booster_down[i]), true);

		e->info.booster = true;
		e->info.boost = B_DECR;
	}
	/* words that occur in idioms and two-word boosters, for a quick reject */
	for (int i = 0; i < lengthof(special_cases) + lengthof(booster_phrases); i++)
	{
		const char *ph = (i < lengthof(special_cases)) ? special_cases[i].phrase :
			booster_phrases[i - lengthof(special_cases)];

		while (*ph)
		{
			int			l = strcspn(ph, " ");

			word_slot(ph, l, true)->info.in_phrase = true;
			ph += l;
			while (*ph == ' ')
				ph++;
		}
	}
	for (int i = 0; i < lengthof(named_words); i++)
		word_slot(named_words[i].word, strlen(named_words[i].word), true)->info.word_id = named_words[i].id;

	MemoryContextSwitchTo(old);
	MemoryContextDelete(tmp);
	lexicon_loaded = true;
}

/*
 * SentimentLookupWord
 *		What the tables know about a lower-cased word, or NULL.
 */
const SentimentWordInfo *
SentimentLookupWord(const char *word, int len)
{
	WordEntry  *e = word_slot(word, len, false);

	return e ? &e->info : NULL;
}

/*
 * SentimentLookupWordHashed
 *		SentimentLookupWord for a caller that computed the hash on the way
 *		(SENTIMENT_HASH_STEP over the lower-cased bytes).
 */
const SentimentWordInfo *
SentimentLookupWordHashed(const char *word, int len, uint32 hash)
{
	WordEntry  *e = word_slot_hashed(word, len, hash, false);

	return e ? &e->info : NULL;
}

/*
 * SentimentLookupEmoji
 *		The description of a one-code-point emoji, or NULL.
 */
const char *
SentimentLookupEmoji(uint32 codepoint, int *len)
{
	uint32		i = (codepoint * 2654435761u) & emoji_mask;

	while (emoji_table[i].codepoint != 0)
	{
		if (emoji_table[i].codepoint == codepoint)
		{
			*len = emoji_table[i].len;
			return emoji_table[i].description;
		}
		i = (i + 1) & emoji_mask;
	}
	return NULL;
}

/*
 * SentimentBoosterPhrase
 *		The increment of a two-word booster or dampener ("kind of"), else 0.
 */
double
SentimentBoosterPhrase(const char *phrase, int len)
{
	for (int i = 0; i < lengthof(booster_phrases); i++)
		if (strlen(booster_phrases[i]) == (size_t) len &&
			memcmp(booster_phrases[i], phrase, len) == 0)
			return B_DECR;
	return 0.0;
}

/*
 * SentimentSpecialCase
 *		Whether a phrase is one of the special-case idioms, and its valence.
 */
bool
SentimentSpecialCase(const char *phrase, int len, double *valence)
{
	for (int i = 0; i < lengthof(special_cases); i++)
		if (strlen(special_cases[i].phrase) == (size_t) len &&
			memcmp(special_cases[i].phrase, phrase, len) == 0)
		{
			*valence = special_cases[i].valence;
			return true;
		}
	return false;
}

/*
 * SentimentEmojiMaxLen
 *		Length of the longest emoji description plus its leading space.
 */
int
SentimentEmojiMaxLen(void)
{
	return emoji_max_len;
}
