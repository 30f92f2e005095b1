/*
 * cmd_watch.c - `cowtrace watch`: a timeline of a running process tree.
 *
 * Promise: read-only like snapshot (procmem.h, livecount.h; snapshot.h for
 * causes). The PID is checked before anything starts (no such process,
 * another user's, unreadable: one line naming it, exit 2), and so are the
 * outputs (the HTTP port in use, an unwritable directory: exit 2). Then,
 * every interval, each process of the tree that was forked from its parent
 * (a worker) is counted against that parent: shared, copied and fresh
 * bytes, from the page maps alone. Every Nth sample, and at once on
 * SIGUSR1, the workers are snapshotted into a private temporary directory
 * instead, which adds the copied bytes by cause (and is removed). A worker
 * that appears is picked up; one that exits (or whose pid now names
 * another process) is reported gone, once. Each sample is written whole:
 * its JSON lines with one write(2) to DIR/timeline.jsonl, the textfile by
 * temp file and rename, the HTTP body swapped at once; so SIGINT/SIGTERM,
 * handled between samples, always leave complete output (exit 0).
 * The schema of timeline.jsonl is in docs/trace-format.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cause.h"
#include "cli.h"
#include "jsonw.h"
#include "livecount.h"
#include "lowprio.h"
#include "procmem.h"
#include "promserve.h"
#include "run.h"
#include "snapshot.h"
#include "strbuf.h"
#include "testhook.h"
#include "textsafe.h"
#include "util.h"

#define CMD "cowtrace watch"
#define DEFAULT_INTERVAL 5.0
/* Causes cost a snapshot (the copied pages read and compared): every 60th
 * sample (5 minutes at the default interval) keeps watch's average cost
 * near that of the page counts alone. */
#define DEFAULT_CAUSES_EVERY 60

void usage_watch(FILE *f)
{
    fputs("usage: cowtrace watch [--interval SECONDS] [--prometheus HOST:PORT]\n"
          "                      [--textfile FILE] [-o DIR] [--causes-every N]\n"
          "                      [--priority idle|normal] PID\n"
          "\n"
          "Follow a running process tree (a prefork master and its workers: gunicorn,\n"
          "uWSGI, Celery, a multiprocessing pool) without stopping it. Every interval,\n"
          "for each worker (each process of the tree forked from its parent): bytes\n"
          "still shared with the parent, copied (copy-on-write), and allocated fresh,\n"
          "from the page maps alone. Every Nth sample, and at once on SIGUSR1, a\n"
          "snapshot adds why the copied bytes were copied (reference count, gc, ...).\n"
          "Workers that appear are picked up; workers that exit are reported gone.\n"
          "\n"
          "  -i, --interval SECONDS   time between samples (default 5; 0.1 to 86400)\n"
          "  -o, --output DIR         append one JSON object per worker per sample (and\n"
          "                           one per worker gone) to DIR/timeline.jsonl\n"
          "  -p, --prometheus HOST:PORT  serve the Prometheus text format on\n"
          "                           http://HOST:PORT/metrics (HOST empty: every\n"
          "                           address; PORT 0: a free port, printed)\n"
          "  -t, --textfile FILE      rewrite FILE (atomically: temp file and rename) with\n"
          "                           the same metrics, for node_exporter's textfile\n"
          "                           collector (name it *.prom in its directory)\n"
          "  -c, --causes-every N     causes every Nth sample (default 60; 0: only on\n"
          "                           SIGUSR1)\n"
          "      --priority idle|normal  idle (default): lowest CPU priority (SCHED_IDLE,\n"
          "                           else nice 19) and idle I/O class, so the workers\n"
          "                           always win a core; on a saturated machine samples\n"
          "                           (and answers to scrapes) come late. normal: as\n"
          "                           started\n"
          "  -h, --help               show this help\n"
          "\n"
          "Metrics (gauges, labels pid, ppid, comm): cowtrace_shared_bytes,\n"
          "cowtrace_copied_bytes, cowtrace_fresh_bytes; cowtrace_copied_bytes_by_cause\n"
          "(label cause too) from the latest sample with causes. Without any output\n"
          "option a line per worker per sample goes to standard output.\n"
          "\n"
          "As root the comparison is exact (page frame numbers); as the processes' own\n"
          "user a page counts as copied when only the worker maps it (see `cowtrace\n"
          "snapshot --help`). SIGINT or SIGTERM stops it with every output complete.\n"
          "\n"
          "Exit status: 0 when stopped by a signal or when PID exits; 2 on a usage error,\n"
          "when PID does not exist or cannot be read, or an output cannot be opened or\n"
          "written.\n", f);
}

struct worker {
    struct ct_live_proc p;
    bool watched;             /* forked from its parent, readable */
    bool seen;                /* in this sample's tree */
    bool sampled;             /* counts below are this sample's */
    bool have_causes;
    bool causes_now;          /* this sample's, not an earlier one's */
    bool count_now;           /* to be counted from the page maps in this sample */
    uint64_t shared, copied, fresh;             /* bytes */
    uint64_t causes[CT_NCAUSES];                /* bytes, from the latest snapshot */
};

struct watch {
    struct ct_live_proc root;
    double interval;
    unsigned causes_every;
    bool exact;
    uint64_t page_size;
    const char *dir, *textfile;
    int jsonl_fd;
    char *jsonl_path, *text_tmp;
    struct ct_promserve *server;
    struct worker *w;
    size_t nw, capw;
    uint64_t samples;
    bool quiet_stdout;        /* some output option given */
    struct ct_live_memo *memo; /* each worker's copied ranges between samples (livecount.h) */
};

static double unix_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct worker *find_worker(struct watch *s, const struct ct_live_proc *p)
{
    for (size_t i = 0; i < s->nw; i++)
        if (s->w[i].p.pid == p->pid && s->w[i].p.start == p->start)
            return &s->w[i];
    return NULL;
}

/* ---- outputs ---------------------------------------------------------------- */

static int write_all(int fd, const char *b, size_t n)
{
    while (n) {
        ssize_t r = write(fd, b, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

static void json_head(FILE *f, double t, const char *event, const struct worker *w)
{
    fprintf(f, "{\"t\":%.3f,\"event\":\"%s\",\"pid\":%d,\"ppid\":%d,\"comm\":", t, event, (int)w->p.pid,
            (int)w->p.ppid);
    json_cstr(f, w->p.comm);
    fprintf(f, ",\"start\":%.2f", (double)ct_live_start_realtime_ns(w->p.start) / 1e9);
}

static void json_sample(FILE *f, double t, const struct worker *w, bool with_causes)
{
    json_head(f, t, "sample", w);
    fprintf(f, ",\"shared_bytes\":%llu,\"copied_bytes\":%llu,\"fresh_bytes\":%llu", (unsigned long long)w->shared,
            (unsigned long long)w->copied, (unsigned long long)w->fresh);
    if (with_causes) {
        fputs(",\"causes\":{", f);
        for (int c = 0; c < CT_NCAUSES; c++)
            fprintf(f, "%s\"%s\":%llu", c ? "," : "", ct_cause_name((enum ct_cause)c),
                    (unsigned long long)w->causes[c]);
        fputc('}', f);
    }
    fputs("}\n", f);
}

/* Without an output option: a line per worker per sample on standard
 * output, for a person (time of day, MiB, the name cleaned as the text
 * report cleans it), written at once with write(2) so a pipe sees each
 * sample when it is taken. -1 with errno when it cannot be written. */
static int stdout_lines(const struct watch *s, double t)
{
    struct strbuf b;
    sb_init(&b);
    char when[16] = "", comm[256];
    time_t secs = (time_t)t;
    struct tm tm;
    if (localtime_r(&secs, &tm))
        strftime(when, sizeof when, "%H:%M:%S", &tm);
    for (size_t i = 0; i < s->nw; i++) {
        const struct worker *w = &s->w[i];
        ct_text_clean(w->p.comm, strlen(w->p.comm), comm, sizeof comm);
        if (w->sampled) {
            sb_addf(&b, "%s pid %d (%s): shared %.1f MiB, copied %.1f MiB, fresh %.1f MiB", when, (int)w->p.pid,
                    comm, (double)w->shared / 1048576.0, (double)w->copied / 1048576.0, (double)w->fresh / 1048576.0);
            const char *sep = "; copied by cause:";
            for (int c = 0; w->causes_now && c < CT_NCAUSES; c++)
                if (w->causes[c]) {
                    sb_addf(&b, "%s %s %.1f MiB", sep, ct_cause_name((enum ct_cause)c), (double)w->causes[c] / 1048576.0);
                    sep = ",";
                }
            sb_adds(&b, "\n");
        } else if (!w->seen && w->watched)
            sb_addf(&b, "%s pid %d (%s): gone\n", when, (int)w->p.pid, comm);
    }
    int r = b.len ? write_all(STDOUT_FILENO, b.s, b.len) : 0;
    sb_free(&b);
    return r;
}

/* A label value: printable UTF-8 (textsafe.h), then the exposition
 * format's escapes for backslash, double quote and newline. */
static void label_value(struct strbuf *b, const char *s)
{
    char clean[256];
    ct_text_clean(s, strlen(s), clean, sizeof clean);
    for (const char *p = clean; *p; p++) {
        if (*p == '\\' || *p == '"')
            sb_add(b, "\\", 1);
        if (*p == '\n')
            sb_adds(b, "\\n");
        else
            sb_add(b, p, 1);
    }
}

static void labels(struct strbuf *b, const struct worker *w)
{
    sb_addf(b, "{pid=\"%d\",ppid=\"%d\",comm=\"", (int)w->p.pid, (int)w->p.ppid);
    label_value(b, w->p.comm);
    sb_adds(b, "\"");
}

static const struct {
    const char *name, *help;
} gauges[] = {
    { "cowtrace_shared_bytes", "Bytes of a worker's private writable memory still shared with its parent." },
    { "cowtrace_copied_bytes", "Bytes a worker copied on write: its own pages where its parent has a page." },
    { "cowtrace_fresh_bytes", "Bytes a worker allocated itself: its own pages where its parent has none." },
};

static void exposition(const struct watch *s, struct strbuf *b)
{
    for (size_t g = 0; g < sizeof gauges / sizeof gauges[0]; g++) {
        sb_addf(b, "# HELP %s %s\n# TYPE %s gauge\n", gauges[g].name, gauges[g].help, gauges[g].name);
        for (size_t i = 0; i < s->nw; i++) {
            const struct worker *w = &s->w[i];
            if (!w->sampled)
                continue;
            uint64_t v = g == 0 ? w->shared : g == 1 ? w->copied : w->fresh;
            sb_adds(b, gauges[g].name);
            labels(b, w);
            sb_addf(b, "} %llu\n", (unsigned long long)v);
        }
    }
    sb_adds(b, "# HELP cowtrace_copied_bytes_by_cause Bytes a worker copied, by why (from its latest snapshot).\n"
               "# TYPE cowtrace_copied_bytes_by_cause gauge\n");
    for (size_t i = 0; i < s->nw; i++) {
        const struct worker *w = &s->w[i];
        if (!w->sampled || !w->have_causes)
            continue;
        for (int c = 0; c < CT_NCAUSES; c++) {
            sb_adds(b, "cowtrace_copied_bytes_by_cause");
            labels(b, w);
            sb_addf(b, ",cause=\"%s\"} %llu\n", ct_cause_name((enum ct_cause)c), (unsigned long long)w->causes[c]);
        }
    }
}

static int write_textfile(const struct watch *s, const struct strbuf *body)
{
    int fd = open(s->text_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return -1;
    int r = write_all(fd, body->s ? body->s : "", body->len);
    if (close(fd) != 0)
        r = -1;
    if (r == 0)
        r = rename(s->text_tmp, s->textfile);
    if (r)
        unlink(s->text_tmp);
    return r;
}

/* ---- sampling ----------------------------------------------------------------- */

/* A worker's shared/copied/fresh and causes, from a snapshot written to
 * tmpdir and read back with the report's own loader. */
static int snapshot_causes(const struct watch *s, struct worker *w, const struct ct_live_proc *parent,
                           const char *tmpdir)
{
    struct ct_snap_result res;
    char why[512];
    if (ct_snapshot_write(&w->p, parent, tmpdir, s->exact, &res, why, sizeof why))
        return -1;
    int rc = -1;
    struct ct_run run;
    struct ct_load_opts lo = {0};
    struct ct_err err;
    if (!res.incomplete && ct_run_load(res.path, &lo, &run, &err) == 0) {
        if (run.nprocs == 1) {
            w->shared = res.shared * s->page_size;
            w->copied = res.copied * s->page_size;
            w->fresh = res.fresh * s->page_size;
            for (int c = 0; c < CT_NCAUSES; c++)
                w->causes[c] = run.procs[0].causes[c] * s->page_size;
            w->have_causes = w->causes_now = true;
            rc = 0;
        }
        ct_run_free(&run);
    }
    unlink(res.path);
    return rc;
}

/* The workers marked count_now, each group of siblings in one lockstep
 * walk (livecount.h). One that cannot be read is left unsampled: it exited
 * (gone at the next sample), or its parent did. */
static void count_siblings(struct watch *s)
{
    pid_t *pids = xcalloc(s->nw + 1, sizeof *pids);
    uint64_t *starts = xcalloc(s->nw + 1, sizeof *starts);
    size_t *idx = xcalloc(s->nw + 1, sizeof *idx);
    struct ct_live_counts *c = xcalloc(s->nw + 1, sizeof *c);
    for (size_t i = 0; i < s->nw; i++) {
        if (!s->w[i].count_now)
            continue;
        pid_t parent = s->w[i].p.ppid;
        size_t n = 0;
        for (size_t j = i; j < s->nw; j++)
            if (s->w[j].count_now && s->w[j].p.ppid == parent) {
                s->w[j].count_now = false;
                idx[n] = j;
                starts[n] = s->w[j].p.start;
                pids[n++] = s->w[j].p.pid;
            }
        if (!s->memo)
            s->memo = ct_live_memo_new();
        if (ct_live_count_siblings_memo(s->memo, parent, pids, starts, n, s->exact, c))
            continue;
        for (size_t k = 0; k < n; k++) {
            struct worker *w = &s->w[idx[k]];
            if (c[k].error)
                continue;
            w->shared = c[k].shared * s->page_size;
            w->copied = c[k].copied * s->page_size;
            w->fresh = c[k].fresh * s->page_size;
            w->sampled = true;
        }
    }
    free(pids);
    free(starts);
    free(idx);
    free(c);
}

/* A process first seen: is it a worker we can watch? */
static void first_sight(struct worker *w)
{
    struct ct_live_proc parent;
    char why[512];
    w->watched = ct_live_stat(w->p.ppid, &parent) == 0 && parent.start <= w->p.start &&
                 ct_live_forked_from(w->p.pid, w->p.ppid);
    if (!w->watched)
        return;                /* a program of its own (exec'd): nothing shared to follow */
    if (ct_snapshot_check(&w->p, why, sizeof why) || ct_snapshot_check(&parent, why, sizeof why)) {
        if (ct_live_same(&w->p))
            fprintf(stderr, CMD ": PID %d (%s): %s: not watched\n", (int)w->p.pid, w->p.comm, why);
        w->watched = false;
    }
}

/* One sample; returns -1 when an output could not be written, 1 when the
 * root has gone, else 0. */
static int sample(struct watch *s, bool causes)
{
    double t = unix_now();
    struct ct_live_proc *tree;
    size_t n = ct_live_tree(&s->root, 1, &tree);
    bool root_gone = ct_live_exited(&s->root);
    if (root_gone)
        n = 0;
    for (size_t i = 0; i < s->nw; i++)
        s->w[i].seen = s->w[i].sampled = s->w[i].causes_now = s->w[i].count_now = false;
    char tmpdir[] = "/tmp/cowtrace-watch.XXXXXX";
    bool have_tmp = causes && n && mkdtemp(tmpdir) != NULL;
    for (size_t i = 0; i < n; i++) {
        if (ct_live_exited(&tree[i]))
            continue;          /* exited (a zombie): gone below if it was watched */
        struct worker *w = find_worker(s, &tree[i]);
        if (!w) {
            if (s->nw == s->capw) {
                s->capw = s->capw ? 2 * s->capw : 16;
                s->w = xreallocarray(s->w, s->capw, sizeof *s->w);
            }
            w = &s->w[s->nw++];
            memset(w, 0, sizeof *w);
            w->p = tree[i];
            first_sight(w);
        }
        w->p.ppid = tree[i].ppid;
        snprintf(w->p.comm, sizeof w->p.comm, "%s", tree[i].comm);   /* a worker may rename itself */
        w->seen = true;
        if (!w->watched)
            continue;
        ct_test_pause(CT_PAUSE_LISTED, w->p.pid);
        struct ct_live_proc parent;
        if (ct_live_stat(w->p.ppid, &parent) != 0)
            continue;
        if (have_tmp && snapshot_causes(s, w, &parent, tmpdir) == 0) {
            w->sampled = true;
            continue;
        }
        w->count_now = true;  /* below, with its siblings */
    }
    count_siblings(s);
    if (have_tmp)
        rmdir(tmpdir);
    free(tree);
    /* A worker that exited while it was counted (a zombie's pagemap reads
     * as no page at all, not as an error) has no sample: gone now. */
    for (size_t i = 0; i < s->nw; i++)
        if (s->w[i].sampled && ct_live_exited(&s->w[i].p))
            s->w[i].sampled = false, s->w[i].seen = false;

    /* Outputs. */
    char *lines = NULL;
    size_t linelen = 0;
    FILE *f = open_memstream(&lines, &linelen);
    if (!f) {
        fprintf(stderr, CMD ": out of memory\n");
        exit(EXIT_USAGE);
    }
    for (size_t i = 0; i < s->nw; i++) {
        const struct worker *w = &s->w[i];
        if (w->sampled)
            json_sample(f, t, w, w->causes_now);
        else if (!w->seen && w->watched)
            json_head(f, t, "gone", w), fputs("}\n", f);
    }
    fclose(f);
    int rc = 0;
    if (s->jsonl_fd >= 0 && write_all(s->jsonl_fd, lines, linelen)) {
        fprintf(stderr, CMD ": writing %s: %s\n", s->jsonl_path, strerror(errno));
        rc = -1;
    }
    if (!s->quiet_stdout && stdout_lines(s, t)) {
        fprintf(stderr, CMD ": writing the samples: %s\n", strerror(errno));
        rc = -1;
    }
    free(lines);
    /* Forget the gone, and processes no longer in the tree. */
    size_t k = 0;
    for (size_t i = 0; i < s->nw; i++)
        if (s->w[i].seen)
            s->w[k++] = s->w[i];
    s->nw = k;
    if (s->server || s->textfile) {
        struct strbuf body;
        sb_init(&body);
        exposition(s, &body);
        if (s->server)
            ct_promserve_set_body(s->server, body.s ? body.s : "", body.len);
        if (s->textfile && write_textfile(s, &body)) {
            fprintf(stderr, CMD ": writing %s: %s\n", s->textfile, strerror(errno));
            rc = -1;
        }
        sb_free(&body);
    }
    s->samples++;
    if (rc == 0 && root_gone)
        rc = 1;
    return rc;
}

/* ---- the command --------------------------------------------------------------- */

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

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* The textfile's temporary twin: same directory (rename stays atomic), a
 * name node_exporter does not read (it reads *.prom). */
static char *temp_twin(const char *file)
{
    const char *slash = strrchr(file, '/');
    size_t dl = slash ? (size_t)(slash - file + 1) : 0;
    size_t n = strlen(file) + 32;
    char *p = xmalloc(n);
    snprintf(p, n, "%.*s.%s.%d.tmp", (int)dl, file, file + dl, (int)getpid());
    return p;
}

static int open_outputs(struct watch *s, const char *prom)
{
    char why[512];
    /* The port first: taken is the likeliest failure, and nothing is on disk yet. */
    if (prom) {
        s->server = ct_promserve_open(prom, why, sizeof why);
        if (!s->server) {
            fprintf(stderr, CMD ": --prometheus %s\n", why);
            return -1;
        }
        fprintf(stderr, CMD ": serving http://%s/metrics\n", ct_promserve_address(s->server));
    }
    if (s->dir) {
        struct stat st;
        if (mkdir(s->dir, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, CMD ": %s: cannot create the directory: %s\n", s->dir, strerror(errno));
            return -1;
        }
        if (stat(s->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, CMD ": %s: not a directory\n", s->dir);
            return -1;
        }
        s->jsonl_path = path_join(s->dir, "timeline.jsonl");
        s->jsonl_fd = open(s->jsonl_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (s->jsonl_fd < 0) {
            fprintf(stderr, CMD ": %s: cannot open: %s\n", s->jsonl_path, strerror(errno));
            return -1;
        }
    }
    if (s->textfile) {
        s->text_tmp = temp_twin(s->textfile);
        int fd = open(s->text_tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) {
            fprintf(stderr, CMD ": --textfile %s: cannot write in its directory: %s\n", s->textfile, strerror(errno));
            return -1;
        }
        close(fd);
        unlink(s->text_tmp);
    }
    return 0;
}

static void close_outputs(struct watch *s)
{
    if (s->jsonl_fd >= 0)
        close(s->jsonl_fd);
    ct_promserve_close(s->server);
    free(s->jsonl_path);
    free(s->text_tmp);
    free(s->w);
    ct_live_memo_free(s->memo);
}

int cmd_watch(int argc, char **argv)
{
    static const struct option opts[] = {
        { "interval", required_argument, NULL, 'i' },
        { "prometheus", required_argument, NULL, 'p' },
        { "textfile", required_argument, NULL, 't' },
        { "output", required_argument, NULL, 'o' },
        { "causes-every", required_argument, NULL, 'c' },
        { "priority", required_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct watch s = {.interval = DEFAULT_INTERVAL, .causes_every = DEFAULT_CAUSES_EVERY, .jsonl_fd = -1};
    const char *prom = NULL;
    int prio = CT_PRIORITY_IDLE;
    char *end;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+i:p:t:o:c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            errno = 0;
            s.interval = strtod(optarg, &end);
            if (errno || end == optarg || *end || s.interval < 0.1 || s.interval > 86400) {
                fprintf(stderr, CMD ": --interval '%s': not a number of seconds from 0.1 to 86400\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'c': {
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || v < 0 || v > 1000000) {
                fprintf(stderr, CMD ": --causes-every '%s': not a whole number from 0 to 1000000\n", optarg);
                return EXIT_USAGE;
            }
            s.causes_every = (unsigned)v;
            break;
        }
        case 'P':
            if (ct_opt_enum(CMD, "priority", optarg, ct_priority_names, &prio))
                return EXIT_USAGE;
            break;
        case 'p':
            prom = optarg;
            break;
        case 't':
            s.textfile = optarg;
            break;
        case 'o':
            s.dir = optarg;
            break;
        case 'h':
            usage_watch(stdout);
            return 0;
        default:
            return ct_opt_error(CMD, argv, "iptocP", usage_watch);
        }
    }
    ct_lower_priority((enum ct_priority)prio);
    if (optind == argc) {
        fprintf(stderr, CMD ": missing PID (the process tree to watch)\n");
        usage_watch(stderr);
        return EXIT_USAGE;
    }
    if (argc - optind > 1) {
        fprintf(stderr, CMD ": one PID only (got '%s' too)\n", argv[optind + 1]);
        return EXIT_USAGE;
    }
    pid_t pid;
    if (parse_pid(argv[optind], &pid)) {
        fprintf(stderr, CMD ": '%s' is not a process id\n", argv[optind]);
        return EXIT_USAGE;
    }
    int r = ct_live_stat(pid, &s.root);
    if (r == -ENOENT || r == -ESRCH) {
        fprintf(stderr, CMD ": PID %d: no such process\n", (int)pid);
        return EXIT_USAGE;
    }
    char why[512];
    if (r) {
        fprintf(stderr, CMD ": PID %d: cannot read /proc/%d/stat (%s)\n", (int)pid, (int)pid, strerror(-r));
        return EXIT_USAGE;
    }
    if (ct_snapshot_check(&s.root, why, sizeof why)) {
        fprintf(stderr, CMD ": PID %d: %s\n", (int)pid, why);
        return EXIT_USAGE;
    }
    s.quiet_stdout = s.dir || prom || s.textfile;
    if (open_outputs(&s, prom)) {
        close_outputs(&s);
        return EXIT_USAGE;
    }
    s.exact = ct_snapshot_exact();
    long ps = sysconf(_SC_PAGESIZE);
    s.page_size = ps > 0 ? (uint64_t)ps : 4096;

    /* Signals arrive as readable data, between samples: no handler runs
     * in the middle of a write. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0) {
        fprintf(stderr, CMD ": signalfd: %s\n", strerror(errno));
        close_outputs(&s);
        return EXIT_USAGE;
    }
    char when[64] = "only";
    if (s.causes_every == 1)
        snprintf(when, sizeof when, "every sample");
    else if (s.causes_every)
        snprintf(when, sizeof when, "every %u samples", s.causes_every);
    fprintf(stderr, CMD ": watching PID %d (%s) every %g s; causes %s and on SIGUSR1 (kill -USR1 %d)\n", (int)pid,
            s.root.comm, s.interval, when, (int)getpid());

    long long interval_ms = (long long)(s.interval * 1000 + 0.5), next = mono_ms();
    bool stop = false, causes_now = false;
    int status = 0;
    while (!stop) {
        long long now = mono_ms();
        if (now >= next || causes_now) {
            bool causes = causes_now || (s.causes_every && s.samples % s.causes_every == 0);
            causes_now = false;
            int sr = sample(&s, causes);
            if (sr < 0) {
                status = EXIT_USAGE;
                break;
            }
            if (sr > 0) {
                fprintf(stderr, CMD ": PID %d exited: stopping\n", (int)pid);
                break;
            }
            if (now >= next)
                next += interval_ms;
            now = mono_ms();
            if (next <= now)   /* a sample took longer than the interval: skip, do not bunch up */
                next = now + interval_ms;
        }
        struct pollfd fds[1 + CT_PROMSERVE_NFDS];
        int timeout = (int)(next - now > 0 ? next - now : 0);
        fds[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
        size_t nf = 1;
        if (s.server)
            nf += ct_promserve_fds(s.server, fds + 1, &timeout);
        int pr = poll(fds, nf, timeout);
        if (pr < 0 && errno != EINTR) {
            fprintf(stderr, CMD ": poll: %s\n", strerror(errno));
            status = EXIT_USAGE;
            break;
        }
        if (pr <= 0)
            continue;
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGUSR1)
                    causes_now = true;
                else
                    stop = true;
            }
        }
        if (s.server && !stop)
            ct_promserve_serve(s.server, fds + 1, nf - 1);
    }
    close(sfd);
    close_outputs(&s);
    return status;
}
