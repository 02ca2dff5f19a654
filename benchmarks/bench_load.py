"""Many students at once: one Streamlit server, N sessions over the app's own websocket protocol.
Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_load.py [--sessions 20] [--live 10] [--seconds 60]
        [--script app.py] [--page training_lab] [--play-label Play]
    .venv/bin/python benchmarks/bench_load.py --capacity [--seconds 30] [--max-live 40]

With --capacity: only live sessions, 2, 4, 6, ... of them, each count for --seconds, until one
of them gets less than 90% of the intended 2 updates/s (or anything fails); prints how many one
replica holds.

Starts `python -m streamlit run <script>` on a free loopback port (repo root as cwd), waits for
/_stcore/health == "ok", then drives the sessions the way the browser does:

- per session, GET / and /_stcore/health (which sets the `_streamlit_xsrf` cookie), then open
  ws://127.0.0.1:<port>/_stcore/stream with Sec-WebSocket-Protocol "streamlit, <xsrf token>",
  the cookie and a same-origin Origin header (XSRF protection stays on);
- send a BackMsg rerun_script (page_name = the URL path, context info, the hashes of the
  cacheable messages held), read one ForwardMsg per binary frame, resolve `ref_hash` messages from
  that cache, follow new_session / navigation for the page's script hash;
- live sessions open the Training Lab, find the "Play" button (or toggle) in the deltas and send a
  rerun with its trigger (or bool) value, then act on auto_rerun: every `interval` seconds a
  rerun with that fragment_id and is_auto_rerun (what the frontend's setInterval does), until
  stop_auto_rerun;
- idle sessions open the home and lesson pages and stay connected.

Measured: per live session, chart updates per second (fragment runs that finished and drew at
least one chart) from Play to the end, and chart deltas per second. When a tick's run starts
before the previous run's output was flushed to the socket, the server drops that output and
rewrites its script_finished to FINISHED_EARLY_FOR_RERUN: counted as "cut short", not as an
update. Per idle session, whether its first render finished; any
exception element, page not found, compile error, protocol error or disconnect is an error. Server
memory: VmRSS from /proc (process and children), idle after a warm-up that opens every page once,
then sampled during the run: (peak - idle) / sessions.

Goals: no error, no live session starved (under 25% of the median or under 0.5 updates/s),
server memory under 40 MB per session.

The websocket client is the `websockets` package: Streamlit 1.67 serves on Starlette/uvicorn and
depends on it (Tornado is no longer among its dependencies).
"""

from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import itertools
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
XSRF_COOKIE = "_streamlit_xsrf"
IDLE_PAGES = (
    "home",
    "normalizing_inputs",
    "step_by_step",
    "in_a_network",
    "test_time",
    "why_it_works",
    "regularization",
    "under_the_hood",
)
MEMORY_GOAL_MB = 40.0
STARVED_FRACTION, STARVED_FLOOR = 0.25, 0.5
CACHE_MAX_AGE = 2  # script runs a cached message survives unseen (the frontend keeps it longer)

FINISHED = ForwardMsg.ScriptFinishedStatus
OK_FULL, OK_FRAGMENT = FINISHED.FINISHED_SUCCESSFULLY, FINISHED.FINISHED_FRAGMENT_RUN_SUCCESSFULLY


# --------------------------------------------------------------------------- server process


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def http_opener(jar=None):
    """urllib without proxies (loopback only), optionally keeping cookies like a browser."""
    handlers = [urllib.request.ProxyHandler({})]
    if jar is not None:
        handlers.append(urllib.request.HTTPCookieProcessor(jar))
    return urllib.request.build_opener(*handlers)


def wait_healthy(base, proc, timeout=90.0):
    opener = http_opener()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with opener.open(f"{base}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"/_stcore/health not ok after {timeout:.0f} s")


def _descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def rss_mb(pid):
    """VmRSS of pid and its children, MiB."""
    total = 0
    for p in _descendants(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def cpu_seconds(pid):
    """User + system CPU seconds of pid and its children (all threads)."""
    total = 0
    for p in _descendants(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- one session


@dataclass
class Session:
    index: int
    page: str  # url path; "home" is the default page at "/"
    live: bool
    port: int
    play_label: str
    query: str = ""  # the page's query string (a link's settings), without "?"
    jar: object = None  # a CookieJar shared by a browser's page loads (a balancer's cookie)
    t0: float = 0.0
    ws: object = None
    page_hash: str = ""
    widget_states: dict = field(default_factory=dict)  # id -> WidgetState kept across reruns
    buttons: dict = field(default_factory=dict)  # id -> (kind, label) seen on the page
    cache: dict = field(default_factory=dict)  # hash -> (summary, last run seen)
    timers: dict = field(default_factory=dict)  # fragment_id -> (interval, task)
    run_no: int = 0
    run_charts: int = 0
    first_render: float | None = None
    play_sent: float | None = None
    ticks: int = 0
    updates: list = field(default_factory=list)  # times of fragment runs that drew a chart
    charts: int = 0  # chart deltas received after Play, whether or not their run completed
    full_runs: int = 0
    fragment_runs: int = 0
    cut_short: int = 0  # runs that ended early for a rerun (FINISHED_EARLY_FOR_RERUN)
    bytes_in: int = 0
    cache_hits: int = 0
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    closing: bool = False

    @property
    def page_name(self):
        return "" if self.page == "home" else self.page

    def now(self):
        return time.monotonic() - self.t0

    def error(self, text):
        if len(self.errors) < 20:
            self.errors.append(f"{self.now():6.1f}s {text}")
        else:
            self.errors[-1] = f"... and more (last: {text})"

    # --- client -> server ------------------------------------------------------------------

    def rerun(self, fragment_id="", auto=False, trigger=None):
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query
        cs.page_script_hash = self.page_hash
        if not self.page_hash:
            cs.page_name = self.page_name
        if fragment_id:
            cs.fragment_id = fragment_id
        cs.is_auto_rerun = auto
        cs.widget_states.widgets.extend(self.widget_states.values())
        if trigger is not None:
            cs.widget_states.widgets.append(trigger)
        cs.cached_message_hashes.extend(self.cache)
        ci = cs.context_info
        ci.timezone, ci.timezone_offset, ci.locale = "UTC", 0, "en-US"
        ci.url = f"http://{HOST}:{self.port}/{self.page_name}" + (
            f"?{self.query}" if self.query else ""
        )
        ci.is_embedded, ci.color_scheme = False, "light"
        return msg.SerializeToString()

    async def send(self, payload):
        try:
            await self.ws.send(payload)
        except ConnectionClosed as exc:
            if not self.closing:
                self.error(f"send on a closed websocket ({exc.rcvd})")

    async def press_play(self):
        found = [
            (wid, kind)
            for wid, (kind, label) in self.buttons.items()
            if _is_play(label, self.play_label)
        ]
        if not found:
            labels = sorted({label for _, label in self.buttons.values()})
            self.error(f"no {self.play_label!r} button or toggle on the page (saw {labels})")
            return
        wid, kind = found[0]
        ws = WidgetState(id=wid)
        if kind == "button":
            ws.trigger_value = True
            trigger = ws
        else:  # a toggle / checkbox keeps its value in every later rerun
            ws.bool_value = True
            self.widget_states[wid] = ws
            trigger = None
        self.play_sent = self.now()
        await self.send(self.rerun(trigger=trigger))

    async def auto_rerun(self, fragment_id, interval):
        """The frontend's setInterval: a fragment rerun every `interval` s, never in bursts."""
        loop = asyncio.get_running_loop()
        start, k = loop.time(), 1
        while not self.closing:
            delay = start + k * interval - loop.time()
            if delay < -interval:  # fell behind: skip the missed ticks, as timers do
                k += int(-delay // interval)
                continue
            await asyncio.sleep(max(delay, 0.0))
            k += 1
            self.ticks += 1
            await self.send(self.rerun(fragment_id=fragment_id, auto=True))

    def stop_timer(self, fragment_id):
        entry = self.timers.pop(fragment_id, None)
        if entry:
            entry[1].cancel()

    # --- server -> client ------------------------------------------------------------------

    def summarize_delta(self, delta):
        """What the benchmark needs from a delta, small enough to keep in the message cache."""
        if delta.WhichOneof("type") != "new_element":
            return (delta.WhichOneof("type"), "", "", "")
        el = delta.new_element
        kind = el.WhichOneof("type")
        if kind == "button":
            return (kind, el.button.id, el.button.label, "")
        if kind == "checkbox":
            return (kind, el.checkbox.id, el.checkbox.label, "")
        if kind == "exception":
            ex = el.exception
            tag = "warning" if ex.is_warning else "exception"
            return (kind, tag, ex.type, ex.message[:200])
        return (kind, "", "", "")

    def on_delta(self, summary):
        kind, a, b, c = summary
        if kind in ("button", "checkbox"):
            self.buttons[a] = (kind, b)
        elif kind == "exception":
            (self.warnings if a == "warning" else self.errors).append(
                f"{self.now():6.1f}s {a} element: {b}: {c}"
            )
        elif kind in ("plotly_chart", "bidi_component"):  # st.plotly_chart or a live chart
            self.run_charts += 1
            self.charts += self.play_sent is not None

    async def on_message(self, data):
        if isinstance(data, str):
            self.error("text frame (the protocol is binary protobuf)")
            return
        self.bytes_in += len(data)
        msg = ForwardMsg()
        try:
            msg.ParseFromString(data)
        except Exception as exc:  # noqa: BLE001 - any parse failure is a protocol error
            self.error(f"unparseable ForwardMsg: {exc}")
            return
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            hit = self.cache.get(msg.ref_hash)
            if hit is None:
                self.error(f"ref_hash {msg.ref_hash} not in the client cache")
                return
            self.cache[msg.ref_hash] = (hit[0], self.run_no)
            self.cache_hits += 1
            self.on_delta(hit[0])
        elif kind == "delta":
            summary = self.summarize_delta(msg.delta)
            if msg.metadata.cacheable and msg.hash:
                self.cache[msg.hash] = (summary, self.run_no)
            self.on_delta(summary)
        elif kind == "new_session":
            self.run_charts = 0
            if msg.new_session.page_script_hash:
                self.page_hash = msg.new_session.page_script_hash
        elif kind == "navigation":
            if msg.navigation.page_script_hash:
                self.page_hash = msg.navigation.page_script_hash
        elif kind == "page_not_found":
            self.error(f"page not found: {msg.page_not_found.page_name!r}")
        elif kind == "auto_rerun":
            fid, interval = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
            if fid and interval > 0 and self.timers.get(fid, (None,))[0] != interval:
                self.stop_timer(fid)
                self.timers[fid] = (interval, asyncio.create_task(self.auto_rerun(fid, interval)))
        elif kind == "stop_auto_rerun":
            for fid in msg.stop_auto_rerun.fragment_ids:
                self.stop_timer(fid)
        elif kind == "script_finished":
            await self.on_finished(msg.script_finished)

    async def on_finished(self, status):
        self.run_no += 1
        charts, self.run_charts = self.run_charts, 0
        self.cache = {h: v for h, v in self.cache.items() if self.run_no - v[1] <= CACHE_MAX_AGE}
        if status == FINISHED.FINISHED_WITH_COMPILE_ERROR:
            self.error("script finished with a compile error")
        elif status == OK_FULL:
            self.full_runs += 1
            if self.first_render is None:
                self.first_render = self.now()
                if self.live:
                    await self.press_play()
        elif status == FINISHED.FINISHED_EARLY_FOR_RERUN:
            self.cut_short += 1
        elif status == OK_FRAGMENT:
            self.fragment_runs += 1
            if charts and self.play_sent is not None:
                self.updates.append(self.now())

    # --- lifetime ----------------------------------------------------------------------------

    def browser_get(self):
        """What the page load does before the websocket: the HTML, then the health ping, which
        sets the XSRF cookie. Returns the cookie's value."""
        if self.jar is None:
            self.jar = http.cookiejar.CookieJar()
        opener = http_opener(self.jar)
        base = f"http://{HOST}:{self.port}"
        page = f"/{self.page_name}" + (f"?{self.query}" if self.query else "")
        for path in (page, "/_stcore/health"):
            with opener.open(base + path, timeout=30) as r:
                r.read()
                self.on_http(path, r.headers)
        return next((c.value for c in self.jar if c.name == XSRF_COOKIE), None)

    def on_http(self, what, headers):
        """Called with the headers of every HTTP response and of the websocket handshake
        (what: the path, or "websocket"). A hook for benchmarks of a balancer."""

    def cookie_header(self):
        """Every cookie the browser holds for the server (the XSRF one, a balancer's)."""
        return "; ".join(f"{c.name}={c.value}" for c in self.jar or ())

    async def run(self, t0, stop):
        self.t0 = t0
        try:
            token = await asyncio.to_thread(self.browser_get)
            if token is None:
                self.error(f"no {XSRF_COOKIE} cookie after GET /_stcore/health")
            headers = {"Cookie": self.cookie_header()} if token else {}
            async with connect(
                f"ws://{HOST}:{self.port}/_stcore/stream",
                origin=f"http://{HOST}:{self.port}",
                subprotocols=["streamlit", token or "PLACEHOLDER_AUTH_TOKEN"],
                additional_headers=headers,
                proxy=None,
                max_size=None,
                open_timeout=60,
                ping_interval=None,
            ) as ws:
                self.ws = ws
                self.on_http("websocket", ws.response.headers)
                await self.send(self.rerun())
                reader = asyncio.create_task(self.read())
                stopper = asyncio.create_task(stop.wait())
                await asyncio.wait([reader, stopper], return_when=asyncio.FIRST_COMPLETED)
                self.closing = True
                for fid in list(self.timers):
                    self.stop_timer(fid)
                reader.cancel()
                stopper.cancel()
        except Exception as exc:  # noqa: BLE001 - report, never crash the benchmark
            self.error(f"{type(exc).__name__}: {exc}")
        finally:
            self.closing = True
            for fid in list(self.timers):
                self.stop_timer(fid)

    async def read(self):
        try:
            async for data in self.ws:
                await self.on_message(data)
        except ConnectionClosed as exc:
            if not self.closing:
                self.error(f"disconnected: {exc}")
            return
        if not self.closing:
            self.error("the server closed the websocket")


def _is_play(label, wanted):
    words = re.findall(r"[a-z]+", label.lower())
    return wanted.lower() in words and "pause" not in words


# --------------------------------------------------------------------------- the run


async def warm_up(port, pages, play_label, timeout):
    """Open every page once (imports, caches, compiled scripts), one after another."""
    times = {}
    for page in pages:
        s = Session(0, page, False, port, play_label)
        stop = asyncio.Event()
        task = asyncio.create_task(s.run(time.monotonic(), stop))
        deadline = time.monotonic() + timeout
        while s.first_render is None and not s.errors and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        stop.set()
        await task
        if s.first_render is None:
            print(f"  warm-up: {page} did not render in {timeout:.0f} s {s.errors}")
        times[page] = s.first_render
    print(
        "warm-up, first render alone (s): "
        + ", ".join(f"{p} {'-' if t is None else f'{t:.1f}'}" for p, t in times.items())
    )


async def drive(args, port, pid, log_size):
    pages = [args.page] + [p for p in IDLE_PAGES if p != args.page]
    rss_cold = rss_mb(pid)
    if args.warmup:
        await warm_up(port, pages, args.play_label, timeout=60)
        await asyncio.sleep(1.0)
    rss_idle = rss_mb(pid)

    n, n_live = args.sessions, min(args.live, args.sessions)
    live_idx = {round(i * n / n_live) for i in range(n_live)} if n_live else set()
    idle_pages = [p for p in IDLE_PAGES if p != args.page] or [args.page]
    sessions, k = [], 0
    for i in range(n):
        if i in live_idx:
            sessions.append(Session(i, args.page, True, port, args.play_label))
        else:
            sessions.append(
                Session(i, idle_pages[k % len(idle_pages)], False, port, args.play_label)
            )
            k += 1

    stop = asyncio.Event()
    samples = []

    async def sample():
        while not stop.is_set():
            samples.append((time.monotonic() - t0, rss_mb(pid)))
            await asyncio.sleep(0.5)

    t0 = time.monotonic()
    cpu0 = cpu_seconds(pid), time.process_time()
    tasks = [asyncio.create_task(s.run(t0, stop)) for s in sessions]
    sampler = asyncio.create_task(sample())
    await asyncio.sleep(args.seconds)
    t_end = time.monotonic() - t0
    cpu1 = cpu_seconds(pid), time.process_time()
    log_mark = log_size()  # server log up to here: the run; after it: closing the sessions
    stop.set()
    _, pending = await asyncio.wait(tasks, timeout=args.grace)
    for t in pending:
        t.cancel()
    await sampler
    for s, t in zip(sessions, tasks, strict=True):
        if t in pending:
            s.error("did not close within the grace period")
    await asyncio.sleep(1.0)
    rss_after = rss_mb(pid)
    return {
        "sessions": sessions,
        "t_end": t_end,
        "samples": samples,
        "rss_cold": rss_cold,
        "log_mark": log_mark,
        "rss_idle": rss_idle,
        "rss_after": rss_after,
        "server_cpu": (cpu1[0] - cpu0[0]) / t_end,
        "client_cpu": (cpu1[1] - cpu0[1]) / t_end,
    }


def report(args, r, server_log):
    sessions, t_end = r["sessions"], r["t_end"]
    print(
        f"\n{len(sessions)} sessions ({sum(s.live for s in sessions)} live) for "
        f"{args.seconds:.0f} s against {args.script} (live page: {args.page})\n"
    )
    print(
        f"{'#':>3}  {'page':<20} {'live':<4} {'render s':>8} {'updates/s':>9} {'2nd half':>8} "
        f"{'max gap s':>9} {'charts/s':>8} {'ticks':>5} {'KB/s':>7} {'errors':>6}"
    )
    rates = []
    for s in sessions:
        render = f"{s.first_render:8.1f}" if s.first_render is not None else f"{'never':>8}"
        if s.live:
            if s.play_sent is not None:
                span = max(t_end - s.play_sent, 1e-9)
                rate = len(s.updates) / span
                times = [s.play_sent, *s.updates, t_end]
                gap = max(b - a for a, b in itertools.pairwise(times))
                late = sum(t >= t_end / 2 for t in s.updates) / (t_end / 2)
                cols = f"{rate:9.2f} {late:8.2f} {gap:9.1f} {s.charts / span:8.1f}"
            else:
                rate, cols = 0.0, f"{'-':>9} {'-':>8} {'-':>9} {'-':>8}"
            rates.append((s, rate))
        else:
            cols = f"{'-':>9} {'-':>8} {'-':>9} {'-':>8}"
            if s.first_render is None:
                s.error("first render never finished")
        print(
            f"{s.index:>3}  {s.page:<20} {'yes' if s.live else 'no':<4} {render} {cols} "
            f"{s.ticks:>5} {s.bytes_in / 1024 / t_end:7.1f} {len(s.errors):>6}"
        )
    for s in sessions:
        for e in s.errors[:5] + s.warnings[:3]:
            print(f"  session {s.index}: {e}")

    log_run = server_log[: r["log_mark"]].decode(errors="replace")
    log_closing = server_log[r["log_mark"] :].decode(errors="replace")
    tracebacks = log_run.count("Traceback")
    errors = sum(len(s.errors) for s in sessions) + tracebacks
    print()
    starved = []
    if rates:
        values = [v for _, v in rates]
        med = statistics.median(values)
        starved = [s.index for s, v in rates if v < STARVED_FRACTION * med or v < STARVED_FLOOR]
        print(
            f"live updates/s: min {min(values):.2f}, median {med:.2f}, max {max(values):.2f}; "
            f"starved (< {STARVED_FRACTION:.0%} of median or < {STARVED_FLOOR}/s): "
            f"{starved or 'none'}"
        )
    first = [s.first_render for s in sessions if s.first_render is not None]
    if first:
        print(
            f"first render: median {statistics.median(first):.1f} s, max {max(first):.1f} s "
            f"({len(first)}/{len(sessions)} rendered)"
        )
    during = (
        [m for t, m in r["samples"] if t >= min(10.0, args.seconds / 2)]
        or [m for _, m in r["samples"]]
        or [r["rss_idle"]]
    )
    peak, mean = max(during), statistics.fmean(during)
    per_session = (peak - r["rss_idle"]) / len(sessions)
    print(
        f"server RSS: {r['rss_cold']:.0f} MiB at start, {r['rss_idle']:.0f} MiB idle after "
        f"warm-up, {mean:.0f} MiB mean / {peak:.0f} MiB peak during, {r['rss_after']:.0f} MiB "
        f"after the sessions closed (kept for reconnects: server.disconnectedSessionTTL)"
    )
    print(
        f"server memory per session: {per_session:.1f} MiB "
        f"((peak - idle) / {len(sessions)}); from a cold start: "
        f"{(peak - r['rss_cold']) / len(sessions):.1f} MiB"
    )
    print(
        f"CPU: server {r['server_cpu']:.2f} cores, this client {r['client_cpu']:.2f} cores "
        f"(of {os.cpu_count()})"
    )
    updates = sum(len(s.updates) for s in sessions)
    print(
        f"protocol: {sum(s.full_runs for s in sessions)} full runs, "
        f"{sum(s.fragment_runs for s in sessions)} fragment runs, "
        f"{sum(s.cut_short for s in sessions)} runs cut short for a rerun, "
        f"{sum(s.cache_hits for s in sessions)} elements sent as ref_hash (client cache hits)"
    )
    if updates:
        print(
            f"server CPU per live update: {r['server_cpu'] * t_end / updates:.2f} s "
            f"({updates} updates; includes the idle sessions' first renders)"
        )
    print(
        f"errors: {errors} ({tracebacks} tracebacks in the server log during the run; "
        f"{log_closing.count('Traceback')} more while the sessions closed, not counted)"
    )
    for name, text in (("run", log_run), ("closing", log_closing)):
        for line in sorted(set(_exception_lines(text))):
            print(f"  server log ({name}): {line}")

    def ok(met):
        return "met" if met else "MISSED"

    print(
        f"goals: no error: {ok(errors == 0)}; no session starved: {ok(not starved and rates)}; "
        f"memory < {MEMORY_GOAL_MB:.0f} MB/session: {ok(per_session < MEMORY_GOAL_MB)}"
    )


TICK_RATE = 2.0  # the Training Lab's intended ticks per second (one every 0.5 s)
HOLD_FRACTION = 0.9


def live_rates(result):
    """(updates/s of each live session since its Play, errors during the run)."""
    rates = [
        len(s.updates) / max(result["t_end"] - s.play_sent, 1e-9)
        if s.play_sent is not None
        else 0.0
        for s in result["sessions"]
        if s.live
    ]
    return rates, sum(len(s.errors) for s in result["sessions"])


async def find_capacity(args, port, pid):
    """Live sessions only, more and more of them: the most that each still get at least
    HOLD_FRACTION of TICK_RATE updates per second, with no error."""
    await warm_up(port, [args.page], args.play_label, timeout=60)
    held, n = 0, 2
    while n <= args.max_live:
        run_args = argparse.Namespace(**{**vars(args), "sessions": n, "live": n, "warmup": False})
        result = await drive(run_args, port, pid, lambda: 0)
        rates, errors = live_rates(result)
        ok = errors == 0 and min(rates) >= HOLD_FRACTION * TICK_RATE
        print(
            f"{n:3d} live sessions: updates/s min {min(rates):.2f}, median "
            f"{statistics.median(rates):.2f}, max {max(rates):.2f}; errors {errors}; "
            f"server CPU {result['server_cpu']:.2f} cores -> {'holds' if ok else 'falls short'}",
            flush=True,
        )
        if not ok:
            break
        held = n
        n += 2 if n < 10 else 4
    print(
        f"\none replica holds {held} live sessions at >= {HOLD_FRACTION:.0%} of "
        f"{TICK_RATE:g} updates/s each, with no error ({args.seconds:.0f} s per step; "
        f"{os.cpu_count()} cores; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())})"
    )


def _exception_lines(log_text):
    """The last line of each traceback in a server log: 'SomeError: message'."""
    lines = log_text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            tail = next((ln for ln in lines[i + 1 :] if ln and not ln.startswith(" ")), "?")
            yield tail.strip()[:200]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--live", type=int, default=10, help="sessions that press Play")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--grace", type=float, default=15.0, help="seconds allowed to close")
    p.add_argument("--script", default="app.py", help="app script, relative to the repo root")
    p.add_argument("--page", default="training_lab", help="url path of the live page")
    p.add_argument("--play-label", default="Play")
    p.add_argument(
        "--watch-files",
        action="store_true",
        help="keep Streamlit's file watcher on (off by default: on a machine where "
        "files change all the time its rescans stall the server)",
    )
    p.add_argument(
        "--capacity",
        action="store_true",
        help=f"find how many live sessions (no idle ones) each still get at least "
        f"{HOLD_FRACTION:.0%} of {TICK_RATE:g} updates/s: 2, 4, ... up to "
        "--max-live, --seconds each",
    )
    p.add_argument("--max-live", type=int, default=40)
    p.add_argument(
        "--no-warmup",
        dest="warmup",
        action="store_false",
        help="measure idle memory right after start, before any page is opened",
    )
    args = p.parse_args(argv)
    if not 0 <= args.live <= args.sessions or args.sessions < 1:
        p.error("need 0 <= --live <= --sessions and --sessions >= 1")

    port = free_port()
    base = f"http://{HOST}:{port}"
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        args.script,
        "--server.port",
        str(port),
        "--server.address",
        HOST,
        "--server.headless",
        "true",
    ]
    if not args.watch_files:  # as deployed: nothing edits the code under a running replica
        cmd += ["--server.fileWatcherType", "none"]
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            t = time.monotonic()
            wait_healthy(base, proc)
            print(f"server up on {base} in {time.monotonic() - t:.1f} s (pid {proc.pid})")
            budget = args.seconds + args.grace + 10 * 60  # warm-up included

            def log_size():
                return os.fstat(log.fileno()).st_size

            if args.capacity:
                asyncio.run(find_capacity(args, port, proc.pid))
                return
            result = asyncio.run(asyncio.wait_for(drive(args, port, proc.pid, log_size), budget))
            log.seek(0)
            report(args, result, log.read())
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    main()
