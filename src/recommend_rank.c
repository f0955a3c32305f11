/*-------------------------------------------------------------------------
 *
 * recommend_rank.c
 *		The ranking of one recommend() call: which candidates are eligible,
 *		their final scores under the rules, and the list after the
 *		diversity caps, cut at n only at the very end.
 *
 * Exactness. A list is defined independently of n: the strategy's own
 * candidates (tier 0) ranked by final score, then the fill tiers --
 * popular in the customer's segment, in their country, overall, then
 * every other available product -- each ranked by its own score, with
 * the caps (recgen.max_per_category or a max_per_category rule, and one
 * product per variant group) applied greedily in that order. recommend(c,
 * n) returns the first n of that list, so it has min(n, E) rows (E: the
 * eligible products, under the caps) and top-n is the prefix of top-m.
 *
 * Cost. Reading the facts of every candidate would cost most of a call,
 * so candidates are taken in order of an upper bound of their final score
 * (RecUpperBound, times the largest factor and plus the largest interest
 * the rules can give), in batches; after each batch the caps are applied
 * to what has been scored, and the tier stops once n items are accepted
 * and no unscored candidate's bound reaches the n-th item's score. The
 * fill tiers are only read when the tiers before them gave fewer than n.
 *
 * Eligibility: active and in stock; not already bought -- by the product
 * or a variant of it (same normalised name, or same group_key), whose
 * last purchase and the candidate's repurchase_interval decide under
 * recgen.repurchase = catalog; and not excluded by a rule (exclude,
 * eligibility, price_band, a holdback of 1, a factor of 0).
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/recommend_rank.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/timestamp.h"

#include "int64_hash.h"
#include "recommend.h"

/* a key (name, group or category hash) with a count or a time */
typedef struct KeyEntry
{
	uint64		key;
	char		status;			/* simplehash's */
	int			count;
	TimestampTz last;
} KeyEntry;

#define SH_PREFIX			keytab
#define SH_ELEMENT_TYPE		KeyEntry
#define SH_KEY_TYPE			uint64
#define SH_KEY				key
#define SH_HASH_KEY(tb, k)	RecHashInt64(k)
#define SH_EQUAL(tb, a, b)	((a) == (b))
#define SH_SCOPE			static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

struct RecRanker
{
	RecItems   *items;
	int			n;
	Strategy	strategy;
	TimestampTz as_of;
	const RecCustomer *cust;
	const RecRule *rules;
	int			nrules;
	const RecConcern *concerns;
	int			nconcerns;
	double		maxrep;
	/* complementary and upsell: neighbour links by candidate, restricted when evaluated */
	const NeighborRow *restricted;
	RecItem   **hist;
	int			nhist;
	double		sumw;
	/* what the rules can do to any score at most */
	bool		rules_bounded;
	double		bound_mult;
	double		bound_interest;
	/* variant keys of what the customer bought: the last purchase */
	keytab_hash *bought;
	/* category affinity of the history */
	keytab_hash *catkeys;		/* category hash -> index into aff */
	double	   *aff;
	double		max_aff;
	/* eligible items, tiers in order; the current tier from tier_start */
	RecItem   **ranked;
	int			nranked;
	int			cap_ranked;
	int			tier_start;
	/* the list under the caps, at most n long, from the last check */
	RecItem   **accepted;
	int			naccepted;
	keytab_hash *seen;			/* its categories (counts) and variant keys */
	bool		done;
	int			cur_tier;		/* the tier ranked last (-1: none yet) */
	/* balanced: candidates not listed yet (RecRankerDefer) and their bound */
	bool		deferred;
	double		deferred_ub;
	bool		wants_deferred;
	int			nevaluated;		/* candidates whose facts were read and scored */
};

/*
 * rules_bound
 *		The largest factor and interest the rules can give any product of
 *		this customer: the product of every factor above 1, the sum of
 *		every positive interest. False when a rule could turn a score's
 *		sign (a negative boost or interest): then nothing is pruned.
 */
static bool
rules_bound(RecRanker *r)
{
	r->bound_mult = 1.0;
	r->bound_interest = 0.0;
	for (int i = 0; i < r->nrules; i++)
	{
		const RecRule *rule = &r->rules[i];

		if (rule->kind == RULE_BOOST)
		{
			if (rule->value < 0)
				return false;
			r->bound_mult *= Max(1.0, rule->value);
		}
		else if (rule->kind >= RULE_CONCERN_BOOST)
			for (int c = 0; c < r->nconcerns; c++)
			{
				const RecConcern *cc = &r->concerns[c];
				double		vs = rule->value * cc->strength;

				if (rule->topic && strcmp(rule->topic, cc->topic) != 0)
					continue;
				if (!(cc->strength > 0) || cc->polarity == 0)
					continue;
				if (rule->kind == RULE_CONCERN_BOOST && cc->polarity < 0)
				{
					if (1.0 + vs < 0)
						return false;
					r->bound_mult *= Max(1.0, 1.0 + vs);
				}
				else if (rule->kind == RULE_CONCERN_HOLDBACK && cc->polarity < 0)
					r->bound_mult *= Max(1.0, 1.0 - vs);
				else if (rule->kind == RULE_PRAISE_INTEREST && cc->polarity > 0)
				{
					if (vs < 0)
						return false;
					r->bound_interest += vs;
				}
			}
	}
	return true;
}

/*
 * remember_bought
 *		The last purchase of each variant key (normalised name, group) of
 *		the products the customer bought; their facts must be read.
 */
static void
remember_bought(RecRanker *r)
{
	r->bought = keytab_create(CurrentMemoryContext, 64, NULL);
	for (int i = 0; i < RecItemsCount(r->items); i++)
	{
		RecItem    *it = RecItemsAt(r->items, i);
		uint64		keys[2];
		int			nkeys = 0;

		if (it->purchases == 0 || it->name == NULL)
			continue;
		keys[nkeys++] = (uint64) it->name_key;
		if (it->has_group)
			keys[nkeys++] = (uint64) it->group_key;
		for (int k = 0; k < nkeys; k++)
		{
			bool		found;
			KeyEntry   *e = keytab_insert(r->bought, keys[k], &found);

			if (!found || it->last_purchase > e->last)
				e->last = it->last_purchase;
		}
	}
}

/*
 * category_affinity
 *		Share of the heaviest history's weight in each category.
 */
static void
category_affinity(RecRanker *r, RecItem **hist, int nhist)
{
	double		sumw = 0;

	r->catkeys = keytab_create(CurrentMemoryContext, 64, NULL);
	r->aff = palloc0(sizeof(double) * Max(nhist, 1));
	r->max_aff = 0;
	for (int i = 0; i < nhist; i++)
		sumw += hist[i]->w;
	for (int i = 0; i < nhist && sumw > 0; i++)
	{
		bool		found;
		KeyEntry   *e;

		if (!hist[i]->prod.category)
			continue;
		e = keytab_insert(r->catkeys, RecCategoryKey(hist[i]->prod.category), &found);
		if (!found)
			e->count = i;		/* its slot in aff */
		r->aff[e->count] += hist[i]->w / sumw;
		r->max_aff = Max(r->max_aff, r->aff[e->count]);
	}
}

/*
 * RecRankerCreate
 *		A ranking for one call, n long. The facts of the history items
 *		(every item bought, and hist) must have been read.
 */
RecRanker *
RecRankerCreate(RecItems *items, int n, Strategy strategy, TimestampTz as_of,
				const RecCustomer *cust, const RecRule *rules, int nrules,
				const RecConcern *concerns, int nconcerns,
				RecItem **hist, int nhist, double maxrep)
{
	RecRanker  *r = palloc0(sizeof(RecRanker));

	r->items = items;
	r->n = n;
	r->strategy = strategy;
	r->as_of = as_of;
	r->cust = cust;
	r->rules = rules;
	r->nrules = nrules;
	r->concerns = concerns;
	r->nconcerns = nconcerns;
	r->maxrep = maxrep;
	r->hist = hist;
	r->nhist = nhist;
	r->rules_bounded = rules_bound(r);
	remember_bought(r);
	category_affinity(r, hist, nhist);
	r->cur_tier = -1;
	r->cap_ranked = 256;
	r->ranked = palloc(sizeof(RecItem *) * r->cap_ranked);
	r->accepted = palloc(sizeof(RecItem *) * n);
	return r;
}

/*
 * RecRankerRestrict
 *		Complementary and upsell: score each candidate's neighbour links
 *		under the strategy's restriction when it is evaluated (its bound
 *		is the unrestricted sum).
 */
void
RecRankerRestrict(RecRanker *r, const NeighborRow *sorted, double sumw)
{
	r->restricted = sorted;
	r->sumw = sumw;
}

/*
 * RecRankerMaxAffinity
 *		The largest category affinity of the history: what a candidate's
 *		bound assumes before its category is known.
 */
double
RecRankerMaxAffinity(const RecRanker *r)
{
	return r->max_aff;
}

/*
 * RecRankerDefer
 *		Tier 0 has candidates that are not listed (any), none with a bound
 *		(RecUpperBound, before the rules) above max_base: RecRankTier does
 *		not call the tier complete while their bound could reach the list,
 *		and asks for them instead (RecRankerWantsDeferred).
 */
void
RecRankerDefer(RecRanker *r, bool any, double max_base)
{
	r->deferred = any;
	r->wants_deferred = false;
	r->deferred_ub = (max_base + r->bound_interest) * r->bound_mult;
	/* rules without a bound: nothing is pruned */
	if (!r->rules_bounded)
		r->deferred_ub = get_float8_infinity();
}

/*
 * RecRankerWantsDeferred
 *		Whether RecRankTier stopped to ask for the deferred candidates:
 *		list them all (RecRankerDefer(r, false, ...)) and rank the tier
 *		again.
 */
bool
RecRankerWantsDeferred(const RecRanker *r)
{
	return r->wants_deferred;
}

/*
 * repurchase_due
 *		Whether the customer may be recommended it: never bought (nor a
 *		variant of it), or recgen.repurchase allows it again.
 */
static bool
repurchase_due(RecRanker *r, const RecItem *it)
{
	bool		bought = it->purchases > 0;
	TimestampTz last = it->last_purchase;
	uint64		keys[2];
	int			nkeys = 0;
	TimestampTz due;

	keys[nkeys++] = (uint64) it->name_key;
	if (it->has_group)
		keys[nkeys++] = (uint64) it->group_key;
	for (int k = 0; k < nkeys; k++)
	{
		KeyEntry   *e = keytab_lookup(r->bought, keys[k]);

		if (e && (!bought || e->last > last))
			last = e->last;
		bought = bought || e != NULL;
	}
	if (!bought || recgen_repurchase == RECGEN_REPURCHASE_ALWAYS)
		return true;
	if (recgen_repurchase == RECGEN_REPURCHASE_NEVER || !it->has_interval)
		return false;
	due = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
												  TimestampTzGetDatum(last),
												  IntervalPGetDatum(&it->repurchase_interval)));
	return due <= r->as_of;
}

/*
 * evaluate
 *		Decide an item's state in this tier (its facts read): excluded for
 *		good, rejected by the strategy (tier 0 only), or eligible with its
 *		final score, added to the ranking.
 */
static void
evaluate(RecRanker *r, RecItem *it, int tier)
{
	if (it->state == RANK_ELIGIBLE || it->state == RANK_EXCLUDED)
		return;
	if (!it->available || !repurchase_due(r, it))
	{
		it->state = RANK_EXCLUDED;
		return;
	}
	if (!it->rules_done)
	{
		RulesApply(r->rules, r->nrules, &it->prod, r->cust->segment, r->cust->country,
				   r->concerns, r->nconcerns, &it->rules);
		it->cat_limit = RulesMaxPerCategory(r->rules, r->nrules, it->prod.category,
											r->cust->segment, r->cust->country);
		it->rules_done = true;
	}
	if (it->rules.excluded || !(it->rules.multiplier > 0))
	{
		it->state = RANK_EXCLUDED;
		return;
	}
	if (tier == TIER_STRATEGY)
	{
		KeyEntry   *e = it->prod.category ? keytab_lookup(r->catkeys, it->cat_key) : NULL;

		if (r->restricted)
			RecScoreRestricted(it, r->restricted, r->hist, r->nhist, r->sumw, r->strategy);
		if (!RecScoreItem(it, r->strategy, e ? r->aff[e->count] : 0, r->maxrep, r->as_of))
		{
			it->state = RANK_REJECTED;
			return;
		}
	}
	else
	{
		it->score = it->pop_scope + recgen_popularity_weight * it->pop;
		it->reason = it->pop_reason;
	}
	it->score = (it->score + it->rules.interest) * it->rules.multiplier;
	if (it->rules.concern && it->rules.multiplier > 1.0)
		it->reason = "addresses_concern";
	if (it->score < 0)
	{
		it->state = RANK_EXCLUDED;
		return;
	}
	it->state = RANK_ELIGIBLE;
	it->rank_tier = tier;
	if (r->nranked == r->cap_ranked)
	{
		r->cap_ranked *= 2;
		r->ranked = repalloc(r->ranked, sizeof(RecItem *) * r->cap_ranked);
	}
	r->ranked[r->nranked++] = it;
}

/*
 * cmp_final
 *		Order within a tier: score descending, then product id.
 */
static int
cmp_final(const void *a, const void *b)
{
	const RecItem *x = *(RecItem *const *) a;
	const RecItem *y = *(RecItem *const *) b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return (x->product_id > y->product_id) - (x->product_id < y->product_id);
}

/*
 * bound_before
 *		Whether candidate a comes before b: a higher upper bound, then a
 *		lower product id (the order of cmp_final's ties).
 */
static inline bool
bound_before(const RecItem *a, const RecItem *b)
{
	if (a->ub != b->ub)
		return a->ub > b->ub;
	return a->product_id < b->product_id;
}

/*
 * bound_sift
 *		Restore the heap (first in bound order at the root) below i.
 */
static void
bound_sift(RecItem **heap, int n, int i)
{
	RecItem    *x = heap[i];

	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && bound_before(heap[c + 1], heap[c]))
			c++;
		if (!bound_before(heap[c], x))
			break;
		heap[i] = heap[c];
		i = c;
	}
	heap[i] = x;
}

/*
 * apply_caps
 *		Sort the current tier and take the ranking in order, skipping what
 *		a cap forbids (its category full, a variant already listed), until
 *		n are accepted.
 */
static void
apply_caps(RecRanker *r)
{
	keytab_hash *seen;

	if (r->seen)
		keytab_destroy(r->seen);
	seen = r->seen = keytab_create(CurrentMemoryContext, Max(2 * r->n, 16), NULL);

	qsort(r->ranked + r->tier_start, r->nranked - r->tier_start, sizeof(RecItem *), cmp_final);
	r->naccepted = 0;
	for (int i = 0; i < r->nranked && r->naccepted < r->n; i++)
	{
		RecItem    *it = r->ranked[i];
		uint64		cat = it->cat_key;
		KeyEntry   *e;
		bool		found;

		if (it->cat_limit > 0 && (e = keytab_lookup(seen, cat)) != NULL && e->count >= it->cat_limit)
			continue;
		if (keytab_lookup(seen, ~(uint64) it->name_key) != NULL ||
			(it->has_group && keytab_lookup(seen, ~(uint64) it->group_key ^ 1) != NULL))
			continue;
		e = keytab_insert(seen, cat, &found);
		e->count = found ? e->count + 1 : 1;
		keytab_insert(seen, ~(uint64) it->name_key, &found);
		if (it->has_group)
			keytab_insert(seen, ~(uint64) it->group_key ^ 1, &found);
		r->accepted[r->naccepted++] = it;
	}
	if (r->naccepted == r->n)
		r->done = true;
}

/*
 * RecRankTier
 *		Rank a tier's candidates (tier 0: the strategy's; others: fill
 *		tiers, whose pop_scope and pop_reason the caller set). bounded:
 *		their upper bounds hold without facts, so they are read in order
 *		of bound and only as far as needed; else all at once. Returns
 *		whether the list is complete (n accepted, nothing unread could
 *		come before the n-th).
 */
bool
RecRankTier(RecRanker *r, int tier, RecItem **cands, int ncands, bool bounded)
{
	int			m = 0;
	int			left;
	int			batch = 8 * r->n + 40;
	RecItem   **order;

	if (r->done)
		return true;
	bounded = bounded && r->rules_bounded;
	/* what is still open, with its bound */
	for (int i = 0; i < ncands; i++)
	{
		RecItem    *it = cands[i];
		double		base;

		if (it->state == RANK_ELIGIBLE || it->state == RANK_EXCLUDED ||
			(tier == TIER_STRATEGY && it->state == RANK_REJECTED))
			continue;
		/* facts read already (history, bought): what evaluate() would exclude goes now */
		if (it->known && (!it->available || !repurchase_due(r, it)))
		{
			it->state = RANK_EXCLUDED;
			continue;
		}
		if (tier != TIER_STRATEGY)
			base = it->pop_scope + recgen_popularity_weight * it->pop;
		else if (it->cat_hint)
		{
			KeyEntry   *e = keytab_lookup(r->catkeys, RecCategoryKey(it->cat_hint));

			base = RecUpperBound(it, r->strategy, r->maxrep, e ? r->aff[e->count] : 0);
		}
		else
			base = RecUpperBound(it, r->strategy, r->maxrep, r->max_aff);
		it->ub = (base + r->bound_interest) * r->bound_mult;
		cands[m++] = it;
	}
	left = m;
	/* bounded: a heap by bound, taken a batch at a time; else all at once */
	if (bounded)
		for (int i = m / 2 - 1; i >= 0; i--)
			bound_sift(cands, m, i);
	order = palloc(sizeof(RecItem *) * Max(m, 1));
	/* the same tier again (with its deferred candidates) goes on ranking it */
	if (tier != r->cur_tier)
		r->tier_start = r->nranked;
	r->cur_tier = tier;
	while (left > 0)
	{
		int			take = bounded ? Min(left, batch) : left;
		const RecItem *kth;

		CHECK_FOR_INTERRUPTS();
		for (int i = 0; i < take; i++)
		{
			if (bounded)
			{
				order[i] = cands[0];
				cands[0] = cands[--left];
				bound_sift(cands, left, 0);
			}
			else
				order[i] = cands[--left];
		}
		RecLoadFacts(order, take);
		for (int i = 0; i < take; i++)
			evaluate(r, order[i], tier);
		r->nevaluated += take;
		batch *= 2;
		r->done = false;
		apply_caps(r);
		if (!r->done)
			continue;
		/* n accepted: could anything unread come before the n-th? */
		kth = r->accepted[r->n - 1];
		if (left == 0 || cands[0]->ub < kth->score ||
			(cands[0]->ub == kth->score && cands[0]->product_id > kth->product_id))
		{
			/* nor anything deferred (a tie with it is not resolved: list it) */
			if (r->deferred && !(r->deferred_ub < kth->score))
				break;
			pfree(order);
			return true;
		}
	}
	pfree(order);
	r->done = false;
	if (r->deferred)
	{
		/* the rest of the tier could come before the n-th, or is needed */
		r->wants_deferred = true;
		return false;
	}
	apply_caps(r);
	return r->done;
}

/*
 * RecRankerDone
 *		Whether the list is complete.
 */
bool
RecRankerDone(const RecRanker *r)
{
	return r->done;
}

/*
 * RecRankerFull
 *		Between tiers: whether every category of the available products
 *		holds as many items as its cap allows, so that no later tier can
 *		add anything (the list stays shorter than n).
 */
bool
RecRankerFull(RecRanker *r)
{
	char	  **cats;
	int			ncats;

	if (r->done)
		return true;
	if (r->seen == NULL)
		return false;
	ncats = CategoryNames(&cats);
	for (int i = 0; i < ncats; i++)
	{
		const char *cat = cats[i][0] ? cats[i] : NULL;
		int			limit = RulesMaxPerCategory(r->rules, r->nrules, cat,
												r->cust->segment, r->cust->country);
		KeyEntry   *e = keytab_lookup(r->seen, RecCategoryKey(cat));

		if (limit <= 0 || e == NULL || e->count < limit)
			return false;
	}
	return true;
}

/*
 * RecRankerEvaluated
 *		How many candidates have been evaluated (their facts read and
 *		scored) in every tier so far: what the bounds did not prune.
 */
int
RecRankerEvaluated(const RecRanker *r)
{
	return r->nevaluated;
}

/*
 * RecRankerResult
 *		The list, at most n long, best first; returns its length.
 */
int
RecRankerResult(RecRanker *r, RecItem ***out)
{
	*out = r->accepted;
	return r->naccepted;
}
