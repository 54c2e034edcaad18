"""
ruff is clean on the whole tree (ruff.toml: pyflakes, pycodestyle's errors,
import order), and module-level functions follow one naming convention.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import ROOT, need

PACKAGE = Path(ROOT) / "upnp_announce"
# Module-level functions are snake_case. Names Twisted looks up keep
# Twisted's spelling.
SNAKE = re.compile(r"_?[a-z][a-z0-9]*(_[a-z0-9]+)*\Z")
TWISTED_NAMES = {"makeService"}


def _ruff() -> list[str] | None:
    found = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    return [found] if Path(found).exists() else None


@pytest.mark.slow
def test_ruff_is_clean() -> None:
    ruff = _ruff()
    need(ruff is not None, "ruff is not installed (pip install -e '.[test]')")
    assert ruff is not None
    result = subprocess.run(
        [*ruff, "check", "--no-cache", "upnp_announce", "tests", "benchmarks", "examples",
         "twisted"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def module_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.name for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]


def test_module_level_functions_are_snake_case() -> None:
    wrong = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for name in module_functions(path)
        if not SNAKE.match(name) and name not in TWISTED_NAMES
    ]
    assert wrong == []


def test_the_convention_check_can_fail(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def buildTree():\n    pass\n\n\ndef put_resource():\n    pass\n")
    names = module_functions(sample)
    assert [n for n in names if not SNAKE.match(n)] == ["buildTree"]
