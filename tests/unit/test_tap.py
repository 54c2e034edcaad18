"""
The twistd plugin: its options and its assembly (real twistd processes are
in tests/loopback/test_twistd.py).
"""

from __future__ import annotations

import pytest

from upnp_announce import tap
from upnp_announce.device.runner import UPnPService

from support import example


def options(*argv: str) -> tap.Options:
    o = tap.Options()
    o.parseOptions(list(argv))
    return o


def exit_message(*argv: str) -> str:
    with pytest.raises(SystemExit) as e:
        options(*argv)
    assert isinstance(e.value.code, str)
    return e.value.code


def test_config_is_required() -> None:
    assert exit_message() == (
        "twistd upnp: --config is required: the INI file that describes the device"
    )


def test_unknown_option_is_one_line() -> None:
    message = exit_message("--config", example("jambon.ini"), "--bogus")
    assert message.startswith("twistd upnp: ") and "bogus" in message
    assert "\n" not in message


@pytest.mark.parametrize("port", ["-1", "65536", "http", ""])
def test_bad_http_port(port: str) -> None:
    message = exit_message("--config", example("jambon.ini"), "--http-port", port)
    assert "is not a port number (0 to 65535)" in message


def test_config_errors_are_one_line_each(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.ini"
    bad.write_text("[device]\nfriendlyName = x\nmodelNmae = y\n")
    message = exit_message("--config", str(bad))
    lines = message.splitlines()
    assert lines[0].startswith("twistd upnp: ")
    assert any("modelNmae: unknown key; did you mean 'modelName'?" in line for line in lines)
    assert all(line.startswith(f"twistd upnp: {bad}:") for line in lines)


def test_an_interface_that_does_not_exist_yet_is_no_usage_error() -> None:
    # The device waits for it (tests/unit/test_runner.py); patterns too.
    o = options("--config", example("jambon.ini"), "--interface", "nosuch0", "-i", "wl*")
    assert o["interfaces"] == ["nosuch0", "wl*"]


def test_options_and_make_service() -> None:
    o = options("--config", example("jambon.ini"), "-i", "lo", "--interface", "lo",
                "--http-port", "8123")
    assert o["interfaces"] == ["lo", "lo"]
    assert o["http-port"] == 8123
    service = tap.makeService(o)
    assert isinstance(service, UPnPService)
    assert service.network.interfaces == ("lo",)
    assert service.network.httpPort == 8123
    assert service.device.friendlyName == "Jambon 3000"


def test_make_service_keeps_the_configured_network_without_overrides() -> None:
    o = options("--config", example("jambon.ini"), "-i", "lo")
    service = tap.make_upnp_service(o["loaded"])
    assert service.network == o["loaded"].network


def test_the_plugin_is_found() -> None:
    from twisted.application.service import IServiceMaker
    from twisted.plugin import getPlugins

    makers = {p.tapname: p for p in getPlugins(IServiceMaker)}
    assert makers["upnp"].module == "upnp_announce.tap"















def test_several_configs_and_a_folder_make_one_service_of_several_devices(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from upnp_announce.reload import Reloader
    from upnp_announce.systemd import SystemdNotify

    (tmp_path / "c.ini").write_text(
        "[device]\nprovider = binarylight\nfriendlyName = C\nserialNumber = C\n"
    )
    o = options("--config", example("jambon.ini"), "--config", example("light.ini"),
                "--config-dir", str(tmp_path))
    service = tap.makeService(o)
    assert [d.friendlyName for d in service.devices] == ["Jambon 3000", "Kitchen light", "C"]
    assert all(s.base.startswith("/") for s in service.site.served.values())
    assert [type(child) for child in service] == [Reloader, SystemdNotify]
    single = tap.makeService(options("--config", example("light.ini")))
    assert [s.base for s in single.site.served.values()] == [""]


def test_two_files_with_one_udn_is_a_usage_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    shutil.copy(example("light.ini"), tmp_path / "a.ini")
    shutil.copy(example("light.ini"), tmp_path / "b.ini")
    message = exit_message("--config-dir", str(tmp_path))
    assert message.startswith("twistd upnp: ") and "b.ini: UDN uuid:" in message


def test_an_empty_folder_is_a_usage_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    message = exit_message("--config-dir", str(tmp_path))
    assert message == f"twistd upnp: there is no device: {tmp_path} holds no *.ini file"


def test_debug_turns_on_topics_and_an_unknown_one_is_one_line() -> None:
    from upnp_announce import logs

    before = set(logs._enabled)
    try:
        options = tap.Options()
        options.parseOptions(["--config", example("light.ini"), "--debug", "ssdp,http"])
        assert logs.enabled("ssdp") and logs.enabled("http")
        with pytest.raises(SystemExit) as e:
            tap.Options().parseOptions(["--config", example("light.ini"), "--debug", "sdp"])
        assert str(e.value.code) == (
            "twistd upnp: there is no log topic 'sdp'; the topics are all, " + ", ".join(logs.TOPICS)
        )
    finally:
        logs._enabled.clear()
        logs._enabled.update(before)

