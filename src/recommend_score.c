/*-------------------------------------------------------------------------
 *
 * recommend_score.c
 *		Scoring of recgen.recommend(): neighbour contributions, the
 *		preliminary score that prunes candidates, the strategies' scores
 *		and reasons, and the reason_detail jsonb.
 *
 * The formulas are described in recommend.c's header and docs/engine.md.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/recommend_score.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/float.h"
#include "utils/numeric.h"

#include "engine.h"
#include "recommend.h"

/*
 * RecAddSource
 *		Remember up to three strongest sources of a candidate.
 */
void
RecAddSource(RecItem *c, int64 src, double contrib)
{
	for (int k = 0; k < 3; k++)
	{
		if (c->src[k] == src)
		{
			c->srcw[k] += contrib;
			return;
		}
	}
	for (int k = 0; k < 3; k++)
	{
		if (c->src[k] == 0 || contrib > c->srcw[k])
		{
			for (int m = 2; m > k; m--)
			{
				c->src[m] = c->src[m - 1];
				c->srcw[m] = c->srcw[m - 1];
			}
			c->src[k] = src;
			c->srcw[k] = contrib;
			return;
		}
	}
}

/*
 * RecCmpHist
 *		qsort order of history items: heaviest first, then by id.
 */
int
RecCmpHist(const void *a, const void *b)
{
	const RecItem *x = *(RecItem *const *) a;
	const RecItem *y = *(RecItem *const *) b;

	if (x->w != y->w)
		return x->w > y->w ? -1 : 1;
	return (x->product_id > y->product_id) - (x->product_id < y->product_id);
}

/*
 * RecCategoryKey
 *		Hash of a category (NULL counts as the empty category), to compare
 *		and count categories without their strings.
 */
uint64
RecCategoryKey(const char *category)
{
	const char *c = category ? category : "";

	return DatumGetUInt64(hash_any_extended((const unsigned char *) c, strlen(c), 0x63617467));
}

/*
 * same_category
 *		Do two products (facts read) have the same (non-null) category?
 */
static bool
same_category(const RecItem *a, const RecItem *b)
{
	return a->cat_key == b->cat_key && a->prod.category && b->prod.category &&
		strcmp(a->prod.category, b->prod.category) == 0;
}

/* upsell: same need (category), a higher tier or price, within the price bound */
static bool
is_upgrade(const RecItem *from, const RecItem *to)
{
	bool		higher;

	if (!same_category(from, to) || from->product_id == to->product_id)
		return false;
	if (from->has_tier && to->has_tier)
		higher = to->tier > from->tier;
	else
		higher = to->prod.price > from->prod.price;
	if (!higher)
		return false;
	if (from->prod.price > 0 && to->prod.price > from->prod.price * recgen_upsell_max_price_ratio)
		return false;
	return true;
}

/*
 * jb_key
 *		Push an object key.
 */
static void
jb_key(JsonbParseState **st, const char *key)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) key;
	v.val.string.len = strlen(key);
	pushJsonbValue(st, WJB_KEY, &v);
}

/*
 * jb_string
 *		Push a string value (object value or array element).
 */
static void
jb_string(JsonbParseState **st, JsonbIteratorToken tok, const char *str)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) str;
	v.val.string.len = strlen(str);
	pushJsonbValue(st, tok, &v);
}

/*
 * jb_number
 *		Push a number given as text (the same numeric jsonb_in would make).
 */
static void
jb_number(JsonbParseState **st, JsonbIteratorToken tok, const char *text)
{
	JsonbValue	v;

	v.type = jbvNumeric;
	v.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(text),
														ObjectIdGetDatum(InvalidOid),
														Int32GetDatum(-1)));
	pushJsonbValue(st, tok, &v);
}

/*
 * jb_fixed4
 *		Push a double rounded to 4 decimals.
 */
static void
jb_fixed4(JsonbParseState **st, JsonbIteratorToken tok, double x)
{
	char		buf[64];

	snprintf(buf, sizeof(buf), "%.4f", x);
	jb_number(st, tok, buf);
}

/*
 * RecReasonDetail
 *		The jsonb that says what led to a recommendation, built directly
 *		as a JsonbValue (numbers rounded to 4 decimals): strategy,
 *		category, cold_start, because, components, times_bought, rules,
 *		concern.
 */
Datum
RecReasonDetail(RecItems *items, const RecItem *c, const char *strategy, bool cold)
{
	JsonbParseState *st = NULL;
	JsonbValue	v;
	JsonbValue *res;
	char		buf[64];

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	jb_key(&st, "strategy");
	jb_string(&st, WJB_VALUE, strategy);
	jb_key(&st, "category");
	jb_string(&st, WJB_VALUE, c->prod.category ? c->prod.category : "");
	jb_key(&st, "cold_start");
	v.type = jbvBool;
	v.val.boolean = cold;
	pushJsonbValue(&st, WJB_VALUE, &v);
	if (c->rank_tier > TIER_STRATEGY && !cold)
	{
		/* the strategy's own candidates did not fill the list */
		jb_key(&st, "fallback");
		v.type = jbvBool;
		v.val.boolean = true;
		pushJsonbValue(&st, WJB_VALUE, &v);
	}
	jb_key(&st, "because");
	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (int k = 0; k < 3 && c->src[k] != 0; k++)
	{
		RecItem    *s = RecItemFind(items, c->src[k]);

		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		jb_key(&st, "product_id");
		snprintf(buf, sizeof(buf), INT64_FORMAT, c->src[k]);
		jb_number(&st, WJB_VALUE, buf);
		jb_key(&st, "name");
		jb_string(&st, WJB_VALUE, (s && s->name) ? s->name : "");
		jb_key(&st, "weight");
		jb_fixed4(&st, WJB_VALUE, c->srcw[k]);
		pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	}
	pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	jb_key(&st, "components");
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	jb_key(&st, "cooc");
	jb_fixed4(&st, WJB_VALUE, c->cooc);
	jb_key(&st, "content");
	jb_fixed4(&st, WJB_VALUE, c->content);
	jb_key(&st, "customers");
	jb_fixed4(&st, WJB_VALUE, c->cust);
	jb_key(&st, "repeat");
	jb_fixed4(&st, WJB_VALUE, c->rep_share);
	jb_key(&st, "popularity");
	jb_fixed4(&st, WJB_VALUE, c->pop);
	pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	if (c->purchases > 0)
	{
		jb_key(&st, "times_bought");
		snprintf(buf, sizeof(buf), "%d", c->purchases);
		jb_number(&st, WJB_VALUE, buf);
	}
	jb_key(&st, "rules");
	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (int k = 0; k < c->rules.nfired; k++)
	{
		snprintf(buf, sizeof(buf), "%d", c->rules.fired[k]);
		jb_number(&st, WJB_ELEM, buf);
	}
	pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	if (c->rules.concern)
	{
		jb_key(&st, "concern");
		jb_string(&st, WJB_VALUE, c->rules.concern);
	}
	res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	return JsonbPGetDatum(JsonbValueToJsonb(res));
}

/*
 * RecSumNeighbors
 *		The neighbour contributions of the history to every candidate,
 *		unrestricted: cooc(c) and content(c), and the strongest sources.
 *		They are the final ones for balanced, similar and new, and an upper
 *		bound for complementary and upsell (RecScoreRestricted).
 */
void
RecSumNeighbors(NeighborRow *nbrows, int nnb, double sumw)
{
	for (int r = 0; r < nnb; r++)
	{
		RecItem    *h = nbrows[r].h;
		RecItem    *c = nbrows[r].c;
		double		contrib;

		if (h->w <= 0 || sumw <= 0)
			continue;
		contrib = h->w * nbrows[r].s / sumw;
		if (nbrows[r].content)
			c->content += contrib;
		else
			c->cooc += contrib;
		RecAddSource(c, h->product_id, contrib);
	}
}

/*
 * RecIndexNeighbors
 *		The neighbour links ordered by candidate (a counting sort), each
 *		candidate's slice in nb_first and nb_count, so that the links of
 *		one candidate can be scored when it is evaluated.
 */
NeighborRow *
RecIndexNeighbors(RecItems *items, const NeighborRow *nbrows, int nnb)
{
	NeighborRow *sorted = palloc(sizeof(NeighborRow) * Max(nnb, 1));
	int			pos = 0;

	for (int r = 0; r < nnb; r++)
		nbrows[r].c->nb_count++;
	for (int i = 0; i < RecItemsCount(items); i++)
	{
		RecItem    *it = RecItemsAt(items, i);

		it->nb_first = pos;
		pos += it->nb_count;
		it->nb_count = 0;
	}
	for (int r = 0; r < nnb; r++)
	{
		RecItem    *c = nbrows[r].c;

		sorted[c->nb_first + c->nb_count++] = nbrows[r];
	}
	return sorted;
}

/*
 * RecScoreRestricted
 *		Complementary and upsell: a candidate's neighbour contributions
 *		again, restricted by the strategy (complementary: co-occurrence
 *		from a history item of another category; upsell: from items it
 *		upgrades), and for upsell the upgrade bonus from every history
 *		item it upgrades, with or without a link. Needs the facts of the
 *		candidate and of the history; sorted is RecIndexNeighbors'.
 */
void
RecScoreRestricted(RecItem *c, const NeighborRow *sorted, RecItem **hist, int nhist,
				   double sumw, Strategy strategy)
{
	c->cooc = c->content = c->up = 0;
	memset(c->src, 0, sizeof(c->src));
	memset(c->srcw, 0, sizeof(c->srcw));
	if (sumw <= 0)
		return;
	for (int r = c->nb_first; r < c->nb_first + c->nb_count; r++)
	{
		const NeighborRow *row = &sorted[r];
		RecItem    *h = row->h;
		double		contrib;

		if (h->w <= 0)
			continue;
		if (strategy == ST_COMPLEMENTARY && (row->content || same_category(h, c)))
			continue;
		if (strategy == ST_UPSELL && !is_upgrade(h, c))
			continue;
		contrib = h->w * row->s / sumw;
		if (row->content)
			c->content += contrib;
		else
			c->cooc += contrib;
		RecAddSource(c, h->product_id, contrib);
	}
	if (strategy == ST_UPSELL)
		for (int k = 0; k < nhist; k++)
			if (is_upgrade(hist[k], c))
			{
				c->up += 0.1 * hist[k]->w / sumw;
				RecAddSource(c, hist[k]->product_id, 0.1 * hist[k]->w / sumw);
			}
}

/*
 * repeat_share
 *		The candidate's decayed purchases relative to the customer's (the
 *		length of their vector or the largest, recgen.repeat_norm; 0 when
 *		never bought).
 */
static inline double
repeat_share(const RecItem *it, double maxrep)
{
	return (it->purchases > 0 && maxrep > 0) ? it->rep / maxrep : 0;
}

/*
 * RecBalancedBound
 *		Balanced's upper bound from its parts: the neighbour sums, the
 *		repeat share, the category affinity assumed and the popularity.
 *		RecUpperBound and the pool's deferred candidates (recommend_pool.c)
 *		both use it, so a deferred bound is the very number the ranker
 *		would compute for the item.
 */
double
RecBalancedBound(double cooc, double content, double rep_share, double cust,
				 double max_aff, double pop)
{
	return cooc + recgen_content_weight * content +
		recgen_repeat_weight * rep_share +
		recgen_neighbor_weight * cust + recgen_category_weight * max_aff +
		recgen_popularity_weight * pop;
}

/*
 * RecUpperBound
 *		An upper bound of the strategy's score of a candidate before its
 *		facts are read: the neighbour sums (exact for balanced, similar and
 *		new, a bound for the others), its repeats and popularity, and the
 *		largest category affinity of the history for its own, which is
 *		not known yet (or its own, when its category is: upsell's
 *		category items). Rules are bounded by the ranker.
 */
double
RecUpperBound(const RecItem *it, Strategy strategy, double maxrep, double max_aff)
{
	double		pop = recgen_popularity_weight * it->pop;
	double		aff = recgen_category_weight * max_aff;

	switch (strategy)
	{
		case ST_BALANCED:
			return RecBalancedBound(it->cooc, it->content, repeat_share(it, maxrep),
									it->cust, max_aff, it->pop);
		case ST_SIMILAR:
			return it->content + 0.3 * it->cooc + aff + pop;
		case ST_COMPLEMENTARY:
			return it->cooc + pop;
		case ST_UPSELL:
			/* the upgrade bonus is 0.1 times the share of the history upgraded */
			return 0.1 * max_aff + it->cooc + it->content + pop;
		case ST_POPULAR:
			return pop;
		case ST_NEW:
			return it->cooc + it->content + aff + pop + 0.01;
	}
	return get_float8_infinity();
}

/*
 * RecScoreItem
 *		The strategy's score and reason of one available candidate (its
 *		facts read), given its category affinity aff; false when the
 *		strategy does not recommend it (a fill tier may still).
 */
bool
RecScoreItem(RecItem *it, Strategy strategy, double aff, double maxrep, TimestampTz as_of)
{
	double		rep = repeat_share(it, maxrep);
	double		best;
	TimestampTz new_from = as_of - (TimestampTz) recgen_new_item_age * USECS_PER_SEC;

	it->rep_share = rep;

	switch (strategy)
	{
		case ST_BALANCED:
			it->score = it->cooc + recgen_content_weight * it->content +
				recgen_repeat_weight * rep + recgen_neighbor_weight * it->cust +
				recgen_category_weight * aff + recgen_popularity_weight * it->pop;
			best = it->cooc;
			it->reason = "bought_together";
			if (recgen_neighbor_weight * it->cust > best)
			{
				best = recgen_neighbor_weight * it->cust;
				it->reason = "similar_customers";
			}
			if (recgen_content_weight * it->content > best)
			{
				best = recgen_content_weight * it->content;
				it->reason = "similar";
			}
			if (recgen_repeat_weight * rep > best)
			{
				best = recgen_repeat_weight * rep;
				it->reason = "repeat";
			}
			if (recgen_category_weight * aff > best)
			{
				best = recgen_category_weight * aff;
				it->reason = "category_affinity";
			}
			if (recgen_popularity_weight * it->pop > best)
				it->reason = "popular";
			break;
		case ST_SIMILAR:
			if (it->content + it->cooc <= 0)
				return false;
			it->score = it->content + 0.3 * it->cooc + recgen_category_weight * aff +
				recgen_popularity_weight * it->pop;
			it->reason = "similar";
			break;
		case ST_COMPLEMENTARY:
			if (it->cooc <= 0)
				return false;
			it->score = it->cooc + recgen_popularity_weight * it->pop;
			it->reason = "cross_sell";
			break;
		case ST_UPSELL:
			if (it->up + it->cooc + it->content <= 0)
				return false;
			it->score = it->up + it->cooc + it->content + recgen_popularity_weight * it->pop;
			it->reason = "upsell";
			break;
		case ST_POPULAR:
			return false;		/* popularity is the fill tiers' */
		case ST_NEW:
			if (!it->is_new || it->created_at < new_from)
				return false;
			it->score = it->cooc + it->content + recgen_category_weight * aff +
				recgen_popularity_weight * it->pop +
				0.01 * (double) (it->created_at - new_from) /
				((double) recgen_new_item_age * USECS_PER_SEC);
			it->reason = "new";
			break;
	}
	return it->score > 0;
}
