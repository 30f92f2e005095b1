/*
 * cli.h - the subcommands of the cowtrace command, and the option helpers
 * they share (cli_opts.c).
 *
 * Promise: each command returns the process exit status (or does not
 * return, for `run` mirroring a signal death) and leaves checking its
 * output (standard output, or report's and diff's -o FILE, output.h) to
 * main.c, which checks once, for every command, that it was written.
 * Exit 2 means a usage error or a bad trace, as documented in --help.
 */
#ifndef COWTRACE_CLI_H
#define COWTRACE_CLI_H

#include <stdio.h>

int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_watch(int argc, char **argv);

void usage_run(FILE *f);
void usage_report(FILE *f);
void usage_diff(FILE *f);
void usage_snapshot(FILE *f);
void usage_watch(FILE *f);

#define EXIT_USAGE 2

/* For getopt_long's '?' or ':': "CMD: option '--x' needs a value" (when
 * the option is one of the short letters in with_value) or "CMD: unknown
 * option '--x'", then the usage on stderr. Returns EXIT_USAGE. */
int ct_opt_error(const char *cmd, char **argv, const char *with_value, void (*usage)(FILE *));

/* arg must be one of names[] (NULL-terminated): sets *out to its index and
 * returns 0; else says "CMD: unknown WHAT 'arg' (use a, b or c)" and
 * returns -1. */
int ct_opt_enum(const char *cmd, const char *what, const char *arg, const char *const names[], int *out);

#endif
