#!/usr/bin/env python3
"""Why pages were copied: causes for workloads whose cause is known.

In the precise modes (uffd, mprotect: every first write is recorded):
  iterate - a child iterating a list of 300,000 ints copies pages because of
            reference counts: cause "refcount" >= 80% of its cow pages, and
            int the type with most refcount pages;
  gc      - a child running gc.collect() over 300,000 (int, list) tuples:
            cause "gc" >= 60% of its cow pages;
  freeze  - the same after gc.freeze() in the parent: gc pages <= 5% of the
            gc scenario's; and `cowtrace run --gc-freeze` on the gc scenario
            gives the same saving, which `cowtrace diff` shows.
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402


def child_of(stdout):
    m = re.search(r"child (\d+) exit 0", stdout)
    ct.check(m, f"workload did not report its child: {stdout!r}")
    return int(m.group(1))


def traced(t, scenario, mode, extra=()):
    out = t.sub(f"out-{scenario}{'-'.join(extra)}")
    cmd = [ct.cowtrace_bin(), "run", "-o", out, "--mode", mode, "-q"] + list(extra) + \
          ["--", ct.python(), ct.workload("causes.py"), scenario]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=ct.clean_env())
    ct.check(r.returncode == 0, f"{' '.join(cmd)} exited {r.returncode}: {r.stderr[-1500:]}")
    p = ct.get_process(ct.report(out), child_of(r.stdout))
    ct.check_mode(p, mode)
    ct.check("causes" in p, f"no causes in the report for {scenario}")
    c = p["causes"]
    ct.log(f"  {scenario:>8}{' ' + ' '.join(extra) if extra else ''}: cow {p['cow_pages']} causes {c}; "
           f"top types {[(x['name'], x['cause'], x['cow_pages']) for x in p.get('types', [])[:3]]}")
    return out, p


def run():
    args = ct.parse_args(modes=("uffd", "mprotect"))
    ct.require_build()
    t = ct.tempdir("causes")
    bad = []
    _, it = traced(t, "iterate", args.mode)
    if it["causes"].get("refcount", 0) < 0.8 * it["cow_pages"]:
        bad.append(f"iterate: refcount {it['causes'].get('refcount')} of {it['cow_pages']} cow pages (< 80%)")
    rc_types = [x for x in it.get("types", []) if x.get("cause") == "refcount"]
    if not rc_types or max(rc_types, key=lambda x: x["cow_pages"])["name"] != "int":
        bad.append(f"iterate: int is not the type with most refcount pages: {rc_types[:3]}")
    gc_out, g = traced(t, "gc", args.mode)
    if g["causes"].get("gc", 0) < 0.6 * g["cow_pages"]:
        bad.append(f"gc: gc {g['causes'].get('gc')} of {g['cow_pages']} cow pages (< 60%)")
    _, f = traced(t, "freeze", args.mode)
    if f["causes"].get("gc", 0) > 0.05 * max(1, g["causes"].get("gc", 0)):
        bad.append(f"freeze: gc pages {f['causes'].get('gc')} vs {g['causes'].get('gc')} without gc.freeze()")
    frozen_out, fr = traced(t, "gc", args.mode, ("--gc-freeze",))
    if fr["causes"].get("gc", 0) > 0.05 * max(1, g["causes"].get("gc", 0)):
        bad.append(f"run --gc-freeze: gc pages {fr['causes'].get('gc')} vs {g['causes'].get('gc')} without")
    d = subprocess.run([ct.cowtrace_bin(), "diff", "--format", "json", gc_out, frozen_out],
                       capture_output=True, text=True, timeout=120)
    if d.returncode != 0:
        bad.append(f"cowtrace diff exited {d.returncode}: {d.stderr[-500:]}")
    else:
        dj = json.loads(d.stdout)
        a, b = dj["a"]["cow_pages"], dj["b"]["cow_pages"]
        ct.log(f"  diff: cow pages {a} -> {b}; gc {dj['causes']['gc']}")
        if not (b < a and dj["causes"]["gc"]["b"] < dj["causes"]["gc"]["a"]):
            bad.append(f"cowtrace diff does not show the saving: {a} -> {b}, gc {dj['causes']['gc']}")
    ct.check(not bad, "; ".join(bad))


ct.main(run)
