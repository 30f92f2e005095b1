#!/usr/bin/env python3
"""test_report_perf.py COWTRACE CT_MKTRACE - `cowtrace report` on traces with
1,000,000 dirtied pages must finish well under 2 seconds, both as run lists
(uffd-async) and as one write event per page (uffd, mprotect), and with a
1 TiB sparse region beside them. A precise trace whose 1,000,000 events carry
evidence over 300 types, in time order rather than address order (so the
reader must sort them, as with a real run), must give its exact causes in
under 5 seconds; so must the same trace with 300 distinct stacks of 24
native frames (symbolized against a real ELF file, the cowtrace binary)
and 8 Python frames, in the text, JSON and folded formats. Not run in the
sanitizer build."""
import os
import subprocess
import sys
import tempfile
import time
import json

COWTRACE, MKTRACE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
BASE = 0x555555554000


def build_id(path):
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True).stdout
    return next((l.split()[-1] for l in out.splitlines() if "Build ID:" in l), "")

LIMIT = 2.0
LIMIT_CAUSES = 5.0
CAUSES = ["refcount", "gc", "object", "allocator", "interpreter", "other", "unknown"]
failures = 0

with tempfile.TemporaryDirectory() as tmp:
    cases = {
        # every other page dirtied: a million separate runs, the worst case for run lists
        "runlists": ["--regions", "16", "--region-pages", "131072", "--dirty", "1000000"],
        "events": ["--regions", "16", "--region-pages", "131072", "--dirty", "1000000", "--events",
                   "--mode", "mprotect"],
        "huge-region": ["--regions", "2", "--region-pages", str(1 << 28), "--present-every", "256",
                        "--dirty", "1000000", "--fresh", "1000"],
        "causes": ["--regions", "16", "--region-pages", "131072", "--dirty", "1000000", "--mode", "mprotect",
                   "--python", "0x30b07f0", "--types", "300", "--events-with-evidence", "--shuffle-events"],
    }
    bid = build_id(COWTRACE)
    cases["stacks"] = cases["causes"] + [
        "--module", f"{COWTRACE},{BASE:#x},{BASE:#x},{BASE + os.path.getsize(COWTRACE):#x}" + (f",{bid}" if bid else ""),
        "--stacks", "300"]
    for name, args in cases.items():
        d = os.path.join(tmp, name)
        os.mkdir(d)
        e = subprocess.run([MKTRACE, os.path.join(d, "100.cowtrace"), "--expect"] + args, check=True,
                           capture_output=True, text=True)
        expect = dict(kv.split("=") for kv in e.stdout.split())
        limit = LIMIT_CAUSES if name in ("causes", "stacks") else LIMIT
        for fmt in ("text", "json", "folded") if name == "stacks" else ("text", "json"):
            t0 = time.monotonic()
            p = subprocess.run([COWTRACE, "report", "--format", fmt, d], capture_output=True)
            dt = time.monotonic() - t0
            ok = p.returncode == 0 and dt < limit
            if fmt == "json":
                total = json.loads(p.stdout)["total"]
                ok = ok and total["cow_pages"] == 1000000
                ok = ok and total["causes"] == {c: int(expect[c]) for c in CAUSES}
                if name == "stacks":
                    q = json.loads(p.stdout)["processes"][0]
                    ok = ok and len(q["stacks"]) == 300 and q["symbol_notes"] == [] and bool(bid)
                    ok = ok and sum(x["cow_pages"] for x in total["python_locations"]) \
                        + total["python_unlocated"]["no_stack"] == 1000000
            if fmt == "folded":
                ok = ok and sum(int(l.rpartition(b" ")[2]) for l in p.stdout.splitlines()) == 1000000
            print(f"{name:12s} {fmt:6s} {os.path.getsize(os.path.join(d, '100.cowtrace')) >> 20:4d} MiB"
                  f"  {dt:.3f} s  {'ok' if ok else 'FAIL'}")
            if not ok:
                failures += 1
                sys.stderr.write(p.stderr.decode())
sys.exit(1 if failures else 0)
