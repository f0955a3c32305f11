/*-------------------------------------------------------------------------
 *
 * engine_guc.c
 *		Settings of the recommendation engine (recgen.model_*, the scoring
 *		blend and the business-rule defaults).
 *
 * The model_* settings shape what recgen.refresh_model() builds and how
 * much memory it needs; the others are read by every recgen.recommend()
 * call. All are USERSET: they change results, never where data goes.
 * Each is documented in docs/engine.md ("Settings").
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/engine_guc.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "utils/guc.h"

#include "engine.h"
#include "settings.h"

int			recgen_model_max_basket = 100;
int			recgen_model_neighbors = 50;
double		recgen_model_shrinkage = 10.0;
int			recgen_model_history_items = 30;
int			recgen_model_scope_items = 1000;
double		recgen_model_history_weight = 0.5;
double		recgen_model_content_max_df = 0.25;
int			recgen_recency_half_life = 120 * 86400;
int			recgen_max_per_category = 3;
int			recgen_history_items = 50;
double		recgen_repeat_weight = 3.0;
int			recgen_repeat_norm = RECGEN_REPEAT_NORM_LENGTH;
double		recgen_repeat_order_decay = 0.9;
double		recgen_content_weight = 0.3;
double		recgen_category_weight = 0.1;
double		recgen_popularity_weight = 0.02;
int			recgen_repurchase = RECGEN_REPURCHASE_CATALOG;
double		recgen_upsell_max_price_ratio = 1.5;
int			recgen_new_item_age = 30 * 86400;
int			recgen_model_customer_pool = 50000;
int			recgen_neighbor_half_life = 60 * 86400;
int			recgen_neighbor_customers = 100;
double		recgen_neighbor_weight = 0.7;

static const struct config_enum_entry repurchase_options[] = {
	{"catalog", RECGEN_REPURCHASE_CATALOG, false},
	{"always", RECGEN_REPURCHASE_ALWAYS, false},
	{"never", RECGEN_REPURCHASE_NEVER, false},
	{NULL, 0, false}
};

static const struct config_enum_entry repeat_norm_options[] = {
	{"length", RECGEN_REPEAT_NORM_LENGTH, false},
	{"largest", RECGEN_REPEAT_NORM_LARGEST, false},
	{NULL, 0, false}
};

/*
 * RecgenDefineEngineGucs
 *		Define the engine's settings. Called from _PG_init.
 */
void
RecgenDefineEngineGucs(void)
{
	DefineCustomIntVariable("recgen.model_max_basket",
							"Largest basket, in distinct items, that the model refresh uses whole.",
							"Larger baskets are sampled down to this many items (deterministically), which bounds refresh time and memory.",
							&recgen_model_max_basket,
							100, 2, 10000,
							PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.model_neighbors",
							"Neighbours kept per item and kind by the model refresh.",
							NULL,
							&recgen_model_neighbors,
							50, 1, 1000,
							PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomRealVariable("recgen.model_shrinkage",
							 "Shrinkage of co-occurrence cosine: score times support / (support + shrinkage).",
							 "Guards against pairs seen in only a few baskets.",
							 &recgen_model_shrinkage,
							 10.0, 0.0, 1000000.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.model_history_items",
							"Most recent distinct items of a customer that form one history for co-occurrence.",
							"0 disables customer-history co-occurrence (baskets only).",
							&recgen_model_history_items,
							30, 0, 10000,
							PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.model_scope_items",
							"Most popular items kept per customer segment and per country in item_popularity.",
							"The overall scope keeps every purchased item; 0 keeps every item in every scope.",
							&recgen_model_scope_items,
							1000, 0, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomRealVariable("recgen.model_history_weight",
							 "Weight of a customer history against a basket in co-occurrence.",
							 NULL,
							 &recgen_model_history_weight,
							 0.5, 0.0, 100.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomRealVariable("recgen.model_content_max_df",
							 "Content tokens held by more than this share of items are ignored.",
							 NULL,
							 &recgen_model_content_max_df,
							 0.25, 0.0, 1.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.recency_half_life",
							"Half-life of the weight of a customer's past events.",
							NULL,
							&recgen_recency_half_life,
							120 * 86400, 3600, 10 * 365 * 86400,
							PGC_USERSET, GUC_UNIT_S, NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.max_per_category",
							"Default maximum of recommended items per category (0 = no limit).",
							"A max_per_category rule in recgen.rules overrides it.",
							&recgen_max_per_category,
							3, 0, 1000,
							PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.history_items",
							"Items of a customer's history whose neighbours recommend() expands.",
							NULL,
							&recgen_history_items,
							50, 1, 10000,
							PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomRealVariable("recgen.repeat_weight",
							 "Weight of a customer's own repeat purchases (frequency and recency) in the score.",
							 "Applies only to items that may be bought again (recgen.repurchase).",
							 &recgen_repeat_weight,
							 3.0, 0.0, 1000.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomEnumVariable("recgen.repeat_norm",
							 "What a customer's repeat scores are relative to.",
							 "length (default): the length of the customer's vector of repeat scores, as TIFU-KNN normalises a customer; largest: the customer's most bought item.",
							 &recgen_repeat_norm,
							 RECGEN_REPEAT_NORM_LENGTH,
							 repeat_norm_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomRealVariable("recgen.repeat_order_decay",
							 "Decay of a purchase per later order of the customer in the repeat score.",
							 "A purchase counts this to the power of the number of the customer's orders after it; 0 decays it by recgen.recency_half_life instead.",
							 &recgen_repeat_order_decay,
							 0.9, 0.0, 1.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomRealVariable("recgen.content_weight",
							 "Weight of content neighbours against co-occurrence neighbours.",
							 NULL,
							 &recgen_content_weight,
							 0.3, 0.0, 1000.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomRealVariable("recgen.category_weight",
							 "Weight of the customer's category affinity in the score.",
							 NULL,
							 &recgen_category_weight,
							 0.1, 0.0, 1000.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomRealVariable("recgen.popularity_weight",
							 "Weight of popularity, the prior, in the score.",
							 NULL,
							 &recgen_popularity_weight,
							 0.02, 0.0, 1000.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomEnumVariable("recgen.repurchase",
							 "Whether items the customer bought may be recommended again.",
							 "catalog (default): after the product's repurchase_interval; always; never.",
							 &recgen_repurchase,
							 RECGEN_REPURCHASE_CATALOG,
							 repurchase_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomRealVariable("recgen.upsell_max_price_ratio",
							 "Upsell: highest price of a suggestion relative to the item it upgrades.",
							 NULL,
							 &recgen_upsell_max_price_ratio,
							 1.5, 1.0, 100.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.new_item_age",
							"Age below which a product counts as new (strategy \"new\").",
							NULL,
							&recgen_new_item_age,
							30 * 86400, 3600, 10 * 365 * 86400,
							PGC_USERSET, GUC_UNIT_S, NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.model_customer_pool",
							"Customers whose purchase profiles the model refresh keeps, for customer neighbours.",
							"The consented customers who bought most recently; 0 builds no profiles (no customer neighbours).",
							&recgen_model_customer_pool,
							50000, 0, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.neighbor_half_life",
							"Half-life of a purchase in the profiles that customer neighbours are found by.",
							NULL,
							&recgen_neighbor_half_life,
							60 * 86400, 3600, 10 * 365 * 86400,
							PGC_USERSET, GUC_UNIT_S, NULL, NULL, NULL);

	DefineCustomIntVariable("recgen.neighbor_customers",
							"Customers most like the customer whose purchases recommend() counts.",
							"0 turns customer neighbours off.",
							&recgen_neighbor_customers,
							100, 0, 10000,
							PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomRealVariable("recgen.neighbor_weight",
							 "Weight of what the customer's nearest customers bought in the score.",
							 NULL,
							 &recgen_neighbor_weight,
							 0.7, 0.0, 1000.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);
}
