// optiviz interactive page: sliders over a precomputed sweep, a step slider with play/pause,
// the values at the hovered iterate and a loss panel. No library, no network: the data is
// the JSON block above (float32 arrays, byte-shuffled and deflated, in base64).
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("optiviz-data").textContent);
  const SVGNS = "http://www.w3.org/2000/svg";
  const T = D.steps, R = D.runs, N = T + 1;
  const W = D.plot.width, H = D.plot.height;
  const [x0, x1] = D.window[0], [y0, y1] = D.window[1];
  const $ = (id) => document.getElementById(id);
  const lrSlider = $("lr-slider"), secondSlider = $("second-slider"), stepSlider = $("step-slider");
  const playButton = $("play");
  let P = null, G = null, L = null; // points, gradients, losses (Float32Array views)
  const state = { i: D.default[0], j: D.default[1], t: 0, hover: -1, playing: null };

  function el(name, attrs, parent) {
    const e = document.createElementNS(SVGNS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function fmt(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return "nan";
    if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
    if (v === 0) return "0";
    const a = Math.abs(v);
    let s = a >= 1e-4 && a < 1e6 ? v.toPrecision(6) : v.toExponential(5);
    if (s.indexOf("e") >= 0) {
      let [m, e] = s.split("e");
      if (m.indexOf(".") >= 0) m = m.replace(/0+$/, "").replace(/\.$/, "");
      return m + "e" + e.replace("+", "");
    }
    if (s.indexOf(".") >= 0) s = s.replace(/0+$/, "").replace(/\.$/, "");
    return s;
  }
  const pair = (a, b) => "(" + fmt(a) + ", " + fmt(b) + ")";
  const px = (x) => ((x - x0) / (x1 - x0)) * W;
  const py = (y) => (1 - (y - y0) / (y1 - y0)) * H;

  async function decode(b64) {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let k = 0; k < bin.length; k++) bytes[k] = bin.charCodeAt(k);
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    const shuffled = new Uint8Array(await new Response(stream).arrayBuffer());
    const n = shuffled.length / 4;
    const out = new Uint8Array(shuffled.length);
    for (let b = 0; b < 4; b++) {
      const off = b * n;
      for (let k = 0; k < n; k++) out[4 * k + b] = shuffled[off + k];
    }
    return new Float32Array(out.buffer);
  }

  const run = () => state.j * D.lr.values.length + state.i;
  const xAt = (r, t) => P[(r * N + t) * 2], yAt = (r, t) => P[(r * N + t) * 2 + 1];
  const loss = (r, t) => L[r * N + t];
  function lastFinite(r) {
    let n = Math.min(D.n_steps[r], T);
    while (n > 0 && !(Number.isFinite(xAt(r, n)) && Number.isFinite(yAt(r, n)))) n--;
    return n;
  }

  // -- the contour's overlay ---------------------------------------------------------------
  const paths = $("paths");
  const color = D.color;
  const fullPath = el("polyline", { fill: "none", stroke: color, "stroke-width": 1.2,
    "stroke-opacity": 0.35, id: "path-full" }, paths);
  const donePath = el("polyline", { fill: "none", stroke: color, "stroke-width": 2.4,
    "stroke-linejoin": "round", id: "path-done" }, paths);
  const dots = el("path", { fill: "none", stroke: color, "stroke-width": 4.2,
    "stroke-linecap": "round", id: "path-dots" }, paths);
  const diverged = el("path", { stroke: "#B2182B", "stroke-width": 2.6, fill: "none" }, paths);
  const current = el("circle", { r: 6, fill: color, stroke: "#fff", "stroke-width": 2,
    id: "current" }, paths);
  const hoverMark = el("circle", { r: 8, fill: "none", stroke: "#111", "stroke-width": 1.5,
    visibility: "hidden" }, paths);
  // a short label beside the hovered iterate (the readout has the rest)
  const tip = el("g", { visibility: "hidden", id: "tip", "pointer-events": "none" }, $("paths").parentNode);
  const tipBox = el("rect", { fill: "#fff", "fill-opacity": 0.92, stroke: "#555", rx: 3 }, tip);
  const tipText = el("text", { x: 0, y: 0 }, tip);

  function drawPaths() {
    const r = run(), n = lastFinite(r), t = Math.min(state.t, n);
    const all = [], done = [];
    let d = "";
    for (let k = 0; k <= n; k++) {
      const s = px(xAt(r, k)).toFixed(1) + "," + py(yAt(r, k)).toFixed(1);
      all.push(s);
      if (k <= t) {
        done.push(s);
        d += "M" + s + "h0";
      }
    }
    fullPath.setAttribute("points", all.join(" "));
    donePath.setAttribute("points", done.join(" "));
    dots.setAttribute("d", n <= 400 ? d : "");
    current.setAttribute("cx", px(xAt(r, t)).toFixed(1));
    current.setAttribute("cy", py(yAt(r, t)).toFixed(1));
    if (D.status[r] === "diverged") {
      // at the last finite iterate, held inside the plot when it lies beyond the window
      const a = Math.max(7, Math.min(W - 7, px(xAt(r, n))));
      const b = Math.max(7, Math.min(H - 7, py(yAt(r, n))));
      diverged.setAttribute("d", `M${a - 6} ${b - 6}L${a + 6} ${b + 6}M${a - 6} ${b + 6}L${a + 6} ${b - 6}`);
    } else diverged.setAttribute("d", "");
    if (state.hover >= 0 && state.hover <= n) {
      const hx = px(xAt(r, state.hover)), hy = py(yAt(r, state.hover));
      hoverMark.setAttribute("cx", hx.toFixed(1));
      hoverMark.setAttribute("cy", hy.toFixed(1));
      hoverMark.setAttribute("visibility", "visible");
      tipText.textContent = "t = " + state.hover + ",  f = " + fmt(loss(r, state.hover));
      const bb = tipText.getBBox();
      const tx = Math.min(Math.max(hx + 12, 4), W - bb.width - 10), ty = Math.max(hy - 14, bb.height + 4);
      tip.setAttribute("transform", `translate(${tx.toFixed(1)} ${ty.toFixed(1)})`);
      tipBox.setAttribute("x", bb.x - 4); tipBox.setAttribute("y", bb.y - 2);
      tipBox.setAttribute("width", bb.width + 8); tipBox.setAttribute("height", bb.height + 4);
      tip.setAttribute("visibility", "visible");
    } else {
      hoverMark.setAttribute("visibility", "hidden");
      tip.setAttribute("visibility", "hidden");
    }
  }

  // -- the loss panel ----------------------------------------------------------------------
  const lossSvg = $("loss");
  const LW = +lossSvg.getAttribute("width"), LH = +lossSvg.getAttribute("height");
  const LM = { l: 58, r: 12, t: 10, b: 38 };
  const lw = LW - LM.l - LM.r, lh = LH - LM.t - LM.b;
  const lossG = el("g", { transform: `translate(${LM.l} ${LM.t})` }, lossSvg);
  const logLoss = D.loss.log, fstar = D.f_star;
  const lyLow = logLoss ? Math.log10(D.loss.low) : D.loss.low;
  const lyHigh = logLoss ? Math.log10(D.loss.high) : D.loss.high;
  const lx = (t) => (t / Math.max(T, 1)) * lw;
  function ly(f) {
    let v = logLoss ? f - fstar : f;
    if (logLoss) v = Math.log10(Math.max(v, D.loss.low));
    v = Math.max(lyLow, Math.min(lyHigh, v));
    return (1 - (v - lyLow) / (lyHigh - lyLow || 1)) * lh;
  }
  function niceTicks(lo, hi, count) {
    const span = hi - lo;
    if (!(span > 0)) return [lo];
    const raw = span / count, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= count) || 10 * mag;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * span; v += step) out.push(+v.toPrecision(12));
    return out;
  }
  (function lossAxes() {
    el("rect", { x: 0, y: 0, width: lw, height: lh, fill: "#fff", stroke: "#333" }, lossG);
    for (const t of niceTicks(0, T, 5)) {
      el("line", { x1: lx(t), x2: lx(t), y1: lh, y2: lh + 4, stroke: "#333" }, lossG);
      el("text", { x: lx(t), y: lh + 16, "text-anchor": "middle" }, lossG).textContent = fmt(t);
    }
    let yt;
    if (logLoss) {
      const e0 = Math.ceil(lyLow), e1 = Math.floor(lyHigh), st = Math.max(1, Math.ceil((e1 - e0 + 1) / 6));
      yt = [];
      for (let e = e0; e <= e1; e += st) yt.push(e);
    } else yt = niceTicks(lyLow, lyHigh, 5);
    for (const v of yt) {
      const y = (1 - (v - lyLow) / (lyHigh - lyLow || 1)) * lh;
      el("line", { x1: -4, x2: 0, y1: y, y2: y, stroke: "#333" }, lossG);
      el("line", { x1: 0, x2: lw, y1: y, y2: y, stroke: "#000", "stroke-opacity": 0.07 }, lossG);
      const tx = el("text", { x: -7, y: y + 4, "text-anchor": "end" }, lossG);
      if (logLoss) {
        tx.textContent = "10";
        el("tspan", { dy: -5, "font-size": 9 }, tx).textContent = String(v);
      } else tx.textContent = fmt(v);
    }
    el("text", { x: lw / 2, y: lh + 33, "text-anchor": "middle", class: "label" }, lossG).textContent = "step";
    el("text", { transform: `translate(-46 ${lh / 2}) rotate(-90)`, "text-anchor": "middle", class: "label" },
      lossG).textContent = logLoss ? "f \u2212 f* (log scale)" : "f";
  })();
  const lossOthers = el("path", { fill: "none", stroke: "#8a8a8a", "stroke-opacity": 0.35, "stroke-width": 0.8 }, lossG);
  const lossCurve = el("polyline", { fill: "none", stroke: color, "stroke-width": 2, id: "loss-curve" }, lossG);
  const lossNow = el("line", { y1: 0, y2: lh, stroke: "#333", "stroke-dasharray": "3 3" }, lossG);
  const lossDot = el("circle", { r: 4, fill: color, stroke: "#fff", "stroke-width": 1.2 }, lossG);
  const lossHit = el("rect", { x: 0, y: 0, width: lw, height: lh, fill: "transparent" }, lossG);

  function curve(r) {
    const n = lastFinite(r), out = [];
    for (let k = 0; k <= n; k++) {
      const f = loss(r, k);
      if (Number.isFinite(f)) out.push(lx(k).toFixed(1) + "," + ly(f).toFixed(1));
    }
    return out;
  }
  function drawLoss() {
    const r = run();
    let d = "";
    for (let i = 0; i < D.lr.values.length; i++) {
      const q = state.j * D.lr.values.length + i;
      if (q !== r) d += "M" + curve(q).join("L");
    }
    lossOthers.setAttribute("d", d.replace(/M(?=M|$)/g, ""));
    lossCurve.setAttribute("points", curve(r).join(" "));
    const t = Math.min(state.t, lastFinite(r));
    lossNow.setAttribute("x1", lx(state.t)); lossNow.setAttribute("x2", lx(state.t));
    lossDot.setAttribute("cx", lx(t)); lossDot.setAttribute("cy", ly(loss(r, t)));
  }

  // -- text --------------------------------------------------------------------------------
  function lrText(i) {
    let s = "lr = " + fmt(D.lr.values[i]);
    if (D.stability) s += " (" + fmt(D.lr.values[i] / D.stability) + " \u00d7 2/\u03bb_max at the minimum)";
    return s;
  }
  function statusText(r) {
    const st = D.status[r], n = D.n_steps[r];
    const f = loss(r, lastFinite(r));
    const fin = fstar !== null ? "f \u2212 f* = " + fmt(f - fstar) : "f = " + fmt(f);
    if (st === "diverged") return "diverged at step " + n;
    if (st === "converged") return "converged in " + n + " steps; " + fin;
    return "ran " + n + " steps (" + st.replace("_", " ") + "); final " + fin;
  }
  function readout(t) {
    const r = run(), n = lastFinite(r);
    t = Math.max(0, Math.min(t, n));
    const x = xAt(r, t), y = yAt(r, t), f = loss(r, t);
    const gx = G[(r * N + t) * 2], gy = G[(r * N + t) * 2 + 1];
    const v = D.variables;
    let s = "step t = " + t + (t === state.hover ? " (hovered)" : "") + " of " + D.n_steps[r] + "\n";
    s += v[0] + ", " + v[1] + " = " + pair(x, y) + "\n";
    s += "f    = " + fmt(f) + (fstar !== null ? "     f \u2212 f* = " + fmt(f - fstar) : "") + "\n";
    s += "\u2207f   = " + pair(gx, gy) + "     |\u2207f| = " + fmt(Math.hypot(gx, gy)) + "\n";
    if (t < n) {
      const dx = xAt(r, t + 1) - x, dy = yAt(r, t + 1) - y;
      s += "step = x_" + (t + 1) + " \u2212 x_" + t + " = " + pair(dx, dy) + "\n";
      s += "       |step| = " + fmt(Math.hypot(dx, dy));
    } else s += "step = none (the last iterate)";
    $("readout").textContent = s;
  }

  function update() {
    const r = run();
    $("lr-label").textContent = lrText(state.i);
    if (D.second) $("second-label").textContent = D.second.name + " = " + fmt(D.second.values[state.j]);
    $("step-label").textContent = "step " + state.t + " of " + T;
    $("status").textContent = statusText(r);
    drawPaths();
    drawLoss();
    readout(state.hover >= 0 ? state.hover : state.t);
  }

  // -- controls ----------------------------------------------------------------------------
  function setup() {
    lrSlider.max = D.lr.values.length - 1;
    lrSlider.value = state.i;
    if (D.second) {
      secondSlider.max = D.second.values.length - 1;
      secondSlider.value = state.j;
    } else $("second-control").style.display = "none";
    stepSlider.max = T;
    state.t = T;
    stepSlider.value = T;
    lrSlider.addEventListener("input", () => { state.i = +lrSlider.value; update(); });
    secondSlider.addEventListener("input", () => { state.j = +secondSlider.value; update(); });
    stepSlider.addEventListener("input", () => { state.t = +stepSlider.value; stop(); update(); });
    playButton.addEventListener("click", () => (state.playing ? stop() : play()));
    const area = $("hover-area");
    area.addEventListener("mousemove", (ev) => {
      const box = area.getBoundingClientRect();
      const mx = ev.clientX - box.left, my = ev.clientY - box.top;
      const r = run(), n = lastFinite(r);
      let best = -1, bd = 15 * 15;
      for (let k = 0; k <= n; k++) {
        const ddx = px(xAt(r, k)) - mx, ddy = py(yAt(r, k)) - my, dd = ddx * ddx + ddy * ddy;
        if (dd < bd) { bd = dd; best = k; }
      }
      state.hover = best;
      update();
    });
    area.addEventListener("mouseleave", () => { state.hover = -1; update(); });
    lossHit.addEventListener("mousemove", (ev) => {
      const box = lossHit.getBoundingClientRect();
      state.hover = Math.max(0, Math.min(lastFinite(run()), Math.round(((ev.clientX - box.left) / lw) * T)));
      update();
    });
    lossHit.addEventListener("mouseleave", () => { state.hover = -1; update(); });
    const lab = D.label + (D.label !== D.optimizer ? " (" + D.optimizer + ")" : "");
    const legend = $("legend");
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = color;
    legend.appendChild(sw);
    legend.appendChild(document.createTextNode(lab + (D.fixed ? ", " + D.fixed : "") +
      ": bold up to the step slider, faint beyond (\u25cf the step's iterate); \u25cb start, " +
      "\u2605 known minimum, \u2715 (red) divergence. Loss panel, grey: the other learning rates " +
      "at this " + (D.second ? D.second.name : "setting") + "."));
  }
  function play() {
    if (state.t >= T) state.t = 0;
    playButton.textContent = "\u275a\u275a pause";
    const every = Math.max(1, Math.round(T / 200));
    state.playing = setInterval(() => {
      state.t = Math.min(T, state.t + every);
      stepSlider.value = state.t;
      update();
      if (state.t >= T) stop();
    }, 40);
  }
  function stop() {
    if (state.playing) clearInterval(state.playing);
    state.playing = null;
    playButton.innerHTML = "&#9654; play";
  }

  decode(D.data).then((all) => {
    const np = R * N * 2;
    P = all.subarray(0, np);
    G = all.subarray(np, 2 * np);
    L = all.subarray(2 * np, 2 * np + R * N);
    setup();
    update();
    window.optivizReady = true;
  }).catch((err) => {
    $("status").textContent = "this browser cannot read the page's data (" + err + ")";
    throw err;
  });
})();
