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
    fputs("usage: cowtrace report [--format text|json] [--pages] DIR|FILE\n"
          "\n"
          "Summarize the traces (*.cowtrace) in DIR, or one trace FILE.\n"
          "\n"
          "  -f, --format FMT  text (default) or json (a stable, documented schema)\n"
          "  -p, --pages       also list every copied (cow) and fresh page\n"
          "  -h, --help        show this help\n"
          "\n"
          "Exit status: 0 on success, 2 on a usage error or if any trace could not\n"
          "be read (the readable ones are still reported).\n", f);
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'f' },
        { "pages", no_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool json = false, pages = false;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:ph", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (!strcmp(optarg, "json"))
                json = true;
            else if (!strcmp(optarg, "text"))
                json = false;
            else {
                fprintf(stderr, "cowtrace report: unknown format '%s' (use text or json)\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'p':
            pages = true;
            break;
        case 'h':
            usage_report(stdout);
            return 0;
        default:
            if (optopt && strchr("f", optopt))
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
    const char *path = argv[optind];
    struct ct_report r;
    struct ct_err err;
    if (ct_report_build(path, pages, &r, &err)) {
        fprintf(stderr, "cowtrace: %s: %s\n", path, err.msg);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < r.nerrors; i++)
        fprintf(stderr, "cowtrace: %s: %s\n", r.errors[i].file, r.errors[i].msg);
    if (json)
        ct_report_json(stdout, &r, pages);
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
