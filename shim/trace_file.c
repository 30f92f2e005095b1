/*
 * trace_file.c - the trace file (see trace_file.h for the promise).
 *
 * The file is preallocated with fallocate and mapped MAP_SHARED, so writing a
 * record is a store into the page cache: it survives SIGKILL, costs no system
 * call, and is safe in a signal handler. Writers reserve space with an atomic
 * compare-and-swap and publish a record by storing its type word last; the
 * zero-filled tail reads as the end of the stream. When the file cannot grow
 * (disk full, quota) ordinary records are refused but a small reserve keeps
 * room for the final note and end record. A memory writer is the same minus
 * the file: its buffer is all it will ever have.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "sys.h"
#include "trace_file.h"

#define CT_MAP_CAP (16ull << 30)     /* address space reserved for the view */
#define CT_FIRST_ALLOC (64u << 10)
#define CT_MAX_STEP (8u << 20)

static int fstat_ids(int fd, uint64_t *dev, uint64_t *ino)
{
    struct stat sb;
    long r = ct_sys2(SYS_fstat, fd, &sb);
    if (ct_is_err(r))
        return (int)r;
    *dev = sb.st_dev;
    *ino = sb.st_ino;
    return 0;
}

/* The program may close our descriptor (close_range, closefrom) and reuse the
 * number for a file of its own. Never resize a file that is not ours. */
static int writer_fd(struct ct_writer *w)
{
    uint64_t dev, ino;
    if (fstat_ids(w->fd, &dev, &ino) == 0 && dev == w->dev && ino == w->ino)
        return w->fd;
    long fd = ct_openat(AT_FDCWD, w->path, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
    if (ct_is_err(fd))
        return (int)fd;
    if (fstat_ids((int)fd, &dev, &ino) != 0 || dev != w->dev || ino != w->ino) {
        ct_close((int)fd);
        return -ESTALE;
    }
    w->fd = (int)fd;
    return w->fd;
}

static long extend(int fd, size_t from, size_t len)
{
    long r = ct_sys4(SYS_fallocate, fd, 0, (long)from, (long)len);
    if (r == -EOPNOTSUPP || r == -ENOSYS)   /* no reservation possible: just size it */
        r = ct_sys2(SYS_ftruncate, fd, (long)(from + len));
    return r;
}

int ct_trace_name(char *out, size_t cap, const char *dir, int pid, int n)
{
    /* dir, '/', two numbers of at most 10 digits, '.', the suffix, NUL */
    if (ct_strlen(dir) + 48 > cap)
        return -ENAMETOOLONG;
    char *p = ct_stpcpy(out, dir);
    *p++ = '/';
    p = ct_utoa(p, (unsigned long)pid);
    if (n) {
        *p++ = '.';
        p = ct_utoa(p, (unsigned long)n);
    }
    ct_stpcpy(p, CT_FILE_SUFFIX);
    return 0;
}

int ct_writer_create(struct ct_writer *w, const char *dir, const struct ct_header *h)
{
    w->in_memory = 0;
    long fd = -EEXIST;
    for (int n = 0; n < CT_TRACE_NAME_TRIES && fd == -EEXIST; n++) {
        int r = ct_trace_name(w->path, sizeof w->path, dir, h->pid, n);
        if (r)
            return r;
        /* O_EXCL|O_CREAT never follows a symlink; O_NOFOLLOW says so twice. */
        fd = ct_openat(AT_FDCWD, w->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    }
    if (ct_is_err(fd))
        return (int)fd;
    w->fd = (int)fd;
    long r = fstat_ids(w->fd, &w->dev, &w->ino);
    if (r == 0)
        r = extend(w->fd, 0, CT_FIRST_ALLOC);
    if (r == 0) {
        w->map = ct_mmap(NULL, CT_MAP_CAP, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, w->fd, 0);
        if (!w->map)
            r = -ENOMEM;
    }
    if (r != 0) {
        ct_sys1(SYS_unlink, w->path);
        ct_close(w->fd);
        w->fd = -1;
        return (int)r;
    }
    w->map_cap = CT_MAP_CAP;
    atomic_store(&w->alloc, CT_FIRST_ALLOC);
    ct_memcpy(w->map, h, sizeof *h);
    atomic_store(&w->used, sizeof *h);
    return 0;
}

void ct_writer_init_memory(struct ct_writer *w, void *buf, size_t cap, const struct ct_header *h)
{
    ct_memset(buf, 0, cap);
    ct_writer_init_zeroed(w, buf, cap, h);
}

void ct_writer_init_zeroed(struct ct_writer *w, void *buf, size_t cap, const struct ct_header *h)
{
    w->fd = -1;
    w->in_memory = 1;
    w->dev = w->ino = 0;
    w->path[0] = 0;
    w->map = buf;
    w->map_cap = cap;
    atomic_store(&w->grow_lock, 0);
    atomic_store(&w->full, 0);
    size_t used = cap;   /* too small for a header: nothing fits */
    if (cap >= sizeof *h) {
        ct_memcpy(buf, h, sizeof *h);
        used = sizeof *h;
    }
    atomic_store(&w->alloc, cap);
    atomic_store(&w->used, used);
}

/* 0 when the caller may try again, -1 when it must not wait: the lock is
 * held by this very thread, interrupted while growing by a signal whose
 * handler (the program's, then our fault handler) now writes a record.
 * Waiting for itself would hang the program; the record is refused. */
static int grow(struct ct_writer *w, size_t need)
{
    int tid = ct_gettid();
    int expected = 0;
    if (!atomic_compare_exchange_strong(&w->grow_lock, &expected, tid)) {
        if (expected == tid)
            return -1;
        /* Another thread is growing the file; let it finish. */
        while (atomic_load(&w->grow_lock))
            ct_sys0(SYS_sched_yield);
        return 0;
    }
    size_t alloc = atomic_load(&w->alloc);
    if (w->in_memory) {
        atomic_store(&w->full, 1);   /* a caller's buffer does not grow */
    } else if (need + CT_WRITER_FINAL_RESERVE > alloc && !atomic_load(&w->full)) {
        size_t step = alloc < CT_MAX_STEP ? alloc : CT_MAX_STEP;
        while (alloc + step < need + CT_WRITER_FINAL_RESERVE)
            step += CT_MAX_STEP;
        int fd = writer_fd(w);
        long r = fd < 0 ? fd : -ENOSPC;
        if (alloc + step <= w->map_cap && fd >= 0)
            r = extend(fd, alloc, step);
        if (r == 0)
            atomic_store(&w->alloc, alloc + step);
        else
            atomic_store(&w->full, 1);
    }
    atomic_store(&w->grow_lock, 0);
    return 0;
}

void *ct_writer_reserve(struct ct_writer *w, size_t size, int final)
{
    if (!w->map)
        return NULL;
    for (;;) {
        size_t off = atomic_load(&w->used);
        size_t alloc = atomic_load(&w->alloc);
        size_t limit = final ? alloc : alloc > CT_WRITER_FINAL_RESERVE ? alloc - CT_WRITER_FINAL_RESERVE : 0;
        if (off + size <= limit) {
            if (atomic_compare_exchange_weak(&w->used, &off, off + size))
                return w->map + off;
            continue;
        }
        if (atomic_load(&w->full) || grow(w, off + size))
            return NULL;
    }
}

void ct_writer_publish(void *rec, uint32_t type, uint32_t size)
{
    struct ct_rec *h = rec;
    h->size = size;
    __atomic_store_n(&h->type, type, __ATOMIC_RELEASE);
}

size_t ct_writer_used(struct ct_writer *w)
{
    return atomic_load(&w->used);
}

void ct_writer_finish(struct ct_writer *w)
{
    if (w->in_memory)
        return;
    int fd = writer_fd(w);
    if (fd >= 0)
        ct_sys2(SYS_ftruncate, fd, (long)atomic_load(&w->used));
}

void ct_writer_abandon(struct ct_writer *w)
{
    if (w->map && !w->in_memory)
        ct_munmap(w->map, w->map_cap);
    if (w->fd >= 0)
        ct_close(w->fd);
    w->map = NULL;
    w->fd = -1;
}

/* ---- the reap slot --------------------------------------------------------- */

void ct_trace_mark_reaped(const char *dir, int pid, int parent, int status)
{
    char path[PATH_MAX];
    for (int n = 0; n < CT_TRACE_NAME_TRIES; n++) {
        if (ct_trace_name(path, sizeof path, dir, pid, n))
            return;
        long fd = ct_openat(AT_FDCWD, path, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
        if (ct_is_err(fd))
            return;
        struct ct_header h;
        long got = ct_pread((int)fd, &h, sizeof h, 0);
        int match = got == (long)sizeof h && !ct_strncmp(h.magic, CT_MAGIC, 8) && h.pid == pid &&
                    h.ppid == parent && h.reap_magic != CT_REAP_MAGIC;
        if (match) {
            uint32_t slot[2] = {CT_REAP_MAGIC, (uint32_t)status};
            ct_pwrite((int)fd, slot, sizeof slot, CT_HEADER_REAP_OFFSET);
        }
        ct_close((int)fd);
        if (match)
            return;
    }
}
