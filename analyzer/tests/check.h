/*
 * check.h - the smallest test harness that can fail: CHECK records a
 * failure with file and line and goes on, so one run shows every broken
 * expectation; check_done() turns the count into the exit status meson
 * reads.
 */
#ifndef COWTRACE_CHECK_H
#define COWTRACE_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_failures, check_count;

#define CHECK(cond) do { \
    check_count++; \
    if (!(cond)) { \
        check_failures++; \
        fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    } \
} while (0)

#define CHECK_U64(a, b) do { \
    uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b); \
    check_count++; \
    if (a_ != b_) { \
        check_failures++; \
        fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%" PRIu64 " != %" PRIu64 ")\n", \
                __FILE__, __LINE__, #a, #b, a_, b_); \
    } \
} while (0)

#define CHECK_STR(a, b) do { \
    const char *a_ = (a), *b_ = (b); \
    check_count++; \
    if (strcmp(a_, b_)) { \
        check_failures++; \
        fprintf(stderr, "%s:%d: CHECK failed: %s == \"%s\" (got \"%s\")\n", \
                __FILE__, __LINE__, #a, b_, a_); \
    } \
} while (0)

static inline int check_done(const char *name)
{
    fprintf(stderr, "%s: %d checks, %d failed\n", name, check_count, check_failures);
    return check_failures ? 1 : 0;
}

#endif
