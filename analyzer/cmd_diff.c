/*
 * cmd_diff.c - `cowtrace diff A B`: two runs side by side, by total, cause
 * and type, so a change (gc.freeze(), a different data layout) shows as
 * numbers: `cowtrace diff base frozen` shows the gc pages collapse.
 *
 * Promise: the same reading rules and exit status as `report` (an
 * unreadable trace is named on stderr and makes the status 2; the readable
 * ones still count). The model is diff.h; the formats are the registry's
 * renderers that have a diff (render.h). -o FILE as for report
 * (output.h).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "render.h"

#define CMD "cowtrace diff"

void usage_diff(FILE *f)
{
    fputs("usage: cowtrace diff [--format FMT] [-o FILE] A B\n"
          "\n"
          "Compare two runs (trace directories or single trace files): copied pages in\n"
          "total, by cause and by type, with A, B, the change and the ratio B/A. A\n"
          "watch directory (cowtrace watch -o DIR) adds its timeline: a summary per\n"
          "run, and with --format html both runs' charts on one scale. For\n"
          "example, to measure gc.freeze():\n"
          "  cowtrace run -o base -- python app.py\n"
          "  cowtrace run --gc-freeze -o frozen -- python app.py\n"
          "  cowtrace diff base frozen\n"
          "\n"
          "  -f, --format FMT  one of\n", f);
    ct_render_usage(f, true);
    fputs("  -o, --output FILE write to FILE (-: standard output, the default): a new\n"
          "                    file beside it, renamed over FILE once the whole diff\n"
          "                    is written (FILE is left as it was if anything fails;\n"
          "                    a device or pipe is refused: redirect to those)\n"
          "  -h, --help        show this help\n"
          "\n"
          "Exit status: 0 on success, 2 on a usage error or if any trace could not\n"
          "be read (the readable ones are still compared).\n", f);
}

static int find_format(const char *name, const struct ct_renderer **out)
{
    const char *names[16];
    const struct ct_renderer *with[16];
    size_t n = 0;
    for (size_t i = 0; ct_renderers[i] && n + 1 < sizeof names / sizeof names[0]; i++)
        if (ct_renderers[i]->diff) {
            with[n] = ct_renderers[i];
            names[n++] = ct_renderers[i]->name;
        }
    names[n] = NULL;
    int k;
    if (ct_opt_enum(CMD, "format", name, names, &k))
        return -1;
    *out = with[k];
    return 0;
}

static int load(const char *path, struct ct_run *r)
{
    /* Totals, causes and types only: no stacks to resolve. */
    const struct ct_load_opts lo = { .keep_pages = false, .resolve = false, .open_files = false };
    struct ct_err err;
    if (ct_run_load(path, &lo, r, &err)) {
        fprintf(stderr, "cowtrace: %s: %s\n", path, err.msg);
        return -1;
    }
    for (size_t i = 0; i < r->nerrors; i++)
        fprintf(stderr, "cowtrace: %s: %s\n", r->errors[i].file, r->errors[i].msg);
    return 0;
}

int cmd_diff(int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const struct ct_renderer *format = ct_renderers[0];
    const char *output = NULL;          /* -o FILE */
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (find_format(optarg, &format))
                return EXIT_USAGE;
            break;
        case 'o':
            output = optarg;
            break;
        case 'h':
            usage_diff(stdout);
            return 0;
        default:
            return ct_opt_error(CMD, argv, "fo", usage_diff);
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, CMD ": %s\n", argc - optind < 2 ? "needs two runs, A and B" : "too many arguments");
        usage_diff(stderr);
        return EXIT_USAGE;
    }
    FILE *out = ct_output_open(CMD, output);
    if (!out)
        return EXIT_USAGE;
    struct ct_run a, b;
    if (load(argv[optind], &a))
        return EXIT_USAGE;
    if (load(argv[optind + 1], &b)) {
        ct_run_free(&a);
        return EXIT_USAGE;
    }
    struct ct_diff d;
    ct_diff_build(&a, &b, &d);
    format->diff(out, &d);
    ct_output_done();
    int status = a.nerrors || b.nerrors ? EXIT_USAGE : 0;
    ct_diff_free(&d);
    ct_run_free(&a);
    ct_run_free(&b);
    return status;
}
