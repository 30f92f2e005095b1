#!/usr/bin/env python3
"""test_report_cli.py COWTRACE CT_MKTRACE - `cowtrace report` end to end.

Traces come from ct-mktrace and from a tiny independent writer below
(struct.pack straight from ct_format.h), so a bug shared by the C writer and
reader cannot hide. Checks: JSON valid (python3 -m json.tool) with the
contract keys and exact counts, --pages exact, hostile strings escaped in
JSON and made harmless in text, corrupt files -> exit 2 naming file and
offset while good files are still reported, usage errors -> exit 2.
"""
import json
import os
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


def hostile_trace(pid):
    """Region and note strings full of bytes a terminal or JSON parser would choke on."""
    hdr = b"COWTRACE" + struct.pack("<HHIiiII QQ Ii", 1, 128, 4096, pid, 1, 2, 0, 0, 0, 0, 0)
    hdr += b"\0" * (128 - len(hdr))
    evil = b'/lib/evil\x1b[31m"\\\xff\xc3\x28\xe2\x82\xac\x00x\x7f\xc2\x9b.so'
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

if failures:
    print(f"test_report_cli: {failures} failures", file=sys.stderr)
    sys.exit(1)
print("test_report_cli: ok")
