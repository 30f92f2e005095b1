#!/usr/bin/env python3
"""Known answers on one CPython interpreter, named by its pyenv version.

usage: test_versions.py --mode MODE --python X.Y.Z

The interpreter is $(pyenv root)/versions/X.Y.Z/bin/python3 (PYENV_ROOT,
else ~/.pyenv), or one of that version among the paths in
COWTRACE_TEST_PYTHONS (colon-separated); a machine without it skips with a
printed line. Workload:
tests/workloads/versions.py.
  ints - a child iterating 1,000,000 distinct ints: >= 90% of its copied
         pages are `refcount` on `int`; in the precise modes (uffd,
         mprotect) the heaviest Python line is the loop's line;
         In uffd mode the same child (300,000 ints) under PYTHONMALLOC=malloc:
         the report says the allocator is malloc, not pymalloc (JSON
         python.allocator), no page is `allocator`, >= 90% `refcount` on int;
         the default run names no allocator;
  nested - (precise modes) a child whose writes happen in touch(), which
         outer() calls through map(): in the heaviest folded stack
         (--frames both) touch sits right under its own
         _PyEval_EvalFrameDefault, below outer's, so each Python frame is
         under the C call of the evaluation loop that ran it;
  small - a child iterating a list of 1,000,000 references to small ints
         and None: almost nothing is copied (<= 128 pages, where the ints
         of `ints` take ~7,800) and at most 8 pages are `refcount` on int
         (the loop's own few mortal ints). From 3.12 these objects are
         immortal; before, they are static objects in the interpreter's
         data, a few pages either way;
  gc   - a child running gc.collect() over 300,000 instances of a class
         defined in the workload (Node): in the precise modes >= 85% of its
         copied pages are `gc` on Node; uffd-async, which infers causes
         from what written pages hold and from the child's count of full
         collections (grown since the fork: the PYGC record), >= 80%.
         With `cowtrace run --gc-freeze` the same child's `gc` pages fall
         below 2% of that (free-threaded builds: --gc-freeze is not done,
         the report says so, and the `gc` pages stay);
  reads- a child reading an attribute of each of those 300,000 Nodes, then
         leaving through sys.exit (the interpreter's finalization collects
         and frees them all): >= 80% of its copied pages `refcount` (>= 30%
         on Node, the rest on the ints read), <= 5% `gc`, in every mode (in
         uffd-async, finalization's collections are not the child's);
  rebind- (uffd) a child rebinding the attribute of each of 250,000 Nodes:
         the pages of the values are `object`, on Node where the instance
         holds them (3.13+, >= 10%), on "(instance values)" where an array
         the instance owns does (3.11, 3.12, >= 40%), on dict where the
         instance's dict does (3.9, 3.10, >= 25%; the dict's values array
         is "(object pointers)"); <= 5% unknown, <= 5% allocator;
  frozen- the same reads after the parent's own gc.freeze(), then a
         gc.collect() in the child (which visits no frozen object): the
         same shares (uffd-async writes no PYGC when the permanent
         generation is not empty at the fork).
On an interpreter whose frames cowtrace cannot walk (NO_STACKS: none since
3.9 and 3.10 got their walker) the checks of Python lines (ints' heaviest line, nested) are replaced
by one: the report says, in text and JSON, that there are no Python stacks
or lines for it, and has none.
The interpreter runs with -I -S: the objects a machine's site-packages
import at start-up (hundreds of GC pages on a well-stocked 3.11) are not
the workload's, and would make the shares depend on the machine.
Both also check that the report names the interpreter's version and a
known layout (not "the shim knows no memory layout").
"""
import os
import re
import subprocess

import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402

PRECISE = ("uffd", "mprotect")
# minor versions whose Python frames cowtrace does not walk (causes and
# types only): the test's expectation, checked against the report
NO_STACKS = ()
NO_STACKS_TEXT = "cowtrace cannot walk this version's frames: no Python stacks or lines"


def loop_line():
    with open(ct.workload("versions.py")) as f:
        for i, line in enumerate(f, 1):
            if "VERSIONS-LOOP" in line:
                return i
    raise ct.Fail("no VERSIONS-LOOP line in versions.py")


def traced(t, py, version, scenario, n, mode, extra=(), pymalloc=None):
    out = t.sub(f"out-{scenario}{''.join(extra)}{pymalloc or ''}")
    env = ct.clean_env()
    env.pop("PYTHONMALLOC", None)
    # -I ignores PYTHONMALLOC: with it, only -S (and no PYTHON* but it)
    isolation = ["-I", "-S"]
    if pymalloc:
        env = {k: v for k, v in env.items() if not k.startswith("PYTHON")}
        env["PYTHONMALLOC"] = pymalloc
        isolation = ["-s", "-S"]
    cmd = [ct.cowtrace_bin(), "run", "-o", out, "--mode", mode, "-q"] + list(extra) + ["--",
           py] + isolation + [ct.workload("versions.py"), scenario, str(n)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    ct.check(r.returncode == 0, f"{' '.join(cmd)} exited {r.returncode}: {r.stderr[-1500:]}")
    m = re.search(r"child (\d+) exit 0", r.stdout)
    ct.check(m, f"workload did not report its child: {r.stdout!r}")
    p = ct.get_process(ct.report(out), int(m.group(1)))
    ct.check_mode(p, mode)
    info = p.get("python") or {}
    # a free-threaded build (X.Y.Zt) is named so, and has its own layout
    # (X.Yt): never the GIL build's, whose object header differs
    want = version[:-1] + " free-threaded" if version.endswith("t") else version
    ct.check(info.get("version") == want, f"{scenario}: the report's interpreter is {info}, not {want}")
    ct.check(info.get("layout"), f"{scenario}: no memory layout for {version}: {info}")
    # 3.13+: the offsets _Py_DebugOffsets publishes come from the process
    published = tuple(int(x) for x in version.split(".")[:2]) >= (3, 13)
    ct.check((info.get("layout_source") == "_Py_DebugOffsets") == published,
             f"{scenario}: layout source {info.get('layout_source')!r} for {version}")
    ct.check(info["layout"].endswith("t") == version.endswith("t"),
             f"{scenario}: layout {info['layout']} for the interpreter {want}")
    ct.check("causes" in p, f"no causes in the report for {scenario}")
    ct.log(f"  {version} {mode} {scenario}{' ' + ' '.join(extra) if extra else ''}: cow {p['cow_pages']} causes {p['causes']}; top types "
           f"{[(x['name'], x['cause'], x['cow_pages']) for x in p.get('types', [])[:3]]}")
    return p


def share(p, name, cause=None):
    pages = sum(x["cow_pages"] for x in p.get("types", [])
                if x.get("name") == name and (cause is None or x.get("cause") == cause))
    return pages, pages / max(1, p["cow_pages"])


def run():
    args = ct.parse_args(extra=lambda ap: ap.add_argument("--python", required=True),
                         modes=("uffd", "mprotect", "uffd-async"))
    ct.require_build()
    py = ct.python_of_version(args.python)
    t = ct.tempdir(f"versions-{args.python}")
    bad = []

    stacks = ".".join(args.python.split(".")[:2]) not in NO_STACKS
    it = traced(t, py, args.python, "ints", 1000000, args.mode)
    if not stacks:
        r = subprocess.run([ct.cowtrace_bin(), "report", t.sub("out-ints")], capture_output=True, text=True,
                           timeout=120)
        ct.check(r.returncode == 0, f"report exited {r.returncode}: {r.stderr[-500:]}")
        said = NO_STACKS_TEXT in r.stdout and it["python"].get("python_stacks") is False
        ct.log(f"  ints: the report says there are no Python stacks: {said}; "
               f"python_locations {len(it.get('python_locations') or [])}")
        if not said or it.get("python_locations"):
            bad.append(f"ints: {args.python} has no Python stacks, and the report does not say so "
                       f"(or has Python lines): {it['python']}")
    pages, frac = share(it, "int", "refcount")
    ct.log(f"  ints: refcount on int {pages} of {it['cow_pages']} cow pages ({100 * frac:.1f}%)")
    if frac < 0.90:
        bad.append(f"ints: refcount on int {pages} of {it['cow_pages']} cow pages (< 90%)")
    # a free-threaded build allocates with mimalloc and nothing else (it
    # refuses PYTHONMALLOC=malloc: "unknown allocator"); a GIL build's
    # default is pymalloc, which the report does not name
    free_threaded = args.python.endswith("t")
    if it["python"].get("allocator") != ("mimalloc" if free_threaded else None):
        bad.append(f"ints: the default run names the wrong allocator: {it['python']}")
    if args.mode == "uffd" and not free_threaded:
        # PYTHONMALLOC=malloc: no pymalloc, and the report says so in its
        # interpreter line; no page is `allocator` (only pool headers and
        # free blocks are); the ints are still found by their headers
        ml = traced(t, py, args.python, "ints", 300000, args.mode, pymalloc="malloc")
        r = subprocess.run([ct.cowtrace_bin(), "report", t.sub("out-intsmalloc")], capture_output=True,
                           text=True, timeout=120)
        said = "allocator malloc, not pymalloc: no cause is inferred from pools" in r.stdout
        alloc = ml["causes"].get("allocator", 0)
        mpages, mfrac = share(ml, "int", "refcount")
        ct.log(f"  ints PYTHONMALLOC=malloc: allocator {ml['python'].get('allocator')}, said {said}; "
               f"allocator pages {alloc}; refcount on int {100 * mfrac:.1f}%")
        if ml["python"].get("allocator") != "malloc" or not said or alloc or mfrac < 0.90:
            bad.append(f"ints PYTHONMALLOC=malloc: allocator {ml['python'].get('allocator')}, report line {said}, "
                       f"{alloc} allocator pages (want 0), refcount on int {100 * mfrac:.1f}% (want >= 90%)")
    if args.mode in PRECISE and stacks:
        locs = it.get("python_locations") or []
        want = loop_line()
        top = locs[0] if locs else None
        ct.log(f"  ints: heaviest Python line {top and (os.path.basename(top['file']), top['line'])}")
        if not top or not top["file"].endswith("versions.py") or top["line"] != want:
            bad.append(f"ints: the heaviest Python line is {top}, not versions.py:{want}")

    if args.mode in PRECISE and stacks:
        ns = traced(t, py, args.python, "nested", 300000, args.mode)
        # the trace holds the child only: the workload's parent is the
        # process cowtrace run started, which is not traced
        r = subprocess.run([ct.cowtrace_bin(), "report", "--format", "folded", "--frames", "both",
                            t.sub("out-nested")],
                           capture_output=True, text=True, timeout=120)
        ct.check(r.returncode == 0, f"report --format folded exited {r.returncode}: {r.stderr[-500:]}")
        lines = [ln.rsplit(" ", 1) for ln in r.stdout.splitlines() if ln.strip()]
        top = max(lines, key=lambda x: int(x[1]))[0].split(";") if lines else []
        names = [f.split(" (")[0] for f in top]
        ct.log(f"  nested: heaviest stack ends {names[-8:]}")
        ok = "outer" in names and "touch" in names and names.index("outer") < names.index("touch")
        if ok:
            i_outer, i_touch = names.index("outer"), names.index("touch")
            evals = [i for i, nm in enumerate(names) if nm.startswith("_PyEval_EvalFrameDefault")]
            ok = (i_touch - 1 in evals and any(i < i_outer for i in evals)
                  and not any(i_outer < i < i_touch - 1 for i in evals))
        if not ok:
            bad.append(f"nested: touch is not under its own evaluation-loop frame below outer's: {names}")

    sm = traced(t, py, args.python, "small", 1000000, args.mode)
    pages, _ = share(sm, "int", "refcount")
    ct.log(f"  small: cow {sm['cow_pages']} pages, refcount on int {pages}")
    if sm["cow_pages"] > 128 or pages > 8:
        bad.append(f"small: cow {sm['cow_pages']} pages (> 128) or refcount on int {pages} (> 8)")

    g = traced(t, py, args.python, "gc", 300000, args.mode)
    # uffd-async infers causes from what written pages hold, and knows the
    # child ran a full collection from its count of them (the PYGC record)
    want = 0.85 if args.mode in PRECISE else 0.80
    pages, frac = share(g, "Node", "gc")
    ct.log(f"  gc: gc on Node {pages} of {g['cow_pages']} cow pages ({100 * frac:.1f}%)")
    if frac < want:
        bad.append(f"gc: gc on Node {pages} of {g['cow_pages']} cow pages (< {want:.0%})")
    # A child that only reads, then exits through the interpreter: the
    # collections of finalization must not turn its copies into `gc`; nor
    # must a collection after the program's own gc.freeze() in the parent.
    # (Reading x.value takes a reference to the Node and to its int: about
    # half the pages are each's.)
    for scen in ("reads", "frozen"):
        rd = traced(t, py, args.python, scen, 300000, args.mode)
        node, _ = share(rd, "Node", "refcount")
        refc, gcp = rd["causes"].get("refcount", 0), rd["causes"].get("gc", 0)
        ct.log(f"  {scen}: refcount {refc} of {rd['cow_pages']} cow pages, {node} on Node; gc {gcp}")
        if refc < 0.80 * rd["cow_pages"] or node < 0.30 * rd["cow_pages"] or gcp > 0.05 * rd["cow_pages"]:
            bad.append(f"{scen}: refcount {refc} ({node} on Node) and gc {gcp} of {rd['cow_pages']} cow pages "
                       f"(want >= 80%, >= 30% on Node, gc <= 5%)")
    if args.mode == "uffd":
        # rebinding an attribute writes where the version keeps the value:
        # in the instance (3.13+: object on Node), in a values array the
        # instance owns (3.11, 3.12: object on "(instance values)", as
        # nothing in the array leads back to its instance), in the
        # instance's dict (before 3.11: object on dict)
        minor = tuple(int(x) for x in args.python.split(".")[:2])
        owner = "Node" if minor >= (3, 13) else "(instance values)" if minor >= (3, 11) else "dict"
        want = {"Node": 0.10, "(instance values)": 0.40, "dict": 0.25}[owner]
        rb = traced(t, py, args.python, "rebind", 250000, args.mode)
        pages, frac = share(rb, owner, "object")
        unknown, alloc = rb["causes"].get("unknown", 0), rb["causes"].get("allocator", 0)
        ct.log(f"  rebind: object on {owner} {pages} of {rb['cow_pages']} cow pages ({100 * frac:.1f}%), "
               f"unknown {unknown}, allocator {alloc}")
        # (before 3.11 the dict's values array has no header: a write to
        # its first slot is not a free block's link, so not `allocator`)
        if frac < want or unknown > 0.05 * rb["cow_pages"] or alloc > 0.05 * rb["cow_pages"]:
            bad.append(f"rebind: object on {owner} {pages} of {rb['cow_pages']} cow pages (< {want:.0%}), "
                       f"or unknown {unknown} or allocator {alloc} (> 5%)")
    fz = traced(t, py, args.python, "gc", 300000, args.mode, ("--gc-freeze",))
    before, after = g["causes"].get("gc", 0), fz["causes"].get("gc", 0)
    ct.log(f"  gc --gc-freeze: gc pages {before} -> {after}")
    if args.python.endswith("t"):
        # Free-threaded: os.fork() stops every other thread before fork(),
        # and gc.freeze() stops them again, so called from the shim inside
        # fork() it would wait forever (it did, 3.13.5t): --gc-freeze is
        # not done, the report says why, and the child's collection writes
        # what it wrote without it. (The program's own gc.freeze() before
        # os.fork() works: `frozen` above.)
        ct.check(not fz["python"].get("gc_frozen") and fz["python"].get("gc_freeze_free_threaded"),
                 f"--gc-freeze, free-threaded: the report does not say it was not done: {fz['python']}")
        if after < 0.85 * max(1, before):
            bad.append(f"gc --gc-freeze, free-threaded (not frozen): {after} gc pages vs {before} without")
    else:
        ct.check(fz["python"].get("gc_frozen"), f"--gc-freeze: the report does not say gc was frozen: {fz['python']}")
        if after > 0.02 * max(1, before):
            bad.append(f"gc --gc-freeze: {after} pages vs {before} without (> 2%)")
    ct.check(not bad, "; ".join(bad))


ct.main(run)
