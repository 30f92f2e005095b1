#!/usr/bin/env python3
"""Unprivileged tracing: as nobody (setpriv) with vm.unprivileged_userfaultfd=0,
`cowtrace run --mode auto` still traces: each child that wrote K inherited
pages shows at least K cow pages, and the program's output is unchanged.
Uses Debian's /usr/bin/python3.11 (nobody cannot run the pyenv interpreter
under /root)."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402

K = 4000


def run():
    ct.parse_args(modes=("auto",))
    ct.require_build()
    if os.geteuid() != 0:
        raise ct.Skip("needs root to switch to nobody")
    py = "/usr/bin/python3.11"
    if not os.access(py, os.X_OK):
        raise ct.Skip(f"{py} missing")
    try:
        with open("/proc/sys/vm/unprivileged_userfaultfd") as f:
            ct.log(f"vm.unprivileged_userfaultfd = {f.read().strip()}")
    except OSError:
        pass
    t = ct.tempdir("unpriv")
    os.chown(t.path, ct.NOBODY, ct.NOBODY)
    wl = t.sub("fork_write.py")
    shutil.copy(ct.workload("fork_write.py"), wl)
    os.chmod(wl, 0o644)
    pidfile = t.sub("pids")
    out = t.sub("out")
    pre = ["setpriv", f"--reuid={ct.NOBODY}", f"--regid={ct.NOBODY}", "--clear-groups"]
    args = [py, wl, "--children", "2", "--pages", str(K), "--step", "1", "--pidfile", pidfile]
    # copies nobody can read wherever the checkout lies (CI's may be private)
    cowtrace, shim = t.sub("cowtrace"), t.sub("libcowtrace.so")
    shutil.copy(ct.cowtrace_bin(), cowtrace)
    shutil.copy(ct.shim_path(), shim)
    os.chmod(cowtrace, 0o755)
    os.chmod(shim, 0o755)
    env = dict(ct.clean_env(), HOME="/")
    plain = subprocess.run(pre + args, env=env, capture_output=True, text=True, timeout=120, cwd=t.path)
    traced = subprocess.run(pre + [cowtrace, "run", "-o", out, "--mode", "auto", "-q", "--"] + args,
                            env=dict(env, COWTRACE_SHIM=shim), capture_output=True, text=True, timeout=300,
                            cwd=t.path)
    ct.log("traced stdout:\n" + traced.stdout.rstrip())
    ct.log("traced stderr:\n" + traced.stderr.rstrip()[-2000:])
    ct.check(plain.returncode == 0, f"untraced run as nobody failed: {plain.stderr[-1000:]}")
    ct.check(traced.stdout == plain.stdout and traced.returncode == plain.returncode,
             f"traced run as nobody differs: status {traced.returncode} vs {plain.returncode}")
    with open(pidfile) as f:
        pids = [int(x) for x in f.read().split()]
    rep = ct.report(out)
    bad = []
    for pid in pids:
        p = ct.get_process(rep, pid)
        ct.log(f"  child {pid}: mode {p.get('mode')} ({p.get('mode_reason')}), cow {p.get('cow_pages')}")
        if p.get("cow_pages", 0) < K:
            bad.append(f"child {pid} ({p.get('mode')}): {p.get('cow_pages')} cow pages, wrote at least {K}")
    ct.check(not bad, "; ".join(bad))


ct.main(run)
