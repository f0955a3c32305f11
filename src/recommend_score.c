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

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
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
 * pre_better
 *		Is candidate a before b by preliminary score (then by id)?
 */
static inline bool
pre_better(const RecItem *a, const RecItem *b)
{
	if (a->pre != b->pre)
		return a->pre > b->pre;
	return a->product_id < b->product_id;
}

/*
 * pre_sift_down
 *		Restore the heap below i, whose root is the worst candidate kept.
 */
static void
pre_sift_down(RecItem **heap, int n, int i)
{
	for (;;)
	{
		int			l = 2 * i + 1;
		int			w = i;
		RecItem    *t;

		if (l < n && pre_better(heap[w], heap[l]))
			w = l;
		if (l + 1 < n && pre_better(heap[w], heap[l + 1]))
			w = l + 1;
		if (w == i)
			return;
		t = heap[i];
		heap[i] = heap[w];
		heap[w] = t;
		i = w;
	}
}

/*
 * RecPruneCandidates
 *		Keep the best max_keep candidates by a preliminary score computed
 *		before product facts are read (neighbour contributions without the
 *		strategy's category conditions, repeats and popularity), so that
 *		reading products and applying rules stays cheap for customers with
 *		long histories.
 */
void
RecPruneCandidates(RecItems *items, NeighborRow *nbrows, int nnb, double sumw,
				   double maxrep, int max_keep)
{
	RecItem    *it;
	RecItem   **c = palloc(sizeof(RecItem *) * Max(max_keep, 1));
	int			nc = 0;

	for (int r = 0; r < nnb; r++)
	{
		RecItem    *h = nbrows[r].h;

		if (sumw > 0)
			nbrows[r].c->pre += h->w * nbrows[r].s / sumw * (nbrows[r].content ? recgen_content_weight : 1.0);
	}
	/* keep the max_keep best in a heap whose root is the worst kept */
	for (int i = 0; i < RecItemsCount(items); i++)
	{
		it = RecItemsAt(items, i);
		if (!it->candidate)
			continue;
		if (it->purchases > 0 && maxrep > 0)
			it->pre += recgen_repeat_weight * it->rep / maxrep;
		it->pre += it->pop_scope;
		if (nc < max_keep)
		{
			c[nc++] = it;
			if (nc == max_keep)
				for (int i = nc / 2 - 1; i >= 0; i--)
					pre_sift_down(c, nc, i);
		}
		else if (pre_better(it, c[0]))
		{
			c[0]->candidate = false;
			c[0] = it;
			pre_sift_down(c, nc, 0);
		}
		else
			it->candidate = false;
	}
	pfree(c);
}

/*
 * RecCmpScore
 *		qsort order of scored candidates: best first, then by id.
 */
int
RecCmpScore(const void *a, const void *b)
{
	const RecItem *x = *(RecItem *const *) a;
	const RecItem *y = *(RecItem *const *) b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return (x->product_id > y->product_id) - (x->product_id < y->product_id);
}

/*
 * same_category
 *		Do two products have the same (non-null) category?
 */
static bool
same_category(const RecItem *a, const RecItem *b)
{
	return a->prod.category && b->prod.category && strcmp(a->prod.category, b->prod.category) == 0;
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
	jb_key(&st, "repeat");
	jb_fixed4(&st, WJB_VALUE, c->rep);
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
 * RecScoreNeighbors
 *		Add the neighbour contributions of the history to the candidates,
 *		restricted by the strategy (complementary: co-occurrence from
 *		another category; upsell: upgrades only), and for upsell the
 *		upgrades of history items that have no neighbour link.
 */
void
RecScoreNeighbors(RecItems *items, RecItem **hist, int nhist, double sumw,
				  NeighborRow *nbrows, int nnb, Strategy strategy)
{
	for (int r = 0; r < nnb; r++)
	{
		RecItem    *h = nbrows[r].h;
		RecItem    *c = nbrows[r].c;
		double		contrib;

		if (h->w <= 0)
			continue;
		if (strategy == ST_COMPLEMENTARY && (nbrows[r].content || same_category(h, c)))
			continue;
		if (strategy == ST_UPSELL && !is_upgrade(h, c))
			continue;
		contrib = h->w * nbrows[r].s / sumw;
		if (nbrows[r].content)
			c->content += contrib;
		else
			c->cooc += contrib;
		RecAddSource(c, h->product_id, contrib);
	}
	if (strategy == ST_UPSELL)
	{
		/* an upgrade of a history item is a candidate even without neighbours */
		for (int i = 0; i < RecItemsCount(items); i++)
		{
			RecItem    *it = RecItemsAt(items, i);

			if (!it->candidate || !it->known)
				continue;
			for (int i = 0; i < nhist; i++)
				if (is_upgrade(hist[i], it))
				{
					it->up += 0.1 * hist[i]->w / sumw;
					RecAddSource(it, hist[i]->product_id, 0.1 * hist[i]->w / sumw);
				}
		}
	}
}

/*
 * RecScoreItem
 *		The strategy's score and reason of one available candidate, given
 *		its category affinity aff; false when the strategy does not
 *		recommend it at all.
 */
bool
RecScoreItem(RecItem *it, Strategy strategy, double aff, bool cold, TimestampTz as_of)
{
	double		rep = it->rep;
	double		best;

	switch (strategy)
	{
		case ST_BALANCED:
			it->score = it->cooc + recgen_content_weight * it->content +
				recgen_repeat_weight * rep + recgen_category_weight * aff +
				recgen_popularity_weight * it->pop;
			best = it->cooc;
			it->reason = "bought_together";
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
			if (recgen_popularity_weight * it->pop > best || cold)
				it->reason = cold ? it->pop_reason : "popular";
			if (cold)
				it->score = it->pop_scope + recgen_popularity_weight * it->pop;
			break;
		case ST_SIMILAR:
			if (cold)
				it->score = it->pop_scope;
			else if (it->content + it->cooc <= 0)
				return false;
			else
				it->score = it->content + 0.3 * it->cooc + recgen_category_weight * aff +
					recgen_popularity_weight * it->pop;
			it->reason = cold ? it->pop_reason : "similar";
			break;
		case ST_COMPLEMENTARY:
			if (cold)
				it->score = it->pop_scope;
			else if (it->cooc <= 0)
				return false;
			else
				it->score = it->cooc + recgen_popularity_weight * it->pop;
			it->reason = cold ? it->pop_reason : "cross_sell";
			break;
		case ST_UPSELL:
			if (cold)
				it->score = it->pop_scope;
			else if (it->up + it->cooc + it->content <= 0)
				return false;
			else
				it->score = it->up + it->cooc + it->content + recgen_popularity_weight * it->pop;
			it->reason = cold ? it->pop_reason : "upsell";
			break;
		case ST_POPULAR:
			it->score = it->pop_scope + recgen_popularity_weight * it->pop;
			it->reason = it->pop_reason ? it->pop_reason : "popular";
			break;
		case ST_NEW:
			if (it->created_at < as_of - (TimestampTz) recgen_new_item_age * USECS_PER_SEC)
				return false;
			it->score = it->cooc + it->content + recgen_category_weight * aff +
				recgen_popularity_weight * it->pop +
				0.01 * (double) (it->created_at - (as_of - (TimestampTz) recgen_new_item_age * USECS_PER_SEC)) /
				((double) recgen_new_item_age * USECS_PER_SEC);
			it->reason = "new";
			break;
	}
	return true;
}
