/*-------------------------------------------------------------------------
 *
 * rules.c
 *		Business rules of recgen.recommend(): rows of recgen.rules, read on
 *		every call (the table is small and edited by admins), matched
 *		against the customer and each candidate product.
 *
 * A rule selects products by product_id, category and tag (every one that
 * is set must match; none set selects every product) and customers by
 * segment and country (same). strategy NULL applies to every strategy.
 * Kinds (see the table's comments and docs/engine.md):
 *	exclude, boost, eligibility, max_per_category, price_band,
 *	concern_boost, concern_holdback, praise_interest.
 * The concern kinds read the customer's rows of recgen.customer_concerns
 * (with recgen.concern_topics), which recommend.c loads only when that
 * table exists and a concern rule is active.
 *
 * The rules are read with the caller's rights: an analyst may read them,
 * only recgen_admin may change them.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/rules.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "engine.h"
#include "rules.h"
#include "spi_util.h"

static KeptQuery rules_query = {
	"SELECT rule_id, kind, product_id, category, tag, segment, country, "
	"topic, value::float8, min_price::float8, max_price::float8 "
	"FROM recgen.rules WHERE active AND (strategy IS NULL OR strategy = $1) "
	"ORDER BY rule_id", 1, {TEXTOID}
};

static const char *const kind_names[] = {
	"exclude", "boost", "eligibility", "max_per_category", "price_band",
	"concern_boost", "concern_holdback", "praise_interest", NULL
};

/*
 * rule_kind
 *		The kind of a rule by its name. A kind this library does not know
 *		(the table's CHECK lists the same words, test/python/test_word_lists.py
 *		compares them; a newer script with an older library could differ)
 *		is an error: acting on it as anything else could recommend what a
 *		rule was meant to hold back.
 */
static RecRuleKind
rule_kind(const char *kind, int32 rule_id)
{
	for (int k = 0; kind_names[k]; k++)
		if (strcmp(kind, kind_names[k]) == 0)
			return (RecRuleKind) k;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("rule %d of recgen.rules has kind \"%s\", which this version of recgen does not know",
					rule_id, kind),
			 errhint("Kinds are exclude, boost, eligibility, max_per_category, price_band, concern_boost, concern_holdback and praise_interest; deactivate the rule or install the library that matches the extension's SQL.")));
	return RULE_EXCLUDE;		/* keep the compiler quiet */
}

/*
 * RulesLoad
 *		The active rules for this strategy, in rule_id order, allocated in
 *		the current memory context. Must be called inside SPI.
 */
RecRule *
RulesLoad(const char *strategy, int *nrules, bool *any_concern)
{
	Datum		args[1];
	RecRule    *rules;

	args[0] = CStringGetTextDatum(strategy);
	KeptQueryRun(&rules_query, args, true, SPI_OK_SELECT);

	*nrules = (int) SPI_processed;
	*any_concern = false;
	rules = palloc0(sizeof(RecRule) * Max(*nrules, 1));
	for (int i = 0; i < *nrules; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		RecRule    *r = &rules[i];
		bool		isnull;
		char	   *kind;
		Datum		d;

		r->rule_id = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
		kind = SPI_getvalue(tup, desc, 2);
		r->kind = rule_kind(kind, r->rule_id);
		d = SPI_getbinval(tup, desc, 3, &isnull);
		r->has_product = !isnull;
		r->product_id = isnull ? 0 : DatumGetInt64(d);
		r->category = SPI_getvalue(tup, desc, 4);
		r->tag = SPI_getvalue(tup, desc, 5);
		r->segment = SPI_getvalue(tup, desc, 6);
		r->country = SPI_getvalue(tup, desc, 7);
		r->topic = SPI_getvalue(tup, desc, 8);
		d = SPI_getbinval(tup, desc, 9, &isnull);
		r->value = isnull ? 0 : DatumGetFloat8(d);
		d = SPI_getbinval(tup, desc, 10, &isnull);
		r->has_min = !isnull;
		r->min_price = isnull ? 0 : DatumGetFloat8(d);
		d = SPI_getbinval(tup, desc, 11, &isnull);
		r->has_max = !isnull;
		r->max_price = isnull ? 0 : DatumGetFloat8(d);
		if (r->kind >= RULE_CONCERN_BOOST)
			*any_concern = true;
	}
	SPI_freetuptable(SPI_tuptable);
	return rules;
}

/* whether a rule's customer selection matches this customer */
static bool
matches_customer(const RecRule *r, const char *segment, const char *country)
{
	if (r->segment && (segment == NULL || strcmp(r->segment, segment) != 0))
		return false;
	if (r->country && (country == NULL || strcmp(r->country, country) != 0))
		return false;
	return true;
}

static bool
has_tag(const RecProduct *p, const char *tag)
{
	for (int i = 0; i < p->ntags; i++)
		if (strcmp(p->tags[i], tag) == 0)
			return true;
	return false;
}

/* whether a rule's product selection matches this product */
static bool
matches_product(const RecRule *r, const RecProduct *p)
{
	if (r->has_product && r->product_id != p->product_id)
		return false;
	if (r->category && (p->category == NULL || strcmp(r->category, p->category) != 0))
		return false;
	if (r->tag && !has_tag(p, r->tag))
		return false;
	return true;
}

static bool
in_list(char **list, int n, const char *s)
{
	if (s == NULL)
		return false;
	for (int i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static void
fired(RecRuleOutcome *out, int32 rule_id)
{
	if (out->nfired < (int) lengthof(out->fired))
		out->fired[out->nfired++] = rule_id;
}

/*
 * RulesApply
 *		Apply every rule to one product for one customer: whether it is
 *		excluded, the factor its score is multiplied by and the interest
 *		added to it, and which rules fired.
 */
void
RulesApply(const RecRule *rules, int nrules, const RecProduct *prod,
		   const char *segment, const char *country,
		   const RecConcern *concerns, int nconcerns, RecRuleOutcome *out)
{
	out->excluded = false;
	out->multiplier = 1.0;
	out->interest = 0.0;
	out->nfired = 0;
	out->concern = NULL;

	for (int i = 0; i < nrules && !out->excluded; i++)
	{
		const RecRule *r = &rules[i];
		bool		cust = matches_customer(r, segment, country);

		if (!matches_product(r, prod))
			continue;
		switch (r->kind)
		{
			case RULE_EXCLUDE:
				if (cust)
				{
					out->excluded = true;
					fired(out, r->rule_id);
				}
				break;
			case RULE_BOOST:
				if (cust)
				{
					out->multiplier *= r->value;
					fired(out, r->rule_id);
				}
				break;
			case RULE_ELIGIBILITY:
				/* the selected products are only for the selected customers */
				if (!cust)
				{
					out->excluded = true;
					fired(out, r->rule_id);
				}
				break;
			case RULE_PRICE_BAND:
				if (cust && ((r->has_min && prod->price < r->min_price) ||
							 (r->has_max && prod->price > r->max_price)))
				{
					out->excluded = true;
					fired(out, r->rule_id);
				}
				break;
			case RULE_MAX_PER_CATEGORY:
				break;			/* see RulesMaxPerCategory */
			case RULE_CONCERN_BOOST:
			case RULE_CONCERN_HOLDBACK:
			case RULE_PRAISE_INTEREST:
				if (!cust)
					break;
				for (int c = 0; c < nconcerns; c++)
				{
					const RecConcern *cc = &concerns[c];

					if (r->topic && strcmp(r->topic, cc->topic) != 0)
						continue;
					/* no strength or no side: nothing to act on */
					if (!(cc->strength > 0) || cc->polarity == 0)
						continue;
					if (r->kind == RULE_CONCERN_BOOST && cc->polarity < 0)
					{
						bool		addresses = false;

						for (int t = 0; t < cc->nremedy && !addresses; t++)
							addresses = has_tag(prod, cc->remedy_tags[t]);
						if (addresses)
						{
							out->multiplier *= 1.0 + r->value * cc->strength;
							out->concern = cc->topic;
							fired(out, r->rule_id);
						}
					}
					else if (r->kind == RULE_CONCERN_HOLDBACK && cc->polarity < 0 &&
							 in_list(cc->categories, cc->ncategories, prod->category))
					{
						if (r->value >= 1.0)
							out->excluded = true;
						else
							out->multiplier *= Max(0.0, 1.0 - r->value * cc->strength);
						out->concern = cc->topic;
						fired(out, r->rule_id);
					}
					else if (r->kind == RULE_PRAISE_INTEREST && cc->polarity > 0 &&
							 in_list(cc->categories, cc->ncategories, prod->category))
					{
						out->interest += r->value * cc->strength;
						out->concern = cc->topic;
						fired(out, r->rule_id);
					}
				}
				break;
		}
	}
}

/*
 * RulesMaxPerCategory
 *		The most items of this category one list may hold: the last matching
 *		max_per_category rule naming the category, else one without a
 *		category, else recgen.max_per_category. 0 means no limit.
 */
int
RulesMaxPerCategory(const RecRule *rules, int nrules, const char *category,
					const char *segment, const char *country)
{
	int			general = -1,
				specific = -1;

	for (int i = 0; i < nrules; i++)
	{
		const RecRule *r = &rules[i];

		if (r->kind != RULE_MAX_PER_CATEGORY || !matches_customer(r, segment, country))
			continue;
		if (r->category == NULL)
			general = (int) r->value;
		else if (category && strcmp(r->category, category) == 0)
			specific = (int) r->value;
	}
	if (specific >= 0)
		return specific;
	if (general >= 0)
		return general;
	return recgen_max_per_category;
}
