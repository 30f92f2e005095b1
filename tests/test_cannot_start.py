#!/usr/bin/env python3
"""Do no harm when tracing cannot start or cannot go on.

The program (tests/workloads/fork_write.py: a parent and 2 children writing
inherited memory, parent exits 4) runs with the shim preloaded directly
(LD_PRELOAD, COWTRACE_DIR, COWTRACE_MODE=MODE) where COWTRACE_DIR is
  missing     - a path that does not exist;
  readonly    - a root-owned 0700 directory, the program running as nobody
                (setpriv, Debian's /usr/bin/python3.11);
  full        - a 64 KiB tmpfs filled to the last block;
  nearly-full - a 64 KiB tmpfs with 8 KiB left (tracing starts, then runs out).
Output and exit status must equal an untraced run (as the same user), other
stderr must be unchanged, and there must be at most one `cowtrace:` line per
process (3 processes). When tracing cannot start at all there must be at
least one such line. When it runs out midway, the user must learn it: a
warning line, or a report (which must still be readable) marking the trace
incomplete.
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402

NPROC = 3
ARGS = ["--children", "2", "--pages", "20000", "--step", "2", "--exit", "4"]


def fill(path, leave):
    """Fill the filesystem at path, leaving about `leave` bytes free."""
    with open(os.path.join(path, "filler"), "wb") as f:
        try:
            while True:
                st = os.statvfs(path)
                free = st.f_bavail * st.f_frsize
                if free <= leave:
                    break
                f.write(b"\0" * min(4096, free - leave))
                f.flush()
        except OSError:
            pass


def compare(name, plain, traced, must_warn, out=None):
    bad = []
    warn = ct.cowtrace_lines(traced.stderr)
    ct.log(f"--- {name}: status untraced {plain.returncode} traced {traced.returncode}; "
           f"cowtrace lines: {warn}")
    if traced.stdout != plain.stdout:
        bad.append(f"{name}: stdout differs: {traced.stdout!r} vs untraced {plain.stdout!r}")
    if traced.returncode != plain.returncode:
        bad.append(f"{name}: exit status {traced.returncode}, untraced {plain.returncode}")
    if ct.without_cowtrace_lines(traced.stderr).strip() != plain.stderr.strip():
        bad.append(f"{name}: stderr differs beyond cowtrace lines: {traced.stderr[-1500:]!r}")
    if len(warn) > NPROC:
        bad.append(f"{name}: {len(warn)} cowtrace lines for {NPROC} processes")
    if must_warn and not warn:
        bad.append(f"{name}: tracing could not start but nothing was said on stderr")
    if not must_warn and not warn and out is not None:
        # ran out midway without a word: the report must say so
        r = subprocess.run([ct.cowtrace_bin(), "report", "--format", "json", out],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            bad.append(f"{name}: no warning and the report fails ({r.returncode}): {r.stderr[-500:]}")
        else:
            import json
            rep = json.loads(r.stdout)
            if all(p.get("complete") for p in rep.get("processes", [])):
                bad.append(f"{name}: traces cut short, yet no warning and every process reported complete")
    return bad


def run():
    args = ct.parse_args()
    ct.require_build(need_runner=False)
    if os.geteuid() != 0:
        raise ct.Skip("needs root (setpriv, mount)")
    t = ct.tempdir("nostart")
    bad = []
    py = ct.python()
    wl = ct.workload("fork_write.py")

    # missing directory
    cmd = [py, wl] + ARGS
    plain = ct.run_cmd(cmd, timeout=120)
    ct.check(plain.returncode == 4, f"untraced run failed: {plain.returncode} {plain.stderr[-1000:]}")
    traced = ct.run_cmd(cmd, args.mode, t.sub("does-not-exist"), via="preload", timeout=300)
    bad += compare("missing", plain, traced, True)
    if os.path.exists(t.sub("does-not-exist")):
        bad.append("missing: the shim created COWTRACE_DIR (the runner's job, not the shim's)")

    # not writable: root-owned 0700 directory, program runs as nobody
    dpy = "/usr/bin/python3.11"
    if os.access(dpy, os.X_OK):
        pub = t.sub("pub")
        os.mkdir(pub, 0o755)
        shutil.copy(wl, os.path.join(pub, "fork_write.py"))
        shutil.copy(ct.shim_path(), os.path.join(pub, "libcowtrace.so"))
        os.chmod(os.path.join(pub, "libcowtrace.so"), 0o755)
        locked = t.sub("locked")
        os.mkdir(locked, 0o700)
        pre = ["setpriv", f"--reuid={ct.NOBODY}", f"--regid={ct.NOBODY}", "--clear-groups"]
        cmd = pre + [dpy, os.path.join(pub, "fork_write.py")] + ARGS
        env = dict(ct.clean_env(), HOME="/")
        plain = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        env_t = ct.shim_env(locked, args.mode, base=env)
        env_t["LD_PRELOAD"] = os.path.join(pub, "libcowtrace.so")
        traced = subprocess.run(cmd, env=env_t, capture_output=True, text=True, timeout=300)
        bad += compare("readonly", plain, traced, True)
        if os.listdir(locked):
            bad.append(f"readonly: files appeared in the locked directory: {os.listdir(locked)}")
    else:
        ct.log(f"--- readonly: skipped, {dpy} missing")

    # full and nearly full tmpfs
    cmd = [py, wl] + ARGS
    plain = ct.run_cmd(cmd, timeout=120)
    for name, leave in (("full", 0), ("nearly-full", 8192)):
        mnt = t.sub(name)
        os.mkdir(mnt)
        m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt],
                           capture_output=True, text=True)
        if m.returncode != 0:
            raise ct.Skip(f"cannot mount a tmpfs: {m.stderr.strip()}")
        try:
            fill(mnt, leave)
            st = os.statvfs(mnt)
            ct.log(f"--- {name}: {st.f_bavail * st.f_frsize} bytes free on the tmpfs")
            traced = ct.run_cmd(cmd, args.mode, mnt, via="preload", timeout=300)
            bad += compare(name, plain, traced, leave == 0, out=mnt)
        finally:
            subprocess.run(["umount", mnt])
    ct.check(not bad, "; ".join(bad))


ct.main(run)
