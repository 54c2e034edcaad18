"""
`upnp-announce check` on configuration files, and the console script.
"""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from upnp_announce import cli, config
from upnp_announce.wire.ssdp import announcements

from support import example


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(list(argv), out, err)
    return status, out.getvalue(), err.getvalue()


def test_check_summarises_a_good_file() -> None:
    status, out, err = run("check", example("jambon-fridge.ini"))
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == f"{example('jambon-fridge.ini')}: OK"
    assert lines[1].startswith("configId ")
    assert "Jambon 3000 with fridge (urn:schemas-upnp-org:device:Basic:1)" in out
    assert "  Jambon fridge (urn:boucherie.example.com:device:Fridge:1)" in out
    assert "service urn:boucherie.example.com:serviceId:Thermometer" in out
    assert "icon 48x48x32 image/png" in out
    assert "network: interfaces (all usable), httpPort (any), maxAge 1800, ttl 2" in out
    loaded = config.load(example("jambon-fridge.ini"))
    announced = lines[lines.index("SSDP announces (NT, then USN):") + 1:-1]
    assert announced == [f"  {a.nt}  {a.usn}" for a in announcements(loaded.device)]
    assert len(announced) == 3 + 2 * 1 + 2


def test_check_lists_every_problem_and_fails(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.ini"
    bad.write_text(
        "[device]\n"
        "deviceType = urn:schemas-upnp-org:device:Basic:1\n"
        "friendlyName = x\n"
        "modelNmae = y\n"
        "services = jambom\n"
        "[service:jambon]\n"
        "serviceType = urn:a-b:service:J:1\n"
        "serviceId = urn:a-b:serviceId:J\n"
        "scpd = missing.xml\n"
    )
    status, out, err = run("check", str(bad))
    assert status == 1 and out == ""
    assert err.splitlines() == [
        f"{bad}:1: [device] manufacturer: is required",
        f"{bad}:1: [device] modelName: is required",
        f"{bad}:4: [device] modelNmae: unknown key; did you mean 'modelName'?",
        f"{bad}:5: [device] services: there is no section [service:jambom]; did you mean 'jambon'?",
        f"{bad}:6: [service:jambon]: is not listed in any device's services key",
        f"{bad}:9: [service:jambon] scpd: cannot read 'missing.xml': No such file or directory",
    ]


def test_check_a_missing_file() -> None:
    status, out, err = run("check", "/nonexistent/device.ini")
    assert status == 1
    assert err == "/nonexistent/device.ini: cannot read it: No such file or directory\n"


def test_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as e:
        run()
    assert e.value.code == 2


@pytest.mark.slow
def test_the_console_script_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "upnp_announce.cli", "check", example("jambon.ini")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Jambon 3000 (urn:schemas-upnp-org:device:Basic:1)" in result.stdout


def test_check_takes_several_files_and_folders_and_reports_clashes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    folder = tmp_path / "lights"
    folder.mkdir()
    shutil.copy(example("light.ini"), folder / "a.ini")
    shutil.copy(example("light.ini"), folder / "b.ini")
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(["check", str(folder), example("jambon.ini")], out, err)
    assert status == 1
    lines = err.getvalue().splitlines()
    assert any("b.ini: UDN uuid:" in line and "a.ini" in line for line in lines)
    assert any(line.startswith("warning: ") and "friendlyName 'Kitchen light'" in line
               for line in lines)
    assert out.getvalue().count(": OK\n") == 3
    out, err = io.StringIO(), io.StringIO()
    (folder / "b.ini").unlink()
    assert cli.main(["check", str(folder), example("jambon.ini")], out, err) == 0
    assert err.getvalue() == ""
