// The live chart: Plotly.js figures that stay mounted while the network trains.
//
// Streamlit calls the default export on every run with the message Python built (bn_live
// and bn_viz.live). A chart's message holds either a whole `figure` (drawn with Plotly.react)
// or `extend`: per trace, the points recorded since step `after`. Those are queued and played
// back at an even pace over about one tick, a few steps per animation frame, with
// Plotly.extendTraces, so every step is drawn and the motion is smooth, not bursty.
// window.bnlabLive keeps counts (ticks received, frames drawn) for tests and benchmarks.

const CONFIG = { displaylogo: false, responsive: true };
const states = new WeakMap(); // parentElement -> { charts: Map(id -> chart) }
// charts: per chart id, ticks received, frames drawn (extendTraces), whole figures drawn, gaps
// found and ms spent in Plotly; busy: charts with points or a figure still to draw.
const stats = (window.bnlabLive = window.bnlabLive || { charts: {}, busy: 0 });
let plotlyLoading = null;

function loadPlotly(url) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!plotlyLoading) {
    plotlyLoading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = new URL(url, document.baseURI.replace(/[^/]*$/, "")).href;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => { plotlyLoading = null; reject(new Error(`cannot load ${url}`)); };
      document.head.appendChild(script);
    });
  }
  return plotlyLoading;
}

// Plotly's typed-array form {dtype, bdata} -> a typed array (for the points to append).
const TYPES = { f4: Float32Array, f8: Float64Array, i4: Int32Array, u1: Uint8Array };
function decode(spec) {
  if (!spec || spec.bdata === undefined) return Array.isArray(spec) ? spec : [];
  const bytes = Uint8Array.from(atob(spec.bdata), (c) => c.charCodeAt(0));
  return new TYPES[spec.dtype](bytes.buffer);
}

function chartStats(id) {
  return (stats.charts[id] = stats.charts[id] || { ticks: 0, frames: 0, figures: 0, gaps: 0,
                                                   ms: 0 });
}

function makeChart(root, id) {
  const box = document.createElement("div");
  box.className = "bnlab-live-chart";
  box.dataset.chartId = id;
  box.setAttribute("role", "figure");
  const plot = document.createElement("div");
  plot.className = "bnlab-live-plot";
  const hint = document.createElement("div");
  hint.className = "bnlab-live-hint";
  box.append(plot, hint);
  root.appendChild(box);
  return { id, box, plot, hint, last: null, queue: [], pace: null, lastArrival: null,
           pending: null, drawn: false, present: false, readyAt: 0 };
}

function styled(layout, present) {
  if (!present) return layout;
  const font = { ...(layout.font || {}), size: 18 };
  return { ...layout, font, height: (layout.height || 320) + 80 };
}

function drawFigure(chart, figure, present, series) {
  chart.queue = [];
  const layout = styled(figure.layout, present);
  // A series chart's lines are extended later: they must be arrays, not {dtype, bdata}.
  const data = series
    ? figure.data.map((t) => ({ ...t, x: Array.from(decode(t.x)), y: Array.from(decode(t.y)) }))
    : figure.data;
  chart.plot.style.height = `${layout.height}px`;
  const t0 = performance.now();
  window.Plotly.react(chart.plot, data, layout, CONFIG);
  chartStats(chart.id).ms += performance.now() - t0;
  chartStats(chart.id).figures += 1;
}

// One tick's points: play them from step `from` to step `to` over `duration` ms.
function enqueue(chart, extend, after, intervalMs) {
  const now = performance.now();
  if (chart.lastArrival !== null) {
    const gap = Math.min(Math.max(now - chart.lastArrival, 100), 2000);
    chart.pace = chart.pace === null ? gap : 0.7 * chart.pace + 0.3 * gap;
  }
  chart.lastArrival = now;
  const duration = chart.pace === null ? intervalMs : Math.min(chart.pace, intervalMs * 1.5);
  const item = { x: extend.x.map(decode), y: extend.y.map(decode), from: after,
                 to: extend.last, duration, start: null, drawn: extend.x.map(() => 0) };
  if (chart.queue.length >= 2) flush(chart, 1); // never lag more than about a tick
  chart.queue.push(item);
  chart.last = extend.last;
  chartStats(chart.id).ticks += 1;
}

// Append the points of `item` up to step `upTo` that are not drawn yet. True if any.
function appendUpTo(chart, item, upTo) {
  const xs = [], ys = [], traces = [];
  item.x.forEach((x, i) => {
    let end = item.drawn[i];
    while (end < x.length && x[end] <= upTo) end += 1;
    if (end > item.drawn[i]) {
      xs.push(Array.from(x.subarray(item.drawn[i], end)));
      ys.push(Array.from(item.y[i].subarray(item.drawn[i], end)));
      traces.push(i);
      item.drawn[i] = end;
    }
  });
  if (traces.length === 0) return false;
  const t0 = performance.now();
  window.Plotly.extendTraces(chart.plot, { x: xs, y: ys }, traces);
  chartStats(chart.id).ms += performance.now() - t0;
  chartStats(chart.id).frames += 1;
  return true;
}

function concat(arrays) {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) { out.set(a, at); at += a.length; }
  return out;
}

// Draw at once, in one call, the points of every queued tick but the last `keep`.
function flush(chart, keep = 0) {
  const items = chart.queue.splice(0, Math.max(0, chart.queue.length - keep));
  if (items.length === 0) return;
  const rest = (key) => items[0][key].map((_, i) =>
    concat(items.map((it) => it[key][i].subarray(it.drawn[i]))));
  appendUpTo(chart, { x: rest("x"), y: rest("y"), drawn: items[0].x.map(() => 0) }, Infinity);
}

// One Plotly call per animation frame at most, the charts taking turns; after a call that
// took c ms the next waits c ms, so drawing never takes more than about half the main thread
// and clicks, sliders and hover stay responsive on a slow machine.
const HEAVY_MS = 40;
let frameRequested = false;
let nextAt = 0;
let turn = 0;
const live = new Set();

function work(chart, now) {
  if (chart.pending) {
    const figure = chart.pending;
    chart.pending = null;
    drawFigure(chart, figure, chart.present, false);
    return true;
  }
  const item = chart.queue[0];
  if (!item) return false;
  if (item.start === null) item.start = now;
  const t = Math.min(1, (now - item.start) / item.duration);
  const drew = appendUpTo(chart, item, item.from + t * (item.to - item.from));
  if (t >= 1) chart.queue.shift();
  return drew;
}

function frame(now) {
  frameRequested = false;
  for (const chart of live) {
    if (!chart.pending && chart.queue.length === 0) live.delete(chart);
  }
  stats.busy = live.size;
  if (live.size === 0) return;
  if (now >= nextAt) {
    const charts = [...live];
    for (let k = 0; k < charts.length; k++) {
      const chart = charts[(turn + k) % charts.length];
      if (chart.readyAt > now) continue;
      const t0 = performance.now();
      if (work(chart, now)) {
        const cost = performance.now() - t0;
        turn = (turn + k + 1) % charts.length;
        nextAt = now + cost;
        // a heavy figure (many panels) waits longer, so the light ones keep flowing
        chart.readyAt = now + (cost > HEAVY_MS ? 4 * cost : 0);
        break;
      }
    }
  }
  requestFrame();
}

function requestFrame() {
  if (!frameRequested) {
    frameRequested = true;
    requestAnimationFrame(frame);
  }
}

function receive(component, state, message) {
  const { parentElement, setTriggerValue } = component;
  const seen = new Set();
  for (const m of message.charts) {
    seen.add(m.id);
    let chart = state.charts.get(m.id);
    if (!chart) {
      chart = makeChart(state.root, m.id);
      state.charts.set(m.id, chart);
    }
    if (m.label) chart.box.setAttribute("aria-label", m.label);
    if (m.figure || m.extend) chart.hint.textContent = m.hint || "";
    chart.present = message.present;
    if (m.figure && message.playing && !m.series && chart.drawn) {
      chart.pending = m.figure; // a snapshot while playing: drawn in its turn
      live.add(chart);
      requestFrame();
    } else if (m.figure) {
      chart.pending = null;
      drawFigure(chart, m.figure, message.present, m.series);
      chart.drawn = true;
      chart.last = m.last;
    } else if (m.extend) {
      if (chart.last === null || chart.last !== m.after || state.run !== message.run) {
        setTriggerValue("gap", m.id); // missed a tick: ask for the whole figure again
        chartStats(chart.id).gaps += 1;
        continue;
      }
      if (m.extend.last > m.after) {
        enqueue(chart, m.extend, m.after, message.interval_ms);
        live.add(chart);
        requestFrame();
      }
    }
    if (m.figure || m.extend) chart.hint.hidden = !m.hint;
    if (!message.playing) {
      flush(chart);
      if (chart.pending) drawFigure(chart, chart.pending, message.present, false);
      chart.pending = null;
    }
  }
  for (const [id, chart] of state.charts) {
    if (!seen.has(id)) {
      window.Plotly.purge(chart.plot);
      chart.box.remove();
      live.delete(chart);
      state.charts.delete(id);
    }
  }
  state.run = message.run;
  parentElement.dataset.run = message.run;
}

export default function (component) {
  const { parentElement, data } = component;
  let state = states.get(parentElement);
  if (!state) {
    const root = document.createElement("div");
    root.className = "bnlab-live";
    parentElement.appendChild(root);
    state = { root, charts: new Map(), run: null, pending: Promise.resolve() };
    states.set(parentElement, state);
  }
  // Messages are applied in order, each once Plotly.js is there.
  state.pending = state.pending
    .then(() => loadPlotly(data.plotly_url))
    .then(() => receive(component, state, data))
    .catch((err) => console.error("live chart:", err));
}
