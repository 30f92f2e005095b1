/*
 * cmd_diff.c - `cowtrace diff A B`: two runs side by side, by total, cause
 * and type, so a change (gc.freeze(), a different data layout) shows as
 * numbers: `cowtrace diff base frozen` shows the gc pages collapse.
 *
 * Promise: the same reading rules and exit status as `report` (an
 * unreadable trace is named on stderr and makes the status 2; the readable
 * ones still count); the JSON ("cowtrace-diff", version 1) is a contract
 * like the report's. The ratio is B / A, shown as "-" when A is 0.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jsonw.h"
#include "report_text.h"

#define TOP_TYPES 10

void usage_diff(FILE *f)
{
    fputs("usage: cowtrace diff [--format text|json] A B\n"
          "\n"
          "Compare two runs (trace directories or single trace files): copied pages in\n"
          "total, by cause and by type, with A, B, the change and the ratio B/A. For\n"
          "example, to measure gc.freeze():\n"
          "  cowtrace run -o base -- python app.py\n"
          "  cowtrace run --gc-freeze -o frozen -- python app.py\n"
          "  cowtrace diff base frozen\n"
          "\n"
          "  -f, --format FMT  text (default) or json\n"
          "  -h, --help        show this help\n"
          "\n"
          "Exit status: 0 on success, 2 on a usage error or if any trace could not\n"
          "be read (the readable ones are still compared).\n", f);
}

struct side {
    struct ct_report r;
    uint64_t cow, fresh, tracked, causes[CT_NCAUSES];
    double cow_mib;
    struct ct_type_count *types;
    size_t ntypes;
};

struct type_ab {
    const char *name;
    size_t len;
    uint32_t cause;
    uint64_t a, b;
};

static int load(const char *path, struct side *s)
{
    struct ct_err err;
    memset(s, 0, sizeof *s);
    if (ct_report_build(path, false, &s->r, &err)) {
        fprintf(stderr, "cowtrace: %s: %s\n", path, err.msg);
        return -1;
    }
    for (size_t i = 0; i < s->r.nerrors; i++)
        fprintf(stderr, "cowtrace: %s: %s\n", s->r.errors[i].file, s->r.errors[i].msg);
    for (size_t i = 0; i < s->r.nprocs; i++) {
        const struct ct_proc *p = &s->r.procs[i];
        s->cow += p->cow;
        s->fresh += p->fresh;
        s->tracked += p->tracked;
        s->cow_mib += ct_mib(p->cow, p->t.page_size);
        for (int c = 0; c < CT_NCAUSES; c++)
            s->causes[c] += p->causes[c];
    }
    s->types = ct_report_types(&s->r, &s->ntypes);
    return 0;
}

static void side_free(struct side *s)
{
    free(s->types);
    ct_report_free(&s->r);
}

static int cmp_name(const void *x, const void *y)
{
    const struct type_ab *a = x, *b = y;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->name, b->name, n);
    if (c)
        return c;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return a->cause < b->cause ? -1 : a->cause > b->cause;
}

static int cmp_size(const void *x, const void *y)
{
    const struct type_ab *a = x, *b = y;
    uint64_t ma = a->a > a->b ? a->a : a->b, mb = b->a > b->b ? b->a : b->b;
    if (ma != mb)
        return ma > mb ? -1 : 1;
    return cmp_name(x, y);
}

/* Named types of both sides, joined on (name, cause), largest first. */
static struct type_ab *join_types(const struct side *a, const struct side *b, size_t *np)
{
    struct type_ab *v = xcalloc(a->ntypes + b->ntypes + 1, sizeof *v);
    size_t n = 0;
    for (int side = 0; side < 2; side++) {
        const struct side *s = side ? b : a;
        for (size_t i = 0; i < s->ntypes; i++) {
            if (!s->types[i].name)
                continue;
            v[n] = (struct type_ab){ s->types[i].name, s->types[i].len, s->types[i].cause, 0, 0 };
            *(side ? &v[n].b : &v[n].a) = s->types[i].pages;
            n++;
        }
    }
    qsort(v, n, sizeof *v, cmp_name);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && cmp_name(&v[k - 1], &v[i]) == 0) {
            v[k - 1].a += v[i].a;
            v[k - 1].b += v[i].b;
        } else
            v[k++] = v[i];
    }
    qsort(v, k, sizeof *v, cmp_size);
    *np = k;
    return v;
}

static void ratio(char *buf, size_t len, double a, double b)
{
    if (a > 0)
        snprintf(buf, len, "%.2f", b / a);
    else
        snprintf(buf, len, "-");
}

static void row_pages(FILE *f, const char *label, uint64_t a, uint64_t b)
{
    char r[16];
    ratio(r, sizeof r, (double)a, (double)b);
    fprintf(f, "  %-28s %10llu %10llu %+11lld %7s\n", label, (unsigned long long)a, (unsigned long long)b,
            (long long)(b - a), r);
}

static void print_text(FILE *f, const char *pa, const char *pb, const struct side *a, const struct side *b)
{
    char ca[120], cb[120], r[16];
    ct_text_clean(pa, strlen(pa), ca, sizeof ca);
    ct_text_clean(pb, strlen(pb), cb, sizeof cb);
    fprintf(f, "cowtrace diff: A = %s (%zu process%s), B = %s (%zu process%s)\n\n", ca, a->r.nprocs,
            a->r.nprocs == 1 ? "" : "es", cb, b->r.nprocs, b->r.nprocs == 1 ? "" : "es");
    fprintf(f, "  %-28s %10s %10s %11s %7s\n", "", "A", "B", "DELTA", "B/A");
    ratio(r, sizeof r, a->cow_mib, b->cow_mib);
    fprintf(f, "  %-28s %10.1f %10.1f %+11.1f %7s\n", "COW MiB", a->cow_mib, b->cow_mib, b->cow_mib - a->cow_mib, r);
    row_pages(f, "COW pages", a->cow, b->cow);
    for (int c = 0; c < CT_NCAUSES; c++) {
        if (!a->causes[c] && !b->causes[c])
            continue;
        char label[40];
        snprintf(label, sizeof label, "  %s", ct_cause_name(c));
        row_pages(f, label, a->causes[c], b->causes[c]);
    }
    size_t n;
    struct type_ab *v = join_types(a, b, &n);
    if (n)
        fprintf(f, "\n  top types (COW pages):\n");
    for (size_t i = 0; i < n && i < TOP_TYPES; i++) {
        char name[40], label[64];
        ct_text_clean(v[i].name, v[i].len, name, sizeof name);
        snprintf(label, sizeof label, "  %s (%s)", name, ct_cause_name(v[i].cause));
        row_pages(f, label, v[i].a, v[i].b);
    }
    free(v);
}

static void json_side(FILE *f, const char *path, const struct side *s)
{
    fputs("{\"source\": ", f);
    json_cstr(f, path);
    fprintf(f, ", \"processes\": %zu, \"cow_pages\": %llu, \"cow_mib\": %.3f, \"fresh_pages\": %llu"
               ", \"tracked_pages\": %llu, \"errors\": %zu}",
            s->r.nprocs, (unsigned long long)s->cow, s->cow_mib, (unsigned long long)s->fresh,
            (unsigned long long)s->tracked, s->r.nerrors);
}

static void print_json(FILE *f, const char *pa, const char *pb, const struct side *a, const struct side *b)
{
    fputs("{\"format\": \"cowtrace-diff\", \"version\": 1,\n \"a\": ", f);
    json_side(f, pa, a);
    fputs(",\n \"b\": ", f);
    json_side(f, pb, b);
    fputs(",\n \"causes\": {", f);
    for (int c = 0; c < CT_NCAUSES; c++)
        fprintf(f, "%s\"%s\": {\"a\": %llu, \"b\": %llu}", c ? ", " : "", ct_cause_name(c),
                (unsigned long long)a->causes[c], (unsigned long long)b->causes[c]);
    fputs("},\n \"types\": [", f);
    size_t n;
    struct type_ab *v = join_types(a, b, &n);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ",\n  {\"name\": " : "\n  {\"name\": ", f);
        json_str(f, v[i].name, v[i].len);
        fprintf(f, ", \"cause\": \"%s\", \"a\": %llu, \"b\": %llu}", ct_cause_name(v[i].cause),
                (unsigned long long)v[i].a, (unsigned long long)v[i].b);
    }
    free(v);
    fputs("]}\n", f);
}

int cmd_diff(int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool json = false;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (!strcmp(optarg, "json"))
                json = true;
            else if (!strcmp(optarg, "text"))
                json = false;
            else {
                fprintf(stderr, "cowtrace diff: unknown format '%s' (use text or json)\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'h':
            usage_diff(stdout);
            return 0;
        default:
            if (optopt && strchr("f", optopt))
                fprintf(stderr, "cowtrace diff: option '%s' needs a value\n", argv[optind - 1]);
            else
                fprintf(stderr, "cowtrace diff: unknown option '%s'\n", argv[optind - 1]);
            usage_diff(stderr);
            return EXIT_USAGE;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "cowtrace diff: %s\n", argc - optind < 2 ? "needs two runs, A and B" : "too many arguments");
        usage_diff(stderr);
        return EXIT_USAGE;
    }
    const char *pa = argv[optind], *pb = argv[optind + 1];
    struct side a, b;
    if (load(pa, &a))
        return EXIT_USAGE;
    if (load(pb, &b)) {
        side_free(&a);
        return EXIT_USAGE;
    }
    if (json)
        print_json(stdout, pa, pb, &a, &b);
    else
        print_text(stdout, pa, pb, &a, &b);
    int status = a.r.nerrors || b.r.nerrors ? EXIT_USAGE : 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("cowtrace: writing the diff");
        status = EXIT_USAGE;
    }
    side_free(&a);
    side_free(&b);
    return status;
}
