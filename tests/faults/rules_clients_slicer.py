"""Proxy rules for the 3D Slicer profile (suites/clients/test_client_slicer.py). Each fault breaks one thing Slicer
needs of an answer, on the requests only Slicer's checks make (its Accept list with its own query: includefield plus
an offset without a limit, or the import's bare series search); the repair hides Orthanc 1.10.1's declared failure
(the JPEG 2000 series in the default syntax, targets/orthanc.toml) so the download checks can be seen passing."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import replace

from requests.structures import CaseInsensitiveDict

from dicomweb_conformance.checks.clients_slicer import SLICER_PATIENT
from tests.faults.proxy import Forward, ProxyRequest, ProxyResponse
from tests.faults.rules import (
    DICOM_JSON,
    PATIENT_NAME,
    SERIES_INSTANCE_UID,
    SERIES_INSTANCES,
    SERIES_METADATA,
    SOP_INSTANCE_UID,
    STUDIES,
    STUDY_INSTANCE_UID,
    STUDY_SERIES,
    Action,
    Json,
    ProxyRule,
    answer,
    distort_each_dataset,
    distort_json,
)
from tests.faults.rules_clients import CLIENT_FAULTS, CLIENT_REPAIRS

_CLIENT_JSON = r"^application/dicom\+json, application/json$"
# _get_all_pages' queries: the library's sorted parameters, an offset and never a limit.
_STUDY_LIST = r"^includefield=StudyDescription&offset=\d+$"
_SERIES_LIST = r"^includefield=SeriesNumber&offset=\d+$"
_INSTANCE_PAGES = r"^offset=\d+$"
_SLICER_PAGES = rf"(?:{_SERIES_LIST})|(?:{_INSTANCE_PAGES})"
_PAGED = rf"(?:{STUDY_SERIES})|(?:{SERIES_INSTANCES})"
MODALITIES_IN_STUDY = "00080061"
SERIES_DESCRIPTION = "0008103E"
MARKER = "00091010"  # a private attribute that makes a page's first item one Slicer has not seen


def _without_slicer_study(datasets: list[dict[str, Json]]) -> list[dict[str, Json]]:
    def patient(dataset: dict[str, Json]) -> object:
        return (dataset.get(PATIENT_NAME, {}).get("Value") or [{}])[0].get("Alphabetic")

    return [dataset for dataset in datasets if patient(dataset) != SLICER_PATIENT]


def _pn_as_string(dataset: dict[str, Json]) -> dict[str, Json]:
    values = dataset.get(PATIENT_NAME, {}).get("Value")
    if values:
        dataset[PATIENT_NAME]["Value"] = [value.get("Alphabetic", "") for value in values]
    return dataset


def _without(tag: str) -> Callable[[dict[str, Json]], dict[str, Json]]:
    def drop(dataset: dict[str, Json]) -> dict[str, Json]:
        dataset.pop(tag, None)
        return dataset

    return drop


def _pages_never_end(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """Every page is the whole list (the offset dropped), its first item marked with the offset asked for."""
    offset = request.query.rpartition("offset=")[2]
    query = "&".join(item for item in request.query.split("&") if not item.startswith("offset="))
    response = forward(replace(request, query=query))
    datasets = json.loads(response.body or b"[]")
    if datasets:
        datasets[0][MARKER] = {"vr": "LO", "Value": [f"offset {offset}"]}
    headers = CaseInsensitiveDict({"Content-Type": DICOM_JSON})
    return ProxyResponse(200, headers, json.dumps(datasets).encode())


def _json_answer(datasets: list[dict[str, Json]]) -> ProxyResponse:
    return ProxyResponse(200, CaseInsensitiveDict({"Content-Type": DICOM_JSON}), json.dumps(datasets).encode())


def _marked(dataset: dict[str, Json], mark: str) -> dict[str, Json]:
    return {**dataset, MARKER: {"vr": "LO", "Value": [mark]}}


def _repeats_the_first_study(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """Every page after the first: a new (marked) study first, the server's page, then the list's first study again,
    on every walk alike: the server's own repeat."""
    offset = request.query.rpartition("offset=")[2]
    response = forward(request)
    if offset == "0":
        return response
    first = json.loads(forward(replace(request, query=request.query.replace(f"offset={offset}", "offset=0"))).body)[:1]
    page = json.loads(response.body or b"[]")
    return _json_answer([_marked(first[0], f"offset {offset}"), *page, first[0]] if first else page)


def _changes_under_each_walk() -> Action:
    """The first page starts with another study on every walk (a copy of its first with a UID of its own): another
    client storing while the list is paged."""
    walks = itertools.count(1)

    def change(request: ProxyRequest, forward: Forward) -> ProxyResponse:
        response = forward(request)
        page = json.loads(response.body or b"[]")
        if not request.query.endswith("offset=0") or not page:
            return response
        walk = next(walks)
        stored_elsewhere = {**page[0], STUDY_INSTANCE_UID: {"vr": "UI", "Value": [f"2.25.{walk}"]}}
        return _json_answer([_marked(stored_elsewhere, f"walk {walk}"), *page])

    return change


def _rule(name: str, breaks: str, path: str, action: Action, *, query: str | None) -> ProxyRule:
    return ProxyRule(name, breaks, "GET", path, action, accept=_CLIENT_JSON, query=query)


SLICER_FAULTS: dict[str, ProxyRule] = {
    rule.name: rule
    for rule in [
        _rule("slicer-study-list-400", "the study list is 2xx", STUDIES, answer(400), query=_STUDY_LIST),
        _rule(
            "slicer-study-list-drops-the-study",
            "the study list holds every study",
            STUDIES,
            distort_json(_without_slicer_study),
            query=_STUDY_LIST,
        ),
        _rule(
            "slicer-study-list-repeats",
            "a page of the study list repeats no study listed before",
            STUDIES,
            _repeats_the_first_study,
            query=_STUDY_LIST,
        ),
        _rule(
            "slicer-study-list-pn-as-string",
            "PatientName is a PN with an 'Alphabetic' component",
            STUDIES,
            distort_each_dataset(_pn_as_string),
            query=_STUDY_LIST,
        ),
        _rule(
            "slicer-study-list-no-modalities",
            "each study carries ModalitiesInStudy",
            STUDIES,
            distort_each_dataset(_without(MODALITIES_IN_STUDY)),
            query=_STUDY_LIST,
        ),
        _rule(
            "slicer-pages-never-end",
            "a page past the end is empty (or repeats its first item)",
            _PAGED,
            _pages_never_end,
            query=_SLICER_PAGES,
        ),
        _rule("slicer-pages-400", "an offset without a limit is 2xx", _PAGED, answer(400), query=_SLICER_PAGES),
        _rule(
            "slicer-series-without-uid",
            "each series carries SeriesInstanceUID",
            STUDY_SERIES,
            distort_each_dataset(_without(SERIES_INSTANCE_UID)),
            query=_SERIES_LIST,
        ),
        _rule(
            "slicer-series-without-description",
            "each series carries SeriesDescription",
            STUDY_SERIES,
            distort_each_dataset(_without(SERIES_DESCRIPTION)),
            query=_SERIES_LIST,
        ),
        _rule(
            "slicer-instance-search-500",
            "the download's instance search is 2xx",
            SERIES_INSTANCES,
            answer(500),
            query=_INSTANCE_PAGES,
        ),
        _rule(
            "slicer-import-series-search-500",
            "the import's series search is 2xx",
            STUDY_SERIES,
            answer(500),
            query=r"^$",
        ),
        _rule(
            "slicer-import-metadata-without-sop-uid",
            "the series' metadata carries each SOPInstanceUID",
            SERIES_METADATA,
            distort_each_dataset(_without(SOP_INSTANCE_UID)),
            query=None,
        ),
        CLIENT_FAULTS["dwc-retrieve-drops-a-part"],
        CLIENT_FAULTS["dwc-retrieve-part-not-part-10"],
    ]
}

# Not a fault: the list changing under every walk (another client at work); the checks judge the last walk.
STUDY_LIST_CHANGING = _rule(
    "slicer-study-list-changes",
    "the study list stays the same while it is paged",
    STUDIES,
    _changes_under_each_walk(),
    query=_STUDY_LIST,
)

SLICER_REPAIRS: dict[str, ProxyRule] = {
    "repair-dwc-retrieve-as-stored": CLIENT_REPAIRS["repair-dwc-retrieve-as-stored"],
}
