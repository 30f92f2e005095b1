#!/usr/bin/env python3
"""Trace files are private and the shim does not follow planted symlinks.

1. Under umask 0, every trace file written is a regular file of mode 0600.
2. With symlinks planted in COWTRACE_DIR under the names the next pids'
   traces would take (<pid>.cowtrace and <pid>.1.cowtrace, pointing outside
   the directory: half dangling, half at existing files), tracing must not
   create, truncate or write any file outside the directory, and the program's
   output and status must stay unchanged (at most one `cowtrace:` line per
   process).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402

SPAN = 400


def run():
    args = ct.parse_args()
    ct.require_build(need_runner=True)
    t = ct.tempdir("files")
    wl = [ct.python(), ct.workload("fork_write.py"), "--children", "3", "--pages", "2000"]
    bad = []

    # 1. permissions under umask 0
    out = t.sub("out")
    os.mkdir(out, 0o755)
    r = ct.run_cmd(wl, args.mode, out, via="preload", timeout=300, preexec_fn=lambda: os.umask(0))
    ct.check(r.returncode == 0, f"traced run failed ({r.returncode}): {r.stderr[-1500:]}")
    files = ct.trace_files(out)
    ct.check(len(files) >= 3, f"expected 3 trace files, found {files}; stderr {r.stderr[-1000:]}")
    for f in files:
        st = os.lstat(os.path.join(out, f))
        mode = st.st_mode & 0o7777
        ct.log(f"  {f}: mode {mode:o}")
        if not (st.st_mode & 0o170000 == 0o100000):
            bad.append(f"{f} is not a regular file")
        if mode != 0o600:
            bad.append(f"{f} has mode {mode:o}, expected 600 (umask was 0)")

    # 2. planted symlinks
    plain = ct.run_cmd(wl, timeout=120)
    trap = t.sub("trap")
    victim = t.sub("victim")
    os.mkdir(trap, 0o755)
    os.mkdir(victim, 0o755)
    with open("/proc/sys/kernel/ns_last_pid") as f:
        last = int(f.read())
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = int(f.read())
    planted = set()
    before = {}
    for k in range(1, SPAN + 1):
        pid = (last + k) % pid_max
        if pid < 300:
            continue
        planted.add(pid)
        for n, name in enumerate((f"{pid}.cowtrace", f"{pid}.1.cowtrace")):
            target = os.path.join(victim, f"{pid}.{n}")
            if (pid + n) % 2:
                with open(target, "w") as f:
                    f.write("precious\n")
                before[target] = os.stat(target)
            os.symlink(target, os.path.join(trap, name))
    pidfile = t.sub("pids")
    traced = ct.run_cmd(wl + ["--pidfile", pidfile], args.mode, trap, via="preload", timeout=300)
    with open(pidfile) as f:
        pids = [int(x) for x in f.read().split()]
    ct.log(f"  children {pids}; planted symlinks for pids {min(planted)}..{max(planted)}")
    if not set(pids) & planted:
        raise ct.Skip("the children's pids fell outside the planted range (a busy machine?)")
    after = set(os.listdir(victim))
    expected = {os.path.basename(p) for p in before}
    if after != expected:
        bad.append(f"files created outside COWTRACE_DIR through symlinks: {sorted(after - expected)[:10]}")
    for p, st in before.items():
        st2 = os.stat(p)
        with open(p) as f:
            content = f.read()
        if content != "precious\n" or st2.st_mtime_ns != st.st_mtime_ns or st2.st_size != st.st_size:
            bad.append(f"{p} (symlinked from the trace directory) was modified")
    if traced.stdout != plain.stdout or traced.returncode != plain.returncode:
        bad.append(f"with planted symlinks the output/status changed: {traced.returncode} "
                   f"{traced.stdout!r} vs {plain.stdout!r}")
    warn = ct.cowtrace_lines(traced.stderr)
    ct.log(f"  cowtrace lines: {warn}")
    if len(warn) > 4:
        bad.append(f"{len(warn)} cowtrace lines for 4 processes")
    for f in os.listdir(trap):
        path = os.path.join(trap, f)
        st = os.lstat(path)
        if st.st_mode & 0o170000 == 0o100000 and st.st_mode & 0o7777 != 0o600:
            bad.append(f"{f}: mode {st.st_mode & 0o7777:o}")
    ct.check(not bad, "; ".join(bad))


ct.main(run)
