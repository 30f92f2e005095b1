/*
 * cmd_report.c - `cowtrace report`: options, the format from the registry
 * (render.h), and the exit status.
 *
 * Promise: a bad trace never hides the good ones. Every readable trace is
 * reported; every unreadable one gets a line on stderr naming the file and
 * byte offset (and an entry in the JSON "errors" list), and then the exit
 * status is 2 so scripts notice. Formats, and which options each takes,
 * come from the registry only: --help lists them, and an option the
 * chosen format does not take is a usage error. -o FILE gets the same
 * bytes standard output would, written whole or not at all (output.h).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "render.h"

#define CMD "cowtrace report"

/* The options only some formats take, in --help order. */
static const struct {
    unsigned opt;
    const char *synopsis, *help;
} format_opts[] = {
    { CT_OPT_PAGES, "  -p, --pages       ", "also list every copied (cow) and fresh page" },
    { CT_OPT_NO_STACKS, "      --no-stacks   ",
      "leave out the table of stacks (and the stack\n"
      "of each page); locations stay. Keeps the report of\n"
      "thousands of processes small" },
    { CT_OPT_FRAMES, "      --frames WHAT ",
      "python (Python frames, then the native frames\n"
      "the interpreter called), native, or both (each Python\n"
      "frame under its evaluation-loop frame); default: python\n"
      "if any stack has Python frames, else native" },
    { CT_OPT_LEAF, "      --leaf WHAT   ",
      "end each stack with cause:..., type:..., both,\n"
      "or none (default: cause)" },
};

static const char *const frames_names[] = { "python", "native", "both", NULL };
static const enum ct_frames frames_values[] = { CT_FRAMES_PYTHON, CT_FRAMES_NATIVE, CT_FRAMES_BOTH };
static const char *const leaf_names[] = { "cause", "type", "both", "none", NULL };
static const enum ct_leaf leaf_values[] = { CT_LEAF_CAUSE, CT_LEAF_TYPE, CT_LEAF_BOTH, CT_LEAF_NONE };

/* " (text, json)": the formats that take opt, after open. */
static void takers(FILE *f, unsigned opt, const char *open)
{
    int n = 0;
    fputs(open, f);
    for (size_t i = 0; ct_renderers[i]; i++)
        if (ct_renderers[i]->accepts & opt)
            fprintf(f, "%s%s", n++ ? ", " : "", ct_renderers[i]->name);
    fputs(n ? ")" : "none)", f);
}

void usage_report(FILE *f)
{
    fputs("usage: cowtrace report [--format FMT] [-o FILE] [--pages] [--no-stacks]\n"
          "                       [--frames python|native|both] [--leaf cause|type|both|none]\n"
          "                       DIR|FILE\n"
          "\n"
          "Summarize the traces (*.cowtrace) in DIR, or one trace FILE, and the\n"
          "timeline.jsonl of a watch directory (cowtrace watch -o DIR).\n"
          "\n"
          "  -f, --format FMT  one of\n", f);
    ct_render_usage(f, false);
    fputs("  -o, --output FILE write to FILE (-: standard output, the default): a new\n"
          "                    file beside it, renamed over FILE once the whole report\n"
          "                    is written (FILE is left as it was if anything fails;\n"
          "                    a device or pipe is refused: redirect to those)\n"
          "Options of some formats (the formats that take them in parentheses):\n", f);
    for (size_t i = 0; i < sizeof format_opts / sizeof format_opts[0]; i++) {
        const char *h = format_opts[i].help;
        fputs(format_opts[i].synopsis, f);
        for (;;) {
            size_t n = strcspn(h, "\n");
            fwrite(h, 1, n, f);
            if (!h[n])
                break;
            fprintf(f, "\n%20s", "");
            h += n + 1;
        }
        takers(f, format_opts[i].opt, " (");
        fputc('\n', f);
    }
    fputs("  -h, --help        show this help\n"
          "\n"
          "Native frames are symbolized from the files the traced process mapped, if\n"
          "their build id still matches (else shown as module+offset, with a note).\n"
          "\n"
          "Exit status: 0 on success, 2 on a usage error or if any trace could not\n"
          "be read (the readable ones are still reported).\n", f);
}

/* "text, json or folded" for the message about an unknown format. */
static int find_format(const char *name, const struct ct_renderer **out)
{
    const char *names[16];
    size_t n = 0;
    for (; ct_renderers[n] && n + 1 < sizeof names / sizeof names[0]; n++)
        names[n] = ct_renderers[n]->name;
    names[n] = NULL;
    int k;
    if (ct_opt_enum(CMD, "format", name, names, &k))
        return -1;
    *out = ct_renderers[k];
    return 0;
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, 'o' },
        { "pages", no_argument, NULL, 'p' },
        { "no-stacks", no_argument, NULL, 'S' },
        { "frames", required_argument, NULL, 'F' },
        { "leaf", required_argument, NULL, 'L' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const struct ct_renderer *format = ct_renderers[0];
    struct ct_render_opts ro = CT_RENDER_OPTS_DEFAULT;
    unsigned given = 0;                 /* CT_OPT_* on the command line */
    const char *output = NULL;          /* -o FILE */
    int c, k;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:o:ph", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (find_format(optarg, &format))
                return EXIT_USAGE;
            break;
        case 'o':
            output = optarg;
            break;
        case 'F':
            if (ct_opt_enum(CMD, "--frames", optarg, frames_names, &k))
                return EXIT_USAGE;
            ro.frames = frames_values[k];
            given |= CT_OPT_FRAMES;
            break;
        case 'L':
            if (ct_opt_enum(CMD, "--leaf", optarg, leaf_names, &k))
                return EXIT_USAGE;
            ro.leaf = leaf_values[k];
            given |= CT_OPT_LEAF;
            break;
        case 'p':
            ro.pages = true;
            given |= CT_OPT_PAGES;
            break;
        case 'S':
            ro.stacks = false;
            given |= CT_OPT_NO_STACKS;
            break;
        case 'h':
            usage_report(stdout);
            return 0;
        default:
            return ct_opt_error(CMD, argv, "foFL", usage_report);
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, CMD ": %s\n",
                optind == argc ? "missing DIR (the -o directory of cowtrace run)" : "too many arguments");
        usage_report(stderr);
        return EXIT_USAGE;
    }
    for (unsigned opt = 1; opt <= CT_OPT_ALL; opt <<= 1)
        if (given & opt & ~format->accepts) {
            fprintf(stderr, CMD ": %s does not apply to --format %s", ct_opt_name(opt), format->name);
            takers(stderr, opt, " (only to ");
            fputc('\n', stderr);
            return EXIT_USAGE;
        }
    /* Before the (possibly long) load, so a bad -o fails at once. */
    FILE *out = ct_output_open(CMD, output);
    if (!out)
        return EXIT_USAGE;
    const char *path = argv[optind];
    struct ct_load_opts lo = {
        .keep_pages = ro.pages || (format->needs & CT_NEED_PAGES),
        .resolve = format->needs & CT_NEED_STACKS,
        .open_files = true,
    };
    struct ct_run r;
    struct ct_err err;
    if (ct_run_load(path, &lo, &r, &err)) {
        fprintf(stderr, "cowtrace: %s: %s\n", path, err.msg);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < r.nerrors; i++)
        fprintf(stderr, "cowtrace: %s: %s\n", r.errors[i].file, r.errors[i].msg);
    format->run(out, &r, &ro);
    ct_output_done();
    int status = r.nerrors ? EXIT_USAGE : 0;
    ct_run_free(&r);
    return status;
}
