#!/usr/bin/env python3
"""`cowtrace snapshot` and `cowtrace watch` yield the CPU and the disk to
the server they examine (analyzer/lowprio.h). Each is held at a test-only
pause (COWTRACE_TEST_PAUSE, analyzer/testhook.h) on a running tree
(tests/workloads/live_faults.py, a master and two workers), and this reads
the scheduling policy and nice of every thread of the cowtrace process
from /proc/PID/task/TID/stat (fields 41 and 19) and each thread's I/O
class with ionice -p TID; snapshot is held in one of its reader threads
(two workers, two CPUs: one per thread), so its threads are checked too.
Every cowtrace is started at SCHED_OTHER, nice 0 (root may raise its own
children), so the answers do not depend on how this test was started:

  default                          SCHED_IDLE (5), idle I/O class
  under tests/progs/nosetsched     SCHED_OTHER (0), nice 19, idle I/O class
   (seccomp: sched_setscheduler and sched_setattr fail with EPERM, as a
   locked-down container's profile can make them)
  --priority normal                SCHED_OTHER, nice 0, this test's I/O class

and each then goes on and does its job: exit 0 (watch: by SIGTERM), the
worker's trace file written (snapshot -o) or a sample of the worker in
timeline.jsonl (watch -o), no complaint about the priority on stderr.
If this machine refuses SCHED_IDLE to a plain child (checked first), the
default expects the fallback too. A bad --priority value is a one-line
error, exit 2.
"""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402
from test_live_faults import Pause, start, stop  # noqa: E402

SCHED_OTHER, SCHED_IDLE = 0, 5
EPERM = 1

# Tries SCHED_IDLE on itself: "ok", or the errno it was refused with.
PROBE = ("import os\n"
         "try:\n"
         "    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))\n"
         "    print('ok')\n"
         "except OSError as e:\n"
         "    print(e.errno)\n")


def at_normal_priority():
    """preexec_fn: SCHED_OTHER at nice 0, whatever this test runs at."""
    os.sched_setscheduler(0, SCHED_OTHER, os.sched_param(0))
    os.setpriority(os.PRIO_PROCESS, 0, 0)


def io_class(tid):
    io = subprocess.run(["ionice", "-p", str(tid)], capture_output=True, text=True, timeout=30)
    ct.check(io.returncode == 0, f"ionice -p {tid}: {io.stderr.strip()}")
    return io.stdout.split(":")[0].strip()


def priorities_of(pid):
    """{tid: (policy, nice, I/O class word as ionice prints it)} for every
    thread of pid."""
    got = {}
    for tid in sorted(int(x) for x in os.listdir(f"/proc/{pid}/task")):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:    # a thread that ended just now
            continue
        got[tid] = (int(fields[38]), int(fields[16]), io_class(tid))    # stat fields 41 and 19
    return got


def wait_for_sample(path, pid, proc, timeout=30):
    """Until DIR/timeline.jsonl holds a sample of pid (watch -o)."""
    deadline = time.time() + timeout
    while True:
        try:
            with open(path) as f:
                lines = [json.loads(x) for x in f.read().splitlines()]
        except (FileNotFoundError, ValueError):  # not yet, or a line half-written
            lines = []
        if any(x.get("event") == "sample" and x.get("pid") == pid for x in lines):
            return
        ct.check(proc.poll() is None, f"cowtrace watch exited {proc.returncode} without a sample of {pid}")
        ct.check(time.time() < deadline, f"no sample of worker {pid} in {path} after {timeout} s")
        time.sleep(0.05)


def held(t, what, args, point, worker, wrap=()):
    """Runs `[WRAP] cowtrace WHAT -o OUT ARGS` started at SCHED_OTHER,
    nice 0, paused at POINT for worker; the priorities of its threads
    there. It must then go on, write the worker's file or sample, and end
    with status 0 (watch: by SIGTERM)."""
    out = t.sub(f"out-{what}")
    shutil.rmtree(out, ignore_errors=True)
    pause = Pause(t, point, worker)
    cmd = list(wrap) + [ct.cowtrace_bin(), what, "-o", out] + args
    proc = subprocess.Popen(cmd, env=pause.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=at_normal_priority)
    try:
        pause.wait(proc)
        got = priorities_of(proc.pid)
        pause.release(proc)
        if what == "watch":
            wait_for_sample(os.path.join(out, "timeline.jsonl"), worker, proc)
            proc.terminate()
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.unlink(pause.fifo)    # the next call's pause at the same point makes it anew
    ct.log(f"$ {' '.join(cmd)} at {point} {worker}: (policy, nice, io) of each thread {got} -> {proc.returncode}\n"
           f"{err.rstrip()}")
    ct.check(proc.returncode == 0, f"{' '.join(cmd)} exited {proc.returncode}: {err.strip()}")
    if what == "snapshot":
        ct.check(os.path.exists(os.path.join(out, f"{worker}.cowtrace")), f"snapshot wrote no file for {worker}")
    said = [x for x in err.splitlines() if any(w in x.lower() for w in ("sched", "priority", "nice", "permitted"))]
    ct.check(not said, f"cowtrace {what} complained about its priority: {said}")
    return got


def probe(wrap=()):
    r = subprocess.run(list(wrap) + [ct.python(), "-c", PROBE], capture_output=True, text=True, timeout=30,
                       preexec_fn=at_normal_priority)
    if r.returncode == 125:
        raise ct.Skip(f"nosetsched: {r.stderr.strip()}")
    ct.check(r.returncode == 0, f"{' '.join(wrap)} python -c PROBE exited {r.returncode}: {r.stderr.strip()}")
    return r.stdout.strip()


def run():
    args = ct.parse_args(modes=("auto",), extra=lambda ap: ap.add_argument("--nosetsched", required=True))
    ct.require_build(need_shim=False)
    ct.require_root()
    nosetsched = [os.path.abspath(args.nosetsched)]
    t = ct.tempdir("live-priority")
    shutil.copy(ct.workload("live_faults.py"), t.sub("live_faults.py"))
    os.chmod(t.sub("live_faults.py"), 0o644)
    mine_io = io_class(os.getpid())
    ct.check(mine_io != "idle", "this test itself runs in the idle I/O class: nothing to tell apart")

    # The filter must do what this test says it does, and the machine must
    # let a plain process take SCHED_IDLE for the default to be expected.
    filtered = probe(nosetsched)
    ct.check(filtered == str(EPERM), f"SCHED_IDLE under nosetsched: {filtered}, expected errno {EPERM}")
    plain = probe()
    ct.log(f"SCHED_IDLE for a plain child: {plain}; under nosetsched: errno {filtered}")
    fallback = (SCHED_OTHER, 19, "idle")
    default = (SCHED_IDLE, None, "idle") if plain == "ok" else fallback
    normal = (SCHED_OTHER, 0, mine_io)

    proc, master, workers = start(t, "prio", 2, py=ct.python())
    try:
        # snapshot: the worker of the higher pid (the tree is listed in
        # /proc's order, by pid) is read by the second reader thread
        # (ct_snapshot_write_siblings: one group of siblings per CPU), so
        # both threads are alive at its pause.
        threads = 2 if (os.cpu_count() or 1) >= 2 else 1
        for what, point, w, extra, min_threads in (
                ("snapshot", "pages", max(workers), [], threads),
                ("watch", "counting", workers[0], ["-i", "0.3", "--causes-every", "0"], 1)):
            for name, wrap, prio_args, want in (("default", (), [], default),
                                                ("under nosetsched", nosetsched, [], fallback),
                                                ("--priority normal", (), ["--priority", "normal"], normal)):
                got = held(t, what, extra + prio_args + [str(master)], point, w, wrap)
                ct.check(len(got) >= min_threads,
                         f"cowtrace {what} ({name}) had {len(got)} thread(s) at its pause, expected {min_threads}")
                for tid, (policy, nice, io) in got.items():
                    ok = policy == want[0] and (want[1] is None or nice == want[1]) and io == want[2]
                    ct.check(ok, f"cowtrace {what} ({name}), thread {tid}: policy {policy}, nice {nice}, "
                                 f"I/O class {io!r}; expected policy {want[0]}"
                                 + (f", nice {want[1]}" if want[1] is not None else "") + f", I/O class {want[2]!r}")
        r = subprocess.run([ct.cowtrace_bin(), "snapshot", "--priority", "low", str(master)], capture_output=True,
                           text=True, timeout=60)
        ct.check(r.returncode == 2 and r.stderr.count("\n") == 1 and "priority 'low'" in r.stderr,
                 f"--priority low: exit {r.returncode}, stderr {r.stderr!r}")
    finally:
        stop(proc)


ct.main(run)
