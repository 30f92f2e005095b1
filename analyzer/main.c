/*
 * main.c - the cowtrace command: dispatch to `run`, `report` and `diff`.
 *
 * Promise: `cowtrace --help` and `cowtrace --version` exit 0; anything the
 * command does not understand is a usage error with exit status 2 and a
 * message on stderr, never a silent default.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ct_format.h"

static void usage(FILE *f)
{
    fputs("usage: cowtrace run [-o DIR] [--mode MODE] [--gc-freeze] [-q] [--force] -- CMD [ARG...]\n"
          "       cowtrace report [--format text|json] [--pages] DIR|FILE\n"
          "       cowtrace diff [--format text|json] A B\n"
          "       cowtrace --version | --help | help COMMAND\n"
          "\n"
          "Find out which memory pages the forked workers of a program copied\n"
          "(copy-on-write), and which pages they allocated fresh.\n"
          "\n"
          "  run      run CMD with the tracing library preloaded; every forked\n"
          "           process writes DIR/<pid>.cowtrace\n"
          "  report   summarize the traces in DIR: how much each process copied,\n"
          "           where, and why (reference counts, gc, allocator, ...)\n"
          "  diff     compare two runs by total, cause and type\n"
          "\n"
          "Run `cowtrace COMMAND --help` for the options of a command.\n", f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("cowtrace %s (trace format %d)\n", COWTRACE_VERSION, CT_FORMAT_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help")) {
        if (argc > 2 && !strcmp(argv[2], "run"))
            usage_run(stdout);
        else if (argc > 2 && !strcmp(argv[2], "report"))
            usage_report(stdout);
        else if (argc > 2 && !strcmp(argv[2], "diff"))
            usage_diff(stdout);
        else if (argc > 2) {
            fprintf(stderr, "cowtrace: no such command '%s'\n", argv[2]);
            return EXIT_USAGE;
        } else
            usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "report"))
        return cmd_report(argc - 1, argv + 1);
    if (!strcmp(cmd, "diff"))
        return cmd_diff(argc - 1, argv + 1);
    if (cmd[0] == '-')
        fprintf(stderr, "cowtrace: unknown option '%s'\n", cmd);
    else
        fprintf(stderr, "cowtrace: unknown command '%s'\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
