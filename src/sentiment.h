/*-------------------------------------------------------------------------
 *
 * sentiment.h
 *		Declarations shared by the sentiment scorer (sentiment.c) and its
 *		lexicon loader (sentiment_lexicon.c).
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/sentiment.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_SENTIMENT_H
#define RECGEN_SENTIMENT_H

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

/* sentiment_text.c */
extern int	SentimentLower(const char *src, int len, char *dst);
extern bool SentimentIsUpper(const char *s, int len);
extern bool SentimentHasUpper(const char *s, int len);

/* FNV-1a, the hash of the word table, step by step */
#define SENTIMENT_HASH_INIT 2166136261u
#define SENTIMENT_HASH_STEP(h, c) (((h) ^ (unsigned char) (c)) * 16777619u)

/* sentiment_but.c */
extern void SentimentButShift(double *sent, int n, int bi);

/* sentiment_lexicon.c */
extern void SentimentLexiconEnsureLoaded(void);
extern const SentimentWordInfo *SentimentLookupWord(const char *word, int len);
extern const SentimentWordInfo *SentimentLookupWordHashed(const char *word, int len,
														   uint32 hash);
extern const char *SentimentLookupEmoji(uint32 codepoint, int *len);
extern int	SentimentEmojiMaxLen(void);
extern double SentimentBoosterPhrase(const char *phrase, int len);
extern bool SentimentSpecialCase(const char *phrase, int len, double *valence);

#endif							/* RECGEN_SENTIMENT_H */
