"""Fault rules for the Azure checks (delete scenarios, change feed, metadata ETags, bearer auth, API
versions), for FaultProxy in front of the Azure facade. Each rule breaks one promise a check verifies.

Rules that tests/faults/rules.py already defines (the plain delete faults) are reused by name from
its FAULTS; the rest are here. AZURE_FAULT_TABLE maps every requirement of suites/catalog/azure.toml
to the rules that must make its checks FAIL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode

from requests.structures import CaseInsensitiveDict

from tests.faults.proxy import Forward, ProxyRequest, ProxyResponse, Rule
from tests.faults.rules import (
    FAULTS,
    INSTANCE,
    SERIES,
    STUDY,
    Json,
    answer,
    distort,
    distort_json,
    forward_to_parent,
    on_status,
)

Action = Callable[[ProxyRequest, Forward], ProxyResponse]
Params = dict[str, str]

VALID_TOKEN = "azure-fault-test-token"  # the one bearer token the facade under test accepts
EXPIRED_TOKEN = "azure-fault-expired-token"  # a token the facade refuses, given to the suite as "expired"
CONSTANT_TAG = '"fault-constant-etag"'

_ROOT = r"^/v\d+(?:\.\d+)?"
FEED = rf"{_ROOT}/changefeed$"
LATEST = rf"{_ROOT}/changefeed/latest$"
FEED_OR_LATEST = rf"{_ROOT}/changefeed(?:/latest)?$"
ANY_VERSIONED = rf"{_ROOT}/"
RETRIEVE = rf"(?:{STUDY})|(?:{SERIES})|(?:{INSTANCE})"
METADATA = rf"{_ROOT}/studies/.+/metadata$"
SEARCH = rf"{_ROOT}/(?:studies|series|instances)$"
ANY_IN_STUDIES = rf"{_ROOT}/studies/"
_VALID_UID = re.compile(r"[0-9.]{1,64}")
SEARCH_KEYS = {"StudyInstanceUID": "0020000D", "SeriesInstanceUID": "0020000E", "SOPInstanceUID": "00080018"}


@dataclass(frozen=True)
class AzureRule:
    """A FaultProxy rule over several methods, with an optional further condition on the request."""

    name: str
    breaks: str
    methods: frozenset[str]
    path: str
    action: Action
    when: Callable[[ProxyRequest], bool] | None = None

    def matches(self, request: ProxyRequest) -> bool:
        return (
            request.method in self.methods
            and re.search(self.path, request.path) is not None
            and (self.when is None or self.when(request))
        )

    def handle(self, request: ProxyRequest, forward: Forward) -> ProxyResponse:
        return self.action(request, forward)


def _rule(
    name: str,
    breaks: str,
    methods: str,
    path: str,
    action: Action,
    *,
    when: Callable[[ProxyRequest], bool] | None = None,
) -> AzureRule:
    return AzureRule(name, breaks, frozenset(methods.split()), path, action, when)


# --- query and header surgery ----------------------------------------------------------------------


def params_of(request: ProxyRequest) -> Params:
    return dict(parse_qsl(request.query, keep_blank_values=True))


def rewrite_query(change: Callable[[Params, ProxyRequest], Params]) -> Action:
    def action(request: ProxyRequest, forward: Forward) -> ProxyResponse:
        return forward(replace(request, query=urlencode(change(params_of(request), request))))

    return action


def _later(text: str) -> str:
    return (datetime.fromisoformat(text) + timedelta(microseconds=1)).isoformat()


def _shift_time(name: str) -> Callable[[Params, ProxyRequest], Params]:
    return lambda params, _: {**params, name: _later(params[name])} if name in params else params


def _limit_plus_one(params: Params, _: ProxyRequest) -> Params:
    return {**params, "limit": str(int(params["limit"]) + 1)} if params.get("limit", "").isdigit() else params


def _default_limit_plus_one(params: Params, request: ProxyRequest) -> Params:
    # reference 1.5: v1's default page is 10 entries, v2's 100; ask for one more.
    if "limit" in params:
        return params
    return {**params, "limit": "11" if request.path.startswith("/v1/") else "101"}


def _offset_minus_one(params: Params, _: ProxyRequest) -> Params:
    offset = params.get("offset", "")
    return {**params, "offset": str(int(offset) - 1)} if offset.isdigit() and int(offset) > 0 else params


def _include_metadata(value: str | None) -> Callable[[Params, ProxyRequest], Params]:
    def change(params: Params, _: ProxyRequest) -> Params:
        others = {name: v for name, v in params.items() if name.lower() != "includemetadata"}
        return others if value is None else {**others, "includeMetadata": value}

    return change


def set_header(name: str, value: str | None) -> Callable[[ProxyResponse], ProxyResponse]:
    def change(response: ProxyResponse) -> ProxyResponse:
        headers = CaseInsensitiveDict(response.headers)
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
        return replace(response, headers=headers)

    return change


def _json_response(status: int, document: Json) -> ProxyResponse:
    return ProxyResponse(
        status, CaseInsensitiveDict({"Content-Type": "application/json"}), json.dumps(document).encode()
    )


# --- change-feed entries ---------------------------------------------------------------------------


def _field(entry: dict[str, Json], name: str) -> str:
    """The suite reads entry fields case-insensitively (reference 1.12 item 5), so the rules do too."""
    return next((key for key in entry if key.lower() == name), name)


def each_entry(change: Callable[[dict[str, Json]], None]) -> Action:
    """Change every entry of a feed page, or the one entry `latest` answers."""

    def changed(document: Json) -> Json:
        for entry in document if isinstance(document, list) else [document]:
            change(entry)
        return document

    return distort_json(changed)


def _state_from(old: str, new: str) -> Callable[[dict[str, Json]], None]:
    def change(entry: dict[str, Json]) -> None:
        if str(entry.get(_field(entry, "state"), "")).lower() == old:
            entry[_field(entry, "state")] = new

    return change


def _metadata_on_deletes(entry: dict[str, Json]) -> None:
    if str(entry.get(_field(entry, "action"), "")).lower() == "delete":
        entry[_field(entry, "metadata")] = {"00080018": {"vr": "UI", "Value": ["2.25.1"]}}


def _metadata_of_another_instance(entry: dict[str, Json]) -> None:
    metadata = entry.get(_field(entry, "metadata"))
    if isinstance(metadata, dict):
        metadata["00080018"] = {"vr": "UI", "Value": ["2.25.1"]}


PATIENT_NAME = "00100010"


def _without_patient_name(entry: dict[str, Json]) -> None:
    metadata = entry.get(_field(entry, "metadata"))
    if isinstance(metadata, dict):
        metadata.pop(PATIENT_NAME, None)


def _datasets_without_patient_name(document: Json) -> Json:
    for dataset in document if isinstance(document, list) else []:
        if isinstance(dataset, dict):
            dataset.pop(PATIENT_NAME, None)
    return document


def lose_patient_name_everywhere(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """The feed's metadata and the metadata resource both lack the stored PatientName: consistent, and wrong."""
    if re.search(METADATA, request.path):
        return distort_json(_datasets_without_patient_name)(request, forward)
    return each_entry(_without_patient_name)(request, forward)


def latest_is_the_first_entry(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """Answer /changefeed/latest with the feed's oldest entry."""
    params = {name: value for name, value in params_of(request).items() if name.lower() == "includemetadata"}
    oldest = forward(
        replace(request, path=request.path.removesuffix("/latest"), query=urlencode({**params, "limit": "1"}))
    )
    if oldest.status != 200 or not json.loads(oldest.body):
        return oldest
    return _json_response(200, json.loads(oldest.body)[0])


def bad_request_answered_with_an_empty_feed(response: ProxyResponse) -> ProxyResponse:
    return _json_response(200, [])


# --- delete, retrieve and search -------------------------------------------------------------------


def has_malformed_uid(request: ProxyRequest) -> bool:
    """A DELETE path under /studies whose study, series or SOP segment is not a UID."""
    uids = request.path.split("/studies/", 1)[1].split("/")[0::2]
    return any(_VALID_UID.fullmatch(uid) is None for uid in uids)


def delete_the_study_named(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """A delete with a malformed UID further down the path removes the whole (well-formed) study instead."""
    root, study = request.path.split("/studies/", 1)[0], request.path.split("/studies/", 1)[1].split("/")[0]
    if _VALID_UID.fullmatch(study):
        forward(replace(request, path=f"{root}/studies/{study}"))
    return ProxyResponse(204)


def serve_an_empty_multipart(response: ProxyResponse) -> ProxyResponse:
    headers = CaseInsensitiveDict({"Content-Type": 'multipart/related; type="application/dicom"; boundary=gone'})
    return ProxyResponse(200, headers, b"--gone--\r\n")


def find_what_was_searched(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """A search with no match answers 200 with a result naming the UID searched for."""
    response = forward(request)
    if response.status != 204:
        return response
    result = {
        tag: {"vr": "UI", "Value": [value]}
        for keyword, tag in SEARCH_KEYS.items()
        if (value := params_of(request).get(keyword))
    }
    return ProxyResponse(
        200, CaseInsensitiveDict({"Content-Type": "application/dicom+json"}), json.dumps([result]).encode()
    )


# --- STOW: Azure v2's 202 for a store with warnings ------------------------------------------------

_IMPLICIT_VR_META = b"1.2.840.10008.1.2\x00"  # the file meta TransferSyntaxUID, NUL-padded (PS3.5 9.1)
_SOP_INSTANCE_UID = re.compile(rb"\x02\x00\x03\x00UI..([0-9.]+)", re.DOTALL)  # MediaStorageSOPInstanceUID


def implicit_vr_store(request: ProxyRequest) -> bool:
    return _IMPLICIT_VR_META in request.body


def warned_202_without_storing(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """Answer an implicit VR store with Azure v2's 202 and WarningReason 45063, and store nothing."""
    sops = [match.decode() for match in _SOP_INSTANCE_UID.findall(request.body)]
    items = [
        {"00081155": {"vr": "UI", "Value": [sop]}, "00081196": {"vr": "US", "Value": [45063]}}
        for sop in dict.fromkeys(sops)
    ]
    body = json.dumps({"00081199": {"vr": "SQ", "Value": items}}).encode()
    return ProxyResponse(202, CaseInsensitiveDict({"Content-Type": "application/dicom+json"}), body)


# --- metadata ETags --------------------------------------------------------------------------------


def ignore_if_none_match(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    return forward(request.with_headers(if_none_match=None))


def not_modified_for_any_tag(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    response = forward(request.with_headers(if_none_match=None))
    if response.status == 200 and "If-None-Match" in request.headers:
        return ProxyResponse(304, CaseInsensitiveDict({"ETag": response.headers.get("ETag", CONSTANT_TAG)}))
    return response


def constant_etag(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """One ETag for every version of the metadata, honoured in If-None-Match: changes go unnoticed."""
    asked = request.headers.get("If-None-Match")
    response = forward(request.with_headers(if_none_match=None))
    if response.status != 200:
        return response
    if asked == CONSTANT_TAG:
        return ProxyResponse(304, CaseInsensitiveDict({"ETag": CONSTANT_TAG}))
    return set_header("ETag", CONSTANT_TAG)(response)


# --- authentication --------------------------------------------------------------------------------


def _token(request: ProxyRequest) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def let_in(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    return forward(request.with_headers(authorization=f"Bearer {VALID_TOKEN}"))


RULES: list[AzureRule] = [
    # delete
    _rule("del-instance-deletes-its-study", "an instance delete leaves the study's other series", "DELETE", INSTANCE,
          forward_to_parent("/series/")),
    _rule("wado-serves-the-deleted", "a deleted study, series or instance answers 404", "GET", RETRIEVE,
          on_status(404, serve_an_empty_multipart)),
    _rule("qido-finds-the-deleted", "a deleted entity is no longer found", "GET", SEARCH, find_what_was_searched),
    _rule("del-malformed-uid-answers-204", "a malformed UID answers 400", "DELETE", ANY_IN_STUDIES, answer(204),
          when=has_malformed_uid),
    _rule("del-malformed-uid-deletes-the-study", "a malformed UID deletes nothing", "DELETE", ANY_IN_STUDIES,
          delete_the_study_named, when=has_malformed_uid),
    # change feed: order and paging
    _rule("cf-reverses-each-page", "entries come in sequence / time order", "GET", FEED,
          distort_json(lambda entries: entries[::-1])),
    _rule("cf-v1-offset-inclusive", "v1 offset is exclusive", "GET", FEED, rewrite_query(_offset_minus_one),
          when=lambda request: request.path.startswith("/v1/")),
    _rule("cf-limit-plus-one", "a page holds at most limit entries", "GET", FEED, rewrite_query(_limit_plus_one)),
    _rule("cf-default-limit-plus-one", "the default page is 10 (v1) / 100 (v2) entries", "GET", FEED,
          rewrite_query(_default_limit_plus_one)),
    _rule("cf-v2-start-exclusive", "v2 startTime is inclusive", "GET", FEED, rewrite_query(_shift_time("startTime"))),
    _rule("cf-v2-end-inclusive", "v2 endTime is exclusive", "GET", FEED, rewrite_query(_shift_time("endTime"))),
    _rule("cf-v2-offset-minus-one", "v2 offset skips that many entries", "GET", FEED, rewrite_query(_offset_minus_one),
          when=lambda request: "startTime" in request.query),
    # change feed: states, latest, metadata
    _rule("cf-current-shown-as-replaced", "the current version is in state current", "GET", FEED,
          each_entry(_state_from("current", "replaced"))),
    _rule("cf-deleted-shown-as-current", "a deleted instance's entries are in state deleted", "GET", FEED_OR_LATEST,
          each_entry(_state_from("deleted", "current"))),
    _rule("cf-delete-entries-carry-metadata", "a delete entry has no metadata", "GET", FEED_OR_LATEST,
          each_entry(_metadata_on_deletes)),
    _rule("cf-latest-is-the-first-entry", "latest is the newest entry", "GET", LATEST, latest_is_the_first_entry),
    _rule("cf-never-includes-metadata", "includeMetadata=true (the default) includes it", "GET", FEED_OR_LATEST,
          rewrite_query(_include_metadata("false"))),
    _rule("cf-ignores-include-metadata-false", "includeMetadata=false leaves it out", "GET", FEED_OR_LATEST,
          rewrite_query(_include_metadata(None))),
    _rule("cf-metadata-of-another-instance", "an entry's metadata is its instance's", "GET", FEED_OR_LATEST,
          each_entry(_metadata_of_another_instance)),
    _rule("cf-and-metadata-lose-patient-name", "an entry's metadata is what was stored, not what /metadata says",
          "GET", rf"(?:{FEED_OR_LATEST})|(?:{METADATA})", lose_patient_name_everywhere),
    # change feed: bad requests
    _rule("cf-bad-request-answered-200", "invalid parameters answer 400", "GET", FEED_OR_LATEST,
          on_status(400, bad_request_answered_with_an_empty_feed)),
    _rule("cf-v2-refuses-limit-200", "v2 accepts limit=200", "GET", FEED, answer(400),
          when=lambda request: params_of(request).get("limit") == "200"),
    # STOW
    _rule("stow-202-warning-without-storing", "a 202 with warnings means stored", "POST", rf"{_ROOT}/studies$",
          warned_202_without_storing, when=implicit_vr_store),
    # API versions
    _rule("version-header-missing", "answers list the supported versions", "GET", ANY_VERSIONED,
          distort(set_header("api-supported-versions", None))),
    _rule("version-header-without-the-current", "the version in use is listed", "GET", ANY_VERSIONED,
          distort(set_header("api-supported-versions", "1.0-prerelease"))),
    # metadata ETags
    _rule("metadata-drops-etag", "metadata carries an ETag", "GET", METADATA, distort(set_header("ETag", None))),
    _rule("metadata-ignores-if-none-match", "a matching If-None-Match answers 304", "GET", METADATA,
          ignore_if_none_match),
    _rule("metadata-304-for-any-tag", "a stale If-None-Match gets the metadata", "GET", METADATA,
          not_modified_for_any_tag),
    _rule("metadata-etag-never-changes", "a change gives a new ETag", "GET", METADATA, constant_etag),
    # authentication
    _rule("auth-anonymous-gets-in-everywhere", "no token answers 401", "GET POST DELETE", ANY_VERSIONED, let_in,
          when=lambda request: "Authorization" not in request.headers),
    _rule("auth-any-token-gets-in", "a foreign or expired token answers 401", "GET POST DELETE", ANY_VERSIONED, let_in,
          when=lambda request: "Authorization" in request.headers and _token(request) != VALID_TOKEN),
    _rule("auth-challenge-basic", "401 carries a Bearer challenge", "GET POST DELETE", ANY_VERSIONED,
          on_status(401, set_header("WWW-Authenticate", 'Basic realm="facade"'))),
    _rule("auth-challenge-without-error", 'a rejected token is named error="invalid_token"', "GET POST DELETE",
          ANY_VERSIONED, on_status(401, set_header("WWW-Authenticate", "Bearer"))),
    _rule("auth-refuses-valid-token", "the run's token is accepted", "GET", ANY_VERSIONED, answer(401),
          when=lambda request: _token(request) == VALID_TOKEN),
]  # fmt: skip

# The plain delete faults of tests/faults/rules.py, reused as they are.
REUSED = (
    "del-instance-204-without-deleting",
    "del-instance-deletes-its-series",
    "del-series-204-without-deleting",
    "del-series-deletes-its-study",
    "del-study-204-without-deleting",
    "del-repeat-answers-204",
)

AZURE_FAULTS: dict[str, Rule] = {
    **{name: FAULTS[name] for name in REUSED},
    **{rule.name: rule for rule in RULES},
}

_GONE = ("wado-serves-the-deleted", "qido-finds-the-deleted")

# The tutorial's deletes (suites/delete/test_delete_tutorial.py, catalogued in requirements.toml): beyond the
# plain delete faults of tests/faults/test_every_check_can_fail.py, a delete must also be seen in WADO and QIDO.
TUTORIAL_DELETE_FAULTS: dict[str, tuple[str, ...]] = {
    "AZ-DEL-001": _GONE,
    "AZ-DEL-002": _GONE,
    "AZ-DEL-003": _GONE,
}

# Every requirement of suites/catalog/azure.toml (and the tutorial's deletes), and the faults that must make each
# of its checks FAIL.
AZURE_FAULT_TABLE: dict[str, tuple[str, ...]] = {
    **TUTORIAL_DELETE_FAULTS,
    "AZ-DEL-100": ("del-instance-204-without-deleting", *_GONE),
    "AZ-DEL-101": ("del-repeat-answers-204",),
    "AZ-DEL-102": ("del-instance-deletes-its-study",),
    "AZ-DEL-103": ("del-instance-deletes-its-study", "del-instance-204-without-deleting", *_GONE),
    "AZ-DEL-104": ("del-instance-deletes-its-series", "del-instance-204-without-deleting"),
    "AZ-DEL-105": ("del-series-204-without-deleting", *_GONE),
    "AZ-DEL-106": ("del-series-204-without-deleting", "wado-serves-the-deleted"),
    "AZ-DEL-107": ("del-series-deletes-its-study",),
    "AZ-DEL-108": ("del-study-204-without-deleting", *_GONE),
    "AZ-DEL-109": ("del-study-204-without-deleting", "wado-serves-the-deleted"),
    "AZ-DEL-110": ("del-malformed-uid-answers-204", "del-malformed-uid-deletes-the-study"),
    "AZ-DEL-111": ("del-repeat-answers-204",),
    "AZ-CF-100": ("cf-reverses-each-page",),
    "AZ-CF-101": ("cf-reverses-each-page",),
    "AZ-CF-102": ("cf-v1-offset-inclusive", "cf-reverses-each-page"),
    "AZ-CF-103": ("cf-v1-offset-inclusive",),
    "AZ-CF-104": ("cf-limit-plus-one",),
    "AZ-CF-105": ("cf-default-limit-plus-one",),
    "AZ-CF-110": ("cf-v2-start-exclusive",),
    "AZ-CF-111": ("cf-v2-end-inclusive",),
    "AZ-CF-112": ("cf-v2-offset-minus-one",),
    "AZ-CF-113": ("cf-limit-plus-one",),
    "AZ-CF-114": ("cf-default-limit-plus-one",),
    "AZ-CF-115": ("cf-v2-offset-minus-one", "cf-reverses-each-page"),
    "AZ-CF-130": ("cf-current-shown-as-replaced",),
    "AZ-CF-131": ("cf-current-shown-as-replaced",),
    "AZ-CF-132": ("cf-deleted-shown-as-current", "cf-delete-entries-carry-metadata"),
    "AZ-CF-133": ("cf-deleted-shown-as-current",),
    "AZ-CF-134": ("cf-deleted-shown-as-current",),
    "AZ-CF-135": ("cf-latest-is-the-first-entry",),
    "AZ-CF-136": ("cf-latest-is-the-first-entry", "cf-delete-entries-carry-metadata", "cf-deleted-shown-as-current"),
    "AZ-CF-140": ("cf-never-includes-metadata", "cf-metadata-of-another-instance", "cf-and-metadata-lose-patient-name"),
    "AZ-CF-141": ("cf-ignores-include-metadata-false",),
    "AZ-CF-150": ("cf-bad-request-answered-200",),
    "AZ-CF-151": ("cf-bad-request-answered-200",),
    "AZ-CF-152": ("cf-bad-request-answered-200",),
    "AZ-CF-153": ("cf-v2-refuses-limit-200",),
    "AZ-CF-154": ("cf-bad-request-answered-200",),
    "AZ-CF-155": ("cf-bad-request-answered-200",),
    "AZ-VER-001": ("version-header-missing", "version-header-without-the-current"),
    "AZ-META-050": ("metadata-drops-etag",),
    "AZ-META-051": ("metadata-ignores-if-none-match",),
    "AZ-META-052": ("metadata-304-for-any-tag",),
    "AZ-META-053": ("metadata-etag-never-changes",),
    "AZ-META-054": ("metadata-etag-never-changes",),
    "AZ-AUTH-001": ("auth-anonymous-gets-in-everywhere", "auth-challenge-basic"),
    "AZ-AUTH-002": ("auth-any-token-gets-in", "auth-challenge-basic"),
    "AZ-AUTH-003": ("auth-any-token-gets-in", "auth-challenge-without-error"),
    "AZ-AUTH-004": ("auth-any-token-gets-in", "auth-challenge-basic"),
    "AZ-AUTH-005": ("auth-any-token-gets-in", "auth-challenge-without-error"),
    "AZ-AUTH-006": ("auth-any-token-gets-in", "auth-challenge-basic"),
    "AZ-AUTH-007": ("auth-refuses-valid-token",),
}
