"""Fixtures shared by every test. pyproject's `pythonpath = ["."]` puts the repo root on sys.path."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root directory (where app.py and pyproject.toml live)."""
    return REPO_ROOT
