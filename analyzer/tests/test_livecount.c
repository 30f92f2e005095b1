/*
 * test_livecount.c - the counts `cowtrace watch` takes with its memo of
 * copied ranges (ct_live_count_siblings_memo) against the counts read page
 * by page (ct_live_count_siblings), on a real parent and worker.
 *
 * Promise: fails if, after any step, the two disagree in shared, copied
 * or fresh pages; if the worker's copies are not seen at all; or if, with
 * frame numbers (root) and KSM off, the memo never counted a page (it
 * would then only ever cost, never save). The steps move pages every way
 * the memo must follow: more pages copied (contiguous and scattered),
 * copied pages dropped (MADV_DONTNEED: absent), then read again (the
 * shared zero page), a range unmapped and mapped anew, and the parent
 * dropping pages the worker had copied.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "livecount.h"
#include "procmem.h"

#define PAGES 8192u

static size_t psize;

static void touch(uint8_t *base, size_t from, size_t to, size_t step, uint8_t v)
{
    for (size_t i = from; i < to; i += step)
        base[i * psize] = v;
}

/* The worker: one command byte at a time, then an acknowledgement. */
static void worker(uint8_t *area, int cmd, int ack)
{
    char c;
    volatile uint8_t sink = 0;
    while (read(cmd, &c, 1) == 1) {
        switch (c) {
        case '1':
            touch(area, 0, 2048, 1, 7);                 /* contiguous copies */
            touch(area, 2048, 4096, 3, 7);              /* scattered */
            break;
        case '2':
            madvise(area + 100 * psize, 100 * psize, MADV_DONTNEED);   /* copies dropped */
            touch(area, 4096, 6000, 1, 9);
            munmap(area + 300 * psize, 100 * psize);
            mmap(area + 300 * psize, 100 * psize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                 -1, 0);
            touch(area, 300, 400, 1, 1);                /* its own pages where the parent has some */
            break;
        case '3':
            for (size_t i = 100; i < 150; i++)          /* the shared zero page */
                sink += area[i * psize];
            touch(area, 8000, PAGES, 1, 3);
            break;
        case '4':
            break;                                      /* the parent moved */
        }
        if (write(ack, "k", 1) != 1)
            _exit(1);
    }
    (void)sink;
    _exit(0);
}

int main(void)
{
    psize = (size_t)sysconf(_SC_PAGESIZE);
    bool exact = geteuid() == 0;
    int cmd[2], ack[2], pcmd[2];
    if (pipe(cmd) || pipe(ack) || pipe(pcmd))
        return 1;
    /* The parent: its memory, one worker forked from it, then it only
     * waits (so its own pages stay put while it is counted), but for a
     * command to drop some of its pages. */
    pid_t parent = fork();
    if (parent == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);       /* a test that dies leaves nothing running */
        uint8_t *area = mmap(NULL, PAGES * psize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (area == MAP_FAILED)
            _exit(1);
        touch(area, 0, PAGES, 1, 5);
        pid_t w = fork();
        if (w == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            close(pcmd[0]);
            worker(area, cmd[0], ack[1]);
        }
        if (write(ack[1], &w, sizeof w) != sizeof w)
            _exit(1);
        char c;
        while (read(pcmd[0], &c, 1) == 1) {
            madvise(area + 5000 * psize, 200 * psize, MADV_DONTNEED);
            if (write(ack[1], "k", 1) != 1)
                _exit(1);
        }
        kill(w, SIGKILL);
        _exit(0);
    }
    pid_t w;
    if (read(ack[0], &w, sizeof w) != sizeof w)
        return 1;
    struct ct_live_proc wp;
    CHECK(ct_live_stat(w, &wp) == 0);
    uint64_t start = wp.start;
    struct ct_live_memo *memo = ct_live_memo_new();
    uint64_t remembered = 0;
    const char *steps = "01234";
    for (const char *s = steps; *s; s++) {
        char c;
        if (*s == '4') {
            if (write(pcmd[1], "d", 1) != 1 || read(ack[0], &c, 1) != 1)
                return 1;
        } else if (*s != '0' && (write(cmd[1], s, 1) != 1 || read(ack[0], &c, 1) != 1))
            return 1;
        /* Twice with the memo: the first may still be learning. */
        for (int twice = 0; twice < 2; twice++) {
            struct ct_live_counts plain, m;
            CHECK(ct_live_count_siblings_memo(memo, parent, &w, &start, 1, exact, &m) == 0);
            CHECK(ct_live_count_siblings(parent, &w, 1, exact, &plain) == 0);
            fprintf(stderr, "step %c: shared %llu copied %llu (%llu remembered) fresh %llu; page by page: shared "
                    "%llu copied %llu fresh %llu\n", *s, (unsigned long long)m.shared,
                    (unsigned long long)m.copied, (unsigned long long)m.remembered, (unsigned long long)m.fresh,
                    (unsigned long long)plain.shared, (unsigned long long)plain.copied,
                    (unsigned long long)plain.fresh);
            CHECK_U64(m.shared, plain.shared);
            CHECK_U64(m.copied, plain.copied);
            CHECK_U64(m.fresh, plain.fresh);
            CHECK(m.error == 0 && plain.error == 0);
            if (*s == '1')
                CHECK(plain.copied >= 2048 + 2048 / 3);
            remembered += m.remembered;
        }
    }
    FILE *ksm = fopen("/sys/kernel/mm/ksm/run", "re");
    int run = 0;
    if (ksm) {
        if (fscanf(ksm, "%d", &run) != 1)
            run = 1;
        fclose(ksm);
    }
    if (exact && !run)
        CHECK(remembered > 0);
    ct_live_memo_free(memo);
    /* Both still hold the pipes' other ends: no EOF will tell them. */
    kill(w, SIGKILL);
    kill(parent, SIGKILL);
    waitpid(parent, NULL, 0);
    return check_failures ? 1 : 0;
}
