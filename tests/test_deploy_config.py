"""Deployment settings: .streamlit/config.toml, the Dockerfile, and no unsafe HTML built from
anything a user could supply."""

from __future__ import annotations

import ast
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from bn_core import exchange

ROOT = Path(__file__).resolve().parents[1]
MAX_UPLOAD_MB = 1  # the largest file the app accepts is 500 KB (bn_core/exchange.py)
# Where the app's own code lives (tests, benchmarks and .venv are not served).
SOURCES = ["app.py", "pages", "bn_app", "bn_live", "bn_a11y", "bn_viz", "bn_core"]
# The unsafe_allow_html / st.html calls allowed: constant stylesheets, read once at import (the
# one for presentation mode; the accessibility one: focus rings, reflow, reduced motion).
ALLOWED_UNSAFE_HTML = {("bn_app/ui.py", "_PRESENT_CSS"), ("bn_app/ui.py", "_A11Y_CSS")}


# --- .streamlit/config.toml ------------------------------------------------------------------


@pytest.fixture(scope="module")
def config():
    with open(ROOT / ".streamlit" / "config.toml", "rb") as f:
        return tomllib.load(f)


def test_upload_limit_is_small(config):
    size = config.get("server", {}).get("maxUploadSize")
    assert isinstance(size, int), "set server.maxUploadSize (MB); Streamlit's default is 200"
    assert 0 < size <= MAX_UPLOAD_MB


def test_upload_limit_lets_every_file_the_app_accepts_through(config):
    """Streamlit refuses bigger uploads before the app sees them; the parsers' own limits
    (docs/SECURITY.md) must fit under it, or a legal file would be refused with no reason."""
    size_bytes = config["server"]["maxUploadSize"] * 2**20  # Streamlit's MB
    assert max(exchange.MAX_POINTS_BYTES, exchange.MAX_SETTINGS_BYTES) <= size_bytes


def test_xsrf_protection_stays_on(config):
    server = config.get("server", {})
    assert server.get("enableXsrfProtection", True) is True
    # XSRF protection relies on CORS protection staying on too.
    assert server.get("enableCORS", True) is True


def test_headless_without_usage_stats(config):
    assert config.get("server", {}).get("headless") is True
    assert config.get("browser", {}).get("gatherUsageStats") is False


# --- Dockerfile ------------------------------------------------------------------------------


def dockerfile_instructions():
    """[(INSTRUCTION, arguments)] with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    joined = re.sub(r"\\\s*\n", " ", "\n".join(lines))
    out = []
    for line in joined.splitlines():
        if line.strip():
            instr, _, args = line.strip().partition(" ")
            out.append((instr.upper(), args.strip()))
    return out


@pytest.fixture(scope="module")
def docker():
    return dockerfile_instructions()


def _index(docker, instr, pattern=""):
    return next(
        i for i, (name, args) in enumerate(docker) if name == instr and re.search(pattern, args)
    )


def test_dockerfile_base_and_port(docker):
    assert docker[0] == ("FROM", "python:3.11-slim")
    assert ("EXPOSE", "8501") in docker


def test_dockerfile_installs_requirements_before_the_app(docker):
    copy_req = _index(docker, "COPY", r"^requirements\.txt\b")
    pip = _index(docker, "RUN", r"pip install .*--no-cache-dir.* -r requirements\.txt")
    copy_app = _index(docker, "COPY", r"(^|\s)\.\s+\.$")
    assert copy_req < pip < copy_app


def test_dockerfile_runs_as_non_root(docker):
    users = [(i, args) for i, (name, args) in enumerate(docker) if name == "USER"]
    assert users, "no USER instruction: the container would run as root"
    last_index, last_user = users[-1]
    assert last_user.split(":")[0] not in ("root", "0")
    assert last_index < _index(docker, "CMD")


def test_dockerfile_healthcheck_and_command(docker):
    health = next(args for name, args in docker if name == "HEALTHCHECK")
    assert "/_stcore/health" in health and "8501" in health
    cmd = next(args for name, args in docker if name == "CMD")
    words = [w.strip('[]",') for w in shlex.split(cmd.replace(",", " "))]
    assert words[:3] == ["streamlit", "run", "app.py"]
    assert "--server.port=8501" in words and "--server.address=0.0.0.0" in words
    text = (ROOT / "Dockerfile").read_text()
    assert "enableXsrfProtection" not in text and "maxUploadSize" not in text, (
        "settings belong in .streamlit/config.toml, not overridden in the image"
    )


def test_dockerignore_keeps_out_local_state():
    entries = {
        ln.strip().rstrip("/")
        for ln in (ROOT / ".dockerignore").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    }
    for needed in (".venv", ".git", "artifacts", "**/__pycache__"):
        assert needed in entries
    assert ".streamlit" not in entries, "the image needs .streamlit/config.toml"


# --- no unsafe HTML from user input --------------------------------------------------------


def source_files():
    for name in SOURCES:
        path = ROOT / name
        yield from sorted(path.rglob("*.py")) if path.is_dir() else [path]


def unsafe_html_calls():
    """[(file, first argument's source, line)] of every call passing unsafe_allow_html that is
    not the literal False, and of every st.html / components.html call."""
    found = []
    for path in source_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            unsafe = any(
                kw.arg == "unsafe_allow_html"
                and not (isinstance(kw.value, ast.Constant) and kw.value.value is False)
                for kw in node.keywords
            )
            raw_html = (
                isinstance(node.func, ast.Attribute)
                and node.func.attr == "html"
                and (
                    ast.unparse(node.func.value)
                    in ("st", "components", "components.v1", "st.components.v1")
                )
            )
            if unsafe or raw_html:
                arg = ast.unparse(node.args[0]) if node.args else "<no positional argument>"
                found.append((rel, arg, node.lineno))
    return found


def test_unsafe_html_only_for_the_constant_stylesheet():
    calls = unsafe_html_calls()
    assert {(f, arg) for f, arg, _ in calls} <= ALLOWED_UNSAFE_HTML, (
        "unsafe_allow_html=True / st.html with something other than a constant: "
        + ", ".join(f"{f}:{line} ({arg})" for f, arg, line in calls)
    )


def test_the_stylesheet_is_a_module_level_string_constant():
    tree = ast.parse((ROOT / "bn_app" / "ui.py").read_text())
    assigned = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign)
        and any(
            isinstance(t, ast.Name) and t.id == "_PRESENT_CSS"
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        )
    ]
    assert len(assigned) == 1 and assigned[0] in tree.body, "assign _PRESENT_CSS once, at the top"
    value = assigned[0].value
    assert isinstance(value, ast.Constant) and isinstance(value.value, str)
    assert not any(
        isinstance(node, ast.Global) and "_PRESENT_CSS" in node.names for node in ast.walk(tree)
    )
