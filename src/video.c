/*-------------------------------------------------------------------------
 *
 * video.c
 *		The server side of videos: settings (where media may be read and
 *		written, the narration voice), the check that confines every file a
 *		video job names to those directories, and the removal of media files
 *		when their rows are deleted.
 *
 * Rendering itself never happens in a server process: it is the work of
 * recgen-render (render/), a separate program the workers start. This file
 * links nothing of espeak-ng or FFmpeg (README "Licence").
 *
 * Paths. recgen_media_path() resolves a path with realpath(3), so "..",
 * "." and symbolic links are followed to the file they name, and accepts it
 * only when the result lies inside one of the configured directories
 * (themselves resolved). A symlink inside an asset directory that points
 * out of it is therefore refused, like "../" tricks. Paths must be
 * absolute and name an existing regular file (inputs) or directory
 * (output); any ".." component is refused outright, even when it would
 * resolve inside, so that what is stored is what was meant.
 *
 * Files of deleted media rows are unlinked when the deleting transaction
 * commits (a transaction callback), never when it rolls back; the list
 * lives in TopMemoryContext for the transaction only.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/video.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/varlena.h"

#include "recgen.h"

char	   *recgen_media_dir = NULL;
char	   *recgen_asset_dirs = NULL;
int			recgen_render_timeout = 600;
char	   *recgen_tts_voice = NULL;
int			recgen_tts_rate = 160;

/* files to unlink when the current transaction commits */
static List *pending_unlinks = NIL;
static bool callback_registered = false;

/*
 * check_dir_list
 *		recgen.asset_dirs: a comma-separated list of absolute directories.
 *		Whether they exist is checked when they are used (they may be
 *		mounted later).
 */
static bool
check_dir_list(char **newval, void **extra, GucSource source)
{
	char	   *copy;
	List	   *dirs;
	ListCell   *lc;
	bool		ok = true;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	copy = pstrdup(*newval);
	if (!SplitDirectoriesString(copy, ',', &dirs))
	{
		GUC_check_errdetail("The list must be comma-separated directories.");
		return false;
	}
	foreach(lc, dirs)
	{
		if (((char *) lfirst(lc))[0] != '/')
		{
			GUC_check_errdetail("\"%s\" is not an absolute path.", (char *) lfirst(lc));
			ok = false;
			break;
		}
	}
	list_free_deep(dirs);
	pfree(copy);
	return ok;
}

/*
 * check_abs_dir
 *		recgen.media_dir: empty (videos disabled) or an absolute path.
 */
static bool
check_abs_dir(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0' || (*newval)[0] == '/')
		return true;
	GUC_check_errdetail("The media directory must be an absolute path.");
	return false;
}

/*
 * RecgenDefineVideoGucs
 *		Define the video settings (called from _PG_init).
 */
void
RecgenDefineVideoGucs(void)
{
	DefineCustomStringVariable("recgen.media_dir",
							   "Directory where rendered videos, subtitles and thumbnails are written.",
							   "Empty disables video rendering. recgen.media rows name files under it.",
							   &recgen_media_dir, "", PGC_SIGHUP, 0,
							   check_abs_dir, NULL, NULL);
	DefineCustomStringVariable("recgen.asset_dirs",
							   "Directories from which video jobs may read backgrounds, music and watermarks.",
							   "Comma-separated absolute paths. A path outside them, or a symbolic link out of them, is refused.",
							   &recgen_asset_dirs, "", PGC_SIGHUP, 0,
							   check_dir_list, NULL, NULL);
	DefineCustomIntVariable("recgen.render_timeout",
							"Longest time a video render may run before it is killed.",
							NULL, &recgen_render_timeout, 600, 1, 86400, PGC_SIGHUP,
							GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomStringVariable("recgen.tts_voice",
							   "espeak-ng voice of video narrations, when a render does not choose one.",
							   NULL, &recgen_tts_voice, "en-gb", PGC_USERSET, 0,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("recgen.tts_rate",
							"Speech rate of video narrations, in words per minute.",
							NULL, &recgen_tts_rate, 160, 80, 450, PGC_USERSET,
							0, NULL, NULL, NULL);
}

/*
 * inside
 *		Whether the resolved path lies in the resolved directory dir (or is
 *		that directory, when allow_self).
 */
static bool
inside(const char *path, const char *dir, bool allow_self)
{
	char		real_dir[PATH_MAX];
	size_t		n;

	if (realpath(dir, real_dir) == NULL)
		return false;
	n = strlen(real_dir);
	if (strncmp(path, real_dir, n) != 0)
		return false;
	if (path[n] == '\0')
		return allow_self;
	return path[n] == '/' || (n == 1 && real_dir[0] == '/');
}

/* has the path a ".." component? */
static bool
has_dotdot(const char *p)
{
	const char *s = p;

	while ((s = strstr(s, "..")) != NULL)
	{
		if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
			return true;
		s += 2;
	}
	return false;
}

PG_FUNCTION_INFO_V1(recgen_media_path);

/*
 * recgen_media_path(path text, purpose text) returns text
 *		The canonical form of path when it is allowed for purpose: 'input'
 *		(an existing regular file under one of recgen.asset_dirs), 'output'
 *		(an existing directory under recgen.media_dir, or that directory)
 *		or 'media' (an existing regular file under recgen.media_dir).
 *		Anything else is an error saying what is allowed.
 */
Datum
recgen_media_path(PG_FUNCTION_ARGS)
{
	char	   *path = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *purpose = text_to_cstring(PG_GETARG_TEXT_PP(1));
	bool		media = strcmp(purpose, "media") == 0;
	bool		output = media || strcmp(purpose, "output") == 0;
	bool		want_dir = strcmp(purpose, "output") == 0;
	char		real[PATH_MAX];
	struct stat st;
	bool		ok = false;

	if (!output && strcmp(purpose, "input") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("purpose must be \"input\", \"output\" or \"media\", not \"%s\"", purpose)));
	if (output ? recgen_media_dir[0] == '\0' : recgen_asset_dirs[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s is not set", output ? "recgen.media_dir" : "recgen.asset_dirs"),
				 errhint("An administrator sets it in postgresql.conf (or with ALTER SYSTEM) and reloads the configuration.")));
	if (path[0] != '/' || has_dotdot(path))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("path \"%s\" must be absolute and must not contain \"..\"", path)));
	if (realpath(path, real) == NULL || stat(real, &st) != 0 ||
		(want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("%s \"%s\" does not exist", want_dir ? "directory" : "file", path)));

	if (output)
		ok = inside(real, recgen_media_dir, want_dir);
	else
	{
		char	   *copy = pstrdup(recgen_asset_dirs);
		List	   *dirs;
		ListCell   *lc;

		if (SplitDirectoriesString(copy, ',', &dirs))
		{
			foreach(lc, dirs)
			{
				if (inside(real, (char *) lfirst(lc), false))
				{
					ok = true;
					break;
				}
			}
		}
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("path \"%s\" is outside the %s", path,
						output ? "media directory" : "asset directories"),
				 errdetail("Allowed: %s (recgen.%s); symbolic links are followed.",
						   output ? recgen_media_dir : recgen_asset_dirs,
						   output ? "media_dir" : "asset_dirs")));
	PG_RETURN_TEXT_P(cstring_to_text(real));
}

/*
 * unlink_at_commit
 *		Transaction callback: unlink the files of deleted media rows once
 *		the deletion is committed; forget them when it aborts.
 */
static void
unlink_at_commit(XactEvent event, void *arg)
{
	ListCell   *lc;

	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
	{
		foreach(lc, pending_unlinks)
		{
			const char *p = lfirst(lc);

			if (unlink(p) != 0 && errno != ENOENT)
				elog(LOG, "recgen: could not remove media file \"%s\": %m", p);
		}
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		list_free_deep(pending_unlinks);
		pending_unlinks = NIL;
	}
}

PG_FUNCTION_INFO_V1(recgen_media_unlink);

/*
 * recgen_media_unlink()
 *		AFTER DELETE row trigger on recgen.media: the row's file is removed
 *		when the transaction commits (only files under recgen.media_dir).
 */
Datum
recgen_media_unlink(PG_FUNCTION_ARGS)
{
	TriggerData *trig = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	int			attno;
	bool		isnull;
	Datum		d;
	MemoryContext old;
	char	   *path;
	char		real[PATH_MAX];

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BY_DELETE(trig->tg_event))
		elog(ERROR, "recgen_media_unlink: not called as a DELETE trigger");
	desc = RelationGetDescr(trig->tg_relation);
	attno = SPI_fnumber(desc, "path");
	if (attno <= 0)
		elog(ERROR, "recgen_media_unlink: the table has no column \"path\"");
	d = heap_getattr(trig->tg_trigtuple, attno, desc, &isnull);
	if (isnull)
		return PointerGetDatum(NULL);
	path = TextDatumGetCString(d);
	/* only what lies in the media directory, as it is now */
	if (recgen_media_dir[0] != '\0' && realpath(path, real) != NULL &&
		inside(real, recgen_media_dir, false))
	{
		if (!callback_registered)
		{
			RegisterXactCallback(unlink_at_commit, NULL);
			callback_registered = true;
		}
		old = MemoryContextSwitchTo(TopMemoryContext);
		pending_unlinks = lappend(pending_unlinks, pstrdup(real));
		MemoryContextSwitchTo(old);
	}
	return PointerGetDatum(NULL);
}
