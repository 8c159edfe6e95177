// The explorer page's script (viz/explore.py inlines it into each page).
//
// The page holds the diagram as SVG and the steps as JSON: for each step its
// text, its phase ("forward", "backward" or "update"), the node's name, the id of the
// node's box in the SVG and the id of the op's oval (null for a leaf, or for
// a node folded into a collapsed layer's box); and for each box and oval the
// name its tooltip shows (a collapsed layer's: the layer).  This script only moves
// between steps and marks the diagram; every word it shows comes from Python.
(function () {
  "use strict";

  const data = JSON.parse(document.getElementById("steps-data").textContent);
  const steps = data.steps;
  const last = steps.length - 1;
  const diagram = document.getElementById("diagram");
  const svg = diagram.querySelector("svg");
  const text = document.getElementById("text");
  const slider = document.getElementById("slider");
  const counter = document.getElementById("counter");
  const prevButton = document.getElementById("prev");
  const nextButton = document.getElementById("next");
  const zoomButton = document.getElementById("zoom");

  // Graphviz writes each edge's ends into its <title> as "tail->head"; the
  // ends are the ids we gave the boxes and ovals.  Edges by the node they enter:
  const edgesInto = new Map();
  for (const edge of svg.querySelectorAll("g.edge")) {
    const title = edge.querySelector("title");
    const head = title.textContent.split("->")[1];
    if (!edgesInto.has(head)) edgesInto.set(head, []);
    edgesInto.get(head).push(edge);
    title.remove(); // "v1->op2" would be a puzzling tooltip
  }

  // The rows that change from step to step: each box's gradient (the running total while
  // contributions arrive, then the final value) and a parameter's value after its update.
  // For each, Python listed [step, text, state] wherever it changes, in step order.
  const rows = [];
  for (const [box, classes] of Object.entries(data.rows || {})) {
    const g = document.getElementById(box);
    if (g === null) continue;
    for (const [className, changes] of Object.entries(classes)) {
      for (const element of g.querySelectorAll("text." + className)) {
        rows.push({element: element, changes: changes});
      }
    }
  }

  function showRows(index) {
    for (const row of rows) {
      let shown = row.changes[0];
      for (const change of row.changes) {
        if (change[0] > index) break;
        shown = change;
      }
      if (shown[1] !== null) row.element.textContent = shown[1];
      row.element.setAttribute("data-state", shown[2]);
    }
  }

  let current = -1; // the step shown; the click handlers below read it
  const marked = []; // [element, class] pairs to unmark on the next move

  // Steps by the box or oval they are about; a click there goes to the next one.
  const stepsAt = new Map();
  steps.forEach(function (step, index) {
    for (const id of [step.box, step.op]) {
      if (id === null) continue;
      if (!stepsAt.has(id)) stepsAt.set(id, []);
      stepsAt.get(id).push(index);
    }
  });
  for (const [id, indices] of stepsAt) {
    const g = document.getElementById(id);
    if (g === null) continue;
    g.classList.add("steppable");
    const title = g.querySelector("title");
    if (title !== null) title.textContent = data.titles[id] + " (click: its next step)";
    g.addEventListener("click", function () {
      go(indices.find(function (i) { return i > current; }) ?? indices[0]);
    });
  }

  function mark(id, className) {
    const element = id === null ? null : document.getElementById(id);
    if (element === null) return null;
    element.classList.add(className);
    marked.push([element, className]);
    return element;
  }

  function go(index) {
    if (!Number.isInteger(index)) return;
    index = Math.max(0, Math.min(last, index));
    current = index;
    const step = steps[index];
    for (const [element, className] of marked.splice(0)) element.classList.remove(className);

    // Done in this phase: the steps from the phase's first one up to here.
    for (let i = index; i >= 0 && steps[i].phase === step.phase; i--) mark(steps[i].box, "visited");
    mark(step.op, "current-op");
    const box = mark(step.box, "current");
    for (const id of [step.box, step.op]) {
      for (const edge of edgesInto.get(id) || []) {
        edge.classList.add("active");
        marked.push([edge, "active"]);
      }
    }

    document.body.dataset.phase = step.phase;
    document.body.dataset.step = String(index);
    showText(step.text);
    showRows(index);
    slider.value = String(index);
    counter.textContent = "step " + index + " of 0–" + last + " · " + step.phase;
    prevButton.disabled = index === 0;
    nextButton.disabled = index === last;
    if (box !== null) bringIntoView(box);
    const hash = "#step=" + index;
    if (location.hash !== hash) {
      try {
        history.replaceState(null, "", hash); // no new history entry per step
      } catch (error) {
        // a sandboxed frame (Jupyter's srcdoc) may refuse; the page works without it
      }
    }
  }

  // The step's text, one block per line: a long line wraps under its own
  // indentation (a hanging indent) instead of at the panel's left edge, and
  // only at the text's own separators: two or more spaces (between a label and
  // its formula, between two formulas) and ", " (between numbers).  The pieces
  // between them (a formula such as "∂t = −∂E · (y2 − t)") never break; one
  // wider than the panel scrolls.  Each line keeps its "\n", so the panel's
  // text is the step's text exactly.
  function showText(stepText) {
    const lines = stepText.split("\n");
    text.replaceChildren(...lines.map(function (line, i) {
      const span = document.createElement("span");
      span.className = "line";
      const indent = line.length - line.trimStart().length;
      span.style.setProperty("--indent", (indent + 4) + "ch");
      line.split(/( {2,}|, )/).forEach(function (part, k) {
        if (part === "") return;
        if (k % 2 === 1) { // a separator: a line may break here
          span.append(part);
          return;
        }
        const piece = document.createElement("span");
        piece.className = "piece";
        piece.textContent = part;
        span.append(piece);
      });
      if (i < lines.length - 1) span.append("\n");
      return span;
    }));
  }

  // Fit to width, but never below a readable size: a wide diagram (a 1-5-4-1 net
  // drawn left to right) keeps its boxes' smallest text at READABLE_PX pixels and
  // scrolls instead (CSS's min-width wins over the fit's max-width).
  const READABLE_PX = 9;
  const sizes = [...svg.querySelectorAll("g.node text")].map(function (t) {
    return Number(t.getAttribute("font-size"));
  }).filter(function (size) { return size > 0; });
  if (sizes.length > 0 && svg.viewBox.baseVal !== null && svg.viewBox.baseVal.width > 0) {
    const smallest = Math.min(...sizes); // in the diagram's own units, as its viewBox
    svg.style.minWidth = (svg.viewBox.baseVal.width * READABLE_PX / smallest) + "px";
  }

  // Scroll the diagram only when the box (with some room around it, for the
  // edges into it) is not all in view; then put it in the middle.
  function bringIntoView(box) {
    const view = diagram.getBoundingClientRect();
    const rect = box.getBoundingClientRect();
    const room = 0.15 * Math.min(view.height, view.width);
    const inside = rect.top - room >= view.top && rect.bottom + room <= view.bottom &&
      rect.left >= view.left && rect.right <= view.right;
    if (inside) return;
    // Scroll the diagram only (scrollIntoView would also scroll a page this one is
    // embedded in, as the learning page embeds it), putting the box in the middle.
    diagram.scrollBy({
      left: rect.left + rect.width / 2 - (view.left + view.width / 2),
      top: rect.top + rect.height / 2 - (view.top + view.height / 2),
    });
  }

  function stepInHash() {
    const match = /^#step=(\d+)$/.exec(location.hash);
    return match === null ? null : Number(match[1]);
  }

  prevButton.addEventListener("click", function () { go(current - 1); });
  nextButton.addEventListener("click", function () { go(current + 1); });
  slider.addEventListener("input", function () { go(Number(slider.value)); });
  zoomButton.addEventListener("click", function () {
    const fit = diagram.classList.toggle("fit");
    zoomButton.textContent = fit ? "actual size" : "fit to width";
    go(current); // scroll back to the current box
  });
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return; // Alt+← is the browser's "back"
    const moves = {ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: last};
    if (!(event.key in moves)) return;
    event.preventDefault(); // the slider would move a second time
    go(moves[event.key]);
  });
  window.addEventListener("hashchange", function () {
    const index = stepInHash();
    if (index !== null && index !== current) go(index);
  });

  go(stepInHash() ?? data.start);
})();
