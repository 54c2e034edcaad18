"""
The [eventing] section: INI text in, EventingSettings or every mistake out;
and the settings reach the device's site.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock

from upnp_announce import UPnPService, config
from upnp_announce.config import ConfigError, ConfigProblem
from upnp_announce.settings import EventingSettings

from support import MemoryHTTP, example, request

PATH = "light.ini"

# Lines 1-3: a device from the built-in provider (no files needed).
ROOT = """\
[device]
provider = binarylight
udn = uuid:e427ce1a-3e80-43d0-ad6f-89ec42e46363
"""
# So the first key of [eventing] is on line 5.
FIRST = 5


def parse(text: str) -> config.Config:
    return config.parse(text, path=PATH, baseDir="/nonexistent", machineId="m1")


def problems(text: str) -> tuple[ConfigProblem, ...]:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    return caught.value.problems


def eventing(*lines: str) -> str:
    return ROOT + "[eventing]\n" + "".join(line + "\n" for line in lines)


# -- what is read -------------------------------------------------------------------


def test_defaults_without_the_section() -> None:
    loaded = parse(ROOT)
    assert loaded.eventing == EventingSettings()
    assert loaded.eventing.callbacks == "requester"
    assert loaded.eventing.minTimeout == 60
    assert loaded.eventing.maxTimeout == 86400
    assert loaded.eventing.maxSubscriptions == 100
    assert loaded.eventing.maxSubscriptionsPerSource == 10


def test_defaults_with_an_empty_section() -> None:
    assert parse(eventing()).eventing == EventingSettings()


@pytest.mark.parametrize(
    "line, field, value",
    [
        ("callbacks = requester", "callbacks", "requester"),
        ("callbacks = subnet", "callbacks", "subnet"),
        ("minTimeout = 1", "minTimeout", 1),
        ("minTimeout = 1800", "minTimeout", 1800),
        ("maxTimeout = 60", "maxTimeout", 60),
        ("maxTimeout = 604800", "maxTimeout", 604800),
        ("maxSubscriptions = 1", "maxSubscriptions", 1),
        ("maxSubscriptions = 100000", "maxSubscriptions", 100000),
        ("maxSubscriptionsPerSource = 3", "maxSubscriptionsPerSource", 3),
        ("MAXSUBSCRIPTIONSPERSOURCE = 4", "maxSubscriptionsPerSource", 4),
        ("mintimeout = 90   ; a comment", "minTimeout", 90),
    ],
)
def test_each_key_is_read(line: str, field: str, value: object) -> None:
    loaded = parse(eventing(line)).eventing
    assert getattr(loaded, field) == value
    # The others keep their defaults.
    for other in ("callbacks", "minTimeout", "maxTimeout", "maxSubscriptions",
                  "maxSubscriptionsPerSource", "connectTimeout", "responseTimeout",
                  "maxFailures"):
        if other != field:
            assert getattr(loaded, other) == getattr(EventingSettings(), other)


def test_every_key_at_once() -> None:
    loaded = parse(
        eventing(
            "callbacks = subnet",
            "minTimeout = 120",
            "maxTimeout = 3600",
            "maxSubscriptions = 50",
            "maxSubscriptionsPerSource = 5",
        )
    )
    assert loaded.eventing == EventingSettings(
        callbacks="subnet",
        minTimeout=120,
        maxTimeout=3600,
        maxSubscriptions=50,
        maxSubscriptionsPerSource=5,
    )


def test_equal_min_and_max_timeouts_are_fine() -> None:
    loaded = parse(eventing("minTimeout = 300", "maxTimeout = 300")).eventing
    assert (loaded.minTimeout, loaded.maxTimeout) == (300, 300)
    assert loaded.grant(None) == 300


@settings(database=None, deadline=None)
@given(
    st.integers(1, 604800),
    st.integers(1, 604800),
    st.integers(1, 100000),
    st.integers(1, 100000),
)
def test_any_numbers_within_bounds_are_read(
    low: int, high: int, total: int, perSource: int
) -> None:
    low, high = min(low, high), max(low, high)
    loaded = parse(
        eventing(
            f"minTimeout = {low}",
            f"maxTimeout = {high}",
            f"maxSubscriptions = {total}",
            f"maxSubscriptionsPerSource = {perSource}",
        )
    ).eventing
    assert (loaded.minTimeout, loaded.maxTimeout) == (low, high)
    assert (loaded.maxSubscriptions, loaded.maxSubscriptionsPerSource) == (total, perSource)


# -- mistakes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, key, message",
    [
        ("callbacks = everyone", "callbacks",
         "'everyone' is neither 'requester' nor 'subnet'"),
        ("callbacks = Subnet", "callbacks", "'Subnet' is neither 'requester' nor 'subnet'"),
        ("callbacks = requester subnet", "callbacks",
         "'requester subnet' is neither 'requester' nor 'subnet'"),
        ("minTimeout = 0", "minTimeout", "0 is not a whole number from 1 to 604800"),
        ("minTimeout = abc", "minTimeout", "'abc' is not a whole number"),
        ("minTimeout = -5", "minTimeout", "'-5' is not a whole number"),
        ("minTimeout = 1.5", "minTimeout", "'1.5' is not a whole number"),
        ("minTimeout = 604801", "minTimeout",
         "604801 is not a whole number from 1 to 604800"),
        ("maxTimeout = Second-1800", "maxTimeout",
         "'Second-1800' is not a whole number"),
        ("maxTimeout = 99999999999", "maxTimeout",
         "99999999999 is not a whole number from 1 to 604800"),
        ("maxSubscriptions = 0", "maxSubscriptions",
         "0 is not a whole number from 1 to 100000"),
        ("maxSubscriptionsPerSource = many", "maxSubscriptionsPerSource",
         "'many' is not a whole number"),
        ("minTimeout =", "minTimeout", "is empty; give it a value or leave the key out"),
        ("callbacks =", "callbacks", "is empty; give it a value or leave the key out"),
    ],
)
def test_bad_values_are_problems_naming_file_line_section_and_key(
    line: str, key: str, message: str
) -> None:
    assert problems(eventing(line)) == (ConfigProblem(PATH, message, FIRST, "eventing", key),)


def test_min_timeout_above_max_timeout() -> None:
    text = eventing("maxTimeout = 100", "minTimeout = 200")
    assert problems(text) == (
        ConfigProblem(PATH, "is greater than maxTimeout (100)", FIRST + 1, "eventing", "minTimeout"),
    )


def test_min_timeout_above_the_default_max_timeout() -> None:
    assert problems(eventing("minTimeout = 90000")) == (
        ConfigProblem(PATH, "is greater than maxTimeout (86400)", FIRST, "eventing", "minTimeout"),
    )


def test_max_timeout_below_the_default_min_timeout_is_a_problem() -> None:
    [problem] = problems(eventing("maxTimeout = 30"))
    assert (problem.path, problem.section) == (PATH, "eventing")


def test_max_timeout_below_the_default_min_timeout_names_the_key_given() -> None:
    [problem] = problems(eventing("maxTimeout = 30"))
    assert (problem.line, problem.key) == (FIRST, "maxTimeout")
    assert "60" in problem.message


def test_the_problem_reads_well() -> None:
    [problem] = problems(eventing("callbacks = everyone"))
    assert str(problem) == (
        f"{PATH}:{FIRST}: [eventing] callbacks: "
        "'everyone' is neither 'requester' nor 'subnet'"
    )


@pytest.mark.parametrize(
    "key, suggestion",
    [
        ("maxTimout", "maxTimeout"),
        ("mintimeouts", "minTimeout"),
        ("callback", "callbacks"),
        ("maxSubscription", "maxSubscriptions"),
        ("maxSubscriptionsPerSrc", "maxSubscriptionsPerSource"),
    ],
)
def test_unknown_key_with_did_you_mean(key: str, suggestion: str) -> None:
    assert problems(eventing(f"{key} = 5")) == (
        ConfigProblem(
            PATH, f"unknown key; did you mean {suggestion!r}?", FIRST, "eventing", key
        ),
    )


def test_unknown_key_without_a_close_one_lists_the_keys() -> None:
    assert problems(eventing("frobnicate = 1")) == (
        ConfigProblem(
            PATH,
            "unknown key; the keys are callbacks, minTimeout, maxTimeout, maxSubscriptions, "
            "maxSubscriptionsPerSource",
            FIRST,
            "eventing",
            "frobnicate",
        ),
    )


def test_every_mistake_is_reported_at_once_in_line_order() -> None:
    found = problems(
        eventing(
            "callbacks = everyone",
            "minTimeout = abc",
            "maxTimout = 5",
            "maxSubscriptions = 0",
        )
    )
    assert [(p.line, p.section, p.key) for p in found] == [
        (FIRST, "eventing", "callbacks"),
        (FIRST + 1, "eventing", "minTimeout"),
        (FIRST + 2, "eventing", "maxTimout"),
        (FIRST + 3, "eventing", "maxSubscriptions"),
    ]


def test_a_misspelt_section_suggests_eventing() -> None:
    [problem] = problems(ROOT + "[eventin]\ncallbacks = subnet\n")
    assert problem.section == "eventin"
    assert problem.message.endswith("did you mean 'eventing'?")


def test_a_file_names_itself_in_problems(tmp_path: Path) -> None:
    path = tmp_path / "bad.ini"
    path.write_text(eventing("minTimeout = 0"))
    with pytest.raises(ConfigError) as caught:
        config.load(path, machineId="m1")
    [problem] = caught.value.problems
    assert problem == ConfigProblem(
        str(path), "0 is not a whole number from 1 to 604800", FIRST, "eventing",
        "minTimeout",
    )
    assert str(problem).startswith(f"{path}:{FIRST}: [eventing] minTimeout: ")


# -- the settings themselves ----------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"callbacks": "everyone"},
        {"minTimeout": 0},
        {"minTimeout": 200, "maxTimeout": 100},
    ],
)
def test_settings_refuse_what_config_refuses(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        EventingSettings(**fields)  # type: ignore[arg-type]


def test_grant_clamps_and_defaults_to_1800() -> None:
    s = EventingSettings(minTimeout=100, maxTimeout=3600)
    assert s.grant(None) == 1800
    assert s.grant(0) == 100
    assert s.grant(500) == 500
    assert s.grant(10**10) == 3600
    assert EventingSettings(minTimeout=2000).grant(None) == 2000
    assert EventingSettings(maxTimeout=900).grant(None) == 900


# -- reaching the site ------------------------------------------------------------------


def test_the_section_reaches_the_site_of_upnp_service(tmp_path: Path) -> None:
    path = tmp_path / "light.ini"
    path.write_text(
        eventing(
            "callbacks = subnet",
            "minTimeout = 120",
            "maxTimeout = 600",
            "maxSubscriptions = 7",
            "maxSubscriptionsPerSource = 2",
        )
    )
    clock = Clock()
    service = UPnPService.fromConfig(path, reactor=clock, machineId="m1")
    expected = EventingSettings(
        callbacks="subnet", minTimeout=120, maxTimeout=600, maxSubscriptions=7,
        maxSubscriptionsPerSource=2,
    )
    assert service.site.eventingSettings == expected
    [serviceEventing] = service.site.eventing.values()
    assert serviceEventing.settings == expected
    assert service.site.notifier.settings == expected  # type: ignore[attr-defined]


def test_the_bounds_apply_to_subscriptions(tmp_path: Path) -> None:
    path = tmp_path / "light.ini"
    path.write_text(eventing("minTimeout = 120", "maxTimeout = 600",
                             "maxSubscriptionsPerSource = 1"))
    service = UPnPService.fromConfig(path, reactor=Clock(), machineId="m1")
    site = service.site
    site.addAddress("127.0.0.1", 8000)
    [eventPath] = site.eventing

    def subscribe(timeout: bytes) -> int:
        [response] = MemoryHTTP(site).send(
            request(
                method=b"SUBSCRIBE",
                path=eventPath.encode(),
                headers={
                    b"CALLBACK": b"<http://127.0.0.1:5000/>",
                    b"NT": b"upnp:event",
                    b"TIMEOUT": timeout,
                },
            )
        )
        if response.status == 200:
            assert response.headers[b"timeout"] == [b"Second-120"]
        return response.status

    assert subscribe(b"Second-5") == 200
    assert subscribe(b"Second-5") == 503
    site.stopEventing()


def test_multicast_eventing_is_refused_at_load(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    scpd = Path(example("jambon-scpd.xml")).read_text(encoding="utf-8").replace(
        '<stateVariable sendEvents="yes">', '<stateVariable sendEvents="yes" multicast="yes">'
    )
    (tmp_path / "j.xml").write_text(scpd)
    (tmp_path / "j.ini").write_text(
        "[device]\ndeviceType = urn:schemas-upnp-org:device:Basic:1\nfriendlyName = J\n"
        "manufacturer = M\nmodelName = J\nservices = j\n[service:j]\n"
        "serviceType = urn:a-b:service:J:1\nserviceId = urn:a-b:serviceId:J\nscpd = j.xml\n"
    )
    with pytest.raises(config.ConfigError) as e:
        config.load(tmp_path / "j.ini")
    [problem] = e.value.problems
    assert (problem.section, problem.key) == ("service:j", "scpd")
    assert "multicast eventing is not supported" in problem.message
