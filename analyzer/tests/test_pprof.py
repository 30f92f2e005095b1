#!/usr/bin/env python3
"""test_pprof.py MODE COWTRACE CT_MKTRACE SYMTARGET SYMTARGET_SRC - checks
`cowtrace report --format pprof` on a ct-mktrace trace with known stacks.

MODE decode: gunzips the output and reads it with the small protobuf reader
below (written from the wire format, independent of the analyzer's writer):
the samples' cow_pages sum to the JSON report's cow pages and cow_bytes to
pages * page size, the Python frame `load` has its file and line, labels
pid, cause and type are there, the string table starts with "".
MODE go: `go tool pprof -top -cum` (Debian golang-go) reads the output and
shows the known functions and the total; skips (77) without go."""
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import symlib  # noqa: E402

MODE = sys.argv[1]
COWTRACE, MKTRACE, SYMTARGET, SRC = (os.path.abspath(a) for a in sys.argv[2:6])
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what, file=sys.stderr)


def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7f) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def fields(b):
    """{field: [values]}: ints for varints, bytes for length-delimited."""
    out, i = {}, 0
    while i < len(b):
        key, i = varint(b, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            v, i = varint(b, i)
        elif wire == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
            if len(v) != n:
                raise ValueError("truncated field")
        else:
            raise ValueError(f"wire type {wire}")
        out.setdefault(field, []).append(v)
    return out


def packed(v):
    """A packed repeated varint field (bytes) or unpacked ints."""
    if isinstance(v, int):
        return [v]
    xs, i = [], 0
    while i < len(v):
        x, i = varint(v, i)
        xs.append(x)
    return xs


def one(m, f, default=0):
    return m.get(f, [default])[0]


if MODE == "go" and not shutil.which("go"):
    print("skip: go not found (apt-get install golang-go)")
    sys.exit(77)

with tempfile.TemporaryDirectory() as tmp:
    S = symlib.Setup(tmp, SYMTARGET, SRC)
    d = os.path.join(tmp, "run")
    os.mkdir(d)
    subprocess.run([MKTRACE, os.path.join(d, "80.cowtrace"), "--pid", "80"] + S.args(), check=True)
    rep = json.loads(subprocess.run([COWTRACE, "report", "--format", "json", d], capture_output=True,
                                    check=True, timeout=60).stdout)
    want_pages = rep["total"]["cow_pages"]
    page_size = rep["processes"][0]["page_size"]
    p = subprocess.run([COWTRACE, "report", "--format", "pprof", d], capture_output=True, timeout=60)
    check(p.returncode == 0 and p.stdout[:2] == b"\x1f\x8b", f"pprof: exit {p.returncode}, gzip magic: {p.stderr}")
    again = subprocess.run([COWTRACE, "report", "--format", "pprof", d], capture_output=True, timeout=60).stdout
    check(again == p.stdout, "equal input gives equal bytes")
    out = os.path.join(tmp, "cow.pb.gz")
    open(out, "wb").write(p.stdout)

    if MODE == "decode":
        prof = fields(gzip.decompress(p.stdout))
        strs = [s.decode() for s in prof.get(6, [])]
        check(strs and strs[0] == "", f"string table starts with '': {strs[:3]}")
        types = [(strs[one(fields(v), 1)], strs[one(fields(v), 2)]) for v in prof.get(1, [])]
        check(types == [("cow_pages", "count"), ("cow_bytes", "bytes")], f"sample types {types}")
        check(strs[one(prof, 14)] == "cow_pages", "default sample type cow_pages")
        funcs = {one(f, 1): (strs[one(f, 2)], strs[one(f, 4)])
                 for f in map(fields, prof.get(5, []))}
        locs = {}
        for loc in map(fields, prof.get(4, [])):
            lines = [fields(x) for x in loc.get(4, [])]
            check(len(lines) == 1 and one(lines[0], 1) in funcs, f"location {one(loc, 1)}: one line, known function")
            locs[one(loc, 1)] = (funcs.get(one(lines[0], 1)), one(lines[0], 2)) if lines else None
        pages = bytes_ = 0
        labels_seen = set()
        stacks = []
        for s in map(fields, prof.get(2, [])):
            vals = [x for v in s.get(2, []) for x in packed(v)]
            ids = [x for v in s.get(1, []) for x in packed(v)]
            check(len(vals) == 2 and vals[1] == vals[0] * page_size, f"sample values {vals}")
            pages += vals[0]
            bytes_ += vals[1]
            check(all(i in locs for i in ids), f"sample locations {ids} defined")
            stacks.append([locs.get(i) for i in ids])
            labels = {}
            for lab in map(fields, s.get(3, [])):
                labels[strs[one(lab, 1)]] = strs[one(lab, 2)] if 2 in lab else one(lab, 3)
            labels_seen |= set(labels)
            check(labels.get("pid") == 80 and labels.get("cause") in rep["total"]["causes"],
                  f"labels pid, cause: {labels}")
        check(pages == want_pages and pages > 0, f"cow_pages total {pages} == report's {want_pages}")
        check(bytes_ == want_pages * page_size, f"cow_bytes total {bytes_}")
        check("type" in labels_seen, "some sample has a type label")
        # The Python stack load <- worker <- <module>, innermost first,
        # under the natives the evaluation loop called (cow_leaf, cow_middle).
        app = S.app
        check(any([x[0][0] for x in st[:2]] == ["cow_leaf", "cow_middle"]
                  and st[2:5] == [(("load", app), 4), (("worker", app), 8), (("<module>", app), 10)]
                  for st in stacks), f"the Python stack with files and lines: {stacks}")
        check(any(st == [(("(no stack)", ""), 0)] for st in stacks), "the (no stack) sample")
    else:
        g = subprocess.run(["go", "tool", "pprof", "-top", "-cum", out], capture_output=True, text=True,
                           timeout=300, env=dict(os.environ, HOME=tmp, PPROF_TMPDIR=tmp))
        check(g.returncode == 0, f"go tool pprof: exit {g.returncode}: {g.stderr[:500]}")
        text = g.stdout
        check(f"of {want_pages} total" in text, f"total {want_pages} in: {text[:400]}")
        rows = {ln.split()[-1]: ln.split() for ln in text.splitlines() if ln.strip().endswith(("load", "worker"))}
        check("load" in rows and "worker" in rows, f"load and worker rows: {text}")
        # load's cumulative pages: the folded lines (same frames) with a load frame.
        folded = subprocess.run([COWTRACE, "report", "--format", "folded", "--leaf", "none", d],
                                capture_output=True, text=True, check=True, timeout=60).stdout
        py_pages = sum(int(ln.rsplit(" ", 1)[1]) for ln in folded.splitlines()
                       if any(fr.startswith("load (") for fr in ln.rsplit(" ", 1)[0].split(";")))
        check("load" in rows and rows["load"][3] == str(py_pages), f"load's cum == {py_pages}: {rows.get('load')}")

if failures:
    print(f"test_pprof {MODE}: {failures} failures", file=sys.stderr)
    sys.exit(1)
print(f"test_pprof {MODE}: ok")
