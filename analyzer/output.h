/*
 * output.h - where `report` and `diff` write: standard output, or the
 * file named by -o; and the one check that the output was written.
 *
 * Promise: -o FILE is written whole or not at all. The output goes to a
 * new file in FILE's directory (created with O_EXCL, mode 0666 less the
 * umask, as a shell redirection would), and only once the command has
 * produced its whole output and every byte reached the file is it renamed
 * over FILE; rename replaces a symlink at FILE itself, never the file it
 * points to. A report of the readable traces of a run with some
 * unreadable ones is whole output (as on standard output; the status is
 * 2 all the same). Otherwise (the run could not be loaded at all, a write
 * failed, the disk filled up, SIGINT, SIGTERM, SIGHUP or SIGQUIT) the new
 * file is removed and FILE is as it was (SIGKILL leaves the new file,
 * named .cowtrace-PID-N.tmp, beside an untouched FILE). FILE being a
 * directory, a device or a pipe (or a link to one: replacing /dev/null is
 * not writing to it), or a directory where the new file cannot be
 * created, is a one-line error before anything is read.
 * ct_output_finish (called by main.c for every command) is the only place
 * that flushes and checks the output stream, standard output and -o
 * alike: a failed write makes the status 2 with a message.
 */
#ifndef COWTRACE_OUTPUT_H
#define COWTRACE_OUTPUT_H

#include <stdio.h>

/* The stream to write to: stdout when path is NULL or "-", else a new
 * file beside path. NULL (after a message "CMD: -o PATH: ..." on stderr)
 * if path cannot be written. At most one per process. */
FILE *ct_output_open(const char *cmd, const char *path);

/* The command wrote its whole output: on success, -o FILE may replace
 * FILE. Without this call -o leaves FILE untouched. */
void ct_output_done(void);

/* Flushes and checks the output stream, and for -o closes it and renames
 * it over FILE (or removes it). Returns status, or 2 (with a message
 * naming `what`, "report") if the output could not be written. */
int ct_output_finish(int status, const char *what);

#endif
