/*
 * test_pyalloc.c - the allocator cowtrace snapshot reads off a process's
 * command line and environment (pyremote.c, ct_pyremote_allocator_of) as
 * CPython's start-up decides it: PYTHONMALLOC, else -X dev / PYTHONDEVMODE,
 * -E and -I ignoring the environment, options only before the script.
 */
#include <stdbool.h>

#include "check.h"
#include "ct_format.h"
#include "pyremote.h"

/* argv and envp as /proc shows them: NUL-separated, NUL-ended. */
static uint32_t flags_of(const char *cmd, size_t clen, const char *env, size_t elen, bool ft, char *why)
{
    return ct_pyremote_allocator_of(cmd, clen, env, elen, ft, why, 96);
}

#define T(cmd, env, ft, want, why_has) do { \
    char why_[96]; \
    uint32_t got_ = flags_of(cmd, sizeof cmd - 1, env, sizeof env - 1, ft, why_); \
    CHECK_U64(got_, want); \
    CHECK(strstr(why_, why_has) != NULL); \
} while (0)

#define MALLOC CT_PY_NO_PYMALLOC
#define PYDEBUG (CT_PY_NO_PYMALLOC | CT_PY_ALLOC_DEBUG | CT_PY_ALLOC_PYMALLOC)
#define MIMALLOC (CT_PY_NO_PYMALLOC | CT_PY_ALLOC_MIMALLOC)

int main(void)
{
    T("python3\0app.py\0", "HOME=/\0PYTHONMALLOC=malloc\0", false, MALLOC, "PYTHONMALLOC=malloc");
    T("/usr/bin/python3.11\0app.py\0", "PATH=/bin\0", false, 0, "");
    /* -E, -I and combined flags ignore the environment */
    T("python3\0-E\0app.py\0", "PYTHONMALLOC=malloc\0", false, 0, "");
    T("python3\0-sE\0app.py\0", "PYTHONMALLOC=malloc\0", false, 0, "");
    T("python3.13\0-I\0-c\0pass\0", "PYTHONMALLOC=malloc\0PYTHONDEVMODE=1\0", false, 0, "");
    /* ... but only before the script, -c or -m */
    T("python3\0app.py\0-E\0", "PYTHONMALLOC=malloc\0", false, MALLOC, "PYTHONMALLOC");
    T("python3\0-c\0pass\0-E\0", "PYTHONMALLOC=malloc\0", false, MALLOC, "PYTHONMALLOC");
    T("python3\0-m\0gunicorn\0-E\0", "PYTHONMALLOC=malloc\0", false, MALLOC, "PYTHONMALLOC");
    /* -X dev, joined or not; -W's argument is not an option */
    T("python3\0-X\0dev\0app.py\0", "\0", false, PYDEBUG, "-X dev");
    T("python3\0-Xdev\0app.py\0", "\0", false, PYDEBUG, "-X dev");
    T("python3\0-W\0-E\0app.py\0", "PYTHONMALLOC=malloc\0", false, MALLOC, "PYTHONMALLOC");
    T("python3\0-X\0importtime\0app.py\0", "\0", false, 0, "");
    /* PYTHONMALLOC wins over dev mode; PYTHONDEVMODE alone is dev mode */
    T("python3\0-X\0dev\0app.py\0", "PYTHONMALLOC=malloc_debug\0", false, MALLOC | CT_PY_ALLOC_DEBUG,
      "PYTHONMALLOC=malloc_debug");
    T("python3\0app.py\0", "PYTHONDEVMODE=1\0", false, PYDEBUG, "PYTHONDEVMODE");
    T("python3\0app.py\0", "PYTHONDEVMODE=\0", false, 0, "");
    /* "default" and "debug" are the build's own: mimalloc when free-threaded */
    T("python3\0app.py\0", "PYTHONMALLOC=default\0", false, 0, "PYTHONMALLOC=default");
    T("python3.13t\0app.py\0", "PYTHONMALLOC=debug\0", true, MIMALLOC | CT_PY_ALLOC_DEBUG, "PYTHONMALLOC");
    T("python3.13t\0app.py\0", "\0", true, MIMALLOC, "");
    /* a name CPython does not have (it would refuse to start): the default */
    T("python3\0app.py\0", "PYTHONMALLOC=jemalloc\0", false, 0, "");
    /* not a python on argv[0] (uwsgi, a setproctitle'd gunicorn): only the environment */
    T("uwsgi\0-E\0--ini\0app.ini\0", "PYTHONMALLOC=malloc\0", false, MALLOC, "PYTHONMALLOC");
    T("gunicorn: master [app]\0", "PYTHONMALLOC=pymalloc_debug\0", false, PYDEBUG, "PYTHONMALLOC");
    /* hostile texts: empty, cut short without a final NUL, an option at the end */
    T("", "", false, 0, "");
    T("python3\0-X", "PYTHONMALLOC=mall", false, 0, "");
    T("python3\0-W", "\0\0\0", false, 0, "");
    return check_done("pyalloc");
}
