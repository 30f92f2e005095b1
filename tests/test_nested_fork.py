#!/usr/bin/env python3
"""Do no harm to a traced child that forks again (tests/workloads/
nested_fork.py): on CPython 3.12.1 and 3.13.0 (pyenv; each skipped where
missing), stdout, stderr and exit status under `cowtrace run --mode MODE`
equal an untraced run, for every mode. CPython 3.12+ prints a
DeprecationWarning when a process with more than one thread forks: a
tracer helper thread in the child (uffd-async's flusher, once) shows as
that warning. The workload also prints its thread counts and whether
wait(-1) sees any child it did not fork.

usage: test_nested_fork.py [--mode MODE]   (default: every mode)"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402

VERSIONS = ("3.12.1", "3.13.0")


def run():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="every", choices=ct.MODES + ("every",))
    args = ap.parse_args()
    modes = ct.MODES if args.mode == "every" else (args.mode,)
    ct.require_build()
    t = ct.tempdir("nested-fork")
    cmd_tail = [ct.workload("nested_fork.py")]
    bad, ran = [], 0
    for version in VERSIONS:
        try:
            py = ct.python_of_version(version)
        except ct.Skip as e:
            ct.log(f"{version}: skipped: {e}")
            continue
        plain = ct.run_cmd([py] + cmd_tail, timeout=60)
        ct.check(plain.returncode == 0, f"{version} untraced failed ({plain.returncode}): {plain.stderr[-2000:]}")
        ct.check("child threads (stat, task): 1 1" in plain.stdout, f"{version} untraced: {plain.stdout!r}")
        for mode in modes:
            out = t.sub(f"out-{version}-{mode}")
            traced = ct.run_cmd([py] + cmd_tail, mode, out, timeout=60)
            ran += 1
            same = (traced.returncode == plain.returncode and traced.stdout == plain.stdout
                    and traced.stderr == plain.stderr)
            ct.log(f"{version} {mode}: status {traced.returncode}, {'same' if same else 'DIFFERENT'}")
            if not same:
                bad.append(f"{version} {mode}: status {traced.returncode} vs {plain.returncode}\n"
                           f"  stdout:\n{ct.diff(plain.stdout, traced.stdout)}\n"
                           f"  stderr:\n{ct.diff(plain.stderr, traced.stderr)}")
                continue
            # the children were traced in that mode (else the comparison proves nothing)
            procs = ct.processes(ct.report(out))
            if len(procs) != 2 or any(p.get("mode") != mode for p in procs.values()):
                bad.append(f"{version} {mode}: expected 2 children traced in {mode}, got "
                           f"{[(pid, p.get('mode'), p.get('mode_reason')) for pid, p in procs.items()]}")
    if not ran:
        raise ct.Skip(f"none of CPython {', '.join(VERSIONS)} is on this machine")
    ct.check(not bad, "\n".join(bad))


ct.main(run)
