"""A lecture hall through a real load balancer: K replicas behind HAProxy, S students. Prints
figures; asserts nothing. Runs without Docker: the replicas are processes, HAProxy is Debian's
`haproxy` package (apt-get install haproxy), configured from deploy/haproxy.cfg with only the
backend addresses rewritten (tests/cluster.py).

    .venv/bin/python benchmarks/bench_cluster.py            # K = 1, 2, 3: the capacity table
    .venv/bin/python benchmarks/bench_cluster.py --replicas 2 --per-replica 4   # one run
    options: --seconds 30 (play time), --pin (replica i on core i mod cores, with taskset),
             --single 4 (bench_load.py --capacity's figure to compare with)

Every student does what a browser does, with bench_load.py's websocket client, all through the
balancer with one cookie jar (HAProxy's cookie and Streamlit's XSRF cookie):
  1. loads a lesson page (GET, health check, websocket, the page's first run);
  2. opens the Training Lab with a link (`?data=own&...`: your own points, Adam);
  3. uploads a points CSV (file_urls_request, then PUT /_stcore/upload_file/..., then the
     uploader's widget state) and then a settings file the same way;
  4. downloads the settings the page offers (GET /media/...);
  5. presses Play and plays for --seconds.
Each HTTP response and websocket handshake carries HAProxy's X-Served-By (the replica): a
student is "on one replica" when all of them name the same one.

A step holds when every student gets at least 90% of the intended 2 updates/s while playing,
with no error; per K, students per replica grow (2, 3, 4, ... by default) until a step does
not hold. The table gives, per K, the most students per replica that held, the spread, the
slowest and median rates, and each replica's CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import json
import math
import os
import statistics
import sys
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_load
from bench_load import HOST, OK_FULL, Session, cpu_seconds, rss_mb
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Common_pb2 import (
    FileUploaderState,
    FileURLs,
    UploadedFileInfo,
)
from streamlit.proto.WidgetStates_pb2 import WidgetState

from bn_core import exchange
from bn_core.data import make_dataset
from tests.cluster import SERVED_BY, LocalCluster, haproxy_path

DEFERRED = "deferred:"  # a download button whose file is made when clicked

LESSONS = ("normalizing_inputs", "step_by_step", "test_time", "why_it_works")
LAB = "training_lab"
LINK = "data=own&opt=adam&lr=0.01"  # the Lab opened with a link: your own points, Adam
SETTINGS = {"data": "own", "opt": "adam", "lr": "0.003"}  # the uploaded settings file
POINTS_LABEL, SETTINGS_LABEL = "Your points (CSV)", "Load settings (JSON)"
DOWNLOAD_LABEL = "Settings (JSON)"
TICK_RATE, HOLD_FRACTION = bench_load.TICK_RATE, bench_load.HOLD_FRACTION
SINGLE_REPLICA = 4  # bench_load.py --capacity, 7 December 2026 (docs/DEPLOY.md)


def machine_cpu():
    """(busy, all) CPU ticks of the whole machine since boot, from /proc/stat (user, nice,
    system, irq, softirq, steal are busy; idle and iowait are not)."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:9]]
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)


def points_file():
    X, y = make_dataset("moons", n=300, noise=0.2, seed=1)
    return exchange.points_csv(X, y).encode()


def settings_file():
    return exchange.settings_json(LAB, SETTINGS).encode()


def multipart(name, data, content_type):
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{name}"\r\nContent-Type: {content_type}\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def request_kind(what):
    """'websocket', 'upload', 'media', 'health' or 'page', from a request's path."""
    if what == "websocket":
        return what
    path = what.split("?")[0]
    for prefix, kind in (
        ("/_stcore/upload_file/", "upload"),
        ("/media/", "media"),
        ("/_stcore/health", "health"),
    ):
        if path.startswith(prefix):
            return kind
    return "page"


class Student(Session):
    """bench_load's client, plus what a student's browser does in the Lab: uploads, a download,
    and a record of which replica answered each request."""

    def __init__(self, *args, served, uploads=(), seconds=30.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.served = served  # [(what, replica)], shared by one student's page loads
        self.uploads = list(uploads)  # [(label, file name, bytes, content type)]
        self.seconds = seconds
        self.session_id = ""
        self.uploaders, self.downloads = {}, {}
        self.url_replies, self.full_done = {}, asyncio.Event()
        self.done = asyncio.Event()  # rendered (a lesson) or played for `seconds` (the Lab)
        self.prepare_task = None

    # --- what the balancer did with each request -------------------------------------------

    def on_http(self, what, headers):
        self.served.append((request_kind(what), headers.get(SERVED_BY)))

    # --- more of the protocol: uploaders, downloads, upload URLs ----------------------------

    def summarize_delta(self, delta):
        if delta.WhichOneof("type") == "new_element":
            el = delta.new_element
            kind = el.WhichOneof("type")
            if kind == "file_uploader":
                return (kind, el.file_uploader.id, el.file_uploader.label, "")
            if kind == "download_button":  # a file, or one made when clicked (deferred)
                button = el.download_button
                where = button.url or f"{DEFERRED}{button.deferred_file_id}"
                return (kind, where, button.label, "")
        return super().summarize_delta(delta)

    def on_delta(self, summary):
        kind, a, b, _ = summary
        if kind == "file_uploader":
            self.uploaders[b] = a
        elif kind == "download_button":
            self.downloads[b] = a
        else:
            super().on_delta(summary)

    async def on_message(self, data):
        if not isinstance(data, str):
            from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            if kind == "new_session" and msg.new_session.initialize.session_id:
                self.session_id = msg.new_session.initialize.session_id
            elif kind == "file_urls_response":
                reply = self.url_replies.get(msg.file_urls_response.response_id)
                if reply is not None and not reply.done():
                    reply.set_result(list(msg.file_urls_response.file_urls))
                return
            elif kind == "backend_operation_response":
                answer = msg.backend_operation_response
                reply = self.url_replies.get(answer.request_id)
                if reply is not None and not reply.done():
                    reply.set_result(answer.deferred_file.url or answer.error_msg)
                return
        await super().on_message(data)

    async def on_finished(self, status):
        first = self.first_render is None and status == OK_FULL
        if first:
            self.first_render = self.now()  # before bench_load's handler: no Play yet
            self.full_runs += 1
            self.run_no += 1
            self.run_charts = 0
            if self.live:
                self.prepare_task = asyncio.create_task(self.prepare())
            else:
                self.done.set()
            return
        await super().on_finished(status)
        if status == OK_FULL:
            self.full_done.set()

    # --- the student's steps ---------------------------------------------------------------

    async def full_run(self, payload, timeout=60.0):
        """Send a rerun and wait for a full run to finish after it."""
        self.full_done.clear()
        await self.send(payload)
        await asyncio.wait_for(self.full_done.wait(), timeout)

    def http(self, method, path, body=None, headers=None):
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(self.jar)
        )
        req = urllib.request.Request(
            f"http://{HOST}:{self.port}{path}", data=body, method=method, headers=headers or {}
        )
        with opener.open(req, timeout=30) as r:
            self.on_http(path, r.headers)
            return r.status, r.read()

    def xsrf(self):
        return next((c.value for c in self.jar if c.name == bench_load.XSRF_COOKIE), "")

    async def deferred_url(self, file_id):
        """What the browser does for a download made when clicked: ask the server (over the
        websocket) to make the file, and get its /media URL back."""
        request_id = uuid.uuid4().hex
        self.url_replies[request_id] = asyncio.get_running_loop().create_future()
        msg = BackMsg()
        msg.backend_operation_request.request_id = request_id
        msg.backend_operation_request.session_id = self.session_id
        msg.backend_operation_request.deferred_file.file_id = file_id
        await self.send(msg.SerializeToString())
        url = await asyncio.wait_for(self.url_replies[request_id], 30)
        if not url.startswith("/"):
            raise RuntimeError(f"the deferred download failed: {url}")
        return url

    async def upload(self, label, name, data, content_type):
        """What the browser's file uploader does: ask for an upload URL, PUT the file there,
        then rerun with the uploader's new state."""
        wid = self.uploaders.get(label)
        if wid is None:
            raise RuntimeError(f"no uploader {label!r} (saw {sorted(self.uploaders)})")
        request_id = uuid.uuid4().hex
        self.url_replies[request_id] = asyncio.get_running_loop().create_future()
        msg = BackMsg()
        msg.file_urls_request.request_id = request_id
        msg.file_urls_request.file_names.append(name)
        msg.file_urls_request.session_id = self.session_id
        await self.send(msg.SerializeToString())
        (urls,) = await asyncio.wait_for(self.url_replies[request_id], 30)
        body, ctype = multipart(name, data, content_type)
        status, _ = await asyncio.to_thread(
            self.http,
            "PUT",
            urls.upload_url,
            body,
            {
                "Content-Type": ctype,
                "X-Xsrftoken": self.xsrf(),
                "Origin": f"http://{HOST}:{self.port}",
            },
        )
        if status not in (200, 204):
            raise RuntimeError(f"upload of {name}: HTTP {status}")
        state = WidgetState(
            id=wid,
            file_uploader_state_value=FileUploaderState(
                uploaded_file_info=[
                    UploadedFileInfo(
                        name=name,
                        size=len(data),
                        file_id=urls.file_id,
                        file_urls=FileURLs(
                            file_id=urls.file_id,
                            upload_url=urls.upload_url,
                            delete_url=urls.delete_url,
                        ),
                    )
                ]
            ),
        )
        self.widget_states[wid] = state  # the uploader keeps its file in every later rerun
        await self.full_run(self.rerun())

    async def prepare(self):
        try:
            for label, name, data, ctype in self.uploads:
                await self.upload(label, name, data, ctype)
            url = self.downloads.get(DOWNLOAD_LABEL)
            if url is None:
                raise RuntimeError(f"no {DOWNLOAD_LABEL!r} download (saw {sorted(self.downloads)})")
            if url.startswith(DEFERRED):
                url = await self.deferred_url(url.removeprefix(DEFERRED))
            _, body = await asyncio.to_thread(self.http, "GET", url)
            got = json.loads(body)["settings"]
            if any(got.get(k) != v for k, v in SETTINGS.items()):
                raise RuntimeError(f"the settings file was not applied: {got}")
            await self.press_play()
            await asyncio.sleep(self.seconds)
        except Exception as exc:  # noqa: BLE001 - report, never crash the benchmark
            self.error(f"{type(exc).__name__}: {exc}")
        finally:
            self.done.set()

    def rate(self):
        """Chart updates per second from Play to the end of its --seconds."""
        if self.play_sent is None:
            return 0.0
        end = self.play_sent + self.seconds
        return sum(self.play_sent <= t <= end for t in self.updates) / self.seconds


async def student(index, port, seconds, t0, timeout):
    """One student's visit: a lesson page, then the Lab from a link. Returns its two sessions."""
    jar, served = http.cookiejar.CookieJar(), []
    lesson = Student(
        index, LESSONS[index % len(LESSONS)], False, port, "Play", jar=jar, served=served
    )
    uploads = [
        (POINTS_LABEL, "points.csv", points_file(), "text/csv"),
        (SETTINGS_LABEL, "settings.json", settings_file(), "application/json"),
    ]
    lab = Student(
        index,
        LAB,
        True,
        port,
        "Play",
        query=LINK,
        jar=jar,
        served=served,
        uploads=uploads,
        seconds=seconds,
    )
    for s in (lesson, lab):
        stop = asyncio.Event()
        task = asyncio.create_task(s.run(t0, stop))
        try:
            await asyncio.wait_for(s.done.wait(), timeout)
        except TimeoutError:
            s.error(f"not done within {timeout:.0f} s")
        stop.set()
        await task
        if s.prepare_task is not None and not s.prepare_task.done():
            s.prepare_task.cancel()
    return lesson, lab, served


async def lecture(cluster, n_students, seconds):
    """All students at once through the balancer; per-replica CPU over the whole run."""
    pids = cluster.pids()
    cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items()}
    hap0 = cpu_seconds(cluster.haproxy.pid)
    m0 = machine_cpu()
    t0, c0 = time.monotonic(), time.process_time()
    timeout = seconds + 120
    peak = {name: rss_mb(pid) for name, pid in pids.items()}
    running = asyncio.gather(
        *(student(i, cluster.port, seconds, t0, timeout) for i in range(n_students))
    )
    while not running.done():  # each replica's peak memory, sampled every second
        await asyncio.wait([running], timeout=1.0)
        peak = {name: max(peak[name], rss_mb(pid)) for name, pid in pids.items()}
    results = running.result()
    wall = time.monotonic() - t0
    m1 = machine_cpu()
    cpu = {name: (cpu_seconds(pid) - cpu0[name]) / wall for name, pid in pids.items()}
    return {
        "students": results,
        "wall": wall,
        "cpu": cpu,
        "peak_mb": peak,
        "haproxy_cpu": (cpu_seconds(cluster.haproxy.pid) - hap0) / wall,
        "client_cpu": (time.process_time() - c0) / wall,
        "machine_busy": (m1[0] - m0[0]) / max(m1[1] - m0[1], 1) * os.cpu_count(),
    }


def summarize(result, cluster, log_marks):
    rows, spread, errors, split = [], {}, 0, 0
    for lesson, lab, served in result["students"]:
        replicas = {r for _, r in served}
        where = next((r for what, r in served if what == "websocket"), None)
        spread[where] = spread.get(where, 0) + 1
        kinds = [
            f"{kind} x{sum(w == kind for w, _ in served)}"
            for kind in ("page", "health", "websocket", "upload", "media")
        ]
        errs = lesson.errors + lab.errors
        errors += len(errs)
        split += len(replicas) != 1
        rows.append((lab.index, where, lab.rate(), len(replicas) == 1, kinds, errs))
    tracebacks = sum(
        cluster.log_text(name)[mark:].count("Traceback") for name, mark in log_marks.items()
    )
    return rows, spread, errors + tracebacks, split, tracebacks


def print_run(k, n, result, rows, spread, errors, split, tracebacks):
    print(f"\nK = {k} replicas, {n} students ({n / k:g} per replica), {result['wall']:.0f} s")
    print(f"{'#':>3} {'replica':<8} {'updates/s':>9} {'one replica':<11} requests seen")
    for index, where, rate, same, kinds, _ in rows:
        print(
            f"{index:>3} {where or '-':<8} {rate:9.2f} {'yes' if same else 'NO':<11} "
            f"{', '.join(kinds)}"
        )
    for index, *_, errs in rows:
        for e in errs[:4]:
            print(f"  student {index}: {e}")
    rates = [r[2] for r in rows]
    print(
        f"spread: {dict(sorted(spread.items(), key=lambda kv: str(kv[0])))}; updates/s min "
        f"{min(rates):.2f}, median {statistics.median(rates):.2f}; students split across "
        f"replicas: {split}; errors: {errors} ({tracebacks} tracebacks in replica logs)"
    )
    cpu = ", ".join(f"{name} {c:.2f}" for name, c in sorted(result["cpu"].items()))
    mem = ", ".join(f"{name} {m:.0f}" for name, m in sorted(result["peak_mb"].items()))
    print(f"peak memory (MiB): {mem}")
    print(
        f"CPU (cores): {cpu}; haproxy {result['haproxy_cpu']:.2f}; this client "
        f"{result['client_cpu']:.2f}; load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    ours = sum(result["cpu"].values()) + result["haproxy_cpu"] + result["client_cpu"]
    print(
        f"machine: {result['machine_busy']:.2f} of {os.cpu_count()} cores busy; this "
        f"benchmark {ours:.2f}, other processes {result['machine_busy'] - ours:.2f}",
        flush=True,
    )


def log_sizes(cluster):
    return {name: len(cluster.log_text(name)) for name in cluster.pids()}


async def warm(cluster):
    """Open the Lab and a lesson once on each replica, directly (imports, caches)."""
    for port in cluster.ports:
        await bench_load.warm_up(port, [LAB, LESSONS[0]], "Play", timeout=90)


def run_k(k, per_replica_steps, args):
    cpus = [{i % os.cpu_count()} for i in range(k)] if args.pin else None
    held, table_row = 0, None
    with LocalCluster(replicas=k, cpus=cpus) as cluster:
        asyncio.run(warm(cluster))
        for per in per_replica_steps:
            n = per * k
            marks = log_sizes(cluster)
            result = asyncio.run(lecture(cluster, n, args.seconds))
            rows, spread, errors, split, tracebacks = summarize(result, cluster, marks)
            print_run(k, n, result, rows, spread, errors, split, tracebacks)
            rates = [r[2] for r in rows]
            ok = errors == 0 and split == 0 and min(rates) >= HOLD_FRACTION * TICK_RATE
            print(f"-> {'holds' if ok else 'falls short'}", flush=True)
            row = (
                k,
                per,
                n,
                min(rates),
                statistics.median(rates),
                spread,
                split,
                errors,
                result["cpu"],
                ok,
            )
            if not ok:
                return held, table_row or row, row
            held, table_row = per, row
    return held, table_row, None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--replicas", type=int, nargs="*", default=[1, 2, 3])
    p.add_argument(
        "--per-replica",
        type=int,
        nargs="*",
        default=[2, 3, 4, 5, 6],
        help="students per replica, tried in order until one falls short",
    )
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--pin", action="store_true", help="replica i on core i mod cores")
    p.add_argument(
        "--single",
        type=float,
        default=SINGLE_REPLICA,
        help="bench_load.py --capacity's live sessions for one replica alone",
    )
    args = p.parse_args(argv)
    if haproxy_path() is None:
        sys.exit("bench_cluster: haproxy not found (Debian: apt-get install haproxy)")

    print(
        f"{os.cpu_count()} cores; load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; {args.seconds:g} s of play; "
        f"replicas {'pinned' if args.pin else 'not pinned'}",
        flush=True,
    )
    table = []
    for k in args.replicas:
        held, row, failed = run_k(k, args.per_replica, args)
        table.append((k, held, row, failed))

    print(
        f"\nStudents per replica at >= {HOLD_FRACTION:.0%} of {TICK_RATE:g} updates/s, "
        "every request of a student on one replica, no error:\n"
    )
    print(
        "| K | students per replica | students | slowest / median updates/s | spread | "
        "CPU per replica (cores) | next step |"
    )
    print("|---|---|---|---|---|---|---|")
    for k, held, row, failed in table:
        _, _, n, lo, med, spread, _, _, cpu, _ = row
        spread_text = " ".join(f"{v}" for _, v in sorted(spread.items(), key=lambda kv: str(kv[0])))
        cpu_text = " ".join(f"{c:.2f}" for _, c in sorted(cpu.items()))
        nxt = f"{failed[1]}/replica: slowest {failed[3]:.2f}, {failed[7]} errors" if failed else "-"
        print(
            f"| {k} | {held} | {n if held else 0} | {lo:.2f} / {med:.2f} | {spread_text} | "
            f"{cpu_text} | {nxt} |"
        )
    held_any = [(k, held) for k, held, _, _ in table if held]
    print()
    for k, held in held_any:
        print(
            f"replicas per 100 live students: {math.ceil(100 / held)} (at {held} students "
            f"per replica, as K = {k} held)"
        )
    if not held_any:
        print("replicas per 100 live students: - (no step held)")
    for k, held, _, _ in table:
        off = (held - args.single) / args.single
        print(
            f"scaling check, K = {k}: {held} per replica through the balancer against "
            f"{args.single:g} for one replica alone (bench_load.py): {off:+.0%} "
            f"({'within' if abs(off) <= 0.15 else 'NOT within'} 15%)"
        )


if __name__ == "__main__":
    main()
