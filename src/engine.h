/*-------------------------------------------------------------------------
 *
 * engine.h
 *		The recommendation engine's settings (engine_guc.c), read by the
 *		model refresh and by recommend().
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/engine.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_ENGINE_H
#define RECGEN_ENGINE_H

/* recgen.repurchase: may already bought items be recommended again? */
typedef enum RecgenRepurchase
{
	RECGEN_REPURCHASE_CATALOG,	/* after products.repurchase_interval */
	RECGEN_REPURCHASE_ALWAYS,	/* always (replenishment evaluation) */
	RECGEN_REPURCHASE_NEVER		/* never */
} RecgenRepurchase;

/* recgen.repeat_norm: what a customer's repeat scores are relative to */
typedef enum RecgenRepeatNorm
{
	RECGEN_REPEAT_NORM_LENGTH,	/* the length of their vector (TIFU-KNN) */
	RECGEN_REPEAT_NORM_LARGEST	/* the most bought item (0.1.0) */
} RecgenRepeatNorm;

/* Settings, defined in engine_guc.c */
extern int	recgen_model_max_basket;
extern int	recgen_model_neighbors;
extern double recgen_model_shrinkage;
extern int	recgen_model_history_items;
extern int	recgen_model_scope_items;
extern double recgen_model_history_weight;
extern double recgen_model_content_max_df;
extern int	recgen_recency_half_life;
extern int	recgen_max_per_category;
extern int	recgen_history_items;
extern double recgen_repeat_weight;
extern int	recgen_repeat_norm;
extern double recgen_repeat_order_decay;
extern double recgen_content_weight;
extern double recgen_category_weight;
extern double recgen_popularity_weight;
extern int	recgen_repurchase;
extern double recgen_upsell_max_price_ratio;
extern int	recgen_new_item_age;
extern int	recgen_model_customer_pool;
extern int	recgen_neighbor_half_life;
extern int	recgen_neighbor_customers;
extern double recgen_neighbor_weight;

#endif							/* RECGEN_ENGINE_H */
