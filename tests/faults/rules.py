"""Named proxy rules. Each fault breaks one rule a conformance check verifies; each repair hides one
known deviation of the upstream server, so that the check it blocks can be seen passing, then failing.

A rule matches a method, a path under the DICOMweb root (/dicom-web or a version segment such as /v2)
and optionally patterns in the Accept or Content-Type header or the query; everything else, Orthanc's
REST API included, passes through the proxy untouched.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from io import BytesIO
from typing import Any

import pydicom
from requests.structures import CaseInsensitiveDict

from tests.faults.proxy import Forward, ProxyRequest, ProxyResponse

Json = Any
Action = Callable[[ProxyRequest, Forward], ProxyResponse]

DICOM_JSON = "application/dicom+json"
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
PROCESSING_FAILURE = 272  # PS3.4 Annex GG: Failure Reason 0110H
AUTH_TOKEN = "fault-proxy-test-token"  # the one bearer token the facade under test accepts

# DICOM JSON keys (PS3.18 Annex F) of the attributes the rules touch.
SOP_INSTANCE_UID = "00080018"
MODALITY = "00080060"
RETRIEVE_URL = "00081190"
REFERENCED_SOP_CLASS_UID = "00081150"
REFERENCED_SOP_INSTANCE_UID = "00081155"
FAILURE_REASON = "00081197"
FAILED_SOP_SEQUENCE = "00081198"
REFERENCED_SOP_SEQUENCE = "00081199"
PATIENT_NAME = "00100010"
STUDY_INSTANCE_UID = "0020000D"
SERIES_INSTANCE_UID = "0020000E"

# --- paths ------------------------------------------------------------------------------------------

_ROOT = r"^/(?:dicom-web|v\d+(?:\.\d+)?)"
_UID = r"[0-9.]+"
STUDIES = rf"{_ROOT}/studies$"
STUDY = rf"{_ROOT}/studies/{_UID}$"
SERIES = rf"{_ROOT}/studies/{_UID}/series/{_UID}$"
INSTANCE = rf"{_ROOT}/studies/{_UID}/series/{_UID}/instances/{_UID}$"
FRAMES = rf"{_ROOT}/studies/{_UID}/series/{_UID}/instances/{_UID}/frames/[0-9,]+$"
STUDY_METADATA = rf"{_ROOT}/studies/{_UID}/metadata$"
SERIES_METADATA = rf"{_ROOT}/studies/{_UID}/series/{_UID}/metadata$"
INSTANCE_METADATA = rf"{_ROOT}/studies/{_UID}/series/{_UID}/instances/{_UID}/metadata$"
ALL_SERIES = rf"{_ROOT}/series$"
STUDY_SERIES = rf"{_ROOT}/studies/{_UID}/series$"
ALL_INSTANCES = rf"{_ROOT}/instances$"
STUDY_INSTANCES = rf"{_ROOT}/studies/{_UID}/instances$"
SERIES_INSTANCES = rf"{_ROOT}/studies/{_UID}/series/{_UID}/instances$"
CHANGEFEED = rf"{_ROOT}/changefeed$"
ANYTHING_IN_STUDIES = rf"{_ROOT}/studies/"
ANY_DICOMWEB_PATH = rf"{_ROOT}/"

MULTIPART = "^multipart/related"
SINGLE_PART = r"^application/dicom\b"


@dataclass(frozen=True)
class ProxyRule:
    """A named rule for FaultProxy; `breaks` says, for the report, which promise it breaks or restores.

    `accept`, `content_type` and `query` are regular expressions searched in the Accept header, the
    Content-Type header and the query string; `when` is any further condition on the request.
    """

    name: str
    breaks: str
    method: str
    path: str
    action: Action
    accept: str | None = None
    content_type: str | None = None
    query: str | None = None
    when: Callable[[ProxyRequest], bool] | None = None

    def matches(self, request: ProxyRequest) -> bool:
        return (
            request.method == self.method
            and re.search(self.path, request.path) is not None
            and _found(self.accept, request.headers.get("Accept", ""))
            and _found(self.content_type, request.headers.get("Content-Type", ""))
            and _found(self.query, request.query)
            and (self.when is None or self.when(request))
        )

    def handle(self, request: ProxyRequest, forward: Forward) -> ProxyResponse:
        return self.action(request, forward)


def get_rule(
    name: str,
    breaks: str,
    path: str,
    action: Action,
    *,
    accept: str | None = None,
    query: str | None = None,
    when: Callable[[ProxyRequest], bool] | None = None,
) -> ProxyRule:
    """A rule on GET requests."""
    return ProxyRule(name, breaks, "GET", path, action, accept=accept, query=query, when=when)


def _found(pattern: str | None, text: str) -> bool:
    return pattern is None or re.search(pattern, text) is not None


# --- multipart surgery (RFC 2046 5.1) --------------------------------------------------------------


@dataclass(frozen=True)
class MimePart:
    headers: tuple[tuple[str, str], ...]
    content: bytes

    @property
    def content_type(self) -> str:
        return next((value for name, value in self.headers if name.lower() == "content-type"), "")

    def with_content_type(self, value: str) -> MimePart:
        others = tuple((name, v) for name, v in self.headers if name.lower() != "content-type")
        return replace(self, headers=(("Content-Type", value), *others))

    def with_content(self, content: bytes) -> MimePart:
        # Orthanc writes a Content-Length on each part; keep it true so only the content differs.
        headers = tuple(
            (name, str(len(content)) if name.lower() == "content-length" else value) for name, value in self.headers
        )
        return MimePart(headers, content)


def boundary_of(content_type: str) -> str:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        raise ValueError(f"no boundary in {content_type!r}")
    return match.group(1)


def split_parts(body: bytes, boundary: str) -> list[MimePart]:
    """The parts of a well-formed multipart body (upstream answers and the suite's requests are)."""
    delimiter = b"--" + boundary.encode()
    pieces = body.split(delimiter)[1:]  # drop the preamble
    parts = []
    for piece in pieces:
        if piece.startswith(b"--"):
            break
        head, _, content = piece.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        parts.append(MimePart(_header_lines(head), content.removesuffix(b"\r\n")))
    return parts


def _header_lines(head: bytes) -> tuple[tuple[str, str], ...]:
    lines = [line.decode("latin-1") for line in head.split(b"\r\n") if line]
    return tuple((name.strip(), value.strip()) for name, _, value in (line.partition(":") for line in lines))


def join_parts(parts: list[MimePart], boundary: str, *, close: bool = True) -> bytes:
    chunks = []
    for part in parts:
        head = "".join(f"{name}: {value}\r\n" for name, value in part.headers).encode("latin-1")
        chunks.append(b"--" + boundary.encode() + b"\r\n" + head + b"\r\n" + part.content + b"\r\n")
    closing = b"--" + boundary.encode() + b"--\r\n" if close else b""
    return b"".join(chunks) + closing


# --- action builders ----------------------------------------------------------------------------------


def distort(change: Callable[[ProxyResponse], ProxyResponse]) -> Action:
    """Forward, then change a successful answer; errors pass through so they stay visible."""

    def action(request: ProxyRequest, forward: Forward) -> ProxyResponse:
        response = forward(request)
        return change(response) if 200 <= response.status < 300 else response

    return action


def on_status(status: int, change: Callable[[ProxyResponse], ProxyResponse]) -> Action:
    """Forward, then change an answer with this status only."""

    def action(request: ProxyRequest, forward: Forward) -> ProxyResponse:
        response = forward(request)
        return change(response) if response.status == status else response

    return action


def json_answer(document: Json) -> Action:
    """Answer 200 with this DICOM JSON, without asking the upstream server."""
    headers = CaseInsensitiveDict({"Content-Type": DICOM_JSON})
    return lambda request, forward: ProxyResponse(200, headers, json.dumps(document).encode())


def without_offset(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """Forward the query without its offset: every page is the first."""
    query = "&".join(item for item in request.query.split("&") if not item.startswith("offset="))
    return forward(replace(request, query=query))


def answer(status: int) -> Action:
    """Answer without asking the upstream server: nothing happens there."""
    return lambda request, forward: ProxyResponse(status)


def without_accept(request: ProxyRequest) -> bool:
    """The request has no Accept header at all (PS3.18 8.7.7 wants 406 for it)."""
    return "Accept" not in request.headers


def adding_accept(accept: str) -> Action:
    """Forward the request with an Accept header it did not have."""
    return lambda request, forward: forward(request.with_headers(accept=accept))


def distort_json(change: Callable[[Json], Json]) -> Action:
    def change_body(response: ProxyResponse) -> ProxyResponse:
        document = change(json.loads(response.body))
        return response.with_body(json.dumps(document, indent=1).encode())

    return distort(change_body)


def distort_parts(change: Callable[[list[MimePart]], list[MimePart]]) -> Action:
    def change_body(response: ProxyResponse) -> ProxyResponse:
        boundary = boundary_of(response.content_type)
        return response.with_body(join_parts(change(split_parts(response.body, boundary)), boundary))

    return distort(change_body)


def distort_each_dataset(change: Callable[[dict[str, Json]], dict[str, Json]]) -> Action:
    return distort_json(lambda datasets: [change(dataset) for dataset in datasets])


def with_status(status: int) -> Action:
    return distort(lambda response: response.with_status(status))


def with_content_type(content_type: str) -> Action:
    return distort(lambda response: response.with_body(response.body, content_type))


def store_response(response: Json) -> dict[str, Json]:
    """The one Store Instances Response dataset, whether sent bare or as a one-item array."""
    dataset: dict[str, Json] = response[0] if isinstance(response, list) else response
    return dataset


def in_store_response(change: Callable[[dict[str, Json]], None]) -> Action:
    def changed(document: Json) -> Json:
        change(store_response(document))
        return document

    return distort_json(changed)


def in_each_reference(change: Callable[[dict[str, Json]], None]) -> Action:
    def changed(dataset: dict[str, Json]) -> None:
        for item in dataset[REFERENCED_SOP_SEQUENCE]["Value"]:
            change(item)

    return in_store_response(changed)


# --- STOW-RS ----------------------------------------------------------------------------------------


def _stored_instances(body: bytes, content_type: str) -> list[pydicom.Dataset]:
    """The datasets of a STOW body: multipart/related, or one Part 10 file (Azure's single-part store)."""
    files = (
        [body]
        if content_type.startswith("application/dicom")
        else [part.content for part in split_parts(body, boundary_of(content_type))]
    )
    return [pydicom.dcmread(BytesIO(file), stop_before_pixels=True) for file in files]


def fabricated_store_answer(request: ProxyRequest) -> ProxyResponse:
    """A well-formed 200 Store Instances Response naming every instance of the request, stored or not."""
    base = f"http://{request.headers['Host']}{request.path.split('/studies')[0]}"
    items = [
        {
            REFERENCED_SOP_CLASS_UID: {"vr": "UI", "Value": [str(ds.SOPClassUID)]},
            REFERENCED_SOP_INSTANCE_UID: {"vr": "UI", "Value": [str(ds.SOPInstanceUID)]},
            RETRIEVE_URL: {
                "vr": "UR",
                "Value": [
                    f"{base}/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}/instances/{ds.SOPInstanceUID}"
                ],
            },
        }
        for ds in _stored_instances(request.body, request.headers["Content-Type"])
    ]
    dataset = {FAILED_SOP_SEQUENCE: {"vr": "SQ"}, REFERENCED_SOP_SEQUENCE: {"vr": "SQ", "Value": items}}
    headers = CaseInsensitiveDict({"Content-Type": DICOM_JSON})
    return ProxyResponse(200, headers, json.dumps(dataset).encode())


def store_nothing(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    return fabricated_store_answer(request)


def store_only_the_first_part(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    boundary = boundary_of(request.headers["Content-Type"])
    first = split_parts(request.body, boundary)[:1]
    forward(replace(request, body=join_parts(first, boundary)))
    return fabricated_store_answer(request)


def _drop_references(dataset: dict[str, Json]) -> None:
    del dataset[REFERENCED_SOP_SEQUENCE]


def _report_a_failure(dataset: dict[str, Json]) -> None:
    failure = {
        REFERENCED_SOP_CLASS_UID: {"vr": "UI", "Value": [CT_IMAGE_STORAGE]},
        REFERENCED_SOP_INSTANCE_UID: {"vr": "UI", "Value": ["2.25.1"]},
        FAILURE_REASON: {"vr": "US", "Value": [PROCESSING_FAILURE]},
    }
    dataset[FAILED_SOP_SEQUENCE] = {"vr": "SQ", "Value": [failure]}


def _claim_ct_class(item: dict[str, Json]) -> None:
    item[REFERENCED_SOP_CLASS_UID] = {"vr": "UI", "Value": [CT_IMAGE_STORAGE]}


def _drop_retrieve_url(item: dict[str, Json]) -> None:
    item.pop(RETRIEVE_URL, None)


# --- WADO-RS: Part 10 files and frames ---------------------------------------------------------------


def _flip_last_byte(part: MimePart) -> MimePart:
    return part.with_content(part.content[:-1] + bytes([part.content[-1] ^ 0xFF]))


def _garble_dicm_prefix(part: MimePart) -> MimePart:
    # PS3.10 7.1: the 128-byte preamble is followed by "DICM"; without it a reader rejects the file.
    return part.with_content(part.content[:128] + b"XXXX" + part.content[132:])


def on_first_part(change: Callable[[MimePart], MimePart]) -> Callable[[list[MimePart]], list[MimePart]]:
    return lambda parts: [change(parts[0]), *parts[1:]]


# Empty answers (the suite's reachability probe on a fresh server) pass through these unchanged.
def drop_last(items: list[Any]) -> list[Any]:
    return items[:-1]


def repeat_last(items: list[Any]) -> list[Any]:
    return items + items[-1:]


def truncated_multipart(response: ProxyResponse) -> ProxyResponse:
    boundary = boundary_of(response.content_type)
    return response.with_body(join_parts(split_parts(response.body, boundary), boundary, close=False))


def lf_only_multipart(response: ProxyResponse) -> ProxyResponse:
    """The same parts framed with bare LF line ends (RFC 2046 5.1.1 wants CRLF): no CRLFCRLF anywhere."""
    boundary = boundary_of(response.content_type)
    delimiter = b"--" + boundary.encode()
    chunks = []
    for part in split_parts(response.body, boundary):
        head = "".join(f"{name}: {value}\n" for name, value in part.headers).encode("latin-1")
        chunks.append(delimiter + b"\n" + head + b"\n" + part.content + b"\n")
    return response.with_body(b"".join(chunks) + delimiter + b"--\n")


def unterminated_multipart(response: ProxyResponse) -> ProxyResponse:
    """The first part alone, with no delimiter after its content: a reader never finds the boundary line again."""
    boundary = boundary_of(response.content_type)
    [part, *_] = split_parts(response.body, boundary)
    head = "".join(f"{name}: {value}\r\n" for name, value in part.headers).encode("latin-1")
    return response.with_body(b"--" + boundary.encode() + b"\r\n" + head + b"\r\n" + part.content)


def without_boundary(response: ProxyResponse) -> ProxyResponse:
    return response.with_body(response.body, re.sub(r';\s*boundary="?[^";]+"?', "", response.content_type))


# --- WADO-RS: metadata (DICOM JSON, PS3.18 Annex F) ----------------------------------------------------


def with_other_uid(dataset: dict[str, Json], key: str) -> dict[str, Json]:
    """A copy of `dataset` that names another entity: the same attributes under a new UID."""
    other = copy.deepcopy(dataset)
    other[key] = {"vr": "UI", "Value": [str(other[key]["Value"][0]) + ".9"]}
    return other


def add_another(key: str) -> Callable[[list[dict[str, Json]]], list[dict[str, Json]]]:
    return lambda datasets: datasets + [with_other_uid(dataset, key) for dataset in datasets[-1:]]


def _rename_key(dataset: dict[str, Json], old: str, new: str) -> dict[str, Json]:
    return {new if name == old else name: element for name, element in dataset.items()}


def lowercase_study_uid_key(dataset: dict[str, Json]) -> dict[str, Json]:
    return _rename_key(dataset, STUDY_INSTANCE_UID, STUDY_INSTANCE_UID.lower())


def drop_patient_name_vr(dataset: dict[str, Json]) -> dict[str, Json]:
    dataset[PATIENT_NAME].pop("vr")
    return dataset


def name_another_study(dataset: dict[str, Json]) -> dict[str, Json]:
    dataset[STUDY_INSTANCE_UID] = {"vr": "UI", "Value": ["2.25.1"]}
    return dataset


def reverse_key_order(dataset: dict[str, Json]) -> dict[str, Json]:
    return dict(reversed(dataset.items()))


def scalar_modality_value(dataset: dict[str, Json]) -> dict[str, Json]:
    dataset[MODALITY]["Value"] = dataset[MODALITY]["Value"][0]
    return dataset


def patient_name_as_string(dataset: dict[str, Json]) -> dict[str, Json]:
    dataset[PATIENT_NAME]["Value"] = [dataset[PATIENT_NAME]["Value"][0]["Alphabetic"]]
    return dataset


def add_group_length(dataset: dict[str, Json]) -> dict[str, Json]:
    return {"00080000": {"vr": "UL", "Value": [0]}, **dataset}


# --- repairs of Orthanc's known deviations -----------------------------------------------------------


def add_type_parameter(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """DW-STOW-005: Orthanc refuses multipart/related without type=; supply the one PS3.18 uses."""
    content_type = request.headers.get("Content-Type", "")
    if "type=" not in content_type:
        request = request.with_headers(content_type=content_type + '; type="application/dicom"')
    return forward(request)


def serve_single_part(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """DW-WADO-005: Orthanc serves an instance only as multipart; unwrap its one part."""
    syntax = re.search(r"transfer-syntax=([^;\s]+)", request.headers["Accept"])
    accept = 'multipart/related; type="application/dicom"' + (f"; transfer-syntax={syntax.group(1)}" if syntax else "")
    response = forward(request.with_headers(accept=accept))
    if response.status != 200:
        return response
    parts = split_parts(response.body, boundary_of(response.content_type))
    return response.with_body(parts[0].content, "application/dicom")


def search_by_patient_id_only(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """DW-QIDO-007: Orthanc's QIDO never matches PatientName; PatientID alone names the same study here."""
    query = "&".join(pair for pair in request.query.split("&") if not pair.startswith("PatientName="))
    return forward(replace(request, query=query))


# --- Azure extensions: delete, change feed, single-part and duplicate stores, authentication ----------


def forward_to_parent(separator: str) -> Action:
    """Send the request to the resource's parent: a delete that takes more than it was asked to."""
    return lambda request, forward: forward(replace(request, path=request.path.rsplit(separator, 1)[0]))


def no_content(response: ProxyResponse) -> ProxyResponse:
    return ProxyResponse(204)


def _entry_field(entry: dict[str, Json], field: str) -> str:
    """Change-feed entries use camelCase; the suite reads them case-insensitively, so the rules do too."""
    return next((name for name in entry if name.lower() == field), field)


def without_creates(entries: list[Json]) -> list[Json]:
    return [entry for entry in entries if str(entry.get(_entry_field(entry, "action"), "")).lower() != "create"]


def naming_other_series(entries: list[Json]) -> list[Json]:
    for entry in entries:
        entry[_entry_field(entry, "seriesinstanceuid")] = "2.25.1"
    return entries


def _change_failure_reasons(dataset: dict[str, Json]) -> None:
    for item in dataset.get(FAILED_SOP_SEQUENCE, {}).get("Value", []):
        item[FAILURE_REASON] = {"vr": "US", "Value": [PROCESSING_FAILURE]}


def store_response_changed(change: Callable[[dict[str, Json]], None]) -> Callable[[ProxyResponse], ProxyResponse]:
    def changed(response: ProxyResponse) -> ProxyResponse:
        document = json.loads(response.body)
        change(store_response(document))
        return response.with_body(json.dumps(document).encode())

    return changed


def add_credentials(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    return forward(request.with_headers(authorization=f"Bearer {AUTH_TOKEN}"))


def _anonymous(request: ProxyRequest) -> bool:
    return "Authorization" not in request.headers


# --- the catalogue -----------------------------------------------------------------------------------


def _multipart_get(name: str, breaks: str, path: str, action: Action) -> ProxyRule:
    return ProxyRule(name, breaks, "GET", path, action, accept=MULTIPART)


def _json_get(name: str, breaks: str, path: str, action: Action) -> ProxyRule:
    return ProxyRule(name, breaks, "GET", path, action, accept=re.escape(DICOM_JSON))


_STOW_RULES = [
    ProxyRule("stow-status-202", "a successful store answers 200", "POST", STUDIES, with_status(202)),
    ProxyRule(
        "stow-content-type-json",
        "the store response is application/dicom+json",
        "POST",
        STUDIES,
        with_content_type("application/json"),
    ),
    ProxyRule(
        "stow-drops-referenced-sop-sequence",
        "the store response lists what was stored",
        "POST",
        STUDIES,
        in_store_response(_drop_references),
    ),
    ProxyRule(
        "stow-wrong-sop-class",
        "each reference names the instance's SOP Class UID",
        "POST",
        STUDIES,
        in_each_reference(_claim_ct_class),
    ),
    ProxyRule(
        "stow-drops-retrieve-url",
        "each reference carries a RetrieveURL",
        "POST",
        STUDIES,
        in_each_reference(_drop_retrieve_url),
    ),
    ProxyRule(
        "stow-200-lists-a-failure",
        "a 200 store response lists no failures",
        "POST",
        STUDIES,
        in_store_response(_report_a_failure),
    ),
    ProxyRule("stow-stores-nothing", "what a store reports stored is stored", "POST", STUDIES, store_nothing),
    ProxyRule(
        "stow-body-not-json",
        "an application/dicom+json answer is DICOM JSON",
        "POST",
        STUDIES,
        distort(lambda response: response.with_body(b"<html>stored</html>")),
    ),
    ProxyRule(
        "stow-study-stores-first-part-only",
        "a store to /studies/{study} stores every part",
        "POST",
        STUDY,
        store_only_the_first_part,
    ),
    ProxyRule("stow-study-status-202", "a store to /studies/{study} answers 200", "POST", STUDY, with_status(202)),
]

_WADO_RULES = [
    _multipart_get(
        "wado-study-drops-last-part", "a study retrieve returns every instance", STUDY, distort_parts(drop_last)
    ),
    _multipart_get(
        "wado-study-repeats-last-part", "a study retrieve returns each instance once", STUDY, distort_parts(repeat_last)
    ),
    _multipart_get(
        "wado-study-part-octet-stream",
        "each part is application/dicom",
        STUDY,
        distort_parts(on_first_part(lambda part: part.with_content_type("application/octet-stream"))),
    ),
    _multipart_get(
        "wado-study-part-not-dicom",
        "each part is a Part 10 file",
        STUDY,
        distort_parts(on_first_part(_garble_dicm_prefix)),
    ),
    _multipart_get("wado-study-no-boundary", "a multipart answer names its boundary", STUDY, distort(without_boundary)),
    _multipart_get(
        "wado-study-truncated", "a multipart body ends with its close delimiter", STUDY, distort(truncated_multipart)
    ),
    _multipart_get(
        "wado-study-flips-a-byte",
        "transfer-syntax=* returns the stored bytes",
        STUDY,
        distort_parts(on_first_part(_flip_last_byte)),
    ),
    _multipart_get(
        "wado-series-drops-last-part", "a series retrieve returns every instance", SERIES, distort_parts(drop_last)
    ),
    _multipart_get(
        "wado-series-flips-a-byte",
        "transfer-syntax=* returns the stored bytes",
        SERIES,
        distort_parts(on_first_part(_flip_last_byte)),
    ),
    _multipart_get(
        "wado-instance-flips-a-byte",
        "an instance retrieve returns the stored bytes",
        INSTANCE,
        distort_parts(on_first_part(_flip_last_byte)),
    ),
    _multipart_get(
        "wado-instance-repeats-the-part",
        "an instance retrieve returns that instance alone",
        INSTANCE,
        distort_parts(repeat_last),
    ),
    _multipart_get(
        "frames-flips-a-byte", "a frame is the stored pixel data", FRAMES, distort_parts(on_first_part(_flip_last_byte))
    ),
    _multipart_get(
        "frames-declares-jpeg-baseline",
        "a native frame declares no other transfer syntax",
        FRAMES,
        distort_parts(
            on_first_part(
                lambda part: part.with_content_type(f"application/octet-stream; transfer-syntax={JPEG_BASELINE}")
            )
        ),
    ),
    _multipart_get(
        "frames-part-type-dicom",
        "a frame part is application/octet-stream",
        FRAMES,
        distort_parts(on_first_part(lambda part: part.with_content_type("application/dicom"))),
    ),
    _multipart_get("frames-repeats-the-part", "frames/1 returns one part", FRAMES, distort_parts(repeat_last)),
]

_METADATA_RULES = [
    _json_get("metadata-study-drops-a-dataset", "one dataset per instance", STUDY_METADATA, distort_json(drop_last)),
    _json_get(
        "metadata-study-repeats-a-dataset", "one dataset per instance", STUDY_METADATA, distort_json(repeat_last)
    ),
    _json_get(
        "metadata-study-content-type-json",
        "metadata is application/dicom+json",
        STUDY_METADATA,
        with_content_type("application/json"),
    ),
    _json_get("metadata-series-drops-a-dataset", "one dataset per instance", SERIES_METADATA, distort_json(drop_last)),
    _json_get(
        "metadata-series-adds-another-instance",
        "only the series' instances",
        SERIES_METADATA,
        distort_json(add_another(SOP_INSTANCE_UID)),
    ),
    _json_get(
        "metadata-instance-drops-the-dataset", "the instance's dataset", INSTANCE_METADATA, distort_json(drop_last)
    ),
    _json_get(
        "metadata-instance-adds-another-instance",
        "that instance's dataset alone",
        INSTANCE_METADATA,
        distort_json(add_another(SOP_INSTANCE_UID)),
    ),
    _json_get(
        "metadata-instance-names-another-study",
        "the dataset is that instance's",
        INSTANCE_METADATA,
        distort_each_dataset(name_another_study),
    ),
    _json_get(
        "metadata-lowercase-key",
        "keys are uppercase hex (F.2.1.1)",
        STUDY_METADATA,
        distort_each_dataset(lowercase_study_uid_key),
    ),
    _json_get(
        "metadata-missing-vr",
        "every attribute has a vr (F.2.2)",
        STUDY_METADATA,
        distort_each_dataset(drop_patient_name_vr),
    ),
    _json_get(
        "metadata-keys-out-of-order",
        "attributes in tag order (F.2.1.1)",
        STUDY_METADATA,
        distort_each_dataset(reverse_key_order),
    ),
    _json_get(
        "metadata-scalar-value",
        "Value is an array (F.2.3)",
        STUDY_METADATA,
        distort_each_dataset(scalar_modality_value),
    ),
    _json_get(
        "metadata-pn-as-string",
        "PN values are name-group objects (F.2.2)",
        STUDY_METADATA,
        distort_each_dataset(patient_name_as_string),
    ),
    _json_get(
        "metadata-group-length",
        "no group length attributes (F.2.1.1)",
        STUDY_METADATA,
        distort_each_dataset(add_group_length),
    ),
]

_QIDO_RULES = [
    _json_get("qido-studies-drops-the-result", "the matching study is found", STUDIES, distort_json(lambda _: [])),
    _json_get("qido-studies-repeats-the-result", "each match is listed once", STUDIES, distort_json(repeat_last)),
    _json_get(
        "qido-studies-text-plain", "results are application/dicom+json", STUDIES, with_content_type("text/plain")
    ),
    _json_get("qido-studies-status-204", "a search with matches answers 200", STUDIES, with_status(204)),
    _json_get("qido-series-drops-the-result", "the matching series is found", ALL_SERIES, distort_json(lambda _: [])),
    _json_get(
        "qido-series-adds-another-series",
        "only matching series are listed",
        ALL_SERIES,
        distort_json(add_another(SERIES_INSTANCE_UID)),
    ),
    _json_get(
        "qido-study-series-drops-the-result", "the matching series is found", STUDY_SERIES, distort_json(lambda _: [])
    ),
    # Never drop /instances results: the suite polls that search to see its uploads become visible.
    _json_get(
        "qido-instances-repeats-the-result", "each match is listed once", ALL_INSTANCES, distort_json(repeat_last)
    ),
    _json_get(
        "qido-instances-text-plain",
        "results are application/dicom+json",
        ALL_INSTANCES,
        with_content_type("text/plain"),
    ),
    _json_get(
        "qido-study-instances-drops-the-result",
        "the matching instance is found",
        STUDY_INSTANCES,
        distort_json(lambda _: []),
    ),
    _json_get(
        "qido-series-instances-drops-the-result",
        "the matching instance is found",
        SERIES_INSTANCES,
        distort_json(lambda _: []),
    ),
]

_AZURE_RULES = [
    ProxyRule(
        "del-instance-204-without-deleting", "a 204 delete removes the instance", "DELETE", INSTANCE, answer(204)
    ),
    ProxyRule("del-instance-status-200", "a delete answers 204", "DELETE", INSTANCE, with_status(200)),
    ProxyRule(
        "del-instance-deletes-its-series",
        "an instance delete leaves its siblings",
        "DELETE",
        INSTANCE,
        forward_to_parent("/instances/"),
    ),
    ProxyRule("del-series-204-without-deleting", "a 204 delete removes the series", "DELETE", SERIES, answer(204)),
    ProxyRule(
        "del-series-deletes-its-study",
        "a series delete leaves the other series",
        "DELETE",
        SERIES,
        forward_to_parent("/series/"),
    ),
    ProxyRule("del-study-204-without-deleting", "a 204 delete removes the study", "DELETE", STUDY, answer(204)),
    ProxyRule(
        "del-repeat-answers-204",
        "deleting what is gone answers 404",
        "DELETE",
        ANYTHING_IN_STUDIES,
        on_status(404, no_content),
    ),
    ProxyRule(
        "cf-object-not-array",
        "the feed is a JSON array",
        "GET",
        CHANGEFEED,
        distort_json(lambda entries: {"value": entries}),
    ),
    ProxyRule(
        "cf-content-type-text", "the feed is application/json", "GET", CHANGEFEED, with_content_type("text/plain")
    ),
    ProxyRule(
        "cf-entry-not-object",
        "every feed entry is an object",
        "GET",
        CHANGEFEED,
        distort_json(lambda entries: [*entries, "create"]),
    ),
    ProxyRule(
        "cf-drops-creates", "every stored instance has a create entry", "GET", CHANGEFEED, distort_json(without_creates)
    ),
    ProxyRule(
        "cf-names-other-series",
        "a create entry names the instance's series",
        "GET",
        CHANGEFEED,
        distort_json(naming_other_series),
    ),
    ProxyRule(
        "stow-single-part-415",
        "a single-part store is accepted",
        "POST",
        STUDIES,
        answer(415),
        content_type=SINGLE_PART,
    ),
    ProxyRule(
        "stow-single-part-stores-nothing",
        "a single-part store stores the instance",
        "POST",
        STUDIES,
        store_nothing,
        content_type=SINGLE_PART,
    ),
    ProxyRule(
        "stow-duplicate-answers-200",
        "a duplicate store answers 409",
        "POST",
        STUDIES,
        on_status(409, lambda response: response.with_status(200)),
    ),
    ProxyRule(
        "stow-duplicate-other-failure-reason",
        "a duplicate is reported with FailureReason 45070",
        "POST",
        STUDIES,
        on_status(409, store_response_changed(_change_failure_reasons)),
    ),
    ProxyRule(
        "auth-anonymous-gets-in",
        "a request without credentials answers 401",
        "GET",
        ANY_DICOMWEB_PATH,
        add_credentials,
        when=_anonymous,
    ),
]

FAULTS: dict[str, ProxyRule] = {
    rule.name: rule for rule in [*_STOW_RULES, *_WADO_RULES, *_METADATA_RULES, *_QIDO_RULES, *_AZURE_RULES]
}

REPAIRS: dict[str, ProxyRule] = {
    "DW-STOW-005": ProxyRule(
        "repair-stow-type-parameter", "adds the type parameter Orthanc needs", "POST", STUDIES, add_type_parameter
    ),
    "DW-WADO-005": ProxyRule(
        "repair-wado-single-part",
        "serves an instance as single-part application/dicom",
        "GET",
        INSTANCE,
        serve_single_part,
        accept=SINGLE_PART,
    ),
    "DW-QIDO-007": ProxyRule(
        "repair-qido-patient-name",
        "searches by PatientID alone",
        "GET",
        STUDIES,
        search_by_patient_id_only,
        query="PatientName=",
    ),
}
