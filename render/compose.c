/*-------------------------------------------------------------------------
 *
 * compose.c
 *		The FFmpeg runs that compose the video: background, burned-in
 *		subtitles, watermark, voice with the music ducked under it,
 *		H.264 + AAC in MP4 with +faststart, and a thumbnail.
 *
 * The frame count is the cost. A still or generated background changes
 * only when a cue appears or disappears, so it is composed in two runs:
 *
 *   1. frames: the background at one frame per second, with the
 *      "one per second" ASS script (cues.c) and the watermark, gives one
 *      PNG per distinct picture: seg_000.png without a cue, seg_<k>.png
 *      with cue k-1 (and its product card, if any), seg_<ncues+1+j>.png
 *      with card j alone (a pause inside that card, cards.c);
 *   2. encode: the concat demuxer plays those pictures with each
 *      segment's duration (one entry per cue and per pause, split every
 *      SEGMENT_MAX seconds so players can seek), x264 encodes one frame per
 *      entry (variable frame rate), and the audio is mixed.
 *
 * A moving clip is composed in one run at the full frame rate: looped,
 * scaled and cropped, subtitles burned in with their real times.
 *
 * Audio: the voice (espeak-ng's 22.05 kHz mono WAV) is resampled to 44.1
 * kHz stereo and split: one copy is heard, the other drives a sidechain
 * compressor on the music, which ducks while the voice speaks and comes up
 * in the pauses. The music (a file looped, or a generated chord) is
 * trimmed to the narration and faded in and out.
 *
 * FFmpeg runs in the temporary directory, so the filter graphs name their
 * files relatively: nothing from the outside is ever spliced into a
 * graph. Input paths are given as "file:" URLs (no other protocol) and
 * images with -pattern_type none (a "%" is not a sequence pattern).
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		render/compose.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "render.h"

/* longest concat entry of a still picture, seconds */
#define SEGMENT_MAX 2.0

/* a picture shown from start for duration seconds */
typedef struct Segment
{
	int			picture;		/* 0: no cue, k + 1: cue k, ncues + 1 + j: a
								 * pause inside card j */
	double		start;
	double		duration;
} Segment;

/*
 * The generated music bed: five sine tones of an A-major chord (the sine
 * source is table-driven, far cheaper than an expression evaluated per
 * sample) with a slow swell, softened by a low-pass filter.
 */
static char *
music_bed(double duration)
{
	static const double freq[] = {110, 164.81, 220, 277.18, 329.63};
	char	   *g = xstrdup("");

	for (int i = 0; i < 5; i++)
	{
		char	   *n = xasprintf("%ssine=f=%.2f:r=44100:d=%.3f[tone%d];", g,
								  freq[i], duration, i);

		free(g);
		g = n;
	}
	{
		char	   *n = xasprintf("%s[tone0][tone1][tone2][tone3][tone4]amix=inputs=5:"
								  "normalize=0:weights=1 0.8 0.6 0.5 0.35,"
								  "tremolo=f=0.125:d=0.25,lowpass=f=2000", g);

		free(g);
		g = n;
	}
	return g;
}

/* the common start of every FFmpeg command line */
static void
ffmpeg_head(const RenderOptions *opt, ArgV *a)
{
	ArgAdd(a, opt->ffmpeg);
	ArgAdd(a, "-nostdin");
	ArgAdd(a, "-hide_banner");
	ArgAdd(a, "-loglevel");
	ArgAdd(a, "error");
	ArgAdd(a, "-nostats");
	ArgAdd(a, "-progress");
	ArgAdd(a, "pipe:3");
	ArgAdd(a, "-y");
}

/* an input file, by the file protocol only */
static void
add_file_input(ArgV *a, const char *path, int loop_stream, int image)
{
	if (loop_stream)
	{
		ArgAdd(a, "-stream_loop");
		ArgAdd(a, "-1");
	}
	if (image)
	{
		ArgAdd(a, "-f");
		ArgAdd(a, "image2");
		ArgAdd(a, "-pattern_type");
		ArgAdd(a, "none");
		ArgAdd(a, "-loop");
		ArgAdd(a, "1");
		ArgAdd(a, "-framerate");
		ArgAdd(a, "1");
	}
	ArgAdd(a, "-i");
	ArgAddf(a, "file:%s", path);
}

/* the music file input (if any); returns whether one was added */
static int
add_music_input(const RenderOptions *opt, ArgV *a)
{
	if (opt->music_kind == MUSIC_FILE)
	{
		add_file_input(a, opt->music_path, 1, 0);
		return 1;
	}
	return 0;
}

/*
 * The audio part of the graph: voice input vin, music file input min (-1:
 * none), output label [aout]. The voice is lifted to about -17 LUFS (web
 * video is usually mastered at -14 to -16) under a limiter. Mono at 44.1 kHz: one voice needs no
 * stereo, and it halves the cost of FFmpeg's AAC encoder, the slowest step
 * of a still video.
 */
static char *
audio_graph(const RenderOptions *opt, int vin, int min, double duration)
{
	/* espeak-ng speaks at about -21 LUFS: lift to about -17, peaks limited */
	const char *loudness = "volume=4dB,alimiter=limit=0.9:level=0";
	double		fade_out = duration > 4 ? 2.0 : duration / 3;
	char	   *src,
			   *g;

	if (opt->music_kind == MUSIC_NONE)
		return xasprintf("[%d:a]aresample=44100,aformat=channel_layouts=mono,%s[aout]",
						 vin, loudness);
	if (opt->music_kind == MUSIC_GENERATED)
		src = music_bed(duration);
	else
		src = xasprintf("[%d:a]aresample=44100", min);
	g = xasprintf("[%d:a]aresample=44100,aformat=channel_layouts=mono,"
				  "asplit=2[voice][key];"
				  "%s,aformat=channel_layouts=mono,"
				  "atrim=duration=%.3f,volume=%.3f,"
				  "afade=t=in:d=1,afade=t=out:st=%.3f:d=%.3f[bed];"
				  "[bed][key]sidechaincompress=threshold=0.02:ratio=12:"
				  "attack=15:release=450:knee=4[ducked];"
				  "[voice][ducked]amix=inputs=2:duration=first:normalize=0,%s[aout]",
				  vin, src, duration, opt->music_volume,
				  duration - fade_out, fade_out, loudness);
	free(src);
	return g;
}

/*
 * The watermark overlay on [in], output [out]; wm: its input index. The
 * watermark is converted once to the main picture's family (yuv for the
 * encoded clip, rgb for the still frames) so that overlay blends in that
 * format and never converts the full frame: for a moving clip, letting
 * overlay choose (format=auto) cost about a third of the whole encode.
 */
static char *
watermark_graph(const RenderOptions *opt, int wm, const char *in, const char *out,
				bool yuv)
{
	int			w = (int) (opt->width * 0.16) & ~1;
	int			m = opt->height / 25;
	const char *p = opt->wm_position;
	const char *x = strstr(p, "left") ? "%d" : strstr(p, "right") ? "W-w-%d" : "(W-w)/2+0*%d";
	const char *y = strstr(p, "top") ? "%d" : strstr(p, "bottom") ? "H-h-%d" : "(H-h)/2+0*%d";
	char	   *xs = xasprintf(x, m);
	char	   *ys = xasprintf(y, m);
	char	   *g;

	g = xasprintf("[%d:v]scale=%d:-2,format=rgba,colorchannelmixer=aa=%.3f,format=%s[wm];"
				  "[%s][wm]overlay=x=%s:y=%s:format=%s[%s]",
				  wm, w, opt->wm_opacity, yuv ? "yuva420p" : "rgba",
				  in, xs, ys, yuv ? "yuv420" : "rgb", out);
	free(xs);
	free(ys);
	return g;
}

/* scale and crop to fill the frame */
static char *
fill_frame(const RenderOptions *opt)
{
	return xasprintf("scale=%d:%d:force_original_aspect_ratio=increase:flags=bilinear,"
					 "crop=%d:%d,setsar=1",
					 opt->width, opt->height, opt->width, opt->height);
}

/* the encoding and output options shared by both paths */
static void
output_args(const RenderOptions *opt, ArgV *a, const char *graph, int still)
{
	ArgAdd(a, "-filter_complex");
	ArgAdd(a, graph);
	ArgAdd(a, "-map");
	ArgAdd(a, "[vout]");
	ArgAdd(a, "-map");
	ArgAdd(a, "[aout]");
	ArgAdd(a, "-c:v");
	ArgAdd(a, "libx264");
	ArgAdd(a, "-preset");
	ArgAdd(a, opt->preset);
	ArgAdd(a, "-crf");
	ArgAddf(a, "%d", opt->crf);
	ArgAdd(a, "-pix_fmt");
	ArgAdd(a, "yuv420p");
	if (still)
	{
		ArgAdd(a, "-tune");
		ArgAdd(a, "stillimage");
		ArgAdd(a, "-fps_mode");
		ArgAdd(a, "vfr");
		/* cue times to the millisecond, not to a 25 fps grid */
		ArgAdd(a, "-enc_time_base:v");
		ArgAdd(a, "1:1000");
		ArgAdd(a, "-g");
		ArgAdd(a, "10");
	}
	ArgAdd(a, "-c:a");
	ArgAdd(a, "aac");
	ArgAdd(a, "-aac_coder");
	ArgAdd(a, "fast");
	ArgAdd(a, "-b:a");
	ArgAdd(a, "96k");
	ArgAdd(a, "-movflags");
	ArgAdd(a, "+faststart");
	ArgAdd(a, "video.mp4");
}

/*
 * The segments of a still video: a picture per cue and per pause between
 * cues, covering [0, duration]; a pause between two cues of the same card
 * shows that card alone.
 */
static int
build_segments(const RenderCue *cues, int n, const RenderCard *cards, int ncards,
			   double duration, Segment **out)
{
	Segment    *s = xmalloc(sizeof(Segment) * (2 * n + 2));
	int			k = 0;
	double		t = 0;

	for (int i = 0; i < n; i++)
	{
		if (cues[i].start > t + 0.001)
		{
			int			card = i > 0 ? CardAt(cards, ncards, i) : -1;
			int			pause = card >= 0 && CardAt(cards, ncards, i - 1) == card ? n + 1 + card : 0;

			s[k++] = (Segment) {pause, t, cues[i].start - t};
		}
		s[k++] = (Segment) {i + 1, cues[i].start, cues[i].end - cues[i].start};
		t = cues[i].end;
	}
	if (duration > t + 0.001)
		s[k++] = (Segment) {0, t, duration - t};
	*out = s;
	return k;
}

/*
 * Write the concat list of the still path; returns the number of entries
 * (encoded frames).
 */
static int
write_concat(const Segment *s, int n)
{
	char	   *path = RenderTmpPath("frames.txt");
	FILE	   *f = fopen(path, "w");
	int			entries = 0;

	if (f == NULL)
		RenderFail("could not write \"%s\": %m", path);
	fputs("ffconcat version 1.0\n", f);
	for (int i = 0; i < n; i++)
	{
		int			parts = (int) ceil(s[i].duration / SEGMENT_MAX - 1e-9);

		if (parts < 1)
			parts = 1;
		for (int p = 0; p < parts; p++)
		{
			/* framerate: timestamps on a millisecond grid, not 1/25 s */
			fprintf(f, "file seg_%03d.png\noption framerate 1000\nduration %.6f\n",
					s[i].picture, s[i].duration / parts);
			entries++;
		}
	}
	/* the concat demuxer ignores the last entry's duration: repeat it */
	fprintf(f, "file seg_%03d.png\noption framerate 1000\n", s[n - 1].picture);
	if (fclose(f) != 0)
		RenderFail("could not write \"%s\": %m", path);
	free(path);
	return entries;
}

/*
 * Still or generated background: one picture per cue, then one encoded
 * frame per concat entry.
 */
static void
compose_still(const RenderOptions *opt, const RenderCue *cues, int ncues,
			  const RenderCard *cards, int ncards, double duration)
{
	ArgV		a = {0};
	Segment    *segs;
	int			nsegs = build_segments(cues, ncues, cards, ncards, duration, &segs);
	int			min;
	char	   *fill = fill_frame(opt);
	char	   *v,
			   *g,
			   *aud;
	char	   *copy;

	/* run 1: the pictures */
	ffmpeg_head(opt, &a);
	if (opt->bg_kind == BG_IMAGE)
		add_file_input(&a, opt->bg_path, 0, 1);
	else
	{
		char	   *c = xstrdup(opt->bg_colors);
		char	   *c1 = strchr(c, ',');

		if (c1 != NULL)
			*c1++ = '\0';
		ArgAdd(&a, "-f");
		ArgAdd(&a, "lavfi");
		ArgAdd(&a, "-i");
		/*
		 * a quarter of the size: a smooth gradient loses nothing when
		 * scaled up, and gradients costs per pixel
		 */
		ArgAddf(&a, "gradients=s=%dx%d:r=1:c0=%s:c1=%s:x0=0:y0=0:x1=%d:y1=%d:speed=0.00001:seed=1",
				opt->width / 4, opt->height / 4, c, c1 ? c1 : c,
				opt->width / 4, opt->height / 4);
		free(c);
	}
	/*
	 * gradients turns a little on every frame: take its first one and
	 * repeat it, so that only the subtitles change between pictures.
	 */
	v = xasprintf("[0:v]%s%s,settb=AVTB,setpts=(N+0.5)/TB,format=rgb24,ass=cues_frames.ass",
				  opt->bg_kind == BG_GENERATED ? "trim=end_frame=1,loop=loop=-1:size=1," : "",
				  fill);
	if (opt->wm_image != NULL)
	{
		char	   *w;

		add_file_input(&a, opt->wm_image, 0, 1);
		w = watermark_graph(opt, 1, "bg", "vout", false);
		g = xasprintf("%s[bg];%s", v, w);
		free(w);
	}
	else
		g = xasprintf("%s[vout]", v);
	ArgAdd(&a, "-filter_complex");
	ArgAdd(&a, g);
	ArgAdd(&a, "-map");
	ArgAdd(&a, "[vout]");
	ArgAdd(&a, "-frames:v");
	ArgAddf(&a, "%d", ncues + 1 + ncards);
	ArgAdd(&a, "-fps_mode");
	ArgAdd(&a, "passthrough");
	ArgAdd(&a, "-c:v");
	ArgAdd(&a, "png");
	ArgAdd(&a, "-compression_level");
	ArgAdd(&a, "1");
	ArgAdd(&a, "-start_number");
	ArgAdd(&a, "0");
	ArgAdd(&a, "seg_%03d.png");
	RunFfmpeg(&a, ncues + 1 + ncards, 0.10, 0.30, "frames");
	ArgFree(&a);
	free(v);
	free(g);

	/* run 2: encode one frame per concat entry, mix the audio */
	write_concat(segs, nsegs);
	ffmpeg_head(opt, &a);
	ArgAdd(&a, "-f");
	ArgAdd(&a, "concat");
	/* the list is ours and names files of the temporary directory only */
	ArgAdd(&a, "-safe");
	ArgAdd(&a, "0");
	ArgAdd(&a, "-i");
	ArgAdd(&a, "frames.txt");
	ArgAdd(&a, "-i");
	ArgAdd(&a, "voice.wav");
	min = add_music_input(opt, &a) ? 2 : -1;
	aud = audio_graph(opt, 1, min, duration);
	/*
	 * No -t: the concat list ends with a frame at the very end (its last
	 * entry), so the video lasts exactly as long as the narration.
	 */
	g = xasprintf("[0:v]format=yuv420p[vout];%s", aud);
	output_args(opt, &a, g, 1);
	RunFfmpeg(&a, duration, 0.30, 0.98, "encode");
	ArgFree(&a);
	free(g);
	free(aud);

	/* the thumbnail: the picture of the first cue */
	copy = xasprintf("seg_%03d.png", ncues > 0 ? 1 : 0);
	{
		char	   *from = RenderTmpPath(copy);
		char	   *to = RenderTmpPath("thumbnail.png");

		if (rename(from, to) != 0)
			RenderFail("could not rename \"%s\": %m", from);
		free(from);
		free(to);
	}
	free(copy);
	free(segs);
	free(fill);
}

/*
 * Moving clip: every frame composed and encoded, then a thumbnail taken
 * from the middle of the first cue.
 */
static void
compose_clip(const RenderOptions *opt, const RenderCue *cues, int ncues,
			 double duration)
{
	ArgV		a = {0};
	char	   *fill = fill_frame(opt);
	char	   *v,
			   *g,
			   *aud;
	int			next = 2;
	int			min = -1;
	double		at;

	ffmpeg_head(opt, &a);
	add_file_input(&a, opt->bg_path, 1, 0);
	ArgAdd(&a, "-i");
	ArgAdd(&a, "voice.wav");
	if (add_music_input(opt, &a))
		min = next++;
	v = xasprintf("[0:v]fps=%d,%s,format=yuv420p,ass=cues.ass", opt->fps, fill);
	if (opt->wm_image != NULL)
	{
		char	   *w;

		add_file_input(&a, opt->wm_image, 0, 1);
		w = watermark_graph(opt, next, "bg", "vout", true);
		g = xasprintf("%s[bg];%s;", v, w);
		free(w);
	}
	else
		g = xasprintf("%s[vout];", v);
	aud = audio_graph(opt, 1, min, duration);
	free(v);
	v = xasprintf("%s%s", g, aud);
	ArgAdd(&a, "-t");
	ArgAddf(&a, "%.3f", duration);
	output_args(opt, &a, v, 0);
	RunFfmpeg(&a, duration, 0.10, 0.97, "encode");
	ArgFree(&a);

	at = ncues > 0 ? (cues[0].start + cues[0].end) / 2 : duration / 2;
	ffmpeg_head(opt, &a);
	ArgAdd(&a, "-ss");
	ArgAddf(&a, "%.3f", at);
	ArgAdd(&a, "-i");
	ArgAdd(&a, "video.mp4");
	ArgAdd(&a, "-frames:v");
	ArgAdd(&a, "1");
	ArgAdd(&a, "thumbnail.png");
	RunFfmpeg(&a, 0, 0.97, 0.99, "thumbnail");
	ArgFree(&a);
	free(v);
	free(g);
	free(aud);
	free(fill);
}

/*
 * Compose video.mp4 and thumbnail.png in the temporary directory from
 * voice.wav, cues.ass / cues_frames.ass and the options.
 */
void
ComposeVideo(const RenderOptions *opt, const RenderCue *cues, int ncues,
			 const RenderCard *cards, int ncards, double duration)
{
	if (opt->bg_kind == BG_CLIP)
		compose_clip(opt, cues, ncues, duration);
	else
		compose_still(opt, cues, ncues, cards, ncards, duration);
}
