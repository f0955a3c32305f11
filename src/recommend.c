/*-------------------------------------------------------------------------
 *
 * recommend.c
 *		recgen.recommend(customer_id, n, strategy, as_of): the top-n
 *		products for one customer, each with a reason code and a jsonb
 *		detail of what led to it.
 *
 * Runs with the caller's rights (SECURITY INVOKER): row-level security
 * applies to the customer's rows. recgen.check_consent() is called first,
 * so an unknown customer and a missing consent_profiling are told apart
 * with their own errors.
 *
 * Scoring, from the customer's events before as_of (default: now):
 *	w(h)     = sum over events on item h of kind weight (purchase 1,
 *	           cart_add 0.5, click 0.25, view 0.1) times 2^(-age/half-life)
 *	           (recgen.recency_half_life), age counted from the customer's
 *	           latest event before as_of (scores are normalized per
 *	           customer, so the anchor only keeps old histories from
 *	           underflowing to zero);
 *	cooc(c)  = sum_h w(h) s_cooc(h, c) / sum_h w(h), over the
 *	           recgen.history_items heaviest items h; content(c) likewise;
 *	repeat(c)= purchases of c, each decayed by recgen.repeat_order_decay
 *	           per later order of the customer (group decay), divided by
 *	           the length of the customer's vector of them (or by the
 *	           largest, recgen.repeat_norm), only when c may be bought
 *	           again (recgen.repurchase);
 *	aff(c)   = share of w in c's category; pop(c) = popularity in [0, 1].
 * balanced = cooc + content_weight content + repeat_weight repeat
 *            + category_weight aff + popularity_weight pop;
 * similar, complementary, upsell, popular and new reweight or restrict
 * these (docs/engine.md). A customer without history gets what is popular
 * in their segment, then country, then overall (cold start).
 * Then availability (active, stock), the already-bought filter (by
 * variant group: same normalised name or group_key), the rules
 * (rules.c) and the caps (max_per_category per category, one product per
 * variant group), all before the list is cut at n (recommend_rank.c): a
 * list is the same whatever n, filled from what is popular in the
 * customer's segment, country, overall, then the rest of the catalog
 * when the strategy's own candidates are too few; so recommend(c, n)
 * returns min(n, E) rows, E the eligible products under the caps.
 *
 * Files: this one holds the SQL function and its flow; recommend_load.c
 * the queries, recommend_score.c the scoring, recommend_rank.c the
 * ranking, recommend_pool.c balanced's candidates (made items only when
 * their bound could reach the list), and model_cache.c the per-backend
 * cache of the current model (neighbour lists, popularity),
 * product_cache.c that of product facts,
 * so a call costs a few small queries: consent and customer, history and
 * rules (and the facts of products not read since the catalog last
 * changed).
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/recommend.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "engine.h"
#include "recommend.h"

static const char *const strategy_names[] = {
	"balanced", "similar", "complementary", "upsell", "popular", "new", NULL
};

/*
 * parse_strategy
 *		The strategy of a name, or an error listing them.
 */
static Strategy
parse_strategy(const char *name)
{
	for (int i = 0; strategy_names[i]; i++)
		if (strcmp(name, strategy_names[i]) == 0)
			return (Strategy) i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown strategy \"%s\"", name),
			 errhint("Strategies are balanced, similar, complementary, upsell, popular and new.")));
	return ST_BALANCED;			/* keep the compiler quiet */
}

/*
 * load_history
 *		The customer's history: every item with its decayed weights, the
 *		recgen.history_items heaviest in *hist (heaviest first), and the
 *		facts of those and of every item bought (variant groups). Returns
 *		what repeat scores are relative to (RecLoadHistory).
 */
static double
load_history(RecItems *items, int64 customer_id, TimestampTz as_of,
			 RecItem ***hist_out, int *nhist_out, double *sumw)
{
	double		maxrep = RecLoadHistory(items, customer_id, as_of);
	int			nitems = RecItemsCount(items);
	RecItem   **hist = palloc(sizeof(RecItem *) * (nitems + 1));
	RecItem   **need = palloc(sizeof(RecItem *) * (nitems + 1));
	int			nhist = 0;
	int			nneed = 0;

	for (int i = 0; i < nitems; i++)
		if (RecItemsAt(items, i)->w > 0)
			hist[nhist++] = RecItemsAt(items, i);
	qsort(hist, nhist, sizeof(RecItem *), RecCmpHist);
	nhist = Min(nhist, recgen_history_items);
	*sumw = 0;
	for (int i = 0; i < nhist; i++)
	{
		*sumw += hist[i]->w;
		hist[i]->is_hist = true;
	}
	for (int i = 0; i < nitems; i++)
	{
		RecItem    *it = RecItemsAt(items, i);

		if (it->is_hist || it->purchases > 0)
			need[nneed++] = it;
	}
	RecLoadFacts(need, nneed);
	pfree(need);
	*hist_out = hist;
	*nhist_out = nhist;
	return maxrep;
}

/*
 * list_candidates
 *		The items that are candidates of the strategy (tier 0), with their
 *		popularity; their number in *n.
 */
static RecItem **
list_candidates(RecItems *items, Strategy strategy, int *n)
{
	RecItem   **cands = palloc(sizeof(RecItem *) * (RecItemsCount(items) + 1));
	int			m = 0;

	for (int i = 0; i < RecItemsCount(items); i++)
	{
		RecItem    *it = RecItemsAt(items, i);

		if (!it->candidate || (strategy == ST_NEW && !it->is_new))
			continue;
		if (!it->pop_known)
			it->pop = ModelCachePopularity(it->product_id);
		it->pop_known = true;
		cands[m++] = it;
	}
	*n = m;
	return cands;
}

/*
 * strategy_candidates
 *		Tier 0: the strategy's own candidates (neighbours of the history;
 *		for balanced every item bought, what the nearest customers bought
 *		and the overall top 50; new items; upgrades), with their neighbour
 *		sums. Returns them, their number in *n;
 *		for complementary and upsell also the links by candidate.
 */
static RecItem **
strategy_candidates(RecItems *items, int64 customer_id, Strategy strategy, TimestampTz as_of,
					RecItem **hist, int nhist, double sumw, int *n, NeighborRow **restricted,
					int keep, double max_aff, RecPool **pool)
{
	NeighborRow *nbrows = NULL;
	int			nnb = 0;
	RecItem   **cands;
	int			m = 0;

	if (nhist > 0 && strategy != ST_POPULAR)
		nbrows = RecCollectNeighbors(items, hist, nhist, &nnb, strategy != ST_BALANCED);
	if (strategy == ST_NEW)
		RecLoadNewItems(items, as_of - (TimestampTz) recgen_new_item_age * USECS_PER_SEC);
	else if (strategy == ST_BALANCED && nhist > 0)
	{
		const int64 *ids;
		const double *scores;
		int			np = ModelCachePopular(50, &ids, &scores);

		for (int i = 0; i < np; i++)
		{
			RecItem    *c = RecItemGet(items, ids[i]);

			c->candidate = true;
			c->pop_scope = scores[i];
			c->pop_reason = "popular";
			c->pop = scores[i];	/* the overall scope is the popularity */
			c->pop_known = true;
		}
		/* every item bought is a candidate of balanced (as a repeat, if allowed) */
		for (int i = 0; i < RecItemsCount(items); i++)
			if (RecItemsAt(items, i)->purchases > 0)
				RecItemsAt(items, i)->candidate = true;
		/* the neighbours and what the nearest customers bought, pooled */
		*pool = RecPoolCreate(items, nbrows, nnb, sumw, customer_id, keep, max_aff);
	}
	else if (strategy == ST_UPSELL && nhist > 0)
		RecLoadCategoryItems(items, hist, nhist);
	if (*pool == NULL)
		RecSumNeighbors(nbrows, nnb, sumw);

	cands = list_candidates(items, strategy, &m);
	/* complementary and upsell restrict each candidate's links when it is evaluated */
	if (strategy == ST_COMPLEMENTARY || strategy == ST_UPSELL)
		*restricted = RecIndexNeighbors(items, nbrows, nnb);
	*n = m;
	return cands;
}

/*
 * fill_tier
 *		Rank a popularity list (ids best first, their scores in the scope)
 *		as a fill tier.
 */
static bool
fill_tier(RecRanker *r, RecItems *items, int tier, const int64 *ids, const double *scores,
		  int n, const char *reason)
{
	RecItem   **cands = palloc(sizeof(RecItem *) * Max(n, 1));

	for (int i = 0; i < n; i++)
	{
		RecItem    *it = RecItemGet(items, ids[i]);

		if (it->state != RANK_ELIGIBLE && it->state != RANK_EXCLUDED)
		{
			it->pop_scope = scores[i];
			it->pop_reason = reason;
			if (!it->pop_known)
				it->pop = tier == TIER_OVERALL ? scores[i] : ModelCachePopularity(ids[i]);
			it->pop_known = true;
		}
		cands[i] = it;
	}
	return RecRankTier(r, tier, cands, n, true);
}

/*
 * fill
 *		What fills a list the strategy's own candidates left short:
 *		popular in the customer's segment, in their country, overall,
 *		then every other available product by id. A cold-start customer's
 *		whole list comes from here.
 */
static void
fill(RecRanker *r, RecItems *items, const RecCustomer *cust, int n)
{
	const int64 *list_ids;
	const double *list_scores;
	int64	   *ids;
	double	   *scores;
	int			m;
	int64		after = PG_INT64_MIN;
	int			page = 8 * n + 40;

	/* between tiers: stop when every category is full already */
	if (RecRankerFull(r))
		return;
	m = ModelCacheScope("segment", cust->segment, &list_ids, &list_scores);
	if (fill_tier(r, items, TIER_SEGMENT, list_ids, list_scores, m, "popular_segment") ||
		RecRankerFull(r))
		return;
	m = ModelCacheScope("country", cust->country, &list_ids, &list_scores);
	if (fill_tier(r, items, TIER_COUNTRY, list_ids, list_scores, m, "popular_country") ||
		RecRankerFull(r))
		return;
	m = ModelCachePopular(INT_MAX, &list_ids, &list_scores);
	if (fill_tier(r, items, TIER_OVERALL, list_ids, list_scores, m, "popular") || RecRankerFull(r))
		return;
	/* the rest of the catalog, a page at a time (bounds all equal) */
	ids = palloc(sizeof(int64) * page);
	scores = palloc0(sizeof(double) * page);
	while ((m = RecLoadCatalogPage(after, page, ids)) > 0)
	{
		if (fill_tier(r, items, TIER_CATALOG, ids, scores, m, "catalog") || RecRankerFull(r))
			return;
		after = ids[m - 1];
	}
}

/*
 * recgen_recommend
 *		SQL: recgen.recommend(customer_id, n, strategy, as_of).
 */
PG_FUNCTION_INFO_V1(recgen_recommend);
Datum
recgen_recommend(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		customer_id;
	int			n;
	char	   *strategy_name;
	Strategy	strategy;
	TimestampTz as_of;
	RecCustomer cust;
	RecItems   *items;
	RecItem   **hist;
	int			nhist;
	double		sumw,
				maxrep;
	RecRule    *rules;
	int			nrules;
	bool		any_concern;
	RecConcern *concerns = NULL;
	int			nconcerns = 0;
	RecItem   **cands;
	int			ncands;
	RecRanker  *ranker;
	NeighborRow *restricted = NULL;
	RecItem   **list;
	int			nlist;
	bool		cold;
	RecPool    *pool = NULL;
	double		max_base = 0;
	int			ndeferred = 0;
	int			nlater = 0;
	bool		done;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("customer_id must not be null")));
	customer_id = PG_GETARG_INT64(0);
	n = PG_ARGISNULL(1) ? 5 : PG_GETARG_INT32(1);
	if (n <= 0 || n > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n must be between 1 and 1000, not %d", n)));
	strategy_name = PG_ARGISNULL(2) ? "balanced" : text_to_cstring(PG_GETARG_TEXT_PP(2));
	strategy = parse_strategy(strategy_name);
	as_of = PG_ARGISNULL(3) ? GetCurrentTransactionStartTimestamp() : PG_GETARG_TIMESTAMPTZ(3);

	InitMaterializedSRF(fcinfo, 0);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* unknown customer or missing consent: clear errors from one place */
	RecCheckCustomer(customer_id, &cust);
	ModelCacheEnsure(cust.model_id, cust.built_at);
	ProductCacheBeginCall();
	CategoryIndexBeginCall();

	items = RecItemsCreate(2048);
	maxrep = load_history(items, customer_id, as_of, &hist, &nhist, &sumw);
	cold = (nhist == 0);

	rules = RulesLoad(strategy_name, &nrules, &any_concern);
	if (any_concern && cust.concern_tables)
		concerns = RecLoadConcerns(customer_id, &nconcerns);

	ranker = RecRankerCreate(items, n, strategy, as_of, &cust, rules, nrules,
							 concerns, nconcerns, hist, nhist, maxrep);
	cands = strategy_candidates(items, customer_id, strategy, as_of, hist, nhist, sumw, &ncands,
								&restricted, 8 * n + 40, RecRankerMaxAffinity(ranker), &pool);
	if (restricted)
		RecRankerRestrict(ranker, restricted, sumw);
	if (pool)
		RecRankerDefer(ranker, RecPoolDeferred(pool, &max_base) > 0, max_base);
	done = RecRankTier(ranker, TIER_STRATEGY, cands, ncands, true);
	if (RecRankerWantsDeferred(ranker))
	{
		/* the deferred candidates could reach the list: rank them too */
		RecPoolMaterialize(pool);
		RecRankerDefer(ranker, false, 0);
		cands = list_candidates(items, strategy, &ncands);
		done = RecRankTier(ranker, TIER_STRATEGY, cands, ncands, true);
	}
	if (!done && strategy != ST_NEW)
		fill(ranker, items, &cust, n);

	nlist = RecRankerResult(ranker, &list);
	if (pool)
		RecPoolCounts(pool, &ndeferred, &nlater);
	/* what the call cost: the regression tests watch the pruning with it */
	ereport(DEBUG1,
			(errmsg_internal("recgen.recommend: customer " INT64_FORMAT ", %d items, %d candidates, %d deferred (%d listed later), %d evaluated, %d rows",
							 customer_id, RecItemsCount(items), ncands, ndeferred, nlater,
							 RecRankerEvaluated(ranker), nlist)));
	for (int i = 0; i < nlist; i++)
	{
		RecItem    *c = list[i];
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};

		values[0] = Int32GetDatum(i + 1);
		values[1] = Int64GetDatum(c->product_id);
		values[2] = CStringGetTextDatum(c->name);
		values[3] = Float8GetDatum(c->score);
		values[4] = CStringGetTextDatum(c->reason ? c->reason : "popular");
		values[5] = RecReasonDetail(items, c, strategy_name, cold);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	SPI_finish();
	return (Datum) 0;
}
