"""Proxy rules for the WADO-RS depth checks (suites/wado/test_wado_{negotiation,transfer_syntax,frames,rendered,
not_found}.py). Each fault breaks one promise those checks verify; each repair hides one deviation Orthanc
1.10.1 + DICOMweb 1.7 (or the Azure facade in front of it) shows, so the check it blocks can be seen passing.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import replace
from io import BytesIO

import pydicom
from requests.structures import CaseInsensitiveDict

from tests.faults.proxy import Forward, ProxyRequest, ProxyResponse
from tests.faults.rules import (
    INSTANCE,
    SERIES,
    STUDY,
    Action,
    MimePart,
    ProxyRule,
    answer,
    boundary_of,
    distort,
    distort_parts,
    get_rule,
    join_parts,
    on_status,
    split_parts,
    without_accept,
)

EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
EXPLICIT_VR_BIG_ENDIAN = "1.2.840.10008.1.2.2"
DICOM_ANY_SYNTAX = 'multipart/related; type="application/dicom"; transfer-syntax=*'
OCTET_STREAM = "application/octet-stream"

# --- paths ------------------------------------------------------------------------------------------

_INSTANCE_ROOT = INSTANCE.removesuffix("$")
RESOURCE = rf"(?:{STUDY})|(?:{SERIES})|(?:{INSTANCE})"
ANY_FRAMES = rf"{_INSTANCE_ROOT}/frames/[^/]+$"
RENDERED = rf"{_INSTANCE_ROOT}(?:/frames/[^/]+)?/rendered$"
INSTANCE_RENDERED = rf"{_INSTANCE_ROOT}/rendered$"
FRAME_RENDERED = rf"{_INSTANCE_ROOT}/frames/[^/]+/rendered$"
ANY_RETRIEVE = rf"{RESOURCE}|(?:{ANY_FRAMES})|(?:{RENDERED})"

# PS3.18 8.7.3: the two transfer syntaxes Web Services must not use, as an Accept names them.
FORBIDDEN_SYNTAX = r"transfer-syntax=1\.2\.840\.10008\.1\.2(?:\.2)?(?:[;,\s]|$)"
# MPEG2 Main Profile, which none of the corpus images can be made into: a transfer syntax the server does not support.
UNSUPPORTED_SYNTAX = r"transfer-syntax=1\.2\.840\.10008\.1\.2\.4\.100(?:[;,\s]|$)"
UNSUPPORTED_VALUE = r"(?<=transfer-syntax=)1\.2\.840\.10008\.1\.2\.4\.100(?=[;,\s]|$)"
FORBIDDEN_VALUE = r"(?<=transfer-syntax=)1\.2\.840\.10008\.1\.2(?:\.2)?(?=[;,\s]|$)"


# --- Accept surgery (RFC 7231 5.3.2) ----------------------------------------------------------------


def accept_entries(accept: str) -> list[str]:
    """The comma-separated entries of an Accept header (the suite never puts commas inside quotes)."""
    return [entry.strip() for entry in accept.split(",") if entry.strip()]


def quality(entry: str) -> float:
    match = re.search(r";\s*q=([0-9.]+)", entry)
    return float(match.group(1)) if match else 1.0


def forward_with_accept(choose: Callable[[list[str]], str]) -> Action:
    def action(request: ProxyRequest, forward: Forward) -> ProxyResponse:
        return forward(request.with_headers(accept=choose(accept_entries(request.headers.get("Accept", "")))))

    return action


def _with_any_syntax(accept: str) -> str:
    if "transfer-syntax=" in accept:
        return re.sub(r"transfer-syntax=[^;,\s]+", "transfer-syntax=*", accept)
    return accept + "; transfer-syntax=*"


def _with_big_endian(accept: str) -> str:
    return accept.replace("transfer-syntax=*", f"transfer-syntax={EXPLICIT_VR_BIG_ENDIAN}")


def rewrite_accept(change: Callable[[str], str]) -> Action:
    return lambda request, forward: forward(request.with_headers(accept=change(request.headers.get("Accept", ""))))


# --- answers ----------------------------------------------------------------------------------------


def status_as(statuses: frozenset[int], status: int) -> Action:
    """Forward; an answer with one of `statuses` becomes `status` (a repair of a wrong error code)."""

    def action(request: ProxyRequest, forward: Forward) -> ProxyResponse:
        response = forward(request)
        return response.with_status(status) if response.status in statuses else response

    return action


def _content_type_without_type(response: ProxyResponse) -> ProxyResponse:
    return response.with_body(response.body, re.sub(r';\s*type="[^"]*"', "", response.content_type))


def _content_type_type_only(response: ProxyResponse) -> ProxyResponse:
    fixed = re.sub(r'type="application/octet-stream[^"]*"', f'type="{OCTET_STREAM}"', response.content_type)
    return response.with_body(response.body, fixed)


def _flip_last_byte(part: MimePart) -> MimePart:
    return part.with_content(part.content[:-1] + bytes([part.content[-1] ^ 0xFF]))


def _each_part(change: Callable[[MimePart], MimePart]) -> Callable[[list[MimePart]], list[MimePart]]:
    return lambda parts: [change(part) for part in parts]


def _declare_jpeg_baseline(part: MimePart) -> MimePart:
    return part.with_content_type("application/dicom; transfer-syntax=1.2.840.10008.1.2.4.50")


def _declare_file_meta_syntax(part: MimePart) -> MimePart:
    syntax = pydicom.dcmread(BytesIO(part.content), stop_before_pixels=True).file_meta.TransferSyntaxUID
    return part.with_content_type(f"application/dicom; transfer-syntax={syntax}")


def _drop_patient_name(part: MimePart) -> MimePart:
    """The part re-written in its own transfer syntax, without PatientName: a transcoder that loses an attribute."""
    dataset = pydicom.dcmread(BytesIO(part.content))
    if "PatientName" in dataset:
        del dataset.PatientName
    written = BytesIO()
    dataset.save_as(written)
    return part.with_content(written.getvalue())


def any_syntax_transcoded_losing_patient_name(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """transfer-syntax=* answered with an Explicit VR Little Endian transcoding that lost PatientName."""
    explicit = request.with_headers(accept=request.headers.get("Accept", "").replace("*", EXPLICIT_VR_LITTLE_ENDIAN))
    return distort_parts(_each_part(_drop_patient_name))(explicit, forward)


def _reversed(parts: list[MimePart]) -> list[MimePart]:
    return parts[::-1]


def serve_one_frame_single_part(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """DW-WADO-126: Orthanc serves frames only as multipart; ask for that, then unwrap the one part."""
    response = forward(request.with_headers(accept=f'multipart/related; type="{OCTET_STREAM}"'))
    if response.status != 200:
        return response
    parts = split_parts(response.body, boundary_of(response.content_type))
    return response.with_body(parts[0].content, OCTET_STREAM)


def not_found_with_a_part(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """Keep a 404, but carry a multipart DICOM representation in it."""
    response = forward(request)
    if response.status != 404:
        return response
    body = join_parts([MimePart((("Content-Type", "application/dicom"),), b"\x00" * 128 + b"DICM")], "fault")
    headers = CaseInsensitiveDict({"Content-Type": 'multipart/related; type="application/dicom"; boundary=fault'})
    return ProxyResponse(404, headers, body)


# --- rendered images --------------------------------------------------------------------------------


def _swap_jpeg_size(body: bytes) -> bytes:
    pos = 2
    while pos + 9 < len(body):
        marker, (length,) = body[pos + 1], struct.unpack(">H", body[pos + 2 : pos + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = body[pos + 5 : pos + 7], body[pos + 7 : pos + 9]
            return body[: pos + 5] + width + height + body[pos + 9 :]
        pos += 2 + length
    return body


def _swap_png_size(body: bytes) -> bytes:
    ihdr = body[16:24][4:] + body[16:24][:4] + body[24:29]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return body[:16] + ihdr + crc + body[33:]


def _swap_image_size(response: ProxyResponse) -> ProxyResponse:
    body = response.body
    swapped = _swap_png_size(body) if body.startswith(b"\x89PNG") else _swap_jpeg_size(body)
    return response.with_body(swapped)


def _not_an_image(response: ProxyResponse) -> ProxyResponse:
    return response.with_body(b"this is not an image")


def _path_to(pattern: str, replacement: str) -> Action:
    return lambda request, forward: forward(replace(request, path=re.sub(pattern, replacement, request.path)))


def _drop_quality(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    return forward(
        replace(request, query="&".join(p for p in request.query.split("&") if not p.startswith("quality=")))
    )


# --- the catalogue ----------------------------------------------------------------------------------


_NEGOTIATION = [
    get_rule(
        "wado-unquoted-type-refused",
        "an unquoted type is served like the quoted one",
        RESOURCE,
        answer(406),
        accept=r"type=application/dicom",
    ),
    get_rule(
        "wado-lowest-q-wins",
        "the highest q value is selected",
        INSTANCE,
        forward_with_accept(lambda entries: min(entries, key=quality)),
        accept=r"q=",
    ),
    get_rule(
        "wado-any-serves-stored-syntax",
        "*/* means the default media type and syntax",
        STUDY,
        rewrite_accept(lambda _: DICOM_ANY_SYNTAX),
        accept=r"^\*/\*$",
    ),
    get_rule(
        "wado-answer-without-type",
        "a multipart answer names its part type",
        RESOURCE,
        distort(_content_type_without_type),
    ),
]

_TRANSFER_SYNTAX = [
    get_rule(
        "wado-ignores-transfer-syntax",
        "the requested or default transfer syntax is served",
        rf"(?:{STUDY})|(?:{INSTANCE})",
        rewrite_accept(_with_any_syntax),
        accept=r"type=\"application/dicom\"(?!.*transfer-syntax=\*)",
    ),
    get_rule(
        "wado-transcoding-changes-pixels",
        "transcoding keeps the pixel data",
        rf"(?:{STUDY})|(?:{INSTANCE})",
        distort_parts(_each_part(_flip_last_byte)),
        accept=r"type=\"application/dicom\"(?!.*transfer-syntax=\*)",
    ),
    get_rule(
        "wado-transcoding-drops-patient-name",
        "transcoding keeps every attribute",
        rf"(?:{STUDY})|(?:{INSTANCE})",
        distort_parts(_each_part(_drop_patient_name)),
        accept=r"type=\"application/dicom\"(?!.*transfer-syntax=\*)",
    ),
    get_rule(
        "wado-any-syntax-transcoding-drops-patient-name",
        "a '*' answer transcoded to Explicit VR Little Endian keeps every attribute",
        INSTANCE,
        any_syntax_transcoded_losing_patient_name,
        accept=r"transfer-syntax=\*",
    ),
    get_rule(
        "wado-unsupported-syntax-served-big-endian",
        "a 200 to an unsupported transfer-syntax comes in the default syntax",
        rf"(?:{STUDY})|(?:{INSTANCE})",
        rewrite_accept(lambda accept: re.sub(UNSUPPORTED_VALUE, EXPLICIT_VR_BIG_ENDIAN, accept)),
        accept=UNSUPPORTED_SYNTAX,
    ),
    get_rule(
        "wado-any-syntax-big-endian",
        "'*' gives the stored file or Explicit VR Little Endian",
        INSTANCE,
        rewrite_accept(_with_big_endian),
        accept=r"transfer-syntax=\*",
    ),
    get_rule(
        "wado-parts-declare-jpeg-baseline",
        "a part's transfer-syntax parameter matches its file meta",
        rf"(?:{STUDY})|(?:{INSTANCE})",
        distort_parts(_each_part(_declare_jpeg_baseline)),
    ),
]

_FRAMES = [
    get_rule("frames-reverses-parts", "frames come in the order requested", ANY_FRAMES, distort_parts(_reversed)),
    get_rule(
        "frames-flips-a-byte-any-accept",
        "each frame is its exact pixel data",
        ANY_FRAMES,
        distort_parts(_each_part(_flip_last_byte)),
    ),
    get_rule(
        "frames-bad-number-404",
        "frame 0 or a negative frame is a bad request",
        ANY_FRAMES,
        status_as(frozenset({400}), 404),
    ),
    get_rule(
        "frames-single-part-many-200",
        "single part holds one frame at most",
        ANY_FRAMES,
        answer(200),
        accept="^application/octet-stream",
    ),
    get_rule(
        "frames-encoded-list-first-only",
        "a %2C frame list returns every frame listed",
        ANY_FRAMES,
        _path_to(r"%2C.*$", ""),
    ),
]

_RENDERED = [
    get_rule(
        "rendered-swaps-width-and-height", "a rendered image is Columns x Rows", RENDERED, distort(_swap_image_size)
    ),
    get_rule("rendered-not-an-image", "a rendered body is the image it claims", RENDERED, distort(_not_an_image)),
    get_rule(
        "rendered-frame-always-first",
        "frames/{n}/rendered shows frame n",
        FRAME_RENDERED,
        _path_to(r"/frames/[^/]+/rendered$", "/frames/1/rendered"),
    ),
    get_rule(
        "rendered-ignores-quality", "quality changes the JPEG", INSTANCE_RENDERED, _drop_quality, query="quality="
    ),
    get_rule(
        "rendered-instance-shows-last-frame",
        "a multi-frame instance renders its first frame",
        INSTANCE_RENDERED,
        _path_to(r"/rendered$", "/frames/3/rendered"),
    ),
]

_NOT_FOUND = [
    get_rule(
        "wado-404-as-400", "a missing resource answers 404", ANY_RETRIEVE, on_status(404, lambda r: r.with_status(400))
    ),
    get_rule("wado-404-with-a-representation", "a 404 carries no representation", ANY_RETRIEVE, not_found_with_a_part),
]

WADO_FAULTS: dict[str, ProxyRule] = {
    rule.name: rule for rule in _NEGOTIATION + _TRANSFER_SYNTAX + _FRAMES + _RENDERED + _NOT_FOUND
}

_REPAIRS = [
    get_rule(
        "repair-wado-q-values",
        "serves the highest-q Accept entry only",
        INSTANCE,
        forward_with_accept(lambda entries: max(entries, key=quality)),
        accept=r"q=",
    ),
    get_rule(
        "repair-wado-accept-list",
        "drops Accept entries Orthanc cannot produce",
        INSTANCE,
        forward_with_accept(lambda entries: ", ".join(e for e in entries if e.startswith("multipart/related"))),
        accept=r",",
    ),
    get_rule("repair-wado-q-zero", "refuses a type offered at q=0", INSTANCE, answer(406), accept=r"q=0(?:[;,\s]|$)"),
    get_rule(
        "repair-wado-not-acceptable",
        "answers 406 where Orthanc answers 400 or 500 to an Accept it cannot serve",
        ANY_RETRIEVE,
        status_as(frozenset({400, 500}), 406),
    ),
    get_rule(
        "repair-wado-forbidden-syntax",
        "ignores a forbidden transfer-syntax (PS3.18 8.7.7) and serves the default, Explicit VR Little Endian",
        INSTANCE,
        rewrite_accept(lambda accept: re.sub(FORBIDDEN_VALUE, EXPLICIT_VR_LITTLE_ENDIAN, accept)),
        accept=FORBIDDEN_SYNTAX,
    ),
    get_rule(
        "repair-wado-unsupported-syntax-as-default",
        "ignores an unsupported transfer-syntax (PS3.18 8.7.7) and serves the default, Explicit VR Little Endian",
        rf"(?:{STUDY})|(?:{INSTANCE})|(?:{ANY_FRAMES})",
        rewrite_accept(lambda accept: re.sub(UNSUPPORTED_VALUE, EXPLICIT_VR_LITTLE_ENDIAN, accept)),
        accept=UNSUPPORTED_SYNTAX,
    ),
    get_rule(
        "repair-wado-part-syntax",
        "names each part's transfer syntax",
        rf"(?:{STUDY})|(?:{INSTANCE})",
        distort_parts(_each_part(_declare_file_meta_syntax)),
    ),
    get_rule(
        "repair-frames-past-the-end",
        "answers 404 for a frame past the end",
        rf"(?:{ANY_FRAMES})|(?:{FRAME_RENDERED})",
        status_as(frozenset({400}), 404),
    ),
    get_rule(
        "repair-frames-single-part",
        "serves one frame as single-part application/octet-stream",
        ANY_FRAMES,
        serve_one_frame_single_part,
        accept=f"^{OCTET_STREAM}",
    ),
    get_rule(
        "repair-frames-type-parameter",
        "names application/octet-stream alone in type",
        ANY_FRAMES,
        distort(_content_type_type_only),
    ),
    get_rule(
        "repair-wado-no-accept", "answers 406 without an Accept header", ANY_RETRIEVE, answer(406), when=without_accept
    ),
    get_rule(
        "repair-facade-several-instances",
        "answers 406 to a study or series without transfer-syntax=*",
        rf"(?:{STUDY})|(?:{SERIES})",
        answer(406),
        accept=r"^(?!.*transfer-syntax=\*)",
    ),
]

WADO_REPAIRS: dict[str, ProxyRule] = {rule.name: rule for rule in _REPAIRS}
