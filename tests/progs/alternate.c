/*
 * alternate - a workload whose copy-on-write is known page by page.
 *
 * usage: alternate N M
 *
 * Maps region A of N pages (every page touched, so present at fork) and
 * region B of M pages (untouched), both MADV_NOHUGEPAGE, then forks. The
 * child writes every other page of A (pages 0, 2, 4, ...: copied on write)
 * and every other page of B (first populated after fork: "fresh"), prints
 *
 *     READY <childpid> <A addr> <N> <B addr> <M>
 *
 * and waits until its stdin reaches end of file or a line, so that a harness
 * can read both processes' /proc/PID/pagemap while the child is alive. The
 * parent waits for the child and exits with the child's exit status (or 128 +
 * the signal number).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static char *map_region(size_t pages, size_t psz)
{
    if (pages == 0)
        return NULL;
    char *p = mmap(NULL, pages * psz, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("alternate: mmap");
        exit(2);
    }
    if (madvise(p, pages * psz, MADV_NOHUGEPAGE) != 0) {
        perror("alternate: madvise(MADV_NOHUGEPAGE)");
        exit(2);
    }
    return p;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: alternate N M\n");
        return 2;
    }
    size_t n = strtoull(argv[1], NULL, 0);
    size_t m = strtoull(argv[2], NULL, 0);
    size_t psz = (size_t)sysconf(_SC_PAGESIZE);

    char *a = map_region(n, psz);
    char *b = map_region(m, psz);
    for (size_t i = 0; i < n; i++)
        a[i * psz] = (char)(i | 1);     /* present and non-zero at fork */

    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("alternate: fork");
        return 2;
    }
    if (pid == 0) {
        for (size_t i = 0; i < n; i += 2)
            a[i * psz + 7] = (char)(i + 2);
        for (size_t i = 0; i < m; i += 2)
            b[i * psz + 9] = (char)(i + 3);
        /* verify what was written, so a tracker that loses a write is seen */
        for (size_t i = 0; i < n; i++) {
            char want = (i % 2 == 0) ? (char)(i + 2) : 0;
            if (a[i * psz] != (char)(i | 1) || a[i * psz + 7] != want) {
                fprintf(stderr, "alternate: child: page %zu of A holds wrong data\n", i);
                _exit(3);
            }
        }
        printf("READY %d 0x%lx %zu 0x%lx %zu\n", (int)getpid(), (unsigned long)a, n,
               (unsigned long)b, m);
        fflush(stdout);
        char line[64];
        (void)!fgets(line, sizeof line, stdin);
        _exit(0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            perror("alternate: waitpid");
            return 2;
        }
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 2;
}
