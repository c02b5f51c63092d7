"""What OHIF Viewer v3 sends through its DICOMweb data source, and what it needs of each answer to work.

Read from OHIF/Viewers (extensions/default/src/DicomWebDataSource: index.ts @03247f58, qido.js @00f012e7,
wado/retrieveMetadataLoaderAsync.js @03225b3d, wado/retrieveMetadataLoaderSync.js @52660755; platform/core/src/utils/
generateAcceptHeader.ts @0f1390a8; extensions/cornerstone/src/initWADOImageLoader.js @03225b3d) and from the JS
dicomweb-client it calls (@ohif/extension-default 3.12.0-beta.29 asks for dicomweb-client ^0.10.4: 0.10.4,
build/dicomweb-client.js). Searches, metadata and stores go through the JS client: `_httpRequest` resolves 200, 202
and 204 (204 as []) and rejects anything else; a JSON body it cannot parse is null, which OHIF treats as no result.
Frames are fetched by cornerstone's dicom-image-loader with OHIF's beforeSend Accept and read by it: `frame_of` uses
the cornerstone profile's port of the loader (checks/clients_cornerstone.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from dicomweb_conformance.checks.clients_cornerstone import read_frame, transfer_syntax_for_content_type
from dicomweb_conformance.checks.common import fail, status_line

CLIENT = "OHIF v3 (dicomweb-client 0.10.4)"
# dicomweb-client 0.10.4 _httpGetApplicationJson: every search and metadata request, nothing else (OHIF adds only
# an Authorization header: index.ts getAuthorizationHeader / generateWadoHeader(excludeTransferSyntax)).
ACCEPT_JSON = "application/dicom+json"
# qido.js mapParams: the study list's includefield, one comma-joined string.
STUDY_LIST_FIELDS = "00081030,00080060,00080090,00100030"
# qido.js seriesInStudy: the series list's includefield.
SERIES_LIST_FIELDS = "0008103E,00080021"
# qido.js mapParams: limit 101 (one more than a page window, to tell "more than 100"), offset a multiple of 100.
STUDY_LIST_LIMIT = 101
# generateAcceptHeader.ts with no acceptHeader / requestTransferSyntaxUID: quoted unless the data source sets
# omitQuotationForMultipartRequest (OHIF's own Orthanc configs, local_orthanc.js and docker-nginx-orthanc.js, do).
ACCEPT_FRAMES = {
    "quoted": 'multipart/related; type="application/octet-stream"; transfer-syntax="*"',
    "unquoted": "multipart/related; type=application/octet-stream; transfer-syntax=*",
}
# index.ts store.dicom -> dicomweb-client 0.10.4 storeInstances / multipartEncode: a fresh guid() boundary, quoted.
STOW_TYPE = 'multipart/related; type="application/dicom"; boundary="{boundary}"'
# What `_httpRequest` resolves; every other status rejects and OHIF's HTTP error handler takes over.
RESOLVED = (200, 202, 204)

NATIVE_SYNTAXES = ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1")
# The first bytes a decoder needs: a JPEG SOI marker, a JPEG 2000 codestream SOC+SIZ.
CODESTREAM_START = {"1.2.840.10008.1.2.4.9": b"\xff\x4f\xff\x51", "1.2.840.10008.1.2.4.": b"\xff\xd8"}


def encode_query(params: Sequence[tuple[str, object]]) -> str:
    """dicomweb-client 0.10.4 `_parseQueryParameters`: `key=encodeURIComponent(value)` in insertion order, so a comma
    becomes %2C, a backslash %5C, a caret %5E; a JS boolean is `true` / `false`."""
    return "&".join(f"{key}={quote(_js_string(value), safe=_UNESCAPED)}" for key, value in params)


_UNESCAPED = "-_.!~*'()"  # what encodeURIComponent leaves as it is, besides letters and digits


def _js_string(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)  # String(array)
    return str(value)


def study_list_query(
    *,
    patient_name: str | None = None,
    patient_id: str | None = None,
    modalities: Sequence[str] | None = None,
    offset: int = 0,
    study_uids: Sequence[str] | None = None,
) -> str:
    """qido.js `mapParams` as the study list calls it, the keys in its order; the caller passes values already
    wildcarded (`*x*`) where the data source claims supportsWildcard. fuzzymatching is false unless the data source
    sets supportsFuzzyMatching."""
    params: list[tuple[str, object]] = []
    if patient_name:
        params.append(("PatientName", patient_name))
    if patient_id:
        params.append(("00100020", patient_id))
    if modalities:
        params.append(("ModalitiesInStudy", list(modalities)))
    params += [("limit", STUDY_LIST_LIMIT), ("offset", offset), ("fuzzymatching", False)]
    params.append(("includefield", STUDY_LIST_FIELDS))
    if study_uids:
        # mapParams: `studyUids.join().replace(/[^0-9.]+/g, '\\')`: a backslash between the UIDs.
        params.append(("StudyInstanceUID", "\\".join(study_uids)))
    return "studies?" + encode_query(params)


def series_list_query(study_uid: str) -> str:
    """qido.js `seriesInStudy`."""
    return f"studies/{study_uid}/series?" + encode_query([("includefield", SERIES_LIST_FIELDS)])


# --- what the client does with an answer ---------------------------------------------------------------------------


def resolve(response: requests.Response, what: str) -> None:
    """`_httpRequest`: 200, 202 and 204 resolve; any other status rejects (the user sees an error, not data)."""
    if response.status_code not in RESOLVED:
        raise fail(
            f"{what}: dicomweb-client rejects the promise; {CLIENT} shows an error",
            expected="200, 202 or 204 (_httpRequest)",
            actual=status_line(response),
            response=response,
        )


def json_datasets(response: requests.Response, what: str) -> list[dict[str, Any]]:
    """What OHIF gets from a search or metadata request: 204 is [], a body XHR cannot parse as JSON is null and a
    JSON value that is not an array has no length, both of which OHIF treats as no result (qido.js processResults)."""
    resolve(response, what)
    if response.status_code == 204 or not response.content:
        return []
    try:
        decoded = json.loads(response.content.decode("utf-8"))
    except ValueError:
        return []
    if not isinstance(decoded, list):
        return []
    return [item for item in decoded if isinstance(item, dict)]


def values(dataset: dict[str, Any], tag: str) -> list[Any]:
    return list((dataset.get(tag) or {}).get("Value") or [])


def get_string(dataset: dict[str, Any], tag: str) -> str:
    """DICOMWeb.getString: the values joined by a backslash; '' when absent."""
    return "\\".join(str(v) for v in values(dataset, tag))


def has_value(dataset: Any, tag: str) -> bool:
    """The tag holds a value here or in any nested sequence item (functional groups of an enhanced image)."""
    if isinstance(dataset, dict):
        if values(dataset, tag):
            return True
        sequences = [e for e in dataset.values() if isinstance(e, dict) and e.get("vr") == "SQ"]
        return any(has_value(item, tag) for element in sequences for item in element.get("Value") or [])
    return False


def require(condition: bool, summary: str, *, expected: Any, actual: Any, response: requests.Response) -> None:
    if not condition:
        raise fail(f"{summary}; {CLIENT} cannot show it", expected=expected, actual=actual, response=response)


# --- frames, as cornerstone's dicom-image-loader reads them ---------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    content_type: str
    transfer_syntax: str
    pixel_data: bytes


def frame_of(response: requests.Response, what: str) -> Frame:
    """The frame and syntax cornerstone's loader gets from the answer: clients_cornerstone's port of xhrRequest,
    extractMultipart and getTransferSyntaxForContentType (@cornerstonejs/dicom-image-loader 5.14.0, proven against
    the published JS by tests/integration/test_cornerstone_parsing_agrees.py)."""
    extracted = read_frame(response, what)
    syntax = transfer_syntax_for_content_type(extracted.content_type)
    return Frame(extracted.content_type or "", syntax, extracted.pixel_data)


def check_frame(frame: Frame, stored_syntax: str, native_size: int, what: str, response: requests.Response) -> None:
    """The decoder cornerstone picks from the syntax must get its data: native bytes of the frame's size, or the
    stored compressed codestream under the stored syntax."""
    shown = f"part type {frame.content_type!r} -> {frame.transfer_syntax}, {len(frame.pixel_data)} bytes"
    if frame.transfer_syntax in NATIVE_SYNTAXES:
        ok = len(frame.pixel_data) == native_size
        expected: Any = f"{native_size} bytes of native pixel data"
    else:
        start = next((v for k, v in CODESTREAM_START.items() if frame.transfer_syntax.startswith(k)), b"")
        ok = frame.transfer_syntax == stored_syntax and frame.pixel_data.startswith(start) and bool(frame.pixel_data)
        expected = f"the stored {stored_syntax} codestream, or native pixel data"
    if not ok:
        raise fail(
            f"{what}: the decoder gets other data; {CLIENT} shows no image",
            expected=expected,
            actual=shown,
            response=response,
        )
