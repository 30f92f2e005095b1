#!/usr/bin/env python3
"""The founding example (examples/seed_lists.py, small size) under
`cowtrace run`: the workers that read lists of arrays copy megabytes
(reference counts live next to the data), the workers that read the same
data from multiprocessing.shared_memory copy at least 4 times less."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402

MIB = 1 << 20


def run():
    ct.parse_args(modes=("auto",))
    ct.require_build()
    t = ct.tempdir("example")
    out = t.sub("out")
    r = ct.run_cmd([ct.python(), os.path.join(ct.TOP, "examples", "seed_lists.py"), "--objects", "60000"],
                   "auto", out, timeout=300)
    ct.log(r.stdout.rstrip())
    if r.stderr.strip():
        ct.log("stderr:\n" + r.stderr.rstrip()[-2000:])
    ct.check(r.returncode == 0, f"seed_lists.py exited {r.returncode}")
    ct.check("agree on the results: True" in r.stdout, "workers disagree")
    m = re.search(r"phase 1 workers \[([\d, ]+)\], phase 2 workers \[([\d, ]+)\]", r.stdout)
    ct.check(m, "seed_lists.py did not list its workers (was COWTRACE_DIR set?)")
    lists = [int(x) for x in m.group(1).split(",")]
    shared = [int(x) for x in m.group(2).split(",")]
    rep = ct.report(out)
    page = 4096
    lc = {p: ct.get_process(rep, p).get("cow_pages", 0) * page for p in lists}
    sc = {p: ct.get_process(rep, p).get("cow_pages", 0) * page for p in shared}
    ct.log(f"cow MiB: list workers {[round(v / MIB, 1) for v in lc.values()]}, "
           f"shared-memory workers {[round(v / MIB, 1) for v in sc.values()]}")
    ct.check(min(lc.values()) >= 5 * MIB, f"list workers copied only {min(lc.values()) / MIB:.1f} MiB")
    ct.check(max(sc.values()) * 4 <= min(lc.values()),
             "shared-memory workers copied more than a quarter of what list workers did")

    # Why: the list workers' copies are the element objects' headers - their
    # reference counts, and for bytearrays also the export counter a buffer
    # read bumps (cause "object") - not the arrays' data buffers.
    want = {"array.array", "bitarray.bitarray", "bytearray", "numpy.ndarray"}
    for pid in lists:
        p = ct.get_process(rep, pid)
        c = p["causes"]
        hdr = sum(x["cow_pages"] for x in p["types"] if x["name"] in want and x["cause"] in ("refcount", "object"))
        ct.check(hdr >= 0.8 * p["cow_pages"],
                 f"list worker {pid}: {hdr} of {p['cow_pages']} cow pages are headers of the arrays (< 80%)")
        top = [(x["name"], x["cause"]) for x in p["types"]][:3]
        ct.check(top and top[0][0] in want, f"list worker {pid}: top types {top}")
        ct.log(f"list worker {pid}: {hdr} of {p['cow_pages']} cow pages are the arrays' object headers "
               f"({c['refcount']} refcount, {c['object']} object); top {top}")


ct.main(run)
