/*
 * ct_mktrace.c - `ct-mktrace`: write a valid synthetic trace, for tests and
 * for timing `cowtrace report`.
 *
 * Promise: the trace is valid and its counts are known in advance:
 *   tracked = present pages = regions * ceil(region_pages / present_every)
 *   cow     = --dirty D pages, spread evenly over the present pages
 *   fresh   = --fresh F pages, spread evenly over the pages not present
 * (--expect prints them). Spreading evenly makes the dirty set a realistic
 * worst case for the reader: many short runs rather than one long one.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mktrace.h"

#define BASE_ADDR 0x7f0000000000ull
#define PAGE 4096ull
#define MAX_RUNLIST 65536    /* bytes of run list per record, like a shim flushing a buffer */

static void usage(FILE *f)
{
    fputs("usage: ct-mktrace OUT.cowtrace [--pid N] [--ppid N] [--mode uffd-async|uffd|mprotect]\n"
          "                  [--regions N] [--region-pages P] [--present-every K]\n"
          "                  [--dirty D] [--fresh F] [--events] [--exit N | --signal N | --no-end]\n"
          "                  [--expect]\n"
          "Writes a valid synthetic trace: N regions of P pages, every K-th page present\n"
          "at fork, D present pages dirtied (copied) and F non-present pages dirtied\n"
          "(fresh), as WRITTEN run lists or, with --events, one WRITE event per page.\n"
          "--expect prints the counts a report must show.\n", f);
}

static unsigned long long num(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || !*s || *end || s[0] == '-') {
        fprintf(stderr, "ct-mktrace: %s: bad number '%s'\n", opt, s);
        exit(2);
    }
    return v;
}

/* Is the g-th of n items chosen when k of them are, spread evenly? */
static int chosen(unsigned long long g, unsigned long long k, unsigned long long n)
{
    return n && ((unsigned __int128)(g + 1) * k / n) > ((unsigned __int128)g * k / n);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "pid", required_argument, NULL, 'p' },
        { "ppid", required_argument, NULL, 'P' },
        { "mode", required_argument, NULL, 'm' },
        { "regions", required_argument, NULL, 'r' },
        { "region-pages", required_argument, NULL, 'n' },
        { "present-every", required_argument, NULL, 'k' },
        { "dirty", required_argument, NULL, 'd' },
        { "fresh", required_argument, NULL, 'f' },
        { "events", no_argument, NULL, 'e' },
        { "exit", required_argument, NULL, 'x' },
        { "signal", required_argument, NULL, 's' },
        { "no-end", no_argument, NULL, 'N' },
        { "expect", no_argument, NULL, 'E' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    unsigned long long pid = 1000, ppid = 999, nreg = 4, rpages = 256, every = 1, dirty = 0, fresh = 0;
    unsigned long long exitcode = 0, sig = 0;
    int events = 0, noend = 0, expect = 0;
    uint32_t mode = CT_MODE_UFFD_ASYNC;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': pid = num("--pid", optarg); break;
        case 'P': ppid = num("--ppid", optarg); break;
        case 'm':
            if (!strcmp(optarg, "uffd-async")) mode = CT_MODE_UFFD_ASYNC;
            else if (!strcmp(optarg, "uffd")) mode = CT_MODE_UFFD;
            else if (!strcmp(optarg, "mprotect")) mode = CT_MODE_MPROTECT;
            else {
                fprintf(stderr, "ct-mktrace: bad mode '%s'\n", optarg);
                return 2;
            }
            break;
        case 'r': nreg = num("--regions", optarg); break;
        case 'n': rpages = num("--region-pages", optarg); break;
        case 'k': every = num("--present-every", optarg); break;
        case 'd': dirty = num("--dirty", optarg); break;
        case 'f': fresh = num("--fresh", optarg); break;
        case 'e': events = 1; break;
        case 'x': exitcode = num("--exit", optarg); break;
        case 's': sig = num("--signal", optarg); break;
        case 'N': noend = 1; break;
        case 'E': expect = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    if (!pid || pid > 0x7fffffff || ppid > 0x7fffffff || !every || !nreg || !rpages || nreg > 100000
        || rpages > (1ull << 32) || exitcode > 255 || sig > 64) {
        fprintf(stderr, "ct-mktrace: value out of range\n");
        return 2;
    }
    unsigned long long present_per = (rpages + every - 1) / every;
    unsigned long long tp = nreg * present_per, np = nreg * rpages - tp;
    if (dirty > tp || fresh > np) {
        fprintf(stderr, "ct-mktrace: asked for %llu dirty of %llu present pages and %llu fresh of %llu "
                        "non-present pages\n", dirty, tp, fresh, np);
        return 2;
    }

    struct mkt m;
    mkt_init(&m, (int32_t)pid, (int32_t)ppid, mode, PAGE);
    mkt_process(&m, mode, "synthetic trace from ct-mktrace", "/usr/bin/python3", "python3");
    uint64_t stride = (rpages + 16) * PAGE;   /* a 16-page hole between regions */
    for (uint64_t i = 0; i < nreg; i++)
        mkt_region(&m, (uint32_t)i, i == 0 ? CT_KIND_HEAP : CT_KIND_ANON, BASE_ADDR + i * stride,
                   BASE_ADDR + i * stride + rpages * PAGE, mode, i == 0 ? "[heap]" : "");

    struct mkt_runs pr, wr;
    for (uint64_t i = 0; i < nreg; i++) {
        mkt_runs_init(&pr, 0);
        for (uint64_t p = 0; p < rpages; p += every) {
            mkt_runs_add(&pr, p, 1);
            if (mkt_runs_bytes(&pr) >= MAX_RUNLIST)
                mkt_runs_flush(&m, &pr, CT_REC_PRESENT, (uint32_t)i, pr.run_start + pr.run_len);
        }
        mkt_runs_flush(&m, &pr, CT_REC_PRESENT, (uint32_t)i, 0);
        mkt_runs_free(&pr);
    }

    /* Dirty pages, in address order: present ones chosen among present,
     * others among non-present. */
    uint64_t gp = 0, gn = 0;
    for (uint64_t i = 0; i < nreg; i++) {
        uint64_t base = BASE_ADDR + i * stride;
        mkt_runs_init(&wr, 0);
        for (uint64_t p = 0; p < rpages; p++) {
            int hit = p % every == 0 ? chosen(gp++, dirty, tp) : chosen(gn++, fresh, np);
            if (!hit)
                continue;
            if (events) {
                mkt_write(&m, base + p * PAGE + 8 * (p % 512), 0x401000 + p % 64, (uint32_t)pid, 0);
            } else {
                mkt_runs_add(&wr, p, 1);
                if (mkt_runs_bytes(&wr) >= MAX_RUNLIST)
                    mkt_runs_flush(&m, &wr, CT_REC_WRITTEN, (uint32_t)i, wr.run_start + wr.run_len);
            }
        }
        if (!events)
            mkt_runs_flush(&m, &wr, CT_REC_WRITTEN, (uint32_t)i, 0);
        mkt_runs_free(&wr);
    }
    if (sig)
        mkt_set_reap(&m, (int32_t)sig);
    else if (!noend)
        mkt_end(&m, CT_END_EXIT, (int32_t)exitcode);
    if (mkt_save(&m, argv[optind]) < 0) {
        fprintf(stderr, "ct-mktrace: %s: %s\n", argv[optind], strerror(errno));
        return 1;
    }
    mkt_free(&m);
    if (expect)
        printf("tracked=%llu cow=%llu fresh=%llu\n", tp, dirty, fresh);
    return 0;
}
