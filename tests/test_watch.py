#!/usr/bin/env python3
"""`cowtrace watch` against a running forking program it did not start
(tests/workloads/watch_server.py: a "grower" worker that copies more of
its master's list of ints every 0.5 s, then stops; short-lived workers the
master replaces one after another).

--case live    as root, watch -i 0.5 with -o, --prometheus and --textfile:
               the server answers only GET /metrics (405, 404, 400, 431 for
               an 8 KiB head) and a silent client holds nothing up;
               /metrics scraped twice while the grower grows shows its
               cowtrace_copied_bytes growing; once it stopped, the value
               agrees with the kernel's frame numbers (computed here) within
               1%; its comm (with a quote and a backslash) is escaped as
               the exposition format says; causes come with the first sample
               and after SIGUSR1 (and not between: --causes-every 1000),
               mostly refcount; a recycled worker appears in timeline.jsonl
               and is marked gone once, after its last sample; the textfile,
               read in a loop, is always a complete file; SIGTERM ends watch
               with exit 0 and every JSON line complete.
--case errors  one-line errors and exit 2: no such process, the port in
               use, another user's process (as nobody); a master that exits
               ends watch (exit 0), its worker marked gone.
"""
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402

PRESENT, PFN = 1 << 63, (1 << 55) - 1
PAGE = os.sysconf("SC_PAGESIZE")
GROWER_NAME = 'gr"o\\w'
TYPES = ("cowtrace_shared_bytes", "cowtrace_copied_bytes", "cowtrace_fresh_bytes",
         "cowtrace_copied_bytes_by_cause")


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
        f.seek(lo // PAGE * 8)
        data = f.read((hi - lo) // PAGE * 8)
    return struct.unpack(f"{len(data) // 8}Q", data)


def kernel_copied_bytes(worker, parent):
    """Pages present in both at one address of an inherited private writable
    mapping, with different frame numbers."""
    pmaps = cow_maps(parent)
    n = 0
    for lo, hi in cow_maps(worker):
        if not any(a <= lo and hi <= b for a, b in pmaps):
            continue
        w, p = pagemap(worker, lo, hi), pagemap(parent, lo, hi)
        n += sum(1 for x, y in zip(w, p) if x & PRESENT and y & PRESENT and (x & PFN) != (y & PFN))
    return n * PAGE


def scrape(addr):
    with urllib.request.urlopen(f"http://{addr}/metrics", timeout=10) as r:
        ct.check(r.status == 200, f"/metrics: status {r.status}")
        ct.check(r.headers["Content-Type"].startswith("text/plain; version=0.0.4"),
                 f"/metrics: content type {r.headers['Content-Type']}")
        return r.read().decode()


def http_raw(addr, data):
    """Sends data on a new connection, returns everything the server sent."""
    host, port = addr.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as c:
        c.sendall(data)
        resp = b""
        while True:
            chunk = c.recv(65536)
            if not chunk:
                return resp
            resp += chunk


def check_http(addr):
    """Only GET /metrics is served; a bounded request; a silent client
    holds nothing up."""
    host, port = addr.rsplit(":", 1)
    silent = socket.create_connection((host, int(port)), timeout=10)
    try:
        for req, status in ((b"POST /metrics HTTP/1.0\r\n\r\n", b"405"), (b"GET /other HTTP/1.0\r\n\r\n", b"404"),
                            (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"404"), (b"nonsense\n\n", b"400")):
            resp = http_raw(addr, req)
            ct.check(resp.startswith(b"HTTP/1.0 " + status), f"{req!r}: {resp[:60]!r}")
        head = b"GET /metrics HTTP/1.0\r\nX-Pad: "
        resp = http_raw(addr, head + b"a" * (8192 - len(head)))
        ct.check(resp.startswith(b"HTTP/1.0 431"), f"an 8 KiB request head: {resp[:60]!r}")
        resp = http_raw(addr, b"GET /metrics?x=1 HTTP/1.0\n\n")
        ct.check(resp.startswith(b"HTTP/1.0 200") and b"cowtrace_copied_bytes{" in resp,
                 f"GET /metrics?x=1 with bare newlines: {resp[:60]!r}")
        parse_metrics(scrape(addr))        # while the silent client is still connected
    finally:
        silent.close()


def parse_metrics(text):
    """{(name, pid, cause or None): value}, checking the format as it goes."""
    out, typed = {}, set()
    ct.check(text.endswith("\n"), "the exposition does not end with a newline")
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            ct.check(kind == "gauge", f"{name} is a {kind}")
            typed.add(name)
            continue
        if line.startswith("# HELP "):
            continue
        m = re.fullmatch(r'(\w+)\{pid="(\d+)",ppid="(\d+)",comm="((?:[^"\\]|\\.)*)"(?:,cause="(\w+)")?\} (\d+)', line)
        ct.check(m is not None, f"a line that does not parse: {line!r}")
        ct.check(m.group(1) in typed, f"{m.group(1)} without a TYPE line before it")
        out[(m.group(1), int(m.group(2)), m.group(5))] = (int(m.group(6)), m.group(4))
    ct.check(typed == set(TYPES), f"TYPE lines for {sorted(typed)}")
    return out


def start(t, pre=(), py=None):
    ready, grown, events = t.sub("ready"), t.sub("grown"), t.sub("events")
    args = list(pre) + [py or ct.python(), t.sub("watch_server.py"), "--ready", ready, "--grown", grown,
                        "--events", events, "--grower-name", GROWER_NAME]
    proc = subprocess.Popen(args, cwd=t.path, stdin=subprocess.DEVNULL, start_new_session=True,
                            env=dict(ct.clean_env(), HOME="/"))
    master, grower = ct.wait_ready_file(proc, ready, step=0.1)
    return proc, master, grower


def stop(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def start_watch(t, args, pre=(), cowtrace=None):
    err = open(t.sub("watch.stderr"), "w")
    cmd = list(pre) + [cowtrace or ct.cowtrace_bin(), "watch"] + args
    ct.log("$ " + " ".join(cmd))
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)


def served_address(t, w):
    deadline = time.time() + 20
    while time.time() < deadline:
        with open(t.sub("watch.stderr")) as f:
            m = re.search(r"serving http://([^/]+)/metrics", f.read())
        if m:
            return m.group(1)
        ct.check(w.poll() is None, f"watch exited with {w.returncode}")
        time.sleep(0.1)
    raise ct.Fail("watch did not say where it serves")


def check_textfile(path, seen):
    """The textfile, if it exists yet, is a whole exposition."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return
    parse_metrics(text)
    seen.append(len(text))


def case_live(t):
    proc, master, grower = start(t)
    out, prom = t.sub("out"), t.sub("textfile", ) + ".prom"
    w = start_watch(t, ["-i", "0.5", "--causes-every", "1000", "-o", out, "--prometheus", "127.0.0.1:0",
                        "--textfile", prom, str(master)])
    texts = []
    try:
        addr = served_address(t, w)
        # Growing: two scrapes 1.5 s apart.
        first = None
        deadline = time.time() + 20
        while first is None and time.time() < deadline:
            first = parse_metrics(scrape(addr)).get(("cowtrace_copied_bytes", grower, None))
            check_textfile(prom, texts)
            time.sleep(0.1)
        ct.check(first is not None, f"no cowtrace_copied_bytes for the grower {grower}")
        check_http(addr)
        for _ in range(15):
            check_textfile(prom, texts)
            time.sleep(0.1)
        m = parse_metrics(scrape(addr))
        second = m[("cowtrace_copied_bytes", grower, None)]
        ct.log(f"grower {grower}: copied {first[0]} then {second[0]} bytes")
        ct.check(second[0] > first[0] + (1 << 20), f"copied bytes did not grow: {first[0]} then {second[0]}")
        ct.check(second[1] == GROWER_NAME.replace("\\", "\\\\").replace('"', '\\"'),
                 f"the comm label is {second[1]!r}")
        ct.check(("cowtrace_copied_bytes_by_cause", grower, "refcount") in m,
                 "no cowtrace_copied_bytes_by_cause{cause=\"refcount\"} after the first sample")
        # Grown: the value agrees with the kernel.
        while not os.path.exists(t.sub("grown")):
            ct.check(time.time() < deadline + 20, "the grower did not finish")
            check_textfile(prom, texts)
            time.sleep(0.1)
        agreed = False
        for attempt in range(5):
            k1 = kernel_copied_bytes(grower, master)
            for _ in range(8):     # more than one interval: the exposition is from after k1
                check_textfile(prom, texts)
                time.sleep(0.1)
            got = parse_metrics(scrape(addr))[("cowtrace_copied_bytes", grower, None)][0]
            k2 = kernel_copied_bytes(grower, master)
            ct.log(f"kernel {k1} / {k2} bytes copied, /metrics {got}")
            if k1 == k2:
                ct.check(abs(got - k1) <= 0.01 * k1, f"/metrics says {got} bytes copied, the kernel {k1}")
                agreed = True
                break
        ct.check(agreed, "the kernel's count never held still for a comparison")
        # Causes on demand.
        w.send_signal(signal.SIGUSR1)
        usr1_at = time.time()
        # Long enough for a recycled worker to come and go (--life 2).
        while time.time() < usr1_at + 5:
            check_textfile(prom, texts)
            time.sleep(0.1)
        ct.check(w.poll() is None, f"watch exited with {w.returncode}")
        w.send_signal(signal.SIGTERM)
        rc = w.wait(timeout=20)
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()
        stop(proc)
    with open(t.sub("watch.stderr")) as f:
        err = f.read()
    ct.log(err.rstrip())
    ct.check(rc == 0, f"watch ended by SIGTERM exited {rc}")
    ct.check(len(texts) >= 20, f"the textfile was read only {len(texts)} times")
    check_textfile(prom, texts)
    ct.check(not [n for n in os.listdir(t.path) if n.endswith(".tmp")], "a temporary textfile was left")

    with open(os.path.join(out, "timeline.jsonl")) as f:
        raw = f.read()
    ct.check(raw.endswith("\n"), "timeline.jsonl ends in the middle of a line")
    lines = [json.loads(x) for x in raw.splitlines()]      # every line parses
    samples = [x for x in lines if x["event"] == "sample"]
    for x in samples:
        for k in ("t", "pid", "ppid", "comm", "start", "shared_bytes", "copied_bytes", "fresh_bytes"):
            ct.check(k in x, f"a sample without {k}: {x}")
    mine = [x for x in samples if x["pid"] == grower]
    # The grower names itself just after the fork, so a first sample may
    # still see the parent's comm; its last one must carry the name.
    ct.check(mine and mine[-1]["comm"] == GROWER_NAME, f"the grower's last sample: {mine[-1:]}")
    with_causes = [x for x in mine if "causes" in x]
    ct.check(len(with_causes) >= 2, f"{len(with_causes)} grower samples with causes (first, SIGUSR1)")
    ct.check(with_causes[-1]["t"] >= usr1_at - 1, "no causes after SIGUSR1")
    ct.check(len(with_causes) <= 3, f"{len(with_causes)} samples with causes: --causes-every 1000 ignored")
    last = with_causes[-1]
    ct.check(sum(last["causes"].values()) == last["copied_bytes"], f"causes do not sum to copied: {last}")
    ct.check(last["causes"]["refcount"] >= 0.8 * last["copied_bytes"], f"the grower's causes: {last['causes']}")
    # Recycling: every worker the master reaped while watched is gone once, after its samples.
    with open(t.sub("events")) as f:
        ev = [line.split() for line in f]
    exited = [int(p) for what, p in ev if what == "exit"]
    seen_exited = [p for p in exited if any(x["pid"] == p for x in samples)]
    ct.check(len(seen_exited) >= 2, f"recycled workers seen: {seen_exited} of {exited}")
    for p in seen_exited:
        gone = [i for i, x in enumerate(lines) if x["event"] == "gone" and x["pid"] == p]
        last_sample = max(i for i, x in enumerate(lines) if x["event"] == "sample" and x["pid"] == p)
        if p == seen_exited[-1] and not gone:
            continue               # it may have exited after the last sample
        ct.check(len(gone) == 1 and gone[0] > last_sample, f"worker {p}: gone events at {gone}, last sample "
                                                           f"at {last_sample}")
    forked = [int(p) for what, p in ev if what == "fork"]
    ct.check(any(x["pid"] == forked[-2] for x in samples) or any(x["pid"] == forked[-1] for x in samples),
             "the latest recycled workers were not picked up")
    ct.check(master not in {x["pid"] for x in samples}, "the master itself was sampled (its parent is a shell)")


def case_errors(t):
    cowtrace = t.sub("cowtrace")
    shutil.copy(ct.cowtrace_bin(), cowtrace)
    os.chmod(cowtrace, 0o755)

    def one_line_error(args, want, pre=()):
        r = subprocess.run(list(pre) + [cowtrace, "watch"] + args, capture_output=True, text=True, timeout=30)
        ct.log(f"watch {' '.join(args)} -> {r.returncode}: {r.stderr.rstrip()}")
        ct.check(r.returncode == 2, f"watch {args}: exit {r.returncode}")
        ct.check(len(r.stderr.strip().splitlines()) == 1 and want in r.stderr, f"watch {args}: {r.stderr!r}")

    one_line_error(["4194000"], "no such process")
    one_line_error(["not-a-pid"], "not a process id")
    one_line_error(["--interval", "0", str(os.getpid())], "--interval")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    out = t.sub("out")
    one_line_error(["--prometheus", f"127.0.0.1:{port}", "-o", out, str(os.getpid())], "in use")
    ct.check(not os.path.exists(out), "a refused watch created its output directory")
    one_line_error(["--prometheus", "nohostport", str(os.getpid())], "HOST:PORT")
    busy.close()
    pre = ["setpriv", f"--reuid={ct.NOBODY}", f"--regid={ct.NOBODY}", "--clear-groups"]
    one_line_error([str(os.getpid())], "another user", pre=pre)

    # The master exits: its workers are gone, watch stops by itself (exit 0).
    prog = "import os, sys, time\nif os.fork() == 0:\n    time.sleep(60)\nelse:\n    time.sleep(float(sys.argv[1]))\n"
    master = subprocess.Popen([ct.python(), "-c", prog, "3"], start_new_session=True)
    try:
        time.sleep(0.5)
        r = subprocess.run([cowtrace, "watch", "-i", "0.2", "-o", out, str(master.pid)], capture_output=True,
                           text=True, timeout=30)
    finally:
        os.killpg(master.pid, signal.SIGKILL)
        master.wait()
    ct.log(f"watch of a master that exits -> {r.returncode}: {r.stderr.rstrip()}")
    ct.check(r.returncode == 0 and "exited" in r.stderr, f"watch after its master exited: {r.returncode}")
    with open(os.path.join(out, "timeline.jsonl")) as f:
        lines = [json.loads(x) for x in f]
    ct.check(lines and lines[-1]["event"] == "gone" and sum(x["event"] == "gone" for x in lines) == 1,
             f"the worker of a master that exited: {lines[-2:]}")


def run():
    def extra(ap):
        ap.add_argument("--case", choices=("live", "errors"), required=True)
    args = ct.parse_args(extra=extra, modes=("auto",))
    ct.require_build(need_shim=False)
    ct.require_root()
    t = ct.tempdir("watch")
    shutil.copy(ct.workload("watch_server.py"), t.sub("watch_server.py"))
    os.chmod(t.sub("watch_server.py"), 0o644)
    if args.case == "live":
        case_live(t)
    else:
        case_errors(t)


ct.main(run)
