/*
 * output.c - see output.h: standard output or -o FILE, written whole or
 * not at all, and checked in one place.
 */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "strbuf.h"
#include "util.h"

static struct {
    FILE *f;                  /* NULL: standard output */
    char *path;               /* -o FILE */
    char *tmp;                /* the new file beside it */
    bool done;                /* the command produced its whole output */
} out;

/* The new file's name for the signal handler (set before it is installed,
 * never freed while it is). */
static const char *volatile tmp_for_signal;

/* Interrupted (Ctrl-C, kill): remove the new file, then die of the signal
 * as before. unlink and raise are async-signal-safe. */
static void remove_on_signal(int sig)
{
    if (tmp_for_signal)
        unlink(tmp_for_signal);
    signal(sig, SIG_DFL);
    raise(sig);
}

static const int fatal_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

FILE *ct_output_open(const char *cmd, const char *path)
{
    if (!path || !strcmp(path, "-"))
        return stdout;
    size_t len = strlen(path);
    struct stat st;
    if (!len) {
        fprintf(stderr, "%s: -o needs a file name\n", cmd);
        return NULL;
    }
    if (path[len - 1] == '/') {
        fprintf(stderr, "%s: -o %s: a file name cannot end in '/'\n", cmd, path);
        return NULL;
    }
    if (lstat(path, &st) == 0) {
        /* Renaming over a device, a pipe or a link to one (/dev/null,
         * /dev/stdout) would replace it, not write to it. */
        struct stat target;
        bool link = S_ISLNK(st.st_mode);
        if (link && stat(path, &target) == 0)
            st = target;
        if (S_ISDIR(st.st_mode)) {
            fprintf(stderr, "%s: -o %s: is a directory\n", cmd, path);
            return NULL;
        }
        if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
            fprintf(stderr, "%s: -o %s: not a regular file (-o replaces FILE whole; for a device or "
                    "pipe use a redirection)\n", cmd, path);
            return NULL;
        }
    }
    /* The new file goes in FILE's directory, so rename cannot cross a
     * file system and replaces FILE in one step. */
    const char *slash = strrchr(path, '/');
    char *dir = slash ? xmemdup0(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
    struct strbuf tmp;
    sb_init(&tmp);
    /* From the new file's creation until its handlers are in place a fatal
     * signal would leave it behind: hold those signals until then (one
     * that arrives meanwhile is delivered, to the handler, at the end). */
    sigset_t fatal, before;
    sigemptyset(&fatal);
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
        sigaddset(&fatal, fatal_signals[i]);
    sigprocmask(SIG_BLOCK, &fatal, &before);
    int fd = -1;
    for (unsigned n = 0; fd < 0; n++) {
        sb_reset(&tmp);
        sb_addf(&tmp, "%s/.cowtrace-%ld-%u.tmp", strcmp(dir, "/") ? dir : "", (long)getpid(), n);
        fd = open(tmp.s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd < 0 && (errno != EEXIST || n >= 1000)) {
            fprintf(stderr, "%s: -o %s: cannot create a file in %s: %s\n", cmd, path, dir, strerror(errno));
            free(dir);
            sb_free(&tmp);
            sigprocmask(SIG_SETMASK, &before, NULL);
            return NULL;
        }
    }
    free(dir);
    out.f = fdopen(fd, "w");
    if (!out.f) {
        fprintf(stderr, "%s: -o %s: %s\n", cmd, path, strerror(errno));
        close(fd);
        unlink(tmp.s);
        sb_free(&tmp);
        sigprocmask(SIG_SETMASK, &before, NULL);
        return NULL;
    }
    out.path = xstrdup(path);
    out.tmp = xmemdup0(tmp.s, tmp.len);
    sb_free(&tmp);
    tmp_for_signal = out.tmp;
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++) {
        struct sigaction sa, old;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = remove_on_signal;
        sigemptyset(&sa.sa_mask);
        /* A signal ignored when we started (nohup) stays ignored. */
        if (sigaction(fatal_signals[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaction(fatal_signals[i], &sa, NULL);
    }
    sigprocmask(SIG_SETMASK, &before, NULL);
    return out.f;
}

void ct_output_done(void)
{
    out.done = true;
}

int ct_output_finish(int status, const char *what)
{
    FILE *f = out.f ? out.f : stdout;
    /* Buffered output is only known to be written once it is flushed. */
    bool failed = fflush(f) != 0 || ferror(f);
    int err = errno;
    if (!out.f) {
        if (failed) {
            fprintf(stderr, "cowtrace: writing the %s: %s\n", what, strerror(err));
            return EXIT_USAGE;
        }
        return status;
    }
    /* Renamed or removed below: a signal has nothing left to clean up
     * (blocked meanwhile, so the name is not removed twice). */
    sigset_t block, was;
    sigemptyset(&block);
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
        sigaddset(&block, fatal_signals[i]);
    sigprocmask(SIG_BLOCK, &block, &was);
    if (fclose(out.f) != 0 && !failed) {
        failed = true;
        err = errno;
    }
    out.f = NULL;
    if (!failed && out.done && rename(out.tmp, out.path) != 0) {
        fprintf(stderr, "cowtrace: -o %s: %s\n", out.path, strerror(errno));
        status = EXIT_USAGE;
        unlink(out.tmp);
    } else if (failed) {
        fprintf(stderr, "cowtrace: writing the %s to %s: %s (left unchanged)\n", what, out.path, strerror(err));
        status = EXIT_USAGE;
        unlink(out.tmp);
    } else if (!out.done)
        unlink(out.tmp);
    tmp_for_signal = NULL;
    free(out.path);
    free(out.tmp);
    out.path = out.tmp = NULL;
    sigprocmask(SIG_SETMASK, &was, NULL);
    return status;
}
