/*
 * main.c - the cowtrace command: a table of commands, the top-level usage
 * generated from it, and the one call that checks the output was written
 * (output.h).
 *
 * Promise: `cowtrace --help`, `cowtrace help [COMMAND]`, `cowtrace COMMAND
 * --help` and `cowtrace --version` exit 0; anything the command does not
 * understand is a usage error with exit status 2 and a message on stderr,
 * never a silent default. Whatever a command prints, a failed write of
 * its output (standard output or -o FILE: a full disk, a closed pipe)
 * makes the status 2 with a message, for every command alike. Adding a command is one line in
 * commands[] (and its file).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ct_format.h"
#include "output.h"
#include "render.h"

struct ct_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    void (*usage)(FILE *f);
    const char *synopsis;     /* the arguments, for the top-level usage */
    const char *summary;      /* what it does, for the top-level usage (may hold "\n") */
    const char *output;       /* what it writes, for the write-error message */
};

static const struct ct_cmd commands[] = {
    { "run", cmd_run, usage_run,
      "[-o DIR] [--mode MODE] [--gc-freeze] [--stacks WHICH]\n"
      "[--stack-depth N] [--capture-pages] [-q] [--force] -- CMD [ARG...]",
      "run CMD with the tracing library preloaded; every forked\n"
      "process writes DIR/<pid>.cowtrace", "output" },
    { "report", cmd_report, usage_report,
      "[--format FMT] [-o FILE] [--pages] [--no-stacks]\n"
      "[--frames WHAT] [--leaf WHAT] DIR|FILE",
      "summarize the traces in DIR: how much each process copied,\n"
      "where, and why (reference counts, gc, allocator, ...)", "report" },
    { "diff", cmd_diff, usage_diff, "[--format FMT] [-o FILE] A B",
      "compare two runs by total, cause and type", "diff" },
    { "snapshot", cmd_snapshot, usage_snapshot, "[-o DIR] [--no-children] PID...",
      "examine running processes (a prefork master and its workers)\n"
      "read-only, without restarting them: shared, copied and fresh\n"
      "pages of each against its parent, and why they were copied", "report" },
    { "watch", cmd_watch, usage_watch,
      "[--interval SECONDS] [--prometheus HOST:PORT]\n"
      "[--textfile FILE] [-o DIR] [--causes-every N] PID",
      "follow a running process tree over time: each worker's shared,\n"
      "copied and fresh bytes every interval, causes now and then; as\n"
      "JSON lines, Prometheus metrics or a node_exporter textfile", "samples" },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* Prints s, each line after the first indented by indent columns. */
static void lines(FILE *f, const char *s, int indent)
{
    for (;;) {
        size_t n = strcspn(s, "\n");
        fwrite(s, 1, n, f);
        fputc('\n', f);
        if (!s[n])
            break;
        s += n + 1;
        fprintf(f, "%*s", indent, "");
    }
}

static void usage(FILE *f)
{
    for (size_t i = 0; i < NCOMMANDS; i++) {
        int w = fprintf(f, "%s cowtrace %s ", i ? "      " : "usage:", commands[i].name);
        lines(f, commands[i].synopsis, w);
    }
    fputs("       cowtrace --version | --help | help COMMAND\n"
          "\n"
          "Find out which memory pages the forked workers of a program copied\n"
          "(copy-on-write), and which pages they allocated fresh.\n"
          "\n", f);
    for (size_t i = 0; i < NCOMMANDS; i++) {
        fprintf(f, "  %-8s ", commands[i].name);
        lines(f, commands[i].summary, 11);
    }
    /* The formats, from the registry. */
    for (int diff = 0; diff < 2; diff++) {
        fprintf(f, "%s", diff ? "\n  diff --format:" : "\n  report --format:");
        for (size_t i = 0; ct_renderers[i]; i++)
            if (!diff || ct_renderers[i]->diff)
                fprintf(f, " %s", ct_renderers[i]->name);
    }
    fputs("\n\n"
          "Run `cowtrace COMMAND --help` for the options of a command.\n", f);
}

static const struct ct_cmd *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
        usage(stdout);
        return ct_output_finish(0, "help");
    }
    if (!strcmp(name, "--version") || !strcmp(name, "-V")) {
        printf("cowtrace %s (trace format %d)\n", COWTRACE_VERSION, CT_FORMAT_VERSION);
        return ct_output_finish(0, "version");
    }
    if (!strcmp(name, "help")) {
        if (argc > 2) {
            const struct ct_cmd *c = find(argv[2]);
            if (!c) {
                fprintf(stderr, "cowtrace: no such command '%s'\n", argv[2]);
                return EXIT_USAGE;
            }
            c->usage(stdout);
        } else
            usage(stdout);
        return ct_output_finish(0, "help");
    }
    const struct ct_cmd *c = find(name);
    if (!c) {
        fprintf(stderr, "cowtrace: unknown %s '%s'\n", name[0] == '-' ? "option" : "command", name);
        usage(stderr);
        return EXIT_USAGE;
    }
    int status = c->fn(argc - 1, argv + 1);
    return ct_output_finish(status, c->output);
}
