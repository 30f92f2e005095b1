/*
 * timeline.js - the "Timeline" section of the HTML report of a watch
 * directory (`cowtrace watch -o DIR`, then `cowtrace report --format html
 * DIR`): copied MiB per worker over time, one SVG line per worker.
 *
 * Promise: drawn only from D.timeline (report_timeline.c's data: per
 * worker [seconds since t0, copied bytes] points, already downsampled to
 * at most D.timeline.max_points in C, so the page stays small for long
 * watches). A worker that went ends its line at its last sample, with a
 * cross. Each line is a <polyline class="tl-line"> carrying data-pid,
 * data-start, data-points and data-last-bytes (its last point's copied
 * bytes, as in the data) for tests and readers. Hovering shows the nearest
 * point: worker, time, value. Text from the file (comm) goes in as text.
 * drawTimeline draws one such chart anywhere (the diff page draws A's and
 * B's on one y-scale, diff.js); timeline() is the report's section.
 */
const TL_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf"];

function niceStep(raw) {
  const p = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/* The unit a time axis of span seconds suits: [seconds, name]. */
function timeUnit(span) {
  return span >= 2 * 86400 ? [86400, "d"] : span >= 2 * 3600 ? [3600, "h"] : span >= 300 ? [60, "min"] : [1, "s"];
}
/* Seconds since the first sample, in that unit. */
function fmtSeconds(t, span) {
  const u = timeUnit(span);
  return Number((t / u[0]).toPrecision(4)) + " " + u[1];
}

function timeline() {
  const T = D.timeline;
  if (!T) return;
  const s = section("timeline", "Timeline",
    "Copied MiB of each worker over time, as cowtrace watch sampled it (" + T.workers.length + " worker" +
    (T.workers.length === 1 ? "" : "s") + "). Hover a line for its values.");
  drawTimeline(s, T, "timeline", 0);
}

/* The largest copied bytes of any point of T (0 for none): a y-scale
 * several charts share so they compare. */
function timelineMax(T) {
  let m = 0;
  if (T) T.workers.forEach(function (w) { w.points.forEach(function (p) { if (p[1] > m) m = p[1]; }); });
  return m;
}

/* Draws timeline T into s: the chart is an <svg id="ID-svg">, its hover
 * tip #ID-tip. The y axis reaches at least yFloor bytes (0: T's own
 * largest point), so two charts given the same floor share a scale. */
function drawTimeline(s, T, id, yFloor) {
  if (T.note) s.appendChild(el("ul", { cls: "warnings" }, el("li", { text: "timeline.jsonl: " + T.note })));
  const ws = T.workers.filter(function (w) { return w.points.length; });
  if (!ws.length) { s.appendChild(el("p", { text: "No sample in the timeline." })); return; }
  let tMax = 0, yMax = yFloor;
  ws.forEach(function (w) {
    w.points.forEach(function (p) { if (p[0] > tMax) tMax = p[0]; if (p[1] > yMax) yMax = p[1]; });
  });
  // round axis steps (1, 2 or 5 times a power of ten), the axes ending on one
  const yStep = niceStep(Math.max(yMax / 1048576, 0.1) / 5), unit = timeUnit(Math.max(tMax, 1))[0];
  const tStep = unit * niceStep(Math.max(tMax, 1) / unit / 5);
  const mibMax = yStep * Math.ceil(Math.max(yMax / 1048576, 0.1) / yStep - 1e-9);
  const tSpan = tStep * Math.ceil(Math.max(tMax, 1) / tStep - 1e-9);
  const W = contentWidth(), H = 320, L = 64, Rm = 24, Tp = 12, B = 36;
  const X = function (t) { return L + (W - L - Rm) * t / tSpan; };
  const Y = function (bytes) { return Tp + (H - Tp - B) * (1 - bytes / 1048576 / mibMax); };
  const svg = svgEl("svg", { id: id + "-svg", width: W, height: H, viewBox: "0 0 " + W + " " + H, "class": "timeline" });
  for (let v = 0; v <= mibMax + 1e-9; v += yStep) {
    const y = Y(v * 1048576);
    svg.appendChild(svgEl("line", { x1: L, x2: W - Rm, y1: y, y2: y, stroke: "#e5e5e5" }));
    const ly = svgEl("text", { x: L - 6, y: y + 4, "text-anchor": "end" });
    ly.textContent = String(Number(v.toPrecision(6)));
    svg.appendChild(ly);
  }
  for (let t = 0; t <= tSpan + 1e-9; t += tStep) {
    const lx = svgEl("text", { x: X(t), y: H - B + 16, "text-anchor": "middle" });
    lx.textContent = fmtSeconds(t, tSpan);
    svg.appendChild(lx);
  }
  const yl = svgEl("text", { x: 12, y: Tp + (H - Tp - B) / 2, transform: "rotate(-90 12 " + (Tp + (H - Tp - B) / 2) + ")",
    "text-anchor": "middle" });
  yl.textContent = "copied MiB";
  svg.appendChild(yl);
  svg.appendChild(svgEl("line", { x1: L, x2: L, y1: Tp, y2: H - B, stroke: "#888" }));
  svg.appendChild(svgEl("line", { x1: L, x2: W - Rm, y1: H - B, y2: H - B, stroke: "#888" }));
  const legend = el("div", { cls: "tl-legend" });
  ws.forEach(function (w, i) {
    const color = TL_COLORS[i % TL_COLORS.length];
    const pts = w.points.map(function (p) { return X(p[0]).toFixed(1) + "," + Y(p[1]).toFixed(1); }).join(" ");
    const line = svgEl("polyline", { "class": "tl-line", points: pts, fill: "none", stroke: color, "stroke-width": 1.6,
      "data-pid": w.pid, "data-start": w.start, "data-points": w.points.length,
      "data-last-bytes": w.points[w.points.length - 1][1], "data-gone": w.gone === null ? "" : w.gone });
    const title = svgEl("title", {});
    title.textContent = "pid " + w.pid + " (" + w.comm + ")";
    line.appendChild(title);
    svg.appendChild(line);
    const last = w.points[w.points.length - 1];
    if (w.gone !== null) {   // the worker went: a cross where its line ends
      const x = X(last[0]), y = Y(last[1]);
      svg.appendChild(svgEl("path", { d: "M" + (x - 4) + " " + (y - 4) + "l8 8m0 -8l-8 8", stroke: color, "stroke-width": 1.6 }));
    }
    if (i < 40)
      legend.appendChild(el("span", { cls: "tl-key" }, swatch(color), "pid " + w.pid + " " + w.comm +
        (w.gone !== null ? " (gone)" : "")));
  });
  if (ws.length > 40) legend.appendChild(el("span", { text: "... and " + (ws.length - 40) + " more" }));
  const marker = svgEl("circle", { r: 4, fill: "none", stroke: "#000", "stroke-width": 1.2, visibility: "hidden" });
  svg.appendChild(marker);
  const tip = el("div", { cls: "tip", id: id + "-tip" });
  const wrap = el("div", { cls: "mapwrap" }, svg, tip);
  s.appendChild(wrap);
  s.appendChild(legend);

  // hover: the nearest point on screen, over every worker
  svg.addEventListener("mousemove", function (ev) {
    const rect = svg.getBoundingClientRect(), mx = ev.clientX - rect.left, my = ev.clientY - rect.top;
    let best = null, bestD = Infinity;
    ws.forEach(function (w) {
      // the point nearest in time first (points are in time order), then its neighbours
      const ps = w.points;
      let lo = 0, hi = ps.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (X(ps[mid][0]) < mx) lo = mid + 1; else hi = mid;
      }
      for (let j = Math.max(0, lo - 1); j <= Math.min(ps.length - 1, lo + 1); j++) {
        const dx = X(ps[j][0]) - mx, dy = Y(ps[j][1]) - my, d = dx * dx + dy * dy;
        if (d < bestD) { bestD = d; best = { w: w, p: ps[j] }; }
      }
    });
    if (!best || bestD > 40 * 40) { tip.style.display = "none"; marker.setAttribute("visibility", "hidden"); return; }
    marker.setAttribute("cx", X(best.p[0]));
    marker.setAttribute("cy", Y(best.p[1]));
    marker.setAttribute("visibility", "visible");
    tip.textContent = "";
    tip.appendChild(el("b", { text: "pid " + best.w.pid + " (" + best.w.comm + ")" }));
    tip.appendChild(el("div", { text: fmtMib(best.p[1] / 1048576) + " MiB copied at " + best.p[0].toFixed(1) + " s" +
      (tSpan >= 300 ? " (" + fmtSeconds(best.p[0], tSpan) + ")" : "") }));
    tip.appendChild(el("div", { cls: "sub", text: "parent " + best.w.ppid + ", " + best.w.samples + " samples" +
      (best.w.gone !== null ? ", gone at " + best.w.gone.toFixed(1) + " s" : "") }));
    tip.style.display = "block";
    tip.style.left = Math.min(mx + 14, rect.width - 320) + "px";
    tip.style.top = (my + 14) + "px";
  });
  svg.addEventListener("mouseleave", function () { tip.style.display = "none"; marker.setAttribute("visibility", "hidden"); });
}
