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
 * Plans are prepared once per backend and kept (SPI_keepplan); the
 * plan cache re-plans them after DDL.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/recommend.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "engine.h"
#include "recgen.h"

typedef enum Strategy
{
	ST_BALANCED,
	ST_SIMILAR,
	ST_COMPLEMENTARY,
	ST_UPSELL,
	ST_POPULAR,
	ST_NEW
} Strategy;

static const char *const strategy_names[] = {
	"balanced", "similar", "complementary", "upsell", "popular", "new", NULL
};

enum
{
	P_CONSENT,
	P_CUSTOMER,
	P_HISTORY,
	P_NEIGHBORS,
	P_POPULAR,
	P_PRODUCTS,
	P_POPCACHE,
	P_NEWITEMS,
	P_CATEGORY,
	P_COUNT
};

static SPIPlanPtr plans[P_COUNT];

/*
 * Overall popularity of the current model, cached per backend: a model's
 * rows never change once built, so the cache is keyed by model_id and
 * rebuilt when another model becomes current.
 */
typedef struct PopEntry
{
	int64		product_id;
	double		score;
} PopEntry;

static HTAB *pop_cache = NULL;
static int64 pop_cache_model = -1;

/* one product: history item, candidate, or both */
typedef struct RecItem
{
	int64		product_id;		/* hash key */
	/* history */
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

typedef struct NeighborRow
{
	int64		src;
	int64		nb;
	bool		content;
	double		s;
} NeighborRow;

/*
 * get_plan
 *		The kept plan for one of the fixed queries, prepared on first use.
 */
static SPIPlanPtr
get_plan(int which)
{
	static const char *const sql[P_COUNT] = {
		"SELECT recgen.check_consent($1, 'profiling')",
		"SELECT (SELECT model_id FROM recgen.model_current), c.segment, c.country, "
		"to_regclass('recgen.customer_concerns') IS NOT NULL "
		"AND to_regclass('recgen.concern_topics') IS NOT NULL "
		"FROM recgen.customers c WHERE c.customer_id = $1",
		"SELECT e.product_id, e.kind::text, count(*)::int4, max(e.occurred_at), "
		"sum(power(2::float8, -extract(epoch FROM (a.anchor - e.occurred_at))::float8 / $3))::float8 "
		"FROM recgen.events e, (SELECT max(occurred_at) AS anchor FROM recgen.events "
		"WHERE customer_id = $1 AND occurred_at < $2) a "
		"WHERE e.customer_id = $1 AND e.product_id IS NOT NULL "
		"AND e.occurred_at < $2 GROUP BY 1, 2",
		"SELECT n.product_id, n.kind = 'content', n.neighbor_ids, n.scores "
		"FROM unnest($2::bigint[]) AS ids(id) JOIN recgen.item_neighbors n "
		"ON n.model_id = $1 AND n.product_id = ids.id",
		"SELECT product_id, score::float8 FROM recgen.item_popularity "
		"WHERE model_id = $1 AND scope = $2 AND scope_value = $3 AND rank <= $4 ORDER BY rank",
		"SELECT p.product_id, p.name, p.category, p.price::float8, p.tags, "
		"p.attributes->>'tier', p.active AND coalesce(p.stock, 1) > 0, "
		"p.repurchase_interval, p.created_at "
		"FROM unnest($1::bigint[]) AS ids(id) JOIN recgen.products p ON p.product_id = ids.id",
		"SELECT product_id, score::float8 FROM recgen.item_popularity "
		"WHERE model_id = $1 AND scope = 'all' AND scope_value = ''",
		"SELECT product_id FROM recgen.products WHERE active AND created_at >= $1 "
		"AND coalesce(stock, 1) > 0 ORDER BY created_at DESC, product_id LIMIT 500",
		"SELECT product_id FROM recgen.products WHERE active AND category = ANY($1) "
		"AND coalesce(stock, 1) > 0 ORDER BY price, product_id LIMIT 500"
	};
	static const int nargs[P_COUNT] = {1, 1, 3, 2, 4, 1, 1, 1, 1};
	static const Oid types[P_COUNT][4] = {
		{INT8OID},
		{INT8OID},
		{INT8OID, TIMESTAMPTZOID, FLOAT8OID},
		{INT8OID, INT8ARRAYOID},
		{INT8OID, TEXTOID, TEXTOID, INT4OID},
		{INT8ARRAYOID},
		{INT8OID},
		{TIMESTAMPTZOID},
		{TEXTARRAYOID}
	};

	if (plans[which] == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(sql[which], nargs[which], (Oid *) types[which]);

		if (plan == NULL)
			elog(ERROR, "preparing a recommend query failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		plans[which] = plan;
	}
	return plans[which];
}

static void
run_plan(int which, Datum *args)
{
	int			ret = SPI_execute_plan(get_plan(which), args, NULL, true, 0);

	if (ret != SPI_OK_SELECT)
		elog(ERROR, "a recommend query failed: %s", SPI_result_code_string(ret));
}

static double
kind_weight(const char *kind)
{
	if (strcmp(kind, "purchase") == 0)
		return 1.0;
	if (strcmp(kind, "cart_add") == 0)
		return 0.5;
	if (strcmp(kind, "click") == 0)
		return 0.25;
	if (strcmp(kind, "view") == 0)
		return 0.1;
	return 0.0;
}

static RecItem *
item_get(HTAB *items, int64 id)
{
	bool		found;
	RecItem	   *it = hash_search(items, &id, HASH_ENTER, &found);

	if (!found)
	{
		memset(it, 0, sizeof(RecItem));
		it->product_id = id;
	}
	return it;
}

static Datum
int8_array(int64 *ids, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = Int64GetDatum(ids[i]);
	return PointerGetDatum(construct_array(d, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* remember up to three strongest sources of a candidate */
static void
add_source(RecItem *c, int64 src, double contrib)
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
 * load_popular
 *		Add the top popular items of a scope as candidates; returns how many.
 */
static int
load_popular(HTAB *items, int64 model_id, const char *scope, const char *value,
			 int limit, const char *reason)
{
	Datum		args[4];
	int			n;

	if (value == NULL)
		return 0;
	args[0] = Int64GetDatum(model_id);
	args[1] = CStringGetTextDatum(scope);
	args[2] = CStringGetTextDatum(value);
	args[3] = Int32GetDatum(limit);
	run_plan(P_POPULAR, args);
	n = (int) SPI_processed;
	for (int i = 0; i < n; i++)
	{
		bool		isnull;
		RecItem	   *c = item_get(items, DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull)));
		double		s = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));

		c->candidate = true;
		if (c->pop_reason == NULL)
		{
			c->pop_scope = s;
			c->pop_reason = reason;
		}
	}
	SPI_freetuptable(SPI_tuptable);
	return n;
}

/*
 * popularity_of
 *		Overall popularity of a product in the model (0 if never bought),
 *		from the per-backend cache, (re)loaded for a new model.
 */
static double
popularity_of(int64 model_id, int64 product_id)
{
	PopEntry   *e;
	bool		found;

	if (pop_cache == NULL || pop_cache_model != model_id)
	{
		HASHCTL		ctl;
		Datum		args[1];

		if (pop_cache)
			hash_destroy(pop_cache);
		pop_cache = NULL;
		pop_cache_model = -1;
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(int64);
		ctl.entrysize = sizeof(PopEntry);
		ctl.hcxt = TopMemoryContext;
		args[0] = Int64GetDatum(model_id);
		run_plan(P_POPCACHE, args);
		pop_cache = hash_create("recgen popularity cache", Max(SPI_processed, 64), &ctl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			bool		isnull;
			int64		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));

			e = hash_search(pop_cache, &id, HASH_ENTER, &found);
			e->score = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull));
		}
		SPI_freetuptable(SPI_tuptable);
		pop_cache_model = model_id;
	}
	e = hash_search(pop_cache, &product_id, HASH_FIND, &found);
	return e ? e->score : 0.0;
}

/*
 * load_products
 *		Facts about every item in the table (history and candidates).
 */
static void
load_products(HTAB *items, int64 model_id, TimestampTz as_of)
{
	HASH_SEQ_STATUS seq;
	RecItem	   *it;
	int64	   *ids = palloc(sizeof(int64) * (hash_get_num_entries(items) + 1));
	int			n = 0;
	Datum		args[1];

	hash_seq_init(&seq, items);
	while ((it = hash_seq_search(&seq)) != NULL)
		if (it->candidate || it->is_hist)
			ids[n++] = it->product_id;
	args[0] = int8_array(ids, n);
	(void) popularity_of(model_id, 0);	/* load the cache before SPI_tuptable is ours */
	run_plan(P_PRODUCTS, args);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d;
		char	   *tier;

		it = item_get(items, DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull)));
		it->known = true;
		it->name = SPI_getvalue(tup, desc, 2);
		it->prod.product_id = it->product_id;
		it->prod.category = SPI_getvalue(tup, desc, 3);
		it->prod.price = DatumGetFloat8(SPI_getbinval(tup, desc, 4, &isnull));
		d = SPI_getbinval(tup, desc, 5, &isnull);
		it->prod.ntags = 0;
		if (!isnull)
		{
			Datum	   *elems;
			bool	   *enulls;
			int			ne;

			deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
							  &elems, &enulls, &ne);
			it->prod.tags = palloc(sizeof(char *) * Max(ne, 1));
			for (int k = 0; k < ne; k++)
				if (!enulls[k])
					it->prod.tags[it->prod.ntags++] = TextDatumGetCString(elems[k]);
		}
		tier = SPI_getvalue(tup, desc, 6);
		if (tier)
		{
			char	   *end;

			it->tier = strtod(tier, &end);
			it->has_tier = (end != tier);
		}
		it->available = DatumGetBool(SPI_getbinval(tup, desc, 7, &isnull));
		d = SPI_getbinval(tup, desc, 8, &isnull);
		if (it->purchases == 0)
			it->repurchase_due = true;	/* never bought */
		else if (recgen_repurchase == RECGEN_REPURCHASE_ALWAYS)
			it->repurchase_due = true;
		else if (recgen_repurchase == RECGEN_REPURCHASE_NEVER || isnull)
			it->repurchase_due = false;
		else
		{
			TimestampTz due = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
																	  TimestampTzGetDatum(it->last_purchase), d));

			it->repurchase_due = (due <= as_of);
		}
		it->created_at = DatumGetTimestampTz(SPI_getbinval(tup, desc, 9, &isnull));
		it->pop = popularity_of(model_id, it->product_id);
	}
	SPI_freetuptable(SPI_tuptable);
}

/*
 * load_concerns
 *		The customer's concerns joined to their topics. Only called when
 *		both tables exist, so plain (not kept) execution.
 */
static RecConcern *
load_concerns(int64 customer_id, int *n)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(customer_id)};
	RecConcern *cs;
	int			ret;

	ret = SPI_execute_with_args("SELECT cc.topic, cc.polarity::int4, cc.strength::float8, "
								"coalesce(t.categories, '{}'), coalesce(t.remedy_tags, '{}') "
								"FROM recgen.customer_concerns cc JOIN recgen.concern_topics t "
								"ON t.topic = cc.topic WHERE cc.customer_id = $1",
								1, argtypes, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading recgen.customer_concerns failed: %s", SPI_result_code_string(ret));
	*n = (int) SPI_processed;
	cs = palloc0(sizeof(RecConcern) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum	   *elems;
		bool	   *enulls;
		int			ne;

		cs[i].topic = SPI_getvalue(tup, desc, 1);
		cs[i].polarity = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
		cs[i].strength = isnull ? 0 : DatumGetFloat8(SPI_getbinval(tup, desc, 3, &isnull));
		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(tup, desc, 4, &isnull)),
						  TEXTOID, -1, false, TYPALIGN_INT, &elems, &enulls, &ne);
		cs[i].categories = palloc(sizeof(char *) * Max(ne, 1));
		for (int k = 0; k < ne; k++)
			if (!enulls[k])
				cs[i].categories[cs[i].ncategories++] = TextDatumGetCString(elems[k]);
		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(tup, desc, 5, &isnull)),
						  TEXTOID, -1, false, TYPALIGN_INT, &elems, &enulls, &ne);
		cs[i].remedy_tags = palloc(sizeof(char *) * Max(ne, 1));
		for (int k = 0; k < ne; k++)
			if (!enulls[k])
				cs[i].remedy_tags[cs[i].nremedy++] = TextDatumGetCString(elems[k]);
	}
	SPI_freetuptable(SPI_tuptable);
	return cs;
}

static int
cmp_hist(const void *a, const void *b)
{
	const RecItem *x = *(RecItem *const *) a;
	const RecItem *y = *(RecItem *const *) b;

	if (x->w != y->w)
		return x->w > y->w ? -1 : 1;
	return (x->product_id > y->product_id) - (x->product_id < y->product_id);
}

static int
cmp_pre(const void *a, const void *b)
{
	const RecItem *x = *(RecItem *const *) a;
	const RecItem *y = *(RecItem *const *) b;

	if (x->pre != y->pre)
		return x->pre > y->pre ? -1 : 1;
	return (x->product_id > y->product_id) - (x->product_id < y->product_id);
}

/*
 * prune_candidates
 *		Keep the best max_keep candidates by a preliminary score computed
 *		before product facts are read (neighbour contributions without the
 *		strategy's category conditions, repeats and popularity), so that
 *		reading products and applying rules stays cheap for customers with
 *		long histories.
 */
static void
prune_candidates(HTAB *items, NeighborRow *nbrows, int nnb, double sumw,
				 double maxrep, int max_keep)
{
	HASH_SEQ_STATUS seq;
	RecItem    *it;
	RecItem   **c = palloc(sizeof(RecItem *) * (hash_get_num_entries(items) + 1));
	int			nc = 0;

	for (int r = 0; r < nnb; r++)
	{
		bool		found;
		RecItem    *h = hash_search(items, &nbrows[r].src, HASH_FIND, &found);
		RecItem    *x = hash_search(items, &nbrows[r].nb, HASH_FIND, &found);

		if (h && x && sumw > 0)
			x->pre += h->w * nbrows[r].s / sumw * (nbrows[r].content ? recgen_content_weight : 1.0);
	}
	hash_seq_init(&seq, items);
	while ((it = hash_seq_search(&seq)) != NULL)
	{
		if (!it->candidate)
			continue;
		if (it->purchases > 0 && maxrep > 0)
			it->pre += recgen_repeat_weight * it->rep / maxrep;
		it->pre += it->pop_scope;
		c[nc++] = it;
	}
	if (nc > max_keep)
	{
		qsort(c, nc, sizeof(RecItem *), cmp_pre);
		for (int i = max_keep; i < nc; i++)
			c[i]->candidate = false;
	}
	pfree(c);
}

static int
cmp_score(const void *a, const void *b)
{
	const RecItem *x = *(RecItem *const *) a;
	const RecItem *y = *(RecItem *const *) b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return (x->product_id > y->product_id) - (x->product_id < y->product_id);
}

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
 * reason_detail
 *		The jsonb that says what led to a recommendation.
 */
static Datum
reason_detail(HTAB *items, const RecItem *c, const char *strategy, bool cold)
{
	StringInfoData b;

	initStringInfo(&b);
	appendStringInfoString(&b, "{\"strategy\": ");
	escape_json(&b, strategy);
	appendStringInfoString(&b, ", \"category\": ");
	escape_json(&b, c->prod.category ? c->prod.category : "");
	appendStringInfo(&b, ", \"cold_start\": %s, \"because\": [", cold ? "true" : "false");
	for (int k = 0; k < 3 && c->src[k] != 0; k++)
	{
		bool		found;
		RecItem	   *s = hash_search(items, &c->src[k], HASH_FIND, &found);

		appendStringInfo(&b, "%s{\"product_id\": " INT64_FORMAT ", \"name\": ",
						 k ? ", " : "", c->src[k]);
		escape_json(&b, (s && s->name) ? s->name : "");
		appendStringInfo(&b, ", \"weight\": %.4f}", c->srcw[k]);
	}
	appendStringInfo(&b, "], \"components\": {\"cooc\": %.4f, \"content\": %.4f, "
					 "\"repeat\": %.4f, \"popularity\": %.4f}",
					 c->cooc, c->content, c->rep, c->pop);
	if (c->purchases > 0)
		appendStringInfo(&b, ", \"times_bought\": %d", c->purchases);
	appendStringInfoString(&b, ", \"rules\": [");
	for (int k = 0; k < c->rules.nfired; k++)
		appendStringInfo(&b, "%s%d", k ? ", " : "", c->rules.fired[k]);
	appendStringInfoChar(&b, ']');
	if (c->rules.concern)
	{
		appendStringInfoString(&b, ", \"concern\": ");
		escape_json(&b, c->rules.concern);
	}
	appendStringInfoChar(&b, '}');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(b.data));
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
	Strategy	strategy = ST_BALANCED;
	bool		strategy_ok = false;
	TimestampTz as_of;
	Datum		args[4];
	bool		isnull;
	int64		model_id;
	char	   *segment,
			   *country;
	bool		concern_tables;
	HASHCTL		ctl;
	HTAB	   *items;
	HASH_SEQ_STATUS seq;
	RecItem	   *it;
	RecItem	  **hist;
	int			nhist = 0;
	double		sumw = 0,
				maxrep = 0;
	RecRule    *rules;
	int			nrules;
	bool		any_concern;
	RecConcern *concerns = NULL;
	int			nconcerns = 0;
	NeighborRow *nbrows = NULL;
	int			nnb = 0;
	HTAB	   *catw;
	RecItem	  **cands;
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
	args[0] = Int64GetDatum(customer_id);
	run_plan(P_CONSENT, args);

	run_plan(P_CUSTOMER, args);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("customer " INT64_FORMAT " is not visible to the current user", customer_id)));
	model_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no recommendation model has been built"),
				 errhint("Run SELECT * FROM recgen.refresh_model(); as recgen_admin.")));
	segment = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	country = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	concern_tables = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull));
	SPI_freetuptable(SPI_tuptable);

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(RecItem);
	ctl.hcxt = CurrentMemoryContext;
	items = hash_create("recgen recommend items", 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	/* history */
	args[1] = TimestampTzGetDatum(as_of);
	args[2] = Float8GetDatum((double) recgen_recency_half_life);
	run_plan(P_HISTORY, args);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *kind = SPI_getvalue(tup, desc, 2);
		double		decayed = DatumGetFloat8(SPI_getbinval(tup, desc, 5, &isnull));

		it = item_get(items, DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull)));
		it->w += kind_weight(kind) * decayed;
		if (strcmp(kind, "purchase") == 0)
		{
			it->purchases = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
			it->last_purchase = DatumGetTimestampTz(SPI_getbinval(tup, desc, 4, &isnull));
			it->rep = decayed;
			maxrep = Max(maxrep, decayed);
		}
	}
	SPI_freetuptable(SPI_tuptable);

	hist = palloc(sizeof(RecItem *) * (hash_get_num_entries(items) + 1));
	hash_seq_init(&seq, items);
	while ((it = hash_seq_search(&seq)) != NULL)
		if (it->w > 0)
			hist[nhist++] = it;
	qsort(hist, nhist, sizeof(RecItem *), cmp_hist);
	nhist = Min(nhist, recgen_history_items);
	for (int i = 0; i < nhist; i++)
	{
		sumw += hist[i]->w;
		hist[i]->is_hist = true;
	}
	cold = (nhist == 0);

	rules = RulesLoad(strategy_name, &nrules, &any_concern);
	if (any_concern && concern_tables)
		concerns = load_concerns(customer_id, &nconcerns);

	/* candidates: neighbours of the history */
	if (nhist > 0 && strategy != ST_POPULAR)
	{
		int64	   *ids = palloc(sizeof(int64) * nhist);

		for (int i = 0; i < nhist; i++)
			ids[i] = hist[i]->product_id;
		args[0] = Int64GetDatum(model_id);
		args[1] = int8_array(ids, nhist);
		run_plan(P_NEIGHBORS, args);
		{
			int			cap = 256;

			nbrows = palloc(sizeof(NeighborRow) * cap);
			for (uint64 r = 0; r < SPI_processed; r++)
			{
				HeapTuple	tup = SPI_tuptable->vals[r];
				TupleDesc	desc = SPI_tuptable->tupdesc;
				int64		src = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
				bool		content = DatumGetBool(SPI_getbinval(tup, desc, 2, &isnull));
				ArrayType  *nba = DatumGetArrayTypeP(SPI_getbinval(tup, desc, 3, &isnull));
				ArrayType  *sca = DatumGetArrayTypeP(SPI_getbinval(tup, desc, 4, &isnull));
				int			len = ArrayGetNItems(ARR_NDIM(nba), ARR_DIMS(nba));
				int64	   *nbv = (int64 *) ARR_DATA_PTR(nba);
				float4	   *scv = (float4 *) ARR_DATA_PTR(sca);

				if (ARR_HASNULL(nba) || ARR_HASNULL(sca) ||
					ArrayGetNItems(ARR_NDIM(sca), ARR_DIMS(sca)) != len)
					continue;
				for (int k = 0; k < len; k++)
				{
					if (nnb >= cap)
					{
						cap *= 2;
						nbrows = repalloc(nbrows, sizeof(NeighborRow) * cap);
					}
					nbrows[nnb].src = src;
					nbrows[nnb].nb = nbv[k];
					nbrows[nnb].content = content;
					nbrows[nnb].s = scv[k];
					item_get(items, nbv[k])->candidate = true;
					nnb++;
				}
			}
		}
		SPI_freetuptable(SPI_tuptable);
	}

	/* candidates by strategy */
	if (strategy == ST_NEW)
	{
		args[0] = TimestampTzGetDatum(as_of - (TimestampTz) recgen_new_item_age * USECS_PER_SEC);
		run_plan(P_NEWITEMS, args);
		for (uint64 r = 0; r < SPI_processed; r++)
			item_get(items, DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r],
														SPI_tuptable->tupdesc, 1, &isnull)))->candidate = true;
		SPI_freetuptable(SPI_tuptable);
	}
	else if (strategy == ST_POPULAR || cold)
	{
		int			want = 4 * n + 50;

		if (load_popular(items, model_id, "segment", segment, want, "popular_segment") < want &&
			load_popular(items, model_id, "country", country, want, "popular_country") < want)
			load_popular(items, model_id, "all", "", want, "popular");
	}
	else if (strategy == ST_BALANCED)
		load_popular(items, model_id, "all", "", 50, "popular");

	/* repeats are candidates of balanced (their eligibility is checked below) */
	if (strategy == ST_BALANCED)
		for (int i = 0; i < nhist; i++)
			if (hist[i]->purchases > 0)
				hist[i]->candidate = true;

	if (strategy != ST_NEW)
		prune_candidates(items, nbrows, nnb, sumw, maxrep,
						 strategy == ST_BALANCED ? 8 * n + 40 : 30 * n + 100);
	load_products(items, model_id, as_of);

	/* upsell: also every product of the history's categories */
	if (strategy == ST_UPSELL && nhist > 0)
	{
		Datum	   *cats = palloc(sizeof(Datum) * nhist);
		int			nc = 0;
		int64	   *newids;
		int			nnew = 0;

		for (int i = 0; i < nhist; i++)
			if (hist[i]->prod.category)
				cats[nc++] = CStringGetTextDatum(hist[i]->prod.category);
		args[0] = PointerGetDatum(construct_array(cats, nc, TEXTOID, -1, false, TYPALIGN_INT));
		run_plan(P_CATEGORY, args);
		newids = palloc(sizeof(int64) * (SPI_processed + 1));
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			int64		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
			bool		found;

			hash_search(items, &id, HASH_FIND, &found);
			if (!found)
				newids[nnew++] = id;
			item_get(items, id)->candidate = true;
		}
		SPI_freetuptable(SPI_tuptable);
		if (nnew > 0)
			load_products(items, model_id, as_of);
	}

	/* neighbour contributions, restricted by strategy */
	for (int r = 0; r < nnb; r++)
	{
		bool		found;
		RecItem	   *h = hash_search(items, &nbrows[r].src, HASH_FIND, &found);
		RecItem	   *c = hash_search(items, &nbrows[r].nb, HASH_FIND, &found);
		double		contrib;

		if (h == NULL || c == NULL || h->w <= 0)
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
		add_source(c, h->product_id, contrib);
	}
	if (strategy == ST_UPSELL)
	{
		/* an upgrade of a history item is a candidate even without neighbours */
		hash_seq_init(&seq, items);
		while ((it = hash_seq_search(&seq)) != NULL)
		{
			if (!it->candidate || !it->known)
				continue;
			for (int i = 0; i < nhist; i++)
				if (is_upgrade(hist[i], it))
				{
					it->up += 0.1 * hist[i]->w / sumw;
					add_source(it, hist[i]->product_id, 0.1 * hist[i]->w / sumw);
				}
		}
	}

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
	cands = palloc(sizeof(RecItem *) * (hash_get_num_entries(items) + 1));
	hash_seq_init(&seq, items);
	while ((it = hash_seq_search(&seq)) != NULL)
	{
		double		aff = 0,
					rep,
					best;
		char		key[NAMEDATALEN];
		bool		found;
		char	   *e;

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
		rep = (it->purchases > 0 && maxrep > 0) ? it->rep / maxrep : 0;
		it->rep = rep;

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
					continue;
				else
					it->score = it->content + 0.3 * it->cooc + recgen_category_weight * aff +
						recgen_popularity_weight * it->pop;
				it->reason = cold ? it->pop_reason : "similar";
				break;
			case ST_COMPLEMENTARY:
				if (cold)
					it->score = it->pop_scope;
				else if (it->cooc <= 0)
					continue;
				else
					it->score = it->cooc + recgen_popularity_weight * it->pop;
				it->reason = cold ? it->pop_reason : "cross_sell";
				break;
			case ST_UPSELL:
				if (cold)
					it->score = it->pop_scope;
				else if (it->up + it->cooc + it->content <= 0)
					continue;
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
					continue;
				it->score = it->cooc + it->content + recgen_category_weight * aff +
					recgen_popularity_weight * it->pop +
					0.01 * (double) (it->created_at - (as_of - (TimestampTz) recgen_new_item_age * USECS_PER_SEC)) /
					((double) recgen_new_item_age * USECS_PER_SEC);
				it->reason = "new";
				break;
		}

		RulesApply(rules, nrules, &it->prod, segment, country, concerns, nconcerns, &it->rules);
		if (it->rules.excluded)
			continue;
		it->score = (it->score + it->rules.interest) * it->rules.multiplier;
		if (it->rules.concern && it->rules.multiplier > 1.0)
			it->reason = "addresses_concern";
		if (!(it->score > 0))
			continue;
		cands[ncands++] = it;
	}
	qsort(cands, ncands, sizeof(RecItem *), cmp_score);

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
			RecItem	   *c = cands[i];
			char		key[NAMEDATALEN];
			bool		found;
			char	   *e;
			int			limit;
			Datum		values[6];
			bool		nulls[6] = {false, false, false, false, false, false};

			strlcpy(key, c->prod.category ? c->prod.category : "", NAMEDATALEN);
			limit = RulesMaxPerCategory(rules, nrules, c->prod.category, segment, country);
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
			values[5] = reason_detail(items, c, strategy_name, cold);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}

	SPI_finish();
	return (Datum) 0;
}
