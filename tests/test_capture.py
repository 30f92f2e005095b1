#!/usr/bin/env python3
"""Traces hold no memory contents unless asked (--capture-pages).

A parent keeps a secret in a bytearray; its child overwrites every page of
it (so each page is copied and recorded). By default no trace file contains
the secret; with `cowtrace run --capture-pages` the child's trace holds the
pages' contents as they were before the write (the secret), the header says
so, and the report counts the captured pages.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402

WORKLOAD = r"""
import os, sys
secret = sys.argv[1].encode()
buf = bytearray((secret * ((1 << 20) // len(secret) + 1))[: 1 << 20])   # 256 pages of the secret
pid = os.fork()
if pid == 0:
    for i in range(0, len(buf), 4096):
        buf[i] = 0x21
    os._exit(0)
_, st = os.waitpid(pid, 0)
print("child", pid, os.waitstatus_to_exitcode(st))
"""

SECRET = "cowtrace-secret-3f9a1c-" * 2


def traced(t, mode, extra):
    out = t.sub(f"out-{mode}-{'cap' if extra else 'plain'}")
    prog = t.sub("secret.py")
    with open(prog, "w") as f:
        f.write(WORKLOAD)
    cmd = [ct.cowtrace_bin(), "run", "-q", "-o", out, "--mode", mode] + extra + ["--", ct.python(), prog, SECRET]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=ct.clean_env())
    ct.check(r.returncode == 0 and " 0" in r.stdout, f"{cmd} -> {r.returncode} {r.stdout!r} {r.stderr[-800:]!r}")
    child = int(r.stdout.split()[1])
    blobs = {}
    for name in ct.trace_files(out):
        with open(os.path.join(out, name), "rb") as f:
            blobs[name] = f.read()
    return out, child, blobs


def run():
    args = ct.parse_args(modes=ct.MODES)
    ct.require_build()
    t = ct.tempdir("capture")
    needle = SECRET.encode()

    out, child, blobs = traced(t, args.mode, [])
    leaks = [n for n, b in blobs.items() if needle in b]
    ct.check(not leaks, f"default traces hold the secret: {leaks}")
    p = ct.get_process(ct.report(out), child)
    ct.check(p.get("captured_pages", 0) == 0, f"captured_pages {p.get('captured_pages')} without --capture-pages")
    ct.check(p["cow_pages"] >= 256, f"the child's writes were not traced: cow {p['cow_pages']}")
    ct.log(f"  default: {len(blobs)} traces, none holds the secret; cow {p['cow_pages']}")

    out, child, blobs = traced(t, args.mode, ["--capture-pages"])
    mine = [b for n, b in blobs.items() if n.startswith(f"{child}.")]
    ct.check(mine and needle in mine[0], "--capture-pages: the child's trace lacks the page contents")
    flags = int.from_bytes(mine[0][28:32], "little")   # struct ct_header.flags
    ct.check(flags & 1, f"--capture-pages: header flags {flags:#x} lack CT_HDR_RAW_PAGES")
    p = ct.get_process(ct.report(out), child)
    ct.check(p.get("captured_pages", 0) >= 256, f"report counts {p.get('captured_pages')} captured pages")
    ct.log(f"  --capture-pages: {p['captured_pages']} pages captured, header flag set")


ct.main(run)
