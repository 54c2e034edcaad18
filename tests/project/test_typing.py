"""
The package type-checks under mypy --strict (with the zope plugin), as
configured in setup.cfg.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from support import ROOT, need


@pytest.mark.slow
def test_mypy_strict(tmp_path) -> None:  # type: ignore[no-untyped-def]
    need(importlib.util.find_spec("mypy") is not None, "mypy is not installed")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
