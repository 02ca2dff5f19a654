"""Set up the project's virtual environment, then start the app or run the tests.

    python3 dev.py app [streamlit args...]   # .venv + requirements.txt, then streamlit run app.py
    python3 dev.py test [pytest args...]     # .venv + requirements-test.txt, then pytest

Works from any directory, but runs from the repo root (so pytest paths are relative to it).
Standard library only. Requirements are reinstalled only when the requirements files change
(a stamp in .venv holds their hash).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
REQUIREMENTS = {"app": "requirements.txt", "test": "requirements-test.txt"}


def say(message: str) -> None:
    print(f"dev.py: {message}", flush=True)


def requirements_hash() -> str:
    """Hash of every requirements*.txt (the test file includes the app file with -r)."""
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("requirements*.txt")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def ensure_venv(requirements: str) -> None:
    if not PYTHON.exists():
        say(f"creating .venv with Python {sys.version.split()[0]}")
        fresh = not VENV.exists()
        try:
            venv.create(VENV, with_pip=True)
        except subprocess.CalledProcessError:
            if fresh:
                shutil.rmtree(VENV, ignore_errors=True)
            sys.exit("dev.py: could not create .venv (Debian/Ubuntu: apt-get install python3-venv)")
    stamp = VENV / f".dev-stamp-{requirements}"
    wanted = requirements_hash()
    if stamp.exists() and stamp.read_text().strip() == wanted:
        say(f"{requirements} already installed")
        return
    say(f"installing {requirements} into .venv")
    pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(ROOT / requirements)], check=True)
    stamp.write_text(wanted + "\n")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in REQUIREMENTS:
        print(__doc__, file=sys.stderr)
        return 2
    if sys.version_info < (3, 11):  # noqa: UP036 (dev.py may meet an older python3)
        sys.exit("dev.py: BatchNorm Lab needs Python 3.11 or newer")
    command, extra = argv[0], argv[1:]
    try:
        ensure_venv(REQUIREMENTS[command])
    except subprocess.CalledProcessError as error:
        return error.returncode or 1
    os.chdir(ROOT)
    # The core's matrices are small: one BLAS thread per process is faster, and a server
    # running several sessions (or tests beside a browser) stops fighting over the cores.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if command == "app":
        say("starting the app: streamlit run app.py " + " ".join(extra))
        os.execv(PYTHON, [str(PYTHON), "-m", "streamlit", "run", "app.py", *extra])
    say("running the tests: pytest " + " ".join(extra))
    return subprocess.run([str(PYTHON), "-m", "pytest", *extra], check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
