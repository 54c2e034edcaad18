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
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".hypothesis", ".pytest_cache",
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


def readme_commands() -> tuple[str, str]:
    """
    README's two first commands: run the example device; run the tests.
    """
    readme = (Path(ROOT) / "README.rst").read_text(encoding="utf-8")
    commands = []
    for marker in ("Run the example device", "Run the tests"):
        after = readme[readme.index(marker):]
        block = after[after.index("::\n\n") + 4:]
        commands.append(block.splitlines()[0].strip())
    return commands[0], commands[1]


def test_ci_runs_the_readmes_test_command_exactly() -> None:
    _, tests = readme_commands()
    assert tests.startswith("python3 -m venv .venv && ")
    ci = (Path(ROOT) / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line for line in ci.splitlines() if line and not line.startswith(("#", " "))]
    assert commands[-1] == tests


def test_the_readmes_run_command_works_as_written(tmp_path: Path) -> None:
    """
    In a fresh copy of the tree, exactly as a newcomer types it: a virtual
    environment (no pip install outside one: PEP 668), the example device
    on loopback, serving until it is stopped.
    """
    import signal
    import time

    run_command, _ = readme_commands()
    assert run_command.startswith("python3 -m venv .venv && ") and "--interface lo" in run_command
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=IGNORED)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_USER", "VIRTUAL_ENV")}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"  # python3 is ours
    process = subprocess.Popen(
        ["bash", "-c", run_command], cwd=source, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    lines = []
    try:
        deadline = time.monotonic() + 300
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "Serving Jambon" in line or time.monotonic() > deadline:
                break
    finally:
        # Everything it started is in its own session: stopped by that id.
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        assert process.stdout is not None
        process.stdout.close()
    assert any("Serving Jambon" in line and " on lo at http://127.0.0.1:" in line
               for line in lines), "".join(lines)
    assert (source / ".venv" / "bin" / "twistd").exists()

