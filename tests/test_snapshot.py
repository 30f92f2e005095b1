#!/usr/bin/env python3
"""`cowtrace snapshot` against a running forking program it did not start
(tests/workloads/snapshot_server.py: a master with a list of ints and a
list of class instances, an "ints" worker that iterated the ints and a "gc"
worker that ran gc.collect(), both asleep).

--case root    as root: each worker's copied pages agree with the kernel's
               frame numbers, computed here, to >= 99% both ways; the ints
               worker is >= 85% refcount on int, the gc worker >= 80% gc on
               Item; the snapshot copies nothing itself (frame numbers
               before and after); the text report without -o states what a
               snapshot cannot know; a PID that does not exist is refused
               (exit 2, one line, nothing written).
--case freeze  the same program with gc.freeze() in the master before the
               fork: `cowtrace diff` shows the gc worker's gc share collapse.
--python X.Y.Z (or a path) the interpreter of the workload (default: the
               one running the tests; nobody always uses /usr/bin/python3.11).
--case gunicorn  Debian's gunicorn --preload (not started by cowtrace) serving
               tests/apps/bigapp.py on loopback, under load while the snapshot
               runs: no request fails; each worker's copied pages agree with
               frame numbers read just before and just after it (>= 99% both
               ways); report and diff read the output.
--case uffd-async  the same program under `cowtrace run --mode uffd-async`,
               its workers leaving by os._exit: the same known causes,
               inferred from what the copied pages hold and (gc) from the
               child's count of full collections (the PYGC record).
--case split   anonymous mappings whose bounds moved after the fork
               (tests/workloads/snapshot_split.py: the worker unmapped part
               of one, the master grew the other by a neighbour): snapshot
               and watch count every page of them the worker copied, as
               frame numbers say (>= 99% both ways), none of it fresh.
--case malloc  the allocator a master was started with, from its environment
               and command line: PYTHONMALLOC=malloc (no cause inferred from
               pools, said in the report), -X dev (pymalloc_debug), and -E
               (PYTHONMALLOC ignored: pymalloc, as the interpreter chose).
--case nobody  as nobody with /usr/bin/python3.11, snapshotting its own
               processes: copied page counts within 1% of root's, the report
               says what it could not see; a root process is refused cleanly.
"""
import http.client
import json
import os
import shutil
import signal
import struct
import subprocess
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402

PRESENT, EXCLUSIVE, PFN = 1 << 63, 1 << 56, (1 << 55) - 1


def cow_maps(pid):
    out = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            fields = line.split()
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            if fields[1][1] == "w" and fields[1][3] == "p" and (len(fields) < 6 or fields[5] != "[vsyscall]"):
                out.append((lo, hi))
    return out


def pagemap(pid, lo, hi):
    with open(f"/proc/{pid}/pagemap", "rb") as f:
        f.seek(lo // 4096 * 8)
        data = f.read((hi - lo) // 4096 * 8)
    return struct.unpack(f"{len(data) // 8}Q", data)


def kernel_copied(worker, parent):
    """Pages present in both at one address with different frame numbers."""
    pmaps = cow_maps(parent)
    out = set()
    for lo, hi in cow_maps(worker):
        if not any(a <= lo and hi <= b for a, b in pmaps):
            continue
        try:
            w, p = pagemap(worker, lo, hi), pagemap(parent, lo, hi)
        except OSError:
            continue
        for i, (x, y) in enumerate(zip(w, p)):
            if x & PRESENT and y & PRESENT and (x & PFN) != (y & PFN):
                out.add(lo + i * 4096)
    return out


def start(py, t, tag, freeze=False, pre=(), pyopts=(), extra=()):
    ready = t.sub(f"ready-{tag}")
    args = (list(pre) + [py, *pyopts, t.sub("snapshot_server.py"), "--ready", ready] +
            (["--freeze"] if freeze else []) + list(extra))
    proc = subprocess.Popen(args, cwd=t.path, stdin=subprocess.DEVNULL, start_new_session=True,
                            env=dict(ct.clean_env(), HOME="/"))
    deadline = time.time() + 120
    while not os.path.exists(ready):
        ct.check(proc.poll() is None, f"the workload exited with {proc.returncode}")
        ct.check(time.time() < deadline, "the workload did not get ready in 120 s")
        time.sleep(0.1)
    with open(ready) as f:
        master, ints, gcw = (int(x) for x in f.read().split())
    return proc, master, ints, gcw


def stop(proc, pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=30)


def snapshot(args, pre=(), cowtrace=None, env=None):
    cmd = list(pre) + [cowtrace or ct.cowtrace_bin(), "snapshot"] + args
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    ct.log(f"$ {' '.join(cmd)} -> {r.returncode}\n{r.stdout.rstrip()}\n{r.stderr.rstrip()}")
    return r


def cause_share(p, cause, type_name=None):
    pages = sum(t["cow_pages"] for t in p["types"]
                if t["cause"] == cause and (type_name is None or t["name"] == type_name))
    return pages / max(1, p["cow_pages"])


def case_root(py, t):
    proc, master, ints, gcw = start(py, t, "root")
    try:
        before = {w: kernel_copied(w, master) for w in (ints, gcw)}
        out = t.sub("out")
        r = snapshot(["-o", out, str(master)])
        ct.check(r.returncode == 0, f"snapshot exited {r.returncode}: {r.stderr}")
        after = {w: kernel_copied(w, master) for w in (ints, gcw)}
        text = snapshot([str(master)])
        ct.check(text.returncode == 0, f"snapshot without -o exited {text.returncode}")
        # the third in one thread (as with one CPU): the same files
        again = t.sub("again")
        r = snapshot(["-o", again, str(master)], env=dict(os.environ, COWTRACE_TEST_ONE_THREAD="1"))
        ct.check(r.returncode == 0, f"the third snapshot exited {r.returncode}")
    finally:
        stop(proc, (ints, gcw, master))
    rep = ct.report(out, pages=True)
    procs = ct.processes(rep)
    ct.check(set(procs) == {master, ints, gcw}, f"report has pids {sorted(procs)}, want {master} {ints} {gcw}")
    for w in (ints, gcw):
        grew = len(after[w] - before[w])
        ct.check(grew <= 16, f"worker {w} copied {grew} pages while it was snapshotted")
        p = procs[w]
        cow, _ = ct.page_sets(p, 0, 1 << 64)
        kern = before[w] & after[w]
        both = len(cow & kern)
        ct.log(f"worker {w}: snapshot {len(cow)} copied, kernel {len(kern)}, both {both}; "
               f"causes {p['causes']}; top types {p['types'][:3]}")
        ct.check(both >= 0.99 * len(kern) and both >= 0.99 * len(cow),
                 f"worker {w}: {len(cow)} copied pages, kernel frame numbers say {len(kern)}, {both} agree")
        ct.check(p["exit"] == "running" and p["mode"] == "snapshot", f"worker {w}: exit {p['exit']}, mode {p['mode']}")
    # Reading a page the worker does not have would map one in (the zero
    # page): after two more snapshots, the same fresh and copied counts.
    # The third ran in one thread: the same causes too (within the pages
    # the workload may still touch).
    later = ct.processes(ct.report(again))
    for w in (ints, gcw):
        for k in ("cow_pages", "fresh_pages"):
            ct.check(abs(later[w][k] - procs[w][k]) <= 2,
                     f"worker {w}: {k} {procs[w][k]} in the first snapshot, {later[w][k]} in the third")
        for c in set(procs[w]["causes"]) | set(later[w]["causes"]):
            a, b = procs[w]["causes"].get(c, 0), later[w]["causes"].get(c, 0)
            ct.check(abs(a - b) <= 2, f"worker {w}: {a} pages {c} in the threaded snapshot, {b} in one thread")
    share = cause_share(procs[ints], "refcount", "int")
    ct.check(share >= 0.85, f"the ints worker is {share:.0%} refcount on int (want >= 85%)")
    share = cause_share(procs[gcw], "gc", "Item")
    ct.check(share >= 0.80, f"the gc worker is {share:.0%} gc on Item (want >= 80%)")
    ct.check(procs[master]["cow_pages"] == 0, "the master, compared with nothing, shows copied pages")
    for want in ("a snapshot sees only the end state", "running", "inferred"):
        ct.check(want in text.stdout, f"the text report does not say {want!r}")
    # errors: a pid that does not exist (a reaped child's), nothing written
    gone = subprocess.Popen(["true"])
    gone.wait()
    bad = t.sub("bad")
    r = snapshot(["-o", bad, str(gone.pid)])
    ct.check(r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and str(gone.pid) in r.stderr,
             f"a missing pid: exit {r.returncode}, stderr {r.stderr!r}")
    ct.check(not os.path.exists(bad), "a refused snapshot created its output directory")


def case_uffd_async(py, t):
    out, ready = t.sub("out-async"), t.sub("ready-async")
    cmd = [ct.cowtrace_bin(), "run", "-o", out, "--mode", "uffd-async", "-q", "--",
           py, t.sub("snapshot_server.py"), "--ready", ready, "--exit"]
    r = subprocess.run(cmd, cwd=t.path, capture_output=True, text=True, timeout=120,
                       env=dict(ct.clean_env(), HOME="/"))
    ct.check(r.returncode == 0, f"{' '.join(cmd)} exited {r.returncode}: {r.stderr[-1500:]}")
    with open(ready) as f:
        master, ints, gcw = (int(x) for x in f.read().split())
    procs = ct.processes(ct.report(out))
    for w in (ints, gcw):
        ct.check(w in procs, f"no trace of worker {w}")
        p = procs[w]
        ct.check_mode(p, "uffd-async")
        ct.log(f"worker {w}: cow {p['cow_pages']} causes {p['causes']} inferred {p.get('causes_inferred')}; "
               f"top types {[(x['name'], x['cause'], x['cow_pages']) for x in p['types'][:3]]}")
        ct.check(p.get("causes_inferred"), f"worker {w}: causes not marked inferred")
    share = cause_share(procs[ints], "refcount", "int")
    ct.check(share >= 0.85, f"uffd-async: the ints worker is {share:.0%} refcount on int (want >= 85%)")
    share = cause_share(procs[gcw], "gc", "Item")
    ct.check(share >= 0.80, f"uffd-async: the gc worker is {share:.0%} gc on Item (want >= 80%)")


def case_freeze(py, t):
    outs = {}
    for freeze in (False, True):
        tag = "frozen" if freeze else "plain"
        proc, master, ints, gcw = start(py, t, tag, freeze=freeze)
        try:
            outs[tag] = t.sub(tag)
            r = snapshot(["-o", outs[tag], "--no-children", str(gcw)])
            ct.check(r.returncode == 0, f"snapshot exited {r.returncode}")
        finally:
            stop(proc, (ints, gcw, master))
    d = subprocess.run([ct.cowtrace_bin(), "diff", "--format", "json", outs["plain"], outs["frozen"]],
                       capture_output=True, text=True, timeout=120)
    ct.check(d.returncode == 0, f"cowtrace diff exited {d.returncode}: {d.stderr}")
    diff = json.loads(d.stdout)
    gc_a, gc_b = diff["causes"]["gc"]["a"], diff["causes"]["gc"]["b"]
    ct.log(f"gc pages: {gc_a} without gc.freeze(), {gc_b} with; cow {diff['a']['cow_pages']} -> {diff['b']['cow_pages']}")
    ct.check(gc_a >= 1000, f"only {gc_a} gc pages without gc.freeze()")
    ct.check(gc_b <= 0.1 * gc_a, f"gc.freeze() left {gc_b} gc pages of {gc_a}")
    text = subprocess.run([ct.cowtrace_bin(), "diff", outs["plain"], outs["frozen"]],
                          capture_output=True, text=True, timeout=120)
    ct.check(text.returncode == 0 and "gc" in text.stdout, "the text diff does not show gc")


def case_split(py, t):
    ready = t.sub("ready-split")
    shutil.copy(ct.workload("snapshot_split.py"), t.sub("snapshot_split.py"))
    proc = subprocess.Popen([py, t.sub("snapshot_split.py"), "--ready", ready], cwd=t.path,
                            stdin=subprocess.DEVNULL, start_new_session=True, env=dict(ct.clean_env(), HOME="/"))
    watch = None
    try:
        master, worker = ct.wait_ready_file(proc, ready)
        kern = kernel_copied(worker, master)
        # 3 MiB of A and 4 MiB of B, and whatever else the worker copied
        ct.check(len(kern) >= 7 * 256, f"the kernel says the worker copied only {len(kern)} pages")
        out = t.sub("out")
        r = snapshot(["-o", out, str(master)])
        ct.check(r.returncode == 0, f"snapshot exited {r.returncode}: {r.stderr}")
        tl = t.sub("watch")
        watch = subprocess.Popen([ct.cowtrace_bin(), "watch", "-i", "0.5", "--causes-every", "0", "-o", tl,
                                  str(master)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        samples = []
        while time.time() < deadline and len(samples) < 2:
            time.sleep(0.5)
            try:
                with open(os.path.join(tl, "timeline.jsonl")) as f:
                    samples = [json.loads(x) for x in f if '"sample"' in x]
                samples = [x for x in samples if x["pid"] == worker]
            except FileNotFoundError:
                pass
        watch.send_signal(signal.SIGTERM)
        _, err = watch.communicate(timeout=60)
        ct.check(watch.returncode == 0, f"watch exited {watch.returncode}: {err}")
        kern_after = kernel_copied(worker, master)
    finally:
        if watch and watch.poll() is None:
            watch.kill()
        stop(proc, (worker, master))
    kern &= kern_after
    procs = ct.processes(ct.report(out, pages=True))
    p = procs[worker]
    cow, _ = ct.page_sets(p, 0, 1 << 64)
    both = len(cow & kern)
    ct.log(f"worker {worker}: snapshot {len(cow)} copied, {p['fresh_pages']} fresh; kernel {len(kern)}; both {both}")
    ct.check(both >= 0.99 * len(kern) and both >= 0.99 * len(cow),
             f"snapshot: {len(cow)} copied pages, kernel frame numbers say {len(kern)}, {both} agree")
    ct.check(len(samples) >= 2, f"watch wrote {len(samples)} samples of the worker")
    got = samples[-1]["copied_bytes"] // 4096
    ct.log(f"watch: the worker's last sample {samples[-1]}")
    ct.check(abs(got - len(kern)) <= 0.01 * len(kern),
             f"watch: {got} copied pages, kernel frame numbers say {len(kern)}")


def case_malloc(py, t):
    """Small servers: the allocator is what is checked, not the causes."""
    small = ("--ints", "100000", "--items", "30000")
    cases = [("malloc", ("env", "PYTHONMALLOC=malloc"), (), "malloc", "PYTHONMALLOC=malloc"),
             ("devmode", (), ("-X", "dev"), "pymalloc_debug", "-X dev"),
             ("ignored", ("env", "PYTHONMALLOC=malloc"), ("-E",), "pymalloc", None)]
    for tag, pre, pyopts, want, said in cases:
        proc, master, ints, gcw = start(py, t, tag, pre=pre, pyopts=pyopts, extra=small)
        try:
            out = t.sub(f"out-{tag}")
            r = snapshot(["-o", out, str(master)])
            ct.check(r.returncode == 0, f"{tag}: snapshot exited {r.returncode}: {r.stderr}")
        finally:
            stop(proc, (ints, gcw, master))
        procs = ct.processes(ct.report(out))
        for w in (ints, gcw):
            p = procs[w]
            got = p["python"].get("allocator", "pymalloc")   # named only when not pymalloc
            ct.check(got == want, f"{tag}: worker {w}'s allocator is {got!r}, want {want!r}")
            notes = " ".join(str(n) for n in p.get("notes", []))
            if said:
                ct.check(said in notes, f"{tag}: no note says {said!r}: {notes}")
            else:
                ct.check("allocator" not in notes, f"{tag}: a note names an allocator: {notes}")
            if want != "pymalloc":
                ct.check(p["causes"].get("allocator", 0) == 0,
                         f"{tag}: pages charged to pymalloc's pool headers: {p['causes']}")
        ct.log(f"{tag}: allocator {want}; causes {procs[ints]['causes']}")


def case_nobody(t):
    py = "/usr/bin/python3.11"
    if not os.access(py, os.X_OK):
        raise ct.Skip(f"{py} missing")
    pre, cowtrace = ct.nobody_cowtrace(t)
    proc, master, ints, gcw = start(py, t, "nobody", pre=pre)
    try:
        mine, root = t.sub("nobody-out"), t.sub("root-out")
        r = snapshot(["-o", mine, str(master)], pre=pre, cowtrace=cowtrace)
        ct.check(r.returncode == 0, f"snapshot as nobody exited {r.returncode}: {r.stderr}")
        r = snapshot(["-o", root, str(master)])
        ct.check(r.returncode == 0, f"snapshot as root exited {r.returncode}")
        # another user's process: this test's own (root)
        refused = t.sub("refused")
        r = snapshot(["-o", refused, str(os.getpid())], pre=pre, cowtrace=cowtrace)
        ct.check(r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and str(os.getpid()) in r.stderr,
                 f"another user's process: exit {r.returncode}, stderr {r.stderr!r}")
        ct.check(not os.path.exists(refused), "a refused snapshot created its output directory")
    finally:
        stop(proc, (ints, gcw, master))
    a, b = ct.processes(ct.report(mine)), ct.processes(ct.report(root))
    for w in (ints, gcw):
        na, nb = a[w]["cow_pages"], b[w]["cow_pages"]
        ct.log(f"worker {w}: {na} copied as nobody, {nb} as root")
        ct.check(abs(na - nb) <= 0.01 * nb, f"worker {w}: {na} copied pages as nobody, {nb} as root")
        ct.check(any("not root" in n for n in a[w]["notes"]), f"worker {w}: the report does not say what it missed")
        ct.check(cause_share(a[w], "refcount" if w == ints else "gc") >= 0.8,
                 f"worker {w}: causes as nobody {a[w]['causes']}")


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if ct.ppid_of(int(d)) == pid:
                    out.append(int(d))
            except (OSError, ValueError):
                pass
    return sorted(out)


def case_gunicorn(t):
    gunicorn = "/usr/bin/gunicorn"
    if not os.access(gunicorn, os.X_OK):
        raise ct.Skip("Debian's gunicorn is not installed")
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        port = so.getsockname()[1]
    env = dict(ct.clean_env(), BIGAPP_MB="40", BIGAPP_SLICES="256", PYTHONDONTWRITEBYTECODE="1")
    log = open(t.sub("gunicorn.log"), "w")
    server = subprocess.Popen([gunicorn, "--preload", "--workers", "2", "--worker-class", "sync",
                               "--bind", f"127.0.0.1:{port}", "--timeout", "120", "bigapp:app"],
                              cwd=os.path.join(ct.TESTS, "apps"), env=env, stdin=subprocess.DEVNULL,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    errors, served = [], [0]

    def get():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("GET", "/")
        r = c.getresponse()
        r.read()
        c.close()
        if r.status != 200:
            raise RuntimeError(f"status {r.status}")

    stop_load = threading.Event()

    def load():
        while not stop_load.is_set():
            try:
                get()
                served[0] += 1
            except Exception as e:  # noqa: BLE001 - every failure is a finding
                errors.append(f"{type(e).__name__}: {e}")

    try:
        deadline = time.time() + 120
        while True:
            ct.check(server.poll() is None, f"gunicorn exited {server.returncode}")
            ct.check(time.time() < deadline, "gunicorn not listening after 120 s")
            try:
                get()
                break
            except OSError:
                time.sleep(0.2)
        for _ in range(20):
            get()
        workers = children(server.pid)
        ct.check(len(workers) == 2, f"gunicorn workers: {workers}")
        loader = threading.Thread(target=load)
        loader.start()
        try:
            before = {w: kernel_copied(w, server.pid) for w in workers}
            out = t.sub("out")
            r = snapshot(["-o", out, str(server.pid)])
            after = {w: kernel_copied(w, server.pid) for w in workers}
        finally:
            stop_load.set()
            loader.join()
        ct.check(r.returncode == 0, f"snapshot exited {r.returncode}: {r.stderr}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    ct.log(f"{served[0]} requests served during the snapshot, {len(errors)} failed")
    ct.check(not errors, f"requests failed while the snapshot ran: {errors[:3]}")
    ct.check(served[0] > 0, "no request was served while the snapshot ran")
    procs = ct.processes(ct.report(out, pages=True))
    for w in workers:
        cow, _ = ct.page_sets(procs[w], 0, 1 << 64)
        b, a = before[w], after[w]
        ct.log(f"worker {w}: snapshot {len(cow)} copied; kernel {len(b)} before, {len(a)} after; "
               f"causes {procs[w]['causes']}")
        ct.check(len(cow & b) >= 0.99 * len(b), f"worker {w}: {len(cow & b)} of the kernel's {len(b)} copied pages")
        ct.check(len(cow & a) >= 0.99 * len(cow), f"worker {w}: {len(cow & a)} of the snapshot's {len(cow)}")
    for fmt in ("text", "json", "folded"):
        r = subprocess.run([ct.cowtrace_bin(), "report", "--format", fmt, out], capture_output=True, timeout=120)
        ct.check(r.returncode == 0 and r.stdout, f"report --format {fmt} exited {r.returncode}")
    r = subprocess.run([ct.cowtrace_bin(), "diff", out, out], capture_output=True, timeout=120)
    ct.check(r.returncode == 0 and r.stdout, f"diff exited {r.returncode}")


def run():
    def extra(ap):
        ap.add_argument("--case", choices=("root", "freeze", "nobody", "gunicorn", "uffd-async", "split", "malloc"), required=True)
        ap.add_argument("--python", default=None)
    args = ct.parse_args(extra=extra, modes=("auto",))
    ct.require_build(need_shim=args.case == "uffd-async")
    ct.require_root()
    t = ct.tempdir("snapshot")
    shutil.copy(ct.workload("snapshot_server.py"), t.sub("snapshot_server.py"))
    os.chmod(t.sub("snapshot_server.py"), 0o644)
    py = ct.python()
    if args.python:
        py = args.python if "/" in args.python else ct.python_of_version(args.python)
    if args.case == "root":
        case_root(py, t)
    elif args.case == "gunicorn":
        case_gunicorn(t)
    elif args.case == "freeze":
        case_freeze(py, t)
    elif args.case == "uffd-async":
        case_uffd_async(py, t)
    elif args.case == "split":
        case_split(py, t)
    elif args.case == "malloc":
        case_malloc(py, t)
    else:
        case_nobody(t)


ct.main(run)
