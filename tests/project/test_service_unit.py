"""
examples/upnp-announce.service: the settings a notify-type, sandboxed
network daemon needs, a command line twistd accepts, and what systemd's own
tools say of it (systemd-analyze verify and security, offline).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from upnp_announce import tap

from support import ROOT, example, need

UNIT = Path(ROOT) / "examples" / "upnp-announce.service"


def settings() -> dict[str, dict[str, list[str]]]:
    """
    The unit file's sections, each key with its values in order (systemd
    keys may repeat).
    """
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        assert current is not None, line
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def one(section: dict[str, list[str]], key: str) -> str:
    [value] = section[key]
    return value


def test_the_unit_is_a_notify_service_that_reloads_on_hup() -> None:
    unit = settings()
    service = unit["Service"]
    assert one(service, "Type") == "notify"
    assert one(service, "NotifyAccess") == "main"
    assert one(service, "ExecReload") == "/bin/kill -HUP $MAINPID"
    assert "network-online.target" in one(unit["Unit"], "After")
    assert "network-online.target" in one(unit["Unit"], "Wants")
    assert one(unit["Install"], "WantedBy") == "multi-user.target"


def test_the_unit_runs_sandboxed_as_a_user_of_its_own() -> None:
    service = settings()["Service"]
    expected = {
        "DynamicUser": "yes", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
        "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
        "RestrictNamespaces": "yes", "CapabilityBoundingSet": "",
    }
    for key, value in expected.items():
        assert one(service, key) == value, key
    assert set(one(service, "RestrictAddressFamilies").split()) == {
        "AF_INET", "AF_INET6", "AF_NETLINK", "AF_UNIX",
    }
    # The device reads /proc/net/if_inet6 (tentative IPv6 addresses).
    assert "ProcSubset" not in service
    # A call the filter misses fails; it does not kill the daemon.
    assert one(service, "SystemCallErrorNumber") == "EPERM"
    # Restarts are bounded.
    unit = settings()["Unit"]
    assert int(one(unit, "StartLimitBurst")) <= 10


def test_its_command_line_is_one_twistd_accepts(tmp_path: Path) -> None:
    argv = shlex.split(one(settings()["Service"], "ExecStart"))
    assert argv[0].endswith("/bin/twistd")
    # In the foreground (systemd watches the process), logging to the
    # journal with each line's priority.
    assert argv[1:5] == ["--nodaemon", "--pidfile=", "--logger",
                         "upnp_announce.logs.journal_observer"]
    from twisted.python.reflect import namedAny

    assert callable(namedAny(argv[4]))
    assert argv[5] == "upnp"
    folder = argv[argv.index("--config-dir") + 1]
    assert folder == "/etc/upnp-announce"
    assert one(settings()["Service"], "ConfigurationDirectory") == "upnp-announce"
    shutil.copy(example("light.ini"), tmp_path)
    options = tap.Options()
    options.parseOptions([str(tmp_path) if a == folder else a for a in argv[6:]])
    assert [c.device.friendlyName for c in options["first"].configs.values()] == ["Kitchen light"]


def test_systemd_analyze_finds_it_valid_and_well_sandboxed(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    need(analyze is not None, "systemd-analyze is not installed (Debian: systemd)")
    assert analyze is not None
    # The same unit, its twistd the one of this environment (verify checks
    # that ExecStart's program exists).
    twistd = Path(sys.executable).parent / "twistd"
    need(twistd.exists(), f"no twistd beside {sys.executable}")
    text = UNIT.read_text(encoding="utf-8").replace("/opt/upnp-announce/bin/twistd", str(twistd))
    copy = tmp_path / "upnp-announce.service"
    copy.write_text(text)
    verify = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True,
                            timeout=60)
    assert verify.returncode == 0, verify.stderr
    assert "upnp-announce.service" not in verify.stderr, verify.stderr
    security = subprocess.run([analyze, "security", "--offline=yes", "--no-pager", str(copy)],
                              capture_output=True, text=True, timeout=60)
    found = re.search(r"Overall exposure level for upnp-announce.service: ([\d.]+)",
                      security.stdout + security.stderr)
    assert found is not None, security.stdout + security.stderr
    assert float(found.group(1)) <= 2.0, security.stdout
