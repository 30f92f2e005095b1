#!/usr/bin/env python3
"""make_traces.py - how the traces under tests/golden/traces/ were recorded.

This is a record of provenance, not a test: the traces are real (the shim of
e2f2f01 preloaded into real Python programs), so running this again records
different pids, addresses and timings, and the expected outputs would have to
be regenerated with them (test_golden.py --regen). Do that only to ADD a case
on purpose; the point of the committed traces is that they never change.

    python3 tests/golden/make_traces.py BUILD/analyzer/cowtrace BUILD/shim/libcowtrace.so [NAME...]

Every workload and the shim are first copied to STAGE (/tmp/cowtrace-golden),
which is deleted afterwards. So the traces name only paths that exist on no
machine (STAGE/...) besides the system's (/root/.pyenv, /usr/lib): the
reports of them cannot depend on where a checkout or its build lives (the
analyzer symbolizes a native frame only from the file the traced process
mapped; STAGE/lib/libcowtrace.so is gone, so its frames stay module+offset
everywhere).

Each trace directory is stored as traces/NAME.tar.gz holding NAME/*.cowtrace
(owner, times and order fixed, so the archive is reproducible from the files).
"""
import gzip
import io
import os
import shutil
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
TOP = os.path.dirname(TESTS)
STAGE = "/tmp/cowtrace-golden"
PY = "/root/.pyenv/versions/3.11.7/bin/python3.11"   # shared libpython
DEBIAN_PY = "/usr/bin/python3.11"                     # libpython linked statically

SOURCES = {
    "seed_lists.py": os.path.join(TOP, "examples", "seed_lists.py"),
    "causes.py": os.path.join(TESTS, "workloads", "causes.py"),
    "scenarios.py": os.path.join(TESTS, "workloads", "scenarios.py"),
    "sigkill.py": os.path.join(TESTS, "workloads", "sigkill.py"),
    "instances.py": os.path.join(HERE, "workloads", "instances.py"),
}

N = "20000"   # objects per cause scenario: a few hundred pages, small traces


def w(name):
    return os.path.join(STAGE, "src", name)


# name: (cowtrace run options, command, extra environment)
TRACES = {
    # the founding example, small
    "seed": ([], [PY, w("seed_lists.py"), "--objects", "3000", "--workers", "2"], {}),
    # the causes, precise with both stacks
    "iterate-uffd": (["--mode", "uffd"], [PY, w("causes.py"), "iterate", N], {}),
    "gc-uffd": (["--mode", "uffd"], [PY, w("causes.py"), "gc", N], {}),
    "freeze-uffd": (["--mode", "uffd"], [PY, w("causes.py"), "freeze", N], {}),
    "gc-gcfreeze-uffd": (["--mode", "uffd", "--gc-freeze"], [PY, w("causes.py"), "gc", N], {}),
    "instances-uffd": (["--mode", "uffd"], [PY, w("instances.py"), N], {}),
    "dicts-uffd": (["--mode", "uffd"], [PY, w("scenarios.py"), "dicts"], {}),
    "array-uffd": (["--mode", "uffd"], [PY, w("scenarios.py"), "array"], {}),
    "threads-uffd": (["--mode", "uffd"], [PY, w("scenarios.py"), "threads"], {}),
    # the other modes
    "iterate-uffd-async": (["--mode", "uffd-async"], [PY, w("causes.py"), "iterate", N], {}),
    "iterate-uffd-async-capture": (["--mode", "uffd-async", "--capture-pages"],
                                   [PY, w("causes.py"), "iterate", "2000"], {}),
    "iterate-mprotect": (["--mode", "mprotect"], [PY, w("causes.py"), "iterate", N], {}),
    "gc-mprotect": (["--mode", "mprotect"], [PY, w("causes.py"), "gc", N], {}),
    # which stacks a precise mode keeps
    "gc-uffd-stacks-python": (["--mode", "uffd", "--stacks", "python"], [PY, w("causes.py"), "gc", N], {}),
    "gc-uffd-stacks-native": (["--mode", "uffd", "--stacks", "native", "--stack-depth", "8"],
                              [PY, w("causes.py"), "gc", N], {}),
    "gc-uffd-stacks-none": (["--mode", "uffd", "--no-stacks"], [PY, w("causes.py"), "gc", N], {}),
    # a child killed by SIGKILL after writing 300 pages
    "sigkill-uffd": (["--mode", "uffd"], [PY, w("sigkill.py"), "300", "0.5", "pid"],
                     {"COWTRACE_FLUSH_MS": "100"}),
    "sigkill-uffd-async": (["--mode", "uffd-async"], [PY, w("sigkill.py"), "300", "0.5", "pid"],
                           {"COWTRACE_FLUSH_MS": "100"}),
    "sigkill-mprotect": (["--mode", "mprotect"], [PY, w("sigkill.py"), "300", "0.5", "pid"],
                         {"COWTRACE_FLUSH_MS": "100"}),
    # Debian's python3.11, libpython linked into the executable
    "gc-debian-uffd": (["--mode", "uffd"], [DEBIAN_PY, w("causes.py"), "gc", N], {}),
    "iterate-debian-mprotect": (["--mode", "mprotect"], [DEBIAN_PY, w("causes.py"), "iterate", N], {}),
}


def archive(rundir, name, dest):
    """traces/NAME.tar.gz with NAME/*.cowtrace, reproducible from the files."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for f in sorted(os.listdir(rundir)):
            if not f.endswith(".cowtrace"):
                continue
            data = open(os.path.join(rundir, f), "rb").read()
            ti = tarfile.TarInfo(f"{name}/{f}")
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 0
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = "root"
            tar.addfile(ti, io.BytesIO(data))
    with open(dest, "wb") as out:
        with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="", compresslevel=9) as gz:
            gz.write(buf.getvalue())


def damaged(src_tgz, dest):
    """A directory with one good trace, one cut in half and one that is not a
    trace at all: the report of the good one and its errors for the others."""
    with tarfile.open(src_tgz) as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        blobs = {os.path.basename(m.name): tar.extractfile(m).read() for m in members}
    names = sorted(blobs)
    whole, cut = names[0], names[1]
    out = os.path.join(STAGE, "runs", "damaged")
    os.makedirs(out)
    with open(os.path.join(out, whole), "wb") as f:
        f.write(blobs[whole])
    with open(os.path.join(out, cut), "wb") as f:
        f.write(blobs[cut][:len(blobs[cut]) // 2])
    with open(os.path.join(out, "1.cowtrace"), "wb") as f:
        f.write(b"this is not a trace\n")
    archive(out, "damaged", dest)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cowtrace, shim, wanted = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3:]
    if os.path.exists(STAGE):
        sys.exit(f"{STAGE} exists: remove it first (it must not exist anywhere after this)")
    os.makedirs(os.path.join(STAGE, "src"))
    os.makedirs(os.path.join(STAGE, "lib"))
    os.makedirs(os.path.join(STAGE, "runs"))
    for dst, src in SOURCES.items():
        shutil.copy(src, w(dst))
    shutil.copy(shim, os.path.join(STAGE, "lib", "libcowtrace.so"))
    outdir = os.path.join(HERE, "traces")
    os.makedirs(outdir, exist_ok=True)
    try:
        for name, (opts, cmd, extra) in TRACES.items():
            if wanted and name not in wanted:
                continue
            env = {k: v for k, v in os.environ.items()
                   if k not in ("LD_PRELOAD", "COWTRACE_DIR", "COWTRACE_MODE", "COWTRACE_FLUSH_MS")}
            env.update(extra, COWTRACE_SHIM=os.path.join(STAGE, "lib", "libcowtrace.so"),
                       PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1")
            runs = os.path.join(STAGE, "runs")
            r = subprocess.run([cowtrace, "run", "-o", name, "-q"] + opts + ["--"] + cmd,
                               cwd=runs, env=env, capture_output=True, text=True, timeout=300)
            print(f"{name}: status {r.returncode} {r.stdout.strip()!r} {r.stderr.strip()[-300:]!r}")
            if r.returncode != 0:
                sys.exit(f"{name} failed")
            archive(os.path.join(runs, name), name, os.path.join(outdir, name + ".tar.gz"))
        if not wanted or "damaged" in wanted:
            damaged(os.path.join(outdir, "seed.tar.gz"), os.path.join(outdir, "damaged.tar.gz"))
    finally:
        shutil.rmtree(STAGE, ignore_errors=True)


if __name__ == "__main__":
    main()
