#!/usr/bin/env python3
"""No perturbation: tracing does not make the child copy more pages.

A Python parent builds a list of 500,000 ints and forks; the child iterates
it and waits. We count the pages the kernel copied for the child (present in
parent and child at the same address with different frame numbers, over all
of the child's mappings) untraced and traced in MODE:
traced <= untraced * 1.01 + 64. --python runs the workload with another
interpreter (Debian's /usr/bin/python3.11, a statically linked libpython).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402
import kernel  # noqa: E402


def measure(mode, out, n, py):
    p = ct.popen_traced([py, ct.workload("list_iter.py"), str(n)], mode, out)
    try:
        f = ct.wait_ready(p)
        child = int(f[0])
        parent = ct.ppid_of(child)
        copied, both = kernel.copied_pages_total(parent, child)
        dirty_kb = kernel.read_smaps_rollup(child).get("Private_Dirty", -1)
    finally:
        rc, so, se = ct.finish_or_collect(p)
    ct.check(rc == 0, f"workload ({mode or 'untraced'}) exited {rc}: {se[-2000:]!r}")
    ct.log(f"  {mode or 'untraced':>10}: child {child} copied {copied} pages "
           f"(of {both} present in both); smaps Private_Dirty {dirty_kb} kB")
    return child, copied


def run():
    args = ct.parse_args(lambda ap: (ap.add_argument("--n", type=int, default=500000),
                                     ap.add_argument("--python", help="interpreter (default: the one running)")),
                         modes=ct.MODES + ("auto",))
    py = args.python or ct.python()
    if not os.access(py, os.X_OK):
        raise ct.Skip(f"{py} not installed")
    ct.log(f"interpreter {py}")
    ct.require_root()
    ct.require_build()
    t = ct.tempdir("perturb")
    try:
        _, base = measure(None, None, args.n, py)
        child, traced = measure(args.mode, t.sub("out"), args.n, py)
    except kernel.NoPFN as e:
        raise ct.Skip(str(e))
    ct.check(base > 1000, f"untraced child copied only {base} pages: the workload does not exercise COW")
    rep = ct.report(t.sub("out"))
    proc = ct.get_process(rep, child)
    ct.check_mode(proc, args.mode)
    ct.check(proc.get("cow_pages", 0) > 0, f"the traced child shows no cow pages: {proc}")
    limit = base * 1.01 + 64
    ct.log(f"  untraced {base}, traced ({args.mode}) {traced}, limit {limit:.0f}; "
           f"report: cow_pages {proc.get('cow_pages')}")
    ct.check(traced <= limit, f"traced child copied {traced} pages, more than {limit:.0f} "
             f"(untraced {base} x 1.01 + 64)")


ct.main(run)
