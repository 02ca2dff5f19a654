"""The code passes the project's ruff settings (pyproject.toml): the lint rules, and the
formatter's layout (`ruff format` writes it)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff(*args):
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def ruff():
    if _ruff("--version").returncode:
        pytest.skip("ruff is not installed (python3 dev.py test installs it)")
    return _ruff


def test_ruff_check_finds_nothing(ruff):
    result = ruff("check", "--quiet", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_code_is_laid_out_as_ruff_format_writes_it(ruff):
    result = ruff("format", "--check", ".")
    assert result.returncode == 0, "run `ruff format .`:\n" + result.stdout + result.stderr
