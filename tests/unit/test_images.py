"""Tests for upnp_announce.wire.images: reading an icon's facts from its bytes."""

from __future__ import annotations

import dataclasses
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from upnp_announce.wire.images import ImageError, ImageInfo, read_image_info

import support

EXAMPLES = Path(support.EXAMPLES)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_HEADER_END = 8 + 8 + 13 + 4  # signature, IHDR length+type, body, CRC

# No example database: the tests leave nothing behind in the tree.
quick = settings(database=None, deadline=None)

VALID_PNG_COMBINATIONS = [
    # (colour type, bit depth, depth in bits per pixel)
    (0, 1, 1),
    (0, 2, 2),
    (0, 4, 4),
    (0, 8, 8),
    (0, 16, 16),
    (2, 8, 24),
    (2, 16, 48),
    (3, 1, 1),
    (3, 2, 2),
    (3, 4, 4),
    (3, 8, 8),
    (4, 8, 16),
    (4, 16, 32),
    (6, 8, 32),
    (6, 16, 64),
]
_VALID_PAIRS = {(c, b) for c, b, _ in VALID_PNG_COMBINATIONS}
INVALID_PNG_COMBINATIONS = [
    (colour, bits)
    for colour in range(8)
    for bits in (0, 1, 2, 3, 4, 5, 8, 16, 32)
    if (colour, bits) not in _VALID_PAIRS
]
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


# --- building PNGs -----------------------------------------------------------


def png_chunk(kind: bytes, body: bytes, crc: int | None = None) -> bytes:
    """One PNG chunk, with its right CRC unless ``crc`` is given."""
    if crc is None:
        crc = zlib.crc32(kind + body)
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def ihdr_body(
    width: int,
    height: int,
    bit_depth: int,
    colour_type: int,
    compression: int = 0,
    filter_method: int = 0,
    interlace: int = 0,
) -> bytes:
    return struct.pack(
        ">IIBBBBB",
        width,
        height,
        bit_depth,
        colour_type,
        compression,
        filter_method,
        interlace,
    )


def png_header(*args: int, **kwargs: int) -> bytes:
    """Just the signature and an IHDR chunk, with no image data."""
    return PNG_SIGNATURE + png_chunk(b"IHDR", ihdr_body(*args, **kwargs))


def make_png(width: int, height: int, bit_depth: int, colour_type: int) -> bytes:
    """A whole, decodable PNG of a diagonal gradient."""
    channels = _CHANNELS[colour_type]
    max_sample = (1 << bit_depth) - 1
    if colour_type == 3:
        max_sample = min(max_sample, 3)  # the palette below has 4 entries
    raw = bytearray()
    for y in range(height):
        row_bits = "".join(
            format((x + y + c) % (max_sample + 1), f"0{bit_depth}b")
            for x in range(width)
            for c in range(channels)
        )
        row_bits += "0" * (-len(row_bits) % 8)
        raw.append(0)  # filter type None
        raw += int(row_bits, 2).to_bytes(len(row_bits) // 8, "big")
    chunks = png_chunk(b"IHDR", ihdr_body(width, height, bit_depth, colour_type))
    if colour_type == 3:
        palette = bytes([255, 192, 203, 184, 74, 54, 247, 238, 220, 0, 0, 0])
        chunks += png_chunk(b"PLTE", palette)
    chunks += png_chunk(b"IDAT", zlib.compress(bytes(raw)))
    chunks += png_chunk(b"IEND", b"")
    return PNG_SIGNATURE + chunks


# --- building JPEGs ----------------------------------------------------------

SOI = b"\xff\xd8"
EOI = b"\xff\xd9"
APP0_JFIF = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
DQT = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + bytes(range(1, 65))
SOS = b"\xff\xda" + struct.pack(">H", 8) + b"\x01\x01\x00\x00\x3f\x00"


def segment(marker: int, payload: bytes) -> bytes:
    """A marker segment, its length counting itself but not the marker."""
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def sof(
    marker: int = 0xC0,
    width: int = 32,
    height: int = 16,
    components: int = 3,
    precision: int = 8,
) -> bytes:
    """A frame header segment."""
    specs = b"".join(bytes([i + 1, 0x11, 0]) for i in range(components))
    return segment(
        marker, struct.pack(">BHHB", precision, height, width, components) + specs
    )


def make_jpeg(frame: bytes | None = None, before: bytes = b"") -> bytes:
    """SOI, APP0, anything in ``before``, DQT, the frame header, a scan, EOI."""
    if frame is None:
        frame = sof()
    return SOI + APP0_JFIF + before + DQT + frame + SOS + b"\x12\x34\x00" + EOI


# --- PNG ---------------------------------------------------------------------


@pytest.mark.parametrize(("colour_type", "bit_depth", "depth"), VALID_PNG_COMBINATIONS)
def test_png_depth_for_each_colour_type(
    colour_type: int, bit_depth: int, depth: int
) -> None:
    data = make_png(5, 3, bit_depth, colour_type)
    assert read_image_info(data) == ImageInfo("image/png", 5, 3, depth)


@pytest.mark.parametrize(("colour_type", "bit_depth"), INVALID_PNG_COMBINATIONS)
def test_png_rejects_colour_type_and_bit_depth_the_spec_forbids(
    colour_type: int, bit_depth: int
) -> None:
    with pytest.raises(ImageError):
        read_image_info(png_header(4, 4, bit_depth, colour_type))


def test_png_reads_width_and_height_from_their_own_fields() -> None:
    info = read_image_info(png_header(0x01020304, 0x0A0B0C0D, 8, 6))
    assert (info.width, info.height) == (0x01020304, 0x0A0B0C0D)


def test_png_interlaced_is_fine() -> None:
    assert read_image_info(png_header(9, 7, 8, 2, interlace=1)) == ImageInfo(
        "image/png", 9, 7, 24
    )


@pytest.mark.parametrize(
    "field", [{"compression": 1}, {"filter_method": 1}, {"interlace": 2}]
)
def test_png_rejects_unknown_methods(field: dict[str, int]) -> None:
    with pytest.raises(ImageError, match="unknown"):
        read_image_info(png_header(4, 4, 8, 6, **field))


@pytest.mark.parametrize(
    ("width", "height"), [(0, 1), (1, 0), (2**31, 1), (1, 2**31), (2**32 - 1, 5)]
)
def test_png_rejects_dimensions_out_of_range(width: int, height: int) -> None:
    with pytest.raises(ImageError, match="between 1 and 2147483647"):
        read_image_info(png_header(width, height, 8, 6))


def test_png_largest_dimensions_are_fine() -> None:
    info = read_image_info(png_header(2**31 - 1, 2**31 - 1, 8, 0))
    assert (info.width, info.height) == (2**31 - 1, 2**31 - 1)


def test_png_bad_ihdr_crc() -> None:
    body = ihdr_body(16, 16, 8, 6)
    good = zlib.crc32(b"IHDR" + body)
    data = PNG_SIGNATURE + png_chunk(b"IHDR", body, crc=good ^ 1)
    with pytest.raises(ImageError, match="CRC"):
        read_image_info(data)


def test_png_crc_covers_the_chunk_type_and_body() -> None:
    # A CRC of the body alone (forgetting the type) is wrong too.
    body = ihdr_body(16, 16, 8, 6)
    data = PNG_SIGNATURE + png_chunk(b"IHDR", body, crc=zlib.crc32(body))
    with pytest.raises(ImageError, match="CRC"):
        read_image_info(data)


def test_png_header_with_flipped_body_byte_fails_crc() -> None:
    data = bytearray(png_header(16, 16, 8, 6))
    data[8 + 8 + 3] ^= 0x01  # low byte of the width
    with pytest.raises(ImageError, match="CRC"):
        read_image_info(bytes(data))


def test_png_first_chunk_must_be_ihdr() -> None:
    data = PNG_SIGNATURE + png_chunk(b"tEXt", b"Title\x00ham") + png_header(4, 4, 8, 6)[8:]
    with pytest.raises(ImageError, match="IHDR"):
        read_image_info(data)


@pytest.mark.parametrize("length", [0, 12, 14, 2**32 - 1])
def test_png_ihdr_must_be_13_bytes(length: int) -> None:
    body = (ihdr_body(4, 4, 8, 6) + b"\x00" * 20)[: min(length, 33)]
    data = (
        PNG_SIGNATURE
        + struct.pack(">I", length)
        + b"IHDR"
        + body
        + struct.pack(">I", zlib.crc32(b"IHDR" + body))
    )
    with pytest.raises(ImageError, match="13"):
        read_image_info(data)


def test_png_truncated_at_every_length() -> None:
    data = make_png(3, 2, 8, 6)
    full = read_image_info(data)
    for n in range(len(data)):
        prefix = data[:n]
        if n < PNG_HEADER_END:
            with pytest.raises(ImageError):
                read_image_info(prefix)
        else:
            # Only the header is read: the rest may be missing.
            assert read_image_info(prefix) == full


# --- JPEG --------------------------------------------------------------------


def test_jpeg_baseline_with_app0() -> None:
    assert read_image_info(make_jpeg()) == ImageInfo("image/jpeg", 32, 16, 24)


def test_jpeg_width_and_height_are_not_swapped() -> None:
    data = make_jpeg(sof(width=0x0102, height=0x0A0B))
    info = read_image_info(data)
    assert (info.width, info.height) == (0x0102, 0x0A0B)


def test_jpeg_progressive_greyscale() -> None:
    data = make_jpeg(sof(0xC2, width=640, height=480, components=1))
    assert read_image_info(data) == ImageInfo("image/jpeg", 640, 480, 8)


def test_jpeg_cmyk_twelve_bit() -> None:
    data = make_jpeg(sof(0xC1, width=7, height=9, components=4, precision=12))
    assert read_image_info(data) == ImageInfo("image/jpeg", 7, 9, 48)


@pytest.mark.parametrize(
    "marker", [0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF]
)
def test_jpeg_every_sof_marker(marker: int) -> None:
    data = make_jpeg(sof(marker, width=11, height=13, components=3))
    assert read_image_info(data) == ImageInfo("image/jpeg", 11, 13, 24)


@pytest.mark.parametrize("marker", [0xC3, 0xC7, 0xCB, 0xCF])
def test_jpeg_lossless_precision(marker: int) -> None:
    data = make_jpeg(sof(marker, components=1, precision=16))
    assert read_image_info(data).depth == 16


@pytest.mark.parametrize("marker", [0xC4, 0xC8, 0xCC])
def test_jpeg_dht_jpg_dac_are_not_frame_headers(marker: int) -> None:
    # A segment that would read as a 999x777 frame if it were taken for one.
    decoy = sof(marker, width=999, height=777, components=3)
    data = make_jpeg(sof(width=5, height=6), before=decoy)
    assert read_image_info(data) == ImageInfo("image/jpeg", 5, 6, 24)


def test_jpeg_skips_app_and_comment_segments() -> None:
    before = segment(0xE1, b"Exif\x00\x00" + bytes(300)) + segment(0xFE, b"ham")
    data = make_jpeg(sof(width=48, height=48), before=before)
    assert read_image_info(data) == ImageInfo("image/jpeg", 48, 48, 24)


def test_jpeg_fill_bytes_before_markers() -> None:
    data = (
        SOI
        + b"\xff\xff\xff"
        + APP0_JFIF
        + b"\xff" * 7
        + sof(width=20, height=10)
        + EOI
    )
    assert read_image_info(data) == ImageInfo("image/jpeg", 20, 10, 24)


@pytest.mark.parametrize("marker", [0x01, *range(0xD0, 0xD8)])
def test_jpeg_standalone_markers_have_no_length(marker: int) -> None:
    # Were the two bytes after a standalone marker taken as a length, the
    # walk would jump past the frame header.
    data = SOI + APP0_JFIF + bytes([0xFF, marker]) + sof(width=3, height=4) + EOI
    assert read_image_info(data) == ImageInfo("image/jpeg", 3, 4, 24)


def test_jpeg_height_zero_means_dnl() -> None:
    with pytest.raises(ImageError, match="DNL"):
        read_image_info(make_jpeg(sof(height=0)))


def test_jpeg_width_zero() -> None:
    with pytest.raises(ImageError, match="width"):
        read_image_info(make_jpeg(sof(width=0)))


def test_jpeg_no_components() -> None:
    with pytest.raises(ImageError, match="components"):
        read_image_info(make_jpeg(sof(components=0)))


@pytest.mark.parametrize(("marker", "precision"), [(0xC0, 7), (0xC2, 16), (0xC3, 1), (0xC3, 17)])
def test_jpeg_bad_precision(marker: int, precision: int) -> None:
    with pytest.raises(ImageError, match="precision"):
        read_image_info(make_jpeg(sof(marker, precision=precision)))


def test_jpeg_frame_header_length_must_match_components() -> None:
    frame = bytearray(sof(components=3))
    frame[2:4] = struct.pack(">H", 17 - 3)  # one component's spec too short
    data = SOI + bytes(frame[:-3]) + EOI
    with pytest.raises(ImageError, match="frame header"):
        read_image_info(data)


def test_jpeg_frame_header_too_short_for_its_fields() -> None:
    data = SOI + segment(0xC0, b"\x08\x00\x10") + EOI
    with pytest.raises(ImageError, match="too short"):
        read_image_info(data)


@pytest.mark.parametrize("length", [0, 1])
def test_jpeg_segment_length_below_two(length: int) -> None:
    data = SOI + b"\xff\xe0" + struct.pack(">H", length) + sof() + EOI
    with pytest.raises(ImageError, match=f"segment length {length}"):
        read_image_info(data)


def test_jpeg_segment_running_past_the_end() -> None:
    data = SOI + b"\xff\xe1" + struct.pack(">H", 1000) + bytes(50)
    with pytest.raises(ImageError, match="^truncated .* segment of marker 0xE1"):
        read_image_info(data)


def test_jpeg_frame_header_longer_than_its_components() -> None:
    frame = segment(0xC0, struct.pack(">BHHB", 8, 16, 32, 1) + b"\x01\x11\x00" * 2)
    with pytest.raises(ImageError, match="not 11 for 1 components"):
        read_image_info(SOI + frame + EOI)


def test_jpeg_end_of_image_before_frame_header() -> None:
    with pytest.raises(ImageError, match="no frame header"):
        read_image_info(SOI + APP0_JFIF + EOI + sof())


def test_jpeg_scan_before_frame_header() -> None:
    with pytest.raises(ImageError, match="scan"):
        read_image_info(SOI + APP0_JFIF + SOS + sof())


def test_jpeg_second_soi() -> None:
    with pytest.raises(ImageError, match="start-of-image"):
        read_image_info(SOI + SOI + sof())


def test_jpeg_garbage_where_a_marker_should_be() -> None:
    with pytest.raises(ImageError, match="marker should start"):
        read_image_info(SOI + APP0_JFIF + b"\x00" + sof())


def test_jpeg_stuffed_zero_is_not_a_marker() -> None:
    with pytest.raises(ImageError, match="stuffed"):
        read_image_info(SOI + APP0_JFIF + b"\xff\x00" + sof())


def test_jpeg_truncated_at_every_length() -> None:
    data = make_jpeg(sof(width=40, height=30), before=b"\xff\xff" + segment(0xFE, b"x"))
    full = read_image_info(data)
    end_of_frame = data.index(sof(width=40, height=30)) + len(sof())
    for n in range(len(data)):
        prefix = data[:n]
        if n < end_of_frame:
            with pytest.raises(ImageError):
                read_image_info(prefix)
        else:
            assert read_image_info(prefix) == full


# --- neither -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "b'GIF89a\\x01\\x00'"),
        (b"BM" + bytes(60), "b'BM\\x00\\x00"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "b'<svg xml'"),
        (b"\x89PNG\r\n\x1a\x00" + bytes(40), "b'\\x89PNG\\r\\n\\x1a\\x00'"),
        (b"\xff\xd9\xff\xd8", "b'\\xff\\xd9"),
    ],
)
def test_not_png_or_jpeg(data: bytes, shown: str) -> None:
    with pytest.raises(ImageError, match="^not a PNG or JPEG image") as info:
        read_image_info(data)
    assert shown in str(info.value)


def test_empty() -> None:
    with pytest.raises(ImageError, match="empty"):
        read_image_info(b"")


@pytest.mark.parametrize("data", [PNG_SIGNATURE[:n] for n in range(1, 8)] + [b"\xff"])
def test_start_of_a_signature_is_truncated(data: bytes) -> None:
    with pytest.raises(ImageError, match="^truncated"):
        read_image_info(data)


def test_image_error_is_a_value_error() -> None:
    assert issubclass(ImageError, ValueError)
    with pytest.raises(ValueError):
        read_image_info(b"nope")


def test_image_info_is_frozen() -> None:
    info = read_image_info(png_header(4, 4, 8, 6))
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.width = 5  # type: ignore[misc]
    assert hash(info) == hash(ImageInfo("image/png", 4, 4, 32))


# --- the example icons -------------------------------------------------------


def check_whole_png(data: bytes) -> tuple[int, int, int, int]:
    """Walk every chunk, check CRCs and the pixel data size; return IHDR facts."""
    assert data[:8] == PNG_SIGNATURE
    pos = 8
    kinds = []
    idat = b""
    ihdr = b""
    while pos < len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack_from(">I", data, pos + 8 + length)
        assert crc == zlib.crc32(kind + body), kind
        kinds.append(kind)
        if kind == b"IHDR":
            ihdr = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert pos == len(data)
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    width, height, bit_depth, colour_type = struct.unpack_from(">IIBB", ihdr)
    channels = _CHANNELS[colour_type]
    raw = zlib.decompress(idat)
    assert len(raw) == height * (1 + width * channels * bit_depth // 8)
    assert all(raw[y * (len(raw) // height)] <= 4 for y in range(height))
    return width, height, bit_depth, colour_type


@pytest.mark.parametrize("size", [48, 120])
def test_example_icons(size: int) -> None:
    data = (EXAMPLES / f"jambon-{size}.png").read_bytes()
    assert len(data) < 8 * 1024
    assert read_image_info(data) == ImageInfo("image/png", size, size, 32)
    assert check_whole_png(data) == (size, size, 8, 6)


# --- properties --------------------------------------------------------------


def read_or_image_error(data: bytes) -> ImageInfo | None:
    """Read ``data``, letting only ImageError through as None."""
    try:
        info = read_image_info(data)
    except ImageError as error:
        message = str(error)
        assert message and "\n" not in message
        return None
    assert isinstance(info, ImageInfo)
    assert info.mimetype in ("image/png", "image/jpeg")
    assert info.width >= 1 and info.height >= 1 and info.depth >= 1
    return info


@quick
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_image_error(data: bytes) -> None:
    read_or_image_error(data)


@quick
@given(st.sampled_from([PNG_SIGNATURE, SOI]), st.binary(max_size=200))
def test_arbitrary_bytes_after_a_signature_raise_only_image_error(
    start: bytes, rest: bytes
) -> None:
    read_or_image_error(start + rest)


@quick
@given(
    st.lists(
        st.one_of(
            st.just(b"\xff"),
            st.sampled_from([b"\xff\x01", b"\xff\xd0", b"\xff\xd9", b"\xff\xda"]),
            st.builds(
                segment,
                st.integers(0xC0, 0xFE),
                st.binary(max_size=20),
            ),
            st.builds(
                sof,
                st.integers(0xC0, 0xCF),
                st.integers(0, 2**16 - 1),
                st.integers(0, 2**16 - 1),
                st.integers(0, 5),
                st.integers(0, 17),
            ),
            st.binary(max_size=4),
        ),
        max_size=6,
    )
)
def test_jpeg_like_sequences_raise_only_image_error(parts: list[bytes]) -> None:
    read_or_image_error(SOI + b"".join(parts))


@quick
@given(
    st.sampled_from([make_png(3, 2, 8, 6), make_jpeg(), png_header(1, 1, 1, 0)]),
    st.data(),
)
def test_corrupted_images_raise_only_image_error(data: bytes, draw: st.DataObject) -> None:
    corrupt = bytearray(data)
    for _ in range(draw.draw(st.integers(1, 4))):
        index = draw.draw(st.integers(0, len(corrupt) - 1))
        corrupt[index] = draw.draw(st.integers(0, 255))
    cut = draw.draw(st.integers(0, len(corrupt)))
    read_or_image_error(bytes(corrupt[:cut]))


@quick
@given(
    st.integers(1, 2**31 - 1),
    st.integers(1, 2**31 - 1),
    st.sampled_from(VALID_PNG_COMBINATIONS),
    st.integers(0, 1),
)
def test_png_header_round_trip(
    width: int, height: int, combination: tuple[int, int, int], interlace: int
) -> None:
    colour_type, bit_depth, depth = combination
    data = png_header(width, height, bit_depth, colour_type, interlace=interlace)
    assert read_image_info(data) == ImageInfo("image/png", width, height, depth)


@quick
@given(
    st.sampled_from([0xC0, 0xC1, 0xC2, 0xC5, 0xC6, 0xC9, 0xCA, 0xCD, 0xCE]),
    st.integers(1, 2**16 - 1),
    st.integers(1, 2**16 - 1),
    st.integers(1, 255),
    st.sampled_from([8, 12]),
    st.integers(0, 3),
)
def test_jpeg_round_trip(
    marker: int, width: int, height: int, components: int, precision: int, fill: int
) -> None:
    frame = sof(marker, width, height, components, precision)
    data = make_jpeg(b"\xff" * fill + frame)
    expected = ImageInfo("image/jpeg", width, height, precision * components)
    assert read_image_info(data) == expected
