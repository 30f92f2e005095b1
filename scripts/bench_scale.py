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


# 3: how long the parent's fork() waits, per GiB of inherited memory.
def _fork_n(ctx):
    return 400000 if ctx.quick else 24000000


def _forkpause(children, mode=None):
    def sample(ctx):
        v = _run_workload(ctx, "forkpause", _fork_n(ctx), children, mode)
        return v["FORKMS"] / max(v["GIB"], 1e-6)
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
    Measure("forkpause-1", "slowest fork() of a parent with 24,000,000 ints (~1 GiB), 1 child, uffd-async, "
            "over the untraced fork", 20.0, "ms/GiB", _forkpause(1, "uffd-async"), _forkpause(1),
            difference, baseline_key="fork1", sample_unit="ms/GiB"),
    Measure("forkpause-4", "slowest fork() of a parent with 24,000,000 ints (~1 GiB), 4 children, uffd-async, "
            "over the untraced fork", 20.0, "ms/GiB", _forkpause(4, "uffd-async"), _forkpause(4),
            difference, baseline_key="fork4", sample_unit="ms/GiB"),
    # 4: big reports (64 workers x 250,000 copied pages, precise with stacks):
    # `cowtrace report` text and JSON in <= 5 s and <= 2 GiB. Slot left for
    # the analyzer's measurement: append its Measure entries here.
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
        shutil.rmtree(tmp, ignore_errors=True)

    out("\nScale (medians of interleaved repetitions)", flush=True)
    for m in chosen:
        t = statistics.median(traced[m.name])
        b = statistics.median(base[m.baseline_key or m.name]) if m.baseline is not None else None
        score = (m.score or ratio)(t, b)
        verdict = ("not judged (--quick)" if ctx.quick
                   else f"target <= {m.target:g} {m.unit}: {'PASS' if score <= m.target else 'FAIL'}")
        side = f"{t:10.1f} {m.sample_unit}" + (f" vs untraced {b:10.1f}" if b is not None else "")
        out(f"  {m.name:>18}: {side}  -> {score:6.2f} {m.unit}  {verdict}", flush=True)
        out(f"  {'':>18}  ({m.what})")
    return 0
