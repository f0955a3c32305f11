/*-------------------------------------------------------------------------
 *
 * model_popularity.c
 *		Popularity and trend per item, overall and per customer segment
 *		and country, accumulated while refresh_model() reads the events
 *		for co-occurrence (one pass over the events, no second scan).
 *
 * For each scope (all; segment = s; country = c) and item, from the
 * purchases before as_of (consented customers' and anonymous ones, the
 * latter only in "all"):
 *	w     = sum of 2^(-age / recgen.recency_half_life), age in seconds
 *	        before as_of;
 *	score = w / the largest w of the scope (in [0, 1]);
 *	trend = (purchases of the last 30 days + 1)
 *	        / (purchases of the 60 days before / 2 + 1);
 *	rank  = order by w descending, then product_id;
 *	purchases = the purchase lines.
 * A segment or country scope keeps its recgen.model_scope_items most
 * popular items (only cold start reads them, by rank); "all" keeps
 * every item, which recommend() reads as a prior for any candidate.
 * Empty or NULL segments and countries form no scope; values are cut
 * at POP_SCOPE_VALUE_LEN - 1 bytes.
 * Rows go to recgen.item_popularity with INSERT ... SELECT FROM unnest().
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/model_popularity.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "engine.h"
#include "int64_hash.h"
#include "model_build.h"
#include "spi_util.h"

/* one scope and item: key = scope << 32 | item; scope 0 is "all", whose
 * entries are a dense array by item (every purchase counts there) */
typedef struct PopEntry
{
	uint64		key;
	char		status;			/* simplehash's */
	double		w;
	int32		recent;			/* last 30 days */
	int32		before;			/* the 60 days before */
	int32		n;
} PopEntry;

#define SH_PREFIX			poptab
#define SH_ELEMENT_TYPE		PopEntry
#define SH_KEY_TYPE			uint64
#define SH_KEY				key
#define SH_HASH_KEY(tb, k)	RecHashInt64(k)
#define SH_EQUAL(tb, a, b)	((a) == (b))
#define SH_SCOPE			static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* a scope: ("all", ""), ("segment", value) or ("country", value) */
typedef struct PopScope
{
	char		key[POP_SCOPE_VALUE_LEN + 2];	/* "s:value" / "c:value" */
	uint32		id;
	const char *kind;
	const char *value;			/* in key */
	PopEntry   *dense;			/* by item, or NULL: entries in the hash */
} PopScope;

/*
 * Scopes get a dense array of entries by item while their total stays
 * within this many entries (40 bytes each: 160 MB); further scopes (many
 * segments or countries with a large catalog) keep their entries in one
 * hash table, which holds only the items purchased in the scope.
 */
#define POP_DENSE_ENTRIES	(4 * 1024 * 1024)

struct PopAccum
{
	int			nitems;
	poptab_hash *tab;			/* entries of scopes without a dense array */
	HTAB	   *scopes;			/* key -> scope */
	PopScope  **scope_by_id;
	uint32		nscopes;
	uint32		cap_scopes;
	int64		dense_left;		/* entries dense arrays may still take */
	PopScope   *cur_segment;	/* of the current customer, or NULL */
	PopScope   *cur_country;
	TimestampTz as_of;
	TimestampTz recent_from;	/* as_of - 30 days */
	TimestampTz before_from;	/* as_of - 90 days */
	double		half_life;
};

/*
 * new_scope
 *		Register a scope under the next id, dense when the budget allows
 *		or when always_dense.
 */
static void
new_scope(PopAccum *pa, PopScope *s, const char *kind, bool always_dense)
{
	if (pa->nscopes == pa->cap_scopes)
	{
		pa->cap_scopes *= 2;
		pa->scope_by_id = repalloc(pa->scope_by_id, sizeof(PopScope *) * pa->cap_scopes);
	}
	s->id = pa->nscopes++;
	s->kind = kind;
	s->value = s->key + (s->id == 0 ? 0 : 2);
	s->dense = NULL;
	pa->scope_by_id[s->id] = s;
	if (always_dense || pa->dense_left >= pa->nitems)
	{
		s->dense = palloc_extended(sizeof(PopEntry) * Max(pa->nitems, 1),
								   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		for (int i = 0; i < pa->nitems; i++)
			s->dense[i].key = ((uint64) s->id << 32) | (uint32) i;
		pa->dense_left -= pa->nitems;
	}
}

/*
 * scope_of
 *		The scope of a segment or country value, created on first use;
 *		NULL for an empty or missing value (no scope).
 */
static PopScope *
scope_of(PopAccum *pa, char prefix, const char *value)
{
	char		key[POP_SCOPE_VALUE_LEN + 2];
	PopScope   *s;
	bool		found;

	if (value == NULL || value[0] == '\0')
		return NULL;
	key[0] = prefix;
	key[1] = ':';
	strlcpy(key + 2, value, POP_SCOPE_VALUE_LEN);
	s = hash_search(pa->scopes, key, HASH_ENTER, &found);
	if (!found)
		new_scope(pa, s, prefix == 's' ? "segment" : "country", false);
	return s;
}

/*
 * PopAccumCreate
 *		An empty accumulator in the current memory context.
 */
PopAccum *
PopAccumCreate(TimestampTz as_of, int nitems)
{
	PopAccum   *pa = palloc0(sizeof(PopAccum));
	HASHCTL		ctl;
	Interval	days;

	pa->nitems = nitems;
	pa->dense_left = POP_DENSE_ENTRIES;
	pa->tab = poptab_create(CurrentMemoryContext, 1024, NULL);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = POP_SCOPE_VALUE_LEN + 2;
	ctl.entrysize = sizeof(PopScope);
	ctl.hcxt = CurrentMemoryContext;
	pa->scopes = hash_create("recgen popularity scopes", 64, &ctl,
							 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	pa->cap_scopes = 64;
	pa->scope_by_id = palloc(sizeof(PopScope *) * pa->cap_scopes);
	/* id 0: "all", dense whatever the budget, kept out of the lookup table */
	new_scope(pa, palloc0(sizeof(PopScope)), "all", true);
	pa->as_of = as_of;
	/* calendar days in the session's time zone, as timestamptz - interval */
	memset(&days, 0, sizeof(days));
	days.day = 30;
	pa->recent_from = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
															  TimestampTzGetDatum(as_of),
															  IntervalPGetDatum(&days)));
	days.day = 90;
	pa->before_from = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
															  TimestampTzGetDatum(as_of),
															  IntervalPGetDatum(&days)));
	pa->half_life = (double) recgen_recency_half_life;
	return pa;
}

/*
 * PopAccumSetCustomer
 *		The segment and country of the purchases that follow (NULL for
 *		anonymous purchases, which count in "all" only).
 */
void
PopAccumSetCustomer(PopAccum *pa, const char *segment, const char *country)
{
	pa->cur_segment = scope_of(pa, 's', segment);
	pa->cur_country = scope_of(pa, 'c', country);
}

/*
 * add_to
 *		Count one purchase in one scope.
 */
static inline void
add_to(PopAccum *pa, PopScope *scope, int32 item, double w, bool recent, bool before)
{
	bool		found;
	PopEntry   *e;

	if (scope->dense)
		e = &scope->dense[item];
	else
	{
		e = poptab_insert(pa->tab, ((uint64) scope->id << 32) | (uint32) item, &found);
		if (!found)
		{
			e->w = 0;
			e->recent = e->before = e->n = 0;
		}
	}
	e->w += w;
	e->recent += recent;
	e->before += before;
	e->n++;
}

/*
 * PopAccumAdd
 *		One purchase of item at `at', counted overall and in the current
 *		customer's segment and country.
 */
void
PopAccumAdd(PopAccum *pa, int32 item, TimestampTz at)
{
	/* as extract(epoch FROM as_of - at): exact seconds */
	double		age = (double) (pa->as_of - at) / USECS_PER_SEC;
	double		w = exp2(-age / pa->half_life);
	bool		recent = (at >= pa->recent_from);
	bool		before = (!recent && at >= pa->before_from);

	add_to(pa, pa->scope_by_id[0], item, w, recent, before);
	if (pa->cur_segment)
		add_to(pa, pa->cur_segment, item, w, recent, before);
	if (pa->cur_country)
		add_to(pa, pa->cur_country, item, w, recent, before);
}

/* what cmp_rank needs: product ids by item index, scope positions by id */
typedef struct RankOrder
{
	const int64 *item_ids;
	const uint32 *scope_pos;
} RankOrder;

/*
 * cmp_scope
 *		Scopes in the order of item_popularity's indexes (kind, value).
 */
static int
cmp_scope(const void *a, const void *b)
{
	const PopScope *x = *(PopScope *const *) a;
	const PopScope *y = *(PopScope *const *) b;
	int			c = strcmp(x->kind, y->kind);

	return c != 0 ? c : strcmp(x->value, y->value);
}

/*
 * cmp_rank
 *		Scope (kind, value), then w descending, then product_id: rows
 *		then reach the (model_id, scope, scope_value, rank) index in its
 *		order, which B-tree inserts at the rightmost leaf take fastest.
 */
static int
cmp_rank(const void *a, const void *b, void *arg)
{
	const RankOrder *ro = (const RankOrder *) arg;
	const PopEntry *x = *(PopEntry *const *) a;
	const PopEntry *y = *(PopEntry *const *) b;
	uint32		sx = (uint32) (x->key >> 32),
				sy = (uint32) (y->key >> 32);
	int64		px,
				py;

	if (sx != sy)
		return ro->scope_pos[sx] < ro->scope_pos[sy] ? -1 : 1;
	if (x->w != y->w)
		return x->w > y->w ? -1 : 1;
	px = ro->item_ids[(uint32) x->key];
	py = ro->item_ids[(uint32) y->key];
	return (px > py) - (px < py);
}

/*
 * write_chunk
 *		Insert m rows of model_id from the columns (scope, scope_value,
 *		product_id, score, trend, purchases, rank).
 */
static void
write_chunk(int64 model_id, SpiColumn *cols, int m)
{
	Oid			scalar_types[1] = {INT8OID};
	Datum		scalars[1] = {Int64GetDatum(model_id)};
	int			lengths[7] = {m, m, m, m, m, m, m};

	SpiRunArrays("INSERT INTO recgen.item_popularity "
				 "(model_id, scope, scope_value, product_id, score, trend, purchases, rank) "
				 "SELECT $1, u.* FROM unnest($2, $3, $4, $5, $6, $7, $8) AS u",
				 1, scalar_types, scalars, 7, cols, lengths, SPI_OK_INSERT);
	CHECK_FOR_INTERRUPTS();
}

/*
 * PopAccumWrite
 *		Insert the rows of model_id, in chunks of `chunk' rows. item_ids
 *		maps item index to product_id. Returns the rows written.
 */
int64
PopAccumWrite(PopAccum *pa, int64 model_id, const int64 *item_ids)
{
	const int	chunk = 50000;
	uint64		n = pa->tab->members;
	PopEntry  **all;
	poptab_iterator it;
	PopEntry   *e;
	uint64		k = 0;
	SpiColumn	cols[7] = {
		{TEXTOID, palloc(sizeof(Datum) * chunk)},	/* scope */
		{TEXTOID, palloc(sizeof(Datum) * chunk)},	/* scope_value */
		{INT8OID, palloc(sizeof(Datum) * chunk)},	/* product_id */
		{FLOAT4OID, palloc(sizeof(Datum) * chunk)}, /* score */
		{FLOAT4OID, palloc(sizeof(Datum) * chunk)}, /* trend */
		{INT4OID, palloc(sizeof(Datum) * chunk)},	/* purchases */
		{INT4OID, palloc(sizeof(Datum) * chunk)}	/* rank */
	};
	int			m = 0;
	Datum		kind_text[3];
	Datum	   *value_text = palloc(sizeof(Datum) * pa->nscopes);
	double		top = 0;
	int32		r = 0;
	uint32		cur = UINT32_MAX;
	int64		written = 0;
	RankOrder	ro;

	for (uint32 sc = 0; sc < pa->nscopes; sc++)
		if (pa->scope_by_id[sc]->dense)
			n += pa->nitems;
	all = palloc_extended(sizeof(PopEntry *) * Max(n, 1), MCXT_ALLOC_HUGE);
	for (uint32 sc = 0; sc < pa->nscopes; sc++)
	{
		PopEntry   *dense = pa->scope_by_id[sc]->dense;

		if (dense)
			for (int i = 0; i < pa->nitems; i++)
				if (dense[i].n > 0)
					all[k++] = &dense[i];
	}
	poptab_start_iterate(pa->tab, &it);
	while ((e = poptab_iterate(pa->tab, &it)) != NULL)
		all[k++] = e;
	n = k;
	{
		PopScope  **order = palloc(sizeof(PopScope *) * pa->nscopes);
		uint32	   *pos = palloc(sizeof(uint32) * pa->nscopes);

		memcpy(order, pa->scope_by_id, sizeof(PopScope *) * pa->nscopes);
		qsort(order, pa->nscopes, sizeof(PopScope *), cmp_scope);
		for (uint32 i = 0; i < pa->nscopes; i++)
			pos[order[i]->id] = i;
		pfree(order);
		ro.scope_pos = pos;
	}
	ro.item_ids = item_ids;
	qsort_arg(all, n, sizeof(PopEntry *), cmp_rank, &ro);

	kind_text[0] = CStringGetTextDatum("all");
	kind_text[1] = CStringGetTextDatum("segment");
	kind_text[2] = CStringGetTextDatum("country");
	for (uint32 s = 0; s < pa->nscopes; s++)
		value_text[s] = CStringGetTextDatum(pa->scope_by_id[s]->value);

	for (uint64 i = 0; i < n; i++)
	{
		PopScope   *s;

		e = all[i];
		if ((uint32) (e->key >> 32) != cur)
		{
			cur = (uint32) (e->key >> 32);
			top = e->w;			/* sorted by w descending: the scope's largest */
			r = 0;
		}
		r++;
		s = pa->scope_by_id[cur];
		if (r > recgen_model_scope_items && recgen_model_scope_items > 0 && s->kind[0] != 'a')
			continue;
		cols[0].values[m] = kind_text[s->kind[0] == 'a' ? 0 : s->kind[0] == 's' ? 1 : 2];
		cols[1].values[m] = value_text[cur];
		cols[2].values[m] = Int64GetDatum(item_ids[(uint32) e->key]);
		cols[3].values[m] = Float4GetDatum(top > 0 ? (float4) (e->w / top) : 0.0f);
		cols[4].values[m] = Float4GetDatum((float4) ((e->recent + 1.0) / (e->before / 2.0 + 1.0)));
		cols[5].values[m] = Int32GetDatum(e->n);
		cols[6].values[m] = Int32GetDatum(r);
		m++;
		written++;
		if (m == chunk)
		{
			write_chunk(model_id, cols, m);
			m = 0;
		}
	}
	if (m > 0)
		write_chunk(model_id, cols, m);
	pfree(all);
	pfree((void *) ro.scope_pos);
	for (int c = 0; c < 7; c++)
		pfree(cols[c].values);
	pfree(value_text);
	return written;
}
