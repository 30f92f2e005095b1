/*
 * frames.h - a thread's Python stack and its code objects, read from the
 * interpreter's structures (never by calling into Python).
 *
 * Promise: every pointer is read through the decoder's struct ct_memread,
 * so a stale or torn frame chain gives a shorter stack, not a fault; walks
 * are bounded (interpreters, threads, frames). How frames chain is the
 * version's enum ct_pychain, switched here only.
 */
#ifndef COWTRACE_PYVER_FRAMES_H
#define COWTRACE_PYVER_FRAMES_H

#include "ct_format.h"
#include "decode.h"

/* The PyThreadState of the native thread tid, whose pthread_self() is
 * pthread (3.9 and 3.10 know a thread only by that; 0: unknown), or 0.
 * runtime is &_PyRuntime. */
uintptr_t ct_py_thread_state(const struct ct_pydecoder *d, uintptr_t runtime, int tid, uint64_t pthread);

/* The innermost frames of thread state ts, innermost first, into out[max]
 * (code, lasti in code units, CT_PYFRAME_ENTRY). Returns how many (0 when
 * the thread has no current frame); sets *truncated when frames were left. */
int ct_py_frames(const struct ct_pydecoder *d, uintptr_t ts, struct ct_pyframe *out, int max, int *truncated);

/* A compact ASCII str's text into out (at most cap bytes); its length, or 0
 * when it is not one or cannot be read. */
size_t ct_py_read_ascii(const struct ct_pydecoder *d, uintptr_t str, char *out, size_t cap);

/* What a code object says of itself. */
struct ct_pycodeinfo {
    uintptr_t filename, qualname, linetable;   /* str, str, bytes objects */
    int32_t firstlineno;
};
int ct_py_read_code(const struct ct_pydecoder *d, uintptr_t code, struct ct_pycodeinfo *out);

/* A bytes object's length (-1 when unreadable), and where its data starts. */
int64_t ct_py_bytes_len(const struct ct_pydecoder *d, uintptr_t bytes);
uintptr_t ct_py_bytes_data(const struct ct_pydecoder *d, uintptr_t bytes);

#endif
