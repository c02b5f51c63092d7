"""Proxy rules for the STOW-RS depth and bad-input checks (suites/stow/test_stow_{response,failures,media_types,
large}.py, suites/robustness/test_bad_input.py). Each fault breaks one promise those checks verify; each repair
hides one deviation Orthanc 1.10.1 + DICOMweb 1.7 (or the Azure facade in front of it) shows, so the check it
blocks can be seen passing.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import replace
from io import BytesIO

import pydicom
from requests.structures import CaseInsensitiveDict

from dicomweb_conformance.checks.stow import HANG_TIMEOUT
from tests.faults.proxy import Forward, ProxyRequest, ProxyResponse
from tests.faults.rules import (
    ALL_INSTANCES,
    DICOM_JSON,
    FAILED_SOP_SEQUENCE,
    FAILURE_REASON,
    INSTANCE,
    REFERENCED_SOP_SEQUENCE,
    RETRIEVE_URL,
    STUDIES,
    STUDY,
    Action,
    Json,
    MimePart,
    ProxyRule,
    adding_accept,
    answer,
    boundary_of,
    in_each_reference,
    in_store_response,
    join_parts,
    on_status,
    split_parts,
    without_accept,
)

SPECIFIC_CHARACTER_SET = "00080005"
FAILED_ATTRIBUTES_SEQUENCE = "00741048"
NOT_A_FAILURE_REASON = 0xB000  # a warning status (coercion of data elements): no Table I.2-2 failure class
PROCESSING_FAILURE = 272

# --- paths and request conditions -----------------------------------------------------------------------------

_ROOT = STUDIES.removesuffix("/studies$")
ANY_STOW = rf"{_ROOT}/studies(?:/[^/]*)?$"
EMPTY_UID_COMPONENT = rf"{_ROOT}/studies/[^/]*\.\.[^/]*$"
EMPTY_PARTS_BODY = re.compile(rb"--[^\r\n]+--\r\n")


def _without_boundary(request: ProxyRequest) -> bool:
    return "boundary=" not in request.headers.get("Content-Type", "").lower()


def _zero_parts(request: ProxyRequest) -> bool:
    return EMPTY_PARTS_BODY.fullmatch(request.body) is not None


def _part_header_without_colon(request: ProxyRequest) -> bool:
    """RFC 5322 2.2: a header field line is name ":" value; one part header line here has no colon."""
    head = request.body.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
    return any(line and b":" not in line for line in head)


# --- actions ----------------------------------------------------------------------------------------------------


def _json_object(response: ProxyResponse) -> dict[str, Json] | None:
    try:
        document = json.loads(response.body)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def any_status(change: Callable[[dict[str, Json]], dict[str, Json]]) -> Action:
    """Forward, then change a DICOM JSON store response whatever its status (errors included)."""

    def action(request: ProxyRequest, forward: Forward) -> ProxyResponse:
        response = forward(request)
        dataset = _json_object(response)
        return response if dataset is None else response.with_body(json.dumps(change(dataset)).encode())

    return action


def each_failed_item(change: Callable[[dict[str, Json]], None]) -> Action:
    def changed(dataset: dict[str, Json]) -> dict[str, Json]:
        for item in dataset.get(FAILED_SOP_SEQUENCE, {}).get("Value", []):
            change(item)
        return dataset

    return any_status(changed)


def accept_anything(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """200 with an empty Store Instances Response, nothing forwarded: success for whatever was sent."""
    body = json.dumps({FAILED_SOP_SEQUENCE: {"vr": "SQ"}, REFERENCED_SOP_SEQUENCE: {"vr": "SQ"}}).encode()
    return ProxyResponse(200, CaseInsensitiveDict({"Content-Type": DICOM_JSON}), body)


def hang(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    time.sleep(HANG_TIMEOUT + 5)
    return ProxyResponse(400)


def serve_what_is_missing(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """An instance the server does not have is served anyway: a corrupt Part 10 file in a well-formed body."""
    response = forward(request)
    if response.status != 404:
        return response
    boundary = "served-anyway"
    part = MimePart((("Content-Type", "application/dicom"),), b"\x00" * 128 + b"DICM" + b"\x02\x00corrupt")
    headers = CaseInsensitiveDict({"Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}'})
    return ProxyResponse(200, headers, join_parts([part], boundary))


def _study_of(content: bytes) -> str:
    dataset = pydicom.dcmread(BytesIO(content), stop_before_pixels=True, specific_tags=["StudyInstanceUID"])
    return str(dataset.get("StudyInstanceUID", ""))


def parts_as_dicom(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """Every part is forwarded labelled application/dicom, whatever its own Content-Type said."""
    boundary = boundary_of(request.headers["Content-Type"])
    parts = [part.with_content_type("application/dicom") for part in split_parts(request.body, boundary)]
    return forward(replace(request, body=join_parts(parts, boundary)))


def drop_matching_parts(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """POST /studies/{study}: forward only the parts of other studies; the instances of {study} never arrive."""
    study = request.path.rsplit("/", 1)[-1]
    boundary = boundary_of(request.headers["Content-Type"])
    others = [part for part in split_parts(request.body, boundary) if _study_of(part.content) != study]
    return forward(replace(request, body=join_parts(others, boundary)))


def ignore_the_path_study(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """POST /studies/{study} handled as POST /studies: instances of other studies are stored too."""
    return forward(replace(request, path=request.path.rsplit("/", 1)[0]))


def _set_vr(key: str, vr: str) -> Callable[[dict[str, Json]], None]:
    def change(item: dict[str, Json]) -> None:
        item[key]["vr"] = vr

    return change


def _rotate_retrieve_urls(dataset: dict[str, Json]) -> None:
    items = dataset[REFERENCED_SOP_SEQUENCE]["Value"]
    urls = [item[RETRIEVE_URL] for item in items]
    for item, url in zip(items, urls[1:] + urls[:1], strict=True):
        item[RETRIEVE_URL] = url


def _drop_top_level_retrieve_url(dataset: dict[str, Json]) -> None:
    dataset.pop(RETRIEVE_URL, None)


def _study_url_elsewhere(dataset: dict[str, Json]) -> None:
    dataset[RETRIEVE_URL]["Value"] = [dataset[RETRIEVE_URL]["Value"][0] + ".9"]


def _reverse_keys(dataset: dict[str, Json]) -> dict[str, Json]:
    return dict(reversed(dataset.items()))


def _drop(key: str) -> Callable[[dict[str, Json]], dict[str, Json]]:
    def change(dataset: dict[str, Json]) -> dict[str, Json]:
        dataset.pop(key, None)
        return dataset

    return change


def _with_character_set(dataset: dict[str, Json]) -> dict[str, Json]:
    return {SPECIFIC_CHARACTER_SET: {"vr": "CS", "Value": ["ISO_IR 192"]}, **dataset}


def _with_reason(reason: int) -> Callable[[dict[str, Json]], None]:
    def change(item: dict[str, Json]) -> None:
        item[FAILURE_REASON] = {"vr": "US", "Value": [reason]}

    return change


def _lose(key: str) -> Callable[[dict[str, Json]], None]:
    def change(item: dict[str, Json]) -> None:
        item.pop(key, None)

    return change


def _with_empty_retrieve_url(dataset: dict[str, Json]) -> dict[str, Json]:
    # Annex I.1 Table I.1-1: Retrieve URL is Type 2, so an empty value is what a server without one owes.
    return dict(sorted({**dataset, RETRIEVE_URL: {"vr": "UR"}}.items()))


# --- the rules ------------------------------------------------------------------------------------------------

_FAULTS = [
    ProxyRule(
        "stow-accepts-anything", "a store answers success only for what it kept", "POST", ANY_STOW, accept_anything
    ),
    ProxyRule("stow-server-error", "bad input gets a 4xx, not a 5xx", "POST", ANY_STOW, answer(500)),
    ProxyRule(
        "stow-hangs-without-boundary", "bad input gets an answer", "POST", ANY_STOW, hang, when=_without_boundary
    ),
    ProxyRule(
        "wado-serves-refused-instances",
        "what was refused is not served",
        "GET",
        INSTANCE,
        serve_what_is_missing,
        accept="^multipart/related",
    ),
    ProxyRule(
        "stow-retrieve-url-as-ut",
        "each reference's RetrieveURL has VR UR",
        "POST",
        STUDIES,
        in_each_reference(_set_vr(RETRIEVE_URL, "UT")),
    ),
    ProxyRule(
        "stow-swaps-retrieve-urls",
        "each reference's RetrieveURL names its own instance",
        "POST",
        STUDIES,
        in_store_response(_rotate_retrieve_urls),
    ),
    ProxyRule(
        "stow-drops-study-retrieve-url",
        "the response holds the top-level RetrieveURL",
        "POST",
        ANY_STOW,
        in_store_response(_drop_top_level_retrieve_url),
    ),
    ProxyRule(
        "stow-drops-study-retrieve-url-of-a-refusal",
        "a 409 response holds the top-level RetrieveURL",
        "POST",
        ANY_STOW,
        on_status(
            409,
            lambda response: response.with_body(json.dumps(_drop(RETRIEVE_URL)(json.loads(response.body))).encode()),
        ),
    ),
    ProxyRule(
        "stow-study-retrieve-url-elsewhere",
        "the top-level RetrieveURL names the study",
        "POST",
        STUDY,
        in_store_response(_study_url_elsewhere),
    ),
    ProxyRule(
        "stow-response-keys-out-of-order",
        "the response keys are in tag order (F.2.1.1)",
        "POST",
        ANY_STOW,
        any_status(_reverse_keys),
    ),
    ProxyRule(
        "stow-failed-items-lose-reason",
        "each failed item carries a FailureReason",
        "POST",
        ANY_STOW,
        each_failed_item(_lose(FAILURE_REASON)),
    ),
    ProxyRule(
        "stow-failure-reason-outside-table",
        "FailureReason values come from Table I.2-2",
        "POST",
        ANY_STOW,
        each_failed_item(_with_reason(NOT_A_FAILURE_REASON)),
    ),
    ProxyRule(
        "stow-failure-reason-272",
        "Azure reports validation failures as 43264",
        "POST",
        ANY_STOW,
        each_failed_item(_with_reason(PROCESSING_FAILURE)),
    ),
    ProxyRule(
        "stow-drops-failed-sequence",
        "failures are listed in FailedSOPSequence",
        "POST",
        ANY_STOW,
        any_status(_drop(FAILED_SOP_SEQUENCE)),
    ),
    ProxyRule(
        "stow-drops-error-comments",
        "a 43264 failure carries FailedAttributesSequence",
        "POST",
        ANY_STOW,
        each_failed_item(_lose(FAILED_ATTRIBUTES_SEQUENCE)),
    ),
    ProxyRule(
        "stow-adds-character-set",
        "a partial store answers exactly three elements",
        "POST",
        ANY_STOW,
        any_status(_with_character_set),
    ),
    ProxyRule(
        "stow-study-drops-matching-parts",
        "the accepted instances of a partial store are stored",
        "POST",
        STUDY,
        drop_matching_parts,
    ),
    ProxyRule(
        "stow-study-ignores-path", "instances of other studies are not stored", "POST", STUDY, ignore_the_path_study
    ),
    ProxyRule(
        "stow-202-becomes-200",
        "a store with failures answers 202",
        "POST",
        ANY_STOW,
        on_status(202, lambda r: r.with_status(200)),
    ),
    ProxyRule(
        "stow-204-becomes-200",
        "an empty store answers 204",
        "POST",
        ANY_STOW,
        on_status(204, lambda r: r.with_status(200)),
    ),
    ProxyRule(
        "stow-409-becomes-400",
        "an empty single-part store answers 409",
        "POST",
        ANY_STOW,
        on_status(409, lambda r: r.with_status(400)),
    ),
    ProxyRule(
        "stow-adds-accept",
        "a store without Accept answers 406",
        "POST",
        ANY_STOW,
        adding_accept(DICOM_JSON),
        when=without_accept,
    ),
    ProxyRule(
        "wado-absence-answers-500",
        "absence is shown by 404, and nothing else counts as absence",
        "GET",
        INSTANCE,
        on_status(404, lambda response: response.with_status(500)),
        accept="^multipart/related",
    ),
    ProxyRule(
        "qido-absence-answers-503",
        "absence is shown by a search that finds nothing, and nothing else counts as absence",
        "GET",
        ALL_INSTANCES,
        answer(503),
    ),
]

_REPAIRS = [
    ProxyRule(
        "repair-stow-refusal-retrieve-url",
        "adds the empty top-level RetrieveURL Orthanc leaves out of a 409",
        "POST",
        ANY_STOW,
        on_status(
            409,
            lambda response: response.with_body(
                json.dumps(_with_empty_retrieve_url(json.loads(response.body))).encode()
            ),
        ),
    ),
    ProxyRule(
        "repair-stow-empty-uid-component",
        "refuses /studies/{uid with an empty component} with 400",
        "POST",
        EMPTY_UID_COMPONENT,
        answer(400),
    ),
    ProxyRule(
        "repair-stow-no-accept",
        "refuses a store without Accept with 406",
        "POST",
        ANY_STOW,
        answer(406),
        when=without_accept,
    ),
    ProxyRule(
        "repair-stow-zero-parts", "refuses a zero-part body with 400", "POST", STUDIES, answer(400), when=_zero_parts
    ),
    ProxyRule(
        "repair-stow-header-without-colon",
        "refuses a part header line without a colon with 400",
        "POST",
        ANY_STOW,
        answer(400),
        when=_part_header_without_colon,
    ),
    ProxyRule(
        "repair-stow-reads-parts-as-dicom",
        "stores a valid instance whatever its part is labelled (PS3.18 10.5.1.4 asks no refusal of it)",
        "POST",
        ANY_STOW,
        parts_as_dicom,
    ),
]

STOW_FAULTS: dict[str, ProxyRule] = {rule.name: rule for rule in _FAULTS}
STOW_REPAIRS: dict[str, ProxyRule] = {rule.name: rule for rule in _REPAIRS}
