#!/usr/bin/env python3
"""test_pprof.py MODE COWTRACE CT_MKTRACE SYMTARGET SYMTARGET_SRC - checks
`cowtrace report --format pprof` on a ct-mktrace trace with known stacks
and fresh pages.

MODE decode: gunzips the output and reads it with the small protobuf reader
below (written from the wire format, independent of the analyzer's writer):
four sample types (cow_pages, cow_bytes, fresh_pages, fresh_bytes); the
samples' cow_pages sum to the JSON report's cow pages, fresh_pages to its
fresh pages, bytes to pages * page size; the Python frame `load` has its
file and line, labels pid, cause and type are there, fresh pages sit under
"(fresh)" and their region's name; the string table starts with "". For
every --frames and --leaf the stacks, by function name, carry the pages
`--format folded` gives the same stacks with the same options. Mappings:
every Location names an existing Mapping; a native frame's is its module's
(the file name, the range and the GNU build id the trace gave, the frame's
address inside the range), Python frames' "[python]", markers' and leaves'
"[cowtrace]"; the executable's mapping is the first; a mapping's
has_functions/has_filenames/has_line_numbers say whether some location of
it has a function name (not an address), a file, a line; a module the
symbolizer refuses (another build id) has no functions.
MODE go: `go tool pprof -top -cum` (Debian golang-go) reads the output and
shows the known functions and the total, for every --frames and some
--leaf; -sample_index=fresh_pages totals the fresh pages, -tagfocus
cause=refcount the refcount pages, -raw lists the mappings (the module
with its range and build id first, [python], [cowtrace]) and every location's
mapping among them; skips (77) without go."""
import re
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
    subprocess.run([MKTRACE, os.path.join(d, "80.cowtrace"), "--pid", "80", "--present-every", "2", "--fresh", "37"] + S.args(), check=True)
    rep = json.loads(subprocess.run([COWTRACE, "report", "--format", "json", d], capture_output=True,
                                    check=True, timeout=60).stdout)
    want_pages = rep["total"]["cow_pages"]
    want_fresh = rep["total"]["fresh_pages"]
    check(want_fresh == 37, f"the trace has the fresh pages asked for: {want_fresh}")
    page_size = rep["processes"][0]["page_size"]
    p = subprocess.run([COWTRACE, "report", "--format", "pprof", d], capture_output=True, timeout=60)
    check(p.returncode == 0 and p.stdout[:2] == b"\x1f\x8b", f"pprof: exit {p.returncode}, gzip magic: {p.stderr}")
    again = subprocess.run([COWTRACE, "report", "--format", "pprof", d], capture_output=True, timeout=60).stdout
    check(again == p.stdout, "equal input gives equal bytes")
    out = os.path.join(tmp, "cow.pb.gz")
    open(out, "wb").write(p.stdout)

    OPTS = [[]] + [["--frames", fr, "--leaf", lf] for fr in ("python", "native", "both")
                   for lf in ("cause", "type", "both", "none")]

    def pprof(*opts):
        p = subprocess.run([COWTRACE, "report", "--format", "pprof", *opts, d], capture_output=True, timeout=60)
        check(p.returncode == 0, f"pprof {opts}: exit {p.returncode}: {p.stderr}")
        return p.stdout

    if MODE == "decode":
        ADDRESS_NAME = re.compile(r"^(0x[0-9a-f]+|.*\+0x[0-9a-f]+|\?\(code 0x[0-9a-f]+\))$")

        def check_mappings(prof, strs, funcs, module, bid, symbolized=True):
            """The Mappings of prof: every location's exists; the module's
            (path `module`) has the range and build id the trace gave."""
            maps = {}
            for m in map(fields, prof.get(3, [])):
                maps[one(m, 1)] = {"start": one(m, 2), "limit": one(m, 3), "file": strs[one(m, 5)],
                                   "build_id": strs[one(m, 6)], "fn": one(m, 7), "fl": one(m, 8),
                                   "ln": one(m, 9), "locs": []}
            check(maps and 0 not in maps and len(maps) == len(prof.get(3, [])),
                  f"mapping ids nonzero and unique: {sorted(maps)}")
            for loc in map(fields, prof.get(4, [])):
                mid = one(loc, 2)
                check(mid in maps, f"location {one(loc, 1)}: mapping {mid} exists")
                lines = [fields(x) for x in loc.get(4, [])]
                fn = funcs.get(one(lines[0], 1)) if lines else None
                if mid in maps and fn:
                    maps[mid]["locs"].append((one(loc, 3), fn, one(lines[0], 2)))
            for mid, m in maps.items():
                check(m["locs"], f"mapping {m['file']}: used by a location")
                check(bool(m["fn"]) == any(not ADDRESS_NAME.match(fn[0]) for _, fn, _ in m["locs"])
                      and bool(m["fl"]) == any(fn[1] for _, fn, _ in m["locs"])
                      and bool(m["ln"]) == any(ln > 0 for _, _, ln in m["locs"]),
                      f"mapping {m['file']}: has_functions/filenames/line_numbers {m['fn']}/{m['fl']}/{m['ln']} "
                      f"as its locations: {m['locs']}")
                if m["file"] == module:
                    check((m["start"], m["limit"], m["build_id"]) == (symlib.BASE, symlib.BASE + 0x10000, bid),
                          f"module mapping: the trace's range and build id: {m}")
                    check(all(m["start"] <= a < m["limit"] for a, _, _ in m["locs"]),
                          f"module mapping: its locations' addresses in its range: {m}")
                    check(bool(m["fn"]) == symbolized, f"module mapping: has_functions {symbolized}: {m}")
                elif m["locs"] and all(a == 0 for a, _, _ in m["locs"]):
                    kinds = {"[python]" if fn[1].endswith(".py") or fn[0].startswith("?(code") else "[cowtrace]"
                             for _, fn, _ in m["locs"]}
                    check(kinds == {m["file"]}, f"synthetic mapping {m['file']}: {kinds}")
                else:
                    # Addresses in no module of the trace (0x1234).
                    check(m["file"].startswith("[") and all(ADDRESS_NAME.match(fn[0]) for _, fn, _ in m["locs"]),
                          f"a native frame in no module: {m}")
            first = strs[one(fields(prof[3][0]), 5)] if prof.get(3) else None
            check(first == module, f"the first mapping (pprof's main binary) is the executable's: {first}")
            files = {m["file"] for m in maps.values()}
            check("[cowtrace]" in files, f"the [cowtrace] mapping: {files}")
            return files

        mapping_files = set()

        def decode(blob):
            """(sample types, default type, [(stack innermost first, values, labels)])."""
            prof = fields(gzip.decompress(blob))
            strs = [s.decode() for s in prof.get(6, [])]
            check(strs and strs[0] == "", f"string table starts with '': {strs[:3]}")
            types = [(strs[one(fields(v), 1)], strs[one(fields(v), 2)]) for v in prof.get(1, [])]
            funcs = {one(f, 1): (strs[one(f, 2)], strs[one(f, 4)])
                     for f in map(fields, prof.get(5, []))}
            mapping_files.update(check_mappings(prof, strs, funcs, S.symtarget, S.bid))
            locs = {}
            for loc in map(fields, prof.get(4, [])):
                lines = [fields(x) for x in loc.get(4, [])]
                check(len(lines) == 1 and one(lines[0], 1) in funcs,
                      f"location {one(loc, 1)}: one line, known function")
                locs[one(loc, 1)] = (funcs.get(one(lines[0], 1)), one(lines[0], 2)) if lines else None
            samples = []
            for smp in map(fields, prof.get(2, [])):
                vals = [x for v in smp.get(2, []) for x in packed(v)]
                ids = [x for v in smp.get(1, []) for x in packed(v)]
                check(all(i in locs for i in ids), f"sample locations {ids} defined")
                labels = {}
                for lab in map(fields, smp.get(3, [])):
                    labels[strs[one(lab, 1)]] = strs[one(lab, 2)] if 2 in lab else one(lab, 3)
                samples.append(([locs.get(i) for i in ids], vals, labels))
            return types, strs[one(prof, 14)], samples

        types, default, samples = decode(p.stdout)
        check(types == [("cow_pages", "count"), ("cow_bytes", "bytes"), ("fresh_pages", "count"),
                        ("fresh_bytes", "bytes")], f"sample types {types}")
        check(default == "cow_pages", "default sample type cow_pages")
        pages = bytes_ = fresh = fresh_bytes = 0
        labels_seen = set()
        for st, vals, labels in samples:
            check(len(vals) == 4 and vals[1] == vals[0] * page_size and vals[3] == vals[2] * page_size
                  and bool(vals[0]) != bool(vals[2]), f"sample values {vals}: cow or fresh")
            pages += vals[0]
            bytes_ += vals[1]
            fresh += vals[2]
            fresh_bytes += vals[3]
            check(labels.get("pid") == 80, f"label pid: {labels}")
            if vals[0]:
                check(labels.get("cause") in rep["total"]["causes"], f"label cause: {labels}")
                labels_seen |= set(labels)
            else:
                # Fresh pages: no stack is made up; "(fresh)" outermost,
                # the region's name under it, no cause or type.
                check(len(st) == 2 and st[1] == (("(fresh)", ""), 0) and st[0][0][0] in ("anon", "[heap]")
                      and set(labels) == {"pid"}, f"a fresh sample: {st} {labels}")
        check(pages == want_pages and pages > 0, f"cow_pages total {pages} == report's {want_pages}")
        check(bytes_ == want_pages * page_size, f"cow_bytes total {bytes_}")
        check(fresh == want_fresh, f"fresh_pages total {fresh} == report's {want_fresh}")
        check(fresh_bytes == want_fresh * page_size, f"fresh_bytes total {fresh_bytes}")
        check("type" in labels_seen, "some sample has a type label")
        # The default leaf is the cause, as in folded.
        check(all(st[0][0][0].startswith("cause:") for st, vals, _ in samples if vals[0]),
              "default: a cause leaf innermost")
        # The Python stack load <- worker <- <module>, innermost first,
        # under the natives the evaluation loop called (cow_leaf, cow_middle).
        stacks = [st for st, vals, _ in decode(pprof("--leaf", "none"))[2] if vals[0]]
        app = S.app
        check(any([x[0][0] for x in st[:2]] == ["cow_leaf", "cow_middle"]
                  and st[2:5] == [(("load", app), 4), (("worker", app), 8), (("<module>", app), 10)]
                  for st in stacks), f"the Python stack with files and lines: {stacks}")
        check(any(st == [(("(no stack)", ""), 0)] for st in stacks), "the (no stack) sample")

        # Every --frames and --leaf: the same stacks as folded, by name.
        def norm(name):
            name = re.sub(r"^\?_?\(code[ _](0x[0-9a-f]+)\)$", r"?code \1", name)
            return re.sub(r"[ ;]", "_", name)

        by_opts = {}
        for opts in OPTS:
            blob = pprof(*opts)
            got = {}
            for st, vals, _ in decode(blob)[2]:
                if vals[0]:
                    key = tuple(norm(x[0][0]) for x in reversed(st))
                    got[key] = got.get(key, 0) + vals[0]
            folded = subprocess.run([COWTRACE, "report", "--format", "folded", *opts, d], capture_output=True,
                                    text=True, check=True, timeout=60).stdout
            want = {}
            for ln in folded.splitlines():
                frames, n = ln.rsplit(" ", 1)
                key = tuple(norm(re.sub(r"^(.+) \([^()]*\)$", r"\1", fr)) for fr in frames.split(";"))
                want[key] = want.get(key, 0) + int(n)
            check(got == want and sum(got.values()) == want_pages,
                  f"pprof {opts}: the stacks of folded: {sorted(got.items())} != {sorted(want.items())}")
            check(len(got) > 2, f"pprof {opts}: several stacks: {got}")
            by_opts[tuple(opts)] = got
        check(len({repr(sorted(k for k in by_opts[tuple(o)])) for o in OPTS[1:]}) == len(OPTS) - 1,
              "each --frames and --leaf gives different stacks")
        check({"[python]", "[cowtrace]", S.symtarget} <= mapping_files, f"all the mappings seen: {mapping_files}")
        # A module the symbolizer refuses (the trace names another build id):
        # its frames are module+offset, its mapping has no functions (so a
        # pprof reader may symbolize it from the file).
        d2 = os.path.join(tmp, "otherid")
        os.mkdir(d2)
        other = "ab" * 20
        subprocess.run([MKTRACE, os.path.join(d2, "81.cowtrace"), "--pid", "81"] + S.args(bid=other), check=True)
        for fr in ("native", "both"):
            p2 = subprocess.run([COWTRACE, "report", "--format", "pprof", "--frames", fr, d2], capture_output=True,
                                timeout=60)
            check(p2.returncode == 0, f"pprof of the other build id: {p2.stderr}")
            prof = fields(gzip.decompress(p2.stdout))
            strs = [s.decode() for s in prof.get(6, [])]
            funcs = {one(f, 1): (strs[one(f, 2)], strs[one(f, 4)]) for f in map(fields, prof.get(5, []))}
            check(S.symtarget in check_mappings(prof, strs, funcs, S.symtarget, other, symbolized=False),
                  f"--frames {fr}: the module's mapping with the other build id")
    else:
        def gopprof(path, *args):
            g = subprocess.run(["go", "tool", "pprof", *args, path], capture_output=True, text=True,
                               timeout=300, env=dict(os.environ, HOME=tmp, PPROF_TMPDIR=tmp))
            check(g.returncode == 0, f"go tool pprof {args}: exit {g.returncode}: {g.stderr[:500]}")
            return g.stdout

        text = gopprof(out, "-top", "-cum")
        check(f"of {want_pages} total" in text, f"total {want_pages} in: {text[:400]}")
        rows = {ln.split()[-1]: ln.split() for ln in text.splitlines() if ln.strip().endswith(("load", "worker"))}
        check("load" in rows and "worker" in rows, f"load and worker rows: {text}")
        # load's cumulative pages: the folded lines (same frames) with a load frame.
        folded = subprocess.run([COWTRACE, "report", "--format", "folded", "--leaf", "none", d],
                                capture_output=True, text=True, check=True, timeout=60).stdout
        py_pages = sum(int(ln.rsplit(" ", 1)[1]) for ln in folded.splitlines()
                       if any(fr.startswith("load (") for fr in ln.rsplit(" ", 1)[0].split(";")))
        check("load" in rows and rows["load"][3] == str(py_pages), f"load's cum == {py_pages}: {rows.get('load')}")
        # Fresh pages: their own sample type, under "(fresh)".
        text = gopprof(out, "-sample_index=fresh_pages", "-top", "-cum")
        fresh_row = [ln.split() for ln in text.splitlines() if ln.strip().endswith("(fresh)")]
        check(f"of {want_fresh} total" in text and fresh_row and fresh_row[0][3] == str(want_fresh),
              f"fresh_pages: total and (fresh) row {want_fresh}: {text[:600]}")
        # The cause label: -tagfocus selects the refcount pages.
        text = gopprof(out, "-tagfocus", "cause=refcount", "-top")
        refcount = rep["total"]["causes"]["refcount"]
        check(refcount > 0 and f"accounting for {refcount}, " in text, f"-tagfocus cause=refcount: {refcount}: {text[:400]}")
        # -raw lists the mappings: the module with the trace's range and
        # build id, the synthetic ones; every location names one of them.
        for opts in ([], ["--frames", "both"]):
            path = os.path.join(tmp, "raw.pb.gz")
            open(path, "wb").write(pprof(*opts))
            text = gopprof(path, "-raw")
            maps = text.split("\nMappings\n", 1)[1].splitlines() if "\nMappings\n" in text else []
            ids = {ln.split(":", 1)[0].strip() for ln in maps if ":" in ln}
            want = f"{symlib.BASE:#x}/{symlib.BASE + 0x10000:#x}/0x0 {S.symtarget} {S.bid} [FN][FL][LN]"
            check(maps and maps[0].strip() == f"1: {want}", f"{opts}: -raw: first {want}: {maps}")
            for name in ("[python]", "[cowtrace]"):
                check(any(f" {name} " in ln for ln in maps), f"{opts}: -raw: a {name} mapping: {maps}")
            loc_maps = re.findall(r"^\s+\d+: 0x[0-9a-f]+ M=(\d+) ", text, re.M)
            check(loc_maps and set(loc_maps) <= ids, f"{opts}: -raw: locations' mappings {set(loc_maps)} in {ids}")
        # Every --frames (with both leaves) and the other leaves load too.
        for opts in (["--frames", "python", "--leaf", "both"], ["--frames", "native", "--leaf", "both"],
                     ["--frames", "both", "--leaf", "both"], ["--leaf", "type"], ["--leaf", "none"]):
            path = os.path.join(tmp, "opt.pb.gz")
            open(path, "wb").write(pprof(*opts))
            text = gopprof(path, "-top", "-cum")
            check(f"of {want_pages} total" in text, f"{opts}: total {want_pages} in: {text[:400]}")
            want_rows = (["cause:refcount", "type:int"] if "both" in opts[-1:] else
                         ["type:int"] if opts[-1] == "type" else ["load"])
            if opts[:2] == ["--frames", "native"]:
                want_rows = [r for r in want_rows if r != "load"] + ["cow_leaf"]
            for row in want_rows:
                check(any(ln.split()[-1:] == [row] for ln in text.splitlines()), f"{opts}: a {row} row: {text}")

if failures:
    print(f"test_pprof {MODE}: {failures} failures", file=sys.stderr)
    sys.exit(1)
print(f"test_pprof {MODE}: ok")
