/*
 * memread.h - how the CPython decoder reads memory.
 *
 * Promise: the decoder (decode.c, frames.c) reads the memory of the process
 * it examines only through a struct ct_memread, so one decoder serves the
 * shim (its own memory, by guarded loads that cannot fault and copy
 * nothing: shim/py/peek.c), the shim's views of bytes it already holds
 * (ct_memview below), and another process (process_vm_readv:
 * memread_remote.c, for an analyzer that examines a running server).
 *
 * read() copies len bytes at addr into dst and returns 0, or returns -1
 * and leaves dst unspecified. It must be async-signal-safe when the
 * decoder runs in a signal handler (the shim's readers are).
 */
#ifndef COWTRACE_MEMREAD_H
#define COWTRACE_MEMREAD_H

#include <stddef.h>
#include <stdint.h>

struct ct_memread {
    int (*read)(void *ctx, uintptr_t addr, void *dst, size_t len);
    void *ctx;
};

static inline int ct_mem_read(const struct ct_memread *m, uintptr_t addr, void *dst, size_t len)
{
    return m->read(m->ctx, addr, dst, len);
}

static inline int ct_mem_u64(const struct ct_memread *m, uintptr_t addr, uint64_t *v)
{
    return m->read(m->ctx, addr, v, sizeof *v);
}

/* A window of bytes already in hand (the page being written, a sample
 * copied out in a batch), read in place; reads outside it go to `outside`
 * (which may have a NULL read: then they fail). */
struct ct_memview {
    uintptr_t base;
    size_t len;
    const uint8_t *data;
    const struct ct_memread *outside;
};

int ct_memview_read(void *view, uintptr_t addr, void *dst, size_t len);

static inline struct ct_memread ct_memview_reader(struct ct_memview *v)
{
    return (struct ct_memread){ct_memview_read, v};
}

/* Another process's memory by process_vm_readv (memread_remote.c). It pins the
 * pages it reads, which copies a page a fork still shares: `cowtrace
 * snapshot` reads /proc/PID/mem through its own reader instead. */
struct ct_memread_remote {
    int pid;
};
int ct_memread_remote_read(void *remote, uintptr_t addr, void *dst, size_t len);

static inline struct ct_memread ct_memread_remote(struct ct_memread_remote *r)
{
    return (struct ct_memread){ct_memread_remote_read, r};
}

#endif
