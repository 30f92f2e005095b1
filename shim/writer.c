/*
 * writer.c - the trace file.
 *
 * The file is preallocated with fallocate and mapped MAP_SHARED, so writing a
 * record is a store into the page cache: it survives SIGKILL, costs no system
 * call, and is safe in a signal handler. Writers reserve space with an atomic
 * compare-and-swap and publish a record by storing its type word last; the
 * zero-filled tail reads as the end of the stream. When the file cannot grow
 * (disk full, quota) ordinary records are refused but a small reserve keeps
 * room for the final note and end record.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "ct_shim.h"

#define CT_MAP_CAP (16ull << 30)     /* address space reserved for the view */
#define CT_FIRST_ALLOC (64u << 10)
#define CT_MAX_STEP (8u << 20)
#define CT_FINAL_RESERVE 4096u

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

static char *name_for(char *p, int pid, int n)
{
    p = ct_utoa(p, (unsigned long)pid);
    if (n) {
        *p++ = '.';
        p = ct_utoa(p, (unsigned long)n);
    }
    return ct_stpcpy(p, CT_FILE_SUFFIX);
}

int ct_writer_create(struct ct_writer *w, const struct ct_header *h)
{
    size_t dlen = ct_strlen(ct_cfg.dir);
    if (dlen + 48 > sizeof w->path)
        return -ENAMETOOLONG;
    long fd = -EEXIST;
    for (int n = 0; n < 100 && fd == -EEXIST; n++) {
        char *p = ct_stpcpy(w->path, ct_cfg.dir);
        *p++ = '/';
        name_for(p, h->pid, n);
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

static void grow(struct ct_writer *w, size_t need)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&w->grow_lock, &expected, 1)) {
        /* Another thread is growing the file; let it finish. */
        while (atomic_load(&w->grow_lock))
            ct_sys0(SYS_sched_yield);
        return;
    }
    size_t alloc = atomic_load(&w->alloc);
    if (need + CT_FINAL_RESERVE > alloc && !atomic_load(&w->full)) {
        size_t step = alloc < CT_MAX_STEP ? alloc : CT_MAX_STEP;
        while (alloc + step < need + CT_FINAL_RESERVE)
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
}

void *ct_writer_reserve(struct ct_writer *w, size_t size, int final)
{
    if (!w->map)
        return NULL;
    for (;;) {
        size_t off = atomic_load(&w->used);
        size_t alloc = atomic_load(&w->alloc);
        size_t limit = final ? alloc : alloc - CT_FINAL_RESERVE;
        if (off + size <= limit) {
            if (atomic_compare_exchange_weak(&w->used, &off, off + size))
                return w->map + off;
            continue;
        }
        if (atomic_load(&w->full))
            return NULL;
        grow(w, off + size);
    }
}

void ct_writer_publish(void *rec, uint32_t type, uint32_t size)
{
    struct ct_rec *h = rec;
    h->size = size;
    __atomic_store_n(&h->type, type, __ATOMIC_RELEASE);
}

/* A record holding one string: NOTE and EXEC. */
int ct_writer_string_record(struct ct_writer *w, uint32_t type, uint32_t level, const char *text)
{
    size_t len = ct_strlen(text);
    if (len > 1024)
        len = 1024;
    size_t size = (sizeof(struct ct_rec_note) + 2 + len + 7) & ~(size_t)7;
    struct ct_rec_note *n = ct_writer_reserve(w, size, 1);
    if (!n)
        return -ENOSPC;
    n->level = level;
    uint8_t *s = (uint8_t *)(n + 1);
    s[0] = (uint8_t)(len & 0xff);
    s[1] = (uint8_t)(len >> 8);
    ct_memcpy(s + 2, text, len);
    ct_writer_publish(n, type, (uint32_t)size);
    return 0;
}

int ct_writer_note(struct ct_writer *w, uint32_t level, const char *text)
{
    return ct_writer_string_record(w, CT_REC_NOTE, level, text);
}

void ct_writer_finish(struct ct_writer *w)
{
    int fd = writer_fd(w);
    if (fd >= 0)
        ct_sys2(SYS_ftruncate, fd, (long)atomic_load(&w->used));
}

void ct_writer_abandon(struct ct_writer *w)
{
    if (w->map)
        ct_munmap(w->map, w->map_cap);
    if (w->fd >= 0)
        ct_close(w->fd);
    w->map = NULL;
    w->fd = -1;
}

void ct_writer_page_data(struct ct_writer *w, uintptr_t page, const void *src, uint32_t when)
{
    size_t len = (size_t)ct_cfg.page_size;
    size_t size = sizeof(struct ct_rec_page_data) + len;
    struct ct_rec_page_data *rec = ct_writer_reserve(w, size, 0);
    if (!rec)
        return;
    rec->addr = page;
    rec->when = when;
    rec->len = (uint32_t)len;
    ct_memcpy(rec + 1, src, len);
    ct_writer_publish(rec, CT_REC_PAGE_DATA, (uint32_t)size);
}
