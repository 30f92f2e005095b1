/*
 * diff.js - the page of `cowtrace diff --format html A B`: the two runs'
 * totals, causes and types side by side, with the change and B/A.
 *
 * Promise: every figure is the JSON diff's ("report" in the data). When
 * either side is a watch directory, a "Timelines" section shows each
 * side's summary (the JSON diff's "timeline" of each side) and draws both
 * sides' timelines (D.timelines, report_timeline.c's data) with
 * timeline.js's drawTimeline on one y-scale, as #timeline-a-svg and
 * #timeline-b-svg.
 */
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
  diffTimelines();
}

function diffTimelines() {
  if (!D.timelines) return;
  const TA = D.timelines.a, TB = D.timelines.b;
  const s = section("diff-timelines", "Timelines",
    "Copied MiB of each worker over time in A and in B, as cowtrace watch sampled them, on one scale. " +
    "\"At end\" is each worker's last sample.");
  const t = el("table", { id: "diff-timeline-table" });
  t.appendChild(el("thead", null, el("tr", null, el("th"), el("th", { cls: "num", text: "A" }), el("th", { cls: "num", text: "B" }))));
  const fig = function (side, key, mib) {
    const v = side.timeline;
    if (!v || (mib && !v.workers)) return "-";
    return mib ? fmtMib(v[key] / 1048576) : String(v[key]);
  };
  [["workers", "workers"], ["samples", "samples"], ["seconds", "seconds"],
    ["median copied MiB at end", "median_last_copied_bytes", 1], ["max copied MiB at end", "max_last_copied_bytes", 1]]
    .forEach(function (row) {
      const tr = el("tr", null, el("td", { text: row[0] }), cell(fig(R.a, row[1], row[2]), "a", true),
        cell(fig(R.b, row[1], row[2]), "b", true));
      tr.dataset.row = row[1];
      t.appendChild(tr);
    });
  s.appendChild(t);
  const floor = Math.max(timelineMax(TA), timelineMax(TB));
  [["A", TA, R.a], ["B", TB, R.b]].forEach(function (side) {
    s.appendChild(el("h3", { text: side[0] + ": " + side[2].source }));
    if (!side[1]) { s.appendChild(el("p", { text: "No timeline (not a watch directory)." })); return; }
    drawTimeline(s, side[1], "timeline-" + side[0].toLowerCase(), floor);
  });
}
