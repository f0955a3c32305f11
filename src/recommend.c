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
 *	repeat(c)= decayed purchases of c / the customer's largest, only when
 *	           c may be bought again (recgen.repurchase);
 *	aff(c)   = share of w in c's category; pop(c) = popularity in [0, 1].
 * balanced = cooc + content_weight content + repeat_weight repeat
 *            + category_weight aff + popularity_weight pop;
 * similar, complementary, upsell, popular and new reweight or restrict
 * these (docs/engine.md). A customer without history gets what is popular
 * in their segment, then country, then overall (cold start).
 * Then the rules (rules.c), availability (active, stock), the already
 * bought filter, and diversity (at most max_per_category per category).
 *
 * Files: this one holds the SQL function and its flow; recommend_load.c
 * the queries, recommend_score.c the scoring and model_cache.c the
 * per-backend cache of the current model (neighbour lists, popularity),
 * product_cache.c that of product facts, so a call costs a few small
 * queries: consent and customer, history and rules (and the facts of
 * products not read since the catalog last changed).
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
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "engine.h"
#include "recommend.h"

static const char *const strategy_names[] = {
	"balanced", "similar", "complementary", "upsell", "popular", "new", NULL
};

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
	Strategy	strategy = ST_BALANCED;
	bool		strategy_ok = false;
	TimestampTz as_of;
	RecCustomer cust;
	HASHCTL		ctl;
	RecItems   *items;
	RecItem    *it;
	RecItem   **hist;
	int			nhist = 0;
	double		sumw = 0,
				maxrep;
	RecRule    *rules;
	int			nrules;
	bool		any_concern;
	RecConcern *concerns = NULL;
	int			nconcerns = 0;
	NeighborRow *nbrows = NULL;
	int			nnb = 0;
	HTAB	   *catw;
	RecItem   **cands;
	int			ncands = 0;
	bool		cold;
	int			rank = 0;

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
	for (int i = 0; strategy_names[i]; i++)
		if (strcmp(strategy_name, strategy_names[i]) == 0)
		{
			strategy = (Strategy) i;
			strategy_ok = true;
		}
	if (!strategy_ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown strategy \"%s\"", strategy_name),
				 errhint("Strategies are balanced, similar, complementary, upsell, popular and new.")));
	as_of = PG_ARGISNULL(3) ? GetCurrentTransactionStartTimestamp() : PG_GETARG_TIMESTAMPTZ(3);

	InitMaterializedSRF(fcinfo, 0);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* unknown customer or missing consent: clear errors from one place */
	RecCheckCustomer(customer_id, &cust);
	ModelCacheEnsure(cust.model_id, cust.built_at);
	ProductCacheBeginCall();

	items = RecItemsCreate(2048);

	/* history: the heaviest recgen.history_items items */
	maxrep = RecLoadHistory(items, customer_id, as_of);
	hist = palloc(sizeof(RecItem *) * (RecItemsCount(items) + 1));
	for (int i = 0; i < RecItemsCount(items); i++)
		if (RecItemsAt(items, i)->w > 0)
			hist[nhist++] = RecItemsAt(items, i);
	qsort(hist, nhist, sizeof(RecItem *), RecCmpHist);
	nhist = Min(nhist, recgen_history_items);
	for (int i = 0; i < nhist; i++)
	{
		sumw += hist[i]->w;
		hist[i]->is_hist = true;
	}
	cold = (nhist == 0);

	rules = RulesLoad(strategy_name, &nrules, &any_concern);
	if (any_concern && cust.concern_tables)
		concerns = RecLoadConcerns(customer_id, &nconcerns);

	/* candidates: neighbours of the history */
	if (nhist > 0 && strategy != ST_POPULAR)
		nbrows = RecCollectNeighbors(items, hist, nhist, &nnb);

	/* candidates by strategy */
	if (strategy == ST_NEW)
		RecLoadNewItems(items, as_of - (TimestampTz) recgen_new_item_age * USECS_PER_SEC);
	else if (strategy == ST_POPULAR || cold)
	{
		int			want = 4 * n + 50;

		if (RecLoadPopular(items, cust.model_id, "segment", cust.segment, want, "popular_segment") < want &&
			RecLoadPopular(items, cust.model_id, "country", cust.country, want, "popular_country") < want)
			RecLoadPopular(items, cust.model_id, "all", "", want, "popular");
	}
	else if (strategy == ST_BALANCED)
		RecLoadPopular(items, cust.model_id, "all", "", 50, "popular");

	/* repeats are candidates of balanced (their eligibility is checked below) */
	if (strategy == ST_BALANCED)
		for (int i = 0; i < nhist; i++)
			if (hist[i]->purchases > 0)
				hist[i]->candidate = true;

	if (strategy != ST_NEW)
		RecPruneCandidates(items, nbrows, nnb, sumw, maxrep,
						   strategy == ST_BALANCED ? 8 * n + 40 : 30 * n + 100);
	RecLoadProducts(items, as_of);

	/* upsell: also every product of the history's categories */
	if (strategy == ST_UPSELL && nhist > 0)
	{
		if (RecLoadCategoryItems(items, hist, nhist) > 0)
			RecLoadProducts(items, as_of);
	}

	/* neighbour contributions, restricted by strategy */
	RecScoreNeighbors(items, hist, nhist, sumw, nbrows, nnb, strategy);

	/* category weights of the history */
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = NAMEDATALEN + sizeof(double);
	ctl.hcxt = CurrentMemoryContext;
	catw = hash_create("recgen category weights", 64, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	for (int i = 0; i < nhist; i++)
	{
		char		key[NAMEDATALEN];
		bool		found;
		char	   *e;

		if (!hist[i]->prod.category)
			continue;
		strlcpy(key, hist[i]->prod.category, NAMEDATALEN);
		e = hash_search(catw, key, HASH_ENTER, &found);
		if (!found)
			*(double *) (e + NAMEDATALEN) = 0;
		*(double *) (e + NAMEDATALEN) += hist[i]->w / sumw;
	}

	/* score, filter, rules */
	cands = palloc(sizeof(RecItem *) * (RecItemsCount(items) + 1));
	for (int i = 0; i < RecItemsCount(items); i++)
	{
		double		aff = 0;
		char		key[NAMEDATALEN];
		bool		found;
		char	   *e;

		it = RecItemsAt(items, i);
		CHECK_FOR_INTERRUPTS();
		if (!it->candidate || !it->known || !it->available || !it->repurchase_due)
			continue;
		if (it->prod.category)
		{
			strlcpy(key, it->prod.category, NAMEDATALEN);
			e = hash_search(catw, key, HASH_FIND, &found);
			if (e)
				aff = *(double *) (e + NAMEDATALEN);
		}
		it->rep = (it->purchases > 0 && maxrep > 0) ? it->rep / maxrep : 0;
		if (!RecScoreItem(it, strategy, aff, cold, as_of))
			continue;

		RulesApply(rules, nrules, &it->prod, cust.segment, cust.country, concerns, nconcerns, &it->rules);
		if (it->rules.excluded)
			continue;
		it->score = (it->score + it->rules.interest) * it->rules.multiplier;
		if (it->rules.concern && it->rules.multiplier > 1.0)
			it->reason = "addresses_concern";
		if (!(it->score > 0))
			continue;
		cands[ncands++] = it;
	}
	qsort(cands, ncands, sizeof(RecItem *), RecCmpScore);

	/* diversity and output */
	{
		HTAB	   *catn;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = NAMEDATALEN;
		ctl.entrysize = NAMEDATALEN + sizeof(int);
		ctl.hcxt = CurrentMemoryContext;
		catn = hash_create("recgen category counts", 64, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

		for (int i = 0; i < ncands && rank < n; i++)
		{
			RecItem    *c = cands[i];
			char		key[NAMEDATALEN];
			bool		found;
			char	   *e;
			int			limit;
			Datum		values[6];
			bool		nulls[6] = {false, false, false, false, false, false};

			strlcpy(key, c->prod.category ? c->prod.category : "", NAMEDATALEN);
			limit = RulesMaxPerCategory(rules, nrules, c->prod.category, cust.segment, cust.country);
			e = hash_search(catn, key, HASH_ENTER, &found);
			if (!found)
				*(int *) (e + NAMEDATALEN) = 0;
			if (limit > 0 && *(int *) (e + NAMEDATALEN) >= limit)
				continue;
			(*(int *) (e + NAMEDATALEN))++;

			rank++;
			values[0] = Int32GetDatum(rank);
			values[1] = Int64GetDatum(c->product_id);
			values[2] = CStringGetTextDatum(c->name);
			values[3] = Float8GetDatum(c->score);
			values[4] = CStringGetTextDatum(c->reason ? c->reason : "popular");
			values[5] = RecReasonDetail(items, c, strategy_name, cold);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}

	SPI_finish();
	return (Datum) 0;
}
