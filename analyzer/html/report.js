/*
 * report.js - draws cowtrace's HTML report (`cowtrace report --format html`,
 * `cowtrace diff --format html`) from the JSON object in #ct-data: the data,
 * the run at a glance, the process table, the causes, where; and the start.
 * The map, the flame graph, the diff page and a watch directory's timeline
 * are in map.js, flame.js, diff.js and timeline.js; helpers in util.js.
 *
 * Promise: our own code, no library, nothing fetched. Every figure shown is
 * read from the JSON report embedded in the data ("report"), never
 * recomputed from something else; MiB are pages x page size / 2^20, summed
 * in process order like the text report. Text from the traces goes into the
 * page only as text (textContent, SVG <title>), never as markup. When the
 * page is drawn, document.body.dataset.ready is "1" and window.cowtraceReady
 * holds how long drawing took (performance.now()).
 */
const times = { start: Math.round(performance.now()) }, tParse = performance.now();
const D = JSON.parse(document.getElementById("ct-data").textContent);
times.parse = Math.round(performance.now() - tParse);
const R = D.report;
const app = document.getElementById("app");
const causeIndex = {};
D.causes.forEach(function (c, i) { causeIndex[c] = i; });

/* ---- the run at a glance ---- */
function pageSizeOf(p) { return p.page_size || 4096; }

function glance() {
  const T = R.total, procs = R.processes;
  let cowMib = 0, freshMib = 0, trackedMib = 0;
  procs.forEach(function (p) {
    cowMib += mibOf(p.cow_pages, pageSizeOf(p));
    freshMib += mibOf(p.fresh_pages, pageSizeOf(p));
    trackedMib += mibOf(p.tracked_pages, pageSizeOf(p));
  });
  const interp = {}, modes = {};
  procs.forEach(function (p) {
    modes[p.mode] = (modes[p.mode] || 0) + 1;
    const k = p.python ? "Python " + String(p.python.version).split(" ")[0] + " (" + p.python.build + ", layout " +
      (p.python.layout === null ? "unknown" : p.python.layout) + ")" + (p.python.gc_frozen ? ", gc.freeze()" : "")
      : "no Python interpreter found";
    interp[k] = (interp[k] || 0) + 1;
  });
  function group(o) {
    return Object.keys(o).map(function (k) { return k + (procs.length > 1 ? " \u00d7" + o[k] : ""); }).join("; ");
  }
  function card(id, label, value, sub) {
    return el("div", { cls: "card" }, el("div", { cls: "label", text: label }),
      el("div", { cls: "value", id: id, text: String(value) }), el("div", { cls: "sub", text: sub || "" }));
  }
  const s = section("glance", "The run at a glance");
  s.appendChild(el("div", { cls: "cards" },
    card("sum-processes", "processes", T.processes, R.errors.length ? R.errors.length + " unreadable trace(s)" : "traced"),
    card("sum-cow-pages", "copied pages (cow)", T.cow_pages, fmtMib(cowMib) + " MiB"),
    card("sum-cow-share", "of inherited memory copied", pct(T.cow_pages, T.tracked_pages), "all processes"),
    card("sum-fresh-pages", "fresh pages", T.fresh_pages, fmtMib(freshMib) + " MiB, never shared"),
    card("sum-tracked-pages", "inherited pages (tracked)", T.tracked_pages, fmtMib(trackedMib) + " MiB")));
  s.appendChild(el("p", null, el("b", { text: "interpreter: " }), group(interp)));
  s.appendChild(el("p", null, el("b", { text: "mode: " }), group(modes)));
  const warn = el("ul", { cls: "warnings" });
  R.errors.forEach(function (e) { warn.appendChild(el("li", { text: e.file + ": " + e.message })); });
  const seen = {};
  procs.forEach(function (p) {
    p.warnings.concat(p.cause_notes).forEach(function (w) {
      if (seen[w]) { seen[w].push(p.pid); return; }
      seen[w] = [p.pid];
    });
  });
  Object.keys(seen).forEach(function (w) {
    warn.appendChild(el("li", { text: w + " (pid " + seen[w].slice(0, 8).join(", ") + (seen[w].length > 8 ? ", ..." : "") + ")" }));
  });
  if (warn.children.length) s.appendChild(warn);
}

function mainCause(p) {
  let best = -1, bestPages = 0;
  D.causes.forEach(function (c, i) { if (p.causes[c] > bestPages) { best = i; bestPages = p.causes[c]; } });
  return best < 0 ? "-" : D.causes[best] + " " + pct(bestPages, p.cow_pages);
}

let selectProcess = null;

function processTable() {
  const s = section("processes", "Processes", "Click a column to sort, a row to draw its address space below.");
  const cols = [
    { title: "PID", key: "pid", num: true, get: function (p) { return p.pid; } },
    { title: "PPID", key: "ppid", num: true, get: function (p) { return p.ppid; } },
    { title: "mode", key: "mode", get: function (p) { return p.mode; } },
    { title: "exit", key: "exit", get: function (p) { return p.exit; } },
    { title: "copied pages", key: "cow_pages", num: true, get: function (p) { return p.cow_pages; } },
    { title: "copied MiB", key: "cow_mib", num: true, get: function (p) { return fmtMib(mibOf(p.cow_pages, pageSizeOf(p))); },
      sort: function (p) { return p.cow_pages * pageSizeOf(p); } },
    { title: "copied %", key: "cow_share", num: true, get: function (p) { return pct(p.cow_pages, p.tracked_pages); },
      sort: function (p) { return p.tracked_pages ? p.cow_pages / p.tracked_pages : 0; } },
    { title: "fresh pages", key: "fresh_pages", num: true, get: function (p) { return p.fresh_pages; } },
    { title: "inherited pages", key: "tracked_pages", num: true, get: function (p) { return p.tracked_pages; } },
    { title: "main cause", key: "main_cause", get: mainCause },
  ];
  s.appendChild(el("div", { cls: "scroll" }, sortableTable("proc-table", cols, R.processes.map(function (p, i) {
    return Object.assign({ index: i }, p);
  }), function (tr, p) {
    tr.dataset.pid = p.pid;
    tr.dataset.index = p.index;
    tr.addEventListener("click", function () { if (selectProcess) selectProcess(p.index); });
  })));
}

/* ---- causes and types ---- */
function topTypes(types, cause, n) {
  return types.filter(function (t) { return t.cause === cause && t.name !== null; }).slice(0, n);
}

function causes() {
  const T = R.total, ps = R.processes.length ? pageSizeOf(R.processes[0]) : 4096;
  const s = section("causes", "Why pages were copied",
    "Every copied page has one cause; the advice is shown for the causes that matter (5% of the copies or 1 MiB).");
  const list = el("div", { cls: "causes" });
  D.causes.forEach(function (c, i) {
    const pages = T.causes[c];
    if (!pages) return;
    const tops = topTypes(T.types, c, 3).map(function (t) { return t.name + " " + fmtMib(mibOf(t.cow_pages, ps)); });
    const row = el("div", { cls: "cause", id: "cause-" + c },
      el("div", { cls: "cause-head" }, swatch(CAUSE_COLORS[i]), el("b", { text: c }),
        el("span", { cls: "num", "data-key": "pages", text: String(pages) }), " pages, ",
        el("span", { text: fmtMib(mibOf(pages, ps)) + " MiB, " + pct(pages, T.cow_pages) })),
      bar(pages / T.cow_pages, CAUSE_COLORS[i]),
      tops.length ? el("div", { cls: "sub", text: "top types: " + tops.join(", ") + " (MiB)" }) : null);
    if (D.matters[i]) row.appendChild(el("p", { cls: "advice", text: D.advice[i] }));
    else row.appendChild(el("details", null, el("summary", { text: "what to do" }), el("p", { cls: "advice", text: D.advice[i] })));
    list.appendChild(row);
  });
  if (!T.cow_pages) list.appendChild(el("p", { text: "No page was copied." }));
  s.appendChild(list);
  const types = T.types.slice(0, 25);
  if (types.length) {
    s.appendChild(el("h3", { text: "Copied pages by type (top " + types.length + " of " + T.types.length + ")" }));
    const max = types[0].cow_pages;
    const tl = el("table", { id: "type-table" });
    types.forEach(function (t) {
      const ci = causeIndex[t.cause];
      tl.appendChild(el("tr", null, el("td", { text: typeName(t.name) }), el("td", null, swatch(CAUSE_COLORS[ci]), t.cause),
        cell(t.cow_pages, "cow_pages", true), cell(fmtMib(mibOf(t.cow_pages, ps)), "", true),
        el("td", { cls: "barcell" }, bar(t.cow_pages / max, CAUSE_COLORS[ci]))));
    });
    s.appendChild(tl);
  }
}

/* ---- where ---- */
function where() {
  const T = R.total;
  const s = section("where", "Where pages were copied",
    "The innermost frame of each copied page's first write: Python lines and native functions, over all processes.");
  if (!T.python_locations) {
    s.appendChild(el("p", { text: "No stacks in this report." }));
    return;
  }
  const ps = R.processes.length ? pageSizeOf(R.processes[0]) : 4096;
  function main(l) { return l.cause + (l.type === null ? "" : " " + l.type); }
  s.appendChild(el("h3", { text: "Python lines" }));
  s.appendChild(longTable("where-python", [["line"], ["pages", 1], ["MiB", 1], ["main cause"]],
    T.python_locations.map(function (l) {
      return function () {
        const name = (l.file === null ? "?" : l.file) + ":" + (l.line === null ? "?" : l.line) + " in " + (l.function === null ? "?" : l.function);
        return el("tr", null, el("td", { cls: "loc", text: name, title: name }), cell(l.cow_pages, "cow_pages", true),
          cell(fmtMib(mibOf(l.cow_pages, ps)), "", true), el("td", { text: main(l) }));
      };
    }), 20));
  s.appendChild(el("p", { cls: "sub", text: T.python_unlocated.no_frame + " pages written with no Python frame, " +
    T.python_unlocated.no_stack + " with no stack" }));
  s.appendChild(el("h3", { text: "Native functions" }));
  s.appendChild(longTable("where-native", [["function"], ["pages", 1], ["MiB", 1], ["main cause"]],
    T.native_functions.map(function (l) {
      return function () {
        const name = (l.function === null ? (l.module || "?") + "+" + (l.offset || "?") : l.function) + (l.module ? " (" + l.module + ")" : "");
        return el("tr", null, el("td", { cls: "loc", text: name, title: name }), cell(l.cow_pages, "cow_pages", true),
          cell(fmtMib(mibOf(l.cow_pages, ps)), "", true), el("td", { text: main(l) }));
      };
    }), 20));
  s.appendChild(el("p", { cls: "sub", text: T.native_unlocated.no_frame + " pages written with no native frame, " +
    T.native_unlocated.no_stack + " with no stack" }));
}

function report() {
  document.title = "cowtrace report: " + R.source;
  app.appendChild(el("h1", { text: "cowtrace report" }));
  app.appendChild(el("p", { cls: "sub", text: R.source + " (cowtrace " + D.cowtrace + ")" }));
  const nav = el("nav");
  // a watch directory without traces: its timeline is the whole report
  const timelineOnly = D.timeline && !R.processes.length;
  const parts = timelineOnly ? [["timeline", "timeline", timeline]] :
    [["glance", "at a glance", glance], ["processes", "processes", processTable], ["causes", "causes", causes],
      ["maps", "address space", maps], ["flame", "stacks", flame], ["where", "where", where]]
      .concat(D.timeline ? [["timeline", "timeline", timeline]] : []);
  parts.forEach(function (n) {
    nav.appendChild(el("a", { href: "#" + n[0], text: n[1] }));
  });
  app.appendChild(nav);
  parts.map(function (n) { return n[2]; }).forEach(function (fn) {
    const t0 = performance.now();
    fn();
    times[fn.name] = Math.round(performance.now() - t0);
  });
}

app.textContent = "";
if (D.kind === "diff") diff(); else report();
window.cowtraceReady = { ms: performance.now(), sections: times };
document.body.dataset.ready = "1";
