/*
 * forkrace - a parent that writes its memory the moment fork() returns.
 *
 * usage: forkrace N SNAPSHOT
 *
 * Maps region A of N pages (every page touched, MADV_NOHUGEPAGE), then,
 * just before fork(), writes to SNAPSHOT its own /proc/self/pagemap words of
 * every private writable mapping: "START NPAGES" and NPAGES hexadecimal
 * words per mapping, one per line. A page the child has copied since has
 * another frame number in the child than there.
 *
 * After fork() the parent at once writes one byte to every page of A, from
 * the last page down, so that each copy it makes turns the page exclusive in
 * the child while a tracer may still be reading which pages the child itself
 * wrote; then it prints "PARENT DONE" and waits for the child. The child
 * writes nothing of A, prints
 *
 *     READY <childpid> <A addr> <N> <thread pointer> <rseq offset> <rseq size>
 *
 * and waits for a line (or end of file) on stdin, so that a harness can read
 * its pagemap while it is alive. Exit status: the child's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));

static void die(const char *what)
{
    perror(what);
    exit(2);
}

/* Mappings are listed first; the words go to a buffer allocated (and
 * touched) after, then to the file. The snapshot covers the mappings as
 * listed: memory mapped by the snapshot itself is not in it. */
static void snapshot(const char *path, size_t psz)
{
    static char maps[1 << 20];
    static uint64_t ranges[65536][2];
    FILE *out = fopen(path, "w");
    if (!out)
        die("forkrace: snapshot file");
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        die("forkrace: /proc/self/maps");
    size_t len = fread(maps, 1, sizeof maps - 1, f);
    fclose(f);
    maps[len] = 0;
    size_t nr = 0, total = 0;
    for (char *line = maps; *line && nr < 65536;) {
        char *eol = strchr(line, '\n');
        unsigned long lo, hi;
        char perms[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && perms[1] == 'w' && perms[3] == 'p') {
            ranges[nr][0] = lo;
            ranges[nr][1] = hi;
            total += (hi - lo) / psz;
            nr++;
        }
        if (!eol)
            break;
        line = eol + 1;
    }
    uint64_t *words = malloc(total * sizeof *words + 1);
    if (!words)
        die("forkrace: malloc");
    memset(words, 0, total * sizeof *words);
    int pm = open("/proc/self/pagemap", O_RDONLY);
    if (pm < 0)
        die("forkrace: /proc/self/pagemap");
    size_t used = 0;
    for (size_t i = 0; i < nr; i++) {
        size_t n = (ranges[i][1] - ranges[i][0]) / psz;
        if (pread(pm, words + used, n * 8, (off_t)(ranges[i][0] / psz * 8)) != (ssize_t)(n * 8))
            die("forkrace: pread pagemap");
        used += n;
    }
    close(pm);
    used = 0;
    for (size_t i = 0; i < nr; i++) {
        size_t n = (ranges[i][1] - ranges[i][0]) / psz;
        fprintf(out, "%" PRIx64 " %zu\n", ranges[i][0], n);
        for (size_t k = 0; k < n; k++)
            fprintf(out, "%" PRIx64 "\n", words[used + k]);
        used += n;
    }
    if (fclose(out))
        die("forkrace: snapshot file");
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: forkrace N SNAPSHOT\n");
        return 2;
    }
    size_t n = strtoull(argv[1], NULL, 0);
    size_t psz = (size_t)sysconf(_SC_PAGESIZE);
    char *a = mmap(NULL, n * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED)
        die("forkrace: mmap");
    if (madvise(a, n * psz, MADV_NOHUGEPAGE) != 0)
        die("forkrace: madvise(MADV_NOHUGEPAGE)");
    for (size_t i = 0; i < n; i++)
        a[i * psz] = (char)(i | 1);
    snapshot(argv[2], psz);
    fflush(stdout);

    pid_t pid = fork();
    if (pid < 0)
        die("forkrace: fork");
    if (pid == 0) {
        uintptr_t tp = (uintptr_t)__builtin_thread_pointer();
        long off = &__rseq_offset ? (long)__rseq_offset : 0;
        unsigned size = &__rseq_size ? __rseq_size : 0;
        printf("READY %d 0x%lx %zu 0x%lx %ld %u\n", (int)getpid(), (unsigned long)a, n, (unsigned long)tp, off,
               size);
        fflush(stdout);
        char line[64];
        (void)!fgets(line, sizeof line, stdin);
        _exit(0);
    }
    for (size_t i = n; i-- > 0;)
        a[i * psz + 1] = 1;
    printf("PARENT DONE\n");
    fflush(stdout);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die("forkrace: waitpid");
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 2;
}
