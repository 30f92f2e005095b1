/*
 * procmem.c - see procmem.h. /proc/PID/stat is parsed from the last ')'
 * (a command name may hold spaces and parentheses); pagemap is read in
 * chunks, and with PAGEMAP_SCAN (Linux 6.7+) first asked which ranges are
 * present at all, so a sparse 1 GiB arena costs a few system calls rather
 * than 2 MiB of zero entries.
 */
#include "procmem.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel_compat.h"
#include "util.h"

int ct_live_stat(pid_t pid, struct ct_live_proc *out)
{
    char path[64], buf[1024];
    memset(out, 0, sizeof *out);
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    int e = n < 0 ? -errno : 0;
    close(fd);
    if (n <= 0)
        return e ? e : -ENOENT;
    buf[n] = 0;
    char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
    if (!open_paren || !close_paren || close_paren < open_paren)
        return -EINVAL;
    size_t clen = (size_t)(close_paren - open_paren - 1);
    if (clen >= sizeof out->comm)
        clen = sizeof out->comm - 1;
    memcpy(out->comm, open_paren + 1, clen);
    out->comm[clen] = 0;
    /* After ") ": field 3 (state) onwards; ppid is field 4, starttime 22. */
    char *p = close_paren + 1;
    while (*p == ' ')
        p++;
    out->state = *p;
    unsigned long long v[20];
    int field = 3, got = 0;
    while (*p && field <= 22) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        char *end = p;
        while (*end && *end != ' ')
            end++;
        if (field == 4 || field == 22)
            v[got++] = strtoull(p, NULL, 10);
        field++;
        p = end;
    }
    if (got != 2)
        return -EINVAL;
    out->pid = pid;
    out->ppid = (pid_t)v[0];
    out->start = v[1];
    out->uid = sb.st_uid;
    return 0;
}

bool ct_live_same(const struct ct_live_proc *p)
{
    struct ct_live_proc now;
    return ct_live_stat(p->pid, &now) == 0 && now.start == p->start;
}

bool ct_live_exited(const struct ct_live_proc *p)
{
    struct ct_live_proc now;
    return ct_live_stat(p->pid, &now) != 0 || now.start != p->start || now.state == 'Z' || now.state == 'X';
}

uint64_t ct_live_start_realtime_ns(uint64_t start_ticks)
{
    /* The boot time does not change: read once. */
    static unsigned long long btime;
    if (!btime) {
        FILE *f = fopen("/proc/stat", "re");
        char line[256];
        unsigned long long v = 0;
        while (f && fgets(line, sizeof line, f))
            if (sscanf(line, "btime %llu", &v) == 1)
                break;
        if (f)
            fclose(f);
        btime = v;
    }
    long hz = sysconf(_SC_CLK_TCK);
    if (!btime || hz <= 0)
        return 0;
    return btime * 1000000000ull + start_ticks * (1000000000ull / (uint64_t)hz);
}

int ct_live_owner(pid_t pid, uid_t *uid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    int r = -EINVAL;
    unsigned long real;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Uid: %lu", &real) == 1) {
            *uid = (uid_t)real;
            r = 0;
            break;
        }
    fclose(f);
    return r;
}

size_t ct_live_tree(const struct ct_live_proc *roots, size_t nroots, struct ct_live_proc **out)
{
    struct ct_live_proc *all = NULL;
    size_t nall = 0, cap = 0;
    DIR *d = opendir("/proc");
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!isdigit((unsigned char)de->d_name[0]))
                continue;
            struct ct_live_proc p;
            if (ct_live_stat((pid_t)atoi(de->d_name), &p) != 0)
                continue;
            if (nall == cap) {
                cap = cap ? 2 * cap : 256;
                all = xreallocarray(all, cap, sizeof *all);
            }
            all[nall++] = p;
        }
        closedir(d);
    }
    struct ct_live_proc *v = xcalloc(nroots + nall + 1, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < nroots; i++)
        v[n++] = roots[i];
    /* Breadth first: each listed process's children, once. A child starts
     * after its parent: a process older than the one its ppid now names is
     * the orphan of an earlier process of that pid, not a child. */
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < nall; i++) {
            if (all[i].ppid != v[k].pid || all[i].start < v[k].start)
                continue;
            bool dup = false;
            for (size_t j = 0; j < n && !dup; j++)
                dup = v[j].pid == all[i].pid;
            if (!dup)
                v[n++] = all[i];
        }
    free(all);
    *out = v;
    return n;
}

static uint32_t parse_prot(const char *perm)
{
    return (perm[0] == 'r' ? PROT_READ : 0) | (perm[1] == 'w' ? PROT_WRITE : 0) | (perm[2] == 'x' ? PROT_EXEC : 0);
}

int ct_live_maps(pid_t pid, struct ct_vma **out, size_t *n)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    *out = NULL;
    *n = 0;
    if (!f)
        return -errno;
    struct ct_vma *v = NULL;
    size_t cnt = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    int err = 0;
    while ((len = getline(&line, &lcap, f)) > 0) {
        unsigned long long start, end, offset, inode;
        char perm[8];
        unsigned dmaj, dmin;
        int name_at = 0;
        if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perm, &offset, &dmaj, &dmin, &inode,
                   &name_at) < 7 || end <= start || strlen(perm) < 4)
            continue;
        if (cnt == cap) {
            cap = cap ? 2 * cap : 64;
            v = xreallocarray(v, cap, sizeof *v);
        }
        char *name = line + (name_at > 0 && name_at <= len ? name_at : len);
        size_t nl = strcspn(name, "\n");
        v[cnt] = (struct ct_vma){
            .start = start, .end = end, .offset = offset, .inode = inode,
            .prot = parse_prot(perm), .private_ = perm[3] == 'p',
            .name = xmalloc(nl + 1),
        };
        memcpy(v[cnt].name, name, nl);
        v[cnt].name[nl] = 0;
        cnt++;
    }
    if (ferror(f))
        err = -EIO;
    free(line);
    fclose(f);
    if (err || !cnt) {
        ct_live_maps_free(v, cnt);
        /* An empty maps file: a zombie, or a process we may not look into
         * (the kernel shows an empty file rather than failing). */
        return err ? err : -EACCES;
    }
    *out = v;
    *n = cnt;
    return 0;
}

void ct_live_maps_free(struct ct_vma *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
}

bool ct_vma_cow(const struct ct_vma *v)
{
    return v->private_ && (v->prot & PROT_WRITE) && strcmp(v->name, "[vsyscall]") != 0;
}

bool ct_vma_inherited(const struct ct_vma *q, const struct ct_vma *w)
{
    if (!ct_vma_cow(q) || !ct_vma_cow(w) || q->inode != w->inode || strcmp(q->name, w->name) != 0)
        return false;
    return q->inode == 0 || q->offset - q->start == w->offset - w->start;
}

int ct_pagemap_open(pid_t pid, struct ct_pagemap *pm)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/pagemap", (int)pid);
    pm->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (pm->fd < 0)
        return -errno;
    /* Does PAGEMAP_SCAN work here? An empty range answers without looking
     * at any page. */
    struct pm_scan_arg a = {
        .size = sizeof a, .start = 0, .end = 0, .category_mask = PAGE_IS_PRESENT,
        .return_mask = PAGE_IS_PRESENT,
    };
    pm->scan = ioctl(pm->fd, PAGEMAP_SCAN, &a) >= 0;
    return 0;
}

void ct_pagemap_close(struct ct_pagemap *pm)
{
    if (pm->fd >= 0)
        close(pm->fd);
    pm->fd = -1;
}

static int read_entries(int fd, uint64_t start, uint64_t end, unsigned shift, uint64_t *e)
{
    uint64_t first = start >> shift, count = (end - start) >> shift;
    size_t want = count * sizeof *e, done = 0;
    while (done < want) {
        ssize_t r = pread(fd, (char *)e + done, want - done, (off_t)(first * sizeof *e + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0) {
            memset((char *)e + done, 0, want - done);   /* beyond the address space: nothing */
            break;
        }
        done += (size_t)r;
    }
    return 0;
}

#define SCAN_REGIONS 512

int ct_pagemap_read(struct ct_pagemap *pm, uint64_t start, uint64_t end, unsigned page_shift, uint64_t *e)
{
    if (end <= start)
        return 0;
    if (!pm->scan)
        return read_entries(pm->fd, start, end, page_shift, e);
    memset(e, 0, ((end - start) >> page_shift) * sizeof *e);
    struct page_region regs[SCAN_REGIONS];
    uint64_t at = start;
    while (at < end) {
        struct pm_scan_arg a = {
            .size = sizeof a, .start = at, .end = end, .vec = (uintptr_t)regs, .vec_len = SCAN_REGIONS,
            .category_mask = PAGE_IS_PRESENT, .return_mask = PAGE_IS_PRESENT | PAGE_IS_PFNZERO,
        };
        long n = ioctl(pm->fd, PAGEMAP_SCAN, &a);
        if (n < 0)
            return read_entries(pm->fd, at, end, page_shift, e + ((at - start) >> page_shift));
        for (long i = 0; i < n; i++) {
            /* The shared zero page (a read of memory never written): no
             * one's page. This kernel's pagemap calls it exclusively
             * mapped; left out, it reads as absent. */
            if (regs[i].categories & PAGE_IS_PFNZERO)
                continue;
            uint64_t s = regs[i].start < at ? at : regs[i].start, t = regs[i].end > end ? end : regs[i].end;
            if (t > s) {
                int r = read_entries(pm->fd, s, t, page_shift, e + ((s - start) >> page_shift));
                if (r)
                    return r;
            }
        }
        /* walk_end: where the kernel stopped (the whole range, or a full vector). */
        if (!a.walk_end || a.walk_end <= at)
            break;
        at = a.walk_end;
    }
    return 0;
}

enum ct_page_class ct_page_classify(uint64_t w, uint64_t p, bool exact)
{
    if (!(w & CT_PM_PRESENT))
        return CT_PAGE_ABSENT;
    bool parent = (p & CT_PM_PRESENT) != 0, alone = (w & CT_PM_EXCLUSIVE) != 0;
    if (exact && parent)
        return (w & CT_PM_PFN_MASK) == (p & CT_PM_PFN_MASK) ? CT_PAGE_SHARED : CT_PAGE_COPIED;
    if (alone)
        return parent ? CT_PAGE_COPIED : CT_PAGE_FRESH;
    /* Mapped by others too: the parent's page, or (parent absent) the zero
     * page or a page the worker shares with its own children only. */
    return parent ? CT_PAGE_SHARED : CT_PAGE_ABSENT;
}

/* Where the executable is mapped (its offset-0 mapping), or 0. */
static uint64_t exe_base(pid_t pid, const char *exe)
{
    struct ct_vma *maps;
    size_t n;
    uint64_t base = 0;
    if (ct_live_maps(pid, &maps, &n))
        return 0;
    for (size_t i = 0; i < n && !base; i++)
        if (maps[i].offset == 0 && !strcmp(maps[i].name, exe))
            base = maps[i].start;
    ct_live_maps_free(maps, n);
    return base;
}

/* Was a forked from b without running a program since? /proc says no
 * exec time; but an exec maps the program anew, at another address (ASLR),
 * while a fork keeps the parent's. So: the same executable at the same
 * address. (Without ASLR an exec of the same program would pass; its
 * mappings would then rarely be the parent's, page for page.) */
bool ct_live_forked_from(pid_t a, pid_t b)
{
    char la[64], lb[64], ea[4096], eb[4096];
    snprintf(la, sizeof la, "/proc/%d/exe", (int)a);
    snprintf(lb, sizeof lb, "/proc/%d/exe", (int)b);
    ssize_t na = readlink(la, ea, sizeof ea - 1), nb = readlink(lb, eb, sizeof eb - 1);
    if (na <= 0 || na != nb || memcmp(ea, eb, (size_t)na))
        return false;
    ea[na] = 0;
    uint64_t base = exe_base(a, ea);
    return base && base == exe_base(b, ea);
}
