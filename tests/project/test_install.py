"""
After ``pip install .`` and after ``pip install -e .``, twistd lists the
``upnp`` plugin and the ``upnp-announce`` command runs: in a fresh virtual
environment, from a copy of the source tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import ROOT

pytestmark = pytest.mark.slow

IGNORED = shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", ".hypothesis", ".pytest_cache",
    ".mypy_cache", ".benchmarks", "dropin.cache",
)


def run(*argv: str | Path, cwd: Path) -> str:
    result = subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, cwd=cwd, timeout=600,
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_USER")},
    )
    assert result.returncode == 0, f"{argv}: {result.stdout}\n{result.stderr}"
    return result.stdout


def plugins(venv: Path, elsewhere: Path) -> str:
    return run(venv / "bin" / "twistd", "--help", cwd=elsewhere)


def test_twistd_lists_upnp_after_pip_install_and_pip_install_e(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=IGNORED)
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    run(*pip, source, cwd=elsewhere)
    assert "upnp " in plugins(venv, elsewhere)
    where = run(venv / "bin" / "python", "-c",
                "import upnp_announce; print(upnp_announce.__file__)", cwd=elsewhere)
    assert str(venv) in where
    assert "upnp-announce 0." in run(venv / "bin" / "upnp-announce", "--version", cwd=elsewhere)

    run(venv / "bin" / "python", "-m", "pip", "uninstall", "-q", "-y", "upnp_announce",
        cwd=elsewhere)
    assert "upnp " not in plugins(venv, elsewhere)

    run(*pip, "-e", source, cwd=elsewhere)
    assert "upnp " in plugins(venv, elsewhere)
    where = run(venv / "bin" / "python", "-c",
                "import upnp_announce; print(upnp_announce.__file__)", cwd=elsewhere)
    assert where.startswith(str(source))
