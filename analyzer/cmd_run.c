/*
 * cmd_run.c - `cowtrace run`: run a command with the shim preloaded and
 * behave, to the caller, as much like that command as possible.
 *
 * Promises:
 *  - the exit status is the command's; if the command died by a signal,
 *    cowtrace dies by the same signal (128+sig only if it cannot);
 *  - Ctrl-C and Ctrl-\ reach the command from the terminal, not twice
 *    through us, so we ignore them while waiting; SIGTERM, SIGHUP, SIGUSR1
 *    and SIGUSR2, which are usually sent to one pid, are forwarded;
 *  - an exec failure is reported by us, with the shell's codes 127 (not
 *    found) and 126 (found, not executable), learned through a close-on-exec
 *    pipe so it cannot be confused with the command's own exit status;
 *  - existing traces are never mixed with new ones: a DIR that holds
 *    *.cowtrace files is refused unless --force, which deletes only those;
 *  - the options reach the shim only through its environment
 *    (COWTRACE_DIR, COWTRACE_MODE, COWTRACE_GC_FREEZE, COWTRACE_STACKS,
 *    COWTRACE_STACK_DEPTH, COWTRACE_CAPTURE_PAGES): the shim decides.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "ct_format.h"
#include "shim_path.h"
#include "tracedir.h"

#define CT_STRINGIFY_(x) #x
#define CT_STRINGIFY(x) CT_STRINGIFY_(x)

void usage_run(FILE *f)
{
    fputs("usage: cowtrace run [-o DIR] [--mode MODE] [--gc-freeze] [--stacks WHICH] [--stack-depth N]\n"
          "                    [--capture-pages] [-q] [--force] -- CMD [ARG...]\n"
          "\n"
          "Run CMD with libcowtrace.so preloaded. Every process CMD forks writes a\n"
          "trace DIR/<pid>.cowtrace; read them with `cowtrace report DIR`.\n"
          "\n"
          "  -o, --output DIR  where traces go (default cowtrace.out; created 0700)\n"
          "  -m, --mode MODE   how writes are tracked:\n"
          "                      auto (default): precise first, uffd, else mprotect;\n"
          "                        both record each first write, so the report says\n"
          "                        exactly why each page was copied\n"
          "                      uffd, mprotect: only that method\n"
          "                      uffd-async: fastest, page sets only; causes are\n"
          "                        inferred from what the pages hold (only when asked)\n"
          "  -g, --gc-freeze   call gc.freeze() in the (Python) parent just before each\n"
          "                    fork, to measure what it saves (cowtrace diff)\n"
          "  --stacks WHICH    stacks of first writes (precise modes): both (default),\n"
          "                    python, native or none\n"
          "  --no-stacks       same as --stacks none: the cheapest precise tracing\n"
          "  --stack-depth N   native frames kept per stack, 1 to " CT_STRINGIFY(CT_MAX_STACK_DEPTH) " (default 32)\n"
          "  --capture-pages   also store the contents of each copied page as it was\n"
          "                    before the first write (off by default: a heap can hold\n"
          "                    secrets; traces get much larger)\n"
          "  -f, --force       delete old *.cowtrace files in DIR first (nothing else)\n"
          "  -q, --quiet       do not print the summary line at the end\n"
          "  -h, --help        show this help\n"
          "\n"
          "Environment: COWTRACE_SHIM overrides where libcowtrace.so is found.\n"
          "Exit status: that of CMD (if CMD is killed by a signal, so is cowtrace);\n"
          "127 if CMD is not found, 126 if it cannot be executed, 2 on usage errors.\n", f);
}

static volatile sig_atomic_t child_pid;

static void forward(int sig)
{
    int saved = errno;
    if (child_pid > 0)
        kill((pid_t)child_pid, sig);
    errno = saved;
}

/* mkdir -p, every created directory 0700: traces reveal memory layouts. */
static int make_dirs(const char *dir)
{
    char *p = xstrdup(dir);
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0700) < 0 && errno != EEXIST) {
                int e = errno;
                fprintf(stderr, "cowtrace: cannot create %s: %s\n", p, strerror(e));
                free(p);
                return -1;
            }
            *s = c;
            if (!c)
                break;
        }
    }
    free(p);
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "cowtrace: %s exists and is not a directory\n", dir);
        return -1;
    }
    return 0;
}

static void print_shell_word(FILE *f, const char *s)
{
    if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+./,:@%=") == strlen(s)) {
        fputs(s, f);
        return;
    }
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    }
    fputc('\'', f);
}

static void summary(const char *dir)
{
    struct ct_tracelist l;
    struct ct_err err;
    size_t n = 0;
    if (ct_list_traces(dir, &l, &err) == 0) {
        n = l.n;
        ct_tracelist_free(&l);
    }
    fprintf(stderr, "cowtrace: %zu traced process%s in ", n, n == 1 ? "" : "es");
    print_shell_word(stderr, dir);
    fputs(" (cowtrace report ", stderr);
    print_shell_word(stderr, dir);
    fputs(")\n", stderr);
}

/* Dies by sig, as the command did. Never returns. */
static void die_by_signal(int sig)
{
    /* The command's crash is not ours: do not leave a core file of cowtrace. */
    struct rlimit rl = { 0, 0 };
    setrlimit(RLIMIT_CORE, &rl);
    signal(sig, SIG_DFL);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    raise(sig);
    /* Signals whose default action is to ignore or stop end up here. */
    exit(128 + sig);
}

static int run_child(char **cmd, const char *dir, bool quiet)
{
    static const int fwd[] = { SIGTERM, SIGHUP, SIGUSR1, SIGUSR2 };
    sigset_t block, old;
    sigemptyset(&block);
    for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++)
        sigaddset(&block, fwd[i]);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGQUIT);
    /* Blocked from before fork until the handlers are in place, so a signal
     * sent in between is delivered (and forwarded) late rather than killing
     * us with the child left behind. */
    sigprocmask(SIG_BLOCK, &block, &old);

    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        perror("cowtrace: pipe");
        return EXIT_USAGE;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("cowtrace: fork");
        return EXIT_USAGE;
    }
    if (pid == 0) {
        close(pfd[0]);
        sigprocmask(SIG_SETMASK, &old, NULL);
        execvp(cmd[0], cmd);
        int e = errno;
        ssize_t w = write(pfd[1], &e, sizeof e);
        (void)w;
        _exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
    }
    close(pfd[1]);
    child_pid = pid;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++)
        sigaction(fwd[i], &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    sigprocmask(SIG_SETMASK, &old, NULL);

    int exec_errno = 0;
    ssize_t r;
    do
        r = read(pfd[0], &exec_errno, sizeof exec_errno);
    while (r < 0 && errno == EINTR);
    close(pfd[0]);

    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            perror("cowtrace: waitpid");
            return EXIT_USAGE;
        }
    }
    child_pid = 0;
    if (r == (ssize_t)sizeof exec_errno) {
        fprintf(stderr, "cowtrace: %s: %s\n", cmd[0], strerror(exec_errno));
        return exec_errno == ENOENT || exec_errno == ENOTDIR ? 127 : 126;
    }
    if (!quiet)
        summary(dir);
    if (WIFSIGNALED(st))
        die_by_signal(WTERMSIG(st));
    return WIFEXITED(st) ? WEXITSTATUS(st) : EXIT_USAGE;
}

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' },
        { "mode", required_argument, NULL, 'm' },
        { "force", no_argument, NULL, 'f' },
        { "gc-freeze", no_argument, NULL, 'g' },
        { "stacks", required_argument, NULL, 'S' },
        { "no-stacks", no_argument, NULL, 'N' },
        { "stack-depth", required_argument, NULL, 'D' },
        { "capture-pages", no_argument, NULL, 'P' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = "cowtrace.out", *mode = "auto", *stacks = "both", *depth = NULL;
    bool quiet = false, force = false, gc_freeze = false, capture = false;
    int c;
    opterr = 0;
    optind = 1;
    /* '+': stop at the command, whose own options are not ours. */
    while ((c = getopt_long(argc, argv, "+o:m:fgqh", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            dir = optarg;
            break;
        case 'm':
            mode = optarg;
            break;
        case 'f':
            force = true;
            break;
        case 'g':
            gc_freeze = true;
            break;
        case 'S':
            stacks = optarg;
            break;
        case 'N':
            stacks = "none";
            break;
        case 'D':
            depth = optarg;
            break;
        case 'P':
            capture = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            usage_run(stdout);
            return 0;
        default:
            return ct_opt_error("cowtrace run", argv, "omSD", usage_run);
        }
    }
    /* The words the shim accepts in COWTRACE_MODE and COWTRACE_STACKS. */
#define CT_MODE_WORD_(id, value, name) name,
    static const char *const modes[] = { "auto", CT_MODE_TABLE(CT_MODE_WORD_) NULL };
#undef CT_MODE_WORD_
    static const char *const stack_kinds[] = { "both", "python", "native", "none", NULL };
    int k;
    if (ct_opt_enum("cowtrace run", "mode", mode, modes, &k)
        || ct_opt_enum("cowtrace run", "--stacks", stacks, stack_kinds, &k))
        return EXIT_USAGE;
    if (depth) {
        char *end;
        errno = 0;
        long v = strtol(depth, &end, 10);
        if (errno || *end || v < 1 || v > CT_MAX_STACK_DEPTH) {
            fprintf(stderr, "cowtrace run: --stack-depth takes a number from 1 to %d, not '%s'\n",
                    CT_MAX_STACK_DEPTH, depth);
            return EXIT_USAGE;
        }
    }
    if (!*dir) {
        fprintf(stderr, "cowtrace run: empty output directory name\n");
        return EXIT_USAGE;
    }
    if (optind >= argc) {
        fprintf(stderr, "cowtrace run: missing command (cowtrace run [OPTIONS] -- CMD [ARG...])\n");
        return EXIT_USAGE;
    }
    char **cmd = argv + optind;

    struct ct_err err;
    char *shim = ct_find_shim(&err);
    if (!shim) {
        fprintf(stderr, "cowtrace: %s\n", err.msg);
        return EXIT_USAGE;
    }
    if (make_dirs(dir) < 0) {
        free(shim);
        return EXIT_USAGE;
    }
    struct ct_tracelist old;
    if (ct_list_traces(dir, &old, &err) < 0) {
        fprintf(stderr, "cowtrace: %s: %s\n", dir, err.msg);
        free(shim);
        return EXIT_USAGE;
    }
    size_t nold = old.n;
    ct_tracelist_free(&old);
    if (nold && !force) {
        fprintf(stderr, "cowtrace: %s already holds %zu trace%s from an earlier run; "
                        "remove them, pick another -o DIR, or use --force to delete them\n",
                dir, nold, nold == 1 ? "" : "s");
        free(shim);
        return EXIT_USAGE;
    }
    if (nold && ct_remove_traces(dir, &err) < 0) {
        fprintf(stderr, "cowtrace: %s: %s\n", dir, err.msg);
        free(shim);
        return EXIT_USAGE;
    }
    char *absdir = realpath(dir, NULL);
    if (!absdir) {
        fprintf(stderr, "cowtrace: %s: %s\n", dir, strerror(errno));
        free(shim);
        return EXIT_USAGE;
    }

    const char *pre = getenv("LD_PRELOAD");
    size_t len = strlen(shim) + (pre ? strlen(pre) : 0) + 2;
    char *preload = xmalloc(len);
    snprintf(preload, len, "%s%s%s", shim, pre && *pre ? ":" : "", pre && *pre ? pre : "");
    if (setenv("LD_PRELOAD", preload, 1) || setenv("COWTRACE_DIR", absdir, 1)
        || setenv("COWTRACE_MODE", mode, 1)
        || (gc_freeze ? setenv("COWTRACE_GC_FREEZE", "1", 1) : unsetenv("COWTRACE_GC_FREEZE"))
        || setenv("COWTRACE_STACKS", stacks, 1)
        || (depth ? setenv("COWTRACE_STACK_DEPTH", depth, 1) : unsetenv("COWTRACE_STACK_DEPTH"))
        || (capture ? setenv("COWTRACE_CAPTURE_PAGES", "1", 1) : unsetenv("COWTRACE_CAPTURE_PAGES"))) {
        perror("cowtrace: setenv");
        return EXIT_USAGE;
    }
    free(preload);
    free(absdir);
    free(shim);
    return run_child(cmd, dir, quiet);
}
