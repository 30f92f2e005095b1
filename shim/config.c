/*
 * config.c - the configuration every process that loads the shim reads
 * once, from the environment (COWTRACE_*, set by `cowtrace run`).
 *
 * Promise: ct_config_read fills ct_cfg, or says in one line what is wrong
 * and returns -1 (the process then runs untraced). It runs in the
 * constructor (entry.c), in the original process, so it may use libc.
 */
#include <errno.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ct_shim.h"

struct ct_config ct_cfg;

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    uintptr_t me = (uintptr_t)data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (me >= lo && me < lo + ph->p_memsz)
            goto found;
    }
    return 0;
found:
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)(ct_cfg.page_size - 1);
        uintptr_t hi = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + ct_cfg.page_size - 1) &
                       ~(uintptr_t)(ct_cfg.page_size - 1);
        if (!ct_cfg.self_start || lo < ct_cfg.self_start)
            ct_cfg.self_start = lo;
        if (hi > ct_cfg.self_end)
            ct_cfg.self_end = hi;
    }
    return 1;
}

static int resolve_dir(const char *dir)
{
    if (dir[0] == '/') {
        if (strlen(dir) >= sizeof ct_cfg.dir)
            return -ENAMETOOLONG;
        strcpy(ct_cfg.dir, dir);
        return 0;
    }
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return -errno;
    if (strlen(cwd) + 1 + strlen(dir) >= sizeof ct_cfg.dir)
        return -ENAMETOOLONG;
    strcpy(ct_cfg.dir, cwd);
    strcat(ct_cfg.dir, "/");
    strcat(ct_cfg.dir, dir);
    return 0;
}

int ct_config_read(void)
{
    ct_cfg.page_size = sysconf(_SC_PAGESIZE);
    ct_cfg.page_shift = __builtin_ctzl((unsigned long)ct_cfg.page_size);
    dl_iterate_phdr(find_self, (void *)(uintptr_t)&ct_config_read);

    /* A backend's name, or auto (NULL: backends.c walks its auto list). */
    const char *mode = getenv("COWTRACE_MODE");
    ct_cfg.requested_backend = NULL;
    if (mode && *mode && strcmp(mode, "auto") != 0 && !(ct_cfg.requested_backend = ct_backend_named(mode))) {
        ct_warn("unknown COWTRACE_MODE", mode, 0);
        return -1;
    }
    const char *flush = getenv("COWTRACE_FLUSH_MS");
    ct_cfg.flush_ms = 100;
    if (flush && *flush) {
        char *end;
        unsigned long v = strtoul(flush, &end, 10);
        if (*end || v > 3600000) {
            ct_warn("bad COWTRACE_FLUSH_MS", flush, 0);
            return -1;
        }
        ct_cfg.flush_ms = (unsigned)v;
    }

    const char *stacks = getenv("COWTRACE_STACKS");
    ct_cfg.stack_mode = 3;
    if (stacks && *stacks) {
        if (!strcmp(stacks, "none") || !strcmp(stacks, "0"))
            ct_cfg.stack_mode = 0;
        else if (!strcmp(stacks, "native"))
            ct_cfg.stack_mode = 1;
        else if (!strcmp(stacks, "python"))
            ct_cfg.stack_mode = 2;
        else if (strcmp(stacks, "both") != 0) {
            ct_warn("bad COWTRACE_STACKS (none, native, python, both)", stacks, 0);
            return -1;
        }
    }
    const char *depth = getenv("COWTRACE_STACK_DEPTH");
    ct_cfg.stack_depth = 32;
    if (depth && *depth) {
        char *end;
        unsigned long v = strtoul(depth, &end, 10);
        if (*end || v < 1 || v > CT_MAX_STACK_DEPTH) {
            ct_warn("bad COWTRACE_STACK_DEPTH (1 to 128)", depth, 0);
            return -1;
        }
        ct_cfg.stack_depth = (int)v;
    }

    const char *capture = getenv("COWTRACE_CAPTURE_PAGES");
    ct_cfg.capture_pages = capture && *capture && strcmp(capture, "0") != 0;

    const char *freeze = getenv("COWTRACE_GC_FREEZE");
    ct_cfg.gc_freeze = freeze && *freeze && strcmp(freeze, "0") != 0;

    const char *dir = getenv("COWTRACE_DIR");
    if (!dir || !*dir)
        dir = "cowtrace.out";
    int r = resolve_dir(dir);
    if (r < 0) {
        ct_warn("trace directory", dir, -r);
        return -1;
    }
    if (access(ct_cfg.dir, W_OK | X_OK) != 0) {
        ct_warn("trace directory", ct_cfg.dir, errno);
        return -1;
    }
    return 0;
}
