#!/usr/bin/env python3
"""Do no harm: system calls writing into tracked memory still work.

A forked child fills buffers with os.read, os.readv, os.preadv,
FileIO.readinto, socket.recv_into and socket.recv (1 MiB each), into buffers
allocated before the fork and fresh ones. Traced in MODE, every call must
return the data (never EFAULT) and the output and exit status must equal an
untraced run. The buffers that only the kernel wrote in the child must be
reported as copied (cow): writes made by system calls count. As root,
tests/workloads/listdir.py also runs both ways: a child listing directories
while opendir's buffer lands on inherited heap (libc's own getdents64).
With --user nobody the run is unprivileged (vm.unprivileged_userfaultfd=0
here), using Debian's /usr/bin/python3.11 which nobody can execute.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402

PAGE = os.sysconf("SC_PAGESIZE")


def run():
    args = ct.parse_args(lambda ap: ap.add_argument("--user", choices=("root", "nobody"), default="root"))
    ct.require_build()
    t = ct.tempdir("syscalls")
    addrfile = t.sub("addr")
    out = t.sub("out")
    if args.user == "nobody":
        if os.geteuid() != 0:
            raise ct.Skip("needs root to switch to nobody")
        py = "/usr/bin/python3.11"
        if not os.access(py, os.X_OK):
            raise ct.Skip(f"{py} missing")
        os.chown(t.path, ct.NOBODY, ct.NOBODY)
        wl = t.sub("syscalls.py")
        with open(ct.workload("syscalls.py")) as src, open(wl, "w") as dst:
            dst.write(src.read())
        shim = t.sub("libcowtrace.so")
        with open(ct.shim_path(), "rb") as src, open(shim, "wb") as dst:
            dst.write(src.read())
        os.chmod(shim, 0o755)
        os.mkdir(out)
        os.chown(out, ct.NOBODY, ct.NOBODY)
        pre = ["setpriv", f"--reuid={ct.NOBODY}", f"--regid={ct.NOBODY}", "--clear-groups"]
        base = [py, wl]
        env = dict(os.environ, HOME="/", TMPDIR=t.path)
        plain = ct.run_cmd(pre + base, env=env, timeout=120)
        env_t = ct.shim_env(out, args.mode, base=ct.clean_env(env))
        env_t["LD_PRELOAD"] = shim
        import subprocess
        traced = subprocess.run(pre + base + [addrfile], env=env_t, capture_output=True, text=True, timeout=300)
    else:
        base = [ct.python(), ct.workload("syscalls.py")]
        plain = ct.run_cmd(base, timeout=120)
        traced = ct.run_cmd(base + [addrfile], args.mode, out, timeout=300)
    ct.log("untraced:\n" + plain.stdout)
    ct.log(f"traced ({args.mode}, {args.user}):\n" + traced.stdout)
    if traced.stderr.strip():
        ct.log("traced stderr:\n" + traced.stderr[-3000:])
    ct.check(plain.returncode == 0, f"the untraced run failed ({plain.returncode}): {plain.stderr[-2000:]}")
    ct.check(traced.stdout == plain.stdout and traced.returncode == plain.returncode,
             f"traced run differs from untraced: status {traced.returncode} vs {plain.returncode}; "
             "stdout diff:\n" + ct.diff(plain.stdout, traced.stdout))
    ct.check(not ct.cowtrace_lines(traced.stderr), f"tracing warned: {ct.cowtrace_lines(traced.stderr)}")

    with open(addrfile) as f:
        fields = f.read().split()
    child, size = int(fields[0]), int(fields[1])
    rep = ct.report(out, pages=True)
    proc = ct.get_process(rep, child)
    if args.user == "root":
        ct.check_mode(proc, args.mode)
    ct.log(f"report: mode {proc.get('mode')} ({proc.get('mode_reason')}), cow_pages {proc.get('cow_pages')}")
    for i, a in enumerate(int(x) for x in fields[2:]):
        lo = (a + PAGE - 1) // PAGE * PAGE
        hi = (a + size) // PAGE * PAGE
        want = (hi - lo) // PAGE
        cow, fresh = ct.page_sets(proc, lo, hi)
        ct.log(f"  kernel-written buffer {i} ({want} whole pages at {lo:#x}): {len(cow)} reported cow")
        ct.check(len(cow) >= want * 0.99,
                 f"buffer {i} at {lo:#x}, written in the child only by system calls: "
                 f"{len(cow)} of {want} pages reported cow")

    if args.user == "root":
        # libc's readdir fills its stream's buffer itself, past the wrappers
        lst = [ct.python(), ct.workload("listdir.py")]
        lplain = ct.run_cmd(lst, timeout=120)
        ltraced = ct.run_cmd(lst, args.mode, t.sub("out-listdir"), timeout=300)
        ct.log(f"listdir: untraced {lplain.stdout.strip()!r}, traced {ltraced.stdout.strip()!r}")
        ct.check(lplain.returncode == 0 and "exit 0" in lplain.stdout,
                 f"listdir untraced failed: {lplain.stdout!r} {lplain.stderr[-1000:]}")
        ct.check(ltraced.stdout == lplain.stdout and ltraced.returncode == lplain.returncode,
                 f"listdir traced differs: {ltraced.stdout!r} vs {lplain.stdout!r}; {ltraced.stderr[-1000:]}")


ct.main(run)
