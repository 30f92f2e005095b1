#!/usr/bin/env python3
"""Exactness: the report's cow and fresh page sets agree with the kernel's.

Runs tests/progs/alternate under `cowtrace run --mode MODE`: region A of N
pages present at fork, region B of M untouched pages; the child writes every
other page of both and waits. While it waits we read both processes'
/proc/PID/pagemap: an A page is kernel-cow when its frame number differs in
child and parent, a B page kernel-fresh when present in the child. The
report's --pages sets, restricted to A and B, must agree with those in both
directions (recall and precision) to at least 99.9%. With Debian's
golang-go, `go tool pprof -sample_index=fresh_pages` on `report --format
pprof` totals the report's fresh pages, B's among them under "(fresh)".
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402
import kernel  # noqa: E402

AGREE = 0.999


def agreement(name, kset, rset):
    both = len(kset & rset)
    recall = both / len(kset) if kset else (1.0 if not rset else 0.0)
    precision = both / len(rset) if rset else (1.0 if not kset else 0.0)
    ct.log(f"  {name}: kernel {len(kset)}, report {len(rset)}, both {both}: "
           f"recall {recall:.5f}, precision {precision:.5f}")
    return recall, precision


def run():
    args = ct.parse_args(lambda ap: (ap.add_argument("--prog", required=True),
                                     ap.add_argument("--n", type=int, default=60000),
                                     ap.add_argument("--m", type=int, default=60000)),
                         modes=ct.MODES)
    ct.require_root()
    ct.require_build()
    t = ct.tempdir("exact")
    out = t.sub("out")
    ct.log(f"mode {args.mode}: alternate {args.n} {args.m}")
    p = ct.popen_traced([args.prog, str(args.n), str(args.m)], args.mode, out)
    try:
        f = ct.wait_ready(p)
        child, a, n, b, m = int(f[0]), int(f[1], 16), int(f[2]), int(f[3], 16), int(f[4])
        parent = ct.ppid_of(child)
        try:
            kcow_a, kfresh_a = kernel.cow_fresh_pages(parent, child, a, n)
            kcow_b, kfresh_b = kernel.cow_fresh_pages(parent, child, b, m)
        except kernel.NoPFN as e:
            raise ct.Skip(str(e))
    finally:
        rc, so, se = ct.finish_or_collect(p)
    ct.check(rc == 0, f"workload exited {rc}; stderr: {se[-2000:]!r}")
    ps = kernel.PAGE_SIZE
    # The harness itself must see what the workload did, or the comparison is void.
    ct.check(abs(len(kcow_a) - (n + 1) // 2) <= n // 1000 + 1,
             f"kernel ground truth off: {len(kcow_a)} copied pages in A, expected {(n + 1) // 2}")
    ct.check(abs(len(kfresh_b) - (m + 1) // 2) <= m // 1000 + 1,
             f"kernel ground truth off: {len(kfresh_b)} fresh pages in B, expected {(m + 1) // 2}")
    ct.check(not kfresh_a and not kcow_b, "kernel ground truth off: fresh pages in A or copied pages in B")

    rep = ct.report(out, pages=True)
    proc = ct.get_process(rep, child)
    ct.check_mode(proc, args.mode)
    ct.check(proc.get("ppid") == parent, f"report ppid {proc.get('ppid')} != {parent}")
    ct.check(proc.get("exit") == "exit 0", f"report exit {proc.get('exit')!r}, expected 'exit 0'")
    ct.check(proc.get("complete") is True, f"report says complete={proc.get('complete')!r}; notes {proc.get('notes')}")
    rcow_a, rfresh_a = ct.page_sets(proc, a, a + n * ps)
    rcow_b, rfresh_b = ct.page_sets(proc, b, b + m * ps)
    bad = []
    for name, k, r in (("cow (region A)", kcow_a, rcow_a), ("fresh (region B)", kfresh_b, rfresh_b)):
        rec, prec = agreement(name, k, r)
        if rec < AGREE or prec < AGREE:
            missing = sorted(k - r)[:5]
            extra = sorted(r - k)[:5]
            bad.append(f"{name}: recall {rec:.5f} precision {prec:.5f} < {AGREE} "
                       f"(first missing {[hex(x) for x in missing]}, first extra {[hex(x) for x in extra]})")
    # Wrong classification counts against agreement too.
    wrong = len(rfresh_a) + len(rcow_b)
    if wrong > (n + m) // 2000:
        bad.append(f"{len(rfresh_a)} A pages reported fresh and {len(rcow_b)} B pages reported cow")
    ct.check(not bad, "; ".join(bad))

    if shutil.which("go"):
        prof, gohome = t.sub("run.pb.gz"), t.sub("gohome")
        os.makedirs(gohome, exist_ok=True)
        r = subprocess.run([ct.cowtrace_bin(), "report", "--format", "pprof", "-o", prof, out],
                           capture_output=True, text=True, timeout=120)
        ct.check(r.returncode == 0, f"pprof report failed: {r.stderr[-500:]}")
        g = subprocess.run(["go", "tool", "pprof", "-sample_index=fresh_pages", "-top", "-cum", prof],
                           capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, HOME=gohome, PPROF_TMPDIR=gohome))
        fresh = rep["total"]["fresh_pages"]
        row = [ln.split() for ln in g.stdout.splitlines() if ln.strip().endswith("(fresh)")]
        ct.log(f"  pprof: fresh_pages total {fresh}: {row}")
        ct.check(g.returncode == 0 and f"of {fresh} total" in g.stdout and row and row[0][3] == str(fresh)
                 and fresh >= len(rfresh_b) and (len(rfresh_b) > 0 or m == 0),
                 f"go tool pprof fresh_pages: total {fresh} under (fresh): {g.stdout[:400]} {g.stderr[-300:]}")


ct.main(run)
