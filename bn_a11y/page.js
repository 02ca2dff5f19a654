// What the app adds to every page for keyboard and screen-reader users, things Streamlit does
// not do itself. It watches the page, since Streamlit redraws it, and fixes up:
//
// 1. Scroll boxes a keyboard can reach. A formula or code block wider than its column scrolls
//    sideways; WCAG 2.1 (2.1.1, keyboard) asks that a keyboard user can scroll it too, which a
//    box can do only once it takes focus. Streamlit draws these boxes without a tabindex, so
//    every box that really scrolls gets tabindex=0, role=region and a name, and loses them when
//    it no longer scrolls (a wider window).
// 2. Charts with a name and a description. A figure that carries them in layout.meta (the
//    pages put them there: bn_app.ui.chart, from bn_viz.describe) becomes a figure element
//    named by them; its SVG, a maze of tick labels to a screen reader, is hidden from it.
// 3. Chart toolbars out of the Tab order: each toolbar had 8 buttons, 8 Tab stops per chart.
//    Only "Download plot as a PNG" stays reachable; the toolbar shows while it has focus.

const BOXES = [[".katex-display", "Formula"], ["pre", "Code"]];
const MARK = "bnlabScrollBox";
let scheduled = false;

// A box's content can grow without a change to the page's elements (its fonts load), so each
// box and its content are watched for size changes too.
const resized = new ResizeObserver(() => schedule());
const watched = new WeakSet();

function scrolls(el) {
  return el.scrollWidth > el.clientWidth || el.scrollHeight > el.clientHeight;
}

function watch(el) {
  if (watched.has(el)) return;
  watched.add(el);
  resized.observe(el);
  if (el.firstElementChild) resized.observe(el.firstElementChild);
}

function mark() {
  for (const [selector, name] of BOXES) {
    for (const el of document.querySelectorAll(selector)) {
      watch(el);
      if (scrolls(el) && !el.hasAttribute("tabindex")) {
        el.tabIndex = 0;
        el.setAttribute("role", "region");
        el.setAttribute("aria-label", `${name}, scrolls sideways`);
        el.dataset[MARK] = "1";
      } else if (!scrolls(el) && el.dataset[MARK]) {
        el.removeAttribute("tabindex");
        el.removeAttribute("role");
        el.removeAttribute("aria-label");
        delete el.dataset[MARK];
      }
    }
  }
}

// --- charts ---------------------------------------------------------------------------------

const META = "bnlab_text"; // bn_a11y.CHART_TEXT_META
let described = 0;

function labelChart(box, text) {
  box.setAttribute("role", "figure");
  if (box.getAttribute("aria-label") !== text.name) box.setAttribute("aria-label", text.name);
  let note = box.querySelector(":scope > .bnlab-chart-description");
  if (!note) {
    note = document.createElement("div");
    note.className = "bnlab-chart-description";
    note.id = `bnlab-chart-description-${++described}`;
    note.hidden = true;
    box.appendChild(note);
  }
  if (note.textContent !== text.description) note.textContent = text.description;
  box.setAttribute("aria-describedby", note.id);
  for (const svg of box.querySelectorAll("svg.main-svg")) {
    if (!svg.hasAttribute("aria-hidden")) svg.setAttribute("aria-hidden", "true");
  }
}

function labelCharts() {
  for (const plot of document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')) {
    const text = plot.layout && plot.layout.meta && plot.layout.meta[META];
    if (text) labelChart(plot.closest('[data-testid="stPlotlyChart"]'), text);
  }
}

function quietToolbars() {
  for (const button of document.querySelectorAll(".modebar-btn")) {
    const keep = (button.getAttribute("data-title") || "").startsWith("Download");
    if (!keep && button.getAttribute("tabindex") !== "-1") button.setAttribute("tabindex", "-1");
  }
}

function fixUp() {
  scheduled = false;
  mark();
  labelCharts();
  quietToolbars();
}

function schedule() {
  if (!scheduled) {
    scheduled = true;
    requestAnimationFrame(fixUp);
  }
}

export default function () {
  if (!window.__bnlabPageWatcher) {
    window.__bnlabPageWatcher = true;
    new MutationObserver(schedule).observe(document.body, { subtree: true, childList: true });
    window.addEventListener("resize", schedule);
  }
  schedule();
}
