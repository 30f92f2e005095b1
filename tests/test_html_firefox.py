#!/usr/bin/env python3
"""The HTML report in Firefox: examples/seed_lists.py traced, then
`cowtrace report --format html` and `cowtrace diff --format html` opened
from disk (file://) in headless Firefox (Debian's firefox-esr;
tests/lib/marionette.py, networking off). tests/test_html.py does the same
in Chromium, with the size and time limits; this one asks whether the page
works in the other engine.

The seed example runs at --objects 30000 (a fifth of its default) to keep
the test short. Checks: the page's script ran to its end (body data-ready) and left no
error in Firefox's console (script errors, CSP violations) and no warning
banner; no HTTP(S) request was opened by the page and the page's
performance entries list no resource; its CSP says default-src 'none';
the totals, per-process and per-cause figures shown equal the JSON
report's; clicking a flame-graph frame zooms to it; the diff page shows
both runs' totals. Skips (77) without firefox-esr, except under CI=true,
where its absence is a failure."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402
import marionette  # noqa: E402


# the seed example at a fifth of its size: the same page (list workers copy,
# shared-memory workers do not) in a fifth of the time; tests/test_html.py
# runs the full size
SEED_OBJECTS = 30000


def cowtrace(*a):
    r = subprocess.run([ct.cowtrace_bin()] + list(a), capture_output=True, timeout=300)
    ct.check(r.returncode == 0, f"cowtrace {' '.join(a)} exited {r.returncode}: {r.stderr.decode()[-1500:]}")
    return r.stdout


def seed_python():
    # Debian's python3.11 has bitarray and NumPy (the example's full form)
    if subprocess.run(["/usr/bin/python3.11", "-c", "import bitarray"], capture_output=True).returncode == 0:
        return "/usr/bin/python3.11"
    return ct.python()


def page_errors(b, url):
    """Errors in Firefox's console that came from the page: its script
    errors and CSP violations (Firefox's own chrome errors are not ours)."""
    return [text for is_error, text in b.console()
            if is_error and (url in text or text.startswith(("content javascript", "CSP")))]


def open_page(b, path, label):
    url = "file://" + path
    t0 = time.monotonic()
    b.navigate(url)
    while b.eval("return document.body && document.body.dataset.ready || ''") != "1":
        if time.monotonic() - t0 > 20:
            raise ct.Fail(f"{label}: not drawn after 20 s; console: {page_errors(b, url)}")
        time.sleep(0.05)
    ct.log(f"{label}: drawn {time.monotonic() - t0:.2f} s after navigation")
    return url


def clean(b, url, label):
    errors = page_errors(b, url)
    ct.check(not errors, f"{label}: errors in Firefox's console: {errors}")
    banner = b.eval("return Array.from(document.querySelectorAll('.warnings li')).map(li => li.textContent)")
    ct.check(not banner, f"{label}: the page shows warnings: {banner}")
    resources = b.eval("return performance.getEntriesByType('resource').map(e => e.name)")
    ct.check(not resources, f"{label}: the page loaded resources: {resources}")
    requests = b.requests()
    ct.check(not requests, f"{label}: the page opened HTTP(S) requests: {requests}")
    csp = b.eval("""const m = document.querySelector('meta[http-equiv="Content-Security-Policy"]');
      return m ? m.content : null;""")
    ct.check(csp and "default-src 'none'" in csp, f"{label}: CSP {csp!r}")
    ct.log(f"{label}: no console error, no warning, no request, CSP {csp!r}")


def check_report_page(b, rep):
    shown = b.eval("""const q = id => document.getElementById(id).textContent;
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
              map: document.getElementById('map-canvas').width};""")
    T = rep["total"]
    ct.check(shown["processes"] == str(T["processes"]), f"processes shown {shown['processes']}, JSON {T['processes']}")
    for key, jkey in (("cow", "cow_pages"), ("fresh", "fresh_pages"), ("tracked", "tracked_pages")):
        ct.check(shown[key] == str(T[jkey]), f"total {jkey}: page {shown[key]}, JSON {T[jkey]}")
    ct.check(len(shown["procs"]) == len(rep["processes"]), "one table row per process")
    for row, p in zip(shown["procs"], rep["processes"]):
        for key in ("pid", "ppid", "cow_pages", "fresh_pages", "tracked_pages", "exit", "mode"):
            ct.check(row.get(key) == str(p[key]), f"pid {p['pid']}: {key} shown {row.get(key)!r}, JSON {p[key]!r}")
    for cause, pages in T["causes"].items():
        if pages:
            ct.check(shown["causes"].get(cause) == str(pages), f"cause {cause}: shown {shown['causes'].get(cause)}, JSON {pages}")
    ct.check(shown["map"] > 0, "address-space map not drawn")
    ct.log(f"page figures equal the JSON report's: {T['processes']} processes, {T['cow_pages']} copied pages, "
           f"{sum(1 for v in T['causes'].values() if v)} causes")

    # the flame graph: click the widest frame of read_lists (a DOM click on its rectangle)
    target = b.eval("""const g = Array.from(document.querySelectorAll('#flame-svg g.fr'))
        .filter(g => /read_lists/.test(g.dataset.path.split(';').pop()))
        .sort((a, b) => b.dataset.pages - a.dataset.pages)[0];
      if (!g) return null;
      g.scrollIntoView({block: 'center'});
      const r = g.querySelector('rect').getBoundingClientRect();
      return {path: g.dataset.path, pages: Number(g.dataset.pages), width: r.width,
              svg: document.getElementById('flame-svg').getBoundingClientRect().width};""")
    ct.check(target, "no flame-graph frame of read_lists")
    ct.check(target["width"] < target["svg"] - 1, f"frame already full width before the click: {target}")
    b.eval("""const g = Array.from(document.querySelectorAll('#flame-svg g.fr')).find(g => g.dataset.path === arguments[0]);
      g.querySelector('rect').dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true, view: window}));""",
           target["path"])
    zoomed = b.eval("""const svg = document.getElementById('flame-svg'), z = svg.querySelector('g.zoomed');
      return {zoom: svg.dataset.zoom, width: z ? z.querySelector('rect').getBoundingClientRect().width : 0,
              svg: svg.getBoundingClientRect().width, status: document.getElementById('flame-status').textContent};""")
    ct.check(zoomed["zoom"] == target["path"], f"zoomed to {zoomed['zoom']!r}, clicked {target['path']!r}")
    ct.check(zoomed["width"] >= zoomed["svg"] - 2, f"zoomed frame is {zoomed['width']} of {zoomed['svg']} px")
    ct.log(f"flame graph: clicked {target['path'].split(';')[-1]!r} ({target['pages']} pages, "
           f"{target['width']:.0f} px) -> {zoomed['status']!r}")


def check_diff_page(b, drep):
    shown = b.eval("""const out = {};
      document.querySelectorAll('#diff-total-table tr[data-row], #diff-cause-table tr[data-cause]').forEach(tr => {
        out[tr.dataset.row || 'cause:' + tr.dataset.cause] = [tr.querySelector('[data-key=a]').textContent,
                                                             tr.querySelector('[data-key=b]').textContent];
      });
      return out;""")
    for key in ("processes", "cow_pages", "fresh_pages", "tracked_pages"):
        ct.check(shown.get(key) == [str(drep["a"][key]), str(drep["b"][key])], f"diff {key}: shown {shown.get(key)}")
    for cause, v in drep["causes"].items():
        if v["a"] or v["b"]:
            ct.check(shown.get("cause:" + cause) == [str(v["a"]), str(v["b"])], f"diff cause {cause}: {shown.get('cause:' + cause)}")
    ct.log(f"diff page: copied pages {shown['cow_pages']}")


def run():
    ct.parse_args(modes=("auto",))
    # meson's timeout sends SIGTERM: unwind, so Firefox is killed and its profile removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("SIGTERM"))
    ct.require_build()
    firefox = marionette.find_firefox()
    if not firefox:
        if os.environ.get("CI") == "true":
            raise ct.Fail("no firefox-esr under CI (scripts/test installs it)")
        raise ct.Skip("no firefox-esr (Debian: apt-get install firefox-esr; scripts/test installs it)")
    started = time.monotonic()
    t = ct.tempdir("html-firefox")
    out = t.sub("seed")
    # Firefox takes seconds to start: it starts while the seed example runs
    traced = {}

    def trace_seed():
        try:
            traced["r"] = ct.run_cmd([seed_python(), os.path.join(ct.TOP, "examples", "seed_lists.py"),
                                      "--objects", str(SEED_OBJECTS)],
                                     "auto", out, timeout=300)
        except BaseException as e:
            traced["error"] = e
    # a daemon: a failed start or SIGTERM does not wait for the example
    worker = threading.Thread(target=trace_seed, daemon=True)
    worker.start()
    with marionette.Browser(firefox) as b:
        worker.join()
        ct.log(f"Firefox {b.version} started (profile {b.profile})")
        if "error" in traced:
            raise traced["error"]
        r = traced["r"]
        ct.check(r.returncode == 0, f"seed_lists.py exited {r.returncode}: {r.stderr[-1500:]}")
        m = re.search(r"phase 1 workers \[([\d, ]+)\], phase 2 workers \[([\d, ]+)\]", r.stdout)
        ct.check(m, "seed_lists.py did not list its workers")
        ct.log(f"seed example traced in {time.monotonic() - started:.1f} s")
        check_in_firefox(b, t, out, m)
    ct.log(f"whole test {time.monotonic() - started:.1f} s")


def check_in_firefox(b, t, out, m):
    rep = json.loads(cowtrace("report", "--format", "json", out))
    html_path = t.sub("seed.html")
    with open(html_path, "wb") as f:
        f.write(cowtrace("report", "--format", "html", out))
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

    b.watch_requests()
    url = open_page(b, html_path, "seed report")
    clean(b, url, "seed report")
    check_report_page(b, rep)
    clean(b, url, "seed report after the click")
    url = open_page(b, diff_path, "diff")
    clean(b, url, "diff")
    check_diff_page(b, drep)


ct.main(run)
