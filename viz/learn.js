// The learning page's script (viz/learn.py inlines it into each page).
//
// The page holds, as JSON, every frame's numbers, computed in Python from
// the weights train recorded: the output on a grid, each hidden unit's
// contribution, the residual, the error, the sizes of the weights and of
// their gradients.  A series of many numbers comes as integers and a scale
// (value = integer × scale; null where the value was nan or infinite).
// This script draws them as SVG and moves between frames; every number
// and every line of text it shows comes from Python.
(function () {
  "use strict";

  const data = JSON.parse(document.getElementById("learn-data").textContent);
  const epochs = data.epochs;
  const last = epochs.length - 1;
  const SVG = "http://www.w3.org/2000/svg";
  const slider = document.getElementById("slider");
  const counter = document.getElementById("counter");
  const line = document.getElementById("line");
  const note = document.getElementById("note");
  const playButton = document.getElementById("play");
  const prevButton = document.getElementById("prev");
  const nextButton = document.getElementById("next");
  const panels = document.getElementById("panels");
  const explorer = document.getElementById("explorer");
  const stepTitle = document.getElementById("step-title");
  const stepHelp = document.getElementById("step-help");
  const stepEpochs = Object.keys(data.steps).map(Number).sort(function (a, b) { return a - b; });

  // ------------------------------------------------------------ numbers
  function unpack(series, f) {
    return series.values[f].map(function (v) { return v === null ? null : v * series.scale; });
  }
  function unpackRows(series, f) {
    return series.values[f].map(function (row) {
      return row.map(function (v) { return v === null ? null : v * series.scale; });
    });
  }
  function finite(values) {
    return values.filter(function (v) { return v !== null && Number.isFinite(v); });
  }
  // Smallest and largest, by a loop (Math.min(...values) overflows the stack on long ones).
  function minOf(values) { let m = Infinity; for (const v of values) if (v < m) m = v; return m; }
  function maxOf(values) { let m = -Infinity; for (const v of values) if (v > m) m = v; return m; }
  function extent(values, fallback) {
    const good = finite(values);
    if (good.length === 0) return fallback;
    let lo = minOf(good), hi = maxOf(good);
    if (lo === hi) { lo -= 0.5; hi += 0.5; }
    return [lo, hi];
  }
  function flat(rows) { return rows.flat(); }
  function padded(range, part) {
    const pad = (range[1] - range[0]) * part;
    return [range[0] - pad, range[1] + pad];
  }
  function format(v) {
    if (v === 0) return "0";
    const a = Math.abs(v);
    if (a >= 1e4 || a < 1e-3) return v.toExponential(0).replace("e+", "e");
    return String(Number(v.toPrecision(3)));
  }

  // ------------------------------------------------------------ panels
  function element(name, attributes, parent) {
    const e = document.createElementNS(SVG, name);
    for (const key in attributes) e.setAttribute(key, attributes[key]);
    if (parent) parent.appendChild(e);
    return e;
  }

  // A panel: a titled SVG with axes over xRange × yRange (log10 when log),
  // and a group `layer` the frame's drawing goes into.
  let clips = 0;
  function panel(id, title, xRange, yRange, options) {
    options = options || {};
    const width = options.width || 380, height = options.height || 230;
    const left = 52, right = 16, top = 24, bottom = 28;
    const figure = document.createElement(options.small ? "div" : "figure");
    figure.className = options.small ? "small" : "panel";
    figure.id = id;
    (options.parent || panels).appendChild(figure);
    const svg = element("svg", {viewBox: "0 0 " + width + " " + height, role: "img",
                                 "aria-label": title}, figure);
    element("text", {x: left, y: 15, class: "title"}, svg).textContent = title;
    const ty = function (v) { return options.log ? Math.log10(v) : v; };
    const Y = yRange.map(ty);
    const p = {
      svg: svg, id: id, log: !!options.log,
      x: function (v) { return left + (v - xRange[0]) / (xRange[1] - xRange[0]) * (width - left - right); },
      y: function (v) { return top + (Y[1] - ty(v)) / (Y[1] - Y[0]) * (height - top - bottom); },
      left: left, right: width - right, top: top, bottom: height - bottom,
    };
    const clip = "clip" + (clips++);
    const defs = element("defs", {}, svg);
    const clipPath = element("clipPath", {id: clip}, defs);
    element("rect", {x: left, y: top, width: width - left - right, height: height - top - bottom}, clipPath);
    element("rect", {x: left, y: top, width: width - left - right, height: height - top - bottom,
                     class: "frame"}, svg);
    if (!options.noAxes) {
      p.axes = element("g", {class: "axes"}, svg);
      drawTicks(p, xRange, yRange, options);
    }
    p.layer = element("g", {"clip-path": "url(#" + clip + ")"}, svg);
    p.over = element("g", {}, svg);
    return p;
  }

  function drawTicks(p, xRange, yRange, options) {
    p.axes.replaceChildren();
    const xs = options.xTicks || ticks(xRange, false);
    for (const v of xs) {
      element("line", {x1: p.x(v), x2: p.x(v), y1: p.bottom, y2: p.bottom + 4}, p.axes);
      element("text", {x: p.x(v), y: p.bottom + 15, class: "tick x"}, p.axes).textContent = format(v);
    }
    for (const v of ticks(yRange, p.log)) {
      element("line", {x1: p.left - 4, x2: p.left, y1: p.y(v), y2: p.y(v)}, p.axes);
      element("text", {x: p.left - 6, y: p.y(v) + 4, class: "tick y"}, p.axes).textContent = format(v);
    }
  }

  function ticks(range, log) {
    if (log) {
      const out = [];
      const a = Math.ceil(Math.log10(range[0])), b = Math.floor(Math.log10(range[1]));
      const every = Math.max(1, Math.ceil((b - a + 1) / 6));
      for (let k = a; k <= b; k += every) out.push(Math.pow(10, k));
      return out;
    }
    const span = range[1] - range[0];
    const raw = span / 5, unit = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map(function (m) { return m * unit; }).find(function (s) { return s >= raw; });
    const out = [];
    for (let v = Math.ceil(range[0] / step) * step; v <= range[1] + step * 1e-9; v += step) {
      out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    }
    return out;
  }

  // A pixel position kept to a range SVG can draw (a diverging run's numbers are huge;
  // the panel's clip shows the curve leaving it).
  function clamp(px) { return Math.max(-1e4, Math.min(1e4, px)); }

  // A polyline through (xs[i], ys[i]); a null or non-finite y breaks the line.
  function path(p, xs, ys, attributes, parent) {
    let d = "", pen = false;
    for (let i = 0; i < xs.length; i++) {
      const v = ys[i];
      if (v === null || !Number.isFinite(v) || (p.log && v <= 0)) { pen = false; continue; }
      d += (pen ? "L" : "M") + p.x(xs[i]).toFixed(1) + " " + clamp(p.y(v)).toFixed(1);
      pen = true;
    }
    const e = element("path", Object.assign({d: d, fill: "none"}, attributes), parent || p.layer);
    return e;
  }

  function legend(p, entries) {
    let x = p.left + 6;
    for (const [text, cls] of entries) {
      element("line", {x1: x, x2: x + 14, y1: p.top + 10, y2: p.top + 10, class: cls}, p.over);
      const label = element("text", {x: x + 18, y: p.top + 14, class: "legend"}, p.over);
      label.textContent = text;
      x += 26 + 6.5 * text.length;
    }
  }

  const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                   "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

  // The colour of v on a scale from lo (blue) through white to hi (orange), as the
  // Playground draws its maps.
  function colour(v, lo, hi) {
    if (v === null || !Number.isFinite(v)) return "#999";
    const s = Math.max(0, Math.min(1, (v - lo) / (hi - lo)));
    const blue = [8, 119, 189], white = [247, 247, 247], orange = [245, 147, 34];
    const [a, b, k] = s < 0.5 ? [blue, white, s * 2] : [white, orange, (s - 0.5) * 2];
    return "rgb(" + a.map(function (c, i) { return Math.round(c + (b[i] - c) * k); }).join(",") + ")";
  }

  // ------------------------------------------------------------ the panels of this page
  const draw = [];  // functions of the frame index

  const epochRange = [epochs[0], Math.max(epochs[last], epochs[0] + 1)];
  const errors = data.errors;

  if (data.inputs === 1) {
    const grid = data.grid, xs = data.samples.x, ts = data.samples.t;
    const tRange = extent(ts, [-1, 1]);
    const fitY = padded(tRange, 0.35);
    const fit = panel("fit", "fit: the network's output y(x)", [grid[0], grid[grid.length - 1]], fitY);
    if (data.target) path(fit, data.target.x, data.target.t, {class: "target"}, fit.over);
    for (let i = 0; i < xs.length; i++) {
      element("circle", {cx: fit.x(xs[i]), cy: fit.y(ts[i]), r: 2.6, class: "sample"}, fit.over);
    }
    legend(fit, data.target ? [["target sin", "target"], ["output", "output"]] : [["output", "output"]]);
    draw.push(function (f) {
      fit.layer.replaceChildren();
      path(fit, grid, unpack(data.output, f), {class: "output"});
    });

    if (data.contributions) {
      const all = flat(data.contributions.values.map(function (rows) { return flat(rows); }))
        .map(function (v) { return v === null ? null : v * data.contributions.scale; });
      const cap = 20 * (tRange[1] - tRange[0]);
      let range = extent(all.concat(data.bias), [-1, 1]);
      range = padded([Math.max(range[0], -cap), Math.min(range[1], cap)], 0.08);
      const what = data.preActivation ? "u" : "y";
      const contrib = panel("contributions", "contributions w_j·y_j(x) and bias b (sum: " + what + ")",
                            [grid[0], grid[grid.length - 1]], range);
      const k = data.contributions.values[0].length;
      const entries = [];
      for (let j = 0; j < k; j++) entries.push(["unit " + (j + 1), "unit u" + (j % 10)]);
      entries.push(["bias", "bias"]);
      legend(contrib, entries);
      draw.push(function (f) {
        contrib.layer.replaceChildren();
        unpackRows(data.contributions, f).forEach(function (row, j) {
          path(contrib, grid, row, {class: "unit u" + (j % 10)});
        });
        const b = data.bias[f];
        path(contrib, [grid[0], grid[grid.length - 1]], [b, b], {class: "bias"});
      });
    }
  } else if (data.inputs === 2) {
    const plane = data.plane, n = plane.n, s = data.samples;
    const da = (plane.a[1] - plane.a[0]) / 2, db = (plane.b[1] - plane.b[0]) / 2;
    const aRange = [plane.a[0] - da, plane.a[n - 1] + da], bRange = [plane.b[0] - db, plane.b[n - 1] + db];
    const tRange = extent(s.t, [0, 1]);
    function mapPanel(id, title, lo, hi, parent) {
      const small = parent !== undefined;
      const p = panel(id, title, aRange, bRange, {small: small, parent: parent,
                                                   width: small ? 230 : 380,
                                                   height: small ? 230 : 380});
      const cells = [];
      for (let r = 0; r < n; r++) {
        for (let c = 0; c < n; c++) {
          const x0 = p.x(plane.a[c] - da), y0 = p.y(plane.b[r] + db);
          cells.push(element("rect", {x: x0.toFixed(1), y: y0.toFixed(1),
                                      width: (p.x(plane.a[c] + da) - x0 + 0.5).toFixed(1),
                                      height: (p.y(plane.b[r] - db) - y0 + 0.5).toFixed(1)}, p.layer));
        }
      }
      return {panel: p, paint: function (values) {
        values.forEach(function (v, i) { cells[i].setAttribute("fill", colour(v, lo, hi)); });
      }};
    }
    const fit = mapPanel("fit", "fit: the output over the input plane", tRange[0], tRange[1]);
    for (let i = 0; i < s.a.length; i++) {
      element("circle", {cx: fit.panel.x(s.a[i]), cy: fit.panel.y(s.b[i]), r: 5,
                         fill: colour(s.t[i], tRange[0], tRange[1]), class: "point"}, fit.panel.over);
    }
    draw.push(function (f) { fit.paint(unpack(data.output, f)); });
    if (data.units) {
      const k = data.units.values[0].length;
      const all = flat(data.units.values.map(function (rows) { return flat(rows); }))
        .map(function (v) { return v === null ? null : v * data.units.scale; });
      const range = extent(all, [0, 1]);
      const maps = [];
      const box = document.createElement("figure");  // the units' small maps side by side
      box.className = "panel units";
      box.id = "units";
      panels.appendChild(box);
      for (let j = 0; j < k; j++) {
        maps.push(mapPanel("unit" + (j + 1), "hidden unit " + (j + 1), range[0], range[1], box));
      }
      draw.push(function (f) {
        unpackRows(data.units, f).forEach(function (row, j) { maps[j].paint(row); });
      });
    }
  }

  if (data.inputs) {
    const rx = data.residualX;
    const xRange = data.inputs === 1 ? [data.grid[0], data.grid[data.grid.length - 1]]
                                     : [-0.5, rx.length - 0.5];
    const resid = panel("residual", "residual y − t at each sample" +
                        (data.inputs === 2 ? " (by sample number)" : ""), xRange, [-1, 1]);
    draw.push(function (f) {
      const r = unpack(data.residual, f);
      const top = maxOf(finite(r).map(Math.abs).concat([1e-12])) * 1.1;
      resid.y = function (v) { return resid.top + (top - v) / (2 * top) * (resid.bottom - resid.top); };
      drawTicks(resid, xRange, [-top, top], {});
      resid.layer.replaceChildren();
      element("line", {x1: resid.left, x2: resid.right, y1: resid.y(0), y2: resid.y(0), class: "zero"}, resid.layer);
      r.forEach(function (v, i) {
        if (v === null) return;
        element("line", {x1: resid.x(rx[i]), x2: resid.x(rx[i]), y1: resid.y(0),
                         y2: clamp(resid.y(v)), class: "stem"}, resid.layer);
        element("circle", {cx: resid.x(rx[i]), cy: clamp(resid.y(v)), r: 2.2, class: "stem"},
                resid.layer);
      });
    });
  }

  // The error on a log scale, with the chosen epoch marked.
  {
    const good = finite(errors).filter(function (v) { return v > 0; });
    const range = good.length ? [minOf(good) / 1.5, maxOf(good) * 1.5] : [1e-3, 1];
    const p = panel("error", data.errorTitle, epochRange, range, {log: true});
    path(p, epochs, errors, {class: "error"}, p.over);
    const marker = element("circle", {r: 5, class: "marker"}, p.over);
    const rule = element("line", {y1: p.top, y2: p.bottom, class: "now"}, p.over);
    draw.push(function (f) {
      const x = p.x(epochs[f]);
      rule.setAttribute("x1", x); rule.setAttribute("x2", x);
      const e = errors[f];
      marker.style.display = e !== null && e > 0 ? "" : "none";
      if (e !== null && e > 0) { marker.setAttribute("cx", x); marker.setAttribute("cy", clamp(p.y(e))); }
    });
  }

  // Mean |∂w| and mean |w| per parameter, over epochs.
  for (const [id, title, rows] of [["grads", "mean |∂w| per parameter", data.gradSizes],
                                     ["weights", "mean |w| per parameter", data.weightSizes]]) {
    const good = finite(flat(rows)).filter(function (v) { return v > 0; });
    const range = good.length ? [minOf(good) / 1.5, maxOf(good) * 1.5] : [1e-3, 1];
    const p = panel(id, title, epochRange, range, {log: true});
    const entries = [];
    data.names.forEach(function (name, i) {
      const column = rows.map(function (row) { return row[i]; });
      path(p, epochs, column, {class: "param c" + (i % 10)}, p.over);
      entries.push([name, "param c" + (i % 10)]);
    });
    legend(p, entries.slice(0, 8));
    const rule = element("line", {y1: p.top, y2: p.bottom, class: "now"}, p.over);
    draw.push(function (f) {
      const x = p.x(epochs[f]);
      rule.setAttribute("x1", x); rule.setAttribute("x2", x);
    });
  }

  // ------------------------------------------------------------ one step at this epoch
  let shownStep = null;
  function showStep(epoch) {
    if (stepEpochs.length === 0) {
      stepTitle.textContent = "One training step";
      stepHelp.textContent = data.stepNote;
      explorer.hidden = true;
      return;
    }
    const before = stepEpochs.filter(function (e) { return e <= epoch; });
    const at = before.length ? before[before.length - 1] : stepEpochs[0];
    stepTitle.textContent = "One training step at epoch " + at;
    stepHelp.textContent = (at === epoch ? "" : "Epoch " + epoch + " has no step of its own here; " +
      "this is the nearest epoch before it that has one. ") +
      "Steps are kept for epochs " + stepEpochs.join(", ") +
      ". Click into the step and use ← / → to walk it: forward, backward, then the update.";
    if (shownStep !== at) {
      explorer.srcdoc = data.steps[String(at)];
      explorer.dataset.epoch = String(at);
      shownStep = at;
    }
  }

  // ------------------------------------------------------------ moving
  let current = -1;
  function go(index) {
    if (!Number.isInteger(index)) return;
    index = Math.max(0, Math.min(last, index));
    current = index;
    for (const f of draw) f(index);
    slider.value = String(index);
    line.textContent = data.lines[index];
    note.textContent = data.notes[index];
    counter.textContent = "epoch " + epochs[index] + " · frame " + (index + 1) + " of " + (last + 1);
    document.body.dataset.frame = String(index);
    document.body.dataset.epoch = String(epochs[index]);
    prevButton.disabled = index === 0;
    nextButton.disabled = index === last;
    showStep(epochs[index]);
    const hash = "#epoch=" + epochs[index];
    if (location.hash !== hash) {
      try {
        history.replaceState(null, "", hash);
      } catch (error) {
        // a sandboxed frame (Jupyter's srcdoc) may refuse; the page works without it
      }
    }
  }

  function frameOfEpoch(epoch) {
    let found = 0;
    epochs.forEach(function (e, i) { if (e <= epoch) found = i; });
    return found;
  }
  function epochInHash() {
    const match = /^#epoch=(\d+)$/.exec(location.hash);
    return match === null ? null : Number(match[1]);
  }

  let timer = null;
  function play(on) {
    if (on && current === last) go(0);
    if (timer !== null) clearInterval(timer);
    timer = on ? setInterval(function () {
      if (current >= last) { play(false); return; }
      go(current + 1);
    }, 90) : null;
    playButton.textContent = on ? "❚❚ Pause" : "▶ Play";
    document.body.dataset.playing = on ? "yes" : "no";
  }

  playButton.addEventListener("click", function () { play(timer === null); });
  prevButton.addEventListener("click", function () { play(false); go(current - 1); });
  nextButton.addEventListener("click", function () { play(false); go(current + 1); });
  slider.addEventListener("input", function () { play(false); go(Number(slider.value)); });
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === " " && event.target === document.body) {
      event.preventDefault();
      play(timer === null);
      return;
    }
    const moves = {ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: last};
    if (!(event.key in moves)) return;
    event.preventDefault(); // the slider would move a second time
    play(false);
    go(moves[event.key]);
  });
  window.addEventListener("hashchange", function () {
    const epoch = epochInHash();
    if (epoch !== null && epoch !== epochs[current]) go(frameOfEpoch(epoch));
  });

  const asked = epochInHash();
  go(asked === null ? data.start : frameOfEpoch(asked));
})();
