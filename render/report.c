/*-------------------------------------------------------------------------
 *
 * report.c
 *		What every part of recgen-render shares: its log, progress and
 *		failure lines, its temporary directory (made, listed, removed, and
 *		swept of what killed helpers left) and allocation that fails by
 *		ending the helper. It depends on no other part, so the parts depend
 *		on it one way.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		render/report.c
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "render.h"

char		render_tmpdir[4096];
volatile sig_atomic_t render_stop = 0;
volatile pid_t render_child = 0;


/*
 * Remove the temporary directory and everything in it (it is flat).
 */
void
RenderRemoveTmpdir(void)
{
	DIR		   *d;
	struct dirent *e;

	if (render_tmpdir[0] == '\0')
		return;
	d = opendir(render_tmpdir);
	if (d != NULL)
	{
		while ((e = readdir(d)) != NULL)
		{
			char		p[PATH_MAX + 256];

			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", render_tmpdir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(render_tmpdir);
	render_tmpdir[0] = '\0';
}

/*
 * Remove the temporary directories that helpers killed with SIGKILL left in
 * dir: "recgen-render-<pid>-XXXXXX" whose process no longer exists.
 */
void
RenderRemoveStaleTmpdirs(const char *dir)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
	{
		long		pid;
		char		suffix[16];

		if (sscanf(e->d_name, "recgen-render-%ld-%15s", &pid, suffix) != 2 ||
			strlen(suffix) != 6 || pid <= 0 || pid == getpid())
			continue;
		if (kill((pid_t) pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(render_tmpdir, sizeof(render_tmpdir), "%s/%s", dir, e->d_name);
		RenderRemoveTmpdir();
	}
	closedir(d);
}

/*
 * A path in the temporary directory (malloc'd).
 */
char *
RenderTmpPath(const char *file)
{
	return xasprintf("%s/%s", render_tmpdir, file);
}

/*
 * One progress line on standard output.
 */
void
RenderProgress(double fraction, const char *phase)
{
	static double last = -1;
	static char last_phase[32];

	/* a line per percent at most, and one whenever the phase changes */
	if (fraction < last + 0.01 && fraction < 1 && strncmp(phase, last_phase, sizeof(last_phase)) == 0)
		return;
	last = fraction;
	snprintf(last_phase, sizeof(last_phase), "%s", phase);
	printf("progress %.3f %s\n", fraction, phase);
	fflush(stdout);
}

/*
 * One line of the helper's log (standard error): a step begins or ends.
 */
void
RenderLog(const char *fmt,...)
{
	va_list		ap;

	fputs("recgen-render: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

/*
 * Report an error, stop FFmpeg, remove the temporary files and exit.
 */
void
RenderFail(const char *fmt,...)
{
	va_list		ap;
	int			stopped = render_stop;

	if (render_child > 0)
		kill(render_child, SIGTERM);
	if (!stopped)
	{
		fputs("recgen-render: ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	else
		fputs("recgen-render: stopped\n", stderr);
	RenderRemoveTmpdir();
	exit(stopped ? 3 : 1);
}

/*
 * Allocation that ends the helper (with its cleanup) when memory runs out.
 */
void *
xmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	if (p == NULL)
		RenderFail("out of memory");
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		RenderFail("out of memory");
	return p;
}

char *
xstrdup(const char *s)
{
	char	   *p = strdup(s);

	if (p == NULL)
		RenderFail("out of memory");
	return p;
}

char *
xasprintf(const char *fmt,...)
{
	va_list		ap;
	char	   *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		RenderFail("out of memory");
	va_end(ap);
	return s;
}
