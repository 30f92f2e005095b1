#!/usr/bin/env python3
"""`cowtrace snapshot` and `cowtrace watch` yield the CPU and the disk to
the server they examine (analyzer/lowprio.h): while each is held at a
test-only pause (COWTRACE_TEST_PAUSE, analyzer/testhook.h) on a running
tree (tests/workloads/live_faults.py), this reads the cowtrace process's
scheduling policy and nice from /proc/PID/stat and its I/O class with
ionice -p. By default: SCHED_IDLE (or, where the kernel refuses it, nice
19) and the idle I/O class; with --priority normal: the policy, nice and
I/O class it was started with (this test's own). Then each goes on and
exits 0. A bad --priority value is a one-line error, exit 2.
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402
from test_live_faults import Pause, start, stop  # noqa: E402

SCHED_OTHER, SCHED_IDLE = 0, 5


def priority_of(pid):
    """(policy, nice, I/O class word as ionice prints it) of pid."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    policy, nice = int(fields[38]), int(fields[16])     # stat fields 41 and 19
    io = subprocess.run(["ionice", "-p", str(pid)], capture_output=True, text=True, timeout=30)
    ct.check(io.returncode == 0, f"ionice -p {pid}: {io.stderr.strip()}")
    return policy, nice, io.stdout.split(":")[0].strip()


def held(t, what, args, point, worker):
    """Runs `cowtrace WHAT ARGS` paused at POINT for worker; its priority
    there; it must then go on and end with status 0 (watch: by SIGTERM)."""
    pause = Pause(t, point, worker)
    proc = subprocess.Popen([ct.cowtrace_bin(), what] + args, env=pause.env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        pause.wait(proc)
        got = priority_of(proc.pid)
        pause.release(proc)
        if what == "watch":
            proc.terminate()
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.unlink(pause.fifo)    # the next call's pause at the same point makes it anew
    ct.log(f"$ cowtrace {what} {' '.join(args)} at {point}: policy, nice, io {got} -> {proc.returncode}\n"
           f"{err.rstrip()}")
    ct.check(proc.returncode == 0, f"cowtrace {what} {' '.join(args)} exited {proc.returncode}: {err.strip()}")
    return got


def run():
    ct.parse_args(modes=("auto",))
    ct.require_build(need_shim=False)
    ct.require_root()
    t = ct.tempdir("live-priority")
    shutil.copy(ct.workload("live_faults.py"), t.sub("live_faults.py"))
    os.chmod(t.sub("live_faults.py"), 0o644)
    mine = (os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, 0), priority_of(os.getpid())[2])
    ct.check(mine[0] != SCHED_IDLE and mine[2] != "idle", f"this test itself runs at {mine}: nothing to tell apart")
    proc, master, workers = start(t, "prio", 1, py=ct.python())
    try:
        w = workers[0]
        for what, point, extra in (("snapshot", "pages", ["-o", t.sub("snap")]),
                                   ("watch", "counting", ["-i", "0.3", "--causes-every", "0"])):
            policy, nice, io = held(t, what, extra + [str(master)], point, w)
            ct.check(policy == SCHED_IDLE or nice == 19,
                     f"cowtrace {what}: policy {policy}, nice {nice}; expected SCHED_IDLE or nice 19")
            ct.check(io == "idle", f"cowtrace {what}: I/O class {io!r}, expected idle")
            got = held(t, what, extra + ["--priority", "normal", str(master)], point, w)
            ct.check(got == mine, f"cowtrace {what} --priority normal runs at {got}, started at {mine}")
            shutil.rmtree(t.sub("snap"), ignore_errors=True)
        r = subprocess.run([ct.cowtrace_bin(), "snapshot", "--priority", "low", str(master)], capture_output=True,
                           text=True, timeout=60)
        ct.check(r.returncode == 2 and r.stderr.count("\n") == 1 and "priority 'low'" in r.stderr,
                 f"--priority low: exit {r.returncode}, stderr {r.stderr!r}")
    finally:
        stop(proc)


ct.main(run)
