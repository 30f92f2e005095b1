#!/usr/bin/env python3
"""_Py_DebugOffsets end to end on pyenv's 3.13.0, run by the shim.

usage: test_dbgoff_fallback.py --mode MODE

A child reading 300,000 ints under `cowtrace run`: with the process's own
_Py_DebugOffsets the report's layout is "3.13" from `_Py_DebugOffsets`
(JSON layout_source); with one word of it spoiled before the fork
(tests/workloads/dbgoff_corrupt.py) the offsets are refused, the 3.13
table is used instead, a note in the report says which check failed, and
the causes are the same (>= 90% refcount on int). Skips, with a line, on a
machine without pyenv's 3.13.0 (or one in COWTRACE_TEST_PYTHONS).
"""
import re
import subprocess

from lib import ct


def traced(t, py, how, mode):
    out = t.sub(f"out-{how}")
    cmd = [ct.cowtrace_bin(), "run", "-o", out, "--mode", mode, "-q", "--",
           py, "-I", "-S", ct.workload("dbgoff_corrupt.py"), how]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=ct.clean_env())
    ct.check(r.returncode == 0, f"{' '.join(cmd)} exited {r.returncode}: {r.stderr[-1500:]}")
    m = re.search(r"child (\d+) exit 0", r.stdout)
    ct.check(m, f"workload did not report its child: {r.stdout!r}")
    return ct.get_process(ct.report(out), int(m.group(1)))


def refcount_int(p):
    pages = sum(x["cow_pages"] for x in p.get("types", []) if x.get("name") == "int" and x.get("cause") == "refcount")
    return pages / max(1, p["cow_pages"])


def run():
    args = ct.parse_args(modes=("uffd", "mprotect", "uffd-async"))
    ct.require_build()
    py = ct.python_of_version("3.13.0")
    t = ct.tempdir("dbgoff-fallback")

    good = traced(t, py, "none", args.mode)
    info = good.get("python") or {}
    ct.check(info.get("layout") == "3.13" and info.get("layout_source") == "_Py_DebugOffsets",
             f"own offsets: the report's layout is {info}")
    ct.check(not any("_Py_DebugOffsets" in n for n in good.get("notes", [])), f"own offsets: notes {good.get('notes')}")

    bad = traced(t, py, "order", args.mode)
    info = bad.get("python") or {}
    ct.check(info.get("layout") == "3.13" and "layout_source" not in info,
             f"spoiled offsets: the report's layout is {info}, not the 3.13 table")
    notes = [n for n in bad.get("notes", []) if "_Py_DebugOffsets" in n]
    ct.check(notes and "thread_state.prev" in notes[0] and "table used instead" in notes[0],
             f"spoiled offsets: no note naming the failed check: {bad.get('notes')}")
    for name, p in (("own", good), ("spoiled", bad)):
        share = refcount_int(p)
        ct.log(f"  {name} offsets: {p['cow_pages']} cow pages, refcount on int {share:.2f}")
        ct.check(share >= 0.90, f"{name} offsets: refcount on int is {share:.2f} of the copies (want >= 0.90)")


ct.main(run)
