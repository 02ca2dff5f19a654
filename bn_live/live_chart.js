// The live chart: Plotly.js figures that stay mounted in the page while the network trains.
//
// Streamlit calls the default export on every run with the message Python built (bn_live
// and bn_viz.live). A chart's message holds either a whole `figure` (drawn with Plotly.react)
// or `extend`: per trace, the points recorded since step `after`. Those are queued and played
// back at an even pace over about one tick, so every step is drawn and the motion is smooth.
//
// Playback does not call Plotly for each step: Plotly redraws its whole figure on every call
// (tens of ms on a small machine), which left the page a few frames a second. The points
// played are painted on a canvas laid over the figure, in the figure's own axes and line
// styles, each line's head moving between two steps on every animation frame. They are handed
// to Plotly (one redraw, after which they have hover like the rest) only when a point leaves
// the axes' ranges, when many have piled up, and on Pause. While playing, the axes keep room
// ahead of the lines so that this is rare; Pause gives them back to autorange.
//
// When the browser asks for reduced motion (prefers-reduced-motion: reduce), nothing glides:
// each tick's points are drawn at once, in the next frame, with no line head between steps.
//
// A replica that dies takes its sessions with it. The browser reconnects (through the load
// balancer, to another replica), which starts a new session from the page's link: the same
// settings, training back at step 0. Each message names its server session; when that name
// changes under the same page, the charts say plainly that training restarted.
//
// window.bnlabLive keeps counts for tests and benchmarks: per chart, ticks received, frames
// painted, frames that painted a line head between two steps (glides), whole figures drawn,
// redraws of played points, gaps found, ms spent in Plotly and the last step shown.

// plotly.js 4 shows a "Share chart" button that uploads the chart to Plotly's cloud: off, so
// that a student's data never leaves the app's own server.
const CONFIG = { displaylogo: false, responsive: true, showSendToCloud: false };
const states = new WeakMap(); // parentElement -> { root, charts: Map(id -> chart), run }
// busy: charts with points, a figure or a redraw still to draw; queued: messages not applied;
// drawnAt: when a chart last drew (performance.now()).
const stats = (window.bnlabLive = window.bnlabLive || { charts: {}, busy: 0, queued: 0 });
let plotlyLoading = null;
const everyChart = new Set();
// While playing, where the step axes end, shared by the page's charts of one run: when one
// chart's axis grows, the others follow, so charts one above the other stay aligned.
const stepAxes = { run: null, end: 0 };
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

// While playing, the step axis reaches past the last step by ROOM_SHARE of the steps shown (at
// least ROOM_STEPS, then up to a round number), and an axis of values by VALUE_ROOM of its span on each side. Played
// points stay on the canvas until at most STREAM_POINTS per line.
const ROOM_SHARE = 0.2;
const ROOM_STEPS = 20;
const VALUE_ROOM = 0.25;
const STREAM_POINTS = 3000;
const DASHES = { dot: [2, 3], dash: [6, 4], longdash: [10, 5], dashdot: [6, 3, 2, 3],
                 longdashdot: [10, 4, 2, 4] };

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
  return (stats.charts[id] = stats.charts[id] || { ticks: 0, frames: 0, glides: 0,
                                                   figures: 0, redraws: 0, gaps: 0, ms: 0,
                                                   step: null });
}

function timed(chart, call) {
  const t0 = performance.now();
  call();
  stats.drawnAt = performance.now();
  chartStats(chart.id).ms += stats.drawnAt - t0;
}

function makeChart(root, id) {
  const box = document.createElement("div");
  box.className = "bnlab-live-chart";
  box.dataset.chartId = id;
  const plot = document.createElement("div");
  plot.className = "bnlab-live-plot";
  const canvas = document.createElement("canvas");
  canvas.className = "bnlab-live-canvas";
  canvas.setAttribute("aria-hidden", "true");
  const hint = document.createElement("div");
  hint.className = "bnlab-live-hint";
  box.append(plot, canvas, hint);
  root.appendChild(box);
  const chart = { id, box, plot, canvas, hint, last: null, queue: [], pace: null, lastArrival: null,
           pending: null, drawn: false, present: false, readyAt: 0, series: false,
           layout: null, revision: 0, stream: [], head: [], redrawDue: false, roomy: false,
           listening: false, run: null, stepEnd: 0 };
  makeExplorable(chart); // explore.js: focus, name, description, arrow keys
  everyChart.add(chart);
  return chart;
}

function styled(layout, present, template) {
  if (template) layout = { ...layout, template }; // the dark theme's
  if (!present) return layout;
  const font = { ...(layout.font || {}), size: 18 };
  return { ...layout, font, height: (layout.height || 320) + 80 };
}

function drawFigure(chart, figure, present, series) {
  chart.queue = [];
  chart.series = series;
  chart.layout = styled(figure.layout, present, chart.template);
  // A series chart's lines grow later: they must be arrays, not {dtype, bdata}.
  const data = series
    ? figure.data.map((t) => ({ ...t, x: Array.from(decode(t.x)), y: Array.from(decode(t.y)) }))
    : figure.data;
  chart.stream = data.map(() => ({ x: [], y: [] }));
  chart.head = data.map(() => null);
  chart.redrawDue = false;
  chart.roomy = false;
  chart.stepEnd = 0;
  chart.plot.style.height = `${chart.layout.height}px`;
  timed(chart, () => window.Plotly.react(chart.plot, data, unflattened(chart.layout, data),
                                         CONFIG));
  // the SVG's tick labels would be read one by one: the chart's description says it all
  for (const svg of chart.plot.querySelectorAll("svg.main-svg")) {
    svg.setAttribute("aria-hidden", "true");
  }
  chartStats(chart.id).figures += 1;
  if (!chart.listening) { // a resize or a zoom moves the axes: paint again in them
    chart.plot.on("plotly_afterplot", () => paint(chart));
    chart.listening = true;
  }
  paint(chart);
}

// --- playback ------------------------------------------------------------------------------

// One tick's points: play them from step `from` to step `to` over `duration` ms.
function enqueue(chart, extend, after, intervalMs) {
  const now = performance.now();
  if (chart.lastArrival !== null) {
    const gap = Math.min(Math.max(now - chart.lastArrival, 100), 2000);
    chart.pace = chart.pace === null ? gap : 0.7 * chart.pace + 0.3 * gap;
  }
  chart.lastArrival = now;
  let duration = chart.pace === null ? intervalMs : Math.min(chart.pace, intervalMs * 1.5);
  if (reducedMotion.matches) duration = 0; // drawn at once
  const item = { x: extend.x.map(decode), y: extend.y.map(decode), from: after,
                 to: extend.last, duration, start: null, drawn: extend.x.map(() => 0) };
  if (chart.queue.length >= 2) playQueued(chart, 1); // never lag more than about a tick
  chart.queue.push(item);
  chart.last = extend.last;
  chartStats(chart.id).ticks += 1;
}

function axisKey(letter, id) {
  return `${letter}axis${id.slice(1)}`; // "x2" -> "xaxis2"
}

// The room either side of an axis's values (lo..hi, in axis units: log10 on a log axis) when
// they are all (nearly) equal, else null.
function flatRoom(lo, hi, log) {
  if (hi - lo > 1e-6 * Math.max(1, Math.abs(lo), Math.abs(hi))) return null;
  return log ? 0.1 : 0.5;
}

// Values that are all (nearly) equal, such as two networks' first test loss from the same
// weights, make Plotly's autorange a span of a few float32 ulps, and every tick label the same
// number. Such a value axis gets a range of its own around them: `layout` with new objects for
// those axes (the figure's layout is left as it is, so the axis autoranges again later).
function unflattened(layout, data) {
  const spans = {};
  for (const trace of data) {
    const key = axisKey("y", trace.yaxis || "y");
    const own = layout[key] || {};
    if (own.range || own.autorange === false) continue;
    const log = own.type === "log";
    const ys = Array.isArray(trace.y) || ArrayBuffer.isView(trace.y) ? trace.y : []; // not a spec
    for (const y of ys) {
      const l = log ? Math.log10(y) : y;
      if (!Number.isFinite(l)) continue;
      const span = (spans[key] = spans[key] || { lo: l, hi: l, log });
      span.lo = Math.min(span.lo, l);
      span.hi = Math.max(span.hi, l);
    }
  }
  let out = layout;
  for (const [key, { lo, hi, log }] of Object.entries(spans)) {
    const room = flatRoom(lo, hi, log);
    if (room === null) continue;
    out = { ...out, [key]: { ...(layout[key] || {}), range: [lo - room, hi + room],
                             autorange: false } };
  }
  return out;
}

function axesOf(chart, i) {
  const gd = chart.plot;
  const trace = gd._fullData && gd._fullData[i];
  if (!trace || !gd._fullLayout) return null;
  return { trace, xa: gd._fullLayout[axisKey("x", trace.xaxis)],
           ya: gd._fullLayout[axisKey("y", trace.yaxis)] };
}

function outside(axis, value) {
  const l = axis.d2l(value);
  if (!Number.isFinite(l)) return false; // a gap in the line, or a log axis's zero
  const [a, b] = axis.range;
  return l < Math.min(a, b) || l > Math.max(a, b);
}

// Move the points of `item` up to step `upTo` onto the canvas's lines, and aim each line's
// head at its next point.
function play(chart, item, upTo) {
  item.x.forEach((x, i) => {
    const stream = chart.stream[i];
    const ys = item.y[i];
    let d = item.drawn[i];
    while (d < x.length && x[d] <= upTo) {
      stream.x.push(x[d]);
      stream.y.push(ys[d]);
      const axes = chart.redrawDue ? null : axesOf(chart, i);
      if (axes && (outside(axes.xa, x[d]) || outside(axes.ya, ys[d]))) chart.redrawDue = true;
      d += 1;
    }
    item.drawn[i] = d;
    chart.head[i] = d < x.length ? { at: upTo, x: x[d], y: ys[d] } : null;
    if (stream.x.length > STREAM_POINTS) chart.redrawDue = true;
  });
  const stat = chartStats(chart.id);
  stat.step = Math.max(stat.step ?? -Infinity, Math.min(Math.floor(upTo), item.to));
}

// Play every queued tick at once but the last `keep`.
function playQueued(chart, keep = 0) {
  const items = chart.queue.splice(0, Math.max(0, chart.queue.length - keep));
  for (const item of items) play(chart, item, Infinity);
  if (items.length) paint(chart);
}

// This frame's share of the queued ticks; true if the picture moved.
function advance(chart, now) {
  let moved = false;
  while (chart.queue.length) {
    const item = chart.queue[0];
    if (item.start === null) item.start = now;
    const t = item.duration > 0 ? Math.min(1, (now - item.start) / item.duration) : 1;
    play(chart, item, item.from + t * (item.to - item.from));
    moved = true;
    if (t < 1) break;
    chart.queue.shift();
  }
  if (moved) paint(chart);
  return moved;
}

// --- the canvas ----------------------------------------------------------------------------

function lastPoint(xs, ys) {
  return xs.length ? { x: xs[xs.length - 1], y: ys[ys.length - 1] } : null;
}

// The points of line i not yet in Plotly's figure, from its last point there to its head.
function pendingPoints(chart, i) {
  const data = chart.plot.data[i];
  const stream = chart.stream[i];
  const points = [];
  const tail = lastPoint(data.x, data.y);
  if (tail && (stream.x.length || chart.head[i])) points.push(tail);
  for (let k = 0; k < stream.x.length; k++) points.push({ x: stream.x[k], y: stream.y[k] });
  const head = chart.head[i];
  const from = points[points.length - 1];
  if (head && from && head.x > from.x && head.at > from.x) {
    const f = Math.min(1, (head.at - from.x) / (head.x - from.x));
    points.push({ x: from.x + f * (head.x - from.x), y: from.y + f * (head.y - from.y) });
    chart.gliding = true;
  }
  return points;
}

function trace(ctx, points, xa, ya) {
  let down = false;
  for (const p of points) {
    const px = xa._offset + xa.l2p(xa.d2l(p.x));
    const py = ya._offset + ya.l2p(ya.d2l(p.y));
    if (!Number.isFinite(px) || !Number.isFinite(py)) { down = false; continue; }
    if (down) ctx.lineTo(px, py); else ctx.moveTo(px, py);
    down = true;
  }
}

// Paint the lines' points that Plotly has not drawn yet, in each trace's axes and style.
function paint(chart) {
  const gd = chart.plot;
  const layout = gd._fullLayout;
  const canvas = chart.canvas;
  if (!layout || !chart.series) {
    if (canvas.width) canvas.width = 0;
    return;
  }
  const ratio = window.devicePixelRatio || 1;
  const width = Math.round(layout.width * ratio);
  const height = Math.round(layout.height * ratio);
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
    canvas.style.width = `${layout.width}px`;
    canvas.style.height = `${layout.height}px`;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, layout.width, layout.height);
  chart.gliding = false;
  let previous = null; // the line before, for a fill to it ("tonexty")
  gd.data.forEach((_, i) => {
    const axes = axesOf(chart, i);
    const points = axes && axes.trace.visible === true ? pendingPoints(chart, i) : [];
    if (points.length > 1) {
      const { trace: t, xa, ya } = axes;
      ctx.save();
      ctx.beginPath();
      ctx.rect(xa._offset, ya._offset, xa._length, ya._length);
      ctx.clip();
      ctx.globalAlpha = t.opacity ?? 1;
      if (t.fill === "tonexty" && previous && previous.length > 1) {
        ctx.beginPath();
        trace(ctx, [...points, ...[...previous].reverse()], xa, ya);
        ctx.fillStyle = t.fillcolor;
        ctx.fill();
      }
      const lineWidth = (t.line && t.line.width) || 0;
      if (lineWidth > 0 && (t.mode || "").includes("lines")) {
        ctx.beginPath();
        trace(ctx, points, xa, ya);
        ctx.strokeStyle = t.line.color;
        ctx.lineWidth = lineWidth;
        ctx.lineJoin = "round";
        ctx.setLineDash((DASHES[t.line.dash] || []).map((d) => d * Math.max(1, lineWidth / 2)));
        ctx.stroke();
      }
      ctx.restore();
    }
    previous = points;
  });
  chartStats(chart.id).frames += 1;
  if (chart.gliding) chartStats(chart.id).glides += 1;
  stats.drawnAt = performance.now();
}

// --- handing the played points to Plotly ----------------------------------------------------

// The first round number at or above `step` (1, 1.5, 2, 3, 4, 5, 6 or 8 times a power of ten),
// so that charts one above the other, redrawn at different steps, mostly agree on where their
// axes end.
function roomyEnd(step) {
  const power = 10 ** Math.floor(Math.log10(Math.max(step, 1)));
  return [1, 1.5, 2, 3, 4, 5, 6, 8, 10].map((f) => f * power).find((end) => end >= step);
}

// Ranges that leave room for the lines to grow while playing, per axis: a step axis reaches
// past the last step, an axis of values Plotly would autorange gets room on each side. Axes
// the figure fixes keep their range.
function roomyRanges(chart) {
  const gd = chart.plot;
  const spans = {};
  const widen = (key, lo, hi) => {
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) return; // a legend-only line
    const span = (spans[key] = spans[key] || { lo: Infinity, hi: -Infinity });
    span.lo = Math.min(span.lo, lo);
    span.hi = Math.max(span.hi, hi);
  };
  const queued = chart.queue.reduce((m, item) => Math.max(m, item.to), -Infinity);
  gd.data.forEach((data, i) => {
    const axes = axesOf(chart, i);
    if (!axes || data.x.length === 0) return;
    const xKey = axisKey("x", axes.trace.xaxis);
    widen(xKey, data.x[0], Math.max(queued, data.x[data.x.length - 1]));
    const yKey = axisKey("y", axes.trace.yaxis);
    const own = chart.layout[yKey] || {};
    if (own.range || own.autorange === false) return;
    for (const y of data.y) {
      const l = axes.ya.d2l(y);
      if (Number.isFinite(l)) widen(yKey, l, l);
    }
    if (spans[yKey]) spans[yKey].log = axes.ya.type === "log";
  });
  const ranges = {};
  for (const [key, { lo, hi }] of Object.entries(spans)) {
    if (key.startsWith("x")) {
      let end = roomyEnd(hi + Math.max(ROOM_STEPS, ROOM_SHARE * (hi - lo)));
      if (stepAxes.run === chart.run) end = Math.max(end, stepAxes.end);
      ranges[key] = [lo, end];
    } else {
      const room = flatRoom(lo, hi, spans[key].log) ?? VALUE_ROOM * (hi - lo);
      ranges[key] = [lo - room, hi + room];
    }
  }
  return ranges;
}

// One Plotly redraw with the played points in the figure. While playing, the step axes get
// room ahead; otherwise they are the figure's own again.
function redraw(chart, playing) {
  const gd = chart.plot;
  gd.data.forEach((data, i) => {
    const stream = chart.stream[i];
    for (let k = 0; k < stream.x.length; k++) {
      data.x.push(stream.x[k]);
      data.y.push(stream.y[k]);
    }
    chart.stream[i] = { x: [], y: [] };
  });
  chart.revision += 1;
  const layout = { ...chart.layout, datarevision: chart.revision };
  if (playing) {
    for (const [key, range] of Object.entries(roomyRanges(chart))) {
      layout[key] = { ...(chart.layout[key] || {}), range, autorange: false };
      if (key.startsWith("x")) chart.stepEnd = Math.max(chart.stepEnd, range[1]);
    }
  }
  chart.roomy = playing;
  chart.redrawDue = false;
  timed(chart, () => window.Plotly.react(gd, gd.data, playing ? layout
    : unflattened(layout, gd.data), CONFIG));
  chartStats(chart.id).redraws += 1;
  paint(chart);
  if (playing) alignStepAxes(chart);
}

// The other playing charts of this run extend their step axes to this chart's end.
function alignStepAxes(chart) {
  if (stepAxes.run !== chart.run) Object.assign(stepAxes, { run: chart.run, end: 0 });
  stepAxes.end = Math.max(stepAxes.end, chart.stepEnd);
  for (const other of everyChart) {
    if (!other.box.isConnected) { // its page was left: Streamlit removed the component
      everyChart.delete(other);
      continue;
    }
    if (other.series && other.roomy && other.run === chart.run && other.stepEnd < stepAxes.end
        && !other.redrawDue) {
      other.redrawDue = true;
      wake(other);
    }
  }
}

// Draw at once what is queued or waiting, and hand the step axes back to autorange.
function settle(chart) {
  if (chart.series) {
    playQueued(chart);
    chart.head = chart.head.map(() => null);
    const waiting = chart.stream.some((s) => s.x.length > 0);
    if (waiting || chart.roomy) redraw(chart, false);
    else paint(chart);
  }
  if (chart.pending) drawFigure(chart, chart.pending, chart.present, false);
  chart.pending = null;
}

// --- the frame loop --------------------------------------------------------------------------

// Every animation frame, each chart with queued points paints its share of them. Plotly calls
// (a snapshot's figure, a redraw of played points) take turns, one per frame at most, and
// after a call that took c ms the next waits c ms, so Plotly never takes more than about half
// of the main thread and clicks, sliders and hover stay responsive on a slow machine. A chart
// whose call took over HEAVY_MS (the decision regions' markers, a view of many panels, on a
// slow machine) is drawn again at most every HEAVY_GAP_MS while playing.
const HEAVY_MS = 40;
const HEAVY_GAP_MS = 2000;
let frameRequested = false;
let nextAt = 0;
let turn = 0;
const live = new Set();

function plotlyWork(chart) {
  if (chart.pending) {
    const figure = chart.pending;
    chart.pending = null;
    drawFigure(chart, figure, chart.present, false);
    return true;
  }
  if (chart.redrawDue) {
    redraw(chart, true);
    return true;
  }
  return false;
}

function frame(now) {
  frameRequested = false;
  for (const chart of live) {
    if (!chart.box.isConnected) { live.delete(chart); continue; } // its page was left
    if (chart.series) advance(chart, now);
  }
  const waiting = [...live].filter((c) => c.pending || c.redrawDue);
  if (waiting.length && now >= nextAt) {
    for (let k = 0; k < waiting.length; k++) {
      const chart = waiting[(turn + k) % waiting.length];
      if (chart.readyAt > now) continue;
      const t0 = performance.now();
      if (plotlyWork(chart)) {
        const cost = performance.now() - t0;
        turn = (turn + k + 1) % waiting.length;
        nextAt = now + cost;
        // a heavy figure (many panels, many markers) waits longer, so the light ones keep
        // flowing and long tasks stay rare
        chart.readyAt = now + (cost > HEAVY_MS ? Math.max(4 * cost, HEAVY_GAP_MS) : 0);
        break;
      }
    }
  }
  for (const chart of live) {
    if (!chart.pending && !chart.redrawDue && chart.queue.length === 0) live.delete(chart);
  }
  stats.busy = live.size;
  if (live.size) requestFrame();
}

function requestFrame() {
  if (!frameRequested) {
    frameRequested = true;
    requestAnimationFrame(frame);
  }
}

function wake(chart) {
  live.add(chart);
  stats.busy = live.size;
  requestFrame();
}

// --- messages --------------------------------------------------------------------------------

// The server session changed under this page (the browser reconnected to a new one): if the
// old one had trained, say that training restarted, above these charts, until Play.
function noticeRestart(parentElement, state, message) {
  const previous = stats.session;
  stats.session = message.session;
  if (previous !== undefined && previous !== message.session) {
    const reached = Math.max(0, ...Object.values(stats.charts).map((c) => c.step ?? 0));
    if (reached > 0) {
      stats.restarts = (stats.restarts || 0) + 1;
      const notice = document.createElement("div");
      notice.className = "bnlab-live-restarted";
      notice.setAttribute("role", "alert");
      notice.textContent = "⚠️ The connection to the server was lost and this page " +
        "reconnected to another server. Your settings came back from the link, but training " +
        `restarted from step 0 (it had reached step ${reached}). Press ▶ Play to train again.`;
      parentElement.insertBefore(notice, state.root);
      state.notice = notice;
    }
  }
  if (state.notice && message.playing) { // playing again: the notice has been read
    state.notice.remove();
    state.notice = null;
  }
}

function receive(component, state, message) {
  const { parentElement, setTriggerValue } = component;
  noticeRestart(parentElement, state, message);
  const seen = new Set();
  for (const m of message.charts) {
    seen.add(m.id);
    let chart = state.charts.get(m.id);
    if (!chart) {
      chart = makeChart(state.root, m.id);
      state.charts.set(m.id, chart);
    }
    if (m.label) chart.box.setAttribute("aria-label", m.label);
    if (m.description) chart.description.textContent = m.description;
    chart.playing = message.playing;
    if (m.figure || m.extend) chart.hint.textContent = m.hint || "";
    chart.present = message.present;
    chart.template = message.template || null;
    chart.run = message.run;
    if (m.figure && message.playing && !m.series && chart.drawn) {
      chart.pending = m.figure; // a snapshot while playing: drawn in its turn
      wake(chart);
    } else if (m.figure) {
      chart.pending = null;
      drawFigure(chart, m.figure, message.present, m.series);
      chart.drawn = true;
      chart.last = m.last;
      chartStats(chart.id).step = m.last;
    } else if (m.extend) {
      if (chart.last === null || chart.last !== m.after || state.run !== message.run) {
        setTriggerValue("gap", m.id); // missed a tick: ask for the whole figure again
        chartStats(chart.id).gaps += 1;
        continue;
      }
      if (m.extend.last > m.after) {
        enqueue(chart, m.extend, m.after, message.interval_ms);
        wake(chart);
      }
    }
    if (m.figure || m.extend) chart.hint.hidden = !m.hint;
    if (!message.playing) settle(chart);
  }
  for (const [id, chart] of state.charts) {
    if (!seen.has(id)) {
      window.Plotly.purge(chart.plot);
      chart.box.remove();
      live.delete(chart);
      everyChart.delete(chart);
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
  stats.queued = (stats.queued || 0) + 1;
  state.pending = state.pending
    .then(() => loadPlotly(data.plotly_url))
    .then(() => receive(component, state, data))
    .catch((err) => console.error("live chart:", err))
    .finally(() => { stats.queued -= 1; });
}
