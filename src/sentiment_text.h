/*-------------------------------------------------------------------------
 *
 * sentiment_text.h
 *		Case as Python sees it, for the sentiment scorer and the lexicon
 *		loader (sentiment_text.c).
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/sentiment_text.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_SENTIMENT_TEXT_H
#define RECGEN_SENTIMENT_TEXT_H

/* sentiment_text.c */
extern int	SentimentLower(const char *src, int len, char *dst);
extern bool SentimentIsUpper(const char *s, int len);
extern bool SentimentHasUpper(const char *s, int len);

#endif							/* RECGEN_SENTIMENT_TEXT_H */
