"""Fixtures shared by every test. pyproject's `pythonpath = ["."]` puts the repo root on
sys.path."""

from pathlib import Path

import pytest
from hypothesis import settings

from tests.apptest import downloads  # noqa: F401  (a fixture: read a page's download buttons)

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root directory (where app.py and pyproject.toml live)."""
    return REPO_ROOT


# Hypothesis (the fuzz tests, tests/test_fuzz_*.py): the same examples on every run and every
# machine (derandomize), no example database written into the repo, no deadline (the machine
# may be busy; each test bounds its own max_examples instead).
settings.register_profile("suite", derandomize=True, database=None, deadline=None, print_blob=False)
settings.load_profile("suite")
