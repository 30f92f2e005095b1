#!/usr/bin/env python3
"""test_run.py COWTRACE FAKESHIM - `cowtrace run` without the real shim.

The fake shim (fakeshim.c) writes a trace for every process it is loaded
into, recording COWTRACE_MODE and LD_PRELOAD, so these tests also check the
environment `run` sets up. Exit status, signal death, signal forwarding and
the refusal to mix old and new traces are checked exactly.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time
import json

COWTRACE, SHIM = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what, file=sys.stderr)


def run(args, env_extra=None, **kw):
    # In the sanitizer build cowtrace itself is ASan-linked; a preexisting
    # LD_PRELOAD (tested below) would make ASan refuse to start.
    env = dict(os.environ, COWTRACE_SHIM=SHIM, ASAN_OPTIONS="verify_asan_link_order=0")
    env.pop("LD_PRELOAD", None)
    if env_extra:
        env.update(env_extra)
    return subprocess.run([COWTRACE] + args, env=env, capture_output=True, text=True, timeout=30, **kw)


def traces(d):
    return sorted(f for f in os.listdir(d) if f.endswith(".cowtrace"))


with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "a", "b", "out")

    # exit status mirrored, DIR created 0700 with parents, summary line
    p = run(["run", "-o", out, "--", "sh", "-c", "exit 7"])
    check(p.returncode == 7, f"exit 7 mirrored (got {p.returncode}, {p.stderr!r})")
    check(os.stat(out).st_mode & 0o777 == 0o700, "DIR mode 0700")
    check(os.stat(os.path.join(tmp, "a")).st_mode & 0o777 == 0o700, "parent mode 0700")
    check(len(traces(out)) >= 1, "the fake shim wrote a trace")
    check(f"traced process" in p.stderr and f"(cowtrace report {out})" in p.stderr,
          f"summary line: {p.stderr!r}")

    # the environment: LD_PRELOAD prepended, COWTRACE_DIR absolute, mode passed
    rel = os.path.join(tmp, "env")
    p = run(["run", "-q", "-o", "env", "--mode", "mprotect", "--", "sh", "-c", "exit 0"],
            env_extra={"LD_PRELOAD": "libm.so.6"}, cwd=tmp)
    check(p.returncode == 0 and p.stderr == "", f"-q run is silent: {p.stderr!r}")
    r = subprocess.run([COWTRACE, "report", "--format", "json", rel], capture_output=True, text=True)
    check(r.returncode == 0, f"report of fake traces: {r.stderr!r}")
    d = json.loads(r.stdout)
    procs = d["processes"]
    check(len(procs) >= 1, "one process at least")
    if procs:
        check(procs[0]["mode_reason"] == "mprotect", f"COWTRACE_MODE passed: {procs[0]['mode_reason']!r}")
        check(procs[0]["exe"] == SHIM + ":libm.so.6", f"LD_PRELOAD prepended: {procs[0]['exe']!r}")

    # --gc-freeze reaches the shim as COWTRACE_GC_FREEZE=1, and only with it
    p = run(["run", "-q", "-o", os.path.join(tmp, "gcf"), "--gc-freeze", "--", "sh", "-c", "echo gc=$COWTRACE_GC_FREEZE"])
    check(p.returncode == 0 and p.stdout == "gc=1\n", f"--gc-freeze sets the env: {p.stdout!r} {p.stderr!r}")
    p = run(["run", "-q", "-o", os.path.join(tmp, "gcn"), "--", "sh", "-c", "echo gc=$COWTRACE_GC_FREEZE"],
            env_extra={"COWTRACE_GC_FREEZE": "1"})
    check(p.returncode == 0 and p.stdout == "gc=\n", f"no --gc-freeze, no freeze: {p.stdout!r}")

    # refuse a DIR holding traces; --force deletes only the traces
    with open(os.path.join(out, "keep.txt"), "w") as f:
        f.write("not a trace")
    before = traces(out)
    p = run(["run", "-o", out, "--", "true"])
    check(p.returncode == 2 and "--force" in p.stderr and "already holds" in p.stderr,
          f"refuses old traces: {p.returncode} {p.stderr!r}")
    check(traces(out) == before, "refusal leaves old traces alone")
    p = run(["run", "-o", out, "--force", "-q", "--", "sh", "-c", "exit 0"])
    check(p.returncode == 0, f"--force runs: {p.stderr!r}")
    check(os.path.exists(os.path.join(out, "keep.txt")), "--force keeps other files")
    check(not (set(before) & set(traces(out))) or len(traces(out)) <= 2, "--force removed old traces")

    # death by signal mirrored: cowtrace itself dies by SIGTERM
    d2 = os.path.join(tmp, "sig")
    p = run(["run", "-q", "-o", d2, "--", "sh", "-c", "kill -TERM $$"])
    check(p.returncode == -signal.SIGTERM, f"dies by SIGTERM (got {p.returncode})")
    p = run(["run", "-q", "-o", d2, "--force", "--", "sh", "-c", "kill -USR1 $$"])
    check(p.returncode == -signal.SIGUSR1, f"dies by SIGUSR1 (got {p.returncode})")
    # a crash signal: mirrored, without leaving a core of cowtrace behind
    p = run(["run", "-q", "-o", d2, "--force", "--", "sh", "-c", "kill -SEGV $$"])
    check(p.returncode == -signal.SIGSEGV, f"dies by SIGSEGV (got {p.returncode})")

    # SIGTERM sent to cowtrace alone is forwarded; SIGINT to cowtrace alone is ignored
    env = dict(os.environ, COWTRACE_SHIM=SHIM)
    proc = subprocess.Popen([COWTRACE, "run", "-q", "-o", d2, "--force", "--", "sleep", "30"], env=env,
                            stderr=subprocess.PIPE)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    check(proc.poll() is None, "SIGINT to cowtrace alone does not end the run")
    t0 = time.time()
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = None
    check(rc == -signal.SIGTERM and time.time() - t0 < 5, f"SIGTERM forwarded to the command (rc {rc})")

    # exec failures, like a shell
    p = run(["run", "-o", d2, "--force", "--", "/nonexistent/cmd"])
    check(p.returncode == 127 and "/nonexistent/cmd" in p.stderr, f"missing command: 127 ({p.returncode})")
    p = run(["run", "-o", d2, "--force", "--", "no-such-command-cowtrace"])
    check(p.returncode == 127, f"command not in PATH: 127 ({p.returncode})")
    noexec = os.path.join(tmp, "noexec")
    with open(noexec, "w") as f:
        f.write("#!/bin/sh\n")
    os.chmod(noexec, 0o644)
    p = run(["run", "-o", d2, "--force", "--", noexec])
    check(p.returncode == 126, f"not executable: 126 ({p.returncode})")

    # usage errors
    for args, what in ((["run"], "missing command"), (["run", "-o", d2], "missing command"),
                       (["run", "--mode", "fast", "--", "true"], "unknown mode"),
                       (["run", "--mode"], "needs a value"),
                       (["run", "--bogus", "--", "true"], "unknown option"),
                       (["frobnicate"], "unknown command"), ([], "usage")):
        p = run(args)
        check(p.returncode == 2 and what in p.stderr, f"{args}: exit 2 with {what!r} ({p.returncode} {p.stderr!r})")

    # a shim that is not there
    p = run(["run", "-o", d2, "--force", "--", "true"], env_extra={"COWTRACE_SHIM": "/nonexistent/lib.so"})
    check(p.returncode == 2 and "COWTRACE_SHIM" in p.stderr, f"missing shim: {p.stderr!r}")

    # options after the command belong to the command
    p = run(["run", "-q", "-o", d2, "--force", "sh", "-c", "exit 3", "--help"])
    check(p.returncode == 3, f"command options untouched ({p.returncode})")

    # help and version
    for args in (["--help"], ["run", "--help"], ["report", "--help"], ["help", "run"], ["--version"]):
        p = run(args)
        check(p.returncode == 0 and p.stdout and not p.stderr, f"{args} exits 0 with output")

if failures:
    print(f"test_run: {failures} failures", file=sys.stderr)
    sys.exit(1)
print("test_run: ok")
