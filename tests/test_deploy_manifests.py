"""The deployment files in deploy/, checked offline: they parse, every health check and probe asks
/_stcore/health, the sizes are the ones docs/DEPLOY.md gives, and every replica runs the image's
own command, which is what `python3 dev.py app` runs (streamlit run app.py on port 8501)."""

from __future__ import annotations

import ast
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.cluster import HAPROXY_CFG, local_config
from tests.test_deploy_config import dockerfile_instructions

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
HEALTH = "/_stcore/health"
PORT = 8501  # Streamlit's default: `dev.py app` sets none, the image sets it explicitly
UNITS = {"": 1 / 2**20, "k": 1 / 1024, "ki": 1 / 1024, "m": 1, "mi": 1, "g": 1024, "gi": 1024}


def mib(quantity):
    """'512M' (compose: MiB), '512Mi' (Kubernetes), '1G', ... -> MiB."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kKmMgG]i?)?[bB]?", str(quantity).strip())
    assert match, f"not a memory size: {quantity!r}"
    return float(match[1]) * UNITS[(match[2] or "").lower()]


@pytest.fixture(scope="module")
def documented():
    """The per-replica sizes docs/DEPLOY.md states: {'limit': MiB, 'request': MiB}."""
    text = (ROOT / "docs" / "DEPLOY.md").read_text()
    found = {
        key: re.search(rf"\*\*Memory {key}: (\d+) MiB\*\*", text) for key in ("limit", "request")
    }
    missing = [k for k, m in found.items() if m is None]
    assert not missing, (
        f"docs/DEPLOY.md must state **Memory limit: N MiB** and **Memory "
        f"request: N MiB** (missing: {missing})"
    )
    return {k: int(m[1]) for k, m in found.items()}


@pytest.fixture(scope="module")
def compose():
    with open(DEPLOY / "compose.yaml") as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="module")
def kube():
    """{kind: document} of deploy/kubernetes/*.yaml."""
    docs = {}
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if doc:
                    assert doc["kind"] not in docs, f"two {doc['kind']}s"
                    docs[doc["kind"]] = doc
    return docs


@pytest.fixture(scope="module")
def haproxy_cfg():
    """deploy/haproxy.cfg as {section header: [directive lines]}, comments dropped."""
    sections, current = {}, None
    for line in HAPROXY_CFG.read_text().splitlines():
        text = line.split("#", 1)[0].rstrip()
        if not text.strip():
            continue
        if not text[0].isspace():
            current = text.strip()
            sections[current] = []
        else:
            sections[current].append(text.strip())
    return sections


# --- the image's command is `dev.py app`'s ----------------------------------------------------


def dev_app_command():
    """The arguments `dev.py app` gives Python: ['-m', 'streamlit', 'run', 'app.py']."""
    tree = ast.parse((ROOT / "dev.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "os.execv":
            words = [e.value for e in node.args[1].elts if isinstance(e, ast.Constant)]
            if "streamlit" in words:
                return words
    raise AssertionError("dev.py app no longer execs streamlit")


def image_command():
    cmd = next(args for name, args in dockerfile_instructions() if name == "CMD")
    return [w.strip('[]",') for w in shlex.split(cmd.replace(",", " ")) if w.strip('[]",')]


def test_the_image_runs_what_dev_py_app_runs():
    dev = dev_app_command()
    assert dev == ["-m", "streamlit", "run", "app.py"]
    image = image_command()
    assert image[:3] == dev[1:4]
    # Its only server flags: the port dev.py app gets by default, and listening beyond
    # loopback inside the container. Everything else comes from .streamlit/config.toml, which
    # both read, and which sets no other port.
    assert sorted(image[3:]) == ["--server.address=0.0.0.0", f"--server.port={PORT}"]
    with open(ROOT / ".streamlit" / "config.toml", "rb") as f:
        assert "port" not in tomllib.load(f).get("server", {})
    assert f"localhost:{PORT}" in (ROOT / "README.md").read_text()


# --- compose.yaml ----------------------------------------------------------------------------


def test_compose_runs_the_image_as_built_behind_haproxy(compose):
    app, proxy = compose["services"]["app"], compose["services"]["haproxy"]
    assert (DEPLOY / app["build"]["context"] / "Dockerfile").is_file()
    assert "command" not in app and "entrypoint" not in app, "use the image's own command"
    assert "ports" not in app, "only HAProxy reaches the replicas"
    assert "healthcheck" not in app or HEALTH in str(app["healthcheck"])
    mounts = [v.split(":") for v in proxy["volumes"]]
    assert ["./haproxy.cfg", "/usr/local/etc/haproxy/haproxy.cfg", "ro"] in mounts
    assert any(str(p).endswith(":8080") for p in proxy["ports"])


def test_compose_memory_limits_are_the_documented_ones(compose, documented):
    resources = compose["services"]["app"]["deploy"]["resources"]
    assert mib(resources["limits"]["memory"]) == documented["limit"]
    assert mib(resources["reservations"]["memory"]) == documented["request"]
    assert float(resources["limits"]["cpus"]) == 1.0


def test_compose_replicas_fit_haproxy_s_template(compose, haproxy_cfg):
    template = next(d for d in haproxy_cfg["backend lab"] if d.startswith("server-template"))
    _, prefix, count, address, *_ = template.split()
    assert prefix == "app", "servers app1, app2, ...: the names tests/cluster.py gives them"
    assert address == f"app:{PORT}", "the compose service is `app`, Streamlit on 8501"
    assert 1 <= compose["services"]["app"]["deploy"]["replicas"] <= int(count)


# --- Kubernetes --------------------------------------------------------------------------------


def test_kubernetes_has_deployment_service_ingress(kube):
    assert {"Deployment", "Service", "Ingress"} <= set(kube)
    assert set(kube) <= {"Deployment", "Service", "Ingress", "HorizontalPodAutoscaler"}


@pytest.fixture(scope="module")
def container(kube):
    (one,) = kube["Deployment"]["spec"]["template"]["spec"]["containers"]
    return one


def _port(container, port):
    named = {p.get("name"): p["containerPort"] for p in container["ports"]}
    return named.get(port, port)


def test_probes_ask_streamlit_s_health_endpoint(container):
    for probe in ("readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] == HEALTH
        assert _port(container, get["port"]) == PORT
    # A replica that is slow for a moment (a busy lecture) is not restarted for it.
    live = container["livenessProbe"]
    assert live["periodSeconds"] * live["failureThreshold"] >= 30


def test_kubernetes_runs_the_image_s_command_with_documented_sizes(container, documented):
    assert "command" not in container and "args" not in container, "use the image's command"
    assert [p["containerPort"] for p in container["ports"]] == [PORT]
    res = container["resources"]
    assert mib(res["limits"]["memory"]) == documented["limit"]
    assert mib(res["requests"]["memory"]) == documented["request"]
    assert str(res["requests"]["cpu"]) == "1"


def test_service_and_ingress_reach_the_pods_with_cookie_affinity(kube, container):
    deployment, service, ingress = kube["Deployment"], kube["Service"], kube["Ingress"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    (port,) = service["spec"]["ports"]
    assert _port(container, port["targetPort"]) == PORT
    notes = ingress["metadata"]["annotations"]
    nginx = "nginx.ingress.kubernetes.io/"
    assert notes[nginx + "affinity"] == "cookie"
    assert int(notes[nginx + "proxy-read-timeout"]) >= 3600, "a lecture's websocket"
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]


# --- haproxy.cfg -------------------------------------------------------------------------------


def _seconds(value):
    number, unit = re.fullmatch(r"(\d+)(ms|s|m|h|d)?", value).groups()
    return int(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit or "ms"]


def test_haproxy_sticks_checks_and_waits_a_lecture(haproxy_cfg):
    backend = haproxy_cfg["backend lab"]
    assert f"option httpchk GET {HEALTH}" in backend
    assert "http-check expect string ok" in backend
    cookie = next(d.split() for d in backend if d.startswith("cookie "))
    assert "insert" in cookie and cookie[1] != "_streamlit_xsrf"
    defaults = dict(
        d.split(None, 2)[1:] for d in haproxy_cfg["defaults"] if d.startswith("timeout ")
    )
    assert _seconds(defaults["tunnel"]) >= 3600 and _seconds(defaults["client"]) >= 3600
    assert "option redispatch" in haproxy_cfg["defaults"]


def test_the_benchmark_rewrites_only_the_backend_addresses():
    shipped = HAPROXY_CFG.read_text().splitlines()
    local = local_config([9001, 9002]).splitlines()
    removed = [ln for ln in shipped if ln not in local]
    added = [ln for ln in local if ln not in shipped]
    assert [ln.split()[0] for ln in removed] == ["server-template"]
    assert [ln.split()[:3] for ln in added] == [
        ["server", "app1", "127.0.0.1:9001"],
        ["server", "app2", "127.0.0.1:9002"],
    ]


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy not installed")
def test_haproxy_accepts_the_shipped_file(tmp_path):
    env = {"BNLAB_HAPROXY_SOCKET": str(tmp_path / "admin.sock"), "PATH": "/usr/sbin:/usr/bin"}
    done = subprocess.run(
        ["haproxy", "-c", "-f", str(HAPROXY_CFG)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
