#!/usr/bin/env python3
"""test_report_cli.py COWTRACE CT_MKTRACE - `cowtrace report` end to end.

Traces come from ct-mktrace and from a tiny independent writer below
(struct.pack straight from ct_format.h), so a bug shared by the C writer and
reader cannot hide. Checks: JSON valid (python3 -m json.tool) with the
contract keys and exact counts, --pages exact, hostile strings escaped in
JSON and made harmless in text, corrupt files -> exit 2 naming file and
offset while good files are still reported, usage errors -> exit 2; a
watch directory's hostile timeline.jsonl (cut, huge, mistyped, deep, 10 MB
lines, 150 seeded mutations) skipped line by line with a note, never a
crash.
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

COWTRACE, MKTRACE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what, file=sys.stderr)


def report(*args):
    return subprocess.run([COWTRACE, "report"] + list(args), capture_output=True, timeout=60)


def mk(path, *args):
    p = subprocess.run([MKTRACE, path, "--expect"] + list(args), capture_output=True, text=True, check=True)
    return dict(kv.split("=") for kv in p.stdout.split())


def rec(rtype, body):
    size = (8 + len(body) + 7) // 8 * 8
    return struct.pack("<II", rtype, size) + body + b"\0" * (size - 8 - len(body))


def s16(b):
    return struct.pack("<H", len(b)) + b


def hostile_trace(pid, evil=b'/lib/evil\x1b[31m"\\\xff\xc3\x28\xe2\x82\xac\x00x\x7f\xc2\x9b.so'):
    """Region and note strings full of bytes a terminal or JSON parser would choke on."""
    hdr = b"COWTRACE" + struct.pack("<HHIiiII QQ Ii", 1, 128, 4096, pid, 1, 2, 0, 0, 0, 0, 0)
    hdr += b"\0" * (128 - len(hdr))
    out = hdr
    out += rec(1, struct.pack("<IIQ", 2, 0, 0) + s16(b"reason \x1b]0;pwned\x07") + s16(evil) + s16(b"py\n"))
    out += rec(2, struct.pack("<IIQQIIQQII", 0, 3, 0x10000, 0x14000, 3, 2, 0, 0, 0, 0) + s16(evil))
    out += rec(3, struct.pack("<IIQ", 0, 2, 0) + bytes([0, 4]))
    out += rec(6, struct.pack("<QQQII", 0x11008, 0, 0, pid, 0))
    out += rec(7, struct.pack("<II", 1, 0) + s16(b"note\x1b[2J\xff"))
    out += rec(9, struct.pack("<IiQQQ", 1, 0, 0, 1, 0))
    return out


with tempfile.TemporaryDirectory() as tmp:
    d = os.path.join(tmp, "run")
    os.mkdir(d)
    e10 = mk(os.path.join(d, "10.cowtrace"), "--pid", "10", "--regions", "3", "--region-pages", "100",
             "--present-every", "2", "--dirty", "40", "--fresh", "7")
    e9 = mk(os.path.join(d, "9.cowtrace"), "--pid", "9", "--events", "--signal", "9", "--mode", "mprotect",
            "--dirty", "300", "--fresh", "0")

    # text
    p = report(d)
    text = p.stdout.decode()
    check(p.returncode == 0, f"text report exit 0 ({p.returncode}, {p.stderr!r})")
    check("TOTAL" in text and "      9 " in text and "     10 " in text, "text rows")
    check(text.index("      9 ") < text.index("     10 "), "sorted by pid")
    check("signal 9 *" in text, "incomplete flagged")

    # json: valid, contract keys, exact counts
    p = report("--format", "json", d)
    check(p.returncode == 0, "json exit 0")
    v = subprocess.run([sys.executable, "-m", "json.tool"], input=p.stdout, capture_output=True)
    check(v.returncode == 0, f"python3 -m json.tool accepts the report: {v.stderr!r}")
    j = json.loads(p.stdout)
    check(j["format"] == "cowtrace-report" and j["version"] == 1, "format/version")
    procs = j["processes"]
    check([q["pid"] for q in procs] == [9, 10], "pids sorted")
    keys = {"pid", "ppid", "mode", "mode_reason", "exit", "complete", "notes", "tracked_pages", "cow_pages",
            "fresh_pages", "early_pages", "regions"}
    rkeys = {"start", "end", "name", "kind", "tracked", "tracked_pages", "cow_pages", "fresh_pages"}
    for q in procs:
        check(keys <= set(q), f"process keys: missing {keys - set(q)}")
        check("pages" not in q, "no pages without --pages")
        for r in q["regions"]:
            check(rkeys <= set(r), f"region keys: missing {rkeys - set(r)}")
            check(r["kind"] in ("heap", "anon", "data", "stack", "other"), "region kind")
    p9, p10 = procs
    check((p10["tracked_pages"], p10["cow_pages"], p10["fresh_pages"]) ==
          (int(e10["tracked"]), int(e10["cow"]), int(e10["fresh"])), f"counts of 10: {p10}")
    check((p9["tracked_pages"], p9["cow_pages"], p9["fresh_pages"]) ==
          (int(e9["tracked"]), int(e9["cow"]), int(e9["fresh"])), "counts of 9")
    check(p9["exit"] == "signal 9" and p9["complete"] is False and p9["mode"] == "mprotect", "exit of 9")
    check(p10["exit"] == "exit 0" and p10["complete"] is True and p10["mode"] == "uffd-async", "exit of 10")
    check(sum(r["cow_pages"] for r in p10["regions"]) == p10["cow_pages"], "regions sum to process")
    check(j["total"] == {**j["total"], "processes": 2, "cow_pages": 340, "fresh_pages": 7,
                         "tracked_pages": int(e9["tracked"]) + int(e10["tracked"])}, f"total {j['total']}")

    # --pages, exact: 1 region of 8 pages, present 0,2,4,6; dirty 2 of them, 1 fresh
    one = os.path.join(tmp, "one.cowtrace")
    mk(one, "--regions", "1", "--region-pages", "8", "--present-every", "2", "--dirty", "2", "--fresh", "1")
    p = report("--format", "json", "--pages", one)
    check(p.returncode == 0, "single file report")
    pages = json.loads(p.stdout)["processes"][0]["pages"]
    # no PYTHON record: cow pages have cause "unknown", fresh pages no cause
    check(pages == [{"addr": "0x7f0000002000", "kind": "cow", "cause": "unknown"},
                    {"addr": "0x7f0000006000", "kind": "cow", "cause": "unknown"},
                    {"addr": "0x7f0000007000", "kind": "fresh"}], f"pages exact: {pages}")
    p = report("--pages", one)
    check(b"0x7f0000002000-0x7f0000003000  cow" in p.stdout, "text --pages")

    # hostile strings
    h = os.path.join(tmp, "hostile")
    os.mkdir(h)
    with open(os.path.join(h, "77.cowtrace"), "wb") as f:
        f.write(hostile_trace(77))
    p = report("--format", "json", h)
    check(p.returncode == 0, f"hostile trace reads: {p.stderr!r}")
    v = subprocess.run([sys.executable, "-m", "json.tool"], input=p.stdout, capture_output=True)
    check(v.returncode == 0, "hostile json valid")
    try:
        q = json.loads(p.stdout.decode("utf-8"))["processes"][0]
        check(q["regions"][0]["name"].startswith('/lib/evil\x1b[31m"\\\u00ff'), f"name escaped: {q['regions'][0]['name']!r}")
        check("\u20ac" in q["regions"][0]["name"], "valid UTF-8 kept")
        check(q["cow_pages"] == 1 and q["tracked_pages"] == 4 and q["regions"][0]["kind"] == "data", "hostile counts")
        check(q["notes"] == ["note\x1b[2J\u00ff"], f"notes: {q['notes']}")
    except (ValueError, KeyError, IndexError) as e:
        check(False, f"hostile json: {e}")
    p = report(h)
    check(p.returncode == 0 and b"\x1b" not in p.stdout and b"\x07" not in p.stdout and b"\xc2\x9b" not in p.stdout,
          "no terminal escapes in text")

    # html: strings of the trace stay inside the data block, whatever they hold
    sneaky = os.path.join(tmp, "sneaky")
    os.mkdir(sneaky)
    name = b"</script><script>alert(1)</script><!--<script>x</SCRIPT>.so"
    with open(os.path.join(sneaky, "78.cowtrace"), "wb") as f:
        f.write(hostile_trace(78, name))
    p = report("--format", "html", sneaky)
    check(p.returncode == 0, f"html of a hostile trace: {p.returncode} {p.stderr!r}")
    page = p.stdout
    check(page.lower().count(b"</script") == 2 and page.count(b"<script") == 2 and page.count(b"<!--") == 0,
          "html: a trace string ended or opened a script block")
    check(b"Content-Security-Policy" in page and b"default-src 'none'" in page, "html: no policy against fetching")
    check(not re.search(rb"(src|href)=[\"']?(https?:)?//", page), "html: refers to something outside the page")
    m = re.search(rb'<script type="application/json" id="ct-data">(.*?)</script>', page, re.S)
    try:
        data = json.loads(m.group(1))
        check(data["report"]["processes"][0]["regions"][0]["name"] == name.decode(), "html: region name round trip")
        want = json.loads(report("--format", "json", "--no-stacks", sneaky).stdout)
        for q in want["processes"]:   # the page shows the run's locations, not each process's
            for k in ("python_locations", "python_unlocated", "native_functions", "native_unlocated"):
                q.pop(k, None)
        check(data["report"] == want, "html: the data is the JSON report")
    except (AttributeError, ValueError, KeyError, IndexError) as e:
        check(False, f"html data: {e}")
    p = report("--format", "html", "--pages", sneaky)
    check(p.returncode == 2 and b"--pages does not apply to --format html" in p.stderr, f"html --pages: {p.stderr!r}")

    # corruption: exit 2, file and offset named, the good traces still reported
    bad = os.path.join(tmp, "bad")
    shutil.copytree(d, bad)
    data = bytearray(open(os.path.join(d, "10.cowtrace"), "rb").read())
    data[128 + 4:128 + 8] = struct.pack("<I", 3)       # size of the first record
    open(os.path.join(bad, "10.cowtrace"), "wb").write(data)
    open(os.path.join(bad, "11.cowtrace"), "wb").write(b"COWTRACE" + struct.pack("<H", 7) + b"\0" * 118)
    open(os.path.join(bad, "12.cowtrace"), "wb").write(b"hello")
    p = report(bad)
    err = p.stderr.decode()
    check(p.returncode == 2, f"corrupt -> exit 2 ({p.returncode})")
    check(f"cowtrace: {bad}/10.cowtrace: offset 128: bad record size 3" in err, f"bad size message: {err!r}")
    check(f"{bad}/11.cowtrace: offset 8: unsupported trace format version 7" in err, "future version message")
    check(f"{bad}/12.cowtrace: offset 0: truncated header" in err, "short file message")
    check(b"      9 " in p.stdout, "good trace still reported")
    p = report("--format", "json", bad)
    check(p.returncode == 2 and len(json.loads(p.stdout)["errors"]) == 3, "json errors list")

    # truncated mid-record: still read, flagged incomplete
    cut = os.path.join(tmp, "cut.cowtrace")
    open(cut, "wb").write(open(os.path.join(d, "9.cowtrace"), "rb").read()[:-13])
    p = report("--format", "json", cut)
    check(p.returncode == 0 and json.loads(p.stdout)["processes"][0]["complete"] is False, "torn trace")


    # ---- causes ----
    CAUSES = ["refcount", "gc", "object", "allocator", "interpreter", "other", "unknown"]
    SPEC = "refcount:int=100,gc:list=50,allocator=10"

    def causes_of(q):
        check(list(q["causes"]) == CAUSES, f"seven cause keys in order: {list(q['causes'])}")
        check(sum(q["causes"].values()) == q["cow_pages"], f"causes sum to cow_pages: {q['causes']}")
        check(sum(t["cow_pages"] for t in q["types"]) == q["cow_pages"], "types sum to cow_pages")
        return q["causes"]

    cz = os.path.join(tmp, "causes")
    os.mkdir(cz)
    ep = mk(os.path.join(cz, "30.cowtrace"), "--pid", "30", "--mode", "uffd", "--python", "0x30b07f0",
            "--evidence", SPEC, "--dirty", "170", "--fresh", "0", "--present-every", "2")
    ei = mk(os.path.join(cz, "31.cowtrace"), "--pid", "31", "--python", "0x30b07f0",
            "--evidence", SPEC + ",object:Model=5,other=3,unknown=2", "--present-every", "2")
    eu = mk(os.path.join(cz, "32.cowtrace"), "--pid", "32", "--mode", "mprotect", "--python", "0x30b07f0",
            "--layout-unknown", "--evidence", SPEC)
    p = report("--format", "json", cz)
    check(p.returncode == 0, f"causes report: {p.stderr!r}")
    j = json.loads(p.stdout)
    q30, q31, q32 = j["processes"]
    c = causes_of(q30)
    check(c == {k: int(ep[k]) for k in CAUSES}, f"precise causes {c} vs {ep}")
    check(c["refcount"] == 100 and c["gc"] == 50 and c["allocator"] == 10 and c["unknown"] == 10, "precise exact")
    check(q30["types"][:2] == [{"name": "int", "cause": "refcount", "cow_pages": 100},
                               {"name": "list", "cause": "gc", "cow_pages": 50}], f"types: {q30['types']}")
    check({"name": None, "cause": "allocator", "cow_pages": 10} in q30["types"], "untyped pages: name null")
    check(q30["causes_inferred"] is False and q30["cause_notes"] == [], "precise: not inferred")
    py = q30["python"]
    check(py["hexversion"] == 0x30b07f0 and py["layout"] == "3.11" and py["build"] == "shared"
          and py["gc_frozen"] is False and py["version"].startswith("3.11.7") and py["path"].endswith(".so.1.0"),
          f"python: {py}")
    c = causes_of(q31)
    check(c == {k: int(ei[k]) for k in CAUSES} and q31["causes_inferred"] is True, f"inferred {c} vs {ei}")
    check(c["refcount"] == 155 and c["allocator"] == 10 and c["other"] == 3 and c["unknown"] == 2, "inferred exact")
    check(any("inferred" in n for n in q31["cause_notes"]), "inferred note")
    c = causes_of(q32)
    check(c["unknown"] == q32["cow_pages"] == 160, f"unknown layout: {c}")
    check(q32["python"]["layout"] is None and any("no memory layout" in n for n in q32["cause_notes"]),
          "unknown layout note")
    tot = j["total"]
    check(tot["causes"] == {k: q30["causes"][k] + q31["causes"][k] + q32["causes"][k] for k in CAUSES},
          "total causes")
    check(sum(t["cow_pages"] for t in tot["types"]) == tot["cow_pages"], "total types sum")
    check({"name": "int", "cause": "refcount", "cow_pages": 200} in tot["types"], f"total types {tot['types'][:3]}")
    p = report(cz)
    text = p.stdout.decode()
    for want in ("why pages were copied", "what to do:", "gc.freeze()", "refcount", "int 0.8",
                 "(inferred)", "no memory layout", "layout 3.11"):
        check(want in text, f"text has {want!r}")
    # --pages: cause on every cow page, none on fresh ones, counts agree
    p = report("--format", "json", "--pages", os.path.join(cz, "30.cowtrace"))
    q = json.loads(p.stdout)["processes"][0]
    cows = [x for x in q["pages"] if x["kind"] == "cow"]
    check(len(cows) == q["cow_pages"] and all("cause" in x for x in cows), "cause on every cow page")
    check(all("cause" not in x for x in q["pages"] if x["kind"] == "fresh"), "no cause on fresh pages")
    check({k: sum(x["cause"] == k for x in cows) for k in CAUSES} == q["causes"], "pages agree with causes")
    check(sum(x.get("type") == "int" for x in cows) == 100, "type on pages")
    p = report("--pages", os.path.join(cz, "30.cowtrace"))
    check(b"  refcount int" in p.stdout and b"  gc list" in p.stdout, "text --pages causes")

    # an independently packed trace with evidence (struct.pack from ct_format.h)
    def ev_trace(pid):
        hdr = b"COWTRACE" + struct.pack("<HHIiiII QQ Ii", 1, 128, 4096, pid, 1, 2, 0, 0, 0, 0, 0)
        hdr += b"\0" * (128 - len(hdr))
        lib = b"/usr/lib/libpython3.11.so.1.0"
        out = hdr + rec(1, struct.pack("<IIQ", 2, 0, 0) + s16(b"uffd") + s16(b"/usr/bin/python3") + s16(b"py"))
        out += rec(11, struct.pack("<QQII", 0x30b07f0, 0x7f0000900000, 1, 1) + s16(b"3.11.2 (main)") + s16(lib))
        out += rec(12, struct.pack("<QIIQqq", 0x7f00aa000000, 1, 0, 1 << 14, 32, 0) + s16(b"list"))
        out += rec(12, struct.pack("<QIIQqq", 0x7f00aa001000, 2, 0, 0, 32, 0) + s16(b"int"))
        out += rec(2, struct.pack("<IIQQIIQQII", 0, 1, 0x10000, 0x14000, 3, 2, 0, 0, 0, 0) + s16(b"[heap]"))
        out += rec(2, struct.pack("<IIQQIIQQII", 1, 3, 0x20000, 0x21000, 3, 2, 0, 0, 0, 0) + s16(lib + b" (bss)"))
        out += rec(3, struct.pack("<IIQ", 0, 2, 0) + bytes([0, 4]))
        out += rec(3, struct.pack("<IIQ", 1, 2, 0) + bytes([0, 1]))
        W = "<QQQIIQQQIBBH"
        out += rec(6, struct.pack(W, 0x10010, 0, 1, pid, 0, 0x10020, 0x7f00aa000000, 0x10010, 48, 2, 2, 0))  # gc list
        out += rec(6, struct.pack(W, 0x11020, 0, 2, pid, 0, 0x11020, 0x7f00aa001000, 0x11010, 48, 2, 1, 0))  # refcount int
        out += rec(6, struct.pack(W, 0x12000, 0, 3, pid, 0, 0, 0, 0, 0, 1, 0, 0))                            # pool header
        out += rec(6, struct.pack(W, 0x20008, 0, 4, pid, 0, 0, 0, 0, 0, 3, 0, 0))                            # interpreter
        out += rec(6, struct.pack("<QQQII", 0x13000, 0, 5, pid, 0))                                           # v1: unknown
        out += rec(9, struct.pack("<IiQQQ", 1, 0, 0, 5, 0))
        return out

    ind = os.path.join(tmp, "ind.cowtrace")
    open(ind, "wb").write(ev_trace(88))
    p = report("--format", "json", ind)
    check(p.returncode == 0, f"independent evidence trace: {p.stderr!r}")
    if p.returncode == 0:
        q = json.loads(p.stdout)["processes"][0]
        check(q["causes"] == {"refcount": 1, "gc": 1, "object": 0, "allocator": 1, "interpreter": 1,
                              "other": 0, "unknown": 1}, f"independent causes: {q['causes']}")
        check({"name": "list", "cause": "gc", "cow_pages": 1} in q["types"], f"independent types {q['types']}")

    # ---- diff ----
    base, frozen = os.path.join(tmp, "base"), os.path.join(tmp, "frozen")
    os.mkdir(base)
    os.mkdir(frozen)
    for pid in (40, 41):
        mk(os.path.join(base, f"{pid}.cowtrace"), "--pid", str(pid), "--mode", "uffd", "--python", "0x30b07f0",
           "--evidence", "refcount:int=100,gc:list=500,allocator=10")
        mk(os.path.join(frozen, f"{pid}.cowtrace"), "--pid", str(pid), "--mode", "uffd", "--python", "0x30b07f0",
           "--gc-frozen", "--evidence", "refcount:int=110,gc:list=5,allocator=10")
    p = subprocess.run([COWTRACE, "diff", "--format", "json", base, frozen], capture_output=True, timeout=60)
    check(p.returncode == 0, f"diff json: {p.stderr!r}")
    dj = json.loads(p.stdout)
    check(dj["format"] == "cowtrace-diff" and dj["version"] == 1, "diff format")
    check(dj["a"]["cow_pages"] == 1220 and dj["b"]["cow_pages"] == 250 and dj["a"]["processes"] == 2, f"diff totals {dj['a']} {dj['b']}")
    check(dj["causes"]["gc"] == {"a": 1000, "b": 10} and list(dj["causes"]) == CAUSES, f"diff causes {dj['causes']}")
    check(dj["types"][0] == {"name": "list", "cause": "gc", "a": 1000, "b": 10}, f"diff types {dj['types'][:2]}")
    p = subprocess.run([COWTRACE, "diff", "--format", "html", base, frozen], capture_output=True, timeout=60)
    m = re.search(rb'<script type="application/json" id="ct-data">(.*?)</script>', p.stdout, re.S)
    check(p.returncode == 0 and m and json.loads(m.group(1))["report"] == dj, f"diff html carries the JSON diff: {p.stderr!r}")
    p = subprocess.run([COWTRACE, "diff", base, frozen], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0 and "gc" in p.stdout and "0.01" in p.stdout and "list (gc)" in p.stdout, f"diff text {p.stdout}")
    p = subprocess.run([COWTRACE, "report", frozen], capture_output=True, text=True, timeout=60)
    check("gc.freeze() ran before this fork" in p.stdout, "gc frozen note")
    for args in ([base], [base, frozen, base], ["--format", "xml", base, frozen], [base, os.path.join(tmp, "nope")]):
        p = subprocess.run([COWTRACE, "diff"] + args, capture_output=True, timeout=60)
        check(p.returncode == 2 and p.stderr, f"diff usage error for {args}")
    p = subprocess.run([COWTRACE, "diff", bad, base], capture_output=True, timeout=60)
    check(p.returncode == 2 and b"offset 128" in p.stderr and b"COW pages" in p.stdout, "diff with a bad trace")
    p = subprocess.run([COWTRACE, "diff", "--help"], capture_output=True, timeout=60)
    check(p.returncode == 0 and b"usage: cowtrace diff" in p.stdout, "diff --help")

    # empty dir, missing dir, usage
    empty = os.path.join(tmp, "empty")
    os.mkdir(empty)
    p = report(empty)
    check(p.returncode == 0 and b"no traces" in p.stdout, "empty dir")
    p = report("--format", "json", empty)
    check(p.returncode == 0 and json.loads(p.stdout)["processes"] == [], "empty dir json")
    p = report(os.path.join(tmp, "nope"))
    check(p.returncode == 2 and b"No such file" in p.stderr, "missing dir")
    for args in (["--format", "xml", d], [], [d, d], ["--bogus", d], ["--format"]):
        p = report(*args)
        check(p.returncode == 2 and p.stderr, f"usage error for {args}")
    p = report("--help")
    check(p.returncode == 0 and b"usage" in p.stdout, "report --help")

    # a watch directory's timeline.jsonl as hostile input (docs/trace-format.md,
    # "The timeline"): bad lines are skipped and counted, the first named by
    # its line number; the good ones are reported; nothing crashes or hangs
    tdir = os.path.join(tmp, "timeline")
    os.mkdir(tdir)

    def sample(wpid, wt, copied, **kw):
        o = {"t": wt, "event": "sample", "pid": wpid, "ppid": 1, "comm": "w", "start": 100.25,
             "shared_bytes": 4096, "copied_bytes": copied, "fresh_bytes": 0}
        o.update(kw)
        return json.dumps(o).encode()

    lines = [
        sample(10, 1000.0, 8192),                                        # 1 good
        sample(11, 1000.0, 4096, comm="ev\u00ffil\x1b[31m\\"),           # 2 good, a hostile comm
        b"",                                                             # 3 empty: not counted
        sample(10, 1000.5, 2 ** 64),                                     # 4 a count past 2^53
        sample(10, 1000.5, 1, pid="10"),                                 # 5 wrong type
        sample(10, 1000.5, 1.5),                                         # 6 a count that is not an integer
        sample(10, 1000.5, 1).replace(b'"t": 1000.5', b'"t": 1e400'),    # 7 huge
        sample(10, 1000.5, 1, start=-1),                                 # 8 negative time
        sample(10, 1000.5, 1, pid=0),                                    # 9 pid out of range
        b'{"t": NaN, "event": "sample"}',                                # 10 not JSON
        b"[" * 100000 + b"]" * 100000,                                   # 11 deep nesting
        b'{"x": ' + b"[" * 5000 + b"]" * 5000 + b"}",                    # 12 deep, inside an object
        b'{"t": 1, "event": "sample", "pid": 10, "comm": "\\ud800\\q"}',  # 13 a bad escape
        b"x" * (10 << 20),                                               # 14 a 10 MB line
        b'{"t": 1000.9, "event": "gone", "pid": 10, "ppid": 1, "comm": "w", "start": 100.25, "junk": {"a": [1, 2, {"b": null}]}}',  # 15 good
        sample(10, 1001.0, 1),                                           # 16 after gone
        sample(11, 999.0, 1),                                            # 17 time going back
        sample(11, 1002.0, 12288, causes={"refcount": 12288}, comm="ev\u00ffil\x1b[31m\\"),           # 18 good
        b'{"t": 1003.0, "event": "sample", "pid": 11,',                  # 19 cut short, no newline
    ]
    with open(os.path.join(tdir, "timeline.jsonl"), "wb") as f:
        f.write(b"\n".join(lines))
    for fmt in ("text", "json", "html", "folded", "pprof"):
        p = report("--format", fmt, tdir)
        check(p.returncode == 0 and not p.stderr, f"hostile timeline, {fmt}: exit {p.returncode} {p.stderr[-300:]!r}")
    p = report(tdir)
    check(b"timeline (timeline.jsonl): 2 workers, 3 samples" in p.stdout and b"\x1b" not in p.stdout,
          f"hostile timeline text: {p.stdout[:600]!r}")
    check(b"no traces" not in p.stdout, "a timeline-only directory said no traces")
    tl = json.loads(report("--format", "json", tdir).stdout)["timeline"]
    check(tl["lines"] == 18 and tl["samples"] == 3 and tl["skipped_lines"] == 14, f"hostile timeline counts: {tl}")
    check(tl["note"] and "line 4:" in tl["note"], f"hostile timeline note: {tl['note']}")
    ws = {w["pid"]: w for w in tl["workers"]}
    check(sorted(ws) == [10, 11] and ws[10]["gone"] == 1000.9 and ws[10]["copied_bytes"] == 8192
          and ws[11]["copied_bytes"] == 12288 and ws[11]["samples"] == 2 and ws[11]["comm"] == "ev\u00ffil\x1b[31m\\",
          f"hostile timeline workers: {tl['workers']}")
    html = report("--format", "html", tdir).stdout
    check(b"\x1b" not in html and b"</script" not in html.split(b'id="ct-data">')[1].split(b"</script>")[0],
          "hostile timeline in the page")
    # a key or event with an escaped NUL is another name, not the one
    # before the NUL: "t\u0000x" is a field to ignore, "sample\u0000" no event
    ndir = os.path.join(tmp, "timeline-nul")
    os.mkdir(ndir)
    with open(os.path.join(ndir, "timeline.jsonl"), "wb") as f:
        f.write(sample(10, 1000.0, 4096)[:-1] + b', "t\\u0000x": 5.0, "pid\\u0000": 11}\n')
        f.write(sample(10, 1001.0, 4096, event="sample\u0000") + b"\n")
        f.write(sample(10, 1002.0, 8192)[:-1] + b', "copied_bytes\\u0000junk": 1}\n')
    nt = json.loads(report("--format", "json", ndir).stdout)["timeline"]
    nw = nt["workers"]
    check(nt["samples"] == 2 and nt["skipped_lines"] == 1 and len(nw) == 1 and nw[0]["pid"] == 10
          and nw[0]["first_t"] == 1000.0 and nw[0]["copied_bytes"] == 8192,
          f"keys and events with an escaped NUL: {nt}")
    # mutated timelines (a fixed seed: the same cases every run): report
    # --format json exits 0 with valid JSON and never more samples than lines
    import random
    rnd = random.Random(11)
    good = b"\n".join(lines[i] for i in (0, 1, 14, 17)) + b"\n"
    mdir = os.path.join(tmp, "timeline-mut")
    os.mkdir(mdir)
    bad_runs, with_skips = [], 0
    for k in range(150):
        data = bytearray(good)
        for _ in range(rnd.randint(1, 8)):
            op, at = rnd.randrange(3), rnd.randrange(len(data))
            if op == 0:
                data[at] = rnd.choice(b'{}[]",:0123456789.-eE\\u\n x\x00\xff')
            elif op == 1:
                del data[at:at + rnd.randint(1, 20)]
            else:
                data[at:at] = data[rnd.randrange(len(data)):][:rnd.randint(1, 40)]
        with open(os.path.join(mdir, "timeline.jsonl"), "wb") as f:
            f.write(data)
        p = report("--format", "json", mdir)
        try:
            mt = json.loads(p.stdout)["timeline"]
            with_skips += mt["skipped_lines"] > 0
            ok = p.returncode == 0 and mt["samples"] <= mt["lines"] and mt["samples"] + mt["skipped_lines"] <= mt["lines"]
        except (ValueError, KeyError):
            ok = False
        if not ok:
            bad_runs.append((k, p.returncode, p.stderr[-200:]))
    check(not bad_runs, f"mutated timelines: {bad_runs[:3]}")
    check(with_skips >= 75, f"only {with_skips} of 150 mutated timelines had a line skipped: the mutations miss")
    # a timeline beside traces: both reported; a timeline that is not a file: an error naming it, exit 2
    shutil.copy(os.path.join(d, sorted(os.listdir(d))[0]), tdir)
    p = report(tdir)
    check(p.returncode in (0, 2) and b"TOTAL" in p.stdout and b"timeline (timeline.jsonl): 2 workers" in p.stdout,
          f"traces and a timeline: {p.stdout[-600:]!r}")
    odd = os.path.join(tmp, "timeline-odd")
    os.makedirs(os.path.join(odd, "timeline.jsonl"))
    p = report(odd)
    check(p.returncode == 2 and b"timeline.jsonl" in p.stderr and b"not a regular file" in p.stderr,
          f"timeline.jsonl a directory: {p.returncode} {p.stderr!r}")
    fifo = os.path.join(tmp, "timeline-fifo")
    os.mkdir(fifo)
    os.mkfifo(os.path.join(fifo, "timeline.jsonl"))
    p = report(fifo)
    check(p.returncode == 2 and b"not a regular file" in p.stderr, f"timeline.jsonl a FIFO: {p.returncode} {p.stderr!r}")

if failures:
    print(f"test_report_cli: {failures} failures", file=sys.stderr)
    sys.exit(1)
print("test_report_cli: ok")
