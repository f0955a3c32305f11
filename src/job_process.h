/*-------------------------------------------------------------------------
 *
 * job_process.h
 *		A helper program run by the "process" action of a job step
 *		(job_process.c).
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/job_process.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECGEN_JOB_PROCESS_H
#define RECGEN_JOB_PROCESS_H

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "storage/latch.h"
#include "utils/jsonb.h"

typedef struct JobProcess
{
	pid_t		pid;			/* 0 once reaped */
	int			out_fd;			/* -1 once closed */
	int			err_fd;
	char	   *program;
	StringInfoData line;		/* standard output's unfinished line */
	StringInfoData err;			/* the end of standard error */
	char	   *progress;		/* the last progress line, as JSON */
	bool		progress_changed;
	char	   *result;			/* the last result line's JSON */
	int			exit_code;		/* -1: none (killed, or still running) */
	int			term_signal;
	bool		timed_out;
	bool		stopped;
	TimestampTz deadline;
} JobProcess;

extern JobProcess *JobProcessStart(Jsonb *spec, int64 max_ms);
extern void JobProcessAddWaitEvents(JobProcess *p, WaitEventSet *set);
extern bool JobProcessPoll(JobProcess *p);
extern void JobProcessStop(JobProcess *p);
extern Jsonb *JobProcessResults(JobProcess *p);
extern Jsonb *JobProcessProgress(JobProcess *p);

#endif							/* RECGEN_JOB_PROCESS_H */
