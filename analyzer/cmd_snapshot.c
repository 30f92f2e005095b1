/*
 * cmd_snapshot.c - `cowtrace snapshot`: a running process tree, read
 * without stopping it, as trace files of mode snapshot.
 *
 * Promise: every PID given is checked before anything is written: one that
 * does not exist or cannot be read is a one-line error naming it and why,
 * exit 2, and no file. Then each process of the tree (the PIDs, and their
 * descendants unless --no-children) is compared with its parent
 * (snapshot.h) into one trace file; a process that has gone, a descendant
 * that cannot be read, and one whose pid now names another process (its
 * start time changed: before it was read, or while it was, then its file
 * is removed) are skipped with a note on stderr and, with -o, a line in
 * the listing; one that exits while it is read keeps its file, marked
 * incomplete, and a note says so. With -o the files stay in DIR (report
 * and diff read them); without it they go to a private temporary
 * directory, the text report is printed from it, and it is removed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "lowprio.h"
#include "procmem.h"
#include "snapshot.h"
#include "testhook.h"
#include "util.h"

#define CMD "cowtrace snapshot"

void usage_snapshot(FILE *f)
{
    fputs("usage: cowtrace snapshot [-o DIR] [--no-children] [--priority idle|normal]\n"
          "                         PID...\n"
          "\n"
          "Examine running processes without stopping them: each PID (typically a\n"
          "prefork master: gunicorn, uWSGI, Celery, a multiprocessing pool) and its\n"
          "descendants. Every process is compared with its parent, page by page:\n"
          "pages still shared, pages it copied (copy-on-write), pages it allocated\n"
          "fresh; and why each page was copied, from the words that differ between\n"
          "its copy and the parent's page (reference count, gc, object fields,\n"
          "allocator, interpreter), with the object types, as `cowtrace report`\n"
          "shows them. Pages that differ in no word (a reference taken and\n"
          "released) get an inferred cause, marked as such.\n"
          "\n"
          "  -o, --output DIR  write one trace file per process into DIR (created if\n"
          "                    missing), for `cowtrace report` and `cowtrace diff`;\n"
          "                    without it, print the text report\n"
          "      --no-children only the PIDs given, not their descendants\n"
          "      --priority idle|normal  idle (default): run at the lowest CPU priority\n"
          "                    (SCHED_IDLE, else nice 19) and the idle I/O class, so\n"
          "                    the server's workers always win a core over it; on a\n"
          "                    saturated machine the snapshot then takes longer.\n"
          "                    normal: the priority it was started with\n"
          "  -h, --help        show this help\n"
          "\n"
          "It only reads: /proc/PID/maps, /proc/PID/pagemap and the memory through\n"
          "/proc/PID/mem (process_vm_readv would pin, and so copy, shared pages); no\n"
          "library is preloaded, no process is stopped or signalled. As root the\n"
          "comparison is exact (page frame numbers). As the processes' own user frame\n"
          "numbers read as zero: a page counts as copied when only this process maps it,\n"
          "so a page shared with a sibling but not with the parent counts as shared (the\n"
          "report says so). A snapshot cannot know which write came first, its stack, or\n"
          "which pages the parent itself wrote after the fork.\n"
          "\n"
          "With two CPUs or more it uses threads, at the same priority: one per CPU\n"
          "for the workers' page maps, and one that reads pages ahead of the comparison.\n"
          "\n"
          "A process that exits while it is read keeps its file, marked incomplete; one\n"
          "that exits before, or whose pid is taken by another process meanwhile (start\n"
          "times differ), is skipped with a note. A process that is not Python gets its\n"
          "page sets only, and the report says so.\n"
          "\n"
          "Exit status: 0 on success; 2 on a usage error, or when a PID does not exist\n"
          "or cannot be read (then nothing is written).\n", f);
}

static int parse_pid(const char *s, pid_t *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v <= 0 || v > 0x3fffffff)
        return -1;
    *out = (pid_t)v;
    return 0;
}

static int make_dir(const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, CMD ": %s: cannot create the directory: %s\n", dir, strerror(errno));
        return -1;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, CMD ": %s: not a directory\n", dir);
        return -1;
    }
    return 0;
}

/* With -o, processes skipped are listed on stdout too, among those written,
 * so the listing names every process of the tree. */
static bool list_skipped;

/* A process of the tree not read after all: a note on stderr (and the
 * listing's line). */
static void skipped(const struct ct_live_proc *p, const char *why)
{
    fprintf(stderr, CMD ": PID %d: %s: skipped\n", (int)p->pid, why);
    if (list_skipped)
        printf("pid %d (%s): skipped: %s\n", (int)p->pid, p->comm, why);
}

static void print_mib(FILE *f, const char *what, uint64_t pages, long psize)
{
    fprintf(f, " %s %.1f MiB", what, (double)pages * (double)psize / 1048576.0);
}

#define MAX_SIBLINGS 16

struct sibling_batch {
    size_t n;
    struct ct_live_proc procs[MAX_SIBLINGS], parent;
    struct ct_snap_result res[MAX_SIBLINGS];
    char why[MAX_SIBLINGS][512];
};

/* Before p is read: is it still the process listed (not exited, its pid
 * not taken by another), readable, and which parent is it compared with?
 * false: skipped (said so). */
static bool snapshot_prepare(const struct ct_live_proc *p, bool root, struct ct_live_proc *parent, bool *has_parent)
{
    char why[512];
    *has_parent = false;
    ct_test_pause(CT_PAUSE_LISTED, p->pid);
    struct ct_live_proc now;
    if (ct_live_stat(p->pid, &now) != 0) {
        skipped(p, "exited before it was read");
        return false;
    }
    if (now.start != p->start) {
        skipped(p, "its pid now names another process (another start time)");
        return false;
    }
    if (!root && ct_snapshot_check(p, why, sizeof why)) {
        skipped(p, why);
        return false;
    }
    if (ct_live_stat(p->ppid, parent) == 0 && parent->start <= p->start && ct_live_forked_from(p->pid, p->ppid) &&
        ct_snapshot_check(parent, why, sizeof why) == 0)
        *has_parent = true;
    return true;
}

/* After p's file was written (rc 0) or not: an error (then -1), or a file
 * to drop or none (path emptied), with a note on stderr either way. */
static int snapshot_written(const struct ct_live_proc *p, const struct ct_live_proc *pp, struct ct_snap_result *res,
                            int rc, const char *why)
{
    if (rc && ct_live_exited(p)) {
        res->path[0] = 0;
        skipped(p, "exited before it was read");
        return 0;
    }
    if (rc) {
        fprintf(stderr, CMD ": PID %d: %s\n", (int)p->pid, why);
        return -1;
    }
    /* The pid still names the process read? If another one took it
     * meanwhile, the file mixes two processes: drop it. */
    struct ct_live_proc now;
    if (ct_live_stat(p->pid, &now) == 0 && now.start != p->start) {
        unlink(res->path);
        res->path[0] = 0;
        skipped(p, "its pid was taken by another process while it was read");
        return 0;
    }
    if (res->incomplete)
        fprintf(stderr, CMD ": PID %d: exited while it was read: %s is marked incomplete\n", (int)p->pid,
                list_skipped ? res->path : "its snapshot");
    if (pp && pp->pid && !ct_live_same(pp))
        fprintf(stderr, CMD ": PID %d: its parent %d exited while it was read\n", (int)p->pid, (int)pp->pid);
    return 0;
}

static void print_result(const struct ct_live_proc *p, const struct ct_snap_result *res, long psize)
{
    printf("pid %d (%s)%s:", (int)p->pid, p->comm, res->incomplete ? " incomplete" : "");
    if (res->compared) {
        print_mib(stdout, "shared", res->shared, psize);
        print_mib(stdout, "copied", res->copied, psize);
        print_mib(stdout, "fresh", res->fresh, psize);
    } else
        printf(" not compared (no parent running the same program)");
    printf("%s -> %s\n", res->python ? "" : " [not Python]", res->path);
}

int cmd_snapshot(int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' },
        { "no-children", no_argument, NULL, 'C' },
        { "priority", required_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = NULL;
    bool children = true;
    int prio = CT_PRIORITY_IDLE;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            dir = optarg;
            break;
        case 'C':
            children = false;
            break;
        case 'P':
            if (ct_opt_enum(CMD, "priority", optarg, ct_priority_names, &prio))
                return EXIT_USAGE;
            break;
        case 'h':
            usage_snapshot(stdout);
            return 0;
        default:
            return ct_opt_error(CMD, argv, "oP", usage_snapshot);
        }
    }
    if (optind == argc) {
        fprintf(stderr, CMD ": missing PID (the process to examine)\n");
        usage_snapshot(stderr);
        return EXIT_USAGE;
    }
    ct_lower_priority((enum ct_priority)prio);
    size_t nroots = (size_t)(argc - optind);
    struct ct_live_proc *roots = xcalloc(nroots, sizeof *roots);
    char why[512];
    for (size_t i = 0; i < nroots; i++) {
        const char *arg = argv[optind + (int)i];
        pid_t pid;
        if (parse_pid(arg, &pid)) {
            fprintf(stderr, CMD ": '%s' is not a process id\n", arg);
            free(roots);
            return EXIT_USAGE;
        }
        int r = ct_live_stat(pid, &roots[i]);
        if (r == -ENOENT || r == -ESRCH) {
            fprintf(stderr, CMD ": PID %d: no such process\n", (int)pid);
            free(roots);
            return EXIT_USAGE;
        }
        if (r) {
            fprintf(stderr, CMD ": PID %d: cannot read /proc/%d/stat (%s)\n", (int)pid, (int)pid, strerror(-r));
            free(roots);
            return EXIT_USAGE;
        }
        if (ct_snapshot_check(&roots[i], why, sizeof why)) {
            fprintf(stderr, CMD ": PID %d: %s\n", (int)pid, why);
            free(roots);
            return EXIT_USAGE;
        }
    }

    char tmpdir[] = "/tmp/cowtrace-snapshot.XXXXXX";
    if (dir) {
        if (make_dir(dir)) {
            free(roots);
            return EXIT_USAGE;
        }
    } else if (!mkdtemp(tmpdir)) {
        fprintf(stderr, CMD ": cannot create a temporary directory: %s\n", strerror(errno));
        free(roots);
        return EXIT_USAGE;
    }
    const char *out = dir ? dir : tmpdir;

    struct ct_live_proc *procs;
    size_t nprocs = children ? ct_live_tree(roots, nroots, &procs) : nroots;
    if (!children) {
        procs = roots;
        roots = NULL;
    }
    bool exact = ct_snapshot_exact();
    long psize = sysconf(_SC_PAGESIZE);
    int status = 0;
    char **written = xcalloc(nprocs + 1, sizeof *written);
    size_t nwritten = 0;
    list_skipped = dir != NULL;
    struct sibling_batch batch;
    /* Workers of one master are written together (snapshot.h: the master's
     * copy of a page is read once for all of them), in the order listed. */
    for (size_t i = 0; i < nprocs;) {
        batch.n = 0;
        bool has_parent = false;
        pid_t ppid = procs[i].ppid;
        for (; i < nprocs && procs[i].ppid == ppid; i++) {
            const struct ct_live_proc *p = &procs[i];
            struct ct_live_proc parent;
            bool hp;
            if (!snapshot_prepare(p, i < nroots, &parent, &hp))
                continue;
            if (batch.n && (hp != has_parent || batch.n == MAX_SIBLINGS))
                break;
            has_parent = hp;
            batch.parent = parent;
            batch.procs[batch.n++] = *p;
        }
        if (!batch.n)
            continue;
        int rc[MAX_SIBLINGS];
        ct_snapshot_write_siblings(batch.procs, batch.n, has_parent ? &batch.parent : NULL, out, exact, batch.res,
                                   rc, batch.why[0], sizeof batch.why[0]);
        for (size_t k = 0; k < batch.n; k++) {
            const struct ct_live_proc *p = &batch.procs[k];
            if (snapshot_written(p, has_parent ? &batch.parent : NULL, &batch.res[k], rc[k], batch.why[k])) {
                status = EXIT_USAGE;
                continue;
            }
            if (!batch.res[k].path[0])
                continue;
            written[nwritten++] = xstrdup(batch.res[k].path);
            if (dir)
                print_result(p, &batch.res[k], psize);
        }
    }
    if (!dir) {
        if (nwritten) {
            char *rargv[] = { "report", tmpdir, NULL };
            int r = cmd_report(2, rargv);
            if (r)
                status = r;
        }
        for (size_t i = 0; i < nwritten; i++)
            unlink(written[i]);
        rmdir(tmpdir);
    }
    for (size_t i = 0; i < nwritten; i++)
        free(written[i]);
    free(written);
    free(procs);
    free(roots);
    return status;
}
