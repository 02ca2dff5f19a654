// Keyboard exploration of a live chart, for a student who cannot see it (WCAG 2.1: 1.1.1 and
// 2.1.1). Each chart takes focus with Tab. While training is paused, keys walk its lines a
// point at a time; each point is read out in a polite live region and shown with Plotly's own
// hover label:
//   Left / Right        previous / next point (with Shift: 10 points)
//   Page Up / Page Down a tenth of the line back / on
//   Home / End          first / last point
//   Up / Down           previous / next line, at the point nearest the same x
// Only these keys are taken, and only while the chart has focus: Tab moves on, and
// Streamlit's own keys still work. The chart's role is "application" (described as a chart),
// so that screen readers pass the arrow keys to it instead of reading the page with them.
//
// Loaded before live_chart.js, into the same module (bn_live joins the two files).

const EXPLORE_HELP =
  "When training is paused, arrow keys explore this chart: Left and Right move along a " +
  "line, Up and Down change lines, Home and End jump to its ends.";
const EXPLORE_KEYS = new Set(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End",
                              "PageUp", "PageDown"]);
let explorables = 0;

function hiddenText(box, className, text) {
  const el = document.createElement("div");
  el.className = className;
  el.id = `bnlab-live-${++explorables}-${className}`;
  el.hidden = true;
  el.textContent = text;
  box.appendChild(el);
  return el;
}

// The chart's box becomes focusable, named (aria-label, from its message), described (its
// description, then how to explore it), with a live region for what the keys read out.
function makeExplorable(chart) {
  const { box } = chart;
  box.tabIndex = 0;
  box.setAttribute("role", "application");
  box.setAttribute("aria-roledescription", "chart");
  chart.description = hiddenText(box, "bnlab-live-description", "");
  const help = hiddenText(box, "bnlab-live-help", EXPLORE_HELP);
  box.setAttribute("aria-describedby", `${chart.description.id} ${help.id}`);
  chart.readout = document.createElement("div");
  chart.readout.className = "bnlab-live-readout bnlab-sr-only";
  chart.readout.setAttribute("role", "status");
  chart.readout.setAttribute("aria-live", "polite");
  chart.readout.setAttribute("aria-atomic", "true");
  box.appendChild(chart.readout);
  chart.cursor = null;
  box.addEventListener("keydown", (event) => explore(chart, event));
  box.addEventListener("blur", () => {
    if (chart.cursor && window.Plotly) window.Plotly.Fx.unhover(chart.plot);
  });
}

function plainText(text) {
  return String(text || "").replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim();
}

function asNumbers(values) {
  if (values && values.bdata !== undefined) return decode(values);
  return values || [];
}

// An axis's title as the figure gives it (Plotly's full layout would say "Click to enter X
// axis title" for none); a line chart's untitled x axis is the training step.
function axisTitle(gd, name, series) {
  const axis = gd.layout && gd.layout[`${name[0]}axis${name.slice(1)}`];
  const title = axis && axis.title;
  return plainText(typeof title === "string" ? title : title && title.text)
    || (series && name[0] === "x" ? "step" : name[0]);
}

// The lines a student can walk: every trace with points that is meant to be read (not a
// band's edge or fill or a faint background line drawn with hoverinfo "skip", nor a
// legend-only entry).
function readableLines(gd, series) {
  const lines = [];
  (gd.data || []).forEach((trace, index) => {
    if (trace.visible === false || trace.visible === "legendonly") return;
    const line = (trace.type || "scatter") === "scatter" && (trace.mode || "lines").includes("lines");
    if (line && (trace.hoverinfo === "skip" || trace.hoverinfo === "none")) return;
    const x = asNumbers(trace.x);
    const y = asNumbers(trace.y);
    if (!y.length || !x.length || !Array.from(y).some(Number.isFinite)) return;
    const xa = trace.xaxis || "x";
    const ya = trace.yaxis || "y";
    lines.push({ index, x, y, subplot: xa + ya, name: plainText(trace.name) || `line ${index + 1}`,
                 group: plainText(trace.legendgroup), xTitle: axisTitle(gd, xa, series),
                 yTitle: axisTitle(gd, ya, series) });
  });
  for (const line of lines) { // a name used twice on one panel takes its group's
    const twins = lines.filter((l) => l.subplot === line.subplot && l.name === line.name);
    if (twins.length > 1 && line.group && !line.name.includes(line.group)) {
      line.label = `${line.group}, ${line.name}`;
    }
  }
  return lines;
}

function spoken(value) {
  if (typeof value === "string") return value;
  if (!Number.isFinite(value)) return "no value";
  if (value === 0) return "0";
  const size = Math.abs(value);
  const text = size >= 1e-3 && size < 1e5 ? String(Number(value.toPrecision(3)))
    : value.toExponential(2);
  return text.replace("-", "minus ");
}

function nearest(xs, x) {
  let best = 0;
  for (let i = 1; i < xs.length; i++) {
    if (Math.abs(xs[i] - x) < Math.abs(xs[best] - x)) best = i;
  }
  return best;
}

function readOut(chart, text) {
  chart.readout.textContent = text;
  const said = (stats.readouts = stats.readouts || []);
  said.push(text);
  if (said.length > 100) said.shift();
}

function explore(chart, event) {
  if (!EXPLORE_KEYS.has(event.key)) return;
  event.preventDefault();
  if (chart.playing) {
    readOut(chart, "Pause training to explore this chart.");
    return;
  }
  const lines = readableLines(chart.plot, chart.series);
  if (!lines.length) {
    readOut(chart, "Nothing to explore yet: train a few steps first.");
    return;
  }
  let { line, point } = chart.cursor || { line: 0, point: lines[0].y.length - 1 };
  line = Math.min(line, lines.length - 1);
  const before = lines[line];
  const n = before.y.length;
  const tenth = Math.max(1, Math.round(n / 10));
  const moves = { ArrowLeft: -(event.shiftKey ? 10 : 1), ArrowRight: event.shiftKey ? 10 : 1,
                  PageUp: -tenth, PageDown: tenth, Home: -n, End: n };
  let changedLine = !chart.cursor;
  if (event.key in moves && chart.cursor) {
    point = Math.max(0, Math.min(n - 1, point + moves[event.key]));
  } else if ((event.key === "ArrowUp" || event.key === "ArrowDown") && chart.cursor) {
    line = (line + (event.key === "ArrowDown" ? 1 : lines.length - 1)) % lines.length;
    point = nearest(lines[line].x, before.x[Math.min(point, before.x.length - 1)]);
    changedLine = true;
  }
  point = Math.min(point, lines[line].y.length - 1);
  chart.cursor = { line, point };
  const at = lines[line];
  const name = at.label || at.name;
  let text = `${name}: ${at.yTitle} ${spoken(at.y[point])} at ${at.xTitle} ${spoken(at.x[point])}`;
  if (at.y.length === 1) text += ", the only point";
  else if (point === 0) text += ", first point";
  else if (point === at.y.length - 1) text += ", last point";
  if (changedLine) text += `. Line ${line + 1} of ${lines.length}`;
  readOut(chart, `${text}.`);
  try {
    window.Plotly.Fx.hover(chart.plot, [{ curveNumber: at.index, pointNumber: point }],
                           at.subplot);
  } catch (err) { /* a hover label is a bonus: the read-out above is what counts */ }
}
