/*-------------------------------------------------------------------------
 *
 * rules.h
 *		Business rules of recgen.recommend() (rules.c): rows of recgen.rules
 *		and the concerns and product facts they are matched against.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/rules.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_RULES_H
#define RECGEN_RULES_H

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

#endif							/* RECGEN_RULES_H */
