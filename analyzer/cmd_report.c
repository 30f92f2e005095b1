/*
 * cmd_report.c - `cowtrace report`: option parsing and exit status.
 *
 * Promise: a bad trace never hides the good ones. Every readable trace is
 * reported; every unreadable one gets a line on stderr naming the file and
 * byte offset (and an entry in the JSON "errors" list), and then the exit
 * status is 2 so scripts notice.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "report.h"

void usage_report(FILE *f)
{
    fputs("usage: cowtrace report [--format text|json|folded] [--pages] [--no-stacks] DIR|FILE\n"
          "       cowtrace report --format folded [--frames python|native|both]\n"
          "                       [--leaf cause|type|both|none] DIR|FILE\n"
          "\n"
          "Summarize the traces (*.cowtrace) in DIR, or one trace FILE.\n"
          "\n"
          "  -f, --format FMT  text (default), json (a stable, documented schema), or\n"
          "                    folded: one line per stack of first writes and its copied\n"
          "                    pages, for flamegraph.pl, inferno or speedscope\n"
          "  -p, --pages       also list every copied (cow) and fresh page\n"
          "      --no-stacks   json: leave out the table of stacks (and the stack\n"
          "                    of each page); locations stay. Keeps the report of\n"
          "                    thousands of processes small\n"
          "      --frames WHAT folded: python (Python frames, then the native frames\n"
          "                    the interpreter called), native, or both (Python frames\n"
          "                    inside the evaluation loop); default: python if any\n"
          "                    stack has Python frames, else native\n"
          "      --leaf WHAT   folded: end each stack with cause:..., type:..., both,\n"
          "                    or none (default: cause)\n"
          "  -h, --help        show this help\n"
          "\n"
          "Native frames are symbolized from the files the traced process mapped, if\n"
          "their build id still matches (else shown as module+offset, with a note).\n"
          "\n"
          "Exit status: 0 on success, 2 on a usage error or if any trace could not\n"
          "be read (the readable ones are still reported).\n", f);
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'f' },
        { "pages", no_argument, NULL, 'p' },
        { "no-stacks", no_argument, NULL, 'S' },
        { "frames", required_argument, NULL, 'F' },
        { "leaf", required_argument, NULL, 'L' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    enum { TEXT, JSON, FOLDED } format = TEXT;
    bool pages = false, stacks = true;
    enum ct_frames frames = CT_FRAMES_AUTO;
    enum ct_leaf leaf = CT_LEAF_CAUSE;
    const char *frames_arg = NULL, *leaf_arg = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:ph", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (!strcmp(optarg, "json"))
                format = JSON;
            else if (!strcmp(optarg, "text"))
                format = TEXT;
            else if (!strcmp(optarg, "folded"))
                format = FOLDED;
            else {
                fprintf(stderr, "cowtrace report: unknown format '%s' (use text, json or folded)\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'F':
            frames_arg = optarg;
            if (!strcmp(optarg, "python"))
                frames = CT_FRAMES_PYTHON;
            else if (!strcmp(optarg, "native"))
                frames = CT_FRAMES_NATIVE;
            else if (!strcmp(optarg, "both"))
                frames = CT_FRAMES_BOTH;
            else {
                fprintf(stderr, "cowtrace report: unknown --frames '%s' (use python, native or both)\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'L':
            leaf_arg = optarg;
            if (!strcmp(optarg, "cause"))
                leaf = CT_LEAF_CAUSE;
            else if (!strcmp(optarg, "type"))
                leaf = CT_LEAF_TYPE;
            else if (!strcmp(optarg, "both"))
                leaf = CT_LEAF_BOTH;
            else if (!strcmp(optarg, "none"))
                leaf = CT_LEAF_NONE;
            else {
                fprintf(stderr, "cowtrace report: unknown --leaf '%s' (use cause, type, both or none)\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'p':
            pages = true;
            break;
        case 'S':
            stacks = false;
            break;
        case 'h':
            usage_report(stdout);
            return 0;
        default:
            if (optopt && strchr("fFL", optopt))
                fprintf(stderr, "cowtrace report: option '%s' needs a value\n", argv[optind - 1]);
            else
                fprintf(stderr, "cowtrace report: unknown option '%s'\n", argv[optind - 1]);
            usage_report(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "cowtrace report: %s\n",
                optind == argc ? "missing DIR (the -o directory of cowtrace run)" : "too many arguments");
        usage_report(stderr);
        return EXIT_USAGE;
    }
    if ((frames_arg || leaf_arg) && format != FOLDED) {
        fprintf(stderr, "cowtrace report: %s only applies to --format folded\n", frames_arg ? "--frames" : "--leaf");
        return EXIT_USAGE;
    }
    if (!stacks && format != JSON) {
        fprintf(stderr, "cowtrace report: --no-stacks only applies to --format json\n");
        return EXIT_USAGE;
    }
    if (pages && format == FOLDED) {
        fprintf(stderr, "cowtrace report: --pages does not apply to --format folded\n");
        return EXIT_USAGE;
    }
    const char *path = argv[optind];
    struct ct_report r;
    struct ct_err err;
    if (ct_report_build(path, pages, &r, &err)) {
        fprintf(stderr, "cowtrace: %s: %s\n", path, err.msg);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < r.nerrors; i++)
        fprintf(stderr, "cowtrace: %s: %s\n", r.errors[i].file, r.errors[i].msg);
    ct_report_resolve(&r, true);
    if (format == JSON)
        ct_report_json(stdout, &r, (pages ? CT_JSON_PAGES : 0) | (stacks ? CT_JSON_STACKS : 0));
    else if (format == FOLDED)
        ct_report_folded(stdout, &r, frames, leaf);
    else
        ct_report_text(stdout, &r, pages);
    int status = r.nerrors ? EXIT_USAGE : 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("cowtrace: writing the report");
        status = EXIT_USAGE;
    }
    ct_report_free(&r);
    return status;
}
