/*-------------------------------------------------------------------------
 *
 * sentiment_lexicon.h
 *		The VADER word tables (sentiment_lexicon.c): what is known about a
 *		word, and the lookups the scorer (sentiment.c) makes.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/sentiment_lexicon.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_SENTIMENT_LEXICON_H
#define RECGEN_SENTIMENT_LEXICON_H

/* Words the rules test by identity (besides lexicon, booster, negation) */
typedef enum SentimentWordId
{
	SW_NONE = 0,
	SW_AT,
	SW_BUT,
	SW_DOUBT,
	SW_KIND,
	SW_LEAST,
	SW_NEVER,
	SW_NO,
	SW_NOR,
	SW_OF,
	SW_OR,
	SW_SO,
	SW_THIS,
	SW_VERY,
	SW_WITHOUT
} SentimentWordId;

/* What the tables know about one lower-cased word */
typedef struct SentimentWordInfo
{
	bool		in_lexicon;		/* vader_lexicon.txt has it */
	bool		negation;		/* a negation word of the reference */
	bool		booster;		/* a booster or dampener */
	bool		in_phrase;		/* part of an idiom or a two-word booster */
	uint8		word_id;		/* SentimentWordId */
	double		valence;		/* lexicon valence, if in_lexicon */
	double		boost;			/* booster increment, if booster */
} SentimentWordInfo;


/* FNV-1a, the hash of the word table, step by step */
#define SENTIMENT_HASH_INIT 2166136261u
#define SENTIMENT_HASH_STEP(h, c) (((h) ^ (unsigned char) (c)) * 16777619u)


/* sentiment_lexicon.c */
extern void SentimentLexiconEnsureLoaded(void);
extern const SentimentWordInfo *SentimentLookupWord(const char *word, int len);
extern const SentimentWordInfo *SentimentLookupWordHashed(const char *word, int len,
														   uint32 hash);
extern const char *SentimentLookupEmoji(uint32 codepoint, int *len);
extern int	SentimentEmojiMaxLen(void);
extern double SentimentBoosterPhrase(const char *phrase, int len);
extern bool SentimentSpecialCase(const char *phrase, int len, double *valence);

#endif							/* RECGEN_SENTIMENT_LEXICON_H */
