"""Proxy rules for the property checks (suites/properties).

- Repairs stand in for a server that behaves where Orthanc 1.10.1 + DICOMweb 1.7 does not: instance metadata made
  from the stored file (pydicom's DICOM JSON, read as Annex F wants it), and searches of the QIDO corpus answered
  with the strictest reading PS3.4 permits (checks/qido_matching.py, expected_matches). They show each check can
  pass; the matcher and the reference themselves are checked against hand-computed answers in
  tests/unit/test_property_strategies.py.
- Faults break one promise each, outermost over the repairs.
- Tolerated variations are answers PS3.18 allows (BulkDataURI, numbers as strings, the lenient PN reading, another
  order): the checks must still pass, so they are no stricter than the standard.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from io import BytesIO
from typing import Any
from urllib.parse import parse_qsl

import pydicom
from requests.structures import CaseInsensitiveDict

from dicomweb_conformance.checks.qido_matching import (
    MATCHING_RULES,
    RANGE_VRS,
    WILDCARD_VRS,
    MatchingRules,
    attribute_vr,
    expected_matches,
)
from dicomweb_conformance.corpora.qido_corpus import (
    CORPUS_PLAN,
    LABELLED_UIDS,
    RANGE,
    SINGLE,
    UID_LIST,
    UNKNOWN,
    WILDCARD,
    Query,
)
from dicomweb_conformance.dicom.annex_f import (
    reference_json,
)
from dicomweb_conformance.dicom.dicomjson import key
from dicomweb_conformance.dicom.levels import (
    LEVEL_UID,
)
from dicomweb_conformance.transport.store import MULTIPART_DICOM_ANY_TS
from tests.faults.proxy import Forward, ProxyRequest, ProxyResponse
from tests.faults.rules import (
    ALL_INSTANCES,
    ALL_SERIES,
    DICOM_JSON,
    FRAMES,
    INSTANCE_METADATA,
    STUDIES,
    Action,
    MimePart,
    ProxyRule,
    boundary_of,
    distort_json,
    distort_parts,
    split_parts,
)

Json = Any
SEARCHES = rf"(?:{STUDIES})|(?:{ALL_SERIES})|(?:{ALL_INSTANCES})"
CORPUS_SCOPE = r"(?:^|&)PatientID=DWCS-[^&]+-QIDO(?:&|$)"
# Parameters that are no matching key: the corpus scope, paging, and what the listing of the corpus asks for.
NOT_MATCHING_KEYS = ("PatientID", "limit", "offset", "includefield")
STUDY_LABELS = {plan.study_id: f"S{number}" for number, plan in enumerate(CORPUS_PLAN, start=1)}


# --- repairs ----------------------------------------------------------------------------------------------------------


def json_answer(status: int, document: Json) -> ProxyResponse:
    if status == 204:
        return ProxyResponse(204)
    return ProxyResponse(status, CaseInsensitiveDict({"Content-Type": DICOM_JSON}), json.dumps(document).encode())


def metadata_from_the_stored_file(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """PS3.18 10.4.3.3.2: every attribute of the stored instance, in DICOM JSON; binary values inline (F.2.7)."""
    stored = forward(
        replace(request, path=request.path.removesuffix("/metadata")).with_headers(accept=MULTIPART_DICOM_ANY_TS)
    )
    if stored.status != 200:
        return stored
    [part] = split_parts(stored.body, boundary_of(stored.content_type))
    return json_answer(200, [reference_json(pydicom.dcmread(BytesIO(part.content)))])


def _criteria(request: ProxyRequest) -> dict[str, str]:
    return {
        name: value for name, value in parse_qsl(request.query, keep_blank_values=True) if name not in NOT_MATCHING_KEYS
    }


def _is_corpus_match(request: ProxyRequest) -> bool:
    """A search of the QIDO corpus with a matching key (paging searches pass through to Orthanc)."""
    return bool(_criteria(request))


def _labels(corpus: list[dict[str, Json]]) -> dict[str, str]:
    """Each corpus entity's label -> UID, from Orthanc's list of the corpus instances."""
    labels: dict[str, str] = {}
    for result in corpus:
        study = STUDY_LABELS[result[key("StudyID")]["Value"][0]]
        series = f"{study}/{result[key('SeriesNumber')]['Value'][0]}"
        labels[study] = result[key("StudyInstanceUID")]["Value"][0]
        labels[series] = result[key("SeriesInstanceUID")]["Value"][0]
        labels[f"{series}/{result[key('InstanceNumber')]['Value'][0]}"] = result[key("SOPInstanceUID")]["Value"][0]
    return labels


def _query(level: str, keyword: str, value: str, uids: dict[str, str]) -> Query:
    vr = attribute_vr(keyword)
    if keyword in LABELLED_UIDS:
        labels = {uid: label for label, uid in uids.items()}
        value = ",".join(labels.get(uid, UNKNOWN) for uid in value.split(","))
    if vr == "UI" and "," in value:
        return Query(level, keyword, UID_LIST, value)
    if vr in RANGE_VRS and "-" in value:
        return Query(level, keyword, RANGE, value)
    if vr in WILDCARD_VRS and re.search(r"[*?]", value):
        return Query(level, keyword, WILDCARD, value)
    return Query(level, keyword, SINGLE, value)


def answer_corpus_searches(rules: MatchingRules, *, reverse: bool = False) -> Action:
    """Answer a corpus search as the matcher reads PS3.4 C.2.2.2 (`rules.*_strict`), results in plan order."""

    def action(request: ProxyRequest, forward: Forward) -> ProxyResponse:
        level = request.path.rsplit("/", 1)[-1]
        patient = dict(parse_qsl(request.query))["PatientID"]
        corpus_query = f"PatientID={patient}&includefield=StudyID&includefield=SeriesNumber&includefield=InstanceNumber"
        listing = forward(replace(request, path=request.path.rsplit("/", 1)[0] + "/instances", query=corpus_query))
        uids = _labels(json.loads(listing.body))
        [(keyword, value)] = _criteria(request).items()
        strict = MatchingRules(rules.pn_strict, rules.pn_strict, rules.text_strict, rules.text_strict)
        matches = sorted(expected_matches(_query(level, keyword, value, uids), strict).must, reverse=reverse)
        results = [{key(LEVEL_UID[level]): {"vr": "UI", "Value": [uids[label]]}} for label in matches]
        return json_answer(200 if results else 204, results)

    return action


def _rule(name: str, breaks: str, method: str, path: str, action: Action, **match: Any) -> ProxyRule:
    return ProxyRule(name=name, breaks=breaks, method=method, path=path, action=action, **match)


def _corpus_search_rule(name: str, breaks: str, action: Action) -> ProxyRule:
    return _rule(name, breaks, "GET", SEARCHES, action, query=CORPUS_SCOPE, when=_is_corpus_match)


REPAIRS: dict[str, ProxyRule] = {
    rule.name: rule
    for rule in (
        _rule(
            "repair-properties-metadata",
            "instance metadata is the stored file's DICOM JSON (Orthanc splits LT, wraps numbers, drops items)",
            "GET",
            INSTANCE_METADATA,
            metadata_from_the_stored_file,
        ),
        _corpus_search_rule(
            "repair-properties-corpus-search",
            "corpus searches match as PS3.4 C.2.2.2 (Orthanc ignores case, skips decoding, ranges empty dates)",
            answer_corpus_searches(MATCHING_RULES["standard"]),
        ),
    )
}


# --- faults -----------------------------------------------------------------------------------------------------------


def _each_dataset(change: Callable[[dict[str, Json]], None]) -> Action:
    def changed(datasets: list[dict[str, Json]]) -> list[dict[str, Json]]:
        for dataset in datasets:
            change(dataset)
        return datasets

    return distort_json(changed)


def _rename_series(dataset: dict[str, Json]) -> None:
    dataset[key("SeriesDescription")]["Value"] = ["renamed"]


def _rows_off_by_one(dataset: dict[str, Json]) -> None:
    dataset[key("Rows")]["Value"] = [dataset[key("Rows")]["Value"][0] + 1]


def _pixels_as_value(dataset: dict[str, Json]) -> None:
    dataset[key("PixelData")] = {"vr": "OB", "Value": [0]}


def _without_empty_items(dataset: dict[str, Json]) -> None:
    for element in dataset.values():
        if element.get("vr") == "SQ" and "Value" in element:
            element["Value"] = [item for item in element["Value"] if item]
            for item in element["Value"]:
                _without_empty_items(item)


def _reversed_parts(parts: list[MimePart]) -> list[MimePart]:
    return parts[::-1]


def _without_offset(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    kept = "&".join(pair for pair in request.query.split("&") if not pair.startswith("offset="))
    return forward(replace(request, query=kept))


def _on_matches(change: Callable[[list[Json]], list[Json]]) -> Action:
    def action(request: ProxyRequest, forward: Forward) -> ProxyResponse:
        response = forward(request)
        return json_answer(200, change(json.loads(response.body))) if response.status == 200 else response

    return action


FAULTS: dict[str, ProxyRule] = {
    rule.name: rule
    for rule in (
        _rule(
            "properties-metadata-text-changed",
            "metadata carries the stored strings",
            "GET",
            INSTANCE_METADATA,
            _each_dataset(_rename_series),
        ),
        _rule(
            "properties-metadata-number-changed",
            "metadata carries the stored numbers",
            "GET",
            INSTANCE_METADATA,
            _each_dataset(_rows_off_by_one),
        ),
        _rule(
            "properties-metadata-binary-as-value",
            "binary VRs are InlineBinary or BulkDataURI (F.2.2)",
            "GET",
            INSTANCE_METADATA,
            _each_dataset(_pixels_as_value),
        ),
        _rule(
            "properties-metadata-drops-empty-items",
            "an empty sequence item is an empty object (F.2.2)",
            "GET",
            INSTANCE_METADATA,
            _each_dataset(_without_empty_items),
        ),
        _rule(
            "properties-frames-reversed",
            "frames come in the order asked",
            "GET",
            FRAMES,
            distort_parts(_reversed_parts),
        ),
        _corpus_search_rule(
            "properties-search-drops-a-match", "every match is returned", _on_matches(lambda results: results[:-1])
        ),
        _corpus_search_rule(
            "properties-search-repeats-a-match",
            "each match is returned once",
            _on_matches(lambda results: results + results[-1:]),
        ),
        _rule(
            "properties-paging-ignores-offset",
            "offset skips that many matches (PS3.18 8.3.4.4)",
            "GET",
            SEARCHES,
            _without_offset,
            query=r"(?:^|&)offset=[1-9]",
        ),
    )
}


# --- variations PS3.18 allows -----------------------------------------------------------------------------------------


def _binary_as_bulk_uris(dataset: dict[str, Json], base: str = "http://127.0.0.1/bulk/") -> None:
    for name, element in dataset.items():
        if "InlineBinary" in element:
            del element["InlineBinary"]
            element["BulkDataURI"] = base + name  # F.2.6
        for item in element.get("Value", []) if element.get("vr") == "SQ" else []:
            _binary_as_bulk_uris(item, base)


def _numbers_as_strings(dataset: dict[str, Json]) -> None:
    for element in dataset.values():
        if element.get("vr") in ("IS", "DS") and "Value" in element:
            element["Value"] = [None if v is None else repr(v) for v in element["Value"]]  # Table F.2.3-1
        for item in element.get("Value", []) if element.get("vr") == "SQ" else []:
            _numbers_as_strings(item)


_STANDARD = MATCHING_RULES["standard"]
LENIENT_NAMES = MatchingRules(_STANDARD.pn_lenient, _STANDARD.pn_lenient, _STANDARD.text_strict, _STANDARD.text_strict)

TOLERATED: dict[str, ProxyRule] = {
    rule.name: rule
    for rule in (
        _rule(
            "properties-metadata-binary-as-bulk-uris",
            "F.2.6: binary values as BulkDataURI",
            "GET",
            INSTANCE_METADATA,
            _each_dataset(_binary_as_bulk_uris),
        ),
        _rule(
            "properties-metadata-numbers-as-strings",
            "Table F.2.3-1: IS and DS as strings",
            "GET",
            INSTANCE_METADATA,
            _each_dataset(_numbers_as_strings),
        ),
        _corpus_search_rule(
            "properties-search-lenient-names",
            "C.2.2.2.1: PN matched without regard to case and accents",
            answer_corpus_searches(LENIENT_NAMES),
        ),
        _corpus_search_rule(
            "properties-search-other-order",
            "matching says which entities, not in which order",
            answer_corpus_searches(MATCHING_RULES["standard"], reverse=True),
        ),
    )
}
