/*
 * fuzz_trace.c - a libFuzzer target for the trace reader and every
 * registered output format (render.h) with the options it accepts, and the
 * diff of each format that has one. Built with clang's -fsanitize=fuzzer
 * when the compiler has it (build/analyzer/tests/fuzz-trace CORPUS_DIR);
 * otherwise built as a plain program that runs the files given on its
 * command line through the same function, to replay a crashing input
 * found elsewhere.
 *
 * Replaying, each input goes through every combination of options of
 * every format. Fuzzing, each input goes through one combination per
 * format, chosen by the input's bytes: executions stay fast, and the
 * fuzzer reaches every combination by mutating the input as it reaches
 * every code path.
 */
#include <stdio.h>
#include <stdlib.h>

#include "analysis.h"
#include "render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef CT_LIBFUZZER
static const bool every_combination = false;
#else
static const bool every_combination = true;
#endif

/* A number from the input's bytes, to pick option combinations by. */
static size_t input_hash(const uint8_t *data, size_t size)
{
    size_t h = size;
    for (size_t i = 0; i < size; i += 1 + i / 16)
        h = h * 31 + data[i];
    return h;
}

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
    /* Listing a hostile 2^28 pages one by one is slow, not wrong. */
    bool pages = p.cow + p.fresh < (1u << 20);
    /* Module files named by a hostile input are not opened: the fuzzer
     * tests the reader and the renderers, not the machine's files. */
    const struct ct_load_opts lo = { .keep_pages = true, .resolve = true, .open_files = false };
    struct ct_run r;
    ct_run_of_proc(&r, "fuzz", &p, &lo);
    struct ct_diff d;
    ct_diff_build(&r, &r, &d);
    for (size_t i = 0; ct_renderers[i]; i++) {
        const struct ct_renderer *R = ct_renderers[i];
        size_t count = ct_render_opts_count(R);
        size_t first = every_combination ? 0 : input_hash(data, size) % count;
        for (size_t n = first; n < (every_combination ? count : first + 1); n++) {
            struct ct_render_opts o = ct_render_opts_nth(R, n);
            o.pages = o.pages && pages;
            R->run(devnull, &r, &o);
        }
        if (R->diff)
            R->diff(devnull, &d);
    }
    ct_diff_free(&d);
    ct_run_free(&r);
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
