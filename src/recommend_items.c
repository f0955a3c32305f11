/*-------------------------------------------------------------------------
 *
 * recommend_items.c
 *		The products one recommend() call looks at (history items and
 *		candidates), by id: a simplehash table of pointers to RecItems
 *		allocated in blocks, plus the list of items in creation order
 *		for iteration.
 *
 * A call touches a few thousand items, each looked up several times;
 * simplehash's inlined open addressing costs a fraction of dynahash's.
 * Items never move once created (the table holds pointers), so neighbour
 * links and the reason detail keep RecItem pointers.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/recommend_items.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "int64_hash.h"
#include "recommend.h"

typedef struct ItemSlot
{
	int64		key;
	char		status;			/* simplehash's */
	RecItem    *item;
} ItemSlot;

#define SH_PREFIX			itemtab
#define SH_ELEMENT_TYPE		ItemSlot
#define SH_KEY_TYPE			int64
#define SH_KEY				key
#define SH_HASH_KEY(tb, k)	RecHashInt64((uint64) (k))
#define SH_EQUAL(tb, a, b)	((a) == (b))
#define SH_SCOPE			static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

#define ITEMS_PER_BLOCK 256

struct RecItems
{
	itemtab_hash *tab;
	RecItem   **list;			/* every item, in creation order */
	int			n;
	int			cap;
	RecItem    *block;			/* the block new items are cut from */
	int			block_used;
};

/*
 * RecItemsCreate
 *		An empty set in the current memory context, sized for `expect'.
 */
RecItems *
RecItemsCreate(int expect)
{
	RecItems   *items = palloc0(sizeof(RecItems));

	items->tab = itemtab_create(CurrentMemoryContext, Max(expect, 16), NULL);
	items->cap = Max(expect, 16);
	items->list = palloc(sizeof(RecItem *) * items->cap);
	items->block_used = ITEMS_PER_BLOCK;
	return items;
}

/*
 * RecItemFind
 *		The item of a product, or NULL.
 */
RecItem *
RecItemFind(RecItems *items, int64 id)
{
	ItemSlot   *s = itemtab_lookup(items->tab, id);

	return s ? s->item : NULL;
}

/*
 * RecItemGet
 *		The item of a product, created zeroed when missing.
 */
RecItem *
RecItemGet(RecItems *items, int64 id)
{
	bool		found;
	ItemSlot   *s = itemtab_insert(items->tab, id, &found);

	if (!found)
	{
		if (items->block_used == ITEMS_PER_BLOCK)
		{
			items->block = palloc0(sizeof(RecItem) * ITEMS_PER_BLOCK);
			items->block_used = 0;
		}
		if (items->n == items->cap)
		{
			items->cap *= 2;
			items->list = repalloc(items->list, sizeof(RecItem *) * items->cap);
		}
		s->item = &items->block[items->block_used++];
		s->item->product_id = id;
		items->list[items->n++] = s->item;
	}
	return s->item;
}

/*
 * RecItemsCount
 *		How many items there are.
 */
int
RecItemsCount(const RecItems *items)
{
	return items->n;
}

/*
 * RecItemsAt
 *		The i-th item created, 0 <= i < RecItemsCount().
 */
RecItem *
RecItemsAt(const RecItems *items, int i)
{
	return items->list[i];
}
