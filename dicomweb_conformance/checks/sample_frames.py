"""Frames and Part 10 parts of the per-file scenarios: what a part says it holds, and what it decodes to."""

from __future__ import annotations

from dataclasses import dataclass, replace

import requests

from dicomweb_conformance.checks.common import expect_status, fail, multipart_parts
from dicomweb_conformance.checks.transcoding import transcoding_differences
from dicomweb_conformance.dicom.codecs import (
    ENCAPSULATED_MEDIA_TYPES,
    NATIVE_SYNTAXES,
    ImageDescription,
    UndecodableSyntax,
    frame_magic_matches,
)
from dicomweb_conformance.dicom.part10 import EXPLICIT_VR_LITTLE_ENDIAN
from dicomweb_conformance.transport.multipart import parse_media_type

OCTET_STREAM = "application/octet-stream"
# PS3.18 Tables 8.7.3-4 and 8.7.3-5 (uncompressed and compressed bulk data media types): the transfer syntax a
# part of each type is in when its Content-Type names none.
DEFAULT_FRAME_SYNTAX = {
    OCTET_STREAM: EXPLICIT_VR_LITTLE_ENDIAN,
    "image/jpeg": "1.2.840.10008.1.2.4.70",
    "image/jls": "1.2.840.10008.1.2.4.80",
    "image/jp2": "1.2.840.10008.1.2.4.90",
    "image/dicom-rle": "1.2.840.10008.1.2.5",
}

# PS3.5 8.2.1, PS3.3 C.7.6.3.1.2: decompressing YBR_FULL_422, YBR_PARTIAL_420, YBR_ICT or YBR_RCT pixel data
# yields RGB or YBR_FULL, and the Photometric Interpretation (and Planar Configuration) of the decompressed file
# say so; a lossy original stays marked lossy (PS3.3 C.7.6.1.1.5), which may be added where the file lacked it.
_COMPRESSED_ONLY_PHOTOMETRIC = frozenset({"YBR_FULL_422", "YBR_PARTIAL_420", "YBR_ICT", "YBR_RCT"})
_PHOTOMETRIC = "(00280004)"
_PLANAR_CONFIGURATION = "(00280006)"
_LOSSY_MARKS = ("(00282110)", "(00282112)", "(00282114)")


@dataclass(frozen=True)
class FramePart:
    number: int
    media_type: str
    syntax: str
    declared_syntax: str | None
    content: bytes


def frame_parts(response: requests.Response, what: str) -> list[FramePart]:
    """The parts of a 200 frames answer, each with its media type and the syntax it is in (declared or default)."""
    expect_status(response, 200, what)
    parts = []
    for number, part in enumerate(multipart_parts(response, what), 1):
        kind, params = parse_media_type(part.content_type or OCTET_STREAM)
        declared = params.get("transfer-syntax")
        if kind not in DEFAULT_FRAME_SYNTAX:
            raise fail(
                f"{what}: part {number} is of a type that holds no frame (PS3.18 Table 8.7.3-4)",
                expected=" or ".join(DEFAULT_FRAME_SYNTAX),
                actual=part.content_type,
                response=response,
            )
        parts.append(FramePart(number, kind, declared or DEFAULT_FRAME_SYNTAX[kind], declared, part.content))
    return parts


def check_part_labels(parts: list[FramePart], native: ImageDescription, stored: ImageDescription, what: str) -> None:
    """Each part's media type fits its transfer syntax (PS3.18 Table 8.7.3-5), and its bytes are of that syntax:
    a native frame of the decompressed image's size, or the bitstream of that compression."""
    for part in parts:
        natural = ENCAPSULATED_MEDIA_TYPES.get(part.syntax)
        fits = part.media_type in (OCTET_STREAM, natural) if natural else part.media_type == OCTET_STREAM
        if not fits:
            raise fail(
                f"{what}: part {part.number} is {part.media_type} but says its syntax is {part.syntax}",
                expected=f"{natural or OCTET_STREAM} for {part.syntax}",
                actual=part.media_type,
            )
        image = native if part.syntax in NATIVE_SYNTAXES else stored
        try:
            matches = frame_magic_matches(part.content, part.syntax, image)
        except UndecodableSyntax:
            matches = False
        if not matches:
            size = f" ({image.native_frame_size} bytes)" if part.syntax in NATIVE_SYNTAXES else ""
            raise fail(
                f"{what}: part {part.number}'s bytes are not {part.syntax}",
                expected=f"a frame in {part.syntax}{size}",
                actual=f"{len(part.content)} bytes starting {part.content[:8].hex()}",
            )


def decompressed(image: ImageDescription) -> ImageDescription:
    """How a compressed image's frames look decompressed to a native syntax (PS3.5 8.2.1: RGB, not a YBR form
    that exists only compressed)."""
    if image.photometric in _COMPRESSED_ONLY_PHOTOMETRIC:
        return replace(image, photometric="RGB", planar_configuration=0)
    return image


def decompression_differences(returned: bytes, stored: bytes, stored_photometric: str, *, lossy: bool) -> list[str]:
    """transcoding_differences, less what decompressing may change (above)."""
    lines = transcoding_differences(returned, stored)
    allowed = [*_LOSSY_MARKS] if lossy else []
    if stored_photometric in _COMPRESSED_ONLY_PHOTOMETRIC:
        allowed += [_PHOTOMETRIC, _PLANAR_CONFIGURATION]
    return [line for line in lines if not any(mark in line.split(":")[0] for mark in allowed)]
