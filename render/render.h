/*-------------------------------------------------------------------------
 *
 * render.h
 *		Shared declarations of recgen-render, the helper program that turns
 *		a narration script into a narrated, subtitled MP4 video.
 *
 * The helper is a program of its own, not part of recgen.so: it links the
 * espeak-ng library (GPL-3.0-or-later), keeps espeak-ng's global state in
 * its own process, and runs FFmpeg as child processes, so a crash in any of
 * them never reaches the database server (README "Licence").
 *
 * Flow (main.c): options -> speech (speech.c: PCM + word timings) -> cues
 * (cues.c: subtitle cues, SRT, WebVTT, ASS) -> composition (compose.c:
 * FFmpeg argument vectors, run by run.c) -> outputs renamed into place.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		render/render.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_RENDER_H
#define RECGEN_RENDER_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

/* one spoken word: its bytes in the script and its time in the narration */
typedef struct RenderWord
{
	size_t		offset;			/* byte offset in the script */
	size_t		length;			/* bytes */
	double		start;			/* seconds */
	double		end;			/* seconds, trailing silence trimmed */
	int			sentence_end;	/* last word of a sentence or clause */
	int			paragraph_end;	/* last word of a paragraph */
} RenderWord;

/* the synthesized narration */
typedef struct RenderSpeech
{
	short	   *pcm;			/* mono, 16 bit */
	size_t		samples;
	int			rate;			/* samples per second */
	RenderWord *words;
	int			nwords;
} RenderSpeech;

/* one subtitle cue: words [first, last] of the speech */
typedef struct RenderCue
{
	int			first;
	int			last;
	double		start;
	double		end;
	char	   *text;			/* lines separated by '\n', malloc'd */
} RenderCue;

/* most --card options */
#define MAX_CARDS 8

/* a product card (cards.c): shown over cues [first, last] */
typedef struct RenderCard
{
	char	   *title;			/* the product's name (malloc'd) */
	const char *detail;			/* second line (its price), or NULL */
	int			first;			/* -1: the narration never names it */
	int			last;
} RenderCard;

typedef enum
{
	BG_GENERATED,				/* a gradient made by FFmpeg */
	BG_IMAGE,					/* a still picture */
	BG_CLIP						/* a moving clip, looped */
} BackgroundKind;

typedef enum
{
	MUSIC_NONE,
	MUSIC_GENERATED,			/* a soft chord bed made by FFmpeg */
	MUSIC_FILE
} MusicKind;

/* everything the command line sets */
typedef struct RenderOptions
{
	const char *script_path;	/* UTF-8 text; "-" for standard input */
	const char *script_text;	/* or the script itself (--text) */
	const char *out_dir;
	const char *name;			/* base name of the outputs */
	const char *work_dir;		/* parent of the temporary directory */
	const char *voice;
	int			rate;			/* words per minute */
	int			pitch;			/* 0..100 */
	int			paragraph_pause_ms;
	int			width;
	int			height;
	int			fps;			/* moving backgrounds */
	BackgroundKind bg_kind;
	const char *bg_path;
	const char *bg_colors;		/* generated: two colours, "0x1d3557,0x457b9d" */
	MusicKind	music_kind;
	const char *music_path;
	double		music_volume;	/* 0..1, relative to the voice */
	const char *wm_text;
	const char *wm_image;
	const char *wm_position;	/* top-left, top-right, bottom-left, ... */
	double		wm_opacity;
	double		sub_scale;		/* font size factor */
	const char *sub_color;		/* RRGGBB */
	const char *sub_position;	/* bottom, top */
	int			sub_box;		/* boxed (1) or outlined (0) text */
	int			max_line_chars;
	const char *preset;			/* x264 preset */
	int			crf;
	const char *ffmpeg;
	const char *font;
	int			keep_wav;		/* write <name>.wav */
	const char *words_json;		/* write word timings here (tests, bench) */
	const char *card_args[MAX_CARDS];	/* --card "TITLE|DETAIL" */
	int			ncards;
} RenderOptions;

/* the helper's temporary directory and child, for cleanup on any exit */
extern char render_tmpdir[4096];
extern volatile sig_atomic_t render_stop;
extern volatile pid_t render_child;

/* report.c */
extern void RenderProgress(double fraction, const char *phase);
extern void RenderLog(const char *fmt,...) __attribute__((format(printf, 1, 2)));
extern void RenderFail(const char *fmt,...) __attribute__((format(printf, 1, 2), noreturn));
extern char *RenderTmpPath(const char *file);
extern void RenderRemoveTmpdir(void);
extern void RenderRemoveStaleTmpdirs(const char *dir);

/* speech.c */
extern void SpeechSynthesize(const RenderOptions *opt, const char *script,
							 RenderSpeech *out);
extern void SpeechWriteWav(const RenderSpeech *sp, const char *path);
extern void SpeechWriteWordsJson(const RenderSpeech *sp, const char *script,
								 const char *path);
extern double SpeechDuration(const RenderSpeech *sp);

/* cues.c */
extern int	CuesBuild(const RenderSpeech *sp, const char *script, int max_chars,
					  RenderCue **cues);
extern void CuesWriteSrt(const RenderCue *cues, int n, const char *path);
extern void CuesWriteVtt(const RenderCue *cues, int n, const char *path);
extern void CuesWriteAss(const RenderOptions *opt, const RenderCue *cues, int n,
						 const RenderCard *cards, int ncards,
						 double duration, int one_per_second, const char *path);

/* cards.c */
extern int	CardsPlace(const RenderOptions *opt, const RenderSpeech *sp,
					   const char *script, const RenderCue *cues, int ncues,
					   RenderCard **out);
extern int	CardAt(const RenderCard *cards, int n, int k);
extern void CardsFree(RenderCard *cards, int n);

/* compose.c */
extern void ComposeVideo(const RenderOptions *opt, const RenderCue *cues,
						 int ncues, const RenderCard *cards, int ncards,
						 double duration);

/* run.c */
typedef struct ArgV
{
	char	  **argv;
	int			n;
	int			cap;
} ArgV;
extern void ArgAdd(ArgV *a, const char *s);
extern void ArgAddf(ArgV *a, const char *fmt,...) __attribute__((format(printf, 2, 3)));
extern void ArgFree(ArgV *a);
extern void RunFfmpeg(ArgV *a, double duration, double from, double to,
					  const char *phase);

/* allocation (report.c) */
extern char *xstrdup(const char *s);
extern char *xasprintf(const char *fmt,...) __attribute__((format(printf, 1, 2)));
extern void *xmalloc(size_t n);
extern void *xrealloc(void *p, size_t n);

#endif							/* RECGEN_RENDER_H */
