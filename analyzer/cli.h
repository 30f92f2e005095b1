/*
 * cli.h - the subcommands of the cowtrace command. Each returns the process
 * exit status (or does not return, for `run` mirroring a signal death).
 * Exit 2 means a usage error or a bad trace, as documented in --help.
 */
#ifndef COWTRACE_CLI_H
#define COWTRACE_CLI_H

#include <stdio.h>

int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_diff(int argc, char **argv);

void usage_run(FILE *f);
void usage_report(FILE *f);
void usage_diff(FILE *f);

#define EXIT_USAGE 2

#endif
