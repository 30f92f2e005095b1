/*
 * util.js - the helpers of cowtrace's HTML report (report.js and the files
 * beside it; report_html.c inlines them all into one function, in the order
 * util.js, map.js, flame.js, diff.js, report.js).
 *
 * Promise: text goes into the page only as text (textContent, attributes),
 * never parsed as markup; the colours of the causes are the same everywhere.
 */
const CAUSE_COLORS = ["#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#1f77b4", "#7f7f7f", "#bcbd22"];
const SHARED_COLOR = "#9fd49f", FRESH_COLOR = "#17becf", HOLE_COLOR = "#f3f3f3", UNTRACKED_COLOR = "#d9d9d9";

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
  const app = document.getElementById("app");
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
