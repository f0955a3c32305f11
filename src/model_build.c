/*-------------------------------------------------------------------------
 *
 * model_build.c
 *		What every step of a model build shares (model_build.h): the map
 *		from product ids to dense items, and progress, which shows in
 *		pg_stat_activity and in the context of any error raised during
 *		the build (a cancel included), so a user sees where it stopped.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/model_build.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pgstat.h"
#include "utils/memutils.h"

#include "model_build.h"

/*
 * ModelItemsInit
 *		The items of the sorted product ids; a direct map from product id
 *		to item when the ids span at most four times their number (serial
 *		ids do), so ModelItemIndex needs no search. Allocates in the
 *		current memory context.
 */
void
ModelItemsInit(ModelItems *mi, int64 *item_ids, int nitems)
{
	mi->nitems = nitems;
	mi->item_ids = item_ids;
	mi->id_map = NULL;
	mi->id_base = 0;
	mi->id_span = 0;
	if (nitems == 0)
		return;
	mi->id_base = item_ids[0];
	mi->id_span = item_ids[nitems - 1] - mi->id_base + 1;
	if (mi->id_span <= 0 || mi->id_span > 4 * (int64) nitems + 1024)
		return;
	mi->id_map = palloc_extended(sizeof(int32) * mi->id_span, MCXT_ALLOC_HUGE);
	memset(mi->id_map, 0xff, sizeof(int32) * mi->id_span);	/* -1 */
	for (int i = 0; i < nitems; i++)
		mi->id_map[item_ids[i] - mi->id_base] = i;
}

/*
 * ModelProgress
 *		Enter a phase (or report how far it got): shown in
 *		pg_stat_activity.query as "recgen.refresh_model: <phase> i/n" and
 *		logged at DEBUG1.
 */
void
ModelProgress(ModelBuild *mb, const char *phase, int64 done, int64 total)
{
	char		buf[128];

	mb->phase = phase;
	mb->done = done;
	mb->total = total;
	snprintf(buf, sizeof(buf), "recgen.refresh_model: %s " INT64_FORMAT "/" INT64_FORMAT,
			 phase, done, total);
	pgstat_report_activity(STATE_RUNNING, buf);
	ereport(DEBUG1, (errmsg_internal("%s", buf)));
}

/*
 * ModelErrorContext
 *		Error context callback of a build (arg: the ModelBuild): the phase
 *		and how far it got, e.g. after a cancel.
 */
void
ModelErrorContext(void *arg)
{
	ModelBuild *mb = (ModelBuild *) arg;

	if (mb->phase == NULL)
		return;
	if (mb->total > 0)
		errcontext("recgen.refresh_model: %s, " INT64_FORMAT " of " INT64_FORMAT,
				   mb->phase, mb->done, mb->total);
	else
		errcontext("recgen.refresh_model: %s, " INT64_FORMAT " rows", mb->phase, mb->done);
}
