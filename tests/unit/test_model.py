"""Tests for upnp_announce.model: the device and service values and their rules."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from upnp_announce.model import (
    Action,
    AllowedValueRange,
    Argument,
    Icon,
    ModelError,
    Problem,
    Service,
    ServiceDescription,
    StateVariable,
)

from support import ROOT_UDN, device

# No example database: the tests leave nothing behind in the tree.
quick = settings(database=None, deadline=None)

PNG = b"\x89PNG\r\n\x1a\nnot really, but Icon only needs some bytes"


def udn(n: int) -> str:
    return f"uuid:00000000-0000-4000-8000-{n:012x}"


def variables(*names: str) -> tuple[StateVariable, ...]:
    return tuple(StateVariable(name, "string") for name in names)


def description() -> ServiceDescription:
    return ServiceDescription(
        (Action("GetA", (Argument("A", "out", "A", retval=True),)),),
        variables("A"),
    )


def service(serviceId: str = "urn:example-com:serviceId:Clock") -> Service:
    return Service("urn:example-com:service:Clock:1", serviceId, description())


def problems(excinfo: pytest.ExceptionInfo[ModelError]) -> set[tuple[str, str]]:
    return {(p.field, p.message) for p in excinfo.value.problems}


def fields(excinfo: pytest.ExceptionInfo[ModelError]) -> list[str]:
    return [p.field for p in excinfo.value.problems]


# --- Device ------------------------------------------------------------------


def test_minimal_device() -> None:
    d = device()
    assert d.UDN == ROOT_UDN
    assert d.modelNumber is None
    assert (d.icons, d.services, d.devices) == ((), (), ())


def test_device_with_every_field() -> None:
    icon = Icon("image/png", 48, 48, 32, PNG)
    d = device(
        manufacturerURL="http://www.boucherie.example.com/",
        modelDescription="Jambon Appliance 3000",
        modelNumber="3000",
        modelURL="http://www.boucherie.example.com/jambon",
        serialNumber="JBN425133",
        UPC="012345678905",
        presentationURL="/admin",
        icons=(icon,),
        services=(service(),),
    )
    assert d.icons == (icon,)
    assert d.services[0].description.action("GetA") is not None


def test_device_is_immutable() -> None:
    d = device()
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.friendlyName = "other"  # type: ignore[misc]


def test_equal_devices_are_equal_and_hash_alike() -> None:
    assert device(services=(service(),)) == device(services=(service(),))
    assert hash(device(services=(service(),))) == hash(device(services=(service(),)))
    assert device() != device(friendlyName="Jambon 3001")


def test_embedded_devices_at_any_depth() -> None:
    leaf = device(UDN=udn(3), friendlyName="leaf", services=(service(),))
    middle = device(UDN=udn(2), friendlyName="middle", devices=(leaf,))
    other = device(UDN=udn(4), friendlyName="other")
    root = device(devices=(middle, other))
    assert [d.friendlyName for d in root.allDevices()] == [
        "Jambon 3000",
        "middle",
        "leaf",
        "other",
    ]
    assert root.find(udn(3)) is leaf
    assert root.find(udn(3).upper().replace("UUID:", "uuid:")) is leaf
    assert root.find(udn(9)) is None


@pytest.mark.parametrize(
    "value",
    [
        "uuid:e427ce1a-3e80-43d0-ad6f-89ec42e46363",
        "uuid:E427CE1A-3E80-43D0-AD6F-89EC42E46363",
        "uuid:00000000-0000-0000-0000-000000000000",
    ],
)
def test_udn_accepted(value: str) -> None:
    assert device(UDN=value).UDN == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "e427ce1a-3e80-43d0-ad6f-89ec42e46363",  # no uuid: prefix
        "UUID:e427ce1a-3e80-43d0-ad6f-89ec42e46363",
        "uuid: e427ce1a-3e80-43d0-ad6f-89ec42e46363",
        "uuid:e427ce1a3e8043d0ad6f89ec42e46363",  # no hyphens
        "uuid:{e427ce1a-3e80-43d0-ad6f-89ec42e46363}",
        "uuid:e427ce1a-3e80-43d0-ad6f-89ec42e4636",  # short last group
        "uuid:e427ce1a-3e80-43d0-ad6f-89ec42e463631",  # long last group
        "uuid:g427ce1a-3e80-43d0-ad6f-89ec42e46363",  # not hex
        "uuid:e427ce1a-3e80-43d0-ad6f-89ec42e46363\n",
        "uuid:Jambon",
    ],
)
def test_udn_refused(value: str) -> None:
    with pytest.raises(ModelError) as excinfo:
        device(UDN=value)
    assert problems(excinfo) == {
        ("UDN", f"{value!r} is not of the form uuid: followed by an RFC 4122 UUID")
    }


@pytest.mark.parametrize("name", ["friendlyName", "manufacturer", "modelName"])
@pytest.mark.parametrize("value", ["", None])
def test_required_text_fields(name: str, value: str | None) -> None:
    with pytest.raises(ModelError) as excinfo:
        device(**{name: value})
    assert problems(excinfo) == {(name, "is required")}


@pytest.mark.parametrize(
    ("name", "limit"),
    [
        ("friendlyName", 64),
        ("manufacturer", 64),
        ("modelName", 32),
        ("modelNumber", 32),
        ("serialNumber", 64),
        ("modelDescription", 128),
    ],
)
def test_uda_length_limits(name: str, limit: int) -> None:
    # UDA: "should be < N characters".
    assert getattr(device(**{name: "x" * (limit - 1)}), name) == "x" * (limit - 1)
    with pytest.raises(ModelError) as excinfo:
        device(**{name: "é" * limit})
    assert problems(excinfo) == {
        (name, f"is {limit} characters long; UPnP allows at most {limit - 1}")
    }


@quick
@given(
    name=st.sampled_from(["friendlyName", "modelName", "serialNumber"]),
    length=st.integers(1, 200),
)
def test_length_limit_is_exactly_under_the_limit(name: str, length: int) -> None:
    limit = {"friendlyName": 64, "modelName": 32, "serialNumber": 64}[name]
    if length < limit:
        assert len(getattr(device(**{name: "a" * length}), name)) == length
    else:
        with pytest.raises(ModelError) as excinfo:
            device(**{name: "a" * length})
        assert fields(excinfo) == [name]


@pytest.mark.parametrize("name", ["friendlyName", "modelDescription", "serialNumber"])
@pytest.mark.parametrize("value", ["two\nlines", "carriage\rreturn", "\n"])
def test_text_fields_are_one_line(name: str, value: str) -> None:
    with pytest.raises(ModelError) as excinfo:
        device(**{name: value})
    assert problems(excinfo) == {(name, "must be a single line of text")}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("friendlyName", "Jambon\x01"),
        ("manufacturer", "nul\0byte"),
        ("modelDescription", "esc \x1b[1m"),
        ("serialNumber", "\ufffe"),
        ("modelNumber", "\ud800"),
    ],
)
def test_text_fields_refuse_characters_xml_cannot_carry(name: str, value: str) -> None:
    # Otherwise render() would fail inside lxml.
    with pytest.raises(ModelError) as excinfo:
        device(**{name: value})
    assert problems(excinfo) == {(name, "contains a control character XML cannot carry")}


@pytest.mark.parametrize("name", ["manufacturerURL", "modelURL", "presentationURL"])
def test_urls_refuse_characters_xml_cannot_carry(name: str) -> None:
    with pytest.raises(ModelError) as excinfo:
        device(**{name: "http://x/\x7f\ufffe"})
    assert fields(excinfo) == [name]


def test_allowed_values_refuse_characters_xml_cannot_carry() -> None:
    with pytest.raises(ModelError) as excinfo:
        StateVariable("V", "string", allowedValues=("ok", "bell\x07"))
    assert problems(excinfo) == {
        ("allowedValueList", "'bell\\x07' contains a control character XML cannot carry")
    }


@pytest.mark.parametrize("value", ["012345678905", "000000000000"])
def test_upc_accepted(value: str) -> None:
    assert device(UPC=value).UPC == value


@pytest.mark.parametrize(
    "value",
    ["", "01234567890", "0123456789012", "01234567890a", "0123 5678905", "٠١٢٣٤٥٦٧٨٩٠١"],
)
def test_upc_must_be_12_digits(value: str) -> None:
    with pytest.raises(ModelError) as excinfo:
        device(UPC=value)
    assert problems(excinfo) == {("UPC", f"{value!r} is not of the form 12 digits")}


@pytest.mark.parametrize(
    "value",
    [
        "urn:schemas-upnp-org:device:Basic:1",
        "urn:boucherie.example.com:device:Fridge:12",
        "urn:example-com:device:Some_Thing-2:999999999",
    ],
)
def test_device_type_accepted(value: str) -> None:
    assert device(deviceType=value).deviceType == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Basic:1",
        "urn:schemas-upnp-org:device:Basic",  # no version
        "urn:schemas-upnp-org:device:Basic:0",
        "urn:schemas-upnp-org:device:Basic:01",
        "urn:schemas-upnp-org:device:Basic:1.0",
        "urn:schemas-upnp-org:service:Basic:1",  # a service type
        "urn:schemas-upnp-org:Device:Basic:1",
        "urn::device:Basic:1",
        "urn:schemas upnp:device:Basic:1",
        "urn:schemas-upnp-org:device:Ba sic:1",
        "urn:schemas-upnp-org:device:" + "x" * 65 + ":1",
        "urn:schemas-upnp-org:device:Basic:1\n",
    ],
)
def test_device_type_refused(value: str) -> None:
    with pytest.raises(ModelError) as excinfo:
        device(deviceType=value)
    assert problems(excinfo) == {
        ("deviceType", f"{value!r} is not of the form urn:domain-name:device:Name:version")
    }


@pytest.mark.parametrize(
    ("name", "value"),
    [("manufacturerURL", ""), ("modelURL", "http://x/a b"), ("presentationURL", "/a\tb")],
)
def test_urls_refused(name: str, value: str) -> None:
    with pytest.raises(ModelError) as excinfo:
        device(**{name: value})
    assert problems(excinfo) == {(name, f"{value!r} is not a URL")}


def test_every_problem_is_listed() -> None:
    with pytest.raises(ModelError) as excinfo:
        device(
            deviceType="Basic",
            friendlyName="",
            modelName="m" * 32,
            UDN="uuid:nope",
            UPC="12",
        )
    assert sorted(fields(excinfo)) == ["UDN", "UPC", "deviceType", "friendlyName", "modelName"]
    assert excinfo.value.what == "device ''"
    text = str(excinfo.value)
    assert text.startswith("invalid device '': ")
    assert "friendlyName: is required" in text
    assert "UPC: '12' is not of the form 12 digits" in text


def test_problem_str() -> None:
    assert str(Problem("UDN", "is wrong")) == "UDN: is wrong"


def test_model_error_is_a_value_error() -> None:
    assert issubclass(ModelError, ValueError)


def test_udn_unique_across_the_tree() -> None:
    child = device(UDN=ROOT_UDN, friendlyName="child")
    with pytest.raises(ModelError) as excinfo:
        device(devices=(child,))
    assert problems(excinfo) == {("devices", f"UDN {ROOT_UDN!r} is used by two devices")}


def test_udn_unique_between_deep_cousins() -> None:
    a = device(UDN=udn(2), devices=(device(UDN=udn(9), friendlyName="a1"),))
    b = device(UDN=udn(3), devices=(device(UDN=udn(9), friendlyName="b1"),))
    with pytest.raises(ModelError) as excinfo:
        device(devices=(a, b))
    assert problems(excinfo) == {("devices", f"UDN {udn(9)!r} is used by two devices")}


def test_udn_unique_regardless_of_case() -> None:
    # find() and the /dev/<uuid> layout compare UDNs case-insensitively.
    lower = device(UDN="uuid:aaaaaaaa-0000-4000-8000-000000000001", friendlyName="a")
    upper = device(UDN="uuid:AAAAAAAA-0000-4000-8000-000000000001", friendlyName="b")
    with pytest.raises(ModelError) as excinfo:
        device(devices=(lower, upper))
    assert fields(excinfo) == ["devices"]
    assert "aaaaaaaa-0000-4000-8000-000000000001" in excinfo.value.problems[0].message.lower()


def test_service_ids_unique_within_a_device() -> None:
    with pytest.raises(ModelError) as excinfo:
        device(services=(service(), service()))
    assert problems(excinfo) == {
        ("services", "serviceId 'urn:example-com:serviceId:Clock' is used twice")
    }


def test_same_service_id_on_two_devices_is_fine() -> None:
    child = device(UDN=udn(2), services=(service(),))
    root = device(services=(service(),), devices=(child,))
    assert len(list(root.allDevices())) == 2


# --- Service -----------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "",
        "urn:example-com:service:Clock",
        "urn:example-com:service:Clock:0",
        "urn:example-com:serviceId:Clock:1",
        "urn:example-com:device:Clock:1",
        "urn:example com:service:Clock:1",
    ],
)
def test_service_type_refused(value: str) -> None:
    with pytest.raises(ModelError) as excinfo:
        Service(value, "urn:example-com:serviceId:Clock", description())
    assert problems(excinfo) == {
        ("serviceType", f"{value!r} is not of the form urn:domain-name:service:Name:version")
    }
    assert excinfo.value.what == "service 'urn:example-com:serviceId:Clock'"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Clock",
        "urn:example-com:service:Clock",
        "urn:example-com:serviceId:",
        "urn:example-com:serviceId:Clo ck",
        "urn:example-com:serviceid:Clock",
        "urn:example-com:serviceId:" + "x" * 65,
    ],
)
def test_service_id_refused(value: str) -> None:
    with pytest.raises(ModelError) as excinfo:
        Service("urn:example-com:service:Clock:1", value, description())
    assert problems(excinfo) == {
        ("serviceId", f"{value!r} is not of the form urn:domain-name:serviceId:Name")
    }


@pytest.mark.parametrize(
    "value",
    [
        "urn:upnp-org:serviceId:ContentDirectory",
        "urn:boucherie.example.com:serviceId:Jambon.2",
        "urn:example-com:serviceId:" + "x" * 64,
    ],
)
def test_service_id_accepted(value: str) -> None:
    assert Service("urn:example-com:service:Clock:1", value, description()).serviceId == value


# --- Icon --------------------------------------------------------------------


def test_icon() -> None:
    icon = Icon("image/png", 48, 32, 24, PNG)
    assert (icon.width, icon.height, icon.depth, icon.extension) == (48, 32, 24, "png")
    assert "data" not in repr(icon)


@pytest.mark.parametrize(
    ("mimetype", "extension"),
    [
        ("image/jpeg", "jpeg"),
        ("image/svg+xml", "svg"),
        ("image/vnd.microsoft.icon", "vnd.microsoft.icon"),
    ],
)
def test_icon_extension(mimetype: str, extension: str) -> None:
    assert Icon(mimetype, 1, 1, 1, b"x").extension == extension


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"mimetype": "text/plain"}, ("mimetype", "'text/plain' is not an image MIME type")),
        ({"mimetype": "image/PNG"}, ("mimetype", "'image/PNG' is not an image MIME type")),
        ({"width": 0}, ("width", "0 is not a positive integer")),
        ({"height": -3}, ("height", "-3 is not a positive integer")),
        ({"depth": True}, ("depth", "True is not a positive integer")),
        ({"width": 4.0}, ("width", "4.0 is not a positive integer")),
        ({"data": b""}, ("data", "is empty")),
    ],
)
def test_icon_refused(changes: dict[str, object], expected: tuple[str, str]) -> None:
    values: dict[str, object] = {
        "mimetype": "image/png", "width": 48, "height": 48, "depth": 32, "data": PNG,
    }
    values.update(changes)
    with pytest.raises(ModelError) as excinfo:
        Icon(**values)  # type: ignore[arg-type]
    assert problems(excinfo) == {expected}


def test_device_needs_a_png_among_its_icons() -> None:
    jpeg = Icon("image/jpeg", 48, 48, 24, b"\xff\xd8")
    with pytest.raises(ModelError) as excinfo:
        device(icons=(jpeg,))
    assert problems(excinfo) == {("icons", "at least one icon must be a PNG")}
    png = Icon("image/png", 48, 48, 24, PNG)
    assert device(icons=(jpeg, png)).icons == (jpeg, png)


# --- Argument and Action -----------------------------------------------------


def test_argument() -> None:
    a = Argument("NewThickness", "in", "SliceThickness")
    assert (a.name, a.direction, a.relatedStateVariable, a.retval) == (
        "NewThickness", "in", "SliceThickness", False,
    )


@pytest.mark.parametrize("direction", ["", "IN", "inout", "output"])
def test_argument_direction(direction: str) -> None:
    with pytest.raises(ModelError) as excinfo:
        Argument("A", direction, "A")
    assert problems(excinfo) == {
        ("direction", f"{direction!r} is neither 'in' nor 'out'")
    }


def test_argument_retval_only_on_out() -> None:
    with pytest.raises(ModelError) as excinfo:
        Argument("A", "in", "A", retval=True)
    assert problems(excinfo) == {("retval", "is only allowed on an out-argument")}


def test_argument_needs_related_state_variable() -> None:
    with pytest.raises(ModelError) as excinfo:
        Argument("A", "in", "")
    assert problems(excinfo) == {("relatedStateVariable", "is required")}


@pytest.mark.parametrize("name", ["", "1st", "has space", "x" * 33, "dollar$"])
def test_names_refused(name: str) -> None:
    form = f"{name!r} is not of the form a UPnP name"
    with pytest.raises(ModelError) as excinfo:
        Argument(name, "in", "A")
    assert problems(excinfo) == {("name", form)}
    with pytest.raises(ModelError) as excinfo:
        Action(name)
    assert problems(excinfo) == {("name", form)}
    with pytest.raises(ModelError) as excinfo:
        StateVariable(name, "string")
    assert problems(excinfo) == {("name", form)}


def test_action_arguments_in_then_out() -> None:
    action = Action(
        "Cut",
        (Argument("A", "in", "V"), Argument("B", "in", "V"), Argument("C", "out", "V", True),
         Argument("D", "out", "V")),
    )
    assert [a.name for a in action.inArguments] == ["A", "B"]
    assert [a.name for a in action.outArguments] == ["C", "D"]


@pytest.mark.parametrize(
    "directions", [("out", "in"), ("in", "out", "in"), ("out", "out", "in")]
)
def test_action_in_arguments_come_first(directions: tuple[str, ...]) -> None:
    arguments = tuple(Argument(f"A{i}", d, "V") for i, d in enumerate(directions))
    with pytest.raises(ModelError) as excinfo:
        Action("Cut", arguments)
    assert problems(excinfo) == {
        ("arguments", "in-arguments must all come before out-arguments")
    }
    assert excinfo.value.what == "action 'Cut'"


def test_action_retval_only_on_first_out() -> None:
    with pytest.raises(ModelError) as excinfo:
        Action("Cut", (Argument("A", "in", "V"), Argument("B", "out", "V"),
                       Argument("C", "out", "V", retval=True)))
    assert problems(excinfo) == {
        ("arguments", "retval is only allowed on the first out-argument, not on 'C'")
    }


def test_action_argument_names_unique() -> None:
    with pytest.raises(ModelError) as excinfo:
        Action("Cut", (Argument("A", "in", "V"), Argument("A", "out", "V")))
    assert problems(excinfo) == {("arguments", "'A' is declared twice")}


# --- StateVariable -----------------------------------------------------------


@pytest.mark.parametrize(
    "dataType", ["ui1", "i4", "r8", "string", "boolean", "uuid", "fixed.14.4"]
)
def test_state_variable_data_types(dataType: str) -> None:
    assert StateVariable("V", dataType).dataType == dataType


@pytest.mark.parametrize("dataType", ["", "integer", "UI4", "str", "ui16"])
def test_state_variable_unknown_data_type(dataType: str) -> None:
    with pytest.raises(ModelError) as excinfo:
        StateVariable(
            "V", dataType, defaultValue="1", allowedValueRange=AllowedValueRange("1", "0")
        )
    # Nothing else can be checked without a data type.
    assert problems(excinfo) == {("dataType", f"{dataType!r} is not a UPnP data type")}


def test_allowed_value_list() -> None:
    v = StateVariable("Cut", "string", defaultValue="Paris", allowedValues=("Paris", "Bayonne"))
    assert v.allowedValues == ("Paris", "Bayonne")


@pytest.mark.parametrize("dataType", ["ui4", "boolean", "char", "uri"])
def test_allowed_value_list_only_for_string(dataType: str) -> None:
    with pytest.raises(ModelError) as excinfo:
        StateVariable("V", dataType, allowedValues=("1",))
    assert problems(excinfo) == {
        ("allowedValueList", f"is only allowed for string variables, not {dataType}")
    }


def test_allowed_value_list_not_empty_nor_repeated() -> None:
    with pytest.raises(ModelError) as excinfo:
        StateVariable("V", "string", allowedValues=())
    assert problems(excinfo) == {("allowedValueList", "is empty")}
    with pytest.raises(ModelError) as excinfo:
        StateVariable("V", "string", allowedValues=("a", "b", "a"))
    assert problems(excinfo) == {("allowedValueList", "'a' is listed twice")}


def test_default_value_must_be_allowed() -> None:
    with pytest.raises(ModelError) as excinfo:
        StateVariable("V", "string", defaultValue="Serrano", allowedValues=("Paris",))
    assert problems(excinfo) == {("defaultValue", "'Serrano' is not in the allowedValueList")}


@pytest.mark.parametrize("dataType", ["ui1", "ui2", "ui4", "ui8", "i1", "i2", "i4", "i8", "int"])
def test_allowed_value_range_integers(dataType: str) -> None:
    v = StateVariable("V", dataType, defaultValue="3",
                      allowedValueRange=AllowedValueRange("1", "50", "1"))
    assert v.allowedValueRange == AllowedValueRange("1", "50", "1")


@pytest.mark.parametrize("dataType", ["r4", "r8", "number", "float", "fixed.14.4"])
def test_allowed_value_range_reals(dataType: str) -> None:
    r = AllowedValueRange("-30", "15.5", "0.5")
    assert StateVariable("V", dataType, allowedValueRange=r).allowedValueRange == r


@pytest.mark.parametrize("dataType", ["string", "boolean", "date", "char", "uuid", "bin.hex"])
def test_allowed_value_range_only_for_numbers(dataType: str) -> None:
    with pytest.raises(ModelError) as excinfo:
        StateVariable("V", dataType, allowedValueRange=AllowedValueRange("1", "2"))
    assert problems(excinfo) == {
        ("allowedValueRange", f"is only allowed for numeric variables, not {dataType}")
    }


def test_allowed_value_list_and_range_exclude_each_other() -> None:
    with pytest.raises(ModelError) as excinfo:
        StateVariable("V", "string", allowedValues=("a",),
                      allowedValueRange=AllowedValueRange("1", "2"))
    assert ("allowedValueList", "cannot be combined with allowedValueRange") in problems(excinfo)


@pytest.mark.parametrize(
    ("dataType", "low", "high"),
    [("ui1", "51", "50"), ("i4", "0", "-1"), ("r4", "1.5", "1.25"), ("fixed.14.4", "2", "1.9999")],
)
def test_range_minimum_not_above_maximum(dataType: str, low: str, high: str) -> None:
    with pytest.raises(ModelError) as excinfo:
        StateVariable("V", dataType, allowedValueRange=AllowedValueRange(low, high))
    assert problems(excinfo) == {
        ("allowedValueRange", f"minimum {low} is greater than maximum {high}")
    }


def test_range_minimum_equal_to_maximum_is_fine() -> None:
    assert StateVariable("V", "ui1", allowedValueRange=AllowedValueRange("7", "7")).name == "V"


def test_range_limits_must_parse() -> None:
    with pytest.raises(ModelError) as excinfo:
        StateVariable("V", "ui1", allowedValueRange=AllowedValueRange("-1", "256", "x"))
    assert fields(excinfo) == ["minimum", "maximum", "step"]
    messages = dict((p.field, p.message) for p in excinfo.value.problems)
    assert messages["minimum"] == "'-1' is out of range for ui1 (0 to 255)"
    assert messages["maximum"] == "'256' is out of range for ui1 (0 to 255)"
    assert messages["step"].startswith("'x' is not a valid ui1 value")


@pytest.mark.parametrize("step", ["0", "-1"])
def test_range_step_positive(step: str) -> None:
    with pytest.raises(ModelError) as excinfo:
        StateVariable("V", "i4", allowedValueRange=AllowedValueRange("-5", "5", step))
    assert problems(excinfo) == {("step", f"{step!r} is not positive")}


@pytest.mark.parametrize(
    ("dataType", "text"),
    [
        ("ui1", "256"),
        ("ui2", "-1"),
        ("i4", "1.5"),
        ("r4", "1e39"),
        ("boolean", "maybe"),
        ("char", "ab"),
        ("date", "2024-02-30"),
        ("uuid", "not-a-uuid"),
        ("bin.hex", "abc"),
        ("string", "nul\0"),
    ],
)
def test_default_value_must_parse(dataType: str, text: str) -> None:
    with pytest.raises(ModelError) as excinfo:
        StateVariable("V", dataType, defaultValue=text)
    assert fields(excinfo) == ["defaultValue"]
    assert repr(text)[:10] in excinfo.value.problems[0].message
    assert dataType in excinfo.value.problems[0].message


@pytest.mark.parametrize(
    ("dataType", "text"),
    [("ui1", "255"), ("boolean", "yes"), ("date", "2024-02-29"), ("string", ""),
     ("r4", "4.0"), ("uri", "http://x/"), ("time.tz", "12:00:00Z")],
)
def test_default_value_accepted(dataType: str, text: str) -> None:
    assert StateVariable("V", dataType, defaultValue=text).defaultValue == text


# --- ServiceDescription ------------------------------------------------------


def test_service_description_lookups() -> None:
    d = description()
    assert d.action("GetA") is d.actions[0]
    assert d.action("SetA") is None
    assert d.stateVariable("A") is d.stateVariables[0]
    assert d.stateVariable("B") is None


def test_service_description_without_actions_is_fine() -> None:
    assert ServiceDescription((), variables("A")).actions == ()


def test_service_description_needs_a_state_variable() -> None:
    with pytest.raises(ModelError) as excinfo:
        ServiceDescription((), ())
    assert problems(excinfo) == {
        ("serviceStateTable", "must declare at least one state variable")
    }
    assert excinfo.value.what == "service description"


def test_service_description_duplicate_names() -> None:
    with pytest.raises(ModelError) as excinfo:
        ServiceDescription((Action("A"), Action("A")), variables("V", "W", "V"))
    assert problems(excinfo) == {
        ("actionList", "action 'A' is declared twice"),
        ("serviceStateTable", "state variable 'V' is declared twice"),
    }


def test_related_state_variable_must_exist() -> None:
    with pytest.raises(ModelError) as excinfo:
        ServiceDescription(
            (Action("Get", (Argument("Out", "out", "Missing"),)),), variables("A")
        )
    assert problems(excinfo) == {
        (
            "actionList",
            "argument 'Out' of action 'Get' refers to the undeclared state variable "
            "'Missing'",
        )
    }


# --- fixes found by review ---------------------------------------------------


@pytest.mark.parametrize(
    ("dataType", "default", "ok"),
    [("ui1", "50", True), ("ui1", "1", True), ("ui1", "60", False), ("ui1", "0", False),
     ("r8", "-30.5", False), ("r8", "-30", True)],
)
def test_default_value_must_lie_in_the_range(dataType: str, default: str, ok: bool) -> None:
    def build() -> StateVariable:
        low = "-30" if dataType == "r8" else "1"
        return StateVariable("V", dataType, defaultValue=default,
                             allowedValueRange=AllowedValueRange(low, "50"))

    if ok:
        assert build().defaultValue == default
    else:
        with pytest.raises(ModelError) as e:
            build()
        assert problems(e) == {("defaultValue", f"{default!r} is outside the allowedValueRange")}


def test_sequences_become_tuples_so_values_hash_and_do_not_alias() -> None:
    services = [service()]
    d = device(services=services, icons=[Icon("image/png", 1, 1, 8, PNG)], devices=[])
    services.append(service("urn:example-com:serviceId:Other"))
    assert d.services == (service(),)
    assert isinstance(d.icons, tuple) and d.devices == ()
    hash(d)
    v = StateVariable("S", "string", allowedValues=["a", "b"])  # type: ignore[arg-type]
    assert v.allowedValues == ("a", "b")
    sd = ServiceDescription([], [v])  # type: ignore[arg-type]
    assert sd.actions == () and sd.stateVariables == (v,)
    assert Action("A", [Argument("X", "in", "S")]).arguments == (Argument("X", "in", "S"),)  # type: ignore[arg-type]


def test_duplicate_udn_is_named_as_written() -> None:
    child = device(UDN=ROOT_UDN.upper().replace("UUID:", "uuid:"), friendlyName="Child")
    with pytest.raises(ModelError) as e:
        device(devices=(child,))
    [message] = [p.message for p in e.value.problems if p.field == "devices"]
    assert message in (f"UDN {ROOT_UDN!r} is used by two devices",
                       f"UDN {child.UDN!r} is used by two devices")
