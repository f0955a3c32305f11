/*-------------------------------------------------------------------------
 *
 * engine.h
 *		Declarations shared by the recommendation engine's source files:
 *		its settings, the model refresh and the rules.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/engine.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_ENGINE_H
#define RECGEN_ENGINE_H

#include "datatype/timestamp.h"
#include "utils/array.h"

/* recgen.repurchase: may already bought items be recommended again? */
typedef enum RecgenRepurchase
{
	RECGEN_REPURCHASE_CATALOG,	/* after products.repurchase_interval */
	RECGEN_REPURCHASE_ALWAYS,	/* always (replenishment evaluation) */
	RECGEN_REPURCHASE_NEVER		/* never */
} RecgenRepurchase;

/* Settings, defined in engine_guc.c */
extern int	recgen_model_max_basket;
extern int	recgen_model_neighbors;
extern double recgen_model_shrinkage;
extern int	recgen_model_history_items;
extern int	recgen_model_scope_items;
extern double recgen_model_history_weight;
extern double recgen_model_content_max_df;
extern int	recgen_recency_half_life;
extern int	recgen_max_per_category;
extern int	recgen_history_items;
extern double recgen_repeat_weight;
extern double recgen_content_weight;
extern double recgen_category_weight;
extern double recgen_popularity_weight;
extern int	recgen_repurchase;
extern double recgen_upsell_max_price_ratio;
extern int	recgen_new_item_age;

/* model_content.c: a bounded min-heap keeping the K best (score, item) */
typedef struct TopKEntry
{
	float4		score;
	int32		item;
	float4		support;
} TopKEntry;

typedef struct TopK
{
	int			k;
	int			n;
	TopKEntry  *e;				/* heap order; best first after TopKSort */
} TopK;

extern void TopKInit(TopK *top, int k);
extern void TopKPush(TopK *top, float4 score, int32 item, float4 support);
extern void TopKSort(TopK *top);

/*
 * TopKOffer
 *		TopKPush, with the common case (a full heap whose worst entry is
 *		better) decided inline, without a call.
 */
static inline void
TopKOffer(TopK *top, float4 score, int32 item, float4 support)
{
	if (top->n == top->k &&
		(score < top->e[0].score || (score == top->e[0].score && item > top->e[0].item)))
		return;
	TopKPush(top, score, item, support);
}

/* model_refresh.c: buffered writer of recgen.item_neighbors rows */
typedef struct NeighborSink
{
	int			n;
	int			cap;
	int64	   *product;
	int64	   *neighbor;
	float4	   *score;
	float4	   *support;
	const char *kind;
	int64		model_id;
	int64		total;
} NeighborSink;

extern void NeighborSinkReserve(NeighborSink *sink, int k);
extern void NeighborSinkAdd(NeighborSink *sink, int64 product, int64 neighbor,
							float4 score, float4 support);
extern void NeighborSinkFlush(NeighborSink *sink);
extern int64 ModelBuildContent(int nitems, const int64 *item_ids,
							   char **category, ArrayType **tags, char **text,
							   NeighborSink *sink);

/* rules.c: business rules (rows of recgen.rules) */
typedef enum RecRuleKind
{
	RULE_EXCLUDE,
	RULE_BOOST,
	RULE_ELIGIBILITY,
	RULE_MAX_PER_CATEGORY,
	RULE_PRICE_BAND,
	RULE_CONCERN_BOOST,
	RULE_CONCERN_HOLDBACK,
	RULE_PRAISE_INTEREST
} RecRuleKind;

typedef struct RecRule
{
	int32		rule_id;
	RecRuleKind kind;
	bool		has_product;
	int64		product_id;
	char	   *category;
	char	   *tag;
	char	   *segment;
	char	   *country;
	char	   *topic;
	double		value;
	bool		has_min;
	double		min_price;
	bool		has_max;
	double		max_price;
} RecRule;

/* a customer's concern (recgen.customer_concerns joined to concern_topics) */
typedef struct RecConcern
{
	char	   *topic;
	int			polarity;
	double		strength;
	int			ncategories;
	char	  **categories;
	int			nremedy;
	char	  **remedy_tags;
} RecConcern;

/* what rules look at in a candidate product */
typedef struct RecProduct
{
	int64		product_id;
	char	   *category;
	double		price;
	int			ntags;
	char	  **tags;
} RecProduct;

/* outcome of the rules for one product */
typedef struct RecRuleOutcome
{
	bool		excluded;
	double		multiplier;
	double		interest;		/* added to the score (praise) */
	int			nfired;
	int32		fired[8];
	const char *concern;		/* topic of a concern rule that fired */
} RecRuleOutcome;

extern RecRule *RulesLoad(const char *strategy, int *nrules, bool *any_concern);
extern void RulesApply(const RecRule *rules, int nrules, const RecProduct *prod,
					   const char *segment, const char *country,
					   const RecConcern *concerns, int nconcerns,
					   RecRuleOutcome *out);
extern int	RulesMaxPerCategory(const RecRule *rules, int nrules, const char *category,
								const char *segment, const char *country);

/* model_popularity.c: popularity accumulated during the event scan */
typedef struct PopAccum PopAccum;

#define POP_SCOPE_VALUE_LEN 128

extern PopAccum *PopAccumCreate(TimestampTz as_of, int nitems);
extern void PopAccumSetCustomer(PopAccum *pa, const char *segment, const char *country);
extern void PopAccumAdd(PopAccum *pa, int32 item, TimestampTz at);
extern int64 PopAccumWrite(PopAccum *pa, int64 model_id, const int64 *item_ids);

#endif							/* RECGEN_ENGINE_H */
