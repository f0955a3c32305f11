/*-------------------------------------------------------------------------
 *
 * speech.c
 *		Narration with the espeak-ng library: PCM samples and the time at
 *		which every word of the script is spoken.
 *
 * espeak-ng runs synchronously (AUDIO_OUTPUT_SYNCHRONOUS): its callback
 * receives blocks of samples with the events that fall in them. A WORD
 * event carries the word's position in the text (in characters, 1-based)
 * and its sample; the next event of any kind (word, clause end, sentence,
 * end of message) bounds it. The subtitles show the script's own words, so
 * the script is cut into whitespace-separated tokens and each token takes
 * the events that start inside it: "£3.99" is one token even though
 * espeak-ng speaks it as several words. A token's end is then moved back
 * over the silence that follows it (the pause after a comma or a full
 * stop belongs to no word), measured on the samples themselves.
 *
 * Paragraphs (blank-line separated) are synthesized one by one with a
 * pause of --paragraph-pause between them: the advisor breathes between
 * products, and the music bed comes up in the pause.
 *
 * espeak-ng keeps global state; this process has one synthesizer, which is
 * one reason the helper is a process of its own.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		render/speech.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <espeak-ng/speak_lib.h>

#include "render.h"

/* silence before the first word and after the last one */
#define LEAD_IN_MS	300
#define TAIL_MS		700

/* a window quieter than this (peak amplitude) is silence */
#define SILENCE_PEAK 400
#define SILENCE_WINDOW_MS 5

/* state shared with the synthesis callback: one synthesis at a time */
typedef struct SynthState
{
	short	   *pcm;
	size_t		samples;
	size_t		cap;
	size_t		base;			/* samples before the current paragraph */
	/* events of the current paragraph */
	int		   *ev_char;		/* 0-based character position, -1: boundary */
	size_t	   *ev_sample;
	int			nev;
	int			evcap;
} SynthState;

static SynthState synth;

/*
 * Append silence to the narration.
 */
static void
append_silence(size_t n)
{
	if (synth.samples + n > synth.cap)
	{
		synth.cap = (synth.samples + n) * 2;
		synth.pcm = xrealloc(synth.pcm, synth.cap * sizeof(short));
	}
	memset(synth.pcm + synth.samples, 0, n * sizeof(short));
	synth.samples += n;
}

/*
 * espeak-ng's callback: keep the samples and note the events. Returning 1
 * aborts the synthesis (a stop was requested).
 */
static int
synth_callback(short *wav, int n, espeak_EVENT *ev)
{
	for (; ev->type != espeakEVENT_LIST_TERMINATED; ev++)
	{
		if (ev->type != espeakEVENT_WORD && ev->type != espeakEVENT_END &&
			ev->type != espeakEVENT_SENTENCE &&
			ev->type != espeakEVENT_MSG_TERMINATED)
			continue;
		if (synth.nev == synth.evcap)
		{
			synth.evcap = synth.evcap ? synth.evcap * 2 : 256;
			synth.ev_char = xrealloc(synth.ev_char, synth.evcap * sizeof(int));
			synth.ev_sample = xrealloc(synth.ev_sample,
									   synth.evcap * sizeof(size_t));
		}
		synth.ev_char[synth.nev] =
			ev->type == espeakEVENT_WORD ? ev->text_position - 1 : -1;
		synth.ev_sample[synth.nev] = synth.base + (size_t) ev->sample;
		synth.nev++;
	}
	if (wav != NULL && n > 0)
	{
		if (synth.samples + n > synth.cap)
		{
			synth.cap = (synth.samples + n) * 2;
			synth.pcm = xrealloc(synth.pcm, synth.cap * sizeof(short));
		}
		memcpy(synth.pcm + synth.samples, wav, n * sizeof(short));
		synth.samples += n;
	}
	return render_stop ? 1 : 0;
}

/*
 * Byte offset of the character'th UTF-8 character of s (len bytes).
 */
static size_t
char_to_byte(const char *s, size_t len, int character)
{
	size_t		i = 0;
	int			c = 0;

	while (i < len && c < character)
	{
		i++;
		while (i < len && ((unsigned char) s[i] & 0xC0) == 0x80)
			i++;
		c++;
	}
	return i;
}

/*
 * Move a word's end back over the silence that follows its speech, but
 * never before its start.
 */
static size_t
trim_silence(const short *pcm, size_t start, size_t end, int rate)
{
	size_t		win = (size_t) rate * SILENCE_WINDOW_MS / 1000;

	while (end > start + win)
	{
		int			peak = 0;

		for (size_t i = end - win; i < end; i++)
		{
			int			a = abs(pcm[i]);

			if (a > peak)
				peak = a;
		}
		if (peak >= SILENCE_PEAK)
			break;
		end -= win;
	}
	return end;
}

/* is c the end of a sentence (2) or of a clause (1)? */
static int
punctuation_end(const char *tok, size_t len)
{
	while (len > 0 && (tok[len - 1] == '"' || tok[len - 1] == '\'' ||
					   tok[len - 1] == ')'))
		len--;
	if (len == 0)
		return 0;
	switch (tok[len - 1])
	{
		case '.':
		case '!':
		case '?':
			return 2;
		case ',':
		case ';':
		case ':':
			return 1;
	}
	return 0;
}

/*
 * Synthesize one paragraph (bytes [off, off+len) of the script) and append
 * its tokens, with their times, to out->words.
 */
static void
speak_paragraph(const char *script, size_t off, size_t len, int rate,
				RenderSpeech *out, int *wcap)
{
	char	   *text = xmalloc(len + 1);
	int			first_word = out->nwords;
	int			ntok;
	size_t		i;

	memcpy(text, script + off, len);
	text[len] = '\0';
	synth.nev = 0;
	synth.base = synth.samples;

	/* tokens first: whitespace-separated runs */
	for (i = 0; i < len;)
	{
		size_t		s;

		while (i < len && isspace((unsigned char) text[i]))
			i++;
		if (i >= len)
			break;
		s = i;
		while (i < len && !isspace((unsigned char) text[i]))
			i++;
		if (out->nwords == *wcap)
		{
			*wcap = *wcap ? *wcap * 2 : 256;
			out->words = xrealloc(out->words, *wcap * sizeof(RenderWord));
		}
		out->words[out->nwords] = (RenderWord)
		{
			.offset = off + s,.length = i - s,.start = -1,.end = -1,
				.sentence_end = punctuation_end(text + s, i - s),
		};
		out->nwords++;
	}
	ntok = out->nwords - first_word;
	if (ntok == 0)
	{
		free(text);
		return;
	}

	if (espeak_Synth(text, len + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8,
					 NULL, NULL) != EE_OK || espeak_Synchronize() != EE_OK)
		RenderFail("speech synthesis failed");
	if (render_stop)
		RenderFail("stopped");

	/* each word event goes to the token that holds its first character */
	for (int e = 0; e < synth.nev; e++)
	{
		size_t		b,
					ev_end;
		int			t;

		if (synth.ev_char[e] < 0)
			continue;
		b = char_to_byte(text, len, synth.ev_char[e]) + off;
		ev_end = e + 1 < synth.nev ? synth.ev_sample[e + 1] : synth.samples;
		for (t = first_word; t < out->nwords; t++)
		{
			RenderWord *w = &out->words[t];

			if (b < w->offset + w->length)
			{
				double		st = (double) synth.ev_sample[e] / out->rate;
				double		en = (double) trim_silence(synth.pcm,
													   synth.ev_sample[e],
													   ev_end, out->rate) / out->rate;

				if (w->start < 0 || st < w->start)
					w->start = st;
				if (en > w->end)
					w->end = en;
				break;
			}
		}
	}

	/*
	 * Tokens espeak-ng did not speak ("-", "&" alone) sit at the end of the
	 * previous one, so that they join its cue with no time of their own.
	 */
	for (int t = first_word; t < out->nwords; t++)
	{
		RenderWord *w = &out->words[t];

		if (w->start < 0)
		{
			double		at = t > 0 ? out->words[t - 1].end :
				(double) synth.base / out->rate;

			w->start = w->end = at;
		}
		if (w->end < w->start)
			w->end = w->start;
		/* keep times monotonic whatever the events said */
		if (t > 0 && w->start < out->words[t - 1].end)
		{
			w->start = out->words[t - 1].end;
			if (w->end < w->start)
				w->end = w->start;
		}
	}
	out->words[out->nwords - 1].sentence_end = 2;
	out->words[out->nwords - 1].paragraph_end = 1;
	free(text);
}

/*
 * Select a voice by its name ("English_(Great_Britain)"), file ("gmw/en")
 * or language ("en-gb", which espeak_SetVoiceByName does not find), with
 * an optional "+variant" ("en-gb+f3").
 */
static int
set_voice(const char *name)
{
	espeak_VOICE spec = {0};
	char	   *lang;
	char	   *plus;
	int			ok;

	if (espeak_SetVoiceByName(name) == EE_OK)
		return 1;
	lang = xstrdup(name);
	plus = strchr(lang, '+');
	if (plus != NULL)
		*plus = '\0';
	spec.languages = lang;
	ok = espeak_SetVoiceByProperties(&spec) == EE_OK;
	if (ok && plus != NULL)
	{
		/* a variant applies to the voice found: its identifier + variant */
		espeak_VOICE *v = espeak_GetCurrentVoice();
		char	   *full = xasprintf("%s+%s", v->identifier, plus + 1);

		ok = espeak_SetVoiceByName(full) == EE_OK;
		free(full);
	}
	free(lang);
	return ok;
}

/*
 * Synthesize the script with espeak-ng: samples in out->pcm, one
 * RenderWord per token of the script with its spoken time.
 */
void
SpeechSynthesize(const RenderOptions *opt, const char *script, RenderSpeech *out)
{
	int			rate;
	int			wcap = 0;
	size_t		len = strlen(script);
	size_t		i = 0;

	memset(out, 0, sizeof(*out));
	rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 200, NULL,
							 espeakINITIALIZE_DONT_EXIT);
	if (rate <= 0)
		RenderFail("espeak-ng could not be initialised (is espeak-ng-data installed?)");
	if (!set_voice(opt->voice))
		RenderFail("unknown voice \"%s\" (espeak-ng --voices lists them)", opt->voice);
	espeak_SetParameter(espeakRATE, opt->rate, 0);
	espeak_SetParameter(espeakPITCH, opt->pitch, 0);
	espeak_SetSynthCallback(synth_callback);
	out->rate = rate;

	append_silence((size_t) rate * LEAD_IN_MS / 1000);
	while (i < len)
	{
		size_t		start,
					end;

		/* a paragraph ends at a blank line */
		while (i < len && isspace((unsigned char) script[i]))
			i++;
		if (i >= len)
			break;
		start = i;
		end = i;
		while (end < len)
		{
			size_t		j;

			if (script[end] != '\n')
			{
				end++;
				continue;
			}
			j = end + 1;
			while (j < len && (script[j] == ' ' || script[j] == '\t' || script[j] == '\r'))
				j++;
			if (j >= len || script[j] == '\n')
				break;
			end = j;
		}
		if (out->nwords > 0)
			append_silence((size_t) rate * opt->paragraph_pause_ms / 1000);
		speak_paragraph(script, start, end - start, rate, out, &wcap);
		RenderProgress(0.10 * end / len, "speech");
		i = end;
	}
	if (out->nwords == 0)
		RenderFail("the script has no words to speak");
	append_silence((size_t) rate * TAIL_MS / 1000);
	espeak_Terminate();

	out->pcm = synth.pcm;
	out->samples = synth.samples;
	free(synth.ev_char);
	free(synth.ev_sample);
	memset(&synth, 0, sizeof(synth));
}

/* length of the narration in seconds */
double
SpeechDuration(const RenderSpeech *sp)
{
	return (double) sp->samples / sp->rate;
}

/* little-endian writers for the WAV header */
static void
put16(FILE *f, uint16_t v)
{
	fputc(v & 0xff, f);
	fputc(v >> 8, f);
}

static void
put32(FILE *f, uint32_t v)
{
	put16(f, v & 0xffff);
	put16(f, v >> 16);
}

/*
 * Write the narration as a 16-bit mono PCM WAV file.
 */
void
SpeechWriteWav(const RenderSpeech *sp, const char *path)
{
	FILE	   *f = fopen(path, "wb");
	uint32_t	bytes = (uint32_t) (sp->samples * 2);

	if (f == NULL)
		RenderFail("could not write \"%s\": %m", path);
	fwrite("RIFF", 1, 4, f);
	put32(f, 36 + bytes);
	fwrite("WAVEfmt ", 1, 8, f);
	put32(f, 16);
	put16(f, 1);				/* PCM */
	put16(f, 1);				/* mono */
	put32(f, sp->rate);
	put32(f, sp->rate * 2);
	put16(f, 2);
	put16(f, 16);
	fwrite("data", 1, 4, f);
	put32(f, bytes);
	for (size_t i = 0; i < sp->samples; i++)
		put16(f, (uint16_t) sp->pcm[i]);
	if (fclose(f) != 0)
		RenderFail("could not write \"%s\": %m", path);
}

/*
 * Write the words with their times as JSON: [{"text", "start", "end"}...].
 * Tests compare the cues with these; the benchmark does not need them.
 */
void
SpeechWriteWordsJson(const RenderSpeech *sp, const char *script, const char *path)
{
	cJSON	   *arr = cJSON_CreateArray();
	char	   *s;
	FILE	   *f;

	for (int i = 0; i < sp->nwords; i++)
	{
		const RenderWord *w = &sp->words[i];
		cJSON	   *o = cJSON_CreateObject();
		char	   *t = xmalloc(w->length + 1);

		memcpy(t, script + w->offset, w->length);
		t[w->length] = '\0';
		cJSON_AddStringToObject(o, "text", t);
		cJSON_AddNumberToObject(o, "start", round(w->start * 1000) / 1000);
		cJSON_AddNumberToObject(o, "end", round(w->end * 1000) / 1000);
		cJSON_AddItemToArray(arr, o);
		free(t);
	}
	s = cJSON_PrintUnformatted(arr);
	f = fopen(path, "w");
	if (f == NULL || fputs(s, f) < 0 || fclose(f) != 0)
		RenderFail("could not write \"%s\": %m", path);
	free(s);
	cJSON_Delete(arr);
}
