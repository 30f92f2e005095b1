/*
 * fakeshim.c - a stand-in for libcowtrace.so, so `cowtrace run` can be
 * tested without the real shim: every process it is preloaded into writes a
 * minimal valid trace, $COWTRACE_DIR/<pid>.cowtrace, recording the mode it
 * was asked for in the mode_reason string and $LD_PRELOAD as the exe string.
 * Never built with sanitizers: it is loaded into /bin/sh.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ct_format.h"

static size_t put_str(uint8_t *p, const char *s)
{
    size_t n = strlen(s);
    if (n > 1000)
        n = 1000;
    p[0] = (uint8_t)n;
    p[1] = (uint8_t)(n >> 8);
    memcpy(p + 2, s, n);
    return 2 + n;
}

__attribute__((constructor)) static void fake_shim(void)
{
    const char *dir = getenv("COWTRACE_DIR");
    const char *mode = getenv("COWTRACE_MODE");
    const char *pre = getenv("LD_PRELOAD");
    if (!dir || !mode || !pre)
        return;
    static uint8_t buf[4096];
    memset(buf, 0, sizeof buf);
    struct ct_header *h = (struct ct_header *)buf;
    memcpy(h->magic, CT_MAGIC, 8);
    h->version = CT_FORMAT_VERSION;
    h->header_size = CT_HEADER_SIZE;
    h->page_size = 4096;
    h->pid = getpid();
    h->ppid = getppid();
    h->mode = CT_MODE_NONE;
    size_t off = CT_HEADER_SIZE;
    struct ct_rec_process *pr = (struct ct_rec_process *)(buf + off);
    size_t n = sizeof *pr;
    n += put_str(buf + off + n, mode);
    n += put_str(buf + off + n, pre);
    n += put_str(buf + off + n, "fake");
    n = (n + 7) & ~(size_t)7;
    pr->h.type = CT_REC_PROCESS;
    pr->h.size = (uint32_t)n;
    off += n;
    struct ct_rec_end *e = (struct ct_rec_end *)(buf + off);
    e->h.type = CT_REC_END;
    e->h.size = sizeof *e;
    e->how = CT_END_EXIT;
    off += sizeof *e;
    char path[4096];
    snprintf(path, sizeof path, "%s/%d.cowtrace", dir, (int)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    ssize_t w = write(fd, buf, off);
    (void)w;
    close(fd);
}
