#!/usr/bin/env python3
"""Real prefork servers under cowtrace, on loopback, loaded by a real HTTP
client (http.client, a bounded number of requests), then stopped.

  --server gunicorn   Debian's gunicorn, --preload, 2 sync workers, serving
                      tests/apps/bigapp.py (--mb MiB of Python objects built
                      before the fork). Every worker is in the report once,
                      with its cow pages, causes and interpreter. A second
                      traced run with a when_ready hook calling gc.collect();
                      gc.freeze() (tests/apps/gunicorn_freeze.py) copies far
                      fewer pages (the requests read 1/256 of the data each;
                      without the hook the workers' gc.collect() copies most
                      of it), far fewer gc pages in the modes that record
                      causes, and `cowtrace diff` shows it.
  --server uwsgi      Debian's uWSGI with the python3 plugin, --master,
                      2 processes, app loaded in the master (no --lazy-apps):
                      the embedding host is uwsgi-core, not python3, and the
                      report still names the interpreter (libpython3.11) and
                      gives causes.
  --server recycle    gunicorn --max-requests: workers that come and go are
                      all reported, each once, with their exit.
  --server pool       multiprocessing Pool (fork, forkserver) and
                      ProcessPoolExecutor (tests/workloads/mp.py, which
                      test_multiprocessing.py runs for presence): causes,
                      interpreter and exit of every worker.

In every case: every request succeeds, no worker crashes, and the server's
log holds no line (pids, times, ports, addresses and numbers normalised)
that the same scenario run untraced does not print. Causes are checked in
the modes that record every first write (uffd, mprotect; auto picks one).
"""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402

APPS = os.path.join(ct.TESTS, "apps")
GUNICORN = "/usr/bin/gunicorn"
UWSGI = "/usr/bin/uwsgi"
CAUSES = ("refcount", "gc", "object", "allocator", "interpreter", "other", "unknown")
# bigapp's requests each read 1/SLICES of its data (a worker's k-th request,
# slice k % SLICES): with a few dozen requests the reads copy a small part of
# it, and a worker's full gc.collect() copies the pages of every GC-tracked
# object, most of the data, unless gc.freeze() ran in the master
SLICES = 256


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server started untraced (mode None) or under `cowtrace run`; its
    stdout and stderr go to one log file."""

    def __init__(self, t, tag, cmd, mode, env, stop_signal):
        self.tag, self.mode = tag, mode
        self.out = t.sub(f"out-{tag}")
        self.logpath = t.sub(f"log-{tag}")
        self.stop_signal = stop_signal
        env = ct.clean_env(env)
        full = list(cmd) if mode is None else \
            [ct.cowtrace_bin(), "run", "-o", self.out, "--mode", mode, "-q", "--"] + list(cmd)
        self.logf = open(self.logpath, "w")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(full, env=env, cwd=APPS, stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=subprocess.STDOUT)

    def log(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def wait_listening(self, port, timeout=180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ct.Fail(f"{self.tag}: server exited ({self.proc.returncode}) before listening; "
                              f"log:\n{self.log()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        self.kill()
        raise ct.Fail(f"{self.tag}: nothing listening on port {port} after {timeout}s; log:\n{self.log()[-3000:]}")

    def stop(self, timeout=120):
        self.proc.send_signal(self.stop_signal)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise ct.Fail(f"{self.tag}: server did not stop within {timeout}s of signal {self.stop_signal}; "
                          f"log:\n{self.log()[-3000:]}")
        self.logf.close()
        self.elapsed = time.monotonic() - self.t0
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def load(port, n, path="/", timeout=120):
    """n sequential requests, a new connection each; returns (bodies, errors)."""
    bodies, errors = [], []
    for i in range(n):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            c.request("GET", path)
            r = c.getresponse()
            body = r.read().decode(errors="replace")
            c.close()
            if r.status != 200 or not re.fullmatch(r"\d+ \S+ -?\d+\n", body):
                errors.append(f"request {i}: status {r.status} body {body[:200]!r}")
            else:
                bodies.append(body)
        except Exception as e:  # noqa: BLE001 - every failure is a finding
            errors.append(f"request {i}: {type(e).__name__}: {e}")
    return bodies, errors


_NORM = [
    (re.compile(r"0x[0-9a-fA-F]+"), "0xH"),
    (re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b"), "DAY MON"),
    (re.compile(r"\d+"), "N"),
    (re.compile(r"[ \t]+$"), ""),
]


def normalise(log, drop=()):
    out = set()
    for ln in log.splitlines():
        for rx, rep in _NORM:
            ln = rx.sub(rep, ln)
        if ln and not any(d in ln for d in drop):
            out.add(ln)
    return out


def compare_logs(plain, traced, bad, tag, drop=()):
    a, b = normalise(plain.log(), drop), normalise(traced.log(), drop)
    extra = sorted(b - a)
    if extra:
        bad.append(f"{tag}: the traced server logged lines the untraced one did not: {extra[:10]}")
    ct.log(f"  {tag}: log lines (normalised, distinct) untraced {len(a)}, traced {len(b)}, new {len(extra)}")


def precise(mode, proc):
    return mode in ("uffd", "mprotect") or (mode == "auto" and proc.get("mode") in ("uffd", "mprotect"))


def check_worker(p, mode, bad, tag, exe=None, python_path=None, exit_ok=("exit 0",), min_cow=1,
                 want_causes=("refcount", "gc")):
    """A worker's entry in the report: mode, exit, cow pages, interpreter, causes."""
    pid = p["pid"]
    c = p.get("causes", {})
    ct.log(f"    {tag} pid {pid}: mode {p.get('mode')} exit {p.get('exit')!r} complete {p.get('complete')} "
           f"cow {p.get('cow_pages')} causes {c} python {(p.get('python') or {}).get('path')}")
    if mode != "auto" and p.get("mode") != mode:
        bad.append(f"{tag}: worker {pid} traced in {p.get('mode')!r}, asked {mode} ({p.get('mode_reason')!r})")
    ok = exit_ok.fullmatch(str(p.get("exit"))) if hasattr(exit_ok, "fullmatch") else p.get("exit") in exit_ok
    if not ok:
        want = exit_ok.pattern if hasattr(exit_ok, "pattern") else " or ".join(exit_ok)
        bad.append(f"{tag}: worker {pid} exit {p.get('exit')!r}, expected {want}")
    if str(p.get("exit")).startswith("exit") and p.get("complete") is not True:
        bad.append(f"{tag}: worker {pid} trace incomplete: notes {p.get('notes')}")
    if p.get("cow_pages", 0) < min_cow:
        bad.append(f"{tag}: worker {pid} copied {p.get('cow_pages')} pages, expected at least {min_cow}")
    if exe and p.get("exe") != exe:
        bad.append(f"{tag}: worker {pid} exe {p.get('exe')!r}, expected {exe}")
    py = p.get("python")
    if not py:
        bad.append(f"{tag}: worker {pid}: no interpreter in the report")
    else:
        if not str(py.get("version", "")).startswith("3."):
            bad.append(f"{tag}: worker {pid}: python version {py.get('version')!r}")
        if python_path and os.path.realpath(py.get("path") or "") != os.path.realpath(python_path):
            bad.append(f"{tag}: worker {pid}: python path {py.get('path')!r}, expected {python_path}")
        if py.get("layout") is None:
            bad.append(f"{tag}: worker {pid}: no memory layout for {py.get('version')!r}, causes cannot be known")
    if sorted(c) != sorted(CAUSES) or sum(c.values()) != p.get("cow_pages"):
        bad.append(f"{tag}: worker {pid}: causes {c} do not sum to cow_pages {p.get('cow_pages')}")
        return
    if precise(mode, p):
        if p.get("causes_inferred"):
            bad.append(f"{tag}: worker {pid}: causes inferred in mode {p.get('mode')}")
        if c["unknown"] > 0.05 * max(1, p["cow_pages"]):
            bad.append(f"{tag}: worker {pid}: {c['unknown']} of {p['cow_pages']} cow pages of unknown cause")
        for k in want_causes:
            if c.get(k, 0) <= 0:
                bad.append(f"{tag}: worker {pid}: no pages charged to {k}: {c}")


def worker_pids_gunicorn(log):
    return [int(x) for x in re.findall(r"Booting worker with pid: (\d+)", log)]


def gunicorn_exits(log):
    """What gunicorn's master says about how each worker ended: exit 0
    unless it logged otherwise."""
    ex = {}
    for pid, sig in re.findall(r"Worker with pid (\d+) was terminated due to signal (\d+)", log):
        ex[int(pid)] = f"signal {sig}"
    for pid, code in re.findall(r"Worker \(pid:(\d+)\) exited with code (\d+)", log):
        ex[int(pid)] = f"exit {code}"
    return ex


def worker_pids_uwsgi(log):
    return [int(x) for x in re.findall(r"spawned uWSGI worker \d+ \(pid: (\d+)", log)]


def report_workers(out, pids, bad, tag):
    """The report's entries for the workers: each exactly once; no other process."""
    rep = ct.report(out)
    seen = [p["pid"] for p in rep["processes"]]
    for pid in pids:
        if seen.count(pid) != 1:
            bad.append(f"{tag}: worker {pid} appears {seen.count(pid)} times in the report")
    others = sorted(set(seen) - set(pids))
    if others:
        bad.append(f"{tag}: the report has processes that are not workers: {others}")
    if rep.get("errors"):
        bad.append(f"{tag}: the report could not read some traces: {rep['errors'][:3]}")
    return rep, {p["pid"]: p for p in rep["processes"]}


def app_env(args, **extra):
    env = dict(os.environ, BIGAPP_MB=str(args.mb), BIGAPP_SLICES=str(SLICES), PYTHONDONTWRITEBYTECODE="1")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _exited(pid):
    """Has process pid ended (gone, or a zombie its parent has not reaped)?"""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True


def settle(s, nworkers, bodies, maxreq, timeout=60):
    """Wait until every worker that served its --max-requests has ended and
    gunicorn has booted its replacements, so the stop signal does not meet a
    worker on its way out. (A worker finishing its last request logs
    "Worker exiting" and then the interpreter finalizes; finalization
    restores SIGTERM's default action, so a stop signal then kills it:
    "terminated due to signal 15". Waiting a fixed time after the log line
    was not enough for a traced worker, whose finalization copies pages, nor
    for the worker that served the very last request, which may not have
    logged anything yet when its response arrives.)"""
    counts = {}
    for pid in (int(b.split()[0]) for b in bodies):
        counts[pid] = counts.get(pid, 0) + 1
    leaving = [pid for pid, n in counts.items() if n >= maxreq]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = s.log()
        if (all(_exited(pid) for pid in leaving)
                and len(worker_pids_gunicorn(log)) - log.count("Worker exiting") >= nworkers):
            time.sleep(0.5)
            return
        time.sleep(0.1)


def serve(t, tag, cmd_for_port, mode, env, stop_signal, nreq, bad, path="/", after_load=None):
    port = free_port()
    s = Server(t, tag, cmd_for_port(port), mode, env, stop_signal)
    try:
        s.wait_listening(port)
        t0 = time.monotonic()
        bodies, errors = load(port, nreq, path)
        dt = time.monotonic() - t0
        if after_load:
            after_load(s, bodies)
    except BaseException:
        s.kill()
        raise
    rc = s.stop()
    counts = {}   # requests served, by worker pid
    for pid in (int(b.split()[0]) for b in bodies):
        counts[pid] = counts.get(pid, 0) + 1
    pids = sorted(counts)
    ct.log(f"  {tag}: {len(bodies)}/{nreq} requests ok in {dt:.1f}s, served by {counts} (pid: requests); "
           f"server status {rc}; {s.elapsed:.1f}s in all")
    for e in errors[:5]:
        bad.append(f"{tag}: {e}")
    if errors:
        bad.append(f"{tag}: {len(errors)} of {nreq} requests failed; log tail:\n{s.log()[-2000:]}")
    if s.mode is not None:
        cl = ct.cowtrace_lines(s.log())
        if cl:
            bad.append(f"{tag}: the shim printed: {cl[:5]}")
    s.status, s.served, s.counts = rc, pids, counts
    return s


def gunicorn_cmd(extra=()):
    def cmd(port):
        return [GUNICORN, "--preload", "--workers", "2", "--worker-class", "sync",
                "--bind", f"127.0.0.1:{port}", "--timeout", "120", "--graceful-timeout", "60",
                *extra, "bigapp:app"]
    return cmd


def need(path, pkg):
    if not os.access(path, os.X_OK):
        raise ct.Skip(f"{path} not installed (Debian package {pkg}; scripts/test installs it)")


def scenario_gunicorn(t, args, bad):
    need(GUNICORN, "gunicorn")
    env = app_env(args)
    nreq = args.requests
    plain = serve(t, "gunicorn-untraced", gunicorn_cmd(), None, env, signal.SIGTERM, nreq, bad)
    base = serve(t, "gunicorn", gunicorn_cmd(), args.mode, env, signal.SIGTERM, nreq, bad)
    frozen = serve(t, "gunicorn-freeze", gunicorn_cmd(["-c", os.path.join(APPS, "gunicorn_freeze.py")]),
                   args.mode, env, signal.SIGTERM, nreq, bad)
    for s in (plain, base, frozen):
        if s.status != 0:
            bad.append(f"{s.tag}: gunicorn exited {s.status}")
    compare_logs(plain, base, bad, "gunicorn")
    compare_logs(plain, frozen, bad, "gunicorn-freeze", drop=("gc frozen:",))
    if not any("gc frozen:" in ln for ln in frozen.log().splitlines()):
        bad.append("gunicorn-freeze: the when_ready hook did not run (no 'gc frozen:' line)")
    data_pages = int(args.mb * (1 << 20) / 4096)
    totals = {}
    serving = [0, 0]   # gc pages, cow pages of the unfrozen workers that served a request
    for s in (base, frozen):
        pids = worker_pids_gunicorn(s.log())
        if len(pids) != 2:
            bad.append(f"{s.tag}: {len(pids)} workers booted, expected 2: {pids}")
        rep, procs = report_workers(s.out, pids, bad, s.tag)
        exits = gunicorn_exits(s.log())
        for pid in pids:
            if pid in procs:
                # a worker that served n requests read slices 1..n: refcount;
                # it collected at its first request, writing the header of
                # every GC-tracked object (most of the data): gc, unless frozen
                n = s.counts.get(pid, 0)
                if not n:
                    want, min_cow = (), 1
                elif s is frozen:
                    want, min_cow = ("refcount",), max(1, min(n, SLICES) * data_pages // SLICES // 2)
                else:
                    want, min_cow = ("refcount", "gc"), data_pages // 4
                check_worker(procs[pid], args.mode, bad, s.tag, python_path="/usr/bin/python3.11",
                             exit_ok=(exits.get(pid, "exit 0"),), min_cow=min_cow, want_causes=want)
                if n and s is base:
                    serving[0] += procs[pid].get("causes", {}).get("gc", 0)
                    serving[1] += procs[pid].get("cow_pages", 0)
        totals[s.tag] = rep["total"]
    a, b = totals.get("gunicorn"), totals.get("gunicorn-freeze")
    if a and b:
        ct.log(f"  cow pages {a['cow_pages']} -> {b['cow_pages']} with gc.freeze "
               f"(x{b['cow_pages'] / max(1, a['cow_pages']):.2f}); gc share "
               f"{a['causes']['gc'] / max(1, a['cow_pages']):.2f} -> "
               f"{b['causes']['gc'] / max(1, b['cow_pages']):.2f}; "
               f"causes {a['causes']} -> {b['causes']}")
        # uffd-async infers gc from the workers' count of full collections
        # (not counted after the hook's gc.freeze()): the same two checks.
        # over the workers that served a request: one that served none
        # never collected, and still copies at exit (its interpreter's
        # finalization drops references: refcount); gunicorn may give
        # every request to one worker
        if serving[0] < 0.2 * serving[1]:
            bad.append(f"gunicorn: gc share {serving[0]} of {serving[1]} cow pages of the workers that served "
                       "requests is < 20%: their gc.collect() should have copied most gc-tracked data")
        if b["causes"]["gc"] > 0.1 * max(1, a["causes"]["gc"]):
            bad.append(f"gunicorn-freeze: gc pages {b['causes']['gc']} vs {a['causes']['gc']} without the "
                       "hook: the gc share did not collapse")
        # without the hook every worker copies the pages of all GC-tracked
        # objects (about 2/3 of the data's pages) at its first request's
        # gc.collect(), or at the interpreter's exit for a worker that served
        # none (measured 1.0 x data_pages per worker in uffd-async, 1.4 x in
        # uffd and mprotect); with it, the pages of the few slices read
        # (about 0.25 x data_pages per worker). So the hook saves 1.5 x
        # data_pages (uffd-async) to 2.3 x (uffd, mprotect); require 0.5 x
        if a["cow_pages"] - b["cow_pages"] < data_pages // 2:
            bad.append(f"gunicorn-freeze: {b['cow_pages']} cow pages against {a['cow_pages']} without the hook, "
                       f"a saving under {data_pages // 2} pages (half the app's {data_pages}): "
                       "gc.freeze() should have spared the workers the copy of the GC-tracked data")
        d = subprocess.run([ct.cowtrace_bin(), "diff", "--format", "json", base.out, frozen.out],
                           capture_output=True, text=True, timeout=300)
        if d.returncode != 0:
            bad.append(f"cowtrace diff exited {d.returncode}: {d.stderr[-500:]}")
        else:
            dj = json.loads(d.stdout)
            ct.log(f"  diff: cow {dj['a']['cow_pages']} -> {dj['b']['cow_pages']}, gc {dj['causes']['gc']}")
            if dj["a"]["cow_pages"] != a["cow_pages"] or dj["b"]["cow_pages"] != b["cow_pages"]:
                bad.append(f"cowtrace diff totals {dj['a']['cow_pages']}/{dj['b']['cow_pages']} differ from "
                           f"the reports' {a['cow_pages']}/{b['cow_pages']}")
            if dj["causes"]["gc"] != {"a": a["causes"]["gc"], "b": b["causes"]["gc"]}:
                bad.append(f"cowtrace diff gc {dj['causes']['gc']} differs from the reports'")
            if dj["causes"]["gc"]["b"] >= dj["causes"]["gc"]["a"] and a["causes"]["gc"] > 0:
                bad.append(f"cowtrace diff does not show the gc saving: {dj['causes']['gc']}")
            txt = subprocess.run([ct.cowtrace_bin(), "diff", base.out, frozen.out],
                                 capture_output=True, text=True, timeout=300)
            # (uffd-async infers causes from page contents and cannot see gc)
            if txt.returncode != 0 or (a["causes"]["gc"] and not re.search(r"^\s*gc\b", txt.stdout, re.M)):
                bad.append(f"cowtrace diff (text) exited {txt.returncode} or has no gc line: {txt.stdout[:800]!r}")


def scenario_recycle(t, args, bad):
    need(GUNICORN, "gunicorn")
    env = app_env(args)
    maxreq, nreq = 4, args.requests
    cmd = gunicorn_cmd(["--max-requests", str(maxreq)])
    plain = serve(t, "recycle-untraced", cmd, None, env, signal.SIGTERM, nreq, bad,
                  after_load=lambda s, bodies: settle(s, 2, bodies, maxreq))
    traced = serve(t, "recycle", cmd, args.mode, env, signal.SIGTERM, nreq, bad,
                   after_load=lambda s, bodies: settle(s, 2, bodies, maxreq))
    for s in (plain, traced):
        if s.status != 0:
            bad.append(f"{s.tag}: gunicorn exited {s.status}")
    compare_logs(plain, traced, bad, "recycle")
    pids = worker_pids_gunicorn(traced.log())
    restarts = traced.log().count("Autorestarting worker")
    ct.log(f"  recycle: {len(pids)} workers booted, {restarts} autorestarts")
    if len(pids) < 2 + nreq // maxreq // 2:
        bad.append(f"recycle: only {len(pids)} workers booted for {nreq} requests at --max-requests {maxreq}")
    if len(set(pids)) != len(pids):
        bad.append(f"recycle: a pid booted twice (reuse within the run): {pids}")
    rep, procs = report_workers(traced.out, pids, bad, "recycle")
    exits = gunicorn_exits(traced.log())
    if exits:
        ct.log(f"  recycle: gunicorn says {exits}")
    for pid in pids:
        if pid in procs:
            # the report must agree with gunicorn's master on how each ended
            check_worker(procs[pid], args.mode, bad, "recycle", python_path="/usr/bin/python3.11",
                         exit_ok=(exits.get(pid, "exit 0"),),
                         want_causes=("refcount",) if pid in traced.served else ())


def scenario_uwsgi(t, args, bad):
    need(UWSGI, "uwsgi-core")
    if not os.path.exists("/usr/lib/uwsgi/plugins/python3_plugin.so"):
        raise ct.Skip("uWSGI's python3 plugin is not installed (Debian uwsgi-plugin-python3)")
    env = app_env(args)

    def cmd(port):
        return [UWSGI, "--master", "--processes", "2", "--http-socket", f"127.0.0.1:{port}",
                "--plugin", "python3", "--wsgi-file", os.path.join(APPS, "bigapp.py"),
                "--need-app", "--die-on-term"]
    nreq = args.requests
    plain = serve(t, "uwsgi-untraced", cmd, None, env, signal.SIGTERM, nreq, bad)
    traced = serve(t, "uwsgi", cmd, args.mode, env, signal.SIGTERM, nreq, bad)
    if traced.status != plain.status:
        bad.append(f"uwsgi: exit status traced {traced.status}, untraced {plain.status}")
    compare_logs(plain, traced, bad, "uwsgi")
    pids = worker_pids_uwsgi(traced.log())
    if len(pids) != 2:
        bad.append(f"uwsgi: {len(pids)} workers spawned, expected 2: {pids}")
    data_pages = int(args.mb * (1 << 20) / 4096)
    rep, procs = report_workers(traced.out, pids, bad, "uwsgi")
    for pid in pids:
        if pid in procs:
            p = procs[pid]
            # uWSGI's workers end with its own exit code (30 on a master's
            # shutdown), whether traced or not
            check_worker(p, args.mode, bad, "uwsgi", exe="/usr/bin/uwsgi-core",
                         exit_ok=re.compile(r"exit \d+"),
                         python_path="/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0",
                         min_cow=data_pages // 8 if pid in traced.served else 1,
                         want_causes=("refcount", "gc") if pid in traced.served else ())
            if (p.get("python") or {}).get("build") != "shared":
                bad.append(f"uwsgi: worker {pid}: python build {(p.get('python') or {}).get('build')!r}, "
                           "expected shared (libpython in the plugin)")


def scenario_pool(t, args, bad):
    for method in ("fork", "forkserver", "executor"):
        pidfile = t.sub(f"pids-{method}")
        out = t.sub(f"out-{method}")
        cmd = [ct.python(), ct.workload("mp.py"), method, pidfile]
        r = ct.run_cmd(cmd, args.mode, out, timeout=300)
        if r.returncode != 0:
            bad.append(f"pool {method}: exited {r.returncode}: {r.stderr[-1000:]}")
            continue
        with open(pidfile) as f:
            workers = json.load(f)
        rep = ct.report(out)
        procs = {p["pid"]: p for p in rep["processes"]}
        seen = [p["pid"] for p in rep["processes"]]
        ct.log(f"  pool {method}: workers {workers}; report {sorted(procs)}")
        for w in workers:
            if seen.count(w) != 1:
                bad.append(f"pool {method}: worker {w} appears {seen.count(w)} times in the report")
                continue
            # the workers increment list items (object) and read ints (refcount)
            check_worker(procs[w], args.mode, bad, f"pool {method}", min_cow=50, want_causes=("refcount",))


SCENARIOS = {"gunicorn": scenario_gunicorn, "uwsgi": scenario_uwsgi,
             "recycle": scenario_recycle, "pool": scenario_pool}


def run():
    def extra(ap):
        ap.add_argument("--server", required=True, choices=sorted(SCENARIOS))
        ap.add_argument("--mb", type=float, default=None,
                        help="MiB of Python objects the app builds before the fork (default: "
                             "COWTRACE_SERVER_MB, else 400 with COWTRACE_LONG=1, else 100; recycle: a quarter)")
        ap.add_argument("--requests", type=int, default=48)
    args = ct.parse_args(extra)
    if args.mb is None:
        long_ = os.environ.get("COWTRACE_LONG") == "1"
        args.mb = float(os.environ.get("COWTRACE_SERVER_MB", "400" if long_ else "100"))
        if args.server == "recycle":
            args.mb /= 4   # a dozen workers copy it each
    ct.require_build()
    t = ct.tempdir(f"servers-{args.server}")
    bad = []
    ct.log(f"{args.server}: mode {args.mode}, app {args.mb} MiB, {args.requests} requests")
    SCENARIOS[args.server](t, args, bad)
    ct.check(not bad, "\n  ".join(bad))


ct.main(run)
