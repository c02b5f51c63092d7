"""RLE Lossless (PS3.5 Annex G) decoding: the suite's own oracle, independent of the encoder it checks."""

from __future__ import annotations

import struct

import numpy as np
import numpy.typing as npt

_HEADER = 64
_MAX_SEGMENTS = 15


def rle_decode_frame(data: bytes, rows: int, columns: int, samples: int, bits_allocated: int) -> npt.NDArray[np.uint8]:
    """One RLE frame as a (samples, rows, columns * bytes) little endian byte array; view it as the sample dtype."""
    width = bits_allocated // 8
    if len(data) < _HEADER:
        raise ValueError(f"an RLE frame starts with a {_HEADER}-byte header, got {len(data)} bytes")
    header = struct.unpack_from(f"<{1 + _MAX_SEGMENTS}I", data)
    count, offsets = header[0], list(header[1 : 1 + header[0]])
    # PS3.5 G.2: one segment per byte of each sample, the most significant byte first.
    if count != samples * width:
        raise ValueError(f"{count} RLE segments, {samples} samples of {width} bytes need {samples * width}")
    ends = [*offsets[1:], len(data)]
    pixels = rows * columns
    out = np.empty((samples, pixels, width), dtype=np.uint8)
    for index, (start, end) in enumerate(zip(offsets, ends, strict=True)):
        segment = _decode_segment(data[start:end])
        if len(segment) < pixels:
            raise ValueError(f"RLE segment {index + 1} decodes to {len(segment)} bytes, {pixels} expected")
        sample, significance = divmod(index, width)
        out[sample, :, width - 1 - significance] = np.frombuffer(bytes(segment[:pixels]), dtype=np.uint8)
    return out.reshape(samples, rows, columns * width)


def _decode_segment(segment: bytes) -> bytearray:
    """PS3.5 G.3.2: n in 0..127 copies the next n+1 bytes, -127..-1 repeats the next byte 1-n times, -128 is a no-op."""
    out = bytearray()
    pos, size = 0, len(segment)
    while pos < size - 1:
        header = segment[pos]
        if header < 128:
            out += segment[pos + 1 : pos + header + 2]
            pos += header + 2
        elif header > 128:
            out += segment[pos + 1 : pos + 2] * (257 - header)
            pos += 2
        else:
            pos += 1
    return out
