"""Read an icon's mimetype, size and depth from its bytes.

A UPnP device description lists its icons with ``<mimetype>``, ``<width>``,
``<height>`` and ``<depth>``; :func:`read_image_info` finds those facts in
the header of a PNG or JPEG image.  It is pure: bytes in, a frozen
:class:`ImageInfo` out, and :class:`ImageError` for anything it cannot read.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

__all__ = ["ImageError", "ImageInfo", "read_image_info"]


class ImageError(ValueError):
    """The bytes are not a PNG or JPEG image we can read."""


@dataclass(frozen=True)
class ImageInfo:
    """An icon's facts, as a UPnP ``<icon>`` element gives them."""

    mimetype: str
    """``"image/png"`` or ``"image/jpeg"``."""
    width: int
    """Width in pixels."""
    height: int
    """Height in pixels."""
    depth: int
    """Bits per pixel (for a palette PNG, the bits of one palette index)."""


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOI = b"\xff\xd8"

_PNG_MAX_DIMENSION = 2**31 - 1

# Colour type -> (allowed bit depths, samples per pixel).  A palette image
# (type 3) has one sample per pixel: an index of ``bit depth`` bits.
_PNG_COLOUR_TYPES: dict[int, tuple[frozenset[int], int]] = {
    0: (frozenset({1, 2, 4, 8, 16}), 1),  # greyscale
    2: (frozenset({8, 16}), 3),  # truecolour
    3: (frozenset({1, 2, 4, 8}), 1),  # indexed colour
    4: (frozenset({8, 16}), 2),  # greyscale with alpha
    6: (frozenset({8, 16}), 4),  # truecolour with alpha
}

# Start-of-frame markers.  C4 (DHT), C8 (JPG) and CC (DAC) share the range
# but are not frame headers.
_JPEG_SOF_MARKERS = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7}
    | {0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)
_JPEG_LOSSLESS_SOF_MARKERS = frozenset({0xC3, 0xC7, 0xCB, 0xCF})
# Markers that stand alone, with no length field: TEM and RST0-RST7.
_JPEG_STANDALONE_MARKERS = frozenset({0x01} | set(range(0xD0, 0xD8)))
_JPEG_SOS = 0xDA
_JPEG_EOI = 0xD9
_JPEG_SOI_MARKER = 0xD8


def read_image_info(data: bytes) -> ImageInfo:
    """Return the mimetype, width, height and depth of a PNG or JPEG image.

    Raise :class:`ImageError` if ``data`` is not a PNG or JPEG image whose
    header can be read.
    """
    if data[: len(PNG_SIGNATURE)] == PNG_SIGNATURE:
        return _read_png(data)
    if data[: len(JPEG_SOI)] == JPEG_SOI:
        return _read_jpeg(data)
    if not data:
        raise ImageError("not a PNG or JPEG image (it is empty)")
    if PNG_SIGNATURE.startswith(data):
        raise ImageError(
            f"truncated PNG image: only {len(data)} bytes of its "
            f"{len(PNG_SIGNATURE)}-byte signature"
        )
    if JPEG_SOI.startswith(data):
        raise ImageError("truncated JPEG image: only 1 byte of its start marker")
    raise ImageError(
        f"not a PNG or JPEG image (it starts with {data[:8]!r})"
    )


def _read_png(data: bytes) -> ImageInfo:
    """Read the IHDR chunk that must follow the PNG signature."""
    pos = len(PNG_SIGNATURE)
    if len(data) < pos + 8:
        raise ImageError("truncated PNG image: no first chunk after the signature")
    length, chunk_type = struct.unpack_from(">I4s", data, pos)
    if chunk_type != b"IHDR":
        raise ImageError(
            f"bad PNG image: the first chunk is {chunk_type!r}, not b'IHDR'"
        )
    if length != 13:
        raise ImageError(
            f"bad PNG image: its IHDR chunk is {length} bytes long, not 13"
        )
    end = pos + 8 + length + 4
    if len(data) < end:
        raise ImageError(
            f"truncated PNG image: its IHDR chunk needs {end} bytes, "
            f"there are {len(data)}"
        )
    body = data[pos + 4 : end - 4]
    (stored_crc,) = struct.unpack_from(">I", data, end - 4)
    if zlib.crc32(body) != stored_crc:
        raise ImageError("bad PNG image: its IHDR chunk fails its CRC check")
    width, height, bit_depth, colour_type, compression, filter_, interlace = (
        struct.unpack_from(">IIBBBBB", body, 4)
    )
    for name, value in (("width", width), ("height", height)):
        if not 1 <= value <= _PNG_MAX_DIMENSION:
            raise ImageError(
                f"bad PNG image: its {name} is {value}, "
                f"not between 1 and {_PNG_MAX_DIMENSION}"
            )
    if colour_type not in _PNG_COLOUR_TYPES:
        raise ImageError(f"bad PNG image: unknown colour type {colour_type}")
    bit_depths, samples = _PNG_COLOUR_TYPES[colour_type]
    if bit_depth not in bit_depths:
        raise ImageError(
            f"bad PNG image: bit depth {bit_depth} is not allowed "
            f"with colour type {colour_type}"
        )
    if compression != 0:
        raise ImageError(f"bad PNG image: unknown compression method {compression}")
    if filter_ != 0:
        raise ImageError(f"bad PNG image: unknown filter method {filter_}")
    if interlace not in (0, 1):
        raise ImageError(f"bad PNG image: unknown interlace method {interlace}")
    return ImageInfo("image/png", width, height, bit_depth * samples)


def _read_jpeg(data: bytes) -> ImageInfo:
    """Walk the JPEG marker segments up to the first frame header."""
    size = len(data)
    pos = len(JPEG_SOI)
    # Every pass consumes at least one byte, so the walk ends.
    while True:
        if pos >= size:
            raise ImageError("truncated JPEG image: it ends before its frame header")
        if data[pos] != 0xFF:
            raise ImageError(
                f"bad JPEG image: byte {pos} is 0x{data[pos]:02X}, "
                "where a marker should start"
            )
        while pos < size and data[pos] == 0xFF:  # the marker and fill bytes
            pos += 1
        if pos >= size:
            raise ImageError("truncated JPEG image: it ends inside a marker")
        marker = data[pos]
        pos += 1
        if marker in _JPEG_STANDALONE_MARKERS:
            continue
        if marker == 0x00:
            raise ImageError(
                f"bad JPEG image: a stuffed zero byte at {pos - 2} "
                "where a marker should be"
            )
        if marker == _JPEG_SOI_MARKER:
            raise ImageError("bad JPEG image: a second start-of-image marker")
        if marker == _JPEG_EOI:
            raise ImageError("bad JPEG image: it ends with no frame header")
        if marker == _JPEG_SOS:
            raise ImageError("bad JPEG image: a scan starts before the frame header")
        if pos + 2 > size:
            raise ImageError(
                f"truncated JPEG image: it ends inside the length of marker 0x{marker:02X}"
            )
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2:
            raise ImageError(
                f"bad JPEG image: marker 0x{marker:02X} has segment length {length}"
            )
        if pos + length > size:
            raise ImageError(
                f"truncated JPEG image: it ends inside the segment of marker 0x{marker:02X}"
            )
        if marker in _JPEG_SOF_MARKERS:
            return _read_jpeg_frame_header(marker, data[pos : pos + length])
        pos += length


def _read_jpeg_frame_header(marker: int, segment: bytes) -> ImageInfo:
    """Read a whole SOF segment, its two length bytes included."""
    if len(segment) < 8:
        raise ImageError(
            f"bad JPEG image: its frame header is {len(segment)} bytes long, "
            "too short"
        )
    precision, height, width, components = struct.unpack_from(">BHHB", segment, 2)
    if len(segment) != 8 + 3 * components:
        raise ImageError(
            f"bad JPEG image: its frame header is {len(segment)} bytes long, "
            f"not {8 + 3 * components} for {components} components"
        )
    if marker in _JPEG_LOSSLESS_SOF_MARKERS:
        precision_ok = 2 <= precision <= 16
    else:
        precision_ok = precision in (8, 12)
    if not precision_ok:
        raise ImageError(
            f"bad JPEG image: sample precision {precision} is not allowed "
            f"with marker 0x{marker:02X}"
        )
    if height == 0:
        raise ImageError(
            "unsupported JPEG image: its height is 0, to be given by a later "
            "DNL marker"
        )
    if width == 0:
        raise ImageError("bad JPEG image: its width is 0")
    if components == 0:
        raise ImageError("bad JPEG image: it has no colour components")
    return ImageInfo("image/jpeg", width, height, precision * components)
