/*-------------------------------------------------------------------------
 *
 * job_process.c
 *		The "process" action of a job step: a helper program of the
 *		project run by the worker, with no transaction open, while the
 *		worker keeps waiting on its latch, its other jobs' sockets and the
 *		program's output together (render_video's recgen-render).
 *
 * A handler returns {"state": s, "process": {"program": "recgen-render",
 * "args": [...], "env": {...}, "timeout": seconds}}. The program must be
 * named recgen-<something> and lie in the server's bindir or pkglibdir
 * (programs the extension installs); it is started with posix_spawn and an
 * argument vector (no shell), in a session of its own (so its process group
 * can be signalled as one), with standard input /dev/null, a minimal
 * environment (PATH, LANG and what "env" sets), default signal
 * dispositions and no descriptor of the server beyond 0-2.
 *
 * Protocol (that of recgen-render): each line the program writes on
 * standard output is either "progress <fraction> <phase>", which becomes
 * the job's progress, or "result <json>", its result; other lines are
 * ignored. Standard error is kept (its last 4 kB). The next step gets
 * {"exit_code", "signal", "result", "progress", "stderr", "timed_out",
 * "stopped"}.
 *
 * Stop (job cancelled, timeout, the worker's SIGTERM): SIGTERM to the
 * process group, then SIGKILL after 5 s; the child is always reaped.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/job_process.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "job_actions.h"
#include "job_values.h"
#include "job_process.h"

#define PROCESS_MAX_ARGS 256
#define STDERR_TAIL 4096
#define KILL_GRACE_MS 5000

extern char **environ;

/*
 * program_path
 *		Where a helper program lies: recgen-<name> in the server's bindir or
 *		pkglibdir. Raises when it is not one.
 */
static char *
program_path(const char *name)
{
	char		bindir[MAXPGPATH];
	const char *p;
	char	   *path;

	if (strncmp(name, "recgen-", 7) != 0 || name[7] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a job may run only recgen's helper programs (recgen-*), not \"%s\"", name)));
	for (p = name; *p; p++)
		if (!(isalnum((unsigned char) *p) || *p == '-' || *p == '_' || *p == '.'))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a helper program's name is a file name, not \"%s\"", name)));
	strlcpy(bindir, my_exec_path, sizeof(bindir));
	get_parent_directory(bindir);
	path = psprintf("%s/%s", bindir, name);
	if (access(path, X_OK) == 0)
		return path;
	path = psprintf("%s/%s", pkglib_path, name);
	if (access(path, X_OK) == 0)
		return path;
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_FILE),
			 errmsg("helper program \"%s\" is not installed", name),
			 errhint("recgen's helper programs are installed beside the server's programs (pg_config --bindir).")));
	return NULL;				/* keep the compiler quiet */
}

/*
 * nonblocking_pipe
 *		A pipe whose read end the worker keeps (non-blocking, closed on
 *		exec).
 */
static void
nonblocking_pipe(int fds[2])
{
	if (pipe(fds) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create a pipe for a helper program: %m")));
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
}

/*
 * string_array
 *		A NULL-terminated array of the strings of a jsonb array, after
 *		first (when not NULL).
 */
static char **
string_array(Jsonb *arr, const char *first, const char *what)
{
	char	  **out;
	int			n = 0;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	out = palloc0(sizeof(char *) * (PROCESS_MAX_ARGS + 2));
	if (first)
		out[n++] = pstrdup(first);
	if (arr == NULL)
		return out;
	if (!JB_ROOT_IS_ARRAY(arr) || JB_ROOT_IS_SCALAR(arr))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the %s of a process action must be an array of strings", what)));
	it = JsonbIteratorInit(&arr->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		if (v.type != jbvString || n > PROCESS_MAX_ARGS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the %s of a process action must be at most %d strings", what, PROCESS_MAX_ARGS)));
		out[n++] = pnstrdup(v.val.string.val, v.val.string.len);
	}
	return out;
}

/*
 * environment
 *		PATH, LANG and the variables of "env" (names of capitals, digits and
 *		underscores).
 */
static char **
environment(Jsonb *env)
{
	char	  **out = palloc0(sizeof(char *) * (PROCESS_MAX_ARGS + 3));
	int			n = 0;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;

	out[n++] = pstrdup("PATH=/usr/local/bin:/usr/bin:/bin");
	out[n++] = pstrdup("LANG=C.UTF-8");
	if (env == NULL)
		return out;
	if (!JB_ROOT_IS_OBJECT(env))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the env of a process action must be an object of strings")));
	it = JsonbIteratorInit(&env->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			const char *p;

			key = pnstrdup(v.val.string.val, v.val.string.len);
			for (p = key; *p; p++)
				if (!(isupper((unsigned char) *p) || isdigit((unsigned char) *p) || *p == '_'))
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("\"%s\" is not an environment variable name", key)));
		}
		else if (tok == WJB_VALUE)
		{
			if (v.type != jbvString || n > PROCESS_MAX_ARGS)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("the env of a process action must be an object of strings")));
			out[n++] = psprintf("%s=%.*s", key, v.val.string.len, v.val.string.val);
		}
	}
	return out;
}

/*
 * JobProcessStart
 *		Start the program of a process action (see the file header).
 */
JobProcess *
JobProcessStart(Jsonb *spec, int64 max_ms)
{
	JobProcess *p = palloc0(sizeof(JobProcess));
	char	   *program = JobJsonbText(spec, "program");
	char	   *timeout = JobJsonbText(spec, "timeout");
	char	   *path;
	char	  **argv;
	char	  **envp;
	int			out_fds[2];
	int			err_fds[2];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t	none;
	sigset_t	all;
	int			rc;
	int64		ms = max_ms;

	if (program == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a process action needs a \"program\"")));
	path = program_path(program);
	argv = string_array(JobJsonbField(spec, "args"), path, "args");
	envp = environment(JobJsonbField(spec, "env"));
	if (timeout)
		ms = Min(ms, (int64) (strtod(timeout, NULL) * 1000));

	nonblocking_pipe(out_fds);
	nonblocking_pipe(err_fds);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err_fds[1], 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&p->pid, path, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(out_fds[1]);
	close(err_fds[1]);
	if (rc != 0)
	{
		close(out_fds[0]);
		close(err_fds[0]);
		errno = rc;
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not start helper program \"%s\": %m", program)));
	}
	p->out_fd = out_fds[0];
	p->err_fd = err_fds[0];
	p->program = pstrdup(program);
	initStringInfo(&p->line);
	initStringInfo(&p->err);
	p->deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), Max(ms, 1));
	p->exit_code = -1;
	return p;
}

/*
 * handle_line
 *		One line of the program's standard output.
 */
static void
handle_line(JobProcess *p, const char *line)
{
	if (strncmp(line, "progress ", 9) == 0)
	{
		char	   *end;
		double		fraction = strtod(line + 9, &end);
		StringInfoData j;

		while (*end == ' ')
			end++;
		initStringInfo(&j);
		appendStringInfo(&j, "{\"fraction\": %.4f, \"phase\": ", Max(0.0, Min(1.0, fraction)));
		escape_json(&j, end);
		appendStringInfoChar(&j, '}');
		if (p->progress)
			pfree(p->progress);
		p->progress = j.data;
		p->progress_changed = true;
	}
	else if (strncmp(line, "result ", 7) == 0)
	{
		if (p->result)
			pfree(p->result);
		p->result = pstrdup(line + 7);
	}
}

/*
 * drain
 *		Read what the program wrote on one of its pipes; false at the end
 *		of it.
 */
static bool
drain(JobProcess *p, int fd, bool is_out)
{
	char		buf[8192];

	for (;;)
	{
		ssize_t		n = read(fd, buf, sizeof(buf));
		ssize_t		i;

		if (n == 0)
			return false;
		if (n < 0)
			return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
		if (!is_out)
		{
			appendBinaryStringInfo(&p->err, buf, n);
			if (p->err.len > 2 * STDERR_TAIL)
			{
				memmove(p->err.data, p->err.data + p->err.len - STDERR_TAIL, STDERR_TAIL);
				p->err.len = STDERR_TAIL;
				p->err.data[p->err.len] = '\0';
			}
			continue;
		}
		for (i = 0; i < n; i++)
		{
			if (buf[i] == '\n')
			{
				handle_line(p, p->line.data);
				resetStringInfo(&p->line);
			}
			else if (p->line.len < 65536)
				appendStringInfoChar(&p->line, buf[i]);
		}
	}
}

/*
 * JobProcessAddWaitEvents
 *		The program's open pipes, to wait on (user_data: the process).
 */
void
JobProcessAddWaitEvents(JobProcess *p, WaitEventSet *set)
{
	if (p->out_fd >= 0)
		AddWaitEventToSet(set, WL_SOCKET_READABLE, p->out_fd, NULL, p);
	if (p->err_fd >= 0)
		AddWaitEventToSet(set, WL_SOCKET_READABLE, p->err_fd, NULL, p);
}

/*
 * close_fd
 *		Close one of the program's pipes.
 */
static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * reap
 *		Collect the program's exit status if it has ended (or wait for it).
 */
static void
reap(JobProcess *p, bool block)
{
	int			status;
	pid_t		r;

	if (p->pid <= 0)
		return;
	r = waitpid(p->pid, &status, block ? 0 : WNOHANG);
	if (r == p->pid)
	{
		if (WIFEXITED(status))
			p->exit_code = WEXITSTATUS(status);
		else if (WIFSIGNALED(status))
			p->term_signal = WTERMSIG(status);
		p->pid = 0;
	}
	else if (r < 0 && errno == ECHILD)
		p->pid = 0;
}

/*
 * JobProcessPoll
 *		Read the program's output, notice its end and its timeout. Returns
 *		true once it has ended (and its pipes are read to the end).
 */
bool
JobProcessPoll(JobProcess *p)
{
	if (p->out_fd >= 0 && !drain(p, p->out_fd, true))
	{
		if (p->line.len > 0)
			handle_line(p, p->line.data);
		close_fd(&p->out_fd);
	}
	if (p->err_fd >= 0 && !drain(p, p->err_fd, false))
		close_fd(&p->err_fd);
	reap(p, false);
	if (p->pid > 0 && GetCurrentTimestamp() >= p->deadline)
	{
		p->timed_out = true;
		JobProcessStop(p);
	}
	return p->pid == 0 && p->out_fd < 0 && p->err_fd < 0;
}

/*
 * JobProcessStop
 *		Stop the program: SIGTERM to its process group, SIGKILL after the
 *		grace period, and reap it. Safe more than once.
 */
void
JobProcessStop(JobProcess *p)
{
	int			waited;

	if (p->pid > 0)
	{
		p->stopped = !p->timed_out;
		kill(-p->pid, SIGTERM);
		for (waited = 0; waited < KILL_GRACE_MS && p->pid > 0; waited += 10)
		{
			reap(p, false);
			if (p->pid > 0)
				pg_usleep(10000L);
		}
		if (p->pid > 0)
		{
			kill(-p->pid, SIGKILL);
			reap(p, true);
		}
	}
	if (p->out_fd >= 0)
		(void) drain(p, p->out_fd, true);
	if (p->err_fd >= 0)
		(void) drain(p, p->err_fd, false);
	close_fd(&p->out_fd);
	close_fd(&p->err_fd);
}

/*
 * JobProcessResults
 *		What the next step gets of an ended program (see the file header).
 */
Jsonb *
JobProcessResults(JobProcess *p)
{
	StringInfoData j;
	Datum		result;

	initStringInfo(&j);
	appendStringInfoString(&j, "{\"exit_code\": ");
	if (p->exit_code >= 0)
		appendStringInfo(&j, "%d", p->exit_code);
	else
		appendStringInfoString(&j, "null");
	appendStringInfoString(&j, ", \"signal\": ");
	if (p->term_signal > 0)
		appendStringInfo(&j, "%d", p->term_signal);
	else
		appendStringInfoString(&j, "null");
	appendStringInfo(&j, ", \"progress\": %s, \"timed_out\": %s, \"stopped\": %s, \"stderr\": ",
					 p->progress ? p->progress : "null",
					 p->timed_out ? "true" : "false", p->stopped ? "true" : "false");
	escape_json(&j, p->err.data);
	appendStringInfoString(&j, ", \"result\": ");
	/* a result line that is not JSON is passed on as a string */
	if (p->result)
	{
		cJSON	   *parsed = cJSON_Parse(p->result);

		if (parsed)
			appendStringInfoString(&j, p->result);
		else
			escape_json(&j, p->result);
		cJSON_Delete(parsed);
	}
	else
		appendStringInfoString(&j, "null");
	appendStringInfoChar(&j, '}');
	result = DirectFunctionCall1(jsonb_in, CStringGetDatum(j.data));
	return DatumGetJsonbP(result);
}

/*
 * JobProcessProgress
 *		The program's progress as jsonb when it changed since the last call,
 *		else NULL.
 */
Jsonb *
JobProcessProgress(JobProcess *p)
{
	if (!p->progress_changed || p->progress == NULL)
		return NULL;
	p->progress_changed = false;
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(p->progress)));
}
