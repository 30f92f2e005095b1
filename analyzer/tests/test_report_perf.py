#!/usr/bin/env python3
"""test_report_perf.py COWTRACE CT_MKTRACE - `cowtrace report` on traces with
1,000,000 dirtied pages must finish well under 2 seconds, both as run lists
(uffd-async) and as one write event per page (uffd, mprotect), and with a
1 TiB sparse region beside them. A precise trace whose 1,000,000 events carry
evidence over 300 types, in time order rather than address order (so the
reader must sort them, as with a real run), must give its exact causes in
under 5 seconds. Not run in the sanitizer build."""
import os
import subprocess
import sys
import tempfile
import time
import json

COWTRACE, MKTRACE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
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
    for name, args in cases.items():
        d = os.path.join(tmp, name)
        os.mkdir(d)
        e = subprocess.run([MKTRACE, os.path.join(d, "100.cowtrace"), "--expect"] + args, check=True,
                           capture_output=True, text=True)
        expect = dict(kv.split("=") for kv in e.stdout.split())
        limit = LIMIT_CAUSES if name == "causes" else LIMIT
        for fmt in ("text", "json"):
            t0 = time.monotonic()
            p = subprocess.run([COWTRACE, "report", "--format", fmt, d], capture_output=True)
            dt = time.monotonic() - t0
            ok = p.returncode == 0 and dt < limit
            if fmt == "json":
                total = json.loads(p.stdout)["total"]
                ok = ok and total["cow_pages"] == 1000000
                ok = ok and total["causes"] == {c: int(expect[c]) for c in CAUSES}
            print(f"{name:12s} {fmt:5s} {os.path.getsize(os.path.join(d, '100.cowtrace')) >> 20:4d} MiB"
                  f"  {dt:.3f} s  {'ok' if ok else 'FAIL'}")
            if not ok:
                failures += 1
                sys.stderr.write(p.stderr.decode())
sys.exit(1 if failures else 0)
