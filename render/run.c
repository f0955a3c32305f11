/*-------------------------------------------------------------------------
 *
 * run.c
 *		Run FFmpeg as a child process from an argument vector (no shell),
 *		turning its -progress output into the helper's progress lines.
 *
 * The child runs in the helper's temporary directory (so filter graphs
 * name their files relatively and need no escaping), in the helper's
 * process group (a group kill by the worker reaches it), and dies with the
 * helper (PR_SET_PDEATHSIG) should the helper itself be killed. Its log
 * goes to ffmpeg.log in the temporary directory; a failing run ends the
 * helper with the tail of that log.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		render/run.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "render.h"

/* lines of FFmpeg's log a failure reports */
#define LOG_TAIL_LINES 12

/* append a copy of s to the argument vector */
void
ArgAdd(ArgV *a, const char *s)
{
	if (a->n + 2 > a->cap)
	{
		a->cap = a->cap ? a->cap * 2 : 64;
		a->argv = xrealloc(a->argv, a->cap * sizeof(char *));
	}
	a->argv[a->n++] = xstrdup(s);
	a->argv[a->n] = NULL;
}

/* append a formatted argument */
void
ArgAddf(ArgV *a, const char *fmt,...)
{
	va_list		ap;
	char	   *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		RenderFail("out of memory");
	va_end(ap);
	ArgAdd(a, s);
	free(s);
}

void
ArgFree(ArgV *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->argv[i]);
	free(a->argv);
	memset(a, 0, sizeof(*a));
}

/*
 * The last lines of ffmpeg.log, for the error message of a failed run.
 */
static char *
log_tail(const char *path)
{
	FILE	   *f = fopen(path, "r");
	char	   *buf;
	long		size,
				from;
	size_t		got;
	int			lines = 0;
	char	   *p;

	if (f == NULL)
		return xstrdup("(no log)");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	from = size > 8192 ? size - 8192 : 0;
	fseek(f, from, SEEK_SET);
	buf = xmalloc(8193);
	got = fread(buf, 1, 8192, f);
	buf[got] = '\0';
	fclose(f);
	while (got > 0 && buf[got - 1] == '\n')
		buf[--got] = '\0';
	for (p = buf + got; p > buf; p--)
		if (*p == '\n' && ++lines >= LOG_TAIL_LINES)
		{
			p++;
			break;
		}
	p = xstrdup(p);
	free(buf);
	return p;
}

/*
 * Run FFmpeg with the arguments in a (a->argv[0] is the program). Progress
 * lines map its out_time over duration seconds onto [from, to] of the
 * whole render. Ends the helper on failure or stop.
 */
void
RunFfmpeg(ArgV *a, double duration, double from, double to, const char *phase)
{
	int			pfd[2];
	pid_t		pid;
	int			status;
	char	   *logpath = RenderTmpPath("ffmpeg.log");
	FILE	   *in;
	char		line[512];

	RenderLog("FFmpeg: %s", phase);
	RenderProgress(from, phase);
	if (pipe(pfd) != 0)
		RenderFail("could not create a pipe: %m");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		RenderFail("could not start \"%s\": %m", a->argv[0]);
	if (pid == 0)
	{
		int			log = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
		int			devnull = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(127);
		if (log < 0 || devnull < 0 || chdir(render_tmpdir) != 0)
			_exit(127);
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(log, 2);
		/* the write end becomes fd 3 (-progress pipe:3) */
		if (pfd[0] != 3)
			close(pfd[0]);
		if (pfd[1] != 3)
		{
			dup2(pfd[1], 3);
			close(pfd[1]);
		}
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		execvp(a->argv[0], a->argv);
		dprintf(2, "could not execute %s: %s\n", a->argv[0], strerror(errno));
		_exit(127);
	}
	render_child = pid;
	close(pfd[1]);
	/* a stop that came before render_child was set */
	if (render_stop)
		kill(pid, SIGTERM);

	in = fdopen(pfd[0], "r");
	while (in != NULL)
	{
		long long	us;

		errno = 0;
		if (fgets(line, sizeof(line), in) == NULL)
		{
			if (errno == EINTR)
			{
				clearerr(in);
				continue;
			}
			break;
		}
		if (sscanf(line, "out_time_us=%lld", &us) == 1 && us > 0 && duration > 0)
		{
			double		f = us / 1e6 / duration;

			RenderProgress(from + (to - from) * (f > 1 ? 1 : f), phase);
		}
	}
	if (in != NULL)
		fclose(in);
	while (waitpid(pid, &status, 0) < 0)
	{
		if (errno != EINTR)
			RenderFail("could not wait for FFmpeg: %m");
	}
	render_child = 0;
	if (render_stop)
		RenderFail("stopped");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
	{
		char	   *tail = log_tail(logpath);

		RenderFail("FFmpeg failed (%s %d) in %s:\n%s",
				   WIFEXITED(status) ? "exit status" : "signal",
				   WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
				   phase, tail);
	}
	RenderProgress(to, phase);
	free(logpath);
}
