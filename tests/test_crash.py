#!/usr/bin/env python3
"""Do no harm: crashes and signal handlers in a traced child behave as untraced.

Cases (tests/workloads/crash.py): a `python3 -X faulthandler` child that
reads address 0 still prints "Fatal Python error: Segmentation fault" and
dies by SIGSEGV (its parent sees it in waitpid); the same with
faulthandler.enable() called in the child; a real SIGBUS (truncated file
mapping) still kills with SIGBUS; a program's own SIGUSR1 handler runs every
time. Output and exit status must equal an untraced run and the report must
show how the child ended.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402

CASES = {
    # case: (interpreter flags, text stderr must hold, report exit)
    "segv": (["-X", "faulthandler"], "Fatal Python error: Segmentation fault", "signal 11"),
    "fh_enable": ([], "Fatal Python error: Segmentation fault", "signal 11"),
    "bus": (["-X", "faulthandler"], "Fatal Python error: Bus error", "signal 7"),
    "usr1": ([], None, "exit 0"),
}


def run():
    args = ct.parse_args()
    ct.require_build()
    t = ct.tempdir("crash")
    bad = []
    for case, (flags, text, exit_) in CASES.items():
        cmd = [ct.python()] + flags + [ct.workload("crash.py"), case]
        plain = ct.run_cmd(cmd, timeout=120)
        out = t.sub(f"out-{case}")
        pidfile = t.sub(f"pid-{case}")
        traced = ct.run_cmd(cmd + [pidfile], args.mode, out, timeout=300)
        ct.log(f"--- {case}: untraced status {plain.returncode}, traced status {traced.returncode}")
        ct.log("traced stdout:\n" + traced.stdout.rstrip())
        ct.log("traced stderr:\n" + traced.stderr.rstrip()[-1500:])
        if traced.stdout != plain.stdout or traced.returncode != plain.returncode:
            bad.append(f"{case}: output or status differs from untraced (status {traced.returncode} vs "
                       f"{plain.returncode}):\n" + ct.diff(plain.stdout, traced.stdout))
            continue
        if text and text not in traced.stderr:
            bad.append(f"{case}: stderr lacks {text!r}")
        if text and text not in plain.stderr:
            bad.append(f"{case}: even the untraced stderr lacks {text!r} (test broken?)")
        with open(pidfile) as f:
            child = int(f.read())
        rep = ct.report(out)
        procs = ct.processes(rep)
        if child not in procs:
            bad.append(f"{case}: child {child} missing from the report")
            continue
        p = procs[child]
        if args.mode != "auto" and p.get("mode") != args.mode:
            bad.append(f"{case}: traced in {p.get('mode')} not {args.mode} ({p.get('mode_reason')})")
        if p.get("exit") != exit_:
            bad.append(f"{case}: report exit {p.get('exit')!r}, expected {exit_!r}")
        if p.get("cow_pages", 0) <= 0:
            bad.append(f"{case}: report shows no cow pages for the child, which wrote inherited lists")
    ct.check(not bad, "; ".join(bad))


ct.main(run)
