"""A lecture hall on one machine: K Streamlit replicas as processes and HAProxy (Debian's
`haproxy` package) in front of them, configured from deploy/haproxy.cfg with only the backend
addresses rewritten: the file that ships is the file that is tested.

Used by benchmarks/bench_cluster.py and tests/e2e/test_cluster.py.

    with LocalCluster(replicas=2) as cluster:
        cluster.url               # http://127.0.0.1:<port>, the balancer
        cluster.kill(0)           # replica app1 dies (SIGKILL, as in a crash)
        cluster.server_states()   # {"app1": "DOWN", "app2": "UP"}, HAProxy's view

Replica i is HAProxy's server `app<i+1>`: the name that its responses carry in the
X-Served-By header (deploy/haproxy.cfg).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HAPROXY_CFG = ROOT / "deploy" / "haproxy.cfg"
HOST = "127.0.0.1"
SERVED_BY = "X-Served-By"


def haproxy_path():
    """Debian's haproxy binary, or None."""
    found = shutil.which("haproxy") or "/usr/sbin/haproxy"
    return found if os.access(found, os.X_OK) else None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def local_config(replica_ports, text=None):
    """deploy/haproxy.cfg with its one `server-template` line (the replicas found by DNS)
    replaced by one `server app<i>` line per local replica port: nothing else changes."""
    text = HAPROXY_CFG.read_text() if text is None else text
    lines = text.splitlines(keepends=True)
    found = [i for i, ln in enumerate(lines) if ln.lstrip().startswith("server-template ")]
    if len(found) != 1:
        raise ValueError(f"deploy/haproxy.cfg must have one server-template line, has {len(found)}")
    line = lines[found[0]]
    indent = line[: len(line) - len(line.lstrip())]
    prefix = line.split()[1]  # the template's name prefix: servers are <prefix>1, <prefix>2...
    servers = [
        f"{indent}server {prefix}{k} {HOST}:{port}\n" for k, port in enumerate(replica_ports, 1)
    ]
    return "".join(lines[: found[0]] + servers + lines[found[0] + 1 :])


def _opener():
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def healthy(url, timeout=1.0):
    try:
        with _opener().open(f"{url}/_stcore/health", timeout=timeout) as r:
            return r.read().decode().strip() == "ok"
    except OSError:
        return False


class LocalCluster:
    """K replicas (`streamlit run app.py`, as `dev.py app` and the image run it) and HAProxy.

    cpus: optional list of CPU sets, one per replica, to pin each replica (taskset).
    """

    def __init__(self, replicas=2, *, script="app.py", cpus=None, env=None, log_dir=None):
        self.n = replicas
        self.script = script
        self.cpus = cpus
        self.env = {
            **os.environ,
            "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
            "OPENBLAS_NUM_THREADS": "1",
            **(env or {}),
        }
        self._tmp = tempfile.TemporaryDirectory(prefix="bnlab-cluster-")
        self.dir = Path(log_dir or self._tmp.name)
        self.ports = [free_port() for _ in range(replicas)]
        self.port = free_port()
        self.stats_port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.socket_path = str(Path(self._tmp.name) / "admin.sock")
        self.procs: list[subprocess.Popen | None] = [None] * replicas
        self.haproxy: subprocess.Popen | None = None
        self._logs = []

    # --- start and stop ------------------------------------------------------------------------

    def _log(self, name):
        f = open(self.dir / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self._logs.append(f)
        return f

    def start_replica(self, i):
        port = self.ports[i]
        cmd = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            self.script,
            "--server.port",
            str(port),
            "--server.address",
            HOST,
            "--server.headless",
            "true",
            "--server.fileWatcherType",
            "none",
        ]
        if self.cpus:  # pinned to its CPUs (util-linux's taskset), as a container's cpuset
            cmd = ["taskset", "-c", ",".join(str(c) for c in self.cpus[i]), *cmd]
        log = self._log(f"app{i + 1}")
        self.procs[i] = subprocess.Popen(
            cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )

    def start(self, timeout=90.0):
        exe = haproxy_path()
        if exe is None:
            raise RuntimeError("haproxy not found (Debian: apt-get install haproxy)")
        for i in range(self.n):
            self.start_replica(i)
        cfg = self.dir / "haproxy.cfg"
        cfg.write_text(local_config(self.ports))
        env = {
            **os.environ,
            "BNLAB_HAPROXY_BIND": f"{HOST}:{self.port}",
            "BNLAB_HAPROXY_SOCKET": self.socket_path,
            "BNLAB_HAPROXY_STATS": f"{HOST}:{self.stats_port}",
        }
        check = subprocess.run(
            [exe, "-c", "-q", "-f", str(cfg)], env=env, capture_output=True, text=True, check=False
        )
        if check.returncode:
            raise RuntimeError(f"haproxy -c failed:\n{check.stdout}{check.stderr}")
        log = self._log("haproxy")
        self.haproxy = subprocess.Popen(
            [exe, "-db", "-f", str(cfg)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        self.wait_up(range(self.n), timeout)
        return self

    def wait_up(self, replicas, timeout=90.0):
        """Until each replica answers its health check and HAProxy counts it UP."""
        deadline = time.monotonic() + timeout
        names = {f"app{i + 1}" for i in replicas}
        while time.monotonic() < deadline:
            for i, p in enumerate(self.procs):
                if i in replicas and p is not None and p.poll() is not None:
                    raise RuntimeError(
                        f"replica app{i + 1} exited with code {p.returncode}:\n"
                        + self.log_text(f"app{i + 1}")[-2000:]
                    )
            if self.haproxy.poll() is not None:
                raise RuntimeError("haproxy exited:\n" + self.log_text("haproxy")[-2000:])
            try:
                states = self.server_states()
            except OSError:
                states = {}
            if all(states.get(n) == "UP" for n in names):
                return
            time.sleep(0.2)
        raise RuntimeError(f"replicas not UP after {timeout:.0f} s: {self.server_states()}")

    def kill(self, i):
        """Replica i dies at once (SIGKILL: no goodbye to its browsers, as in a crash)."""
        p = self.procs[i]
        if p is not None and p.poll() is None:
            p.kill()
            p.wait()

    def stop(self):
        procs = [p for p in [self.haproxy, *self.procs] if p is not None]
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for f in self._logs:
            f.close()
        self._logs = []

    def close(self):
        self.stop()
        self._tmp.cleanup()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # --- what HAProxy sees ---------------------------------------------------------------------

    def admin(self, command):
        """One command to HAProxy's runtime API (the stats socket of deploy/haproxy.cfg)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(self.socket_path)
            s.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def server_states(self):
        """{server name: status} of the backend's servers ("UP", "DOWN", "DRAIN", ...)."""
        rows = self.admin("show stat").lstrip("# ").splitlines()
        header = rows[0].split(",")
        out = {}
        for row in rows[1:]:
            cells = dict(zip(header, row.split(","), strict=False))
            if (
                cells.get("svname") not in (None, "FRONTEND", "BACKEND")
                and cells.get("pxname") == "lab"
            ):
                out[cells["svname"]] = cells.get("status", "").split(" ")[0]
        return out

    def pids(self):
        """{server name: pid} of the replicas still running."""
        return {
            f"app{i + 1}": p.pid
            for i, p in enumerate(self.procs)
            if p is not None and p.poll() is None
        }

    def log_text(self, name):
        try:
            return (self.dir / f"{name}.log").read_text(errors="replace")
        except OSError:
            return ""
