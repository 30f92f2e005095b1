#!/usr/bin/env python3
"""Golden outputs: real traces of format version 1 must read identically.

    test_golden.py COWTRACE GOLDEN_DIR            compare (exit 0 pass, 1 fail)
    test_golden.py COWTRACE GOLDEN_DIR --regen    rewrite the expected outputs
    test_golden.py COWTRACE GOLDEN_DIR CASE...    only these cases

GOLDEN_DIR (tests/golden) holds:
  traces/NAME.tar.gz   real trace directories NAME/*.cowtrace, recorded by the
                       shim of e2f2f01 (make_traces.py says how and from what)
  manifest.json        one case a line: {"name", "args", "status"}; args are
                       cowtrace's arguments, naming trace directories (or
                       files) relative to where the traces are unpacked
  expected/NAME.out    the exact stdout of the case (NAME.out.gz when over 16 KiB)
  expected/NAME.err    its exact stderr, when it printed any

Every archive is unpacked into one scratch directory and every case runs with
that directory as its working directory, so the traces are named by relative
paths and no output depends on where the checkout, the build or the scratch
directory live. Stdout, stderr and the exit status must match byte for byte;
a mismatch prints the start of a unified diff.

The promise this keeps (issue 8): nothing changes for users; traces written
before a change read identically after it. So --regen is legitimate ONLY for
a deliberate, reviewed change of what cowtrace prints (a new field, a fixed
wording, a bug fix whose diff you have read line by line), or when adding a
case or a trace on purpose. It is never the way to make this test pass after
a refactoring: there, any difference is the bug. Say in the commit message
why the expected outputs changed.
"""
import difflib
import gzip
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

GZ_OVER = 16_384       # expected outputs larger than this are stored gzipped
DIFF_LINES = 60
STAGE = "/tmp/cowtrace-golden"   # where make_traces.py staged the workloads and shim


def load_manifest(golden):
    with open(os.path.join(golden, "manifest.json")) as f:
        cases = json.load(f)
    names = [c["name"] for c in cases]
    odd = [n for n in names if not n or "." in n or "/" in n]
    if odd:
        raise SystemExit(f"manifest.json: case names must be non-empty, without '.' or '/': {odd}")
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SystemExit(f"manifest.json: duplicate case names {sorted(dup)}")
    return cases


def save_manifest(golden, cases):
    """One case a line, so that a change to one case is a one-line diff."""
    lines = [json.dumps(c, separators=(", ", ": ")) for c in cases]
    with open(os.path.join(golden, "manifest.json"), "w") as f:
        f.write("[\n" + ",\n".join(lines) + "\n]\n")


def unpack(golden, scratch):
    tdir = os.path.join(golden, "traces")
    for f in sorted(os.listdir(tdir)):
        if not f.endswith(".tar.gz"):
            continue
        with tarfile.open(os.path.join(tdir, f)) as tar:
            for m in tar.getmembers():
                # our own archives, but keep them inside the scratch directory
                if not (m.isfile() or m.isdir()) or m.name.startswith("/") or ".." in m.name.split("/"):
                    raise SystemExit(f"{f}: unexpected member {m.name!r}")
            tar.extractall(scratch)


def expected_paths(golden, name):
    e = os.path.join(golden, "expected", name)
    return e + ".out", e + ".out.gz", e + ".err"


def read_expected(golden, name):
    out, outgz, err = expected_paths(golden, name)
    if os.path.exists(outgz):
        with gzip.open(outgz, "rb") as f:
            stdout = f.read()
    elif os.path.exists(out):
        with open(out, "rb") as f:
            stdout = f.read()
    else:
        stdout = None
    stderr = b""
    if os.path.exists(err):
        with open(err, "rb") as f:
            stderr = f.read()
    return stdout, stderr


def write_expected(golden, name, stdout, stderr):
    out, outgz, err = expected_paths(golden, name)
    for p in (out, outgz, err):
        if os.path.exists(p):
            os.unlink(p)
    if len(stdout) > GZ_OVER:
        with open(outgz, "wb") as f:
            with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="", compresslevel=9) as gz:
                gz.write(stdout)
    else:
        with open(out, "wb") as f:
            f.write(stdout)
    if stderr:
        with open(err, "wb") as f:
            f.write(stderr)


def show_diff(what, expected, got):
    a = expected.decode("utf-8", "replace").splitlines()
    b = got.decode("utf-8", "replace").splitlines()
    lines = list(difflib.unified_diff(a, b, f"expected {what}", f"got {what}", lineterm="", n=2))
    if not lines:   # same lines, different bytes (a final newline, \r)
        lines = [f"  same lines but different bytes: expected {len(expected)} bytes, got {len(got)}"]
    for ln in lines[:DIFF_LINES]:
        print("    " + ln)
    if len(lines) > DIFF_LINES:
        print(f"    ... ({len(lines) - DIFF_LINES} more diff lines)")


def run_case(cowtrace, scratch, case):
    env = dict(os.environ)
    for k in ("COWTRACE_SHIM", "LD_PRELOAD", "DEBUGINFOD_URLS"):
        env.pop(k, None)
    env["LC_ALL"] = "C"
    r = subprocess.run([cowtrace] + case["args"], cwd=scratch, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    return r.returncode, r.stdout, r.stderr


def main():
    argv = sys.argv[1:]
    regen = "--regen" in argv
    argv = [a for a in argv if a != "--regen"]
    if len(argv) < 2:
        raise SystemExit(__doc__)
    cowtrace, golden, only = os.path.abspath(argv[0]), os.path.abspath(argv[1]), argv[2:]
    cases = load_manifest(golden)
    known = {c["name"] for c in cases}
    unknown = [n for n in only if n not in known]
    if unknown:
        raise SystemExit(f"no such case: {unknown}")
    os.makedirs(os.path.join(golden, "expected"), exist_ok=True)

    scratch = tempfile.mkdtemp(prefix="cowtrace-golden-")
    failed = []
    try:
        unpack(golden, scratch)
        for case in cases:
            name = case["name"]
            if only and name not in only:
                continue
            status, stdout, stderr = run_case(cowtrace, scratch, case)
            if regen:
                write_expected(golden, name, stdout, stderr)
                case["status"] = status
                print(f"regen {name}: status {status}, {len(stdout)} bytes out, {len(stderr)} bytes err")
                continue
            want_out, want_err = read_expected(golden, name)
            bad = []
            if want_out is None:
                bad.append("no expected output (run with --regen to create it)")
            elif stdout != want_out:
                bad.append("stdout differs")
            if stderr != want_err:
                bad.append("stderr differs")
            if status != case.get("status"):
                bad.append(f"exit status {status}, expected {case.get('status')}")
            if not bad:
                print(f"ok   {name}")
                continue
            failed.append(name)
            print(f"FAIL {name}: cowtrace {' '.join(case['args'])}: {'; '.join(bad)}")
            if want_out is not None and stdout != want_out:
                show_diff("stdout", want_out, stdout)
            if stderr != want_err:
                show_diff("stderr", want_err, stderr)
        if regen:
            save_manifest(golden, cases)
        else:
            # an expected file no case reads is a case deleted by mistake
            names = {c["name"] for c in cases}
            for f in sorted(os.listdir(os.path.join(golden, "expected"))):
                base = f.split(".")[0]
                if base not in names:
                    failed.append(f)
                    print(f"FAIL expected/{f}: no case in manifest.json reads it")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    if regen:
        print("expected outputs rewritten: review `git diff tests/golden` before committing")
        return 0
    if failed:
        print(f"FAIL: {len(failed)} golden case(s) differ: {' '.join(failed)}")
        if os.path.exists(STAGE):
            print(f"  note: {STAGE} exists (make_traces.py running?): the traces name a shim there, "
                  "which must not exist for their native frames to read as recorded")
        return 1
    print(f"PASS: {sum(1 for c in cases if not only or c['name'] in only)} golden cases identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
