"""
README's examples say what the code does.
"""

from __future__ import annotations

import os
import re
import shutil
import textwrap

import pytest

from support import ROOT, example
from upnp_announce import tap


def literal_block_after(text: str, marker: str) -> str:
    start = text.index(marker) + len(marker)
    block = re.match(r"::\n\n((?:(?:    .*)?\n)+)", text[start:])
    assert block is not None, marker
    return textwrap.dedent(block.group(1)).strip() + "\n"


def test_the_broken_ini_example_gives_the_errors_shown(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with open(os.path.join(ROOT, "README.rst"), encoding="utf-8") as f:
        readme = f.read()
    ini = literal_block_after(readme, "For this ``broken.ini``")
    shown = literal_block_after(readme, "twistd says").splitlines()
    assert shown[0] == "$ twistd -n upnp --config broken.ini"
    (tmp_path / "broken.ini").write_text(ini)
    shutil.copy(example("jambon-scpd.xml"), tmp_path)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        tap.Options().parseOptions(["--config", "broken.ini"])
    assert str(e.value.code).splitlines() == shown[1:]
