"""Proxy rules for the cornerstone3D profile (suites/clients/test_client_cornerstone.py). Each fault breaks one thing
dicom-image-loader needs of an answer, on the requests only the profile makes: frames asked with the loader's
unquoted Accept, and the metadata of a series holding one of the profile's files (every file is its own series).
The repair hides Orthanc 1.10.1's one declared failure (targets/orthanc.toml, test_cs3d_frame_*[ct16s_deflated-1]):
it asks again for Explicit VR Little Endian, so the faults also see, and break, that frame."""

from __future__ import annotations

import re

from tests.faults.proxy import Forward, ProxyRequest, ProxyResponse
from tests.faults.rules import (
    SERIES_METADATA,
    Action,
    Json,
    MimePart,
    ProxyRule,
    distort,
    distort_each_dataset,
    distort_parts,
    lf_only_multipart,
    unterminated_multipart,
)
from tests.faults.rules_wado import ANY_FRAMES

_LOADER_ACCEPT = r"^multipart/related; type=application/octet-stream; transfer-syntax=\*$"
_EXPLICIT_ACCEPT = "multipart/related; type=application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1"
# The loader's Accept, or the repair's
_FRAMES_ACCEPT = r"^multipart/related; type=application/octet-stream; transfer-syntax=(?:\*|1\.2\.840\.10008\.1\.2\.1)$"
_NATIVE_SYNTAXES = ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99")
ROWS = "00280010"


def _swap_syntax(part: MimePart) -> MimePart:
    """Label a native frame JPEG Baseline and a compressed one Explicit VR Little Endian."""
    syntax = re.search(r"transfer-syntax=\"?([0-9.]+)", part.content_type)
    native = syntax is not None and syntax.group(1) in _NATIVE_SYNTAXES
    other = "1.2.840.10008.1.2.4.50" if native else "1.2.840.10008.1.2.1"
    return part.with_content_type(f"application/octet-stream; transfer-syntax={other}")


def _syntax_star(part: MimePart) -> MimePart:
    return part.with_content_type("application/octet-stream; transfer-syntax=*")


def _invert_second_half(part: MimePart) -> MimePart:
    half = len(part.content) // 2
    return part.with_content(part.content[:half] + bytes(b ^ 0xFF for b in part.content[half:]))


def _other_rows(dataset: dict[str, Json]) -> dict[str, Json]:
    if ROWS in dataset:
        dataset[ROWS] = {"vr": "US", "Value": [int(dataset[ROWS]["Value"][0]) + 1]}
    return dataset


def _without_pixel_module(dataset: dict[str, Json]) -> dict[str, Json]:
    return {tag: element for tag, element in dataset.items() if not tag.startswith("0028")}


def _frames(name: str, breaks: str, action: Action) -> ProxyRule:
    return ProxyRule(name, breaks, "GET", ANY_FRAMES, action, accept=_FRAMES_ACCEPT)


def _explicit_after_500(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    response = forward(request)
    if response.status != 500:
        return response
    return forward(request.with_headers(accept=_EXPLICIT_ACCEPT))


CORNERSTONE_FAULTS: dict[str, ProxyRule] = {
    rule.name: rule
    for rule in [
        _frames(
            "cs3d-frames-lf-only", "a frames answer has a CRLFCRLF after its part header", distort(lf_only_multipart)
        ),
        _frames(
            "cs3d-frames-unterminated",
            "a frames answer repeats its boundary after the frame",
            distort(unterminated_multipart),
        ),
        _frames("cs3d-frames-404", "a frames answer is 200 or 206", distort(lambda r: r.with_status(404))),
        _frames(
            "cs3d-frames-syntax-swapped",
            "the part's transfer-syntax is the frame's",
            distort_parts(lambda parts: [_swap_syntax(p) for p in parts]),
        ),
        _frames(
            "cs3d-frames-syntax-star",
            "the part names a transfer syntax the loader decodes",
            distort_parts(lambda parts: [_syntax_star(p) for p in parts]),
        ),
        _frames(
            "cs3d-frames-pixels-inverted",
            "the frame holds the stored pixels",
            distort_parts(lambda parts: [_invert_second_half(p) for p in parts]),
        ),
        ProxyRule(
            "cs3d-metadata-other-rows",
            "metadata Rows is the stored value",
            "GET",
            SERIES_METADATA,
            distort_each_dataset(_other_rows),
            accept=r"^application/dicom\+json$",
        ),
        ProxyRule(
            "cs3d-metadata-no-pixel-module",
            "metadata holds the Image Pixel attributes",
            "GET",
            SERIES_METADATA,
            distort_each_dataset(_without_pixel_module),
            accept=r"^application/dicom\+json$",
        ),
    ]
}

# Hide Orthanc 1.10.1's 500 to the frames of a Deflated instance (targets/orthanc.toml, test_cs3d_frame_*).
CORNERSTONE_REPAIRS: dict[str, ProxyRule] = {
    "repair-cs3d-deflated-as-explicit": ProxyRule(
        "repair-cs3d-deflated-as-explicit",
        "asks again with transfer-syntax=1.2.840.10008.1.2.1 where Orthanc answers the loader's frames request 500",
        "GET",
        ANY_FRAMES,
        _explicit_after_500,
        accept=_LOADER_ACCEPT,
    )
}
