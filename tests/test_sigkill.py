#!/usr/bin/env python3
"""A SIGKILLed child leaves a readable trace: it writes K inherited pages,
sleeps more than twice COWTRACE_FLUSH_MS (default 100 ms), and its parent
kills it with SIGKILL. The report must read, show exit "signal 9",
complete false, and at least K cow pages."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402

K = 3000
FLUSH_MS = 100


def run():
    args = ct.parse_args()
    ct.require_build()
    t = ct.tempdir("sigkill")
    pidfile = t.sub("pid")
    wait = 5 * FLUSH_MS / 1000.0
    env = dict(os.environ, COWTRACE_FLUSH_MS=str(FLUSH_MS))
    r = ct.run_cmd([ct.python(), ct.workload("sigkill.py"), str(K), str(wait), pidfile],
                   args.mode, t.sub("out"), timeout=120, env=env)
    ct.log(f"status {r.returncode}; stdout {r.stdout.strip()!r}; stderr {r.stderr.strip()[-1000:]!r}")
    ct.check(r.returncode == 0 and "signal 9" in r.stdout, "the workload did not run as planned")
    with open(pidfile) as f:
        child = int(f.read())
    rep = ct.report(t.sub("out"))
    p = ct.get_process(rep, child)
    ct.log(f"child {child}: mode {p.get('mode')} exit {p.get('exit')!r} complete {p.get('complete')} "
           f"cow {p.get('cow_pages')} notes {p.get('notes')}")
    ct.check_mode(p, args.mode)
    bad = []
    if p.get("exit") != "signal 9":
        bad.append(f"exit {p.get('exit')!r}, expected 'signal 9'")
    if p.get("complete") is not False:
        bad.append(f"complete {p.get('complete')!r}, expected false")
    if p.get("cow_pages", 0) < K:
        bad.append(f"cow_pages {p.get('cow_pages')} < {K} pages written before the kill")
    ct.check(not bad, "; ".join(bad))


ct.main(run)
