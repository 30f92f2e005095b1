/*
 * testhook.c - see testhook.h. One pause per run: the first time the point
 * and pid match; later matches pass (a test wants one fault, not a stall
 * at every sample of `watch`).
 */
#include "testhook.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ct_test_pause(const char *point, pid_t pid)
{
    static bool done;
    const char *v = getenv("COWTRACE_TEST_PAUSE");
    if (done || !v)
        return;
    size_t plen = strlen(point);
    if (strncmp(v, point, plen) || v[plen] != ':')
        return;
    char *end;
    long want = strtol(v + plen + 1, &end, 10);
    if (end == v + plen + 1 || *end != ':' || want != (long)pid || !end[1])
        return;
    const char *fifo = end + 1;
    done = true;
    char msg[96];
    int n = snprintf(msg, sizeof msg, "%s %d\n", point, (int)pid);
    int fd = open(fifo, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t w;
    do
        w = write(fd, msg, (size_t)n);
    while (w < 0 && errno == EINTR);
    close(fd);
    fd = open(fifo, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[64];
    ssize_t r;
    do
        r = read(fd, buf, sizeof buf);
    while (r > 0 || (r < 0 && errno == EINTR));
    close(fd);
}

bool ct_test_one_thread(void)
{
    const char *v = getenv("COWTRACE_TEST_ONE_THREAD");
    return v && !strcmp(v, "1");
}
