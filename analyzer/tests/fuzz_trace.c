/*
 * fuzz_trace.c - a libFuzzer target for the trace reader and both report
 * renderings. Built with clang's -fsanitize=fuzzer when the compiler has it
 * (build/analyzer/tests/fuzz-trace CORPUS_DIR); otherwise built as a plain
 * program that runs the files given on its command line through the same
 * function, to replay a crashing input found elsewhere.
 */
#include <stdio.h>
#include <stdlib.h>

#include "analysis.h"
#include "report.h"
#include "symbolize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    struct ct_trace t;
    struct ct_err err;
    if (ct_trace_parse("fuzz", data, size, &t, &err))
        return 0;
    struct ct_proc p;
    ct_analyze(&t, true, &p);
    struct ct_report r = { .source = (char *)"fuzz", .procs = &p, .nprocs = 1 };
    /* Listing a hostile 2^28 pages one by one is slow, not wrong. */
    bool pages = p.cow + p.fresh < (1u << 20);
    /* Module files named by a hostile input are not opened: the fuzzer
     * tests the reader and the renderings, not the machine's files. */
    ct_report_resolve(&r, false);
    ct_report_json(devnull, &r, CT_JSON_STACKS | (pages ? CT_JSON_PAGES : 0));
    ct_report_text(devnull, &r, pages);
    ct_report_folded(devnull, &r, CT_FRAMES_AUTO, CT_LEAF_BOTH);
    ct_report_folded(devnull, &r, CT_FRAMES_BOTH, CT_LEAF_NONE);
    ct_proc_free(&p);
    ct_symbolizer_free(r.sym);
    return 0;
}

#ifndef CT_LIBFUZZER
int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 2;
        }
        static uint8_t buf[64 << 20];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
        printf("%s: ok\n", argv[i]);
    }
    return 0;
}
#endif
