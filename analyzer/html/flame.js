/*
 * flame.js - the flame graph of first-write stacks in the HTML report: the
 * lines of --format folded ("flame" in the data), drawn as SVG, root at the
 * top; click to zoom, search, frames and leaves as --frames and --leaf.
 *
 * Promise: widths are copied pages; the zoomed frame is named in
 * #flame-svg's data-zoom (its path of frames, joined by ';'); a search
 * counts the pages under the outermost matching frame of each stack once.
 */
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
