/*
 * map.js - the address-space map of the HTML report: one process at a time,
 * its regions in address order to scale, one cell per "maps" character
 * (report_html.c), hover for the region, its causes and types.
 *
 * Promise: a cell's colour says what its pages did (shared, copied by
 * cause, fresh); the counts shown are the JSON report's.
 */
/* What each cell character means (report_html.c, cell_char), and its colour. */
function cellStates() {
  const states = {};
  states[" "] = { color: HOLE_COLOR, what: "not shared at fork (no page, or untracked)" };
  states["."] = { color: SHARED_COLOR, what: "inherited and still shared" };
  states.X = { color: FRESH_COLOR, what: "fresh (new pages, never shared)" };
  states.x = { color: FRESH_COLOR, what: "partly fresh", light: true };
  D.causes.forEach(function (c, i) {
    states[String(i)] = { color: CAUSE_COLORS[i], what: "copied, mostly " + c };
    states[String.fromCharCode(97 + i)] = { color: CAUSE_COLORS[i], what: "partly copied, mostly " + c, light: true };
  });
  return states;
}

function maps() {
  const M = D.maps, CELL_STATE = cellStates();
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
