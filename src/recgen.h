/*-------------------------------------------------------------------------
 *
 * recgen.h
 *		What every part of recgen may need: the version, whether the
 *		library is preloaded, and (for files written before the split by
 *		subsystem) the headers of the settings, the shared memory and the
 *		catalog cache. New code includes the header it needs:
 *		settings.h, shmem.h, catalog_cache.h.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/recgen.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_H
#define RECGEN_H

#ifndef RECGEN_VERSION
#define RECGEN_VERSION "unknown"
#endif

#include "catalog_cache.h"
#include "settings.h"
#include "shmem.h"

/* video.c: media directories and narration defaults */
extern char *recgen_media_dir;
extern char *recgen_asset_dirs;
extern int	recgen_render_timeout;
extern char *recgen_tts_voice;
extern int	recgen_tts_rate;
extern void RecgenDefineVideoGucs(void);

/* recgen.c */
extern bool RecgenIsPreloaded(void);

/* call_log.c */
extern void RecgenInstallCallLogHooks(void);

#endif							/* RECGEN_H */
