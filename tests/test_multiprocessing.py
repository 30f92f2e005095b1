#!/usr/bin/env python3
"""multiprocessing (fork and forkserver start methods) and
concurrent.futures.ProcessPoolExecutor: output unchanged, and every worker
appears in the report, traced in the requested mode."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402


def run():
    args = ct.parse_args()
    ct.require_build()
    t = ct.tempdir("mp")
    bad = []
    for method in ("fork", "forkserver", "executor"):
        cmd = [ct.python(), ct.workload("mp.py"), method]
        plain = ct.run_cmd(cmd + [t.sub(f"pids-plain-{method}")], timeout=120)
        out = t.sub(f"out-{method}")
        traced = ct.run_cmd(cmd + [t.sub(f"pids-{method}")], args.mode, out, timeout=300)
        ct.log(f"--- {method}: status {traced.returncode}; stderr {traced.stderr.strip()[-1000:]!r}")
        if plain.returncode != 0:
            bad.append(f"{method}: untraced run failed: {plain.stderr[-800:]}")
            continue
        if traced.stdout != plain.stdout or traced.returncode != plain.returncode:
            bad.append(f"{method}: traced output/status differs ({traced.returncode} vs {plain.returncode}): "
                       + ct.diff(plain.stdout, traced.stdout) + f"\nstderr: {traced.stderr[-800:]}")
            continue
        with open(t.sub(f"pids-{method}")) as f:
            workers = json.load(f)
        procs = ct.processes(ct.report(out))
        ct.log(f"  workers {workers}; report pids {sorted(procs)}")
        for w in workers:
            p = procs.get(w)
            if p is None:
                bad.append(f"{method}: worker {w} missing from the report")
            elif args.mode != "auto" and p.get("mode") != args.mode:
                bad.append(f"{method}: worker {w} traced in {p.get('mode')} ({p.get('mode_reason')})")
            elif p.get("cow_pages", 0) <= 0:
                bad.append(f"{method}: worker {w} shows no cow pages (it wrote inherited lists)")
    ct.check(not bad, "; ".join(bad))


ct.main(run)
