"""STOW-RS: POST /vN/studies[/{study}] as the Azure DICOM service answers it (reference 1.1, 2.1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydicom import dcmread
from pydicom.dataset import Dataset

from tests.doubles.facade.changefeed import InstanceKey
from tests.doubles.facade.media import accepts_dicom_json, parse_media_type
from tests.doubles.facade.messages import Request, Response, empty, json_body, text
from tests.doubles.facade.multipart import Part, read_parts, spool
from tests.doubles.facade.orthanc_api import OrthancRejected
from tests.doubles.facade.state import FacadeState
from tests.doubles.facade.uids import is_valid_uid

# FailureReason values (reference 1.1; PS3.18 Annex I.2.2).
PROCESSING_FAILURE = 272  # 0x0110: the file could not be parsed
VALIDATION_FAILED = 43264  # 0xA900
ALREADY_EXISTS = 45070  # 0xB00E, Azure-specific
# WarningReason (PS3.18 Annex I.2.1): Azure sets 0xB007 for implicit VR input (StoreDatasetValidator.cs,
# ImplicitValueRepresentationValidator.cs at eeefbe4d7; reference 1.1).
DATASET_DOES_NOT_MATCH_SOP_CLASS = 45063
IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"

REQUIRED_UIDS = {
    "StudyInstanceUID": "(0020,000D)",
    "SeriesInstanceUID": "(0020,000E)",
    "SOPInstanceUID": "(0008,0018)",
    "SOPClassUID": "(0008,0016)",
}
DICOM_JSON = "application/dicom+json"


@dataclass
class Outcome:
    sop_class: str | None
    sop_instance: str | None
    failure: int | None = None
    comment: str | None = None
    retrieve_url: str | None = None
    warning: int | None = None


class UnsupportedMediaType(Exception):
    pass


def post_studies(request: Request, state: FacadeState) -> Response:
    if not accepts_dicom_json(request.headers.get("Accept")):
        # AcceptContentFilterAttribute answers 406 with an empty body (reference 1.0).
        return empty(406)
    path_study = request.segments[1] if len(request.segments) > 1 else None
    if path_study is not None and not is_valid_uid(path_study):
        return text(400, f"The specified StudyInstanceUID '{path_study}' is invalid.")
    try:
        parts = _read_request_parts(request)
    except UnsupportedMediaType as error:
        return text(415, str(error))
    except ValueError as error:
        return text(400, f"The request body could not be read: {error}")
    if not parts:
        return empty(204)
    try:
        outcomes = [_store(part, path_study, request, state) for part in parts]
    finally:
        for part in parts:
            part.close()
    return _response(outcomes, path_study, request)


def _read_request_parts(request: Request) -> list[Part]:
    content_type = request.headers.get("Content-Type")
    if content_type is None:
        raise UnsupportedMediaType("The request has no Content-Type.")
    media_type, params = parse_media_type(content_type)
    if media_type == "application/dicom":
        # The non-standard single-part STOW: the body is one Part 10 file (reference 1.1).
        return [spool(request.body)]
    if media_type != "multipart/related":
        raise UnsupportedMediaType(f"The content type '{media_type}' is not supported.")
    if not params.get("boundary"):
        raise UnsupportedMediaType("The multipart/related request has no boundary.")
    if "start" in params:
        # AspNetCoreMultipartReader rejects the start parameter as not supported (reference 1.1).
        raise ValueError("the 'start' parameter is not supported")
    parts = read_parts(request.body, params["boundary"])
    for index, part in enumerate(parts):
        part_type = part.headers.get("Content-Type")
        if part_type is None and index == 0:
            # RFC 2387 3.1: the type parameter names the root (first) part's type.
            part_type = params.get("type")
        if part_type is None or parse_media_type(part_type)[0] != "application/dicom":
            for opened in parts:
                opened.close()
            # Every part must be application/dicom, else the whole request is 415 (reference 1.1).
            raise UnsupportedMediaType(f"The content type '{part_type}' of part {index + 1} is not supported.")
    return parts


def _uid(dataset: Dataset, keyword: str) -> str | None:
    """The raw value, read without pydicom's value conversion (and its validation warnings)."""
    element = dataset.get_item(keyword)
    if element is None:
        return None
    raw = element.value
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", errors="replace")
    if not isinstance(raw, str):
        return ""
    # Trailing spaces and NULs pad UIDs to even length and are not part of the value (PS3.5 9.1).
    return raw.rstrip(" \0")


def _store(part: Part, path_study: str | None, request: Request, state: FacadeState) -> Outcome:
    try:
        dataset = dcmread(part.content, stop_before_pixels=True, specific_tags=list(REQUIRED_UIDS))
    except Exception:
        # Whatever pydicom raises, the file is not a parseable Part 10 file.
        return Outcome(None, None, PROCESSING_FAILURE)
    uids = {keyword: _uid(dataset, keyword) for keyword in REQUIRED_UIDS}
    outcome = Outcome(uids["SOPClassUID"], uids["SOPInstanceUID"])
    for keyword, tag in REQUIRED_UIDS.items():
        value = uids[keyword]
        if value is None:
            outcome.failure, outcome.comment = VALIDATION_FAILED, f"The required tag '{tag}' is missing."
            return outcome
        if not is_valid_uid(value):
            outcome.failure = VALIDATION_FAILED
            outcome.comment = f'DICOM100: {tag} - Content "{value}" does not validate VR UI: value is not a valid UID'
            return outcome
    key = InstanceKey(str(uids["StudyInstanceUID"]), str(uids["SeriesInstanceUID"]), str(uids["SOPInstanceUID"]))
    if path_study is not None and key.study != path_study:
        # Docs say 43265 for a study mismatch; the code and E2E tests give 43264 (reference 1.12, item 1).
        outcome.failure = VALIDATION_FAILED
        outcome.comment = "The StudyInstanceUid in the payload does not match the specified StudyInstanceUid."
        return outcome
    part.content.seek(0)
    with state.write_lock:
        if state.orthanc.instance_exists(key.sop):
            outcome.failure = ALREADY_EXISTS
            return outcome
        try:
            stored = state.orthanc.store(part.content, part.size)
        except OrthancRejected:
            outcome.failure = PROCESSING_FAILURE
            return outcome
        if stored.already_stored:
            outcome.failure = ALREADY_EXISTS
            return outcome
        state.feed.record_create(key, state.orthanc.instance_metadata(*key))
    outcome.retrieve_url = request.versioned_url(f"studies/{key.study}/series/{key.series}/instances/{key.sop}")
    if getattr(dataset.file_meta, "TransferSyntaxUID", None) == IMPLICIT_VR_LITTLE_ENDIAN:
        outcome.warning = DATASET_DOES_NOT_MATCH_SOP_CLASS
    return outcome


def _attribute(vr: str, *values: object) -> dict[str, Any]:
    return {"vr": vr, "Value": list(values)}


def _item(outcome: Outcome) -> dict[str, Any]:
    item: dict[str, Any] = {}
    if outcome.sop_class:
        item["00081150"] = _attribute("UI", outcome.sop_class)
    if outcome.sop_instance:
        item["00081155"] = _attribute("UI", outcome.sop_instance)
    if outcome.retrieve_url is not None:
        item["00081190"] = _attribute("UR", outcome.retrieve_url)
    if outcome.warning is not None:
        item["00081196"] = _attribute("US", outcome.warning)
    if outcome.failure is not None:
        item["00081197"] = _attribute("US", outcome.failure)
    if outcome.comment is not None:
        # FailedAttributesSequence > ErrorComment, as Azure reports validation failures (reference 1.1).
        item["00741048"] = _attribute("SQ", {"00000902": _attribute("LO", outcome.comment)})
    return item


def _response(outcomes: list[Outcome], path_study: str | None, request: Request) -> Response:
    stored = [outcome for outcome in outcomes if outcome.failure is None]
    failed = [outcome for outcome in outcomes if outcome.failure is not None]
    dataset: dict[str, Any] = {}
    if path_study is not None and stored:
        # Top-level RetrieveURL only for /studies/{study} with at least one success (reference 1.1).
        dataset["00081190"] = _attribute("UR", request.versioned_url(f"studies/{path_study}"))
    if failed:
        dataset["00081198"] = _attribute("SQ", *(_item(outcome) for outcome in failed))
    if stored:
        dataset["00081199"] = _attribute("SQ", *(_item(outcome) for outcome in stored))
    # From v2 on, a WarningReason on any stored instance makes the answer 202 too (StoreService.cs
    # returnWarning202, StoreResponseBuilder.BuildResponse at eeefbe4d7; reference 1.1).
    warned = request.version != "1" and any(outcome.warning is not None for outcome in stored)
    status = 409 if not stored else 202 if failed or warned else 200
    return json_body(status, dataset, DICOM_JSON)
