/*-------------------------------------------------------------------------
 *
 * recommend.h
 *		Declarations shared by the files of recgen.recommend():
 *		recommend.c (the SQL function and its flow), recommend_load.c
 *		(queries: history, products, popularity, concerns),
 *		recommend_score.c (scoring, pruning, reasons) and model_cache.c
 *		(the per-backend cache of the current model).
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/recommend.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_RECOMMEND_H
#define RECGEN_RECOMMEND_H

#include "datatype/timestamp.h"
#include "utils/hsearch.h"

#include "engine.h"
#include "rules.h"

typedef enum Strategy
{
	ST_BALANCED,
	ST_SIMILAR,
	ST_COMPLEMENTARY,
	ST_UPSELL,
	ST_POPULAR,
	ST_NEW
} Strategy;

/* product_cache.c: what recommend() needs of a product */
typedef struct ProductFacts
{
	int64		product_id;		/* hash key */
	bool		exists;			/* false: no such product */
	char	   *name;
	RecProduct	prod;			/* category, price, tags (for rules) */
	bool		has_tier;
	double		tier;
	bool		available;		/* active and in stock */
	bool		has_interval;
	Interval	repurchase_interval;
	TimestampTz created_at;
} ProductFacts;

extern void ProductCacheBeginCall(void);
extern const ProductFacts *ProductFactsGet(int64 product_id);
extern void ProductFactsFetch(const int64 *ids, int n);

/* one product: history item, candidate, or both */
typedef struct RecItem
{
	int64		product_id;		/* hash key */
	/* history */
	double		kindw[4];		/* decayed events: cart_add, click, purchase, view */
	double		w;
	double		rep;
	int			purchases;
	TimestampTz last_purchase;
	bool		is_hist;		/* among the heaviest history items */
	/* candidate */
	bool		candidate;
	double		pre;			/* preliminary score, for pruning */
	double		cooc;
	double		content;
	double		up;
	double		pop_scope;
	const char *pop_reason;
	int64		src[3];
	double		srcw[3];
	/* product facts */
	bool		known;
	bool		available;
	char	   *name;
	RecProduct	prod;
	bool		has_tier;
	double		tier;
	bool		repurchase_due;
	TimestampTz created_at;
	double		pop;
	/* result */
	double		score;
	const char *reason;
	RecRuleOutcome rules;
} RecItem;

/* recommend_items.c: the items of one call, by product id */
typedef struct RecItems RecItems;

extern RecItems *RecItemsCreate(int expect);
extern RecItem *RecItemGet(RecItems *items, int64 id);
extern RecItem *RecItemFind(RecItems *items, int64 id);
extern int	RecItemsCount(const RecItems *items);
extern RecItem *RecItemsAt(const RecItems *items, int i);

/* one neighbour link: history item h to candidate c (items never move) */
typedef struct NeighborRow
{
	RecItem    *h;
	RecItem    *c;
	bool		content;
	double		s;
} NeighborRow;

/* model_cache.c: the current model, per backend */
#define MODEL_NB_COOC		0
#define MODEL_NB_CONTENT	1

typedef struct ModelNeighbors
{
	int			n;
	int64	   *ids;
	int32	   *slots;			/* the neighbours' ModelItem.slot */
	float4	   *scores;
} ModelNeighbors;

typedef struct ModelItem
{
	int64		product_id;		/* hash key */
	int32		slot;			/* dense number, 0 .. ModelCacheSize() - 1 */
	ModelNeighbors nb[2];		/* MODEL_NB_COOC, MODEL_NB_CONTENT */
	double		pop;			/* overall popularity, 0 if never bought */
} ModelItem;

extern void ModelCacheEnsure(int64 model_id, TimestampTz built_at);
extern const ModelItem *ModelCacheItem(int64 product_id);
extern int	ModelCacheSize(void);
extern double ModelCachePopularity(int64 product_id);
extern int	ModelCachePopular(int limit, const int64 **ids, const double **scores);

/* recommend_load.c: the queries */
typedef struct RecCustomer
{
	int64		model_id;
	TimestampTz built_at;
	char	   *segment;
	char	   *country;
	bool		concern_tables;
} RecCustomer;

extern void RecCheckCustomer(int64 customer_id, RecCustomer *cust);
extern double RecLoadHistory(RecItems *items, int64 customer_id, TimestampTz as_of);
extern NeighborRow *RecCollectNeighbors(RecItems *items, RecItem **hist, int nhist, int *nnb);
extern int	RecLoadPopular(RecItems *items, int64 model_id, const char *scope, const char *value,
						   int limit, const char *reason);
extern void RecLoadNewItems(RecItems *items, TimestampTz since);
extern int	RecLoadCategoryItems(RecItems *items, RecItem **hist, int nhist);
extern void RecLoadProducts(RecItems *items, TimestampTz as_of);
extern RecConcern *RecLoadConcerns(int64 customer_id, int *n);

/* recommend_score.c: scoring */
extern void RecAddSource(RecItem *c, int64 src, double contrib);
extern int	RecCmpHist(const void *a, const void *b);
extern int	RecCmpScore(const void *a, const void *b);
extern void RecPruneCandidates(RecItems *items, NeighborRow *nbrows, int nnb, double sumw,
							   double maxrep, int max_keep);
extern void RecScoreNeighbors(RecItems *items, RecItem **hist, int nhist, double sumw,
							  NeighborRow *nbrows, int nnb, Strategy strategy);
extern bool RecScoreItem(RecItem *it, Strategy strategy, double aff, bool cold,
						 TimestampTz as_of);
extern Datum RecReasonDetail(RecItems *items, const RecItem *c, const char *strategy, bool cold);

#endif							/* RECGEN_RECOMMEND_H */
