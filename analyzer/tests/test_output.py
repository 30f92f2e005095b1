#!/usr/bin/env python3
"""test_output.py COWTRACE CT_MKTRACE - `-o FILE` of `cowtrace report` and
`cowtrace diff` (analyzer/output.c).

Checks: for every format (and every diff format) -o FILE holds the same
bytes standard output gets, `-o -` is standard output; with a bad trace among good ones FILE gets
the good ones' report, as stdout does (status 2); an existing FILE is
replaced, a symlink at FILE is replaced itself (its target untouched); the
new file's mode is 0666 less the umask; nothing is left half-written: a run
that cannot be loaded, a write that fails (RLIMIT_FSIZE, SIGXFSZ ignored:
EFBIG part way through), a SIGTERM while a big run is read, leave FILE as
it was and no temporary file behind;
FILE a directory, a pipe, /dev/null or a link to one of those (each left
alone), a missing directory, a name ending in '/', and (when
root can drop to nobody) a directory nobody may write are each one line on
stderr and exit 2."""
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

COWTRACE, MKTRACE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what, file=sys.stderr)


def ct(*args, **kw):
    return subprocess.run([COWTRACE] + list(args), capture_output=True, timeout=60, **kw)


def formats(cmd):
    """The --format names `cowtrace CMD --help` lists."""
    text = ct(cmd, "--help").stdout.decode()
    lines = text.split("--format FMT  one of\n", 1)[1].splitlines()
    names = []
    for ln in lines:
        if not ln.startswith(" " * 20):
            break
        w = ln[20:].split()
        if w and not ln[20:21].isspace():
            names.append(w[0])
    return names


def one_error_line(p, what):
    err = p.stderr.decode()
    check(p.returncode == 2 and err.count("\n") == 1 and "-o" in err, f"{what}: exit 2, one line: {p.returncode} {err!r}")


def leftovers(d):
    return [f for f in os.listdir(d) if f.startswith(".cowtrace-")]


os.umask(0o022)
with tempfile.TemporaryDirectory() as tmp:
    os.chmod(tmp, 0o755)
    run = os.path.join(tmp, "run")
    os.mkdir(run)
    for pid in (41, 42):
        subprocess.run([MKTRACE, os.path.join(run, f"{pid}.cowtrace"), "--pid", str(pid)], check=True,
                       capture_output=True)
    out = os.path.join(tmp, "out")
    rep_formats, diff_formats = formats("report"), formats("diff")
    check({"text", "json", "folded", "pprof"} <= set(rep_formats), f"report formats {rep_formats}")
    check({"text", "json"} <= set(diff_formats), f"diff formats {diff_formats}")
    for cmd, fmts, args in (("report", rep_formats, [run]), ("diff", diff_formats, [run, run])):
        for fmt in fmts:
            std = ct(cmd, "--format", fmt, *args)
            # (folded is empty here: these traces have no stacks)
            check(std.returncode == 0 and (std.stdout or fmt == "folded"), f"{cmd} {fmt}: {std.returncode} {std.stderr}")
            for o in ("-o", "--output"):
                p = ct(cmd, "--format", fmt, o, out, *args)
                check(p.returncode == 0 and p.stdout == b"" and p.stderr == b"", f"{cmd} {fmt} {o}: {p}")
                check(open(out, "rb").read() == std.stdout, f"{cmd} {fmt} {o} FILE: the bytes of stdout")
            dash = ct(cmd, "--format", fmt, "-o", "-", *args)
            check(dash.stdout == std.stdout, f"{cmd} {fmt} -o -: stdout")
    check(stat.S_IMODE(os.stat(out).st_mode) == 0o644, f"mode {oct(os.stat(out).st_mode)} (0666 & ~022)")

    # A bad trace among good ones: the report of the good ones is written,
    # to FILE as to stdout, and the status is still 2.
    mixed = os.path.join(tmp, "mixed")
    shutil.copytree(run, mixed)
    open(os.path.join(mixed, "43.cowtrace"), "wb").write(b"COWTRACE" + b"\xff" * 100)
    std = ct("report", mixed)
    p = ct("report", "-o", out, mixed)
    check(std.returncode == 2 and p.returncode == 2 and open(out, "rb").read() == std.stdout
          and b"43.cowtrace" in p.stderr, f"a bad trace: the good ones' report, exit 2: {p.returncode} {p.stderr}")

    # A symlink at FILE: replaced itself, its target untouched.
    target = os.path.join(tmp, "target")
    open(target, "w").write("target\n")
    link = os.path.join(tmp, "link")
    os.symlink(target, link)
    p = ct("report", "-o", link, run)
    check(p.returncode == 0 and not os.path.islink(link) and open(target).read() == "target\n",
          f"symlink at FILE replaced, target kept: {p.stderr}")

    # Nothing half-written: FILE keeps its old bytes, no temporary file stays.
    old = b"old contents\n"
    open(out, "wb").write(old)
    p = ct("report", "-o", out, os.path.join(tmp, "nosuch"))
    check(p.returncode == 2 and open(out, "rb").read() == old, f"unloadable run: FILE unchanged: {p.stderr}")
    p = ct("diff", "-o", out, run, os.path.join(tmp, "nosuch"))
    check(p.returncode == 2 and open(out, "rb").read() == old, f"diff, unloadable run: FILE unchanged: {p.stderr}")
    big = ct("report", "--format", "json", "--pages", run).stdout
    check(len(big) > 2048, f"the JSON report is larger than the limit below: {len(big)}")

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))
    p = ct("report", "--format", "json", "--pages", "-o", out, run, preexec_fn=small_files)
    err = p.stderr.decode()
    check(p.returncode == 2 and "File too large" in err and err.count("\n") == 1,
          f"a failed write: exit 2, one line: {p.returncode} {err!r}")
    check(open(out, "rb").read() == old, "a failed write leaves FILE as it was")
    check(leftovers(tmp) == [], f"no temporary file left: {leftovers(tmp)}")

    # Killed by SIGTERM while it reads a big run: FILE as it was, no new
    # file left, and the process dies of the signal as before.
    slow = os.path.join(tmp, "slow")
    os.mkdir(slow)
    subprocess.run([MKTRACE, os.path.join(slow, "50.cowtrace"), "--regions", "16", "--region-pages", "131072",
                    "--dirty", "1000000", "--events", "--mode", "mprotect"], check=True, capture_output=True)
    proc = subprocess.Popen([COWTRACE, "report", "-o", out, slow], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not leftovers(tmp) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    started = bool(leftovers(tmp))
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    check(started and proc.returncode == -signal.SIGTERM, f"SIGTERM while reading: started {started}, "
          f"status {proc.returncode}")
    check(open(out, "rb").read() == old and leftovers(tmp) == [],
          f"SIGTERM: FILE as it was, no new file left: {leftovers(tmp)}")

    # Errors before anything is read.
    one_error_line(ct("report", "-o", run, run), "FILE is a directory")
    one_error_line(ct("diff", "-o", run, run, run), "diff: FILE is a directory")
    one_error_line(ct("report", "-o", os.path.join(tmp, "nodir", "x"), run), "missing directory")
    one_error_line(ct("report", "-o", out + "/", run), "a name ending in '/'")
    one_error_line(ct("report", "-o", os.path.join(out, "x"), run), "a file as the directory")
    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)
    to_fifo = os.path.join(tmp, "to-fifo")
    os.symlink(fifo, to_fifo)
    to_dir = os.path.join(tmp, "to-dir")
    os.symlink(run, to_dir)
    for what, path in (("a pipe", fifo), ("a link to a pipe", to_fifo), ("a link to a directory", to_dir),
                       ("/dev/null", "/dev/null")):
        one_error_line(ct("report", "-o", path, run), f"FILE is {what}")
    check(stat.S_ISFIFO(os.lstat(fifo).st_mode) and os.path.islink(to_fifo) and os.path.islink(to_dir)
          and stat.S_ISCHR(os.stat("/dev/null").st_mode), "pipes, links and devices are left alone")
    p = ct("report", "-o")
    check(p.returncode == 2 and b"needs a value" in p.stderr, f"-o without FILE: {p.stderr}")

    # A directory the user may not write: as nobody (root writes anywhere).
    setpriv = shutil.which("setpriv")
    if os.geteuid() == 0 and setpriv:
        ro = os.path.join(tmp, "ro")
        os.mkdir(ro, 0o555)
        exe = os.path.join(tmp, "cowtrace")
        shutil.copy(COWTRACE, exe)
        os.chmod(exe, 0o755)
        for f in os.listdir(run):
            os.chmod(os.path.join(run, f), 0o644)
        p = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", exe, "report", "-o",
                            os.path.join(ro, "x"), run], capture_output=True, timeout=60)
        one_error_line(p, "unwritable directory")
        check(b"Permission denied" in p.stderr and os.listdir(ro) == [], f"unwritable directory: {p.stderr}")
    else:
        print("note: not root or no setpriv: the unwritable-directory case is not run")
    check(leftovers(tmp) == [], f"no temporary file left: {leftovers(tmp)}")

if failures:
    print(f"test_output: {failures} failures", file=sys.stderr)
    sys.exit(1)
print("test_output: ok")
