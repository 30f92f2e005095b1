#!/usr/bin/env python3
"""Do no harm, and report how each child ended: threads with signals, exec,
nested forks, os._exit(3), sys.exit(5) (tests/workloads/lifecycle.py).
Output and status must equal an untraced run; the report must show exit
"exit 0" for the threaded child (complete), "exec" for the child that execs
/bin/true, the grandchild with ppid = the child that forked it, "exit 3",
"exit 5", and "exit 0" for the child that writes with every signal blocked
and for the one whose threads exit with glibc's stack cache full."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402

EXPECT = {"threads": "exit 0", "exec": "exec", "nested": "exit 0", "grandchild": "exit 0",
          "_exit3": "exit 3", "sysexit5": "exit 5", "masked": "exit 0",
          "threadexit": "exit 0"}


def run():
    args = ct.parse_args()
    ct.require_build()
    t = ct.tempdir("lifecycle")
    cmd = [ct.python(), ct.workload("lifecycle.py")]
    plain = ct.run_cmd(cmd + [t.sub("pids-plain")], timeout=120)
    traced = ct.run_cmd(cmd + [t.sub("pids")], args.mode, t.sub("out"), timeout=300)
    ct.log("traced stdout:\n" + traced.stdout.rstrip())
    if traced.stderr.strip():
        ct.log("traced stderr:\n" + traced.stderr.rstrip()[-2000:])
    ct.check(plain.returncode == 0, f"untraced run failed: {plain.stderr[-2000:]}")
    ct.check(traced.stdout == plain.stdout and traced.returncode == plain.returncode,
             f"traced output/status differs: status {traced.returncode} vs {plain.returncode}; stdout diff:\n"
             + ct.diff(plain.stdout, traced.stdout))
    ct.check(not ct.cowtrace_lines(traced.stderr), f"tracing warned: {ct.cowtrace_lines(traced.stderr)}")
    with open(t.sub("pids")) as f:
        pids = json.load(f)
    rep = ct.report(t.sub("out"))
    procs = ct.processes(rep)
    bad = []
    for name, want in EXPECT.items():
        pid = pids[name]
        p = procs.get(pid)
        if p is None:
            bad.append(f"{name} (pid {pid}) missing from the report")
            continue
        ct.log(f"  {name:>10} pid {pid}: ppid {p.get('ppid')} mode {p.get('mode')} exit {p.get('exit')!r} "
               f"complete {p.get('complete')} cow {p.get('cow_pages')} fresh {p.get('fresh_pages')}")
        if args.mode != "auto" and p.get("mode") != args.mode:
            bad.append(f"{name}: traced in {p.get('mode')} not {args.mode} ({p.get('mode_reason')})")
        if p.get("exit") != want:
            bad.append(f"{name}: exit {p.get('exit')!r}, expected {want!r}")
        if p.get("cow_pages", 0) <= 0:
            bad.append(f"{name}: no cow pages reported, but it wrote inherited lists")
    if "grandchild" in pids and pids["grandchild"] in procs:
        gp = procs[pids["grandchild"]].get("ppid")
        if gp != pids["nested"]:
            bad.append(f"grandchild ppid {gp}, expected the nested child {pids['nested']}")
    th = procs.get(pids["threads"])
    if th is not None and th.get("complete") is not True:
        bad.append(f"threads child not complete: notes {th.get('notes')}")
    ct.check(not bad, "; ".join(bad))


ct.main(run)
