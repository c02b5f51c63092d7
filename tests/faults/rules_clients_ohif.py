"""Proxy rules for the OHIF profile (suites/clients/test_client_ohif.py). Each fault breaks one thing OHIF needs of
an answer, on requests only the profile's checks make (the study list's query, the series list's includefield,
the profile's frames Accept, the STOW with a guid boundary); each repair hides one of Orthanc's declared failures
(targets/orthanc.toml, CL-OHIF-*), so the checks it blocks can be seen passing."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from dicomweb_conformance.checks.clients_ohif import ACCEPT_FRAMES
from tests.faults.proxy import Forward, ProxyRequest, ProxyResponse
from tests.faults.rules import (
    SERIES_METADATA,
    STUDIES,
    STUDY_METADATA,
    STUDY_SERIES,
    Json,
    MimePart,
    ProxyRule,
    answer,
    distort,
    distort_each_dataset,
    distort_json,
    distort_parts,
    drop_last,
    get_rule,
    json_answer,
    lf_only_multipart,
    store_nothing,
    without_offset,
)
from tests.faults.rules_wado import ANY_FRAMES

# qido.js mapParams: the study list's own query (the suite's other searches send no fuzzymatching).
_STUDY_LIST = r"fuzzymatching=false&includefield=00081030"
_STUDY_ROW = r"^00100020=[^&]*&limit=101&offset=0&"  # the study list searched by the study's PatientID
_SERIES_LIST = r"includefield=0008103E"
_FRAMES = "|".join(re.escape(accept) for accept in ACCEPT_FRAMES.values())
_GUID_BOUNDARY = r'boundary="[0-9a-f]{8}-[0-9a-f]{4}-'  # dicomweb-client's guid(), quoted


def _without(*tags: str) -> Callable[[dict[str, Json]], dict[str, Json]]:
    return lambda dataset: {tag: element for tag, element in dataset.items() if tag not in tags}


def _count_plus_one(dataset: dict[str, Json]) -> dict[str, Json]:
    count = int(dataset["00201208"]["Value"][0]) + 1
    return {**dataset, "00201208": {"vr": "IS", "Value": [count]}}


def _name_as_string(dataset: dict[str, Json]) -> dict[str, Json]:
    # PS3.18 F.2.2: a PN value is an object of component groups; a bare string has no Alphabetic group.
    name = dataset["00100010"]["Value"][0]["Alphabetic"]
    return {**dataset, "00100010": {"vr": "PN", "Value": [name]}}


def _rewrite_query(pattern: str, old: str, new: str) -> Callable[[ProxyRequest, Forward], ProxyResponse]:
    """Forward with `old` replaced by `new` inside the query parameters matching `pattern`."""

    def action(request: ProxyRequest, forward: Forward) -> ProxyResponse:
        items = [item.replace(old, new) if re.match(pattern, item) else item for item in request.query.split("&")]
        return forward(replace(request, query="&".join(items)))

    return action


def _claim_syntax(parts: list[MimePart]) -> list[MimePart]:
    # A syntax the frame is not in: the decoder cornerstone picks gets data it cannot read.
    return [
        part.with_content_type("application/octet-stream; transfer-syntax=1.2.840.10008.1.2.4.91") for part in parts
    ]


OHIF_FAULTS: dict[str, ProxyRule] = {
    rule.name: rule
    for rule in [
        get_rule(
            "ohif-study-description-dropped",
            "the study list holds StudyDescription",
            STUDIES,
            distort_each_dataset(_without("00081030")),
            query=_STUDY_LIST,
        ),
        get_rule(
            "ohif-study-count-off",
            "00201208 counts the study's instances",
            STUDIES,
            distort_each_dataset(_count_plus_one),
            query=_STUDY_ROW,
        ),
        get_rule(
            "ohif-study-name-not-pn",
            "PatientName is a PN object",
            STUDIES,
            distort_each_dataset(_name_as_string),
            query=_STUDY_ROW,
        ),
        get_rule(
            "ohif-study-modalities-dropped",
            "the row lists the modalities",
            STUDIES,
            distort_each_dataset(_without("00080061")),
            query=_STUDY_ROW,
        ),
        get_rule(
            "ohif-wildcard-finds-nothing",
            "PatientName=*x* finds the study",
            STUDIES,
            json_answer([]),
            query=r"^PatientName=\*",
        ),
        get_rule("ohif-wildcard-400", "PatientName=*x* is answered", STUDIES, answer(400), query=r"^PatientName=\*"),
        get_rule(
            "ohif-modalities-find-nothing",
            "ModalitiesInStudy finds the study",
            STUDIES,
            json_answer([]),
            query=r"ModalitiesInStudy=",
        ),
        get_rule(
            "ohif-modalities-400",
            "a ModalitiesInStudy search is answered",
            STUDIES,
            answer(400),
            query=r"ModalitiesInStudy=",
        ),
        get_rule(
            "ohif-uid-list-finds-nothing",
            "a UID list finds the listed study",
            STUDIES,
            json_answer([]),
            query=r"StudyInstanceUID=",
        ),
        get_rule("ohif-uid-list-500", "a UID list is answered", STUDIES, answer(500), query=r"StudyInstanceUID="),
        get_rule(
            "ohif-empty-search-404",
            "a search matching nothing is 200, 202 or 204",
            STUDIES,
            answer(404),
            query=r"^00100020=NOSUCH-",
        ),
        get_rule(
            "ohif-empty-search-a-study",
            "a search matching nothing holds no study",
            STUDIES,
            json_answer([{"0020000D": {"vr": "UI", "Value": ["2.25.1"]}}]),
            query=r"^00100020=NOSUCH-",
        ),
        get_rule(
            "ohif-offset-ignored",
            "the window at offset 100 starts there",
            STUDIES,
            without_offset,
            query=r"offset=100",
        ),
        get_rule("ohif-offset-500", "the window at offset 100 is answered", STUDIES, answer(500), query=r"offset=100"),
        get_rule(
            "ohif-series-date-dropped",
            "the series list holds SeriesDate",
            STUDY_SERIES,
            distort_each_dataset(_without("00080021")),
            query=_SERIES_LIST,
        ),
        get_rule(
            "ohif-series-count-dropped",
            "the series list holds 00201209",
            STUDY_SERIES,
            distort_each_dataset(_without("00201209")),
            query=_SERIES_LIST,
        ),
        get_rule(
            "ohif-series-list-drops-one",
            "the series list holds every series",
            STUDY_SERIES,
            distort_json(drop_last),
            query=_SERIES_LIST,
        ),
        get_rule(
            "ohif-lazy-series-search-drops-one",
            "opening the study finds every series",
            STUDY_SERIES,
            distort_json(drop_last),
            query=r"^$",
            accept=r"^application/dicom\+json$",
        ),
        get_rule(
            "ohif-lazy-metadata-without-rows",
            "series metadata holds Rows",
            SERIES_METADATA,
            distort_each_dataset(_without("00280010")),
        ),
        get_rule(
            "ohif-sync-metadata-drops-one",
            "study metadata holds every instance",
            STUDY_METADATA,
            distort_json(drop_last),
        ),
        get_rule(
            "ohif-sync-metadata-without-frames",
            "study metadata holds NumberOfFrames",
            STUDY_METADATA,
            distort_each_dataset(_without("00280008")),
        ),
        get_rule(
            "ohif-frames-other-syntax",
            "the part names the frame's syntax",
            ANY_FRAMES,
            distort_parts(_claim_syntax),
            accept=_FRAMES,
        ),
        get_rule(
            "ohif-frames-lf-only",
            "the frame's multipart uses CRLF",
            ANY_FRAMES,
            distort(lf_only_multipart),
            accept=_FRAMES,
        ),
        get_rule("ohif-frames-406", "frames with OHIF's Accept are 200", ANY_FRAMES, answer(406), accept=_FRAMES),
        ProxyRule(
            "ohif-stow-stores-nothing",
            "the saved SR is stored",
            "POST",
            STUDIES,
            store_nothing,
            content_type=_GUID_BOUNDARY,
        ),
        ProxyRule(
            "ohif-stow-409",
            "saving an SR is 200, 202 or 204",
            "POST",
            STUDIES,
            answer(409),
            content_type=_GUID_BOUNDARY,
        ),
    ]
}

# Hide Orthanc's failures of OHIF's lists (targets/orthanc.toml, CL-OHIF-*).
OHIF_REPAIRS: dict[str, ProxyRule] = {
    rule.name: rule
    for rule in [
        # includefield=A%2CB is ignored: sends the literal comma Orthanc splits on.
        ProxyRule(
            "repair-ohif-includefield-commas",
            "sends includefield's list with literal commas",
            "GET",
            rf"(?:{STUDIES})|(?:{STUDY_SERIES})",
            _rewrite_query("includefield=", "%2C", ","),
            query=r"includefield=[^&]*%2C",
        ),
        # StudyInstanceUID=a%5Cb matches nothing: sends the comma list Orthanc matches.
        ProxyRule(
            "repair-ohif-uid-list-commas",
            "sends the UID list with commas",
            "GET",
            STUDIES,
            _rewrite_query("StudyInstanceUID=", "%5C", "%2C"),
            query=r"StudyInstanceUID=[^&]*%5C",
        ),
    ]
}
