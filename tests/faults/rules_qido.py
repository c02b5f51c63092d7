"""Proxy rules for the QIDO-RS depth checks (suites/qido/test_qido_{attributes,matching,includefield,paging,
encoding,errors}.py). Each fault breaks one promise those checks verify; each repair hides one deviation of
Orthanc 1.10.1 + DICOMweb 1.7 (or of the Azure facade in front of it), so the check it blocks can be seen
passing.

Queries are handled as the client sent them: raw "key=value" pairs, percent-encoding untouched, except
where a rule must read a value (then it is decoded with RFC 3986 percent-decoding, as UTF-8).
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from urllib.parse import unquote

import requests
from pydicom.datadict import keyword_for_tag, tag_for_keyword
from requests.structures import CaseInsensitiveDict

from tests.faults.proxy import Forward, ProxyRequest, ProxyResponse
from tests.faults.rules import (
    ALL_INSTANCES,
    ALL_SERIES,
    DICOM_JSON,
    SERIES_INSTANCES,
    STUDIES,
    STUDY_INSTANCES,
    STUDY_SERIES,
    Action,
    Json,
    ProxyRule,
    answer,
    distort,
    drop_last,
    on_status,
    repeat_last,
    without_accept,
)

SEARCH = "|".join(
    f"(?:{path})" for path in (STUDIES, ALL_SERIES, STUDY_SERIES, ALL_INSTANCES, STUDY_INSTANCES, SERIES_INSTANCES)
)
CONTROL = ("includefield", "fuzzymatching", "limit", "offset")
WILDCARD = re.compile(r"[*?]|%2A|%3F", re.IGNORECASE)
PERSON_NAMES = ("PatientName", "ReferringPhysicianName")
Pairs = list[tuple[str, str]]


# --- raw query handling ------------------------------------------------------------------------------


def pairs_of(query: str) -> Pairs:
    """The raw (still percent-encoded) key/value pairs of a query string, in order."""
    return [(k, v) for k, _, v in (pair.partition("=") for pair in query.split("&") if pair)]


def joined(pairs: Iterable[tuple[str, str]]) -> str:
    return "&".join(f"{k}={v}" for k, v in pairs)


def keyword(key: str) -> str:
    """A query key as a keyword: tags (8 hex digits) are translated, keywords pass unchanged."""
    if re.fullmatch(r"[0-9A-Fa-f]{8}", key):
        return str(keyword_for_tag(int(key, 16)))
    return key


def json_key(name: str) -> str:
    tag = tag_for_keyword(name)
    if tag is None:
        raise KeyError(name)
    return f"{tag:08X}"


def with_query(request: ProxyRequest, pairs: Iterable[tuple[str, str]]) -> ProxyRequest:
    return replace(request, query=joined(pairs))


def rewrite_query(change: Callable[[Pairs], Pairs]) -> Action:
    return lambda request, forward: forward(with_query(request, change(pairs_of(request.query))))


def matching_keys(pairs: Pairs) -> Pairs:
    return [(k, v) for k, v in pairs if k not in CONTROL]


def has_keys(request: ProxyRequest) -> bool:
    return bool(matching_keys(pairs_of(request.query)))


def on_results(change: Callable[[list[dict[str, Json]]], list[dict[str, Json]]]) -> Action:
    """Change the datasets of a 200 answer; 204 (the facade's empty answer) and errors pass unchanged."""

    def change_body(response: ProxyResponse) -> ProxyResponse:
        return response.with_body(json.dumps(change(json.loads(response.body))).encode())

    return on_status(200, change_body)


def on_each_result(change: Callable[[dict[str, Json]], dict[str, Json]]) -> Action:
    return on_results(lambda datasets: [change(dataset) for dataset in datasets])


def json_answer(status: int, document: Json, headers: dict[str, str] | None = None) -> ProxyResponse:
    fields = CaseInsensitiveDict({"Content-Type": DICOM_JSON, **(headers or {})})
    return ProxyResponse(status, fields, json.dumps(document).encode())


# --- dataset helpers ---------------------------------------------------------------------------------


def first_text(dataset: dict[str, Json], name: str) -> str | None:
    element = dataset.get(json_key(name))
    values = element.get("Value") if isinstance(element, dict) else None
    if not values:
        return None
    value = values[0]
    return str(value.get("Alphabetic", "")) if isinstance(value, dict) else str(value)


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def folded(text: str, *, azure: bool) -> str:
    # Reference 1.3: Azure matches person names case- and accent-insensitively.
    return strip_accents(text).casefold() if azure else text


def wildcard_match(pattern: str, text: str) -> bool:
    """PS3.4 C.2.2.2.4: * is any run of characters, ? exactly one."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, flags=re.DOTALL) is not None


def word_prefix_match(prefix: str, text: str) -> bool:
    """Reference 1.3: fuzzy matching finds a person name by the prefix of any of its words."""
    words = re.split(r"[\^ ]+", strip_accents(text).casefold())
    return any(word.startswith(strip_accents(prefix).casefold()) for word in words if word)


# --- faults: search results ---------------------------------------------------------------------------


def _not_a_visibility_poll(request: ProxyRequest) -> bool:
    # The suite polls /instances?SOPInstanceUID= until its uploads show; leave those polls alone.
    poll = re.search(ALL_INSTANCES, request.path) and re.fullmatch(r"SOPInstanceUID=[0-9.]+", request.query)
    return not poll


def drop_last_key(pairs: Pairs) -> Pairs:
    last = max(index for index, (k, _) in enumerate(pairs) if k not in CONTROL)
    return pairs[:last] + pairs[last + 1 :]


def without(*names: str) -> Callable[[Pairs], Pairs]:
    return lambda pairs: [(k, v) for k, v in pairs if k not in names]


def includefield_tags_ignored(pairs: Pairs) -> Pairs:
    """includefield values given as tags are dropped (keywords kept)."""
    kept = []
    for k, v in pairs:
        if k == "includefield":
            names = [name for name in unquote(v).split(",") if not re.fullmatch(r"[0-9A-Fa-f]{8}", name)]
            if names:
                kept.append((k, ",".join(names)))
        else:
            kept.append((k, v))
    return kept


def includefield_first_only(pairs: Pairs) -> Pairs:
    """Only the first includefield parameter, and only the first name of its list, is kept."""
    fields = [v for k, v in pairs if k == "includefield"]
    rest = [(k, v) for k, v in pairs if k != "includefield"]
    return [*rest, ("includefield", unquote(fields[0]).split(",")[0])] if fields else rest


def decoded_wildcards(pairs: Pairs) -> Pairs:
    # RFC 3986 2.1: %2A is "*" and %3F is "?"; Orthanc matches them only when sent raw.
    return [(k, re.sub("%3F", "?", re.sub("%2A", "*", v, flags=re.IGNORECASE), flags=re.IGNORECASE)) for k, v in pairs]


def first_uid_only(pairs: Pairs) -> Pairs:
    return [(k, v.split(",")[0] if keyword(k).endswith("UID") else v) for k, v in pairs]


RANGED = ("StudyDate", "StudyTime", "PerformedProcedureStepStartDate", "PerformedProcedureStepStartTime")


def range_start_only(pairs: Pairs) -> Pairs:
    return [(k, v.split("-")[0] if keyword(k) in RANGED else v) for k, v in pairs]


def empty_every_value(dataset: dict[str, Json]) -> dict[str, Json]:
    return {name: {"vr": element.get("vr", "UN")} for name, element in dataset.items()}


def strip_accents_of_names(dataset: dict[str, Json]) -> dict[str, Json]:
    for element in dataset.values():
        if isinstance(element, dict) and element.get("vr") == "PN":
            for value in element.get("Value", []):
                if isinstance(value, dict) and "Alphabetic" in value:
                    value["Alphabetic"] = strip_accents(value["Alphabetic"])
    return dataset


def _has_wildcard(request: ProxyRequest) -> bool:
    return any(WILDCARD.search(v) for _, v in matching_keys(pairs_of(request.query)))


def _has_person_name(request: ProxyRequest) -> bool:
    return any(keyword(k) in PERSON_NAMES for k, _ in pairs_of(request.query))


def _has_encoded_wildcard(request: ProxyRequest) -> bool:
    return any(re.search("%2A|%3F", v, flags=re.IGNORECASE) for _, v in matching_keys(pairs_of(request.query)))


def _has_uid_list(request: ProxyRequest) -> bool:
    return any("," in v and keyword(k).endswith("UID") for k, v in matching_keys(pairs_of(request.query)))


def _has_range(request: ProxyRequest) -> bool:
    return any(keyword(k) in RANGED and "-" in v for k, v in pairs_of(request.query))


# The values suites/qido/test_qido_errors.py calls absurd, recognised the way a fragile server would trip on them.
_VALID_DATE = re.compile(r"^(\d{8})?(-(\d{8})?)?$")


def _is_absurd(key: str, raw: str) -> bool:
    if len(raw) > 1000 or re.search(r"%(00|FF)", raw, flags=re.IGNORECASE):
        return True
    value = unquote(raw)
    name = keyword(key)
    if name == "StudyDate":
        low, _, high = value.partition("-")
        return not _VALID_DATE.match(value) or any(d and not _is_date(d) for d in (low, high)) or low > high > ""
    if name == "StudyTime":
        return not all(re.fullmatch(r"(([01]\d|2[0-3])[0-5]\d[0-5]\d)?", end) for end in value.split("-"))
    if name in ("limit", "offset"):
        return not value.isdigit() or len(value) > 6
    return name == "fuzzymatching" and value not in ("true", "false")


def _is_date(text: str) -> bool:
    try:
        datetime.strptime(text, "%Y%m%d")
    except ValueError:
        return False
    return True


def _has_absurd_value(request: ProxyRequest) -> bool:
    return any(_is_absurd(k, v) for k, v in pairs_of(request.query))


def _answer(status: int) -> Action:
    return lambda request, forward: json_answer(status, {"error": f"fault proxy answers {status}"})


# --- repairs: Orthanc ---------------------------------------------------------------------------------


def studies_then_lower_level(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """PS3.18 Table 10.6.1-4: ModalitiesInStudy at /series and /instances selects the entities of the studies
    that hold the modality. Orthanc ignores it there; ask /studies for those studies, then search by their UIDs."""
    pairs = pairs_of(request.query)
    modality = [(k, v) for k, v in pairs if keyword(k) == "ModalitiesInStudy"]
    rest = [(k, v) for k, v in pairs if keyword(k) != "ModalitiesInStudy"]
    root = re.sub(r"/(series|instances)$", "", request.path)
    # A second request through this proxy, since `forward` may be called only once.
    studies = requests.get(
        f"http://{request.headers['Host']}{root}/studies?{joined([*rest, *modality])}",
        headers={k: v for k, v in request.headers.items() if k.lower() in ("accept", "authorization")},
        timeout=30,
    )
    found = studies.json() if studies.status_code == 200 else []
    uids = [first_text(dataset, "StudyInstanceUID") for dataset in found]
    if not uids:
        return json_answer(200, [])
    return forward(with_query(request, [*rest, ("StudyInstanceUID", ",".join(str(u) for u in uids))]))


def case_sensitive(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """PS3.4 C.2.2.2.1: keep only results whose non-PN key values are equal, case and all."""
    wanted = [(keyword(k), unquote(v)) for k, v in matching_keys(pairs_of(request.query))]
    exact = [(name, value) for name, value in wanted if name in ("PatientID", "AccessionNumber", "StudyID")]

    def keep(datasets: list[dict[str, Json]]) -> list[dict[str, Json]]:
        return [d for d in datasets if all(first_text(d, name) == value for name, value in exact)]

    return on_results(keep)(request, forward)


def fuzzy_warning(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """PS3.18 8.3.4.2: a server without fuzzy matching says so in a Warning header."""
    response = forward(request)
    text = "The fuzzymatching parameter is not supported. Only literal matching has been performed."
    headers = CaseInsensitiveDict(response.headers)
    headers["Warning"] = f'299 fault-proxy: "{text}"'
    return replace(response, headers=headers)


# What includefield=all stands for in the repaired answers: every stored attribute the checks look for.
ALL_ATTRIBUTES = "PatientAge,PatientWeight,StudyDescription,SeriesDate,SeriesTime,PhotometricInterpretation"


def include_all(pairs: Pairs) -> Pairs:
    return [(k, ALL_ATTRIBUTES if (k, v) == ("includefield", "all") else v) for k, v in pairs]


# Attributes of the series and instance levels the checks ask a study (series) search for.
SERIES_LEVEL = ("Modality", "SeriesTime", "SeriesDate", "SeriesInstanceUID", "SeriesNumber", "SeriesDescription")
INSTANCE_LEVEL = ("Rows", "Columns", "BitsAllocated", "SOPClassUID", "SOPInstanceUID", "InstanceNumber")


def drop_lower_levels(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    below = INSTANCE_LEVEL if re.search(ALL_SERIES, request.path) else SERIES_LEVEL + INSTANCE_LEVEL
    tags = {json_key(name) for name in below}
    return on_each_result(lambda d: {k: v for k, v in d.items() if k not in tags})(request, forward)


def empty_list_as_no_content(response: ProxyResponse) -> ProxyResponse:
    # PS3.18 8.3.4.4.1: no result is 204 with no payload.
    if response.status == 200 and response.body.strip() == b"[]":
        return ProxyResponse(204, CaseInsensitiveDict())
    return response


def warn_when_cut(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """PS3.18 8.3.4.4: a full page announces that more results can be requested."""
    response = forward(request)
    limit = dict(pairs_of(request.query)).get("limit", "")
    if response.status != 200 or not limit.isdigit() or len(json.loads(response.body)) < int(limit):
        return response
    headers = CaseInsensitiveDict(response.headers)
    headers["Warning"] = '299 fault-proxy: "There are additional results that can be requested"'
    return replace(response, headers=headers)


def match_names_locally(*, azure: bool) -> Action:
    """Search without the person-name keys, then match them here: percent-decoded (RFC 3986), with PS3.4
    wildcards (standard), or folded, literal or word-prefix fuzzy (reference 1.3, azure)."""

    def action(request: ProxyRequest, forward: Forward) -> ProxyResponse:
        pairs = pairs_of(request.query)
        fuzzy = ("fuzzymatching", "true") in pairs
        names = [(keyword(k), unquote(v)) for k, v in pairs if keyword(k) in PERSON_NAMES]
        rest = [(k, v) for k, v in pairs if keyword(k) not in PERSON_NAMES and k != "fuzzymatching"]
        rest += [("includefield", name) for name, _ in names]
        response = forward(with_query(request, rest))
        if response.status != 200:
            return response
        kept = [d for d in json.loads(response.body) if all(_name_matches(d, n, v, azure, fuzzy) for n, v in names)]
        if not kept and azure:
            return ProxyResponse(204, CaseInsensitiveDict())
        return response.with_body(json.dumps(kept).encode())

    return action


def _name_matches(dataset: dict[str, Json], name: str, value: str, azure: bool, fuzzy: bool) -> bool:
    stored = first_text(dataset, name) or ""
    if fuzzy:
        return word_prefix_match(value, stored)
    if azure:
        return folded(value, azure=True) == folded(stored, azure=True)
    return wildcard_match(value, stored)


def _names_need_help(*, azure: bool) -> Callable[[ProxyRequest], bool]:
    def check(request: ProxyRequest) -> bool:
        values = [v for k, v in pairs_of(request.query) if keyword(k) in PERSON_NAMES]
        return bool(values) and (azure or any("%" in v for v in values))

    return check


def no_content(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    return ProxyResponse(204, CaseInsensitiveDict())


INDEX_LAG_SECONDS = 2.0


def fuzzy_index_lags(seconds: float) -> Action:
    """Azure's fuzzy matching runs on a full-text index filled asynchronously (QueryTransactionTests.cs retries
    for it): for `seconds` after a fuzzy query is first seen it answers 204, then as Azure matches names."""
    first_seen: dict[str, float] = {}
    matching = match_names_locally(azure=True)

    def action(request: ProxyRequest, forward: Forward) -> ProxyResponse:
        if ("fuzzymatching", "true") in pairs_of(request.query):
            started = first_seen.setdefault(request.query, time.monotonic())
            if time.monotonic() - started < seconds:
                return ProxyResponse(204, CaseInsensitiveDict())
        return matching(request, forward)

    return action


def _negative_paging(request: ProxyRequest) -> bool:
    return any(k in ("limit", "offset") and v.startswith("-") for k, v in pairs_of(request.query))


# --- repairs: the Azure facade ------------------------------------------------------------------------

AZURE_KEYS = {
    "study": (
        "StudyInstanceUID",
        "PatientName",
        "PatientID",
        "PatientBirthDate",
        "AccessionNumber",
        "ReferringPhysicianName",
        "StudyDate",
        "StudyDescription",
        "ModalitiesInStudy",
    ),
    "series": ("SeriesInstanceUID", "Modality", "PerformedProcedureStepStartDate", "ManufacturerModelName"),
    "instance": ("SOPInstanceUID",),
}
AZURE_DATES = ("StudyDate", "PatientBirthDate", "PerformedProcedureStepStartDate")


def _azure_levels(path: str) -> tuple[str, ...]:
    """Reference 1.3: study keys only at /studies, /series, /instances; series and instance keys below."""
    for pattern, levels in (
        (STUDIES, ("study",)),
        (ALL_SERIES, ("study", "series")),
        (STUDY_SERIES, ("series",)),
        (ALL_INSTANCES, ("study", "series", "instance")),
        (STUDY_INSTANCES, ("series", "instance")),
        (SERIES_INSTANCES, ("instance",)),
    ):
        if re.search(pattern, path):
            return levels
    return ()


def azure_refusal(request: ProxyRequest) -> str | None:
    """Why the Azure DICOM service answers 400 to this search (reference 1.3, Errors -> 400), or None."""
    pairs = [(k, unquote(v)) for k, v in pairs_of(request.query)]
    reasons = (check(request.path, pairs) for check in _AZURE_CHECKS)
    return next((reason for reason in reasons if reason), None)


def _bad_key(path: str, pairs: Pairs) -> str | None:
    allowed = {name for level in _azure_levels(path) for name in AZURE_KEYS[level]}
    keys = [keyword(k) for k, _ in pairs if k not in CONTROL]
    unknown = [k for k in keys if k not in allowed]
    if unknown:
        return f"unknown, or not queryable at {path}: {unknown}"
    if len(keys) != len(set(keys)):
        return "a key given twice"
    if "/studies/" in path and "StudyInstanceUID" in keys:
        return "StudyInstanceUID in the path and the query"
    return None


def _empty_value(path: str, pairs: Pairs) -> str | None:
    return "empty value" if any(v == "" for _, v in pairs) else None


def _bad_date(path: str, pairs: Pairs) -> str | None:
    for k, v in pairs:
        if keyword(k) in AZURE_DATES:
            ends = v.split("-") if "-" in v else [v]
            if len(ends) > 2 or not any(ends) or any(end and not _is_date(end) for end in ends):
                return f"bad date {v!r}"
    return None


def _bad_paging(path: str, pairs: Pairs) -> str | None:
    for k, v in pairs:
        if k == "limit" and not (v.isdigit() and 1 <= int(v) <= 200):
            return f"limit {v!r} outside 1..200"
        if k == "offset" and not v.isdigit():
            return f"offset {v!r}"
    return None


def _bad_includefield(path: str, pairs: Pairs) -> str | None:
    fields = [f for k, v in pairs if k == "includefield" for f in v.split(",")]
    if "all" in fields and len(fields) > 1:
        return "includefield=all with other fields"
    unknown = [f for f in fields if f != "all" and keyword(f) == f and tag_for_keyword(f) is None]
    return f"unknown includefield {unknown}" if unknown else None


def _bad_fuzzy(path: str, pairs: Pairs) -> str | None:
    flag = dict(pairs).get("fuzzymatching")
    if flag is not None and flag not in ("true", "false"):
        return f"fuzzymatching={flag}"
    if flag == "true" and any('"' in v for k, v in pairs if keyword(k) in PERSON_NAMES):
        return "double quote in a fuzzy name"
    return None


_AZURE_CHECKS: tuple[Callable[[str, Pairs], str | None], ...] = (
    _bad_key,
    _empty_value,
    _bad_date,
    _bad_paging,
    _bad_includefield,
    _bad_fuzzy,
)


def validate_like_azure(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    reason = azure_refusal(request)
    if reason is None:
        return forward(request)
    return ProxyResponse(400, CaseInsensitiveDict({"Content-Type": "text/plain"}), reason.encode())


def add_azure_defaults(pairs: Pairs) -> Pairs:
    # Reference 1.3, default attributes (v2) Orthanc leaves out of its own defaults.
    return [*pairs, ("includefield", "StudyDescription"), ("includefield", "ManufacturerModelName")]


def accept_bad_requests(response: ProxyResponse) -> ProxyResponse:
    return ProxyResponse(200, CaseInsensitiveDict({"Content-Type": DICOM_JSON}), b"[]")


# --- the catalogue ------------------------------------------------------------------------------------


def _search(
    name: str,
    breaks: str,
    action: Action,
    *,
    query: str | None = None,
    when: Callable[[ProxyRequest], bool] | None = None,
) -> ProxyRule:
    return ProxyRule(name, breaks, "GET", SEARCH, action, accept=re.escape(DICOM_JSON), query=query, when=when)


_FAULTS = [
    _search(
        "qido-ignores-last-key", "each matching key restricts the result", rewrite_query(drop_last_key), when=has_keys
    ),
    _search("qido-drops-last-result", "every match is listed", on_results(drop_last), when=_not_a_visibility_poll),
    _search("qido-repeats-last-result", "each match is listed once", on_results(repeat_last)),
    _search(
        "qido-finds-nothing",
        "stored data is found",
        lambda request, forward: ProxyResponse(204, CaseInsensitiveDict()),
        when=_not_a_visibility_poll,
    ),
    _search(
        "qido-ignores-person-names",
        "PatientName and ReferringPhysicianName restrict the result",
        rewrite_query(lambda pairs: [(k, v) for k, v in pairs if keyword(k) not in PERSON_NAMES]),
        when=_has_person_name,
    ),
    _search(
        "qido-includefield-tags-ignored",
        "includefield takes a tag as well as a keyword",
        rewrite_query(includefield_tags_ignored),
        query="includefield=",
    ),
    _search(
        "qido-includefield-first-only",
        "every includefield parameter and list item counts",
        rewrite_query(includefield_first_only),
        query="includefield=",
    ),
    _search("qido-no-wildcards", "* and ? are wildcards", lambda r, f: json_answer(200, []), when=_has_wildcard),
    _search("qido-names-find-nothing", "a stored person name is found", no_content, when=_has_person_name),
    _search(
        "qido-identifiers-find-nothing",
        "a stored PatientID, AccessionNumber or StudyID is found",
        lambda r, f: json_answer(200, []),
        query=r"(^|&)(PatientID|AccessionNumber|StudyID)=",
    ),
    _search(
        "qido-fuzzy-ignores-the-name",
        "a fuzzy search still matches on its key",
        rewrite_query(without("PatientName", "ReferringPhysicianName")),
        query="fuzzymatching=true",
    ),
    _search(
        "qido-uid-list-first-only", "every UID of a list matches", rewrite_query(first_uid_only), when=_has_uid_list
    ),
    _search("qido-range-start-only", "a range covers its span", rewrite_query(range_start_only), when=_has_range),
    _search("qido-fuzzy-400", "fuzzymatching is accepted", _answer(400), query="fuzzymatching="),
    _search(
        "qido-ignores-includefield",
        "includefield adds attributes",
        rewrite_query(without("includefield")),
        query="includefield=",
    ),
    _search(
        "qido-empties-every-value",
        "results carry the stored values",
        on_each_result(empty_every_value),
        when=_not_a_visibility_poll,
    ),
    _search("qido-ignores-limit", "limit caps the page", rewrite_query(without("limit")), query="limit="),
    _search("qido-ignores-offset", "offset skips results", rewrite_query(without("offset")), query="offset="),
    _search("qido-strips-accents", "names come back as stored", on_each_result(strip_accents_of_names)),
    _search(
        "qido-unknown-parameter-400",
        "unknown parameters are ignored",
        _answer(400),
        query=r"(^|&)(foo|NotAKeyword)=|includefield=NotAKeyword",
    ),
    _search("qido-absurd-500", "absurd values never cause a 5xx", _answer(500), when=_has_absurd_value),
    _search("qido-400-becomes-200", "bad requests answer 400", on_status(400, accept_bad_requests)),
]
QIDO_FAULTS: dict[str, ProxyRule] = {rule.name: rule for rule in _FAULTS}

_REPAIRS = [
    ProxyRule(
        "repair-qido-modalities-in-study",
        "ModalitiesInStudy below the study level",
        "GET",
        rf"(?:{ALL_SERIES})|(?:{ALL_INSTANCES})",
        studies_then_lower_level,
        query=r"(^|&)(ModalitiesInStudy|00080061)=",
    ),
    _search(
        "repair-qido-case-sensitive",
        "case-sensitive single value matching",
        case_sensitive,
        query=r"(^|&)(PatientID|AccessionNumber|StudyID)=",
    ),
    _search(
        "repair-qido-fuzzy-warning",
        "warns that fuzzymatching is not supported",
        fuzzy_warning,
        query="fuzzymatching=true",
    ),
    _search(
        "repair-qido-includefield-all",
        "includefield=all adds the stored attributes",
        rewrite_query(include_all),
        query="includefield=all",
    ),
    _search("repair-qido-level-attributes", "no lower-level attributes", drop_lower_levels, query="includefield="),
    _search("repair-qido-no-content", "no result is 204", distort(empty_list_as_no_content)),
    _search("repair-qido-additional-results-warning", "warns of additional results", warn_when_cut, query="limit="),
    _search(
        "repair-qido-percent-decoding",
        "percent-decoded person names",
        match_names_locally(azure=False),
        when=_names_need_help(azure=False),
    ),
    _search(
        "repair-qido-decode-wildcards",
        "percent-encoded wildcards decoded",
        rewrite_query(decoded_wildcards),
        when=_has_encoded_wildcard,
    ),
    _search("repair-qido-negative-paging", "400 for a negative limit or offset", _answer(400), when=_negative_paging),
    ProxyRule(
        "repair-qido-no-accept", "answers 406 without an Accept header", "GET", SEARCH, answer(406), when=without_accept
    ),
    _search(
        "repair-facade-azure-name-matching",
        "Azure person-name matching",
        match_names_locally(azure=True),
        when=_names_need_help(azure=True),
    ),
    _search("repair-facade-default-attributes", "Azure's default attributes", rewrite_query(add_azure_defaults)),
    _search(
        "repair-facade-azure-fuzzy-index-lags",
        "Azure person-name matching, its fuzzy index lagging behind",
        fuzzy_index_lags(INDEX_LAG_SECONDS),
        when=_names_need_help(azure=True),
    ),
    _search("repair-facade-azure-validation", "Azure's 400 for bad searches", validate_like_azure),
]
QIDO_REPAIRS: dict[str, ProxyRule] = {rule.name: rule for rule in _REPAIRS}

# Not a fault: PS3.18 8.3.4.4.1 lets a server cap every answer (maxResults); the paging checks must still pass.
CAP_RESULTS_AT_TWO = _search(
    "qido-caps-results-at-two", "a server cap of 2 results", on_results(lambda d: d[:2]), when=_not_a_visibility_poll
)
