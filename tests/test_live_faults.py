#!/usr/bin/env python3
"""Faults and bad input for `cowtrace snapshot` and `cowtrace watch` on a
running process tree (tests/workloads/live_faults.py: a master and
workers that copied pages, never run under cowtrace). The faults are made
at an exact moment with the analyzer's test-only pause
(COWTRACE_TEST_PAUSE, analyzer/testhook.h): cowtrace stops at the named
point for one pid, this test kills that worker (and, for reuse, makes
another process take its pid), then lets cowtrace go on.

--case exit     a worker killed after its page sets were read and before its
                copied pages were (it stays a zombie: the master does not
                reap): no crash, exit 0, stderr says it exited while read,
                its file is there and marked incomplete, and `cowtrace
                report` says so (JSON: complete false and the incomplete
                note; text: the incomplete marker and the note); the other
                worker's file is complete.
--case reuse    inside a new PID namespace (unshare -p -f --mount-proc), where
                /proc/sys/kernel/ns_last_pid makes the next process take a
                chosen pid; the master reaps: (1) a worker killed after the
                tree was listed and before it was read, an unrelated process
                (sleep) given its pid: skipped with a note on stderr and in
                the -o listing, no file for that pid; (2) the same after its
                page sets were read: the file mixing two processes removed,
                the note; (3) a worker killed (reaped, pid left free) after
                its page sets were read: its file marked incomplete.
--case bad-input  one-line errors naming the PID and why, exit 2, no -o DIR
                created, from snapshot and watch: a process made non-dumpable
                (prctl PR_SET_DUMPABLE 0; cowtrace as its own user, nobody:
                root may read it anyway), a zombie.
                A forking program that is not Python (bash and a subshell):
                exit 0, page sets only, the report says "not a Python
                process" for each, the -o listing says [not Python].
--case watch-vanish  `cowtrace watch -o DIR`, a worker killed (left a zombie)
                in its first sample: after the tree was listed, and (counts
                only) after its maps were read and its pagemap opened: no
                sample of it (a zombie's pagemap reads as no page, which
                counted would be a sample of zeros), one "gone" line; the
                other worker sampled.
(A pid that does not exist and another user's pid: test_snapshot.py
--case root and --case nobody, test_watch.py --case errors.)
"""
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402


class Pause:
    """The handshake of COWTRACE_TEST_PAUSE=POINT:PID:FIFO (testhook.h)."""

    def __init__(self, t, point, pid):
        self.fifo = t.sub(f"pause-{point}-{pid}")
        os.mkfifo(self.fifo)
        self.env = dict(ct.clean_env(), COWTRACE_TEST_PAUSE=f"{point}:{pid}:{self.fifo}")
        self.point, self.pid = point, pid
        # Open for reading now (without waiting for a writer), so cowtrace's
        # open for writing at the pause does not block.
        self.rfd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)

    def wait(self, proc, timeout=60):
        """Until cowtrace says it paused; fails if it exits first."""
        deadline, got = time.time() + timeout, b""
        while not got.endswith(b"\n"):
            ct.check(proc.poll() is None, f"cowtrace exited {proc.returncode} before the pause {self.point}")
            ct.check(time.time() < deadline, f"cowtrace did not reach the pause {self.point} in {timeout} s")
            if select.select([self.rfd], [], [], 0.2)[0]:
                got += os.read(self.rfd, 100)
        os.close(self.rfd)
        ct.check(got.decode() == f"{self.point} {self.pid}\n", f"the pause said {got!r}")

    def release(self, proc, timeout=60):
        deadline = time.time() + timeout
        while True:
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError:   # ENXIO: cowtrace has not opened it for reading yet
                ct.check(proc.poll() is None, f"cowtrace exited {proc.returncode} at the pause")
                ct.check(time.time() < deadline, "cowtrace did not wait at the pause")
                time.sleep(0.02)
        os.write(fd, b"go\n")
        os.close(fd)


def start(t, tag, workers, reap=False, pre=(), py=None):
    ready = t.sub(f"ready-{tag}")
    args = list(pre) + [py or ct.python(), t.sub("live_faults.py"), "--ready", ready, "--workers", str(workers)]
    proc = subprocess.Popen(args + (["--reap"] if reap else []), cwd=t.path, stdin=subprocess.DEVNULL,
                            start_new_session=True, env=ct.clean_env())
    pids = ct.wait_ready_file(proc, ready)
    return proc, pids[0], pids[1:]


def stop(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def kill_and_wait(pid, want_gone):
    """SIGKILL pid; wait until it is a zombie, or (want_gone) reaped."""
    os.kill(pid, signal.SIGKILL)
    deadline = time.time() + 10
    while True:
        s = state(pid)
        if s is None or (s in "ZX" and not want_gone):
            return
        ct.check(time.time() < deadline, f"pid {pid} still {s} 10 s after SIGKILL")
        time.sleep(0.01)


def paused_snapshot(t, args, point, pid, at_pause):
    """cowtrace snapshot ARGS, paused at POINT for PID, at_pause() run there."""
    pause = Pause(t, point, pid)
    cmd = [ct.cowtrace_bin(), "snapshot"] + args
    proc = subprocess.Popen(cmd, env=pause.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pause.wait(proc)
        at_pause()
        pause.release(proc)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    ct.log(f"$ COWTRACE_TEST_PAUSE={point}:{pid}:... {' '.join(cmd)} -> {proc.returncode}\n"
           f"{out.rstrip()}\n{err.rstrip()}")
    return proc.returncode, out, err


def text_report(out):
    r = subprocess.run([ct.cowtrace_bin(), "report", out], capture_output=True, text=True, timeout=120)
    ct.check(r.returncode == 0, f"cowtrace report exited {r.returncode}: {r.stderr}")
    return r.stdout


def check_incomplete(out, pid, others):
    """pid's file is there and the report says it is incomplete, and why;
    the others' are complete."""
    ct.check(os.path.exists(os.path.join(out, f"{pid}.cowtrace")), f"no file for worker {pid}")
    procs = ct.processes(ct.report(out))
    ct.check(pid in procs, f"worker {pid} not in the report")
    p = procs[pid]
    why = [n for n, lv in zip(p["notes"], p["note_levels"]) if lv == "incomplete"]
    ct.log(f"worker {pid}: complete {p['complete']}, exit {p['exit']}, incomplete notes {why}")
    ct.check(p["complete"] is False, f"worker {pid}: JSON says complete")
    ct.check(any("exited while it was read" in n for n in why), f"worker {pid}: no incomplete note saying why")
    for o in others:
        ct.check(procs[o]["complete"] is True, f"worker {o}, not killed, is incomplete")
    text = text_report(out)
    ct.check("incomplete trace" in text, "the text report does not mark an incomplete trace")
    lines = [x for x in text.splitlines() if "incomplete:" in x and "exited while it was read" in x]
    ct.check(any(x.split()[0] == str(pid) for x in lines), f"the text report has no incomplete note for {pid}")


def case_exit(t):
    proc, master, (w1, w2) = start(t, "exit", 2)
    try:
        out = t.sub("out")
        rc, so, se = paused_snapshot(t, ["-o", out, str(master)], "pages", w1, lambda: kill_and_wait(w1, False))
    finally:
        stop(proc)
    ct.check(rc == 0, f"snapshot exited {rc}")
    ct.check(f"PID {w1}: exited while it was read" in se and "incomplete" in se, f"stderr: {se!r}")
    ct.check(any(x.startswith(f"pid {w1} ") and "incomplete" in x for x in so.splitlines()),
             "the -o listing does not mark the worker incomplete")
    check_incomplete(out, w1, [w2])


def take_pid(pid):
    """An unrelated process (sleep) made to take pid: the next pid of this
    PID namespace set to pid - 1, then one fork."""
    with open("/proc/sys/kernel/ns_last_pid", "w") as f:
        f.write(str(pid - 1))
    imp = subprocess.Popen(["sleep", "120"])
    ct.check(imp.pid == pid, f"the impostor got pid {imp.pid}, not {pid}")
    return imp


def case_reuse_inner(t):
    proc, master, (w1, w2, w3) = start(t, "reuse", 3, reap=True)
    impostors = []

    def reuse(pid):
        kill_and_wait(pid, True)
        impostors.append(take_pid(pid))

    try:
        out1, out2, out3 = t.sub("out1"), t.sub("out2"), t.sub("out3")
        r1 = paused_snapshot(t, ["-o", out1, str(master)], "listed", w1, lambda: reuse(w1))
        r2 = paused_snapshot(t, ["-o", out2, str(master)], "pages", w2, lambda: reuse(w2))
        r3 = paused_snapshot(t, ["-o", out3, str(master)], "pages", w3, lambda: kill_and_wait(w3, True))
    finally:
        for imp in impostors:
            imp.kill()
            imp.wait()
        stop(proc)
    for (rc, so, se), pid, want, out in ((r1, w1, "its pid now names another process", out1),
                                         (r2, w2, "its pid was taken by another process while it was read", out2)):
        ct.check(rc == 0, f"snapshot (pid {pid} reused) exited {rc}")
        ct.check(f"PID {pid}: {want}" in se and "skipped" in se, f"pid {pid} reused: stderr {se!r}")
        ct.check(any(x.startswith(f"pid {pid} ") and "skipped" in x and want in x for x in so.splitlines()),
                 f"pid {pid} reused: the -o listing does not say it was skipped: {so!r}")
        ct.check(not os.path.exists(os.path.join(out, f"{pid}.cowtrace")), f"a file for the reused pid {pid}")
        procs = ct.processes(ct.report(out))
        ct.check(pid not in procs and master in procs, f"pid {pid} reused: the report has pids {sorted(procs)}")
    rc, so, se = r3
    ct.check(rc == 0, f"snapshot (pid {w3} exited and reaped) exited {rc}")
    ct.check(f"PID {w3}: exited while it was read" in se, f"stderr: {se!r}")
    check_incomplete(out3, w3, [])


def case_reuse(t):
    if os.environ.get("COWTRACE_TEST_IN_PIDNS") == "1":
        return case_reuse_inner(t)
    unshare = shutil.which("unshare")
    if not unshare:
        raise ct.Skip("unshare (util-linux) not installed")
    cmd = [unshare, "-p", "-f", "--mount-proc", sys.executable, os.path.abspath(__file__), "--case", "reuse"]
    r = subprocess.run(cmd, env=dict(os.environ, COWTRACE_TEST_IN_PIDNS="1"), capture_output=True, text=True,
                       timeout=150)
    ct.log(f"$ {' '.join(cmd)} -> {r.returncode}\n{r.stdout.rstrip()}\n{r.stderr.rstrip()}")
    if r.returncode == ct.SKIP:
        raise ct.Skip("inside the PID namespace")
    if r.returncode != 0 and r.stderr.startswith("unshare:"):
        raise ct.Skip(f"no new PID namespace here (a container without CAP_SYS_ADMIN?): {r.stderr.strip()}")
    ct.check(r.returncode == 0, "the test inside the PID namespace failed")


def case_bad_input(t):
    py = "/usr/bin/python3.11"
    if not os.access(py, os.X_OK):
        raise ct.Skip(f"{py} missing")
    pre, cowtrace = ct.nobody_cowtrace(t)

    def refused(pid, want, pre=()):
        for cmd in ("snapshot", "watch"):
            out = t.sub(f"refused-{cmd}-{pid}")
            r = subprocess.run(list(pre) + [cowtrace, cmd, "-o", out, str(pid)], capture_output=True, text=True,
                               timeout=60)
            ct.log(f"{cmd} {pid} -> {r.returncode}: {r.stderr.rstrip()}")
            ct.check(r.returncode == 2, f"{cmd} of {pid} ({want}): exit {r.returncode}")
            ct.check(len(r.stderr.strip().splitlines()) == 1 and f"PID {pid}" in r.stderr and want in r.stderr,
                     f"{cmd} of {pid}: want one line naming it and {want!r}: {r.stderr!r}")
            ct.check(not os.path.exists(out), f"a refused {cmd} created its output directory")

    # non-dumpable, as its own user
    nd = subprocess.Popen(pre + [py, "-c", "import ctypes, sys, time\n"
                                 "ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)\n"   # PR_SET_DUMPABLE, 0
                                 "print('ready', flush=True)\ntime.sleep(60)\n"],
                          stdout=subprocess.PIPE, text=True)
    try:
        ct.check(nd.stdout.readline() == "ready\n", "the non-dumpable process did not start")
        refused(nd.pid, "not dumpable", pre=pre)
    finally:
        nd.kill()
        nd.wait()

    # a zombie (exited, not reaped by this test yet)
    z = subprocess.Popen(["true"])
    deadline = time.time() + 10
    while state(z.pid) != "Z":
        ct.check(time.time() < deadline, f"pid {z.pid} did not become a zombie")
        time.sleep(0.01)
    try:
        refused(z.pid, "has exited")
    finally:
        z.wait()

    # not Python: bash and a subshell of it (a fork that runs no program)
    sh = subprocess.Popen(["bash", "-c", "( x=$(head -c 300000 /dev/zero | tr '\\0' a); echo ready; sleep 60; : ) & "
                           "wait"], stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        ct.check(sh.stdout.readline() == "ready\n", "the shell did not start")
        kids = [int(d) for d in os.listdir("/proc") if d.isdigit() and ct.ppid_of(int(d)) == sh.pid]
        sub = [k for k in kids if os.readlink(f"/proc/{k}/exe") == os.readlink(f"/proc/{sh.pid}/exe")]
        ct.check(len(sub) == 1, f"the subshell: children {kids}")
        out = t.sub("not-python")
        r = subprocess.run([cowtrace, "snapshot", "-o", out, str(sh.pid)], capture_output=True, text=True,
                           timeout=60)
        ct.log(f"snapshot of bash -> {r.returncode}\n{r.stdout}{r.stderr}")
    finally:
        os.killpg(sh.pid, signal.SIGKILL)
        sh.wait()
    ct.check(r.returncode == 0, f"snapshot of a shell exited {r.returncode}: {r.stderr}")
    listed = [x for x in r.stdout.splitlines() if x.startswith("pid ")]
    ct.check(len(listed) >= 2 and all("[not Python]" in x for x in listed), f"the -o listing: {r.stdout!r}")
    procs = ct.processes(ct.report(out))
    for pid in (sh.pid, sub[0]):
        ct.check(pid in procs, f"pid {pid} not in the report")
        ct.check(any("not a Python process: page sets only" in n for n in procs[pid]["notes"]),
                 f"pid {pid}: the report does not say it is not Python: {procs[pid]['notes']}")
    ct.check(procs[sub[0]]["fresh_pages"] + procs[sub[0]]["cow_pages"] > 0,
             f"the subshell: no page of its own: {procs[sub[0]]}")
    ct.check("not a Python process" in text_report(out), "the text report does not say it")


def watch_vanish(t, point, extra):
    proc, master, (w1, w2) = start(t, f"vanish-{point}", 2)
    out = t.sub(f"watch-{point}")
    pause = Pause(t, point, w1)
    cmd = [ct.cowtrace_bin(), "watch", "-i", "0.3", "-o", out] + extra + [str(master)]
    watch = subprocess.Popen(cmd, env=pause.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pause.wait(watch)
        kill_and_wait(w1, False)
        pause.release(watch)
        # three more samples at least
        deadline = time.time() + 30
        while True:
            ct.check(watch.poll() is None, f"watch exited {watch.returncode}")
            ct.check(time.time() < deadline, "watch wrote too few samples in 30 s")
            try:
                with open(os.path.join(out, "timeline.jsonl")) as f:
                    if sum(json.loads(x).get("pid") == w2 for x in f) >= 3:
                        break
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        watch.send_signal(signal.SIGTERM)
        so, se = watch.communicate(timeout=30)
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()
        stop(proc)
    ct.log(f"$ COWTRACE_TEST_PAUSE={point}:{w1}:... {' '.join(cmd)} -> {watch.returncode}\n{se.rstrip()}")
    ct.check(watch.returncode == 0, f"watch exited {watch.returncode}")
    with open(os.path.join(out, "timeline.jsonl")) as f:
        lines = [json.loads(x) for x in f]
    mine = [x for x in lines if x["pid"] == w1]
    ct.log(f"worker {w1}'s lines: {mine}")
    ct.check(not [x for x in mine if x["event"] == "sample"], f"the killed worker {w1} has samples: {mine}")
    ct.check(sum(x["event"] == "gone" for x in mine) == 1, f"the killed worker {w1}: {mine}")
    other = [x for x in lines if x["pid"] == w2 and x["event"] == "sample"]
    ct.check(other and all(x["copied_bytes"] > 0 for x in other), f"worker {w2}'s samples: {other[:2]}")


def case_watch_vanish(t):
    # killed after the tree was listed, before it was read (the first
    # sample takes causes: the snapshot path, then the count)
    watch_vanish(t, "listed", [])
    # killed after its maps were read and its pagemap opened, before a page
    # was counted (counts only: --causes-every 0)
    watch_vanish(t, "counting", ["--causes-every", "0"])


def run():
    def extra(ap):
        ap.add_argument("--case", choices=("exit", "reuse", "bad-input", "watch-vanish"), required=True)
    args = ct.parse_args(extra=extra, modes=("auto",))
    ct.require_build(need_shim=False)
    ct.require_root()
    t = ct.tempdir("live-faults")
    shutil.copy(ct.workload("live_faults.py"), t.sub("live_faults.py"))
    os.chmod(t.sub("live_faults.py"), 0o644)
    {"exit": case_exit, "reuse": case_reuse, "bad-input": case_bad_input,
     "watch-vanish": case_watch_vanish}[args.case](t)


if __name__ == "__main__":    # tests/test_live_priority.py borrows its helpers
    ct.main(run)
