/*
 * report.js - draws cowtrace's HTML report (`cowtrace report --format html`,
 * `cowtrace diff --format html`) from the JSON object in #ct-data.
 *
 * Promise: our own code, no library, nothing fetched. Every figure shown is
 * read from the JSON report embedded in the data ("report"), never
 * recomputed from something else; MiB are pages x page size / 2^20, summed
 * in process order like the text report. Text from the traces goes into the
 * page only as text (textContent, SVG <title>), never as markup. When the
 * page is drawn, document.body.dataset.ready is "1" and window.cowtraceReady
 * holds how long drawing took (performance.now()).
 */
"use strict";
(function () {
  const times = { start: Math.round(performance.now()) }, tParse = performance.now();
  const D = JSON.parse(document.getElementById("ct-data").textContent);
  times.parse = Math.round(performance.now() - tParse);
  const R = D.report;
  const app = document.getElementById("app");
  const CAUSE_COLORS = ["#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#1f77b4", "#7f7f7f", "#bcbd22"];
  const SHARED_COLOR = "#9fd49f", FRESH_COLOR = "#17becf", HOLE_COLOR = "#f3f3f3", UNTRACKED_COLOR = "#d9d9d9";
  const causeIndex = {};
  D.causes.forEach(function (c, i) { causeIndex[c] = i; });

  /* ---- small helpers ---- */
  function el(tag, attrs) {
    const e = document.createElement(tag);
    if (attrs)
      for (const k in attrs) {
        if (k === "text") e.textContent = attrs[k];
        else if (k === "cls") e.className = attrs[k];
        else if (k.startsWith("on")) e.addEventListener(k.slice(2), attrs[k]);
        else e.setAttribute(k, attrs[k]);
      }
    for (let i = 2; i < arguments.length; i++) {
      const c = arguments[i];
      if (c === null || c === undefined) continue;
      e.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
    return e;
  }
  function svgEl(tag, attrs) {
    const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function mibOf(pages, pageSize) { return pages * pageSize / 1048576; }
  function fmtMib(v) {
    if (v === 0) return "0.0";
    if (v < 0.1) return "<0.1";
    return v.toFixed(1);
  }
  /* The width of a section's content, from the window's (reading an
   * element's width would force the browser to lay out the whole page
   * while it is being built). Matches report.css: #app at most 1240 px
   * wide with 20 px padding, sections with 16 px padding and a border. */
  function contentWidth() {
    return Math.max(300, Math.min(1240, window.innerWidth || 1000) - 2 * 20 - 2 * 17);
  }
  function pct(a, b) { return b ? (100 * a / b).toFixed(1) + "%" : "-"; }
  function ratio(a, b) { return a ? (b / a).toFixed(2) : "-"; }
  function signed(n) { return (n > 0 ? "+" : "") + n; }
  function typeName(n) { return n === null ? "(no type)" : n; }
  function section(id, title, note) {
    const s = el("section", { id: id }, el("h2", { text: title }));
    if (note) s.appendChild(el("p", { cls: "note", text: note }));
    app.appendChild(s);
    return s;
  }
  function swatch(color) { return el("span", { cls: "swatch", style: "background:" + color }); }
  function bar(frac, color) {
    return el("span", { cls: "bar" },
      el("span", { cls: "fill", style: "width:" + Math.max(0, Math.min(100, 100 * frac)).toFixed(2) + "%;background:" + color }));
  }
  function cell(text, key, num) {
    const td = el("td", { text: String(text) });
    if (key) td.dataset.key = key;
    if (num) td.className = "num";
    return td;
  }

  /* A table whose columns sort on a click on their header. cols: {title,
   * key, num, get(row) -> shown value, sort(row) -> sort value}. */
  function sortableTable(id, cols, rows, onRow) {
    const table = el("table", { id: id, cls: "sortable" });
    const head = el("tr");
    const body = el("tbody");
    let sortCol = -1, desc = true;
    function fill() {
      body.textContent = "";
      const v = rows.slice();
      if (sortCol >= 0) {
        const c = cols[sortCol];
        v.sort(function (a, b) {
          const x = c.sort ? c.sort(a) : c.get(a), y = c.sort ? c.sort(b) : c.get(b);
          const r = x < y ? -1 : x > y ? 1 : 0;
          return desc ? -r : r;
        });
      }
      v.forEach(function (row) {
        const tr = el("tr");
        cols.forEach(function (c) { tr.appendChild(cell(c.get(row), c.key, c.num)); });
        if (onRow) onRow(tr, row);
        body.appendChild(tr);
      });
    }
    cols.forEach(function (c, i) {
      const th = el("th", { text: c.title, title: "sort by " + c.title });
      if (c.num) th.className = "num";
      th.addEventListener("click", function () {
        desc = sortCol === i ? !desc : !!c.num;
        sortCol = i;
        head.querySelectorAll("th").forEach(function (h) { h.removeAttribute("data-sorted"); });
        th.dataset.sorted = desc ? "desc" : "asc";
        fill();
      });
      head.appendChild(th);
    });
    table.appendChild(el("thead", null, head));
    table.appendChild(body);
    fill();
    return table;
  }

  /* A plain table of at most `limit` rows, with a button for the rest. */
  function longTable(id, header, rows, limit) {
    const table = el("table", { id: id });
    const tr = el("tr");
    header.forEach(function (h) { tr.appendChild(el("th", { text: h[0], cls: h[1] ? "num" : "" })); });
    table.appendChild(el("thead", null, tr));
    const body = el("tbody");
    table.appendChild(body);
    function fill(n) {
      body.textContent = "";
      rows.slice(0, n).forEach(function (r) { body.appendChild(r()); });
    }
    fill(limit);
    const wrap = el("div", null, table);
    if (rows.length > limit) {
      const b = el("button", { text: "show all " + rows.length });
      b.addEventListener("click", function () { fill(rows.length); b.remove(); });
      wrap.appendChild(b);
    }
    return wrap;
  }

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

  /* ---- address-space maps ---- */
  const CELL_STATE = {};
  (function () {
    CELL_STATE[" "] = { color: HOLE_COLOR, what: "not shared at fork (no page, or untracked)" };
    CELL_STATE["."] = { color: SHARED_COLOR, what: "inherited and still shared" };
    CELL_STATE.X = { color: FRESH_COLOR, what: "fresh (new pages, never shared)" };
    CELL_STATE.x = { color: FRESH_COLOR, what: "partly fresh", light: true };
    D.causes.forEach(function (c, i) {
      CELL_STATE[String(i)] = { color: CAUSE_COLORS[i], what: "copied, mostly " + c };
      CELL_STATE[String.fromCharCode(97 + i)] = { color: CAUSE_COLORS[i], what: "partly copied, mostly " + c, light: true };
    });
  })();

  /* A colour as the 32-bit little-endian RGBA pixel of an ImageData. */
  function rgbaInt(css) {
    let r, g, b;
    if (css[0] === "#") {
      const n = parseInt(css.slice(1), 16);
      r = (n >> 16) & 255; g = (n >> 8) & 255; b = n & 255;
    } else {
      const m = css.match(/\d+/g).map(Number);
      r = m[0]; g = m[1]; b = m[2];
    }
    return ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
  }

  function lighten(hex) {
    const n = parseInt(hex.slice(1), 16);
    const r = (n >> 16) & 255, g = (n >> 8) & 255, b = n & 255;
    function m(v) { return Math.round(v + (255 - v) * 0.55); }
    return "rgb(" + m(r) + "," + m(g) + "," + m(b) + ")";
  }

  function maps() {
    const M = D.maps;
    const s = section("maps", "Address space",
      "Each process's inherited regions in address order, to scale (one cell = " + (M ? M.pages_per_cell : 1) +
      " page" + (M && M.pages_per_cell > 1 ? "s" : "") + "), regions separated by a gap: green pages stayed shared, " +
      "coloured ones were copied (by cause), cyan ones are fresh. Hover for the region, its causes and types.");
    if (!M || !R.processes.length) {
      s.appendChild(el("p", { text: "No page sets in this report." }));
      return;
    }
    const legend = el("div", { cls: "legend" });
    legend.appendChild(el("span", null, swatch(SHARED_COLOR), "shared"));
    D.causes.forEach(function (c, i) { legend.appendChild(el("span", null, swatch(CAUSE_COLORS[i]), "copied: " + c)); });
    legend.appendChild(el("span", null, swatch(FRESH_COLOR), "fresh"));
    legend.appendChild(el("span", null, swatch(HOLE_COLOR), "not shared at fork"));
    legend.appendChild(el("span", null, swatch(UNTRACKED_COLOR), "untracked region"));
    const chooser = el("select", { id: "map-proc" });
    R.processes.forEach(function (p, i) {
      chooser.appendChild(el("option", { value: String(i), text: "pid " + p.pid + " (" + p.cow_pages + " copied pages)" }));
    });
    const info = el("p", { id: "map-info" });
    const canvas = el("canvas", { id: "map-canvas" });
    const tip = el("div", { cls: "tip", id: "map-tip" });
    const top = el("div", { id: "map-regions" });
    s.appendChild(el("div", { cls: "controls" }, el("label", null, "process ", chooser)));
    s.appendChild(legend);
    s.appendChild(info);
    s.appendChild(el("div", { cls: "mapwrap" }, canvas, tip));
    s.appendChild(top);
    let layout = null;

    function draw(index) {
      const p = R.processes[index], regs = M.procs[index], ps = pageSizeOf(p);
      chooser.value = String(index);
      s.dataset.pid = p.pid;
      let total = 0;
      const starts = [];
      regs.forEach(function (rg) { starts.push(total); total += M.cells[rg[0]].length + 1; });
      const width = contentWidth();
      let px = Math.floor(Math.sqrt(width * 600 / Math.max(1, total)));
      px = Math.max(1, Math.min(10, px));
      const cols = Math.floor(width / px), rows = Math.ceil(total / cols);
      const ratioPx = window.devicePixelRatio || 1;
      canvas.width = Math.round(cols * px * ratioPx);
      canvas.height = Math.round(rows * px * ratioPx);
      canvas.style.width = cols * px + "px";
      canvas.style.height = rows * px + "px";
      /* one pixel per cell into an image, then scaled up without smoothing:
       * much faster than a rectangle per run of cells */
      const img = new ImageData(cols, rows), pix = new Uint32Array(img.data.buffer);
      pix.fill(0xffffffff);
      const colorCache = {};
      function colorOf(ch, tracked) {
        const key = ch + (tracked ? "t" : "u");
        if (colorCache[key] === undefined) {
          let css = ch === " " ? (tracked ? HOLE_COLOR : UNTRACKED_COLOR) : (CELL_STATE[ch] || CELL_STATE[" "]).color;
          if (ch !== " " && (CELL_STATE[ch] || {}).light) css = lighten(css);
          colorCache[key] = rgbaInt(css);
        }
        return colorCache[key];
      }
      regs.forEach(function (rg, ri) {
        const str = M.cells[rg[0]], tracked = p.regions[ri].tracked, base = starts[ri];
        for (let i = 0; i < str.length; i++) pix[base + i] = colorOf(str[i], tracked);
      });
      const off = document.createElement("canvas");
      off.width = cols;
      off.height = rows;
      off.getContext("2d").putImageData(img, 0, 0);
      const g = canvas.getContext("2d");
      g.imageSmoothingEnabled = false;
      g.drawImage(off, 0, 0, canvas.width, canvas.height);
      /* names on the regions large enough to carry one (two rows or more) */
      g.setTransform(ratioPx, 0, 0, ratioPx, 0, 0);
      g.font = "11px system-ui, sans-serif";
      g.textBaseline = "top";
      regs.forEach(function (rg, ri) {
        if (M.cells[rg[0]].length < 2 * cols || rows * px < 40) return;
        const r = p.regions[ri], pos = starts[ri];
        const text = (r.name || "[anon]").split("/").pop() + " " + fmtMib(mibOf(r.present_pages, ps)) + " MiB, " +
          pct(r.cow_pages, r.present_pages) + " copied";
        const w = g.measureText(text).width + 6;
        let x = (pos % cols) * px + 2, y = Math.floor(pos / cols) * px + 2;
        if (x + w > cols * px) { x = 2; y += px; }     /* no room left on its first row */
        g.fillStyle = "rgba(255,255,255,0.85)";
        g.fillRect(x, y, w, 14);
        g.fillStyle = "#222";
        g.fillText(text, x + 3, y + 1);
      });
      layout = { index: index, starts: starts, cols: cols, px: px, total: total };
      info.textContent = "pid " + p.pid + ": " + p.tracked_pages + " inherited pages (" + fmtMib(mibOf(p.tracked_pages, ps)) +
        " MiB), " + p.cow_pages + " copied (" + pct(p.cow_pages, p.tracked_pages) + "), " + p.fresh_pages + " fresh, in " +
        p.regions.length + " regions." + copiedRegionsNote(p, regs);
      /* the regions that copied most */
      top.textContent = "";
      const order = regs.map(function (rg, ri) { return ri; }).filter(function (ri) { return p.regions[ri].cow_pages > 0; })
        .sort(function (a, b) { return p.regions[b].cow_pages - p.regions[a].cow_pages; }).slice(0, 8);
      if (order.length) {
        top.appendChild(el("h3", { text: "Regions that copied most" }));
        top.appendChild(longTable("map-region-table", [["region"], ["pages", 1], ["copied", 1], ["copied %", 1], ["main types"]],
          order.map(function (ri) {
            return function () {
              const r = p.regions[ri], rg = regs[ri];
              return el("tr", null, el("td", { text: regionLabel(r) }), cell(r.present_pages, "", true), cell(r.cow_pages, "", true),
                cell(pct(r.cow_pages, r.present_pages), "", true),
                el("td", { text: rg[3].slice(0, 3).map(function (t) { return typeName(t[0]) + " (" + D.causes[t[1]] + ")"; }).join(", ") }));
            };
          }), 8));
      }
    }

    /* What the picture shows at a glance, in words: in the regions where
     * pages were copied, how many of their pages stayed shared. */
    function copiedRegionsNote(p, regs) {
      let n = 0, copied = 0, shared = 0;
      regs.forEach(function (rg, ri) {
        const r = p.regions[ri];
        if (!r.cow_pages) return;
        n++;
        copied += r.cow_pages;
        shared += Math.max(0, r.present_pages - r.cow_pages);
      });
      return n ? " In the " + n + " regions where pages were copied, " + shared + " inherited pages stayed shared beside the " +
        copied + " copied ones." : "";
    }

    function regionLabel(r) {
      return (r.name || "[anon]") + " " + r.start + "-" + r.end + " " + r.prot;
    }

    canvas.addEventListener("mousemove", function (ev) {
      if (!layout) return;
      const rect = canvas.getBoundingClientRect();
      const col = Math.floor((ev.clientX - rect.left) / layout.px), row = Math.floor((ev.clientY - rect.top) / layout.px);
      const pos = row * layout.cols + col;
      let lo = 0, hi = layout.starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (layout.starts[mid] <= pos) lo = mid; else hi = mid - 1;
      }
      const p = R.processes[layout.index], rg = M.procs[layout.index][lo], r = p.regions[lo];
      const str = M.cells[rg[0]], i = pos - layout.starts[lo];
      if (col >= layout.cols || i < 0 || i >= str.length) { tip.style.display = "none"; return; }
      const ps = pageSizeOf(p), first = BigInt(r.start) + BigInt(i * M.pages_per_cell * ps);
      tip.textContent = "";
      tip.appendChild(el("b", { text: regionLabel(r) }));
      tip.appendChild(el("div", { text: r.kind + (r.tracked ? "" : ", untracked (" + r.untracked_reason + ")") + ": " + r.present_pages +
        " pages shared at fork, " + r.cow_pages + " copied, " + r.fresh_pages + " fresh" }));
      const cs = D.causes.map(function (c, k) { return rg[1][k] ? c + " " + rg[1][k] : null; }).filter(Boolean);
      if (cs.length) tip.appendChild(el("div", { text: "causes: " + cs.join(", ") }));
      if (rg[3].length) tip.appendChild(el("div", { text: "types: " + rg[3].map(function (t) { return typeName(t[0]) + " " + t[2]; }).join(", ") }));
      tip.appendChild(el("div", { cls: "sub", text: "here: 0x" + first.toString(16) + ", " + (CELL_STATE[str[i]] || CELL_STATE[" "]).what }));
      tip.style.display = "block";
      const wrapRect = canvas.parentNode.getBoundingClientRect();
      tip.style.left = Math.min(ev.clientX - wrapRect.left + 14, wrapRect.width - 320) + "px";
      tip.style.top = (ev.clientY - wrapRect.top + 14) + "px";
    });
    canvas.addEventListener("mouseleave", function () { tip.style.display = "none"; });
    chooser.addEventListener("change", function () { draw(Number(chooser.value)); });
    selectProcess = function (i) { draw(i); s.scrollIntoView(); };
    let first = 0;
    R.processes.forEach(function (p, i) { if (p.cow_pages > R.processes[first].cow_pages) first = i; });
    draw(first);
  }

  /* ---- flame graph ---- */
  function flame() {
    const F = D.flame;
    const s = section("flame", "First-write stacks",
      "Stacks of the first write to each copied page, weighted by copied pages (the lines of --format folded). " +
      "Click a frame to zoom, the root or Reset to zoom out; search names frames.");
    if (!F) {
      s.appendChild(el("p", { text: "No stacks in this report." }));
      return;
    }
    const frames = F.frames;
    function decode(mode) {
      const out = [];
      let prev = [];
      F[mode].forEach(function (l) {
        const path = prev.slice(0, l[1]).concat(l.slice(2));
        out.push({ pages: l[0], path: path });
        prev = path;
      });
      return out;
    }
    const decoded = {};
    const frameSel = el("select", { id: "flame-frames" });
    [["python", "Python frames"], ["native", "native frames"], ["both", "Python and native"]].forEach(function (m) {
      frameSel.appendChild(el("option", { value: m[0], text: m[1] }));
    });
    frameSel.value = F["default"];
    const leafSel = el("select", { id: "flame-leaf" });
    [["cause", "cause"], ["type", "type"], ["both", "cause and type"], ["none", "none"]].forEach(function (m) {
      leafSel.appendChild(el("option", { value: m[0], text: m[1] }));
    });
    const search = el("input", { id: "flame-search", type: "search", placeholder: "search frames", size: "30" });
    const reset = el("button", { id: "flame-reset", text: "Reset zoom" });
    const status = el("span", { id: "flame-status", cls: "sub" });
    s.appendChild(el("div", { cls: "controls" }, el("label", null, "frames ", frameSel), " ", el("label", null, "leaf ", leafSel),
      " ", search, " ", reset, " ", status));
    const holder = el("div", { id: "flame-holder" });
    s.appendChild(holder);
    const ROW = 18;
    let root = null, zoom = null;

    function build() {
      const mode = frameSel.value, leaf = leafSel.value;
      if (!decoded[mode]) decoded[mode] = decode(mode);
      root = { name: "all", value: 0, children: new Map(), parent: null, depth: 0 };
      decoded[mode].forEach(function (line) {
        let path = line.path, n = path.length;
        /* the last two frames are the leaves: cause:..., type:... */
        const cause = path[n - 2], type = path[n - 1];
        path = path.slice(0, n - 2);
        if (leaf === "cause" || leaf === "both") path.push(cause);
        if (leaf === "type" || leaf === "both") path.push(type);
        let node = root;
        root.value += line.pages;
        path.forEach(function (f) {
          let c = node.children.get(f);
          if (!c) {
            c = { name: frames[f], value: 0, children: new Map(), parent: node, depth: node.depth + 1 };
            node.children.set(f, c);
          }
          c.value += line.pages;
          node = c;
        });
      });
      zoom = root;
    }

    function pathOf(n) {
      const names = [];
      for (; n && n.parent; n = n.parent) names.unshift(n.name);
      return names.join(";");
    }

    function colorOf(name) {
      if (name.startsWith("cause:")) {
        const i = causeIndex[name.slice(6)];
        return i === undefined ? "#999" : CAUSE_COLORS[i];
      }
      if (name.startsWith("type:")) return "#c7c7e8";
      if (name.startsWith("(")) return "#cccccc";
      let h = 0;
      for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
      const py = / \(.*\)$/.test(name);
      const hue = py ? 40 + (h % 25) : 5 + (h % 25), light = 55 + (h >> 8) % 15;
      return "hsl(" + hue + ",85%," + light + "%)";
    }

    function draw() {
      const width = contentWidth();
      const total = root.value, query = search.value.trim().toLowerCase();
      holder.textContent = "";
      let maxDepth = 0;
      const items = [];
      /* ancestors of the zoomed frame at full width */
      for (let a = zoom.parent; a; a = a.parent) items.push({ n: a, x: 0, w: width });
      function walk(n, x, w) {
        items.push({ n: n, x: x, w: w });
        let cx = x;
        const kids = Array.from(n.children.values()).sort(function (a, b) { return a.name < b.name ? -1 : a.name > b.name ? 1 : 0; });
        kids.forEach(function (c) {
          const cw = w * c.value / n.value;
          if (cw >= 0.5) walk(c, cx, cw);
          cx += cw;
        });
      }
      walk(zoom, 0, width);
      items.forEach(function (it) { if (it.n.depth > maxDepth) maxDepth = it.n.depth; });
      const svg = svgEl("svg", { id: "flame-svg", width: width, height: (maxDepth + 1) * ROW, "class": "flame" });
      svg.dataset.zoom = pathOf(zoom);
      /* pages under the frames that match, each counted once (the
       * outermost match of a stack), over the whole graph */
      let matched = 0;
      function count(n) {
        if (n.parent && n.name.toLowerCase().indexOf(query) >= 0) { matched += n.value; return; }
        n.children.forEach(count);
      }
      if (query) count(root);
      items.forEach(function (it) {
        const n = it.n, hit = query && n.parent !== null && n.name.toLowerCase().indexOf(query) >= 0;
        const g = svgEl("g", { "class": "fr" + (hit ? " hit" : "") + (n === zoom ? " zoomed" : "") });
        g.dataset.path = pathOf(n);
        g.dataset.pages = n.value;
        const y = n.depth * ROW;
        g.appendChild(svgEl("rect", { x: it.x.toFixed(2), y: y, width: Math.max(0, it.w - 0.5).toFixed(2), height: ROW - 1,
          fill: hit ? "#e040fb" : n.parent === null ? "#dddddd" : colorOf(n.name) }));
        const t = svgEl("title", {});
        t.textContent = n.name + "\n" + n.value + " pages, " + pct(n.value, total) + " of copied pages with a stack";
        g.appendChild(t);
        if (it.w > 30) {
          const tx = svgEl("text", { x: (it.x + 3).toFixed(2), y: y + ROW - 5 });
          const chars = Math.floor((it.w - 6) / 6.5);
          tx.textContent = n.name.length <= chars ? n.name : n.name.slice(0, Math.max(0, chars - 2)) + "..";
          g.appendChild(tx);
        }
        g.addEventListener("click", function () { zoom = n.parent === null ? root : n; draw(); });
        svg.appendChild(g);
      });
      holder.appendChild(svg);
      status.textContent = (zoom !== root ? "zoomed to " + zoom.name + " (" + zoom.value + " pages). " : "") +
        (query ? "search: " + matched + " pages (" + pct(matched, total) + ")" : "");
    }

    frameSel.addEventListener("change", function () { build(); draw(); });
    leafSel.addEventListener("change", function () { build(); draw(); });
    search.addEventListener("input", draw);
    reset.addEventListener("click", function () { zoom = root; draw(); });
    build();
    draw();
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

  /* ---- diff ---- */
  function diff() {
    const A = R.a, B = R.b;
    document.title = "cowtrace diff: " + A.source + " vs " + B.source;
    app.appendChild(el("h1", { text: "cowtrace diff" }));
    app.appendChild(el("p", { cls: "sub", text: "A: " + A.source + "  \u2192  B: " + B.source + " (cowtrace " + D.cowtrace + ")" }));
    const s = section("diff-totals", "The two runs side by side");
    const t = el("table", { id: "diff-total-table" });
    t.appendChild(el("thead", null, el("tr", null, el("th"), el("th", { cls: "num", text: "A" }), el("th", { cls: "num", text: "B" }),
      el("th", { cls: "num", text: "change" }), el("th", { cls: "num", text: "B/A" }))));
    [["processes", "processes"], ["copied pages", "cow_pages"], ["copied MiB", "cow_mib"], ["fresh pages", "fresh_pages"],
      ["inherited pages", "tracked_pages"], ["unreadable traces", "errors"]].forEach(function (row) {
      const a = A[row[1]], b = B[row[1]];
      const isMib = row[1] === "cow_mib";
      const tr = el("tr", null, el("td", { text: row[0] }), cell(isMib ? a.toFixed(3) : a, "a", true), cell(isMib ? b.toFixed(3) : b, "b", true),
        cell(isMib ? (b - a >= 0 ? "+" : "") + (b - a).toFixed(3) : signed(b - a), "change", true), cell(ratio(a, b), "ratio", true));
      tr.dataset.row = row[1];
      t.appendChild(tr);
    });
    s.appendChild(t);

    const c = section("diff-causes", "Change per cause", "Copied pages of each cause in A (upper bar, light) and B (lower bar).");
    const ct = el("table", { id: "diff-cause-table" });
    ct.appendChild(el("thead", null, el("tr", null, el("th", { text: "cause" }), el("th", { cls: "num", text: "A" }),
      el("th", { cls: "num", text: "B" }), el("th", { cls: "num", text: "change" }), el("th", { cls: "num", text: "B/A" }), el("th"))));
    let max = 1;
    D.causes.forEach(function (k) { max = Math.max(max, R.causes[k].a, R.causes[k].b); });
    D.causes.forEach(function (k, i) {
      const a = R.causes[k].a, b = R.causes[k].b;
      if (!a && !b) return;
      const tr = el("tr", null, el("td", null, swatch(CAUSE_COLORS[i]), k), cell(a, "a", true), cell(b, "b", true), cell(signed(b - a), "change", true),
        cell(ratio(a, b), "ratio", true), el("td", { cls: "barcell" }, bar(a / max, lighten(CAUSE_COLORS[i])), bar(b / max, CAUSE_COLORS[i])));
      tr.dataset.cause = k;
      ct.appendChild(tr);
    });
    c.appendChild(ct);
    const advice = el("div");
    D.causes.forEach(function (k, i) {
      /* the advice of a cause that grew and matters in B (5% of its copies) */
      if (R.causes[k].b > R.causes[k].a && R.causes[k].b >= 0.05 * B.cow_pages)
        advice.appendChild(el("p", { cls: "advice" }, el("b", { text: k + " grew: " }), D.advice[i]));
    });
    c.appendChild(advice);

    const ty = section("diff-types", "Change per type", "Types by the larger of their copied pages in A and B.");
    const rows = R.types.map(function (v) {
      return function () {
        const i = causeIndex[v.cause];
        const tr = el("tr", null, el("td", { text: typeName(v.name) }), el("td", null, swatch(CAUSE_COLORS[i]), v.cause), cell(v.a, "a", true),
          cell(v.b, "b", true), cell(signed(v.b - v.a), "change", true), cell(ratio(v.a, v.b), "ratio", true));
        return tr;
      };
    });
    ty.appendChild(longTable("diff-type-table", [["type"], ["cause"], ["A", 1], ["B", 1], ["change", 1], ["B/A", 1]], rows, 40));
  }

  function report() {
    document.title = "cowtrace report: " + R.source;
    app.appendChild(el("h1", { text: "cowtrace report" }));
    app.appendChild(el("p", { cls: "sub", text: R.source + " (cowtrace " + D.cowtrace + ")" }));
    const nav = el("nav");
    [["glance", "at a glance"], ["processes", "processes"], ["causes", "causes"], ["maps", "address space"],
      ["flame", "stacks"], ["where", "where"]].forEach(function (n) {
      nav.appendChild(el("a", { href: "#" + n[0], text: n[1] }));
    });
    app.appendChild(nav);
    [glance, processTable, causes, maps, flame, where].forEach(function (fn) {
      const t0 = performance.now();
      fn();
      times[fn.name] = Math.round(performance.now() - t0);
    });
  }

  app.textContent = "";
  if (D.kind === "diff") diff(); else report();
  window.cowtraceReady = { ms: performance.now(), sections: times };
  document.body.dataset.ready = "1";
})();
