"""Proxy rules for the dicomweb-client profile (suites/clients/test_client_dicomweb_client.py). Each fault breaks one
thing the client needs of an answer, on the requests only the profile's checks make (the client's Accept list, its
STOW boundary, the PatientID of its empty search); each repair hides one of Orthanc 1.10.1's four declared failures
(targets/orthanc.toml, CL-DWC-*), so the checks it blocks can be seen passing."""

from __future__ import annotations

import re
from io import BytesIO

from PIL import Image
from requests.structures import CaseInsensitiveDict

from dicomweb_conformance.checks.clients import ACCEPT_DICOM_ANY, ACCEPT_FRAMES_ANY, STOW_BOUNDARY
from tests.faults.proxy import Forward, ProxyRequest, ProxyResponse
from tests.faults.rules import (
    INSTANCE,
    INSTANCE_METADATA,
    REFERENCED_SOP_SEQUENCE,
    SERIES,
    SERIES_METADATA,
    STUDIES,
    STUDY,
    STUDY_METADATA,
    STUDY_SERIES,
    Json,
    MimePart,
    ProxyRule,
    answer,
    distort,
    distort_json,
    distort_parts,
    drop_last,
    get_rule,
    json_answer,
    lf_only_multipart,
    on_first_part,
    on_status,
    repeat_last,
    store_nothing,
    with_content_type,
    without_boundary,
    without_offset,
)
from tests.faults.rules_wado import ANY_FRAMES, INSTANCE_RENDERED

# The client's own Accept of every search and metadata request (checks/clients.py ACCEPT_JSON); the suite's own
# searches (waiting for stored instances) ask for application/dicom+json alone.
_CLIENT_JSON = r"^application/dicom\+json, application/json$"
_DICOM_PARTS = r'type="?application/dicom"?'
_DEFAULT_DICOM = r'type="?application/dicom"?$'  # no transfer-syntax: the default of retrieve_study / _series
_ANY_FRAMES_TYPE = r'type="?\*/\*"?'
_STOW = re.escape(STOW_BOUNDARY)
_METADATA = rf"(?:{STUDY_METADATA})|(?:{SERIES_METADATA})|(?:{INSTANCE_METADATA})"
_STUDY_OR_SERIES = rf"(?:{STUDY})|(?:{SERIES})"
_SERIES_OR_INSTANCE = rf"(?:{SERIES})|(?:{INSTANCE})"
_RESOURCE = rf"(?:{STUDY})|(?:{SERIES})|(?:{INSTANCE})"


def _not_json(response: ProxyResponse) -> ProxyResponse:
    return response.with_body(b"<NativeDicomModel/>", "application/dicom+xml")


def _garble_dicm_prefix(part: MimePart) -> MimePart:
    # PS3.10 7.1: the 128-byte preamble is followed by "DICM"; pydicom.dcmread without force rejects the file.
    return part.with_content(part.content[:128] + b"XXXX" + part.content[132:])


def _empty_parts(parts: list[MimePart]) -> list[MimePart]:
    return [part.with_content(b"") for part in parts]


def _drop_references(document: Json) -> Json:
    dataset = document[0] if isinstance(document, list) else document
    dataset.pop(REFERENCED_SOP_SEQUENCE, None)
    return document


def _empty_image(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    return ProxyResponse(200, CaseInsensitiveDict({"Content-Type": "image/jpeg"}), b"")


def _small_jpeg() -> bytes:
    written = BytesIO()
    Image.new("L", (8, 8), 128).save(written, format="JPEG")
    return written.getvalue()


def _rendered_stand_in(response: ProxyResponse) -> ProxyResponse:
    return ProxyResponse(200, CaseInsensitiveDict({"Content-Type": "image/jpeg"}), _small_jpeg())


CLIENT_FAULTS: dict[str, ProxyRule] = {
    rule.name: rule
    for rule in [
        get_rule(
            "dwc-search-not-json",
            "a study search answers JSON (response.json())",
            STUDIES,
            distort(_not_json),
            accept=_CLIENT_JSON,
            query=r"StudyInstanceUID=",
        ),
        get_rule(
            "dwc-search-finds-nothing",
            "a study search by its UID holds the study",
            STUDIES,
            distort(lambda response: response.with_body(b"[]")),
            accept=_CLIENT_JSON,
            query=r"StudyInstanceUID=",
        ),
        get_rule(
            "dwc-empty-search-404",
            "a search matching nothing is 2xx",
            STUDIES,
            answer(404),
            accept=_CLIENT_JSON,
            query=r"PatientID=NOSUCH-",
        ),
        get_rule(
            "dwc-empty-search-a-dataset",
            "a search matching nothing holds no dataset",
            STUDIES,
            json_answer([{}]),
            accept=_CLIENT_JSON,
            query=r"PatientID=NOSUCH-",
        ),
        get_rule(
            "dwc-paging-offset-ignored",
            "a page at an offset starts there (the client pages until an empty one)",
            STUDY_SERIES,
            without_offset,
            accept=_CLIENT_JSON,
            query=r"offset=",
        ),
        get_rule(
            "dwc-paging-repeats-a-match",
            "the pages hold each series once",
            STUDY_SERIES,
            distort_json(repeat_last),
            accept=_CLIENT_JSON,
            query=r"offset=",
        ),
        get_rule(
            "dwc-metadata-drops-a-dataset",
            "metadata holds every instance's dataset",
            _METADATA,
            distort_json(drop_last),
            accept=_CLIENT_JSON,
        ),
        get_rule(
            "dwc-metadata-not-json",
            "metadata answers JSON",
            _METADATA,
            distort(_not_json),
            accept=_CLIENT_JSON,
        ),
        get_rule(
            "dwc-retrieve-drops-a-part",
            "a retrieve holds a part per instance",
            _RESOURCE,
            distort_parts(drop_last),
            accept=_DICOM_PARTS,
        ),
        get_rule(
            "dwc-retrieve-part-not-part-10",
            "every part is a Part 10 stream (preamble, DICM)",
            _RESOURCE,
            distort_parts(on_first_part(_garble_dicm_prefix)),
            accept=_DICOM_PARTS,
        ),
        get_rule(
            "dwc-instance-part-repeated",
            "retrieve_instance gets one part",
            INSTANCE,
            distort_parts(repeat_last),
            accept=_DICOM_PARTS,
        ),
        get_rule(
            "dwc-multipart-without-boundary",
            "a multipart answer names its boundary",
            _SERIES_OR_INSTANCE,
            distort(without_boundary),
            accept=_DICOM_PARTS,
        ),
        get_rule(
            "dwc-multipart-lf-only",
            "a multipart answer is framed with CRLF",
            _SERIES_OR_INSTANCE,
            distort(lf_only_multipart),
            accept=_DICOM_PARTS,
        ),
        get_rule(
            "dwc-frames-drop-a-part",
            "frames hold a part per frame",
            ANY_FRAMES,
            distort_parts(drop_last),
        ),
        get_rule(
            "dwc-frames-empty-parts",
            "every frame part holds the frame",
            ANY_FRAMES,
            distort_parts(_empty_parts),
        ),
        get_rule(
            "dwc-rendered-empty-body",
            "a rendered answer holds the image",
            INSTANCE_RENDERED,
            _empty_image,
        ),
        get_rule(
            "dwc-rendered-500",
            "a rendered answer is 2xx",
            INSTANCE_RENDERED,
            answer(500),
        ),
        ProxyRule(
            "dwc-stow-stores-nothing",
            "store_instances stores what it sends",
            "POST",
            rf"{STUDIES}",
            store_nothing,
            content_type=_STOW,
        ),
        ProxyRule("dwc-stow-500", "store_instances is 2xx", "POST", STUDIES, answer(500), content_type=_STOW),
        ProxyRule(
            "dwc-stow-response-other-type",
            "the STOW answer is exactly application/dicom+json or application/json",
            "POST",
            STUDIES,
            with_content_type("application/dicom+json; charset=utf-8"),
            content_type=_STOW,
        ),
        ProxyRule(
            "dwc-stow-response-no-references",
            "the STOW answer lists the stored instance",
            "POST",
            STUDIES,
            distort_json(_drop_references),
            content_type=_STOW,
        ),
    ]
}

# Hide Orthanc 1.10.1's failures of the client's defaults (targets/orthanc.toml, CL-DWC-*).
CLIENT_REPAIRS: dict[str, ProxyRule] = {
    rule.name: rule
    for rule in [
        # 400 to type="*/*" (the client's default for frames): asks for the frames as stored instead.
        get_rule(
            "repair-dwc-frames-as-stored",
            'asks for type="application/octet-stream"; transfer-syntax=* where the client asks for type="*/*"',
            ANY_FRAMES,
            lambda request, forward: forward(request.with_headers(accept=ACCEPT_FRAMES_ANY)),
            accept=_ANY_FRAMES_TYPE,
        ),
        # 500 to a default retrieve of a study or series holding JPEG 2000 (no decoder): asks for the stored syntax.
        get_rule(
            "repair-dwc-retrieve-as-stored",
            "asks for transfer-syntax=* where the client asks for the default syntax",
            _STUDY_OR_SERIES,
            lambda request, forward: forward(request.with_headers(accept=ACCEPT_DICOM_ANY)),
            accept=_DEFAULT_DICOM,
        ),
        # 400 to rendering the JPEG 2000 instance (no decoder): a stand-in JPEG.
        get_rule(
            "repair-dwc-rendered-stand-in",
            "answers a small JPEG where Orthanc answers 400 to a rendered instance",
            INSTANCE_RENDERED,
            on_status(400, _rendered_stand_in),
        ),
    ]
}
