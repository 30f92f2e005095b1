#!/usr/bin/env python3
"""Where pages were copied: the report's Python locations and native
functions point at the code that made the first writes.

With MODE (uffd or mprotect: stacks of each first write), for
tests/workloads/causes.py:
  iterate - the Python line with most copied pages is the child's loop over
            the list (lines marked WHERE-ITER in the workload);
  gc      - it is the child's gc.collect() line (WHERE-GC), and the native
            function with most pages is CPython's collector (gc_collect_main
            or another gc_* / collect* function of libpython).
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402


def marked_lines(tag):
    with open(ct.workload("causes.py")) as f:
        return {i + 1 for i, line in enumerate(f) if f"# {tag}" in line}


def top(items):
    return max(items, key=lambda x: x.get("cow_pages", 0)) if items else None


def run():
    args = ct.parse_args(modes=("uffd", "mprotect"))
    ct.require_build()
    t = ct.tempdir("where")
    wl = os.path.realpath(ct.workload("causes.py"))
    bad = []
    for scenario, tag in (("iterate", "WHERE-ITER"), ("gc", "WHERE-GC")):
        out = t.sub(f"out-{scenario}")
        r = subprocess.run([ct.cowtrace_bin(), "run", "-o", out, "--mode", args.mode, "-q", "--",
                            ct.python(), wl, scenario], capture_output=True, text=True, timeout=120,
                           env=ct.clean_env())
        ct.check(r.returncode == 0, f"{scenario}: exited {r.returncode}: {r.stderr[-1000:]}")
        m = re.search(r"child (\d+) exit 0", r.stdout)
        ct.check(m, f"{scenario}: no child pid in {r.stdout!r}")
        p = ct.get_process(ct.report(out), int(m.group(1)))
        ct.check_mode(p, args.mode)
        locs = p.get("python_locations")
        ct.check(isinstance(locs, list), f"{scenario}: the report has no python_locations")
        tl = top(locs)
        lines = marked_lines(tag)
        ct.log(f"  {scenario}: cow {p['cow_pages']}; top Python location {tl}; expected {wl}:{sorted(lines)}")
        if not tl or os.path.realpath(tl.get("file", "")) != wl or tl.get("line") not in lines:
            bad.append(f"{scenario}: top Python location {tl}, expected {wl} line {sorted(lines)}")
        elif tl["cow_pages"] < 0.8 * p["cow_pages"]:
            bad.append(f"{scenario}: the marked line holds only {tl['cow_pages']} of {p['cow_pages']} pages")
        if scenario == "gc":
            tn = top(p.get("native_functions") or [])
            ct.log(f"  gc: top native function {tn}")
            if not tn or not re.match(r"(gc_|collect|_PyGC_|subtract_refs|update_refs|visit)", tn.get("function") or ""):
                bad.append(f"gc: top native function {tn}, expected CPython's collector")
    ct.check(not bad, "; ".join(bad))


ct.main(run)
