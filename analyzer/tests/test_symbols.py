#!/usr/bin/env python3
"""test_symbols.py COWTRACE CT_MKTRACE SYMTARGET SYMTARGET_SRC - where pages
were copied, end to end, on a trace whose native frames point into a real
program built with -g (symtarget.c: known names, known lines, its real
build id) and whose Python frames are real 3.11 code objects:
exact folded output for --frames python/native/both and every --leaf,
exact JSON stacks (function, offset, file:line; ip-1 for return addresses
but not for the faulting instruction), exact top locations in JSON and
text; a changed build id or a missing file is reported and its frames shown
as module+offset, never symbolized."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import symlib  # noqa: E402

COWTRACE, MKTRACE, SYMTARGET, SRC = (os.path.abspath(a) for a in sys.argv[1:5])
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what, file=sys.stderr)


def report(*args):
    p = subprocess.run([COWTRACE, "report"] + list(args), capture_output=True, text=True, timeout=60)
    return p


def folded(d, *args):
    p = report("--format", "folded", *args, d)
    check(p.returncode == 0, f"folded {args}: exit {p.returncode} {p.stderr}")
    lines = p.stdout.splitlines()
    for line in lines:
        frames, _, count = line.rpartition(" ")
        check(count.isdigit() and int(count) > 0 and frames and ";;" not in frames
              and not frames.startswith(";") and not frames.endswith(";"), f"well-formed folded line {line!r}")
    return lines


with tempfile.TemporaryDirectory() as tmp:
    S = symlib.Setup(tmp, SYMTARGET, SRC)
    A = S.app
    good = os.path.join(tmp, "good")
    os.mkdir(good)
    subprocess.run([MKTRACE, os.path.join(good, "70.cowtrace"), "--pid", "70"] + S.args(), check=True)

    # ---- folded ----
    got = folded(good)
    want = S.folded_python()
    check(got == want, "folded default (python, leaf cause):\n  got  " + "\n       ".join(got)
          + "\n  want " + "\n       ".join(want))
    got = folded(good, "--frames", "native")
    want = ["(no stack);cause:other 2",
            "0x1234;cow_leaf;cause:allocator 3",
            "main;cow_leaf;cause:object 7",
            "main;run_python;_PyEval_EvalFrameDefault;cow_middle;cow_leaf;cause:gc 50",
            "main;run_python;_PyEval_EvalFrameDefault;cow_middle;cow_leaf;cause:refcount 100"]
    check(got == want, f"folded native: {got}")
    got = folded(good, "--frames", "both", "--leaf", "none")
    want = ["(no stack) 2",
            f"load ({A}:4);?_(code_0xdead0);0x1234;cow_leaf 3",
            "main;cow_leaf 7",
            f"main;run_python;_PyEval_EvalFrameDefault;<module> ({A}:10);worker ({A}:8);load ({A}:4);"
            "cow_middle;cow_leaf 150"]
    check(got == want, f"folded both: {got}")
    got = folded(good, "--frames", "python", "--leaf", "type")
    check(got[0] == "(no python frame);main;cow_leaf;type:dict 7" and got[1] == "(no stack);type:(none) 2"
          and got[2].endswith(";cow_middle;cow_leaf;type:int 100") and got[3].endswith("cow_leaf;type:list 50")
          and got[4].endswith(";cow_leaf;type:(none) 3"), f"folded leaf type: {got}")
    got = folded(good, "--leaf", "both")
    check(got[0] == "(no python frame);main;cow_leaf;cause:object;type:dict 7", f"folded leaf both: {got}")
    check(sum(int(l.rpartition(" ")[2]) for l in got) == 162, "folded lines sum to the cow pages")

    # ---- --frames both: each Python frame under the evaluation-loop frame
    # that ran it (CT_PYFRAME_ENTRY marks the first frame of each loop call) ----
    entry = os.path.join(tmp, "entry")
    os.mkdir(entry)
    ip, pf = S.ip, S.pyframe
    args = S.args()
    at = [i for i, a in enumerate(args) if a == "--stack"]
    ev = ip("_PyEval_EvalFrameDefault", 9)
    nat1 = "/".join(hex(x) for x in (ip("cow_leaf"), ip("cow_middle", 5), ev, ip("run_python", 9), ev, ip("main", 9)))
    args[at[0] + 1] = f"1:0:{nat1}:{pf('load')}/{pf('worker')}!/{pf('<module>')}!"
    # stack 3: native frames cut above run_python, so <module>'s and
    # worker's loop frame is missing: they come first
    nat3 = "/".join(hex(x) for x in (ip("cow_leaf"), ev, ip("run_python", 9)))
    args[at[2] + 1] = f"3:1:{nat3}:{pf('load')}!/{pf('worker')}/{pf('<module>')}!"
    subprocess.run([MKTRACE, os.path.join(entry, "71.cowtrace"), "--pid", "71"] + args, check=True)
    got = folded(entry, "--frames", "both", "--leaf", "none")
    want = ["(no stack) 2",
            f"(truncated);<module> ({A}:10);worker ({A}:8);run_python;_PyEval_EvalFrameDefault;load ({A}:4);"
            "cow_leaf 3",
            f"main;_PyEval_EvalFrameDefault;<module> ({A}:10);run_python;_PyEval_EvalFrameDefault;"
            f"worker ({A}:8);load ({A}:4);cow_middle;cow_leaf 150",
            "main;cow_leaf 7"]
    check(got == want, "folded both with entry frames:\n  got  " + "\n       ".join(got)
          + "\n  want " + "\n       ".join(want))
    got = folded(entry, "--frames", "python", "--leaf", "none")
    check(f"<module> ({A}:10);worker ({A}:8);load ({A}:4);cow_middle;cow_leaf 150" in got,
          f"folded python ignores the entry marks: {got}")

    # ---- JSON ----
    p = report("--format", "json", "--pages", good)
    check(p.returncode == 0, f"json: {p.stderr}")
    q = json.loads(p.stdout)["processes"][0]
    n = q["stacks"]["1"]["native"]
    L = S.lines

    def nat(func, off, line):
        return {"ip": hex(S.ip(func, off)), "module": SYMTARGET, "function": func, "offset": hex(off),
                "file": n[0]["file"], "line": line}
    check(n[0]["file"] and n[0]["file"].endswith("symtarget.c"), f"DWARF file of cow_leaf: {n[0]}")
    check(n == [nat("cow_leaf", 0, L["cow_leaf"]), nat("cow_middle", 5, L["cow_middle"]),
                nat("_PyEval_EvalFrameDefault", 9, L["_PyEval_EvalFrameDefault"]),
                nat("run_python", 9, L["run_python"]), nat("main", 9, L["main"])], f"native frames of stack 1: {n}")
    py = q["stacks"]["1"]["python"]
    check(py == [{"function": "load", "file": A, "line": 4, "code": "0x7f0000c00200"},
                 {"function": "worker", "file": A, "line": 8, "code": "0x7f0000c00100"},
                 {"function": "<module>", "file": A, "line": 10, "code": "0x7f0000c00000"}], f"python frames: {py}")
    check(q["stacks"]["1"]["flags"] == [] and q["stacks"]["2"]["flags"] == ["no_python"], "stack flags")
    s3 = q["stacks"]["3"]
    check(s3["native"][1] == {"ip": "0x1234", "module": None, "function": None, "offset": "0x1234", "file": None,
                              "line": None}, f"frame outside every module: {s3['native'][1]}")
    check(s3["python"][0] == {"function": None, "file": None, "line": None, "code": "0xdead0"}, "unknown code")
    check(q["symbol_notes"] == [] and q["stacks_missing"] == 0, "no symbol notes")
    check(q["python_locations"] == [
        {"function": "load", "file": A, "line": 4, "cow_pages": 150, "cause": "refcount", "type": "int"},
        {"function": None, "file": None, "line": None, "code": "0xdead0", "cow_pages": 3, "cause": "allocator",
         "type": None}], f"python locations exact: {q['python_locations']}")
    check(q["python_unlocated"] == {"no_stack": 2, "no_frame": 7}, f"unlocated: {q['python_unlocated']}")
    check(q["native_functions"] == [
        {"function": "cow_leaf", "module": "symtarget", "cow_pages": 160, "cause": "refcount", "type": "int"}],
        f"native functions: {q['native_functions']}")
    stacks_of_pages = [pg.get("stack") for pg in q["pages"] if pg["kind"] == "cow"]
    check(stacks_of_pages.count(1) == 150 and stacks_of_pages.count(2) == 7 and stacks_of_pages.count(3) == 3
          and stacks_of_pages.count(None) == 2, "stack id on each page")
    tot = json.loads(p.stdout)["total"]
    check(tot["python_locations"] == q["python_locations"] and tot["native_functions"] == q["native_functions"],
          "total locations of one process")

    # --no-stacks: the same report without the stack table and page stack ids
    p = report("--format", "json", "--pages", "--no-stacks", good)
    check(p.returncode == 0, f"json --no-stacks: {p.stderr}")
    r = json.loads(p.stdout)["processes"][0]
    check("stacks" not in r and all("stack" not in pg for pg in r["pages"]), "--no-stacks drops stacks")
    q_rest = {k: v for k, v in q.items() if k != "stacks"}
    q_rest["pages"] = [{k: v for k, v in pg.items() if k != "stack"} for pg in q["pages"]]
    check(r == q_rest, "--no-stacks keeps everything else")
    check(report("--no-stacks", good).returncode == 2, "--no-stacks without json is a usage error")

    # ---- text ----
    p = report(good)
    check(p.returncode == 0, "text report")
    t = p.stdout
    for want in ("where pages were copied", f"{A}:4 in load", "refcount int (67%)", "cow_leaf (symtarget)",
                 "(7 pages written with no Python frame, 2 with no stack)"):
        check(want in t, f"text has {want!r}:\n{t[t.find('where pages'):]}")

    # ---- changed build id, missing file: never symbolized ----
    for name, path, bid, state in (
            ("changed", SYMTARGET, S.bid[:-2] + ("00" if S.bid[-2:] != "00" else "11"), "changed"),
            ("missing", os.path.join(tmp, "no-such", "symtarget"), None, "missing")):
        d = os.path.join(tmp, name)
        os.mkdir(d)
        subprocess.run([MKTRACE, os.path.join(d, "71.cowtrace"), "--pid", "71"] + S.args(path=path, bid=bid),
                       check=True)
        got = folded(d, "--frames", "native", "--leaf", "none")
        off = lambda f, o=0: f"symtarget+{S.sym[f] + o:#x}"  # noqa: E731
        want = ["(no stack) 2", f"0x1234;{off('cow_leaf')} 3", f"{off('main', 9)};{off('cow_leaf', 4)} 7",
                f"{off('main', 9)};{off('run_python', 9)};{off('_PyEval_EvalFrameDefault', 9)};"
                f"{off('cow_middle', 5)};{off('cow_leaf')} 150"]
        check(got == want, f"{name}: frames as module+offset: {got}")
        p = report("--format", "json", d)
        q = json.loads(p.stdout)["processes"][0]
        notes = q["symbol_notes"]
        check(len(notes) == 1 and notes[0]["module"] == path and notes[0]["state"] == state
              and notes[0]["frames"] == 8, f"{name}: symbol note {notes}")
        check(all(f["function"] is None for s in q["stacks"].values() for f in s["native"]), f"{name}: no names")
        check(any(f"module symtarget {state}" in w for w in q["warnings"]), f"{name}: warning {q['warnings']}")
        if state == "changed":
            check(S.bid in notes[0]["reason"], f"changed: reason names the build ids: {notes[0]['reason']}")
        p = report(d)
        check(f"module symtarget {state}" in p.stdout, f"{name}: text note")

    # ---- usage ----
    for args in (["--frames", "python", good], ["--leaf", "cause", good], ["--format", "folded", "--frames", "x", good],
                 ["--format", "folded", "--leaf", "x", good], ["--format", "folded", "--pages", good]):
        p = report(*args)
        check(p.returncode == 2 and p.stderr, f"usage error for {args}")

if failures:
    print(f"test_symbols: {failures} failures", file=sys.stderr)
    sys.exit(1)
print("test_symbols: ok")
