"""Rendered images, parsed here so the suite needs no imaging library: the headers of JPEG (ITU-T T.81) and PNG
(ISO/IEC 15948) images, the pixels of 8-bit PNG, and which stored frame an image shows."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dicomweb_conformance.dicom.samples import SampleInstance

Pixels = npt.NDArray[np.float64]


class ImageFormatError(ValueError):
    """The body is not the image format its media type names."""


class UndecodedImage(ValueError):
    """A valid image this module does not decode (only 8-bit, non-interlaced, non-palette PNG is)."""


@dataclass(frozen=True)
class ImageHeader:
    width: int
    height: int
    components: int


# T.81 Table B.1: SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame header.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_DQT, _JPEG_SOS = 0xDB, 0xDA
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


def _jpeg_segments(body: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of every segment before the scan data."""
    if not body.startswith(b"\xff\xd8"):
        raise ImageFormatError("no SOI marker (FFD8) at the start")
    if not body.rstrip(b"\x00").endswith(b"\xff\xd9"):
        raise ImageFormatError("no EOI marker (FFD9) at the end")
    segments, pos = [], 2
    while pos + 4 <= len(body):
        if body[pos] != 0xFF:
            raise ImageFormatError(f"expected a marker at byte {pos}, found {body[pos]:#04x}")
        marker = body[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in _JPEG_STANDALONE:
            pos += 2
            continue
        (length,) = struct.unpack(">H", body[pos + 2 : pos + 4])
        segments.append((marker, body[pos + 4 : pos + 2 + length]))
        if marker == _JPEG_SOS:
            return segments
        pos += 2 + length
    raise ImageFormatError("no SOS marker: the image has no scan")


def jpeg_header(body: bytes) -> ImageHeader:
    for marker, payload in _jpeg_segments(body):
        if marker in _JPEG_SOF:
            _, height, width, components = struct.unpack(">BHHB", payload[:6])
            return ImageHeader(width, height, components)
    raise ImageFormatError("no SOF frame header before the scan")


def jpeg_quantization_total(body: bytes) -> int:
    """The sum of every quantization table entry: larger means coarser (lower quality)."""
    total = 0
    for marker, payload in _jpeg_segments(body):
        if marker != _JPEG_DQT:
            continue
        pos = 0
        while pos < len(payload):
            wide = payload[pos] >> 4
            size = 128 if wide else 64
            table = payload[pos + 1 : pos + 1 + size]
            total += sum(struct.unpack(">64H", table)) if wide else sum(table)
            pos += 1 + size
    if not total:
        raise ImageFormatError("no quantization table (DQT)")
    return total


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# ISO/IEC 15948 Table 11.1: colour type -> samples per pixel.
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def _png_chunks(body: bytes) -> list[tuple[bytes, bytes]]:
    if not body.startswith(_PNG_SIGNATURE):
        raise ImageFormatError("no PNG signature")
    chunks, pos = [], len(_PNG_SIGNATURE)
    while pos + 12 <= len(body):
        (length,) = struct.unpack(">I", body[pos : pos + 4])
        kind, data = body[pos + 4 : pos + 8], body[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", body[pos + 8 + length : pos + 12 + length])
        if zlib.crc32(kind + data) != crc:
            raise ImageFormatError(f"chunk {kind!r} has a wrong CRC")
        chunks.append((kind, data))
        pos += 12 + length
    if not chunks or chunks[0][0] != b"IHDR" or chunks[-1][0] != b"IEND":
        raise ImageFormatError("the chunks do not run from IHDR to IEND")
    return chunks


def png_header(body: bytes) -> ImageHeader:
    ihdr = _png_chunks(body)[0][1]
    width, height, _, colour_type = struct.unpack(">IIBB", ihdr[:10])
    if colour_type not in _PNG_CHANNELS:
        raise ImageFormatError(f"unknown colour type {colour_type}")
    return ImageHeader(width, height, _PNG_CHANNELS[colour_type])


def png_gray(body: bytes) -> Pixels:
    """The image as a height x width array of luminance (the mean of the colour samples, alpha dropped)."""
    chunks = _png_chunks(body)
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    channels = _PNG_CHANNELS[colour_type]
    if depth != 8 or interlace or colour_type == 3:
        raise UndecodedImage(f"{depth}-bit PNG, colour type {colour_type}, interlace {interlace}")
    raw = zlib.decompress(b"".join(data for kind, data in chunks if kind == b"IDAT"))
    rows = _unfilter(raw, width * channels, height, channels).reshape(height, width, channels)
    colour = rows[:, :, : 3 if channels >= 3 else 1].astype(np.float64)
    return np.asarray(colour.mean(axis=2))


def _unfilter(raw: bytes, stride: int, height: int, bpp: int) -> npt.NDArray[np.uint8]:
    """ISO/IEC 15948 9.2: undo the per-scanline filters (None, Sub, Up, Average, Paeth)."""
    if len(raw) != height * (stride + 1):
        raise ImageFormatError(f"image data holds {len(raw)} bytes, {height * (stride + 1)} expected")
    out = np.zeros((height, stride), dtype=np.uint8)
    previous = [0] * stride
    for y in range(height):
        kind, line = raw[y * (stride + 1)], list(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - bpp] if x >= bpp else 0
            up, corner = previous[x], previous[x - bpp] if x >= bpp else 0
            line[x] = (line[x] + _predictor(kind, left, up, corner)) & 0xFF
        out[y] = line
        previous = line
    return out


def _predictor(kind: int, left: int, up: int, corner: int) -> int:
    if kind == 0:
        return 0
    if kind == 1:
        return left
    if kind == 2:
        return up
    if kind == 3:
        return (left + up) // 2
    if kind == 4:
        estimate = left + up - corner
        distances = (abs(estimate - left), abs(estimate - up), abs(estimate - corner))
        return (left, up, corner)[distances.index(min(distances))]
    raise ImageFormatError(f"unknown filter type {kind}")


def frame_images(instance: SampleInstance) -> list[Pixels]:
    """The frames of the corpus' multi-frame instance as rows x columns arrays."""
    ds = instance.dataset
    return [
        np.frombuffer(frame, dtype=np.uint8).reshape(int(ds.Rows), int(ds.Columns)).astype(np.float64)
        for frame in instance.pixel_frames()
    ]


def best_matching_frame(image: Pixels, frames: Sequence[Pixels]) -> tuple[int, list[float]]:
    """The frame number (from 1) whose pixels correlate best with `image`, and every correlation."""
    scores = [float(np.corrcoef(image.ravel(), frame.ravel())[0, 1]) for frame in frames]
    return scores.index(max(scores)) + 1, scores
