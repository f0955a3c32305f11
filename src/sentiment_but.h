/*-------------------------------------------------------------------------
 *
 * sentiment_but.h
 *		VADER's "but" rule in O(n log n) (sentiment_but.c).
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/sentiment_but.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_SENTIMENT_BUT_H
#define RECGEN_SENTIMENT_BUT_H

/* sentiment_but.c */
extern void SentimentButShift(double *sent, int n, int bi);

#endif							/* RECGEN_SENTIMENT_BUT_H */
