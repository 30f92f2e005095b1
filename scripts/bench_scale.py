"""Promise: `scripts/bench --scale` -- the production-scale measurements of
issue 12, each one entry of the table MEASUREMENTS, run side by side with
its untraced baseline in one run (every repetition runs each baseline and
each traced side in turn, so a slow minute of a shared machine lands on
both), printed as median against a target with PASS or FAIL.

Add a measurement: write a function that takes a Ctx and returns one sample
(a float; what it means is the entry's unit) for the traced side, and one
for the baseline (or None when the target is absolute, as for a report
time), then append a Measure to MEASUREMENTS. Entries with the same
baseline_key share their baseline samples (taken once per repetition). In
--quick mode every function runs once at small sizes (ctx.quick is True):
it must still check that the path it measures worked (the children were
traced in the mode asked, the report ran) and raise BenchError if not,
because --quick is a CI test of the paths, not of the timings.

Exit status: 0 when everything could be measured (FAIL lines are
information, printed honestly), 2 when a run broke.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Callable, Optional


class BenchError(Exception):
    """A run did not work (not a slow run: a broken one)."""


@dataclass
class Ctx:
    top: str            # source tree
    cowtrace: str       # the cowtrace command
    mktrace: str        # build/analyzer/tests/ct-mktrace
    python: str         # interpreter the workloads run in
    tmp: str            # scratch directory, removed at the end
    env: dict           # environment without any cowtrace variable
    quick: bool         # small sizes, one repetition, paths checked only
    live_opts: tuple = ()   # options for cowtrace snapshot and watch (bench --priority)
    faultfloor: str = ""    # build/tests/faultfloor (the kernel mechanism alone, per page)
    rep: int = 0        # repetition number (0-based), for file names


@dataclass
class Measure:
    name: str                                   # short id (--only NAME)
    what: str                                   # one line: what is measured
    target: float                               # PASS when score <= target
    unit: str                                   # of the score: "x" (ratio), "ms/GiB", "s" ...
    traced: Callable[[Ctx], float]              # one traced sample
    baseline: Optional[Callable[[Ctx], float]]  # one untraced sample, or None (absolute target)
    score: Callable[[float, Optional[float]], float] = None  # (traced median, baseline median) -> score
    baseline_key: Optional[str] = None          # entries with one key share baseline samples
    sample_unit: str = "ms"                     # how samples print (samples are in this unit)
    informational: bool = False                 # no PASS/FAIL: said against the target, not judged


def ratio(traced, base):
    return traced / base


def difference(traced, base):
    return traced - base


def absolute(traced, base):
    return traced


# ---------------------------------------------------------------- workloads

# One script, three shapes; prints "ELAPSED seconds CPU seconds" (fork to
# every child reaped; the children's CPU time, their threads included) or, for "forkpause", "FORKMS ms GIB gib" (the slowest fork() call
# as the parent saw it, and the parent's resident memory when it forked).
WORKLOAD = r"""
import os, sys, time
shape = sys.argv[1]; n = int(sys.argv[2]); children = int(sys.argv[3])
data = list(range(1000, 1000 + n))
sys.stdout.flush()
if shape == "forkpause":
    with open("/proc/self/statm") as f:
        rss_gib = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**30
    slowest = 0.0
    pids = []
    for _ in range(children):
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        slowest = max(slowest, time.perf_counter() - t0)
        pids.append(pid)
    bad = sum(os.waitpid(pid, 0)[1] != 0 for pid in pids)
    print(f"FORKMS {slowest * 1000:.3f} GIB {rss_gib:.4f}")
    sys.exit(1 if bad else 0)
t0 = time.perf_counter()
pids = []
for k in range(children):
    pid = os.fork()
    if pid == 0:
        s = 0
        if shape == "slice":          # every other int: one refcount write each
            part = data[k::children]
            for x in part:
                s += x
            del part
        else:                          # "iterate": the whole list
            for x in data:
                s += x
        os._exit(0 if s else 1)
    pids.append(pid)
bad = cpu = 0
for pid in pids:
    _, status, ru = os.wait4(pid, 0)
    bad += status != 0
    cpu += ru.ru_utime + ru.ru_stime
print(f"ELAPSED {time.perf_counter() - t0:.6f} CPU {cpu:.6f}")
sys.exit(1 if bad else 0)
"""


def _workload_path(ctx):
    path = os.path.join(ctx.tmp, "scale_workload.py")
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write(WORKLOAD)
    return path


def _run_workload(ctx, shape, n, children, mode=None, opts=(), expect_children=None):
    """Runs the workload untraced (mode None) or under `cowtrace run --mode
    mode opts`; returns its output's key/value numbers. When traced, checks
    that the report shows the expected children, all in `mode`."""
    cmd = [ctx.python, _workload_path(ctx), shape, str(n), str(children)]
    out = None
    if mode is not None:
        out = os.path.join(ctx.tmp, f"trace-{shape}-{mode}-{ctx.rep}")
        cmd = [ctx.cowtrace, "run", "-o", out, "--mode", mode, "-q", *opts, "--", *cmd]
    p = subprocess.run(cmd, capture_output=True, text=True, env=ctx.env, timeout=1200)
    words = (p.stdout.split("\n")[-2] if p.stdout.endswith("\n") else p.stdout).split()
    if p.returncode != 0 or len(words) < 2 or words[0] not in ("ELAPSED", "FORKMS"):
        raise BenchError(f"{shape} {mode or 'untraced'} run failed (status {p.returncode}): "
                         f"{p.stderr.strip()[-1500:]}")
    values = {words[i]: float(words[i + 1]) for i in range(0, len(words) - 1, 2)}
    if out is not None:
        try:
            rep = subprocess.run([ctx.cowtrace, "report", "--format", "json", out],
                                 capture_output=True, text=True, timeout=1200)
            if rep.returncode != 0:
                raise BenchError(f"cowtrace report {out} failed: {rep.stderr.strip()[-1000:]}")
            procs = json.loads(rep.stdout)["processes"]
            if shape == "iterate":
                _copied_pages.extend(pr.get("cow_pages", 0) for pr in procs)
            want = children if expect_children is None else expect_children
            if len(procs) != want or any(pr.get("mode") != mode for pr in procs):
                raise BenchError(f"{shape}: expected {want} children traced in {mode}, report has "
                                 f"{[(pr.get('pid'), pr.get('mode'), pr.get('mode_reason')) for pr in procs]}")
        finally:
            shutil.rmtree(out, ignore_errors=True)
    return values


# 1: uffd-async must cost nothing however long a child keeps writing.
def _slice_n(ctx):
    return 400000 if ctx.quick else 12000000


def slice_untraced(ctx):
    return _run_workload(ctx, "slice", _slice_n(ctx), 2)["ELAPSED"] * 1000


def slice_async(ctx):
    return _run_workload(ctx, "slice", _slice_n(ctx), 2, "uffd-async")["ELAPSED"] * 1000


# 2: the precise modes' cost per fault.
def _iterate_n(ctx):
    return 200000 if ctx.quick else 6000000


def iterate_untraced(ctx):
    return _run_workload(ctx, "iterate", _iterate_n(ctx), 1)["ELAPSED"] * 1000


def _iterate(mode, *opts):
    def traced(ctx):
        return _run_workload(ctx, "iterate", _iterate_n(ctx), 1, mode, opts)["ELAPSED"] * 1000
    return traced


# 2, floor: what the kernel's write tracking alone costs, without the shim.
# build/tests/faultfloor maps and fills as many pages as the traced child
# copied (the median over the traced runs so far; before any, the list's
# ints: 32 bytes each), forks, and in the child writes one word per page
# with nothing, then with uffd write-protection (SIGBUS, an empty handler
# that lifts the protection of the page), then with mprotect (SIGSEGV, the
# same). The sample is what the mechanism adds over the plain copy-on-write
# faults for that many pages (ms; faultfloor takes the median of 3 children
# per method, interleaved); with the untraced workload's time it
# gives the ratio the mechanism alone would cost: the floor under the
# traced entries' ratios on this machine.
_copied_pages = []
_floor_samples = {}


def _floor_pages(ctx):
    if _copied_pages:
        return int(statistics.median(_copied_pages))
    return _iterate_n(ctx) * 32 // os.sysconf("SC_PAGE_SIZE")


def _floor(method):
    def sample(ctx):
        if ctx.rep not in _floor_samples:
            pages = _floor_pages(ctx)
            p = subprocess.run([ctx.faultfloor, "--pages", str(pages), "--reps", "3", "none", "uffd", "mprotect"],
                               capture_output=True, text=True, timeout=600)
            us = {}
            for line in p.stdout.splitlines():
                w = line.split()
                if len(w) == 3:
                    us[w[0]] = float(w[1])
            if "none" not in us or p.returncode not in (0, 2):
                raise BenchError(f"{ctx.faultfloor} failed (status {p.returncode}): "
                                 f"{(p.stdout + p.stderr).strip()[-1000:]}")
            _floor_samples[ctx.rep] = (pages, us, p.stdout.strip())
        pages, us, text = _floor_samples[ctx.rep]
        if method not in us:
            raise BenchError(f"faultfloor could not measure {method}: {text}")
        return pages * (us[method] - us["none"]) / 1000
    return sample


def floor_ratio(extra, base):
    return (base + extra) / base


# 3: how long the parent's fork() waits, per GiB of inherited memory.
def _fork_n(ctx):
    return 400000 if ctx.quick else 24000000


def _forkpause(children, mode=None):
    def sample(ctx):
        v = _run_workload(ctx, "forkpause", _fork_n(ctx), children, mode)
        return v["FORKMS"] / max(v["GIB"], 1e-6)
    return sample


# 4: `cowtrace report` of a big run: NPROCS copies of one real precise trace
# with stacks (scripts/mkbigrun), made once per bench run.
def _bigrun_size(ctx):
    return (4, 20000) if ctx.quick else (64, 250000)   # (traces, copied pages each)


def _bigrun(ctx):
    d = os.path.join(ctx.tmp, "bigrun")
    if not os.path.isdir(d):
        procs, pages = _bigrun_size(ctx)
        p = subprocess.run([ctx.python, os.path.join(ctx.top, "scripts", "mkbigrun"), "-o", d,
                            "--procs", str(procs), "--pages", str(pages), "--cowtrace", ctx.cowtrace,
                            "--python", ctx.python], capture_output=True, text=True, env=ctx.env, timeout=1800)
        if p.returncode != 0:
            shutil.rmtree(d, ignore_errors=True)
            raise BenchError(f"scripts/mkbigrun failed (status {p.returncode}): {p.stderr.strip()[-1500:]}")
    return d


# (format, repetition) -> (wall ms, CPU ms, MiB): one report gives all three.
# The maximum resident memory is the child's as wait4 reports it, which
# Linux takes as at least that of the memory the exec replaced: this
# process's (subprocess starts children with vfork). So this process must
# stay small next to a report: it never loads the report's output itself.
# CPU time (user + system, every thread) is given beside the wall time
# because a shared machine stretches the wall time of whatever runs on it;
# CPU time <= 5 s is the 5 s target met on one idle core.
_report_samples = {}


def _report_once(ctx, fmt):
    key = (fmt, ctx.rep)
    if key in _report_samples:
        return _report_samples[key]
    d = _bigrun(ctx)
    out = os.path.join(ctx.tmp, f"report.{fmt}")
    with open(out, "wb") as f:
        t0 = time.monotonic()
        p = subprocess.Popen([ctx.cowtrace, "report", "--format", fmt, d], stdout=f,
                             stderr=subprocess.PIPE, env=ctx.env)
        _, status, ru = os.wait4(p.pid, 0)
        ms = (time.monotonic() - t0) * 1000
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if p.returncode != 0:
        raise BenchError(f"cowtrace report --format {fmt} {d} failed (status {p.returncode}): {err.strip()[-1000:]}")
    # The report must be of every trace, each read whole.
    procs, pages = _bigrun_size(ctx)
    if fmt == "json":
        # Read in another process: this one must stay small (see above).
        chk = subprocess.run([ctx.python, "-c", "import json, sys; d = json.load(open(sys.argv[1])); "
                              "print(*(p['cow_pages'] for p in d['processes']))", out],
                             capture_output=True, text=True, env=ctx.env)
        cow = [int(w) for w in chk.stdout.split()]
        if chk.returncode != 0 or len(cow) != procs or min(cow) < pages * 0.9 or len(set(cow)) != 1:
            raise BenchError(f"report --format json: {len(cow)} processes, cow pages {sorted(set(cow))}; "
                             f"expected {procs} of about {pages} {chk.stderr.strip()[-500:]}")
    else:
        with open(out) as f:
            head = f.readline()
        if f", {procs} processes" not in head:
            raise BenchError(f"report --format text starts {head.strip()!r}; expected {procs} processes")
    os.unlink(out)
    _report_samples[key] = {"ms": ms, "cpu": (ru.ru_utime + ru.ru_stime) * 1000, "MiB": ru.ru_maxrss / 1024}
    return _report_samples[key]


def _report(fmt, what):
    def sample(ctx):
        return _report_once(ctx, fmt)[what]
    return sample


MEASUREMENTS = [
    Measure("async-slice", "2 children iterate every other int of 12,000,000 (a slice), uffd-async",
            1.10, "x", slice_async, slice_untraced, ratio),
    Measure("uffd-stacks", "1 child iterates 6,000,000 ints, uffd with stacks (the default)",
            1.5, "x", _iterate("uffd"), iterate_untraced, ratio, baseline_key="iterate"),
    Measure("uffd-nostacks", "1 child iterates 6,000,000 ints, uffd --no-stacks",
            1.3, "x", _iterate("uffd", "--no-stacks"), iterate_untraced, ratio, baseline_key="iterate"),
    Measure("mprotect-stacks", "1 child iterates 6,000,000 ints, mprotect with stacks",
            1.5, "x", _iterate("mprotect"), iterate_untraced, ratio, baseline_key="iterate"),
    Measure("mprotect-nostacks", "1 child iterates 6,000,000 ints, mprotect --no-stacks",
            1.3, "x", _iterate("mprotect", "--no-stacks"), iterate_untraced, ratio, baseline_key="iterate"),
    Measure("floor-uffd", "the kernel mechanism alone for as many pages (build/tests/faultfloor: write-protect "
            "fault, SIGBUS, a handler that only lifts the protection, the copy): ms it adds, and the ratio "
            "it implies", 1.3, "x", _floor("uffd"), iterate_untraced, floor_ratio, baseline_key="iterate",
            informational=True),
    Measure("floor-mprotect", "the same with mprotect (SIGSEGV, a handler that only calls mprotect)", 1.3, "x",
            _floor("mprotect"), iterate_untraced, floor_ratio, baseline_key="iterate", informational=True),
    Measure("forkpause-1", "slowest fork() of a parent with 24,000,000 ints (~1 GiB), 1 child, uffd-async, "
            "over the untraced fork", 20.0, "ms/GiB", _forkpause(1, "uffd-async"), _forkpause(1),
            difference, baseline_key="fork1", sample_unit="ms/GiB"),
    Measure("forkpause-4", "slowest fork() of a parent with 24,000,000 ints (~1 GiB), 4 children, uffd-async, "
            "over the untraced fork", 20.0, "ms/GiB", _forkpause(4, "uffd-async"), _forkpause(4),
            difference, baseline_key="fork4", sample_unit="ms/GiB"),
    # 4: big reports (64 workers x 250,000 copied pages, precise with stacks):
    # `cowtrace report` text and JSON in <= 5 s and <= 2 GiB.
    Measure("report-text", "cowtrace report (text) of 64 traces x ~250,000 copied pages, uffd with stacks "
            "(scripts/mkbigrun)", 5000.0, "ms", _report("text", "ms"), None, absolute),
    Measure("report-text-cpu", "the same report's CPU time (user + system, all threads)", 5000.0, "ms",
            _report("text", "cpu"), None, absolute),
    Measure("report-text-rss", "the same report's maximum resident memory", 2048.0, "MiB",
            _report("text", "MiB"), None, absolute, sample_unit="MiB"),
    Measure("report-json", "cowtrace report --format json of the same 64 traces", 5000.0, "ms",
            _report("json", "ms"), None, absolute),
    Measure("report-json-cpu", "the same report's CPU time (user + system, all threads)", 5000.0, "ms",
            _report("json", "cpu"), None, absolute),
    Measure("report-json-rss", "the same report's maximum resident memory", 2048.0, "MiB",
            _report("json", "MiB"), None, absolute, sample_unit="MiB"),
]


# 5: looking at a live server (issue 10): a master with ~1 GiB of Python
# objects (a list of ints) and 4 forked workers that each read all of it
# (so each copied nearly every page: a reference count per int) and then
# serve requests on a unix socket (a one-byte ping answered after summing
# 64 of the ints). One server per bench run, shared by the entries below.
LIVE_SERVER = r"""
import os, socket, sys, time
n, workers, sockdir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
data = [i + 100000 for i in range(n)]
for k in range(workers):
    if os.fork() == 0:
        total = 0
        for x in data:
            total += x
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(os.path.join(sockdir, f"w{k}.tmp"))
        s.listen(8)
        os.rename(os.path.join(sockdir, f"w{k}.tmp"), os.path.join(sockdir, f"w{k}.sock"))
        i = 0
        while True:
            c, _ = s.accept()
            while c.recv(1):
                i = (i + 64) % (n - 64)
                c.sendall(b"x" if sum(data[i:i + 64]) else b"y")
            c.close()
while True:
    time.sleep(3600)
"""
LIVE_WORKERS = 4
_live = {}
_cleanups = []


def _live_n(ctx):
    return 200000 if ctx.quick else (1 << 30) // 40    # an int (32 B) and its list slot (8 B)


def _live_server(ctx):
    """Starts the server once; returns (master pid, socket paths)."""
    if "master" in _live:
        return _live["master"], _live["socks"]
    sockdir = os.path.join(ctx.tmp, "live")
    os.makedirs(sockdir)
    p = subprocess.Popen([ctx.python, "-c", LIVE_SERVER, str(_live_n(ctx)), str(LIVE_WORKERS), sockdir],
                         env=ctx.env, start_new_session=True)
    _cleanups.append(lambda: (os.killpg(p.pid, 9), p.wait()))
    socks = [os.path.join(sockdir, f"w{k}.sock") for k in range(LIVE_WORKERS)]
    deadline = time.monotonic() + 600
    while not all(os.path.exists(s) for s in socks):
        if p.poll() is not None or time.monotonic() > deadline:
            raise BenchError(f"live server did not start (status {p.poll()})")
        time.sleep(0.2)
    time.sleep(0.5)
    _live["master"], _live["socks"] = p.pid, socks
    return p.pid, socks


def _run_snapshot(ctx, master, out):
    """`cowtrace snapshot -o out master`; returns (wall ms, CPU ms) and
    checks that every worker's trace shows it copied most of the list."""
    t0 = time.monotonic()
    p = subprocess.Popen([ctx.cowtrace, "snapshot", *ctx.live_opts, "-o", out, str(master)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=ctx.env)
    _, status, ru = os.wait4(p.pid, 0)
    ms = (time.monotonic() - t0) * 1000
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise BenchError(f"cowtrace snapshot {master} failed (status {status}): {err.strip()[-1000:]}")
    rep = subprocess.run([ctx.cowtrace, "report", "--format", "json", out], capture_output=True, text=True,
                         timeout=600)
    if rep.returncode != 0:
        raise BenchError(f"cowtrace report {out} failed: {rep.stderr.strip()[-1000:]}")
    procs = json.loads(rep.stdout)["processes"]
    min_pages = _live_n(ctx) * 40 // 4096 * 0.8
    copied = [pr.get("cow_pages", 0) for pr in procs if pr.get("pid") != master]
    if len(copied) != LIVE_WORKERS or min(copied) < min_pages:
        raise BenchError(f"snapshot of {master}: workers' copied pages {copied}; expected "
                         f"{LIVE_WORKERS} of at least {min_pages:.0f}")
    shutil.rmtree(out, ignore_errors=True)
    return ms, (ru.ru_utime + ru.ru_stime) * 1000


_snapshot_samples = {}


def _snapshot(what):
    def sample(ctx):
        if ctx.rep not in _snapshot_samples:
            master, _ = _live_server(ctx)
            _snapshot_samples[ctx.rep] = _run_snapshot(ctx, master, os.path.join(ctx.tmp, f"snap-{ctx.rep}"))
        return _snapshot_samples[ctx.rep][what]
    return sample


def _proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")   # utime, stime


def watch_cpu(ctx):
    """Percent of one core `cowtrace watch` (page counts only, every 5 s)
    uses over 30 s; checks the timeline has every worker copying."""
    master, _ = _live_server(ctx)
    out = os.path.join(ctx.tmp, f"watch-{ctx.rep}")
    interval, seconds = ("0.2", 1.5) if ctx.quick else ("5", 30.0)
    w = subprocess.Popen([ctx.cowtrace, "watch", *ctx.live_opts, "--interval", interval, "--causes-every", "0",
                          "-o", out,
                          str(master)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ctx.env)
    try:
        time.sleep(0.5)
        c0, t0 = _proc_cpu_seconds(w.pid), time.monotonic()
        time.sleep(seconds)
        c1, t1 = _proc_cpu_seconds(w.pid), time.monotonic()
    finally:
        w.terminate()
        _, err = w.communicate(timeout=60)
    if w.returncode != 0:
        raise BenchError(f"cowtrace watch {master} failed (status {w.returncode}): {err.decode()[-1000:]}")
    with open(os.path.join(out, "timeline.jsonl")) as f:
        lines = [json.loads(line) for line in f]
    copying = {r["pid"] for r in lines if r.get("copied_bytes", 0) > 0 and r.get("pid") != master}
    if len(copying) != LIVE_WORKERS:
        raise BenchError(f"watch {master}: timeline shows {len(copying)} workers copying, "
                         f"expected {LIVE_WORKERS}")
    shutil.rmtree(out, ignore_errors=True)
    return 100 * (c1 - c0) / (t1 - t0)


def _ping_until(socks, stop):
    """Round-robin one-byte requests to the workers until stop() is true;
    returns the latencies in microseconds."""
    import socket
    conns = []
    for path in socks:
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(path)
        conns.append(c)
    lat = []
    try:
        while not stop() or len(lat) < 20:
            for c in conns:
                t0 = time.perf_counter()
                c.sendall(b"p")
                if c.recv(1) != b"x":
                    raise BenchError("a worker answered a request wrongly")
                lat.append((time.perf_counter() - t0) * 1e6)
    finally:
        for c in conns:
            c.close()
    return lat


_latency_samples = {}


# The floor: a process that does nothing but spin in user space, at the
# priority the snapshot takes (SCHED_IDLE unless bench --priority normal),
# on one CPU: no system call, no memory traffic, no lock. What the workers'
# latency shows with it running is what any process keeping one CPU busy
# costs them on this machine, whatever its work; a snapshot has at least
# one CPU's worth of work to do.
SPINNER = r"""
import os, sys
if sys.argv[1] == "idle":
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
print("spinning", flush=True)
while True:
    pass
"""


def _latencies(ctx):
    """(during a snapshot, without one, beside a spinner): each a list of latencies."""
    if ctx.rep not in _latency_samples:
        master, socks = _live_server(ctx)
        out = os.path.join(ctx.tmp, f"latsnap-{ctx.rep}")
        t0 = time.monotonic()
        p = subprocess.Popen([ctx.cowtrace, "snapshot", *ctx.live_opts, "-o", out, str(master)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ctx.env)
        during = _ping_until(socks, lambda: p.poll() is not None)
        seconds = time.monotonic() - t0
        if p.returncode != 0:
            raise BenchError(f"cowtrace snapshot {master} (under requests) failed (status {p.returncode})")
        shutil.rmtree(out, ignore_errors=True)
        t_end = time.monotonic() + (0.3 if ctx.quick else 3.0)
        without = _ping_until(socks, lambda: time.monotonic() > t_end)
        prio = "normal" if "normal" in ctx.live_opts else "idle"
        spin = subprocess.Popen([ctx.python, "-c", SPINNER, prio], stdout=subprocess.PIPE, env=ctx.env)
        try:
            if spin.stdout.readline() != b"spinning\n":
                raise BenchError(f"the spinner did not start (status {spin.poll()})")
            t_end = time.monotonic() + seconds
            beside = _ping_until(socks, lambda: time.monotonic() > t_end)
        finally:
            spin.kill()
            spin.wait()
            spin.stdout.close()
        _latency_samples[ctx.rep] = (during, without, beside)
    return _latency_samples[ctx.rep]


def _pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def _latency(side, q):
    def sample(ctx):
        return _pct(_latencies(ctx)[side], q)
    return sample


MEASUREMENTS += [
    Measure("snapshot-wall", "cowtrace snapshot -o DIR of a master with ~1 GiB of ints and 4 workers that each "
            "read all of it (causes included): wall time", 2000.0, "ms", _snapshot(0), None, absolute),
    Measure("snapshot-cpu", "the same snapshot's CPU time (user + system, all threads)", 2000.0, "ms",
            _snapshot(1), None, absolute),
    Measure("watch-cpu", "cowtrace watch --causes-every 0 (page counts every 5 s) of the same set-up, "
            "30 s: percent of one core", 1.0, "%", watch_cpu, None, absolute, sample_unit="%"),
    Measure("latency-median", "workers' request latency (unix-socket ping, 4 workers round-robin) while a "
            "snapshot runs, median, over the same without one", 1.10, "x", _latency(0, 0.5), _latency(1, 0.5),
            ratio, baseline_key="latency-median", sample_unit="us"),
    Measure("latency-p99", "the same, 99th percentile", 1.10, "x", _latency(0, 0.99), _latency(1, 0.99),
            ratio, baseline_key="latency-p99", sample_unit="us"),
    Measure("latency-floor-median", "the same median while a do-nothing process spins on one CPU at the "
            "snapshot's priority for as long as the snapshot took (what keeping one CPU busy costs here)",
            1.10, "x", _latency(2, 0.5), _latency(1, 0.5), ratio, baseline_key="latency-median",
            sample_unit="us", informational=True),
    Measure("latency-floor-p99", "the same, 99th percentile", 1.10, "x", _latency(2, 0.99), _latency(1, 0.99),
            ratio, baseline_key="latency-p99", sample_unit="us", informational=True),
]


# ---------------------------------------------------------------- runner

def run(ctx_args, reps, only=None, out=print):
    """Runs the table; returns the process exit status."""
    chosen = [m for m in MEASUREMENTS if not only or m.name in only]
    if only:
        unknown = sorted(set(only) - {m.name for m in MEASUREMENTS})
        if unknown:
            print(f"bench: unknown --only name(s) {', '.join(unknown)}; known: "
                  f"{', '.join(m.name for m in MEASUREMENTS)}", file=sys.stderr)
            return 2
    tmp = tempfile.mkdtemp(prefix="cowtrace-bench-scale-")
    ctx = Ctx(tmp=tmp, **ctx_args)
    traced = {m.name: [] for m in chosen}
    base = {}
    try:
        out(f"bench --scale: {len(chosen)} measurement(s), {reps} repetition(s), "
            f"each baseline and traced side interleaved{' (quick: paths only, timings not judged)' if ctx.quick else ''}",
            flush=True)
        for r in range(reps):
            ctx.rep = r
            done_keys = set()
            for m in chosen:
                key = m.baseline_key or m.name
                if m.baseline is not None and key not in done_keys:
                    done_keys.add(key)
                    v = m.baseline(ctx)
                    base.setdefault(key, []).append(v)
                    out(f"  rep {r + 1}/{reps} {key + ' untraced':>26}: {v:10.1f} {m.sample_unit}", flush=True)
                v = m.traced(ctx)
                traced[m.name].append(v)
                out(f"  rep {r + 1}/{reps} {m.name:>26}: {v:10.1f} {m.sample_unit}", flush=True)
    except BenchError as e:
        out(f"bench: {e}", flush=True)
        return 2
    finally:
        for cleanup in _cleanups:
            try:
                cleanup()
            except OSError:
                pass
        shutil.rmtree(tmp, ignore_errors=True)

    out("\nScale (medians of interleaved repetitions)", flush=True)
    for m in chosen:
        t = statistics.median(traced[m.name])
        b = statistics.median(base[m.baseline_key or m.name]) if m.baseline is not None else None
        score = (m.score or ratio)(t, b)
        if ctx.quick:
            verdict = "not judged (--quick)"
        elif m.informational:
            verdict = (f"floor, not judged: {'under' if score <= m.target else 'OVER'} the {m.target:g} {m.unit} "
                       f"target by itself")
        else:
            verdict = f"target <= {m.target:g} {m.unit}: {'PASS' if score <= m.target else 'FAIL'}"
        side = f"{t:10.1f} {m.sample_unit}" + (f" vs untraced {b:10.1f}" if b is not None else "")
        out(f"  {m.name:>18}: {side}  -> {score:6.2f} {m.unit}  {verdict}", flush=True)
        out(f"  {'':>18}  ({m.what})")
    return 0
