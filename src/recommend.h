/*-------------------------------------------------------------------------
 *
 * recommend.h
 *		Declarations shared by the files of recgen.recommend():
 *		recommend.c (the SQL function and its flow), recommend_load.c
 *		(queries: history, candidates, product facts, concerns),
 *		recommend_score.c (neighbour sums, strategy scores, reasons),
 *		recommend_rank.c (tiers, bounds, rules and caps before the cut),
 *		recommend_items.c (the items of a call), recommend_pool.c
 *		(balanced's candidates by model slot), recommend_customers.c
 *		(customer neighbours), model_cache.c and
 *		product_cache.c (the per-backend caches of the model and of
 *		product facts).
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
	int64		name_key;		/* hash of the normalised name */
	bool		has_group;
	int64		group_key;		/* hash of group_key, if has_group */
} ProductFacts;

extern void ProductCacheBeginCall(void);
extern const ProductFacts *ProductFactsGet(int64 product_id);
extern void ProductFactsFetch(const int64 *ids, int n);

/* category_index.c: available products by category */
extern void CategoryIndexBeginCall(void);
extern int	CategoryNames(char ***out);
extern int	CategoryProducts(const char *category, const int64 **ids, const double **prices);

/* where an item stands in the ranking of one call */
typedef enum RankState
{
	RANK_UNSEEN = 0,			/* not evaluated yet */
	RANK_REJECTED,				/* the strategy does not recommend it (a fill tier may) */
	RANK_ELIGIBLE,				/* scored, in the ranking of its tier */
	RANK_EXCLUDED				/* never: unavailable, bought, or a rule */
} RankState;

/* tiers: the strategy's own candidates, then what fills a short list */
#define TIER_STRATEGY	0
#define TIER_SEGMENT	1		/* popular in the customer's segment */
#define TIER_COUNTRY	2		/* popular in the customer's country */
#define TIER_OVERALL	3		/* popular overall (every item ever bought) */
#define TIER_CATALOG	4		/* every other available product */

/* one product: history item, candidate, or both */
typedef struct RecItem
{
	int64		product_id;		/* hash key */
	/* history */
	double		kindw[4];		/* decayed events: cart_add, click, purchase, view */
	double		w;
	double		rep;			/* decayed purchases (recgen.repeat_order_decay) */
	double		rep_share;		/* rep relative to the customer's (recgen.repeat_norm) */
	double		nbw;			/* purchases decayed by recgen.neighbor_half_life */
	int			purchases;
	TimestampTz last_purchase;
	bool		is_hist;		/* among the heaviest history items */
	/* candidate */
	bool		candidate;		/* of the strategy (tier 0) */
	bool		is_new;			/* strategy "new": created within new_item_age */
	double		ub;				/* upper bound of its final score */
	double		cooc;
	double		content;
	double		cust;			/* bought by the nearest customers, / the largest */
	double		up;
	double		pop_scope;		/* score in the popularity scope of its tier */
	const char *pop_reason;
	int64		src[3];
	double		srcw[3];
	const char *cat_hint;		/* its category, known before its facts (upsell) */
	int			nb_first;		/* its neighbour links (RecIndexNeighbors) */
	int			nb_count;
	/* product facts */
	bool		known;
	bool		available;
	char	   *name;
	RecProduct	prod;
	bool		has_tier;
	double		tier;
	bool		has_interval;
	Interval	repurchase_interval;
	TimestampTz created_at;
	int64		name_key;
	bool		has_group;
	int64		group_key;
	double		pop;			/* overall popularity in [0, 1] */
	bool		pop_known;		/* pop is set */
	/* ranking */
	RankState	state;
	int			rank_tier;
	bool		rules_done;
	int			cat_limit;		/* most items of its category in one list, 0 = no limit */
	uint64		cat_key;		/* hash of its category (RecCategoryKey) */
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
	RecItem    *c;				/* NULL when collected without items (balanced) */
	int32		slot;			/* c's model slot */
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
extern const double *ModelCacheSlotPopularity(void);
extern const int64 *ModelCacheSlotIds(void);
extern void ModelCacheKey(int64 *model_id, TimestampTz *built_at);
extern int	ModelCachePopular(int limit, const int64 **ids, const double **scores);
extern int	ModelCacheScope(const char *scope, const char *value, const int64 **ids,
							const double **scores);

/* profile_cache.c: the model's customer profiles, per backend and user */
typedef struct ProfileIndex
{
	int			nprofiles;
	int64	   *customer_ids;
	int64	   *start;			/* nprofiles + 1 offsets into slot and weight */
	int32	   *slot;			/* model cache slots */
	float4	   *weight;			/* unit length per profile */
	int			nslots;
	int64	   *post_start;		/* nslots + 1 offsets into post_profile */
	int32	   *post_profile;
	float4	   *post_weight;
} ProfileIndex;

extern const ProfileIndex *ProfileCacheGet(void);

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
extern NeighborRow *RecCollectNeighbors(RecItems *items, RecItem **hist, int nhist, int *nnb,
										bool make_items);
extern void RecLoadNewItems(RecItems *items, TimestampTz since);
extern void RecLoadCategoryItems(RecItems *items, RecItem **hist, int nhist);
extern int	RecLoadCatalogPage(int64 after, int limit, int64 *ids);
extern void RecLoadFacts(RecItem **list, int n);
extern RecConcern *RecLoadConcerns(int64 customer_id, int *n);

/* recommend_score.c: scoring */
extern uint64 RecCategoryKey(const char *category);
extern int	RecCmpHist(const void *a, const void *b);
extern void RecAddSource(RecItem *c, int64 src, double contrib);
extern void RecSumNeighbors(NeighborRow *nbrows, int nnb, double sumw);
extern NeighborRow *RecIndexNeighbors(RecItems *items, const NeighborRow *nbrows, int nnb);
extern void RecScoreRestricted(RecItem *c, const NeighborRow *sorted, RecItem **hist, int nhist,
							   double sumw, Strategy strategy);
extern double RecBalancedBound(double cooc, double content, double rep_share, double cust,
							   double max_aff, double pop);
extern double RecUpperBound(const RecItem *it, Strategy strategy, double maxrep, double aff);
extern bool RecScoreItem(RecItem *it, Strategy strategy, double aff, double maxrep,
						 TimestampTz as_of);
extern Datum RecReasonDetail(RecItems *items, const RecItem *c, const char *strategy, bool cold);

/* recommend_customers.c: customer neighbours */
extern int	RecCustomerNeighbors(RecItems *items, int64 customer_id, double *cust, bool *seen,
								 int32 *touched_slots, int *ntouched_slots);

/* recommend_pool.c: balanced's candidates by model slot, made items lazily */
typedef struct RecPool RecPool;

extern RecPool *RecPoolCreate(RecItems *items, const NeighborRow *rows, int nrows, double sumw,
							  int64 customer_id, int keep, double max_aff);
extern int	RecPoolDeferred(const RecPool *pool, double *max_base);
extern void RecPoolMaterialize(RecPool *pool);
extern void RecPoolCounts(const RecPool *pool, int *deferred, int *made_later);

/* recommend_rank.c: tiers, rules and caps before the cut */
typedef struct RecRanker RecRanker;

extern RecRanker *RecRankerCreate(RecItems *items, int n, Strategy strategy, TimestampTz as_of,
								  const RecCustomer *cust, const RecRule *rules, int nrules,
								  const RecConcern *concerns, int nconcerns,
								  RecItem **hist, int nhist, double maxrep);
extern void RecRankerRestrict(RecRanker *r, const NeighborRow *sorted, double sumw);
extern double RecRankerMaxAffinity(const RecRanker *r);
extern void RecRankerDefer(RecRanker *r, bool any, double max_base);
extern bool RecRankerWantsDeferred(const RecRanker *r);
extern bool RecRankTier(RecRanker *r, int tier, RecItem **cands, int ncands, bool bounded);
extern bool RecRankerDone(const RecRanker *r);
extern bool RecRankerFull(RecRanker *r);
extern int	RecRankerEvaluated(const RecRanker *r);
extern int	RecRankerResult(RecRanker *r, RecItem ***out);

#endif							/* RECGEN_RECOMMEND_H */
