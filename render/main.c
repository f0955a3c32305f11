/*-------------------------------------------------------------------------
 *
 * main.c
 *		recgen-render: narrate a script with espeak-ng and compose a video
 *		with FFmpeg. Started by recgen's video worker (or by hand).
 *
 *		recgen-render (--script FILE | --text TEXT) --out-dir DIR --name NAME [options]
 *
 * Writes DIR/NAME.mp4, NAME.srt, NAME.vtt, NAME.png (thumbnail) and, with
 * --keep-wav, NAME.wav; `recgen-render --help` lists the options.
 *
 * Protocol with the caller (the "process" action of recgen's workers,
 * src/job_process.c): standard output carries lines "progress <fraction>
 * <phase>" (fraction 0..1) as the work goes on and, on success, a last line
 * "result <json>" naming the files (with kind, bytes and SHA-256), the
 * duration, the word and cue counts. Standard error is the helper's log: a
 * line per step (so the tail of a killed helper's log says where it was)
 * and the errors (for FFmpeg failures with the tail of its log); the exit
 * status is 0 on success, 1 on failure, 2 for bad arguments and 3 when
 * stopped by SIGTERM or SIGINT. Should the process that started it die
 * (a worker killed), the helper gets SIGTERM (PR_SET_PDEATHSIG) and stops.
 *
 * Temporary files live in one directory ("recgen-render-<pid>-XXXXXX"
 * under --work-dir, default the output directory, so the final renames
 * stay on one file system) and are removed on success, failure and stop. A
 * stop signal only sets a flag and forwards SIGTERM to the running FFmpeg;
 * the main flow sees it and cleans up. Under SIGKILL nothing can run: the
 * next helper started on the same directory removes the directories whose
 * process is gone.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		render/main.c
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "render.h"

/* the outputs: temporary file, extension of the final one, media kind */
static const char *const outputs[][3] = {
	{"video.mp4", "mp4", "video"},
	{"subtitles.srt", "srt", "subtitles"},
	{"subtitles.vtt", "vtt", "subtitles"},
	{"thumbnail.png", "png", "thumbnail"},
	{"voice.wav", "wav", "audio"},
};

/*
 * A file's size and SHA-256 (hex) as a JSON object {path, bytes, sha256},
 * so the caller records what it was given without reading the file again.
 */
static cJSON *
file_entry(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char buf[65536],
				digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	size_t		n;
	long long	bytes = 0;
	char		hex[2 * EVP_MAX_MD_SIZE + 1];
	cJSON	   *o = cJSON_CreateObject();

	if (f == NULL || md == NULL || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		RenderFail("could not read \"%s\": %m", path);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
	{
		EVP_DigestUpdate(md, buf, n);
		bytes += n;
	}
	if (ferror(f) || !EVP_DigestFinal_ex(md, digest, &dlen))
		RenderFail("could not read \"%s\": %m", path);
	fclose(f);
	EVP_MD_CTX_free(md);
	for (unsigned int i = 0; i < dlen; i++)
		sprintf(hex + 2 * i, "%02x", digest[i]);
	cJSON_AddStringToObject(o, "path", path);
	cJSON_AddNumberToObject(o, "bytes", (double) bytes);
	cJSON_AddStringToObject(o, "sha256", hex);
	return o;
}

/* SIGTERM / SIGINT: stop at the next step */
static void
on_stop(int sig)
{
	render_stop = 1;
	if (render_child > 0)
		kill(render_child, SIGTERM);
}

static void
usage(FILE *f)
{
	fputs("usage: recgen-render (--script FILE | --text TEXT) --out-dir DIR --name NAME [options]\n"
		  "\nspeech:\n"
		  "  --voice NAME             espeak-ng voice (default en-gb)\n"
		  "  --rate WPM               words per minute, 80..450 (default 160)\n"
		  "  --pitch N                0..100 (default 45)\n"
		  "  --paragraph-pause MS     silence between paragraphs (default 700)\n"
		  "picture:\n"
		  "  --size WxH               frame size (default 1280x720)\n"
		  "  --fps N                  frame rate of a moving background (default 25)\n"
		  "  --background-generated C0,C1   gradient between two colours (default)\n"
		  "  --background-image FILE  a still picture, scaled and cropped\n"
		  "  --background-clip FILE   a moving clip, looped, scaled and cropped\n"
		  "  --watermark-text TEXT | --watermark-image PNG\n"
		  "  --watermark-position P   top-left, top-right (default), bottom-left, bottom-right, center\n"
		  "  --watermark-opacity X    0..1 (default 0.6)\n"
		  "  --subtitle-scale X       font size factor 0.5..2 (default 1)\n"
		  "  --subtitle-color RRGGBB  (default FFFFFF)\n"
		  "  --subtitle-position P    bottom or top (default bottom)\n"
		  "  --subtitle-box 0|1       text on a box (1, default) or outlined (0)\n"
		  "  --line-chars N           characters per subtitle line (default 42; 32 portrait)\n"
		  "  --card \"TITLE|DETAIL\"    a product card (up to 8): TITLE and DETAIL (a price)\n"
		  "                           in a top corner while the narration presents TITLE\n"
		  "sound:\n"
		  "  --music none|generated|FILE   (default generated)\n"
		  "  --music-volume X         0..1 of the voice's level (default 0.25)\n"
		  "encoding:\n"
		  "  --preset P               x264 preset (default medium for a still background,\n"
		  "                           superfast for a clip: every frame is encoded)\n"
		  "  --crf N                  x264 quality 0..51 (default 23)\n"
		  "  --ffmpeg PATH            FFmpeg program (default ffmpeg)\n"
		  "  --font NAME              subtitle font (default DejaVu Sans)\n"
		  "files:\n"
		  "  --work-dir DIR           where the temporary directory goes (default --out-dir)\n"
		  "  --keep-wav               also write NAME.wav (the narration)\n"
		  "  --words-json FILE        write the words' spoken times as JSON\n",
		  f);
}

/* parse a number in [lo, hi] or exit with a usage error */
static double
number_arg(const char *name, const char *s, double lo, double hi)
{
	char	   *end;
	double		v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
	{
		fprintf(stderr, "recgen-render: --%s must be a number from %g to %g, not \"%s\"\n",
				name, lo, hi, s);
		exit(2);
	}
	return v;
}

static void
bad_arg(const char *fmt, const char *value)
{
	fputs("recgen-render: ", stderr);
	fprintf(stderr, fmt, value);
	fputc('\n', stderr);
	exit(2);
}

/* an existing regular file, made absolute */
static const char *
input_file(const char *name, const char *path)
{
	char	   *abs = realpath(path, NULL);
	struct stat st;

	if (abs == NULL || stat(abs, &st) != 0 || !S_ISREG(st.st_mode))
	{
		fprintf(stderr, "recgen-render: --%s \"%s\" is not a readable file\n", name, path);
		exit(2);
	}
	return abs;
}

static int
valid_color(const char *s)
{
	if (strlen(s) != 6)
		return 0;
	for (; *s; s++)
		if (!strchr("0123456789abcdefABCDEF", *s))
			return 0;
	return 1;
}

/* the script, whole, NUL-terminated */
static char *
read_script(const char *path)
{
	FILE	   *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	size_t		cap = 4096,
				n = 0,
				got;
	char	   *s = xmalloc(cap);

	if (f == NULL)
		bad_arg("cannot read the script \"%s\"", path);
	while ((got = fread(s + n, 1, cap - n - 1, f)) > 0)
	{
		n += got;
		if (n + 1 >= cap)
			s = xrealloc(s, cap *= 2);
		if (n > 1024 * 1024)
			bad_arg("the script \"%s\" is longer than 1 MB", path);
	}
	s[n] = '\0';
	if (f != stdin)
		fclose(f);
	if (strlen(s) != n)
		bad_arg("the script \"%s\" contains a NUL byte", path);
	return s;
}

/*
 * Parse the command line into opt; exits with status 2 on bad arguments.
 */
static void
parse_args(int argc, char **argv, RenderOptions *opt)
{
	static const struct option longopts[] = {
		{"script", required_argument, 0, 's'},
		{"text", required_argument, 0, 'X'},
		{"out-dir", required_argument, 0, 'o'},
		{"name", required_argument, 0, 'n'},
		{"work-dir", required_argument, 0, 'W'},
		{"voice", required_argument, 0, 'v'},
		{"rate", required_argument, 0, 'r'},
		{"pitch", required_argument, 0, 'p'},
		{"paragraph-pause", required_argument, 0, 'P'},
		{"size", required_argument, 0, 'S'},
		{"fps", required_argument, 0, 'f'},
		{"background-generated", required_argument, 0, 'g'},
		{"background-image", required_argument, 0, 'i'},
		{"background-clip", required_argument, 0, 'c'},
		{"music", required_argument, 0, 'm'},
		{"music-volume", required_argument, 0, 'M'},
		{"watermark-text", required_argument, 0, 't'},
		{"watermark-image", required_argument, 0, 'I'},
		{"watermark-position", required_argument, 0, 'w'},
		{"watermark-opacity", required_argument, 0, 'O'},
		{"subtitle-scale", required_argument, 0, 'z'},
		{"subtitle-color", required_argument, 0, 'C'},
		{"subtitle-position", required_argument, 0, 'y'},
		{"subtitle-box", required_argument, 0, 'b'},
		{"line-chars", required_argument, 0, 'l'},
		{"preset", required_argument, 0, 'x'},
		{"crf", required_argument, 0, 'q'},
		{"ffmpeg", required_argument, 0, 'F'},
		{"font", required_argument, 0, 'T'},
		{"keep-wav", no_argument, 0, 'k'},
		{"words-json", required_argument, 0, 'j'},
		{"card", required_argument, 0, 'K'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0}
	};
	static const char *const positions[] = {
		"top-left", "top-right", "bottom-left", "bottom-right", "center", NULL
	};
	static const char *const presets[] = {
		"ultrafast", "superfast", "veryfast", "faster", "fast", "medium",
		"slow", "slower", "veryslow", NULL
	};
	int			c;

	*opt = (RenderOptions)
	{
		.voice = "en-gb",.rate = 160,.pitch = 45,.paragraph_pause_ms = 700,
			.width = 1280,.height = 720,.fps = 25,.bg_kind = BG_GENERATED,
			.bg_colors = "0x16324f,0x2a6f97",.music_kind = MUSIC_GENERATED,
			.music_volume = 0.25,.wm_position = "top-right",.wm_opacity = 0.6,
			.sub_scale = 1,.sub_color = "FFFFFF",.sub_position = "bottom",
			.sub_box = 1,.max_line_chars = 0,.preset = NULL,.crf = 23,
			.ffmpeg = "ffmpeg",.font = "DejaVu Sans",
	};
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 's':
				opt->script_path = optarg;
				break;
			case 'X':
				if (strlen(optarg) > 100000)
					bad_arg("--text is longer than 100000 bytes%s", "");
				opt->script_text = optarg;
				break;
			case 'o':
				opt->out_dir = optarg;
				break;
			case 'n':
				if (optarg[0] == '\0' || optarg[0] == '.' || strchr(optarg, '/'))
					bad_arg("--name \"%s\" must be a plain file name", optarg);
				opt->name = optarg;
				break;
			case 'W':
				opt->work_dir = optarg;
				break;
			case 'v':
				opt->voice = optarg;
				break;
			case 'r':
				opt->rate = (int) number_arg("rate", optarg, 80, 450);
				break;
			case 'p':
				opt->pitch = (int) number_arg("pitch", optarg, 0, 100);
				break;
			case 'P':
				opt->paragraph_pause_ms = (int) number_arg("paragraph-pause", optarg, 0, 10000);
				break;
			case 'S':
				if (sscanf(optarg, "%dx%d", &opt->width, &opt->height) != 2 ||
					opt->width < 160 || opt->height < 160 ||
					opt->width > 3840 || opt->height > 3840 ||
					opt->width % 2 || opt->height % 2)
					bad_arg("--size \"%s\" must be WxH, even numbers from 160 to 3840", optarg);
				break;
			case 'f':
				opt->fps = (int) number_arg("fps", optarg, 1, 60);
				break;
			case 'g':
				{
					const char *comma = strchr(optarg, ',');
					char		c0[16] = {0};

					if (comma == NULL || comma - optarg > 8 ||
						strncmp(optarg, "0x", 2) || strncmp(comma + 1, "0x", 2))
						bad_arg("--background-generated \"%s\" must be two colours 0xRRGGBB,0xRRGGBB", optarg);
					memcpy(c0, optarg + 2, comma - optarg - 2);
					if (!valid_color(c0) || !valid_color(comma + 3))
						bad_arg("--background-generated \"%s\" must be two colours 0xRRGGBB,0xRRGGBB", optarg);
					opt->bg_kind = BG_GENERATED;
					opt->bg_colors = optarg;
				}
				break;
			case 'i':
				opt->bg_kind = BG_IMAGE;
				opt->bg_path = input_file("background-image", optarg);
				break;
			case 'c':
				opt->bg_kind = BG_CLIP;
				opt->bg_path = input_file("background-clip", optarg);
				break;
			case 'm':
				if (strcmp(optarg, "none") == 0)
					opt->music_kind = MUSIC_NONE;
				else if (strcmp(optarg, "generated") == 0)
					opt->music_kind = MUSIC_GENERATED;
				else
				{
					opt->music_kind = MUSIC_FILE;
					opt->music_path = input_file("music", optarg);
				}
				break;
			case 'M':
				opt->music_volume = number_arg("music-volume", optarg, 0, 1);
				break;
			case 't':
				if (optarg[0] == '\0' || strlen(optarg) > 60 || strchr(optarg, '\n'))
					bad_arg("--watermark-text \"%s\" must be one line of 1 to 60 characters", optarg);
				opt->wm_text = optarg;
				break;
			case 'I':
				opt->wm_image = input_file("watermark-image", optarg);
				break;
			case 'w':
				for (c = 0; positions[c] && strcmp(positions[c], optarg); c++)
					;
				if (positions[c] == NULL)
					bad_arg("--watermark-position \"%s\" must be top-left, top-right, bottom-left, bottom-right or center", optarg);
				opt->wm_position = optarg;
				break;
			case 'O':
				opt->wm_opacity = number_arg("watermark-opacity", optarg, 0, 1);
				break;
			case 'z':
				opt->sub_scale = number_arg("subtitle-scale", optarg, 0.5, 2);
				break;
			case 'C':
				if (!valid_color(optarg))
					bad_arg("--subtitle-color \"%s\" must be RRGGBB in hexadecimal", optarg);
				opt->sub_color = optarg;
				break;
			case 'y':
				if (strcmp(optarg, "bottom") && strcmp(optarg, "top"))
					bad_arg("--subtitle-position \"%s\" must be bottom or top", optarg);
				opt->sub_position = optarg;
				break;
			case 'b':
				opt->sub_box = (int) number_arg("subtitle-box", optarg, 0, 1);
				break;
			case 'l':
				opt->max_line_chars = (int) number_arg("line-chars", optarg, 16, 80);
				break;
			case 'x':
				for (c = 0; presets[c] && strcmp(presets[c], optarg); c++)
					;
				if (presets[c] == NULL)
					bad_arg("--preset \"%s\" is not an x264 preset", optarg);
				opt->preset = optarg;
				break;
			case 'q':
				opt->crf = (int) number_arg("crf", optarg, 0, 51);
				break;
			case 'F':
				opt->ffmpeg = optarg;
				break;
			case 'T':
				if (strpbrk(optarg, ",\n{}\\"))
					bad_arg("--font \"%s\" must be a font family name", optarg);
				opt->font = optarg;
				break;
			case 'k':
				opt->keep_wav = 1;
				break;
			case 'j':
				opt->words_json = optarg;
				break;
			case 'K':
				if (opt->ncards == MAX_CARDS)
					bad_arg("more than 8 --card options (the last: \"%s\")", optarg);
				if (optarg[0] == '\0' || optarg[0] == '|' || strlen(optarg) > 1000)
					bad_arg("--card \"%s\" must be TITLE or TITLE|DETAIL, at most 1000 bytes", optarg);
				opt->card_args[opt->ncards++] = optarg;
				break;
			case 'h':
				usage(stdout);
				exit(0);
			default:
				usage(stderr);
				exit(2);
		}
	}
	/* a portrait frame reads shorter lines in a larger font */
	if (opt->max_line_chars == 0)
		opt->max_line_chars = opt->height > opt->width ? 32 : 42;
	if (opt->preset == NULL)
		opt->preset = opt->bg_kind == BG_CLIP ? "superfast" : "medium";
	if (optind < argc || (opt->script_path == NULL) == (opt->script_text == NULL) ||
		opt->out_dir == NULL || opt->name == NULL)
	{
		usage(stderr);
		exit(2);
	}
}

/* seconds since an arbitrary start */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	RenderOptions opt;
	RenderSpeech sp;
	RenderCue  *cues;
	int			ncues;
	RenderCard *cards;
	int			ncards;
	char	   *script;
	char	   *out_abs;
	char	   *p;
	double		duration,
				t0 = now();
	struct sigaction sa = {0};
	pid_t		parent;
	cJSON	   *res;
	cJSON	   *files;

	/* a helper whose caller died stops (SIGTERM, handled below) */
	parent = getppid();
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	parse_args(argc, argv, &opt);
	script = opt.script_text ? xstrdup(opt.script_text) : read_script(opt.script_path);
	out_abs = realpath(opt.out_dir, NULL);
	if (out_abs == NULL)
		bad_arg("the output directory \"%s\" does not exist", opt.out_dir);

	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (getppid() != parent)
		render_stop = 1;		/* the caller died before the handler was set */

	RenderRemoveStaleTmpdirs(opt.work_dir ? opt.work_dir : out_abs);
	snprintf(render_tmpdir, sizeof(render_tmpdir), "%s/recgen-render-%ld-XXXXXX",
			 opt.work_dir ? opt.work_dir : out_abs, (long) getpid());
	if (mkdtemp(render_tmpdir) == NULL)
	{
		fprintf(stderr, "recgen-render: could not create a directory in \"%s\": %s\n",
				opt.work_dir ? opt.work_dir : out_abs, strerror(errno));
		render_tmpdir[0] = '\0';
		exit(1);
	}
	RenderLog("started: %dx%d, %s background, voice %s at %d words a minute, temporary directory %s",
			  opt.width, opt.height, opt.bg_kind == BG_CLIP ? "clip" : opt.bg_kind == BG_IMAGE ? "picture" : "generated",
			  opt.voice, opt.rate, render_tmpdir);
	RenderProgress(0, "speech");

	SpeechSynthesize(&opt, script, &sp);
	duration = SpeechDuration(&sp);
	RenderLog("speech: %d words, %.2f s", sp.nwords, duration);
	p = RenderTmpPath("voice.wav");
	SpeechWriteWav(&sp, p);
	free(p);
	if (opt.words_json)
		SpeechWriteWordsJson(&sp, script, opt.words_json);

	ncues = CuesBuild(&sp, script, opt.max_line_chars, &cues);
	p = RenderTmpPath("subtitles.srt");
	CuesWriteSrt(cues, ncues, p);
	free(p);
	p = RenderTmpPath("subtitles.vtt");
	CuesWriteVtt(cues, ncues, p);
	free(p);
	ncards = CardsPlace(&opt, &sp, script, cues, ncues, &cards);
	p = RenderTmpPath(opt.bg_kind == BG_CLIP ? "cues.ass" : "cues_frames.ass");
	CuesWriteAss(&opt, cues, ncues, cards, ncards, duration, opt.bg_kind != BG_CLIP, p);
	free(p);
	RenderLog("subtitles: %d cues, %d cards", ncues, ncards);
	RenderProgress(0.10, "subtitles");

	ComposeVideo(&opt, cues, ncues, cards, ncards, duration);
	if (render_stop)
		RenderFail("stopped");

	/* move the outputs into place, then report them */
	res = cJSON_CreateObject();
	files = cJSON_AddArrayToObject(res, "files");
	for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++)
	{
		char	   *from = RenderTmpPath(outputs[i][0]);
		char	   *to = xasprintf("%s/%s.%s", out_abs, opt.name, outputs[i][1]);

		if (strcmp(outputs[i][1], "wav") == 0 && !opt.keep_wav)
		{
			free(from);
			free(to);
			continue;
		}
		{
			cJSON	   *e = file_entry(from);

			cJSON_AddStringToObject(e, "kind", outputs[i][2]);
			cJSON_ReplaceItemInObject(e, "path", cJSON_CreateString(to));
			cJSON_AddItemToArray(files, e);
		}
		if (rename(from, to) != 0)
			RenderFail("could not move the output to \"%s\": %m", to);
		cJSON_AddStringToObject(res, outputs[i][1], to);
		free(from);
		free(to);
	}
	RenderRemoveTmpdir();
	cJSON_AddNumberToObject(res, "duration", duration);
	cJSON_AddNumberToObject(res, "words", sp.nwords);
	cJSON_AddNumberToObject(res, "cues", ncues);
	cJSON_AddNumberToObject(res, "seconds", now() - t0);
	p = cJSON_PrintUnformatted(res);
	RenderProgress(1, "done");
	RenderLog("done: %d files, %.1f s of video in %.2f s", cJSON_GetArraySize(files), duration, now() - t0);
	printf("result %s\n", p);
	fflush(stdout);
	free(p);
	cJSON_Delete(res);
	for (int i = 0; i < ncues; i++)
		free(cues[i].text);
	free(cues);
	CardsFree(cards, ncards);
	free(sp.pcm);
	free(sp.words);
	free(script);
	free(out_abs);
	return 0;
}
