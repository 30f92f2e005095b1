/*
 * hooks_signal.c - the program keeps its own SIGSEGV and SIGBUS handlers.
 *
 * While the shim owns the kernel's disposition of SIGSEGV and SIGBUS
 * (ct_signal_take: a sync backend's fault handler, or the guarded reads'
 * handler under uffd-async), the program's sigaction() and signal() calls
 * for them are kept here instead, and answered as if they had reached the
 * kernel. A fault that
 * is not a first write to a tracked page is handed to the program's handler
 * as the kernel would have: with its mask, SA_SIGINFO or not, SA_RESETHAND;
 * with no handler, the default action runs (core dump, death by the same
 * signal). faulthandler's traceback and exit status are preserved this way.
 *
 * The signals taken must also stay deliverable: a thread that blocks every
 * signal (faulthandler's watchdog, multiprocessing's resource sharer) and
 * then writes a protected page would be killed by the kernel. sigprocmask
 * and pthread_sigmask block everything the program asks but those.
 *
 * Our handlers run with every asynchronous signal blocked (the kernel sets
 * and restores that mask for free), so that the unwinder's own blocking
 * around its cache (two sigprocmask calls per frame, microseconds each
 * under a hypervisor) is already in force: called from inside a handler's
 * stack capture (ct_busy_in_handler), sigprocmask and pthread_sigmask
 * answer without a system call. A program handler we chain to gets the
 * mask the kernel would have given it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#include "ct_shim.h"

typedef int sigaction_fn(int, const struct sigaction *, struct sigaction *);
static sigaction_fn *real_sigaction_p;
static struct sigaction program_action[_NSIG];
static _Atomic int taken[_NSIG];

void *ct_real(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

/* Constructor: found in the original process, so that no child's set-up
 * calls dlsym (which writes the loader's lock) while it may write no
 * inherited page (lifecycle.c). */
void ct_signal_hooks_init(void)
{
    real_sigaction_p = (sigaction_fn *)ct_real("sigaction");
}

static int ct_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (!real_sigaction_p)
        real_sigaction_p = (sigaction_fn *)ct_real("sigaction");
    return real_sigaction_p(sig, act, old);
}

/* Never blocked in our handlers: raised by an instruction, a blocked one
 * kills the process (a nested write fault, a program handler's own). */
static const int synchronous[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS};

void ct_signal_take(int sig, void (*handler)(int, siginfo_t *, void *))
{
    struct sigaction ours, old;
    memset(&ours, 0, sizeof ours);
    ours.sa_sigaction = handler;
    /* NODEFER: a handler of the program that we call may itself write a
     * protected page; with SIGSEGV blocked that nested fault would kill. */
    ours.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART | SA_NODEFER;
    sigfillset(&ours.sa_mask);
    for (int i = 0; i < (int)(sizeof synchronous / sizeof *synchronous); i++)
        sigdelset(&ours.sa_mask, synchronous[i]);
    if (ct_real_sigaction(sig, &ours, &old) == 0 && !atomic_exchange(&taken[sig], 1))
        program_action[sig] = old;
    /* The forking thread may have had it blocked since before the fork. */
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    ct_sys4(SYS_rt_sigprocmask, SIG_UNBLOCK, &one, NULL, _NSIG / 8);
}

void ct_signal_give_back(int sig)
{
    if (atomic_exchange(&taken[sig], 0))
        ct_real_sigaction(sig, &program_action[sig], NULL);
}

void ct_chain_signal(int sig, siginfo_t *si, void *uc)
{
    struct sigaction a = program_action[sig];
    int sent = si->si_code <= 0;   /* kill/raise, not a fault */
    if (!atomic_load(&taken[sig]) || a.sa_handler == SIG_DFL || a.sa_handler == SIG_IGN) {
        if (a.sa_handler == SIG_IGN && sent && atomic_load(&taken[sig]))
            return;
        /* Default action, as without us: restore it, then let the fault
         * recur (returning re-executes the instruction) or send the signal
         * again; it stays pending until this handler returns. */
        struct sigaction dfl;
        ct_memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        atomic_store(&taken[sig], 0);
        ct_real_sigaction(sig, &dfl, NULL);
        if (sent)
            ct_sys3(SYS_tgkill, ct_getpid(), ct_gettid(), sig);
        return;
    }
    /* What the kernel would have blocked: the interrupted mask, the
     * handler's own, the signal itself. Ours blocked more (see above). */
    sigset_t block = ((ucontext_t *)uc)->uc_sigmask;
    for (int s = 1; s < _NSIG; s++)
        if (sigismember(&a.sa_mask, s) == 1)
            sigaddset(&block, s);
    if (!(a.sa_flags & SA_NODEFER))
        sigaddset(&block, sig);
    /* Never block the signals our backend needs: the handler may write a
     * protected page. (The kernel would have blocked `sig`; a genuinely
     * nested fault now re-enters the handler instead of killing.) */
    for (int s = 1; s < _NSIG; s++)
        if (atomic_load(&taken[s]))
            sigdelset(&block, s);
    ct_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &block, NULL, _NSIG / 8);
    if (a.sa_flags & SA_RESETHAND) {
        ct_memset(&program_action[sig], 0, sizeof program_action[sig]);
        program_action[sig].sa_handler = SIG_DFL;
    }
    if (a.sa_flags & SA_SIGINFO)
        a.sa_sigaction(sig, si, uc);
    else
        a.sa_handler(sig);
    /* The kernel restores the interrupted mask when our handler returns. */
}

CT_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (sig > 0 && sig < _NSIG && atomic_load(&taken[sig])) {
        if (old)
            *old = program_action[sig];
        if (act)
            program_action[sig] = *act;
        return 0;
    }
    return ct_real_sigaction(sig, act, old);
}

/* glibc's signal() calls its internal sigaction, bypassing ours. */
static sighandler_t bsd_style(int sig, sighandler_t h, int flags)
{
    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = h;
    act.sa_flags = flags;
    sigemptyset(&act.sa_mask);
    if (!(flags & SA_NODEFER))
        sigaddset(&act.sa_mask, sig);
    if (sig <= 0 || sig >= _NSIG) {
        errno = EINVAL;
        return SIG_ERR;
    }
    if (sigaction(sig, &act, &old) < 0)
        return SIG_ERR;
    return old.sa_handler;
}

CT_EXPORT sighandler_t signal(int sig, sighandler_t h)
{
    return bsd_style(sig, h, SA_RESTART);
}

CT_EXPORT sighandler_t bsd_signal(int sig, sighandler_t h)
{
    return bsd_style(sig, h, SA_RESTART);
}

CT_EXPORT sighandler_t sysv_signal(int sig, sighandler_t h)
{
    return bsd_style(sig, h, SA_RESETHAND | SA_NODEFER);
}

/* The set to hand the kernel: `set` without the signals we have taken. */
static const sigset_t *without_ours(int how, const sigset_t *set, sigset_t *copy)
{
    if (!set || how == SIG_UNBLOCK)
        return set;
    const sigset_t *use = set;
    for (int s = 1; s < _NSIG; s++) {
        if (atomic_load_explicit(&taken[s], memory_order_relaxed) && sigismember(set, s) == 1) {
            if (use == set) {
                *copy = *set;
                use = copy;
            }
            sigdelset(copy, s);
        }
    }
    return use;
}

/* Inside our handler's stack capture: every asynchronous signal is
 * already blocked and stays so until the handler returns; report that
 * mask and change nothing. */
static int handler_mask(sigset_t *old)
{
    if (!ct_busy_in_handler())
        return 0;
    if (old) {
        sigfillset(old);
        for (int i = 0; i < (int)(sizeof synchronous / sizeof *synchronous); i++)
            sigdelset(old, synchronous[i]);
    }
    return 1;
}

CT_EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    if (handler_mask(old))
        return 0;
    CT_REAL(pthread_sigmask);
    sigset_t copy;
    return real_pthread_sigmask(how, without_ours(how, set, &copy), old);
}

CT_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
    if (handler_mask(old))
        return 0;
    CT_REAL(sigprocmask);
    sigset_t copy;
    return real_sigprocmask(how, without_ours(how, set, &copy), old);
}
