"""Proxy rules for the per-file scenarios (suites/samples/test_sample_files.py). Each fault breaks one promise
those checks verify, on the requests only they make (a sample file's instance, frames, metadata, searches); each
repair hides what Orthanc 1.10.1 does to the files of the fault module's sample folder."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from io import BytesIO

import pydicom

from tests.faults.proxy import Forward, ProxyRequest, ProxyResponse
from tests.faults.rules import (
    INSTANCE,
    INSTANCE_METADATA,
    Json,
    MimePart,
    ProxyRule,
    answer,
    distort,
    distort_each_dataset,
    distort_parts,
    get_rule,
    on_status,
    search_by_patient_id_only,
)
from tests.faults.rules_wado import ANY_FRAMES, INSTANCE_RENDERED

EXPLICIT_VR_BIG_ENDIAN = "1.2.840.10008.1.2.2"
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70"
PIXEL_DATA = "7FE00010"
_NO_SYNTAX = r"^(?!.*transfer-syntax)"
_ANY_SYNTAX = r"transfer-syntax=\*"
# A frame media type asked for with a syntax it cannot hold (PS3.18 Table 8.7.3-4): image/jp2 with anything but
# JPEG 2000, image/jls with anything but JPEG-LS.
_MISMATCH = (
    r'type="?image/(?:jp2"?; transfer-syntax=(?!1\.2\.840\.10008\.1\.2\.4\.9[0-3])'
    r'|jls"?; transfer-syntax=(?!1\.2\.840\.10008\.1\.2\.4\.8[01]))'
)
_NATURAL_TYPE = r'type="?image/(?:jpeg|jls|jp2|dicom-rle)'
# Frames asked for in JPEG-LS lossless or JPEG 2000 lossless, each in its own media type (DW-DATA-013).
_IN_JPEG_LS = r'type="?image/jls"?; transfer-syntax=1\.2\.840\.10008\.1\.2\.4\.80'
_IN_JPEG_2000 = r'type="?image/jp2"?; transfer-syntax=1\.2\.840\.10008\.1\.2\.4\.90'
_TRANSCODED = rf"(?:{_IN_JPEG_LS})|(?:{_IN_JPEG_2000})"
_UID_SEARCH = r"(?:StudyInstanceUID|SeriesInstanceUID|SOPInstanceUID)="
_SEARCHES = r"/(?:studies|series|instances)$"


def _garble_second_half(part: MimePart) -> MimePart:
    # Half the frame, not one byte: one flipped byte in a lossy JPEG can stay within the decoder allowance the check
    # grants (rgb_jpeg_baseline: at most 11 off). The last two bytes (a JPEG's EOI marker) are kept.
    middle = len(part.content) // 2
    garbled = bytes(byte ^ 0x5A for byte in part.content[middle:-2])
    return part.with_content(part.content[:middle] + garbled + part.content[-2:])


def _each_part(change: Callable[[MimePart], MimePart]) -> Callable[[list[MimePart]], list[MimePart]]:
    return lambda parts: [change(part) for part in parts]


def _without_patient_name(part: MimePart) -> MimePart:
    """The part re-written in its own transfer syntax, without PatientName: not the stored file any more."""
    dataset = pydicom.dcmread(BytesIO(part.content))
    del dataset.PatientName
    written = BytesIO()
    dataset.save_as(written)
    return part.with_content(written.getvalue())


def _declare_syntax(syntax: str) -> Callable[[MimePart], MimePart]:
    def declare(part: MimePart) -> MimePart:
        kind = part.content_type.split(";")[0].strip()
        return part.with_content_type(f"{kind}; transfer-syntax={syntax}")

    return declare


def _as_stored_frames(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """Serve the stored representation whatever was asked: a server that ignores the Accept's media type."""
    return forward(request.with_headers(accept='multipart/related; type="application/octet-stream"; transfer-syntax=*'))


def _stored_frames_declared_as_asked(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """The stored bitstream served, each part declared in the media type and syntax the Accept asked for."""
    asked = re.search(r'type="?([\w/+.-]+)"?; transfer-syntax=([\d.]+)', request.headers.get("Accept", ""))
    assert asked is not None, f"the rule matched an Accept without a type and syntax: {request.headers}"
    declared = f"{asked.group(1)}; transfer-syntax={asked.group(2)}"
    relabel = distort_parts(_each_part(lambda part: part.with_content_type(declared)))
    return relabel(request, lambda asked_request: _as_stored_frames(asked_request, forward))


def _in_explicit_little_endian(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """The frames served uncompressed, honestly labelled: not the syntax asked for."""
    accept = f'multipart/related; type="application/octet-stream"; transfer-syntax={EXPLICIT_VR_LITTLE_ENDIAN}'
    return forward(request.with_headers(accept=accept))


def _in_big_endian(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """A default retrieve answered in Explicit VR Big Endian (PS3.18 8.7.3: retired, and not the default)."""
    accept = f"{request.headers.get('Accept', '')}; transfer-syntax={EXPLICIT_VR_BIG_ENDIAN}"
    return forward(request.with_headers(accept=accept))


def _drop_patient_name(dataset: dict[str, Json]) -> dict[str, Json]:
    return {key: value for key, value in dataset.items() if key != "00100010"}


def _repeat_first_match(response: ProxyResponse) -> ProxyResponse:
    matches = json.loads(response.body)
    return response.with_body(json.dumps(matches + matches[:1]).encode()) if matches else response


def _with_pixel_data_uri(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """Orthanc 1.10.1 leaves encapsulated Pixel Data out of an instance's metadata; PS3.18 10.4.3.3.2 wants it as a
    BulkDataURI. Encapsulated Pixel Data is OB (PS3.5 A.4)."""
    uri = f"http://{request.headers.get('Host', '')}{request.path.removesuffix('/metadata')}/bulk/7fe00010"

    def added(dataset: dict[str, Json]) -> dict[str, Json]:
        if PIXEL_DATA in dataset:
            return dataset
        return dataset | {PIXEL_DATA: {"vr": "OB", "BulkDataURI": uri}}

    return distort_each_dataset(added)(request, forward)


SAMPLE_FAULTS: dict[str, ProxyRule] = {
    rule.name: rule
    for rule in [
        ProxyRule(
            "sample-stow-500", "a valid file is stored", "POST", r"/studies$", answer(500), content_type="^multipart"
        ),
        # Not a flipped pixel byte: the check decodes a returned compressed file unguarded, so a corrupt bitstream
        # there is a SUITE-ERROR, not a FAIL (reported to the lead; suites/samples/test_sample_files.py).
        get_rule(
            "sample-any-syntax-drops-patient-name",
            "transfer-syntax=* answers the stored file",
            INSTANCE,
            distort_parts(_each_part(_without_patient_name)),
            accept=_ANY_SYNTAX,
        ),
        get_rule(
            "sample-default-syntax-500",
            "a default retrieve is never a server error",
            INSTANCE,
            answer(500),
            accept=_NO_SYNTAX,
        ),
        get_rule(
            "sample-default-syntax-big-endian",
            "a default retrieve is Explicit VR Little Endian",
            INSTANCE,
            _in_big_endian,
            accept=_NO_SYNTAX,
        ),
        get_rule(
            "sample-metadata-drops-patient-name",
            "metadata is the file's DICOM JSON",
            INSTANCE_METADATA,
            distort_each_dataset(_drop_patient_name),
        ),
        get_rule(
            "sample-uid-search-repeats-a-match",
            "a UID search finds exactly the stored entity",
            _SEARCHES,
            distort(_repeat_first_match),
            query=_UID_SEARCH,
        ),
        get_rule(
            "sample-attribute-search-finds-nothing",
            "a search by the file's attributes finds it",
            _SEARCHES,
            distort(lambda response: response.with_body(b"[]")),
            query=r"PatientID=",
        ),
        get_rule(
            "sample-frames-garbled",
            "each frame decodes to the stored frame",
            ANY_FRAMES,
            distort_parts(_each_part(_garble_second_half)),
        ),
        get_rule(
            "sample-frames-default-500",
            "default frames are never a server error",
            ANY_FRAMES,
            answer(500),
            accept=_NO_SYNTAX,
        ),
        get_rule(
            "sample-natural-frames-mislabelled",
            "a part's transfer-syntax is the syntax of its bytes",
            ANY_FRAMES,
            distort_parts(_each_part(_declare_syntax(JPEG_LOSSLESS_SV1))),
            accept=_NATURAL_TYPE,
        ),
        get_rule(
            "sample-mismatch-served",
            "a media type with a syntax it cannot hold is refused",
            ANY_FRAMES,
            _as_stored_frames,
            accept=_MISMATCH,
        ),
        get_rule(
            "sample-transcoded-500",
            "frames asked for in another syntax are never a server error",
            ANY_FRAMES,
            answer(500),
            accept=_TRANSCODED,
        ),
        get_rule(
            "sample-transcoded-jpeg-ls-refused",
            "a claimed transcoding (JPEG-LS) is made, not refused",
            ANY_FRAMES,
            answer(406),
            accept=_IN_JPEG_LS,
        ),
        get_rule(
            "sample-transcoded-stored-bitstream-declared",
            "a part declared in the syntax asked for holds that syntax",
            ANY_FRAMES,
            _stored_frames_declared_as_asked,
            accept=_TRANSCODED,
        ),
        get_rule(
            "sample-transcoded-uncompressed",
            "frames asked for in a syntax come back in it",
            ANY_FRAMES,
            _in_explicit_little_endian,
            accept=_TRANSCODED,
        ),
        get_rule(
            "sample-rendered-not-an-image",
            "a rendered body is the image it claims",
            INSTANCE_RENDERED,
            distort(lambda response: response.with_body(b"this is not an image")),
        ),
    ]
}

# Hide what Orthanc 1.10.1 does to the fault module's sample files, so the checks it breaks can be seen passing.
SAMPLE_REPAIRS: dict[str, ProxyRule] = {
    rule.name: rule
    for rule in [
        get_rule(
            "repair-sample-pixel-data-uri",
            "gives encapsulated Pixel Data its BulkDataURI in the metadata",
            INSTANCE_METADATA,
            _with_pixel_data_uri,
        ),
        # Orthanc does not percent-decode query values (DW-QIDO-170), and the proxy cannot forward a raw '^': requests
        # quotes it again. PatientID alone names the file's study here (the run id is in it).
        # Orthanc 1.10.1 encodes no JPEG 2000 and answers 500 (targets/orthanc.toml, DW-DATA-013); a target that
        # does not claim the transcoding may answer 406 (PS3.18 8.7.8.1 step 5).
        get_rule(
            "repair-sample-jpeg-2000-refused",
            "answers 406 where Orthanc answers 500 to frames asked for in JPEG 2000",
            ANY_FRAMES,
            on_status(500, lambda response: ProxyResponse(406)),
            accept=_IN_JPEG_2000,
        ),
        get_rule(
            "repair-sample-patient-name",
            "searches by PatientID alone",
            _SEARCHES,
            search_by_patient_id_only,
            query="PatientName=",
        ),
    ]
}
