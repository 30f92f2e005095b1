"""Shared helpers for cowtrace's integration tests.

Every test script exits 0 on pass, 77 on skip (meson's skip code) and 1 on
failure, and prints why. Paths to the build come from the environment:
COWTRACE (the analyzer/runner binary) and COWTRACE_SHIM_PATH (libcowtrace.so),
defaulting to the build/ directory of the source tree.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
TOP = os.path.dirname(TESTS)
WORKLOADS = os.path.join(TESTS, "workloads")
MODES = ("uffd-async", "uffd", "mprotect")
NOBODY = 65534


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def log(*a):
    print(*a, flush=True)


def cowtrace_bin():
    return os.path.abspath(os.environ.get("COWTRACE", os.path.join(TOP, "build", "analyzer", "cowtrace")))


def shim_path():
    return os.path.abspath(os.environ.get("COWTRACE_SHIM_PATH", os.path.join(TOP, "build", "shim", "libcowtrace.so")))


def python():
    """The interpreter running the tests (the real binary, not a pyenv shim)."""
    return os.path.realpath(sys.executable)


def python_version_of(path):
    try:
        # "3.13.5t" for a free-threaded build (Py_GIL_DISABLED), as its
        # executable is named: the tests expect other answers of it
        r = subprocess.run([path, "-I", "-S", "-c", "import platform, sysconfig; print(platform.python_version() + "
                            "('t' if sysconfig.get_config_var('Py_GIL_DISABLED') else ''))"],
                           capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    return r.stdout.strip() if r.returncode == 0 else None


def python_of_version(version):
    """pyenv's X.Y.Z, else an interpreter of that version listed in
    COWTRACE_TEST_PYTHONS (colon-separated paths), else skip. X.Y.Zt is a
    free-threaded build of X.Y.Z (never pyenv's here)."""
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    path = os.path.join(root, "versions", version, "bin", "python3")
    if os.access(path, os.X_OK):
        return path
    for other in filter(None, os.environ.get("COWTRACE_TEST_PYTHONS", "").split(":")):
        if os.access(other, os.X_OK) and python_version_of(other) == version:
            return other
    raise Skip(f"Python {version} is not on this machine ({path} missing, none in COWTRACE_TEST_PYTHONS)")


def workload(name):
    return os.path.join(WORKLOADS, name)


def require_build(need_runner=True, need_shim=True):
    if need_runner and not os.access(cowtrace_bin(), os.X_OK):
        raise Fail(f"cowtrace binary not found or not executable: {cowtrace_bin()}")
    if need_shim and not os.path.exists(shim_path()):
        raise Fail(f"shim not found: {shim_path()}")


def require_root():
    if os.geteuid() != 0:
        raise Skip("needs root (reads page frame numbers from /proc/PID/pagemap)")


def parse_args(extra=None, modes=MODES + ("auto",)):
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="auto", choices=modes)
    if extra:
        extra(ap)
    return ap.parse_args()


class TempDir:
    """A scratch directory, removed when the test passes and kept otherwise."""

    def __init__(self, tag):
        self.path = tempfile.mkdtemp(prefix=f"cowtrace-{tag}-")
        os.chmod(self.path, 0o755)

    def sub(self, name):
        return os.path.join(self.path, name)

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


_tempdirs = []


def tempdir(tag):
    t = TempDir(tag)
    _tempdirs.append(t)
    return t


def main(fn):
    """Run fn() and exit with meson's codes: 0 pass, 77 skip, 1 fail."""
    try:
        fn()
    except Skip as e:
        log(f"SKIP: {e}")
        for t in _tempdirs:
            t.cleanup()
        sys.exit(SKIP)
    except Fail as e:
        log(f"FAIL: {e}")
        for t in _tempdirs:
            log(f"  (scratch kept: {t.path})")
        sys.exit(1)
    except subprocess.TimeoutExpired as e:
        log(f"FAIL: timed out: {e}")
        for t in _tempdirs:
            log(f"  (scratch kept: {t.path})")
        sys.exit(1)
    except Exception:
        traceback.print_exc()
        log("FAIL: unexpected exception")
        for t in _tempdirs:
            log(f"  (scratch kept: {t.path})")
        sys.exit(1)
    for t in _tempdirs:
        t.cleanup()
    log("PASS")
    sys.exit(0)


def shim_env(outdir, mode, base=None, **extra):
    """Environment for running a program with the shim preloaded directly."""
    env = dict(os.environ if base is None else base)
    env["LD_PRELOAD"] = shim_path()
    env["COWTRACE_DIR"] = os.path.abspath(outdir)
    env["COWTRACE_MODE"] = mode
    for k, v in extra.items():
        env[k] = str(v)
    return env


def nobody_cowtrace(t):
    """Make ready to run cowtrace as nobody in the scratch directory of t:
    the directory becomes nobody's, and cowtrace is copied into it (nobody
    may not read the checkout). Returns (the setpriv prefix that runs a
    command as nobody, the path of the copy)."""
    os.chown(t.path, NOBODY, NOBODY)
    pre = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    cowtrace = t.sub("cowtrace")
    shutil.copy(cowtrace_bin(), cowtrace)
    os.chmod(cowtrace, 0o755)
    return pre, cowtrace


def wait_ready_file(proc, ready, step=0.05, timeout=60):
    """Wait until the workload proc has written its ready file (it must not
    exit first, and must be ready within timeout seconds); the numbers the
    file holds (its pids)."""
    deadline = time.time() + timeout
    while not os.path.exists(ready):
        check(proc.poll() is None, f"the workload exited with {proc.returncode}")
        check(time.time() < deadline, f"the workload did not get ready in {timeout} s")
        time.sleep(step)
    with open(ready) as f:
        return [int(x) for x in f.read().split()]


def clean_env(base=None):
    env = dict(os.environ if base is None else base)
    for k in ("LD_PRELOAD", "COWTRACE_DIR", "COWTRACE_MODE", "COWTRACE_FLUSH_MS"):
        env.pop(k, None)
    return env


def run_cmd(cmd, mode=None, outdir=None, via="run", env=None, timeout=300, input=None, **kw):
    """Run cmd untraced (mode None) or traced, via `cowtrace run` (via="run")
    or with LD_PRELOAD set directly (via="preload"). Returns CompletedProcess
    with text stdout/stderr."""
    env = clean_env(env)
    if mode is None:
        full = list(cmd)
    elif via == "run":
        full = [cowtrace_bin(), "run", "-o", outdir, "--mode", mode, "-q", "--"] + list(cmd)
    else:
        env = shim_env(outdir, mode, base=env)
        full = list(cmd)
    return subprocess.run(full, env=env, timeout=timeout, input=input, capture_output=True, text=True, **kw)


def popen_traced(cmd, mode, outdir, via="run", env=None, **kw):
    """Start cmd traced with pipes on stdin/stdout (for READY handshakes)."""
    env = clean_env(env)
    if mode is None:
        full = list(cmd)
    elif via == "run":
        full = [cowtrace_bin(), "run", "-o", outdir, "--mode", mode, "-q", "--"] + list(cmd)
    else:
        env = shim_env(outdir, mode, base=env)
        full = list(cmd)
    return subprocess.Popen(full, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def wait_ready(proc, timeout=120):
    """Read lines from proc.stdout until one starts with READY; return its fields."""
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            proc.kill()
            raise Fail(f"workload did not print READY within {timeout}s; stdout so far: {seen!r}; "
                       f"stderr: {proc.stderr.read()[-2000:]!r}")
        if not sel.select(timeout=left):
            continue
        line = proc.stdout.readline()
        if not line:
            rc = proc.wait()
            raise Fail(f"workload ended (status {rc}) before READY; stdout: {seen!r}; "
                       f"stderr: {proc.stderr.read()[-2000:]!r}")
        seen.append(line)
        if line.startswith("READY"):
            return line.split()[1:]


def finish(proc, timeout=300):
    """Release a READY workload (a line on stdin) and collect its output."""
    out, err = proc.communicate(input="\n", timeout=timeout)
    return proc.returncode, out, err


def finish_or_collect(proc, timeout=300):
    """finish() a workload still waiting; of one that already exited (it
    failed before it was READY), its status and stderr."""
    if proc.poll() is None:
        return finish(proc, timeout)
    return proc.wait(), "", proc.stderr.read()


def ppid_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    return int(s[s.rindex(")") + 2:].split()[1])


def report(outdir, pages=False, timeout=300, stacks=True):
    """Run `cowtrace report --format json [--pages] [--no-stacks] outdir` and
    return the parsed report."""
    cmd = ([cowtrace_bin(), "report", "--format", "json"] + (["--pages"] if pages else [])
           + ([] if stacks else ["--no-stacks"]) + [outdir])
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise Fail(f"`{' '.join(cmd)}` exited {r.returncode}: {r.stderr.strip()[-2000:]}")
    try:
        rep = json.loads(r.stdout)
    except ValueError as e:
        raise Fail(f"`{' '.join(cmd)}` printed invalid JSON ({e}): {r.stdout[:500]!r}")
    check(rep.get("format") == "cowtrace-report", f"report format is {rep.get('format')!r}")
    check(rep.get("version") == 1, f"report version is {rep.get('version')!r}")
    check(isinstance(rep.get("processes"), list), "report has no processes list")
    return rep


def processes(rep):
    return {p["pid"]: p for p in rep["processes"]}


def get_process(rep, pid):
    procs = processes(rep)
    if pid not in procs:
        raise Fail(f"pid {pid} missing from the report (pids present: {sorted(procs)[:20]})")
    return procs[pid]


def check_mode(proc, mode):
    """A requested mode the shim refused shows as a different mode: fail."""
    if mode != "auto":
        check(proc.get("mode") == mode,
              f"pid {proc.get('pid')}: requested mode {mode} but traced in {proc.get('mode')!r} "
              f"({proc.get('mode_reason')!r})")


def page_sets(proc, lo, hi):
    """Return (cow, fresh) sets of page addresses from a --pages report, within [lo, hi)."""
    check("pages" in proc, f"pid {proc['pid']}: report has no 'pages' (was --pages given?)")
    cow, fresh = set(), set()
    for pg in proc["pages"]:
        a = int(pg["addr"], 16)
        if lo <= a < hi:
            if pg["kind"] == "cow":
                cow.add(a)
            elif pg["kind"] == "fresh":
                fresh.add(a)
    return cow, fresh


def cowtrace_lines(stderr):
    return [ln for ln in stderr.splitlines() if ln.startswith("cowtrace:")]


def without_cowtrace_lines(stderr):
    return "\n".join(ln for ln in stderr.splitlines() if not ln.startswith("cowtrace:"))


def trace_files(outdir):
    return sorted(f for f in os.listdir(outdir) if f.endswith(".cowtrace"))


def diff(expected, got, label_a="untraced", label_b="traced"):
    """A short unified diff of two outputs, for failure messages."""
    import difflib
    lines = list(difflib.unified_diff(expected.splitlines(), got.splitlines(), label_a, label_b, lineterm="", n=1))
    return "\n".join(lines[:40])
