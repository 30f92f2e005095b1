#!/usr/bin/env python3
"""The HTML report in a real browser: examples/seed_lists.py traced, then
`cowtrace report --format html` and `cowtrace diff --format html` opened in
headless Chromium (Debian's chromium; tests/lib/cdp.py, networking off).

Checks: no console error or exception; no request but the file itself
(file:, data:, about: URLs only); the totals, per-process and per-cause
figures the page shows equal the JSON report's; the address-space map's
cells count exactly the copied pages of each cause and the fresh pages,
and the list workers' copied arenas are mostly pages that stayed shared
(the arrays' buffers) between the copied ones (their headers); clicking a
flame-graph frame zooms to it; searching counts the pages under the
frames found, as `--format folded` does; the diff page shows both runs'
totals and causes; sizes: the seed report < 2 MB, a run of 64 workers
(the seed's traces, 16 copies each) < 20 MB; each page interactive within
2 s of being opened. --screenshot DIR keeps screenshots of the seed report
(docs/html-report.png is made this way)."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import cdp  # noqa: E402
import ct  # noqa: E402

SEED_LIMIT = 2_000_000
WORKERS64_LIMIT = 20_000_000
READY_LIMIT_S = 2.0

args = None


def cowtrace(*a, ok=(0,)):
    r = subprocess.run([ct.cowtrace_bin()] + list(a), capture_output=True, timeout=300)
    ct.check(r.returncode in ok, f"cowtrace {' '.join(a)} exited {r.returncode}: {r.stderr.decode()[-1500:]}")
    return r.stdout


PROC_LOCATIONS = ("python_locations", "python_unlocated", "native_functions", "native_unlocated")


def page_report(rep):
    """The JSON report as the page carries it: without each process's locations."""
    for p in rep["processes"]:
        for k in PROC_LOCATIONS:
            p.pop(k, None)
    return rep


def embedded(html):
    m = re.search(rb'<script type="application/json" id="ct-data">(.*?)</script>', html, re.S)
    ct.check(m, "no data block in the page")
    return json.loads(m.group(1))


def seed_python():
    # Debian's python3.11 has bitarray and NumPy (the example's full form)
    if subprocess.run(["/usr/bin/python3.11", "-c", "import bitarray"], capture_output=True).returncode == 0:
        return "/usr/bin/python3.11"
    return ct.python()


def open_page(b, path, label):
    """Opens path; returns seconds until the page said it was drawn (best of
    two loads: this machine is shared, one slow load is noise)."""
    best = None
    for attempt in range(2):
        b.open_page()
        t0 = time.monotonic()
        b.navigate("file://" + path)
        while b.eval("document.body && document.body.dataset.ready || ''") != "1":
            ct.check(time.monotonic() - t0 < 20, f"{label}: not drawn after 20 s; problems: {b.problems()}")
            time.sleep(0.01)
        took = time.monotonic() - t0
        inside = b.eval("window.cowtraceReady")
        ct.log(f"{label}: interactive after {took:.2f} s (page's own clock {inside['ms'] / 1000:.2f} s, "
               f"sections {inside['sections']})")
        best = took if best is None else min(best, took)
        if best < READY_LIMIT_S:
            break
    ct.check(best < READY_LIMIT_S, f"{label}: interactive only after {best:.2f} s (limit {READY_LIMIT_S} s)")
    return best


def clean(b, label):
    b.pump(0.2)
    ct.check(not b.problems(), f"{label}: console errors or exceptions: {b.problems()}")
    urls = b.requests()
    bad = [u for u in urls if not u.startswith(("file:", "data:", "about:"))]
    ct.check(not bad, f"{label}: the page asked the network for {bad}")
    ct.log(f"{label}: no console error, requests: {urls}")


def check_report_page(b, rep, data, folded_python):
    shown = b.eval("""(function () {
      const q = id => document.getElementById(id).textContent;
      const procs = Array.from(document.querySelectorAll('#proc-table tbody tr')).map(tr => {
        const o = {};
        tr.querySelectorAll('td[data-key]').forEach(td => { o[td.dataset.key] = td.textContent; });
        return o;
      });
      const causes = {};
      document.querySelectorAll('#causes .cause').forEach(c => {
        causes[c.id.slice(6)] = c.querySelector('[data-key=pages]').textContent;
      });
      return {processes: q('sum-processes'), cow: q('sum-cow-pages'), fresh: q('sum-fresh-pages'),
              tracked: q('sum-tracked-pages'), procs: procs, causes: causes,
              python_top: document.querySelector('#where-python tbody tr td[data-key=cow_pages]').textContent};
    })()""")
    T = rep["total"]
    ct.check(shown["processes"] == str(T["processes"]), f"processes shown {shown['processes']}, JSON {T['processes']}")
    for key, jkey in (("cow", "cow_pages"), ("fresh", "fresh_pages"), ("tracked", "tracked_pages")):
        ct.check(shown[key] == str(T[jkey]), f"total {jkey}: page {shown[key]}, JSON {T[jkey]}")
    ct.check(len(shown["procs"]) == len(rep["processes"]), "one table row per process")
    for row, p in zip(shown["procs"], rep["processes"]):
        for key in ("pid", "ppid", "cow_pages", "fresh_pages", "tracked_pages", "exit", "mode"):
            ct.check(row[key] == str(p[key]), f"pid {p['pid']}: {key} shown {row[key]!r}, JSON {p[key]!r}")
        mib = p["cow_pages"] * p["page_size"] / 1048576
        ct.check(row["cow_mib"] in (f"{mib:.1f}", "<0.1", "0.0"), f"pid {p['pid']}: cow MiB {row['cow_mib']} vs {mib}")
    for cause, pages in T["causes"].items():
        if pages:
            ct.check(shown["causes"].get(cause) == str(pages), f"cause {cause}: shown {shown['causes'].get(cause)}, JSON {pages}")
    ct.check(shown["python_top"] == str(T["python_locations"][0]["cow_pages"]), "top Python line's pages")
    ct.log(f"page figures equal the JSON report's: {T['processes']} processes, {T['cow_pages']} copied pages, "
           f"{len(T['causes'])} causes, {len(rep['processes'])} process rows")

    # the maps: with one page per cell, the cells are the pages themselves
    M = data["maps"]
    ct.check(M["pages_per_cell"] == 1, f"seed map at {M['pages_per_cell']} pages per cell")
    causes = data["causes"]
    for i, p in enumerate(rep["processes"]):
        chars = "".join(M["cells"][rg[0]] for rg in M["procs"][i])
        for k, c in enumerate(causes):
            n = chars.count(str(k))
            ct.check(n == p["causes"][c], f"pid {p['pid']}: map has {n} {c} pages, JSON {p['causes'][c]}")
        ct.check(chars.count("X") == p["fresh_pages"], f"pid {p['pid']}: fresh cells {chars.count('X')}")
    # the list workers (the most copied): their copied arenas keep shared pages between the copied ones
    top = max(range(len(rep["processes"])), key=lambda i: rep["processes"][i]["cow_pages"])
    p = rep["processes"][top]
    copied_regions = [(M["cells"][rg[0]], r) for rg, r in zip(M["procs"][top], p["regions"]) if r["cow_pages"]]
    refcount = sum(s.count("0") for s, _ in copied_regions)
    shared = sum(s.count(".") for s, _ in copied_regions)
    interleaved = sum(1 for s, _ in copied_regions if re.search(r"0\.+0", s))
    ct.log(f"pid {p['pid']}: in its {len(copied_regions)} regions with copies, {refcount} refcount-copied pages, "
           f"{shared} pages still shared, {interleaved} regions with shared pages between copied ones")
    ct.check(refcount >= 0.9 * p["cow_pages"], "the list worker's copies are mostly refcount")
    ct.check(shared > refcount and interleaved >= 5, "no shared pages between the copied ones")
    ct.check(b.eval("document.getElementById('map-canvas').width") > 0, "map not drawn")
    # hover the map: the tip names a region
    r = b.eval("""(function () { const c = document.getElementById('map-canvas'); c.scrollIntoView({block: 'center'});
      const r = c.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()""")
    b.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": r[0], "y": r[1]})
    tip = b.eval("(function () { const t = document.getElementById('map-tip'); return [t.style.display, t.textContent]; })()")
    ct.check(tip[0] == "block" and "pages shared at fork" in tip[1], f"map hover: {tip}")
    ct.log(f"map hover: {tip[1][:160]}")

    # sorting: copied pages, largest first
    b.eval("Array.from(document.querySelectorAll('#proc-table th')).find(t => t.textContent === 'copied pages').click()")
    first = b.eval("document.querySelector('#proc-table tbody tr td[data-key=cow_pages]').textContent")
    ct.check(first == str(max(p["cow_pages"] for p in rep["processes"])), f"sorted table starts with {first}")

    # the flame graph: click the frame of read_lists, a real mouse click
    target = b.eval("""(function () {
      const g = Array.from(document.querySelectorAll('#flame-svg g.fr'))
        .filter(g => /read_lists/.test(g.dataset.path.split(';').pop()))
        .sort((a, b) => b.dataset.pages - a.dataset.pages)[0];
      if (!g) return null;
      g.scrollIntoView({block: 'center'});
      const r = g.querySelector('rect').getBoundingClientRect();
      return {path: g.dataset.path, pages: Number(g.dataset.pages), x: r.x + Math.min(r.width / 2, 40), y: r.y + r.height / 2,
              width: r.width, svg: document.getElementById('flame-svg').getBoundingClientRect().width};
    })()""")
    ct.check(target, "no flame-graph frame of read_lists")
    ct.check(target["width"] < target["svg"] - 1, f"frame already full width before the click: {target}")
    b.click_at(target["x"], target["y"])
    zoomed = b.eval("""(function () {
      const svg = document.getElementById('flame-svg'), z = svg.querySelector('g.zoomed');
      return {zoom: svg.dataset.zoom, width: z ? z.querySelector('rect').getBoundingClientRect().width : 0,
              svg: svg.getBoundingClientRect().width, status: document.getElementById('flame-status').textContent};
    })()""")
    ct.check(zoomed["zoom"] == target["path"], f"zoomed to {zoomed['zoom']!r}, clicked {target['path']!r}")
    ct.check(zoomed["width"] >= zoomed["svg"] - 2, f"zoomed frame is {zoomed['width']} of {zoomed['svg']} px")
    ct.log(f"flame graph: clicked {target['path'].split(';')[-1]!r} ({target['pages']} pages, "
           f"{target['width']:.0f} px) -> {zoomed['status']!r}")
    # search: pages under the frames that match, as the folded lines say
    want = sum(n for line, n in folded_python if any("read_lists" in f.lower() for f in line.split(";")))
    b.eval("""(function () { const s = document.getElementById('flame-search'); s.value = 'read_lists';
      s.dispatchEvent(new Event('input')); })()""")
    status = b.eval("document.getElementById('flame-status').textContent")
    ct.check(f"search: {want} pages" in status, f"search status {status!r}, folded lines say {want} pages")
    # other frames and leaves redraw without error
    b.eval("""(function () { for (const [id, v] of [['flame-frames', 'both'], ['flame-leaf', 'type'], ['flame-frames', 'native']]) {
      const s = document.getElementById(id); s.value = v; s.dispatchEvent(new Event('change')); } })()""")
    ct.check(b.eval("document.querySelectorAll('#flame-svg g.fr').length") > 1, "native flame graph empty")


def check_diff_page(b, drep):
    shown = b.eval("""(function () {
      const out = {};
      document.querySelectorAll('#diff-total-table tr[data-row], #diff-cause-table tr[data-cause]').forEach(tr => {
        out[tr.dataset.row || 'cause:' + tr.dataset.cause] = [tr.querySelector('[data-key=a]').textContent,
                                                             tr.querySelector('[data-key=b]').textContent];
      });
      return out;
    })()""")
    for key in ("processes", "cow_pages", "fresh_pages", "tracked_pages"):
        ct.check(shown[key] == [str(drep["a"][key]), str(drep["b"][key])], f"diff {key}: shown {shown[key]}")
    for cause, v in drep["causes"].items():
        if v["a"] or v["b"]:
            ct.check(shown.get("cause:" + cause) == [str(v["a"]), str(v["b"])], f"diff cause {cause}: {shown.get('cause:' + cause)}")
    ct.log(f"diff page: copied pages {shown['cow_pages']}, causes shown {len([k for k in shown if k.startswith('cause:')])}")


def screenshots(b, outdir):
    os.makedirs(outdir, exist_ok=True)
    b.eval("window.scrollTo(0, 0)")
    # the top of the page (at a glance, processes, the main cause), then the map and the flame graph
    for name, first, last, most in (("html-report.png", "app", "causes", 1000), ("html-report-map.png", "maps", "flame", 1400)):
        box = b.eval(f"""(function () {{ const a = document.getElementById('{first}').getBoundingClientRect(),
          z = document.getElementById('{last}').getBoundingClientRect();
          return [Math.max(0, a.y + window.scrollY - 8), z.bottom + window.scrollY + 8]; }})()""")
        height = min(box[1] - box[0], most)
        b.screenshot(os.path.join(outdir, name), {"x": 0, "y": box[0], "width": 1280, "height": height})
        ct.log(f"screenshot {os.path.join(outdir, name)}")


def run():
    global args
    args = ct.parse_args(extra=lambda ap: ap.add_argument("--screenshot", metavar="DIR"), modes=("auto",))
    ct.require_build()
    chromium = cdp.find_chromium()
    if not chromium:
        raise ct.Skip("no chromium (Debian: apt-get install chromium; scripts/test installs it)")
    t = ct.tempdir("html")
    out = t.sub("seed")
    started = time.monotonic()
    r = ct.run_cmd([seed_python(), os.path.join(ct.TOP, "examples", "seed_lists.py")], "auto", out, timeout=300)
    ct.check(r.returncode == 0, f"seed_lists.py exited {r.returncode}: {r.stderr[-1500:]}")
    m = re.search(r"phase 1 workers \[([\d, ]+)\], phase 2 workers \[([\d, ]+)\]", r.stdout)
    ct.check(m, "seed_lists.py did not list its workers")
    ct.log(f"seed example traced in {time.monotonic() - started:.1f} s")

    rep = json.loads(cowtrace("report", "--format", "json", out))
    html_path = t.sub("seed.html")
    html = cowtrace("report", "--format", "html", out)
    with open(html_path, "wb") as f:
        f.write(html)
    ct.log(f"seed report: {len(html)} bytes (limit {SEED_LIMIT})")
    ct.check(len(html) < SEED_LIMIT, f"seed report is {len(html)} bytes")
    data = embedded(html)
    # the page's data is the JSON report (without its stack table: the flame graph holds the stacks)
    ct.check(data["report"] == page_report(json.loads(cowtrace("report", "--format", "json", "--no-stacks", out))),
             "the page's data is not the JSON report")
    folded = []
    for line in cowtrace("report", "--format", "folded", "--frames", "python", out).decode().splitlines():
        stack, n = line.rsplit(" ", 1)
        folded.append((stack, int(n)))

    # the diff: the list workers (A) against the shared-memory workers (B)
    sides = []
    for name, pids in (("lists", m.group(1)), ("shm", m.group(2))):
        d = t.sub(name)
        os.mkdir(d)
        for pid in pids.split(","):
            for fn in os.listdir(out):
                if fn.startswith(pid.strip() + "."):
                    shutil.copy(os.path.join(out, fn), d)
        sides.append(d)
    drep = json.loads(cowtrace("diff", "--format", "json", *sides))
    diff_path = t.sub("diff.html")
    with open(diff_path, "wb") as f:
        f.write(cowtrace("diff", "--format", "html", *sides))

    # 64 workers: the seed's traces, 16 copies each
    w64 = t.sub("w64")
    os.mkdir(w64)
    traces = sorted(fn for fn in os.listdir(out) if fn.endswith(".cowtrace"))
    for k in range(64):
        shutil.copy(os.path.join(out, traces[k % len(traces)]), os.path.join(w64, f"w{k}.cowtrace"))
    w64_path = t.sub("w64.html")
    html64 = cowtrace("report", "--format", "html", w64)
    with open(w64_path, "wb") as f:
        f.write(html64)
    ct.log(f"64-worker report: {len(html64)} bytes (limit {WORKERS64_LIMIT})")
    ct.check(len(html64) < WORKERS64_LIMIT, f"64-worker report is {len(html64)} bytes")
    ct.check(len(embedded(html64)["report"]["processes"]) == 64, "64 processes in the page")

    # edge cases: a run of no process; synthetic traces (no interpreter in one,
    # fresh pages, stacks in a module that is missing)
    empty = t.sub("empty")
    os.mkdir(empty)
    syn = t.sub("syn")
    os.mkdir(syn)
    mk = os.environ.get("CT_MKTRACE", os.path.join(ct.TOP, "build", "analyzer", "tests", "ct-mktrace"))
    subprocess.run([mk, os.path.join(syn, "5.cowtrace"), "--pid", "5", "--regions", "3", "--region-pages", "100",
                    "--present-every", "2", "--dirty", "40", "--fresh", "7"], check=True, capture_output=True)
    subprocess.run([mk, os.path.join(syn, "6.cowtrace"), "--pid", "6", "--mode", "uffd", "--python", "0x30b07f0",
                    "--events-with-evidence", "--dirty", "50", "--stacks", "4",
                    "--module", "/nonexistent/x.so,0x400000,0x400000,0x500000"], check=True, capture_output=True)
    edge = {}
    for name, d in (("empty", empty), ("synthetic", syn)):
        edge[name] = t.sub(name + ".html")
        with open(edge[name], "wb") as f:
            f.write(cowtrace("report", "--format", "html", d))
        edge[name + " diff"] = t.sub(name + "-diff.html")
        with open(edge[name + " diff"], "wb") as f:
            f.write(cowtrace("diff", "--format", "html", d, syn))

    b = cdp.Browser(chromium)
    try:
        for name, path in edge.items():
            open_page(b, path, name)
            clean(b, name)
        open_page(b, html_path, "seed report")
        clean(b, "seed report")
        if args.screenshot:
            screenshots(b, args.screenshot)
        check_report_page(b, rep, data, folded)
        clean(b, "seed report after clicks")
        open_page(b, diff_path, "diff")
        clean(b, "diff")
        check_diff_page(b, drep)
        open_page(b, w64_path, "64-worker report")
        clean(b, "64-worker report")
        n = b.eval("document.querySelectorAll('#proc-table tbody tr').length")
        ct.check(n == 64, f"64-worker table has {n} rows")
    finally:
        b.close()
    ct.log(f"whole test {time.monotonic() - started:.1f} s")


ct.main(run)
