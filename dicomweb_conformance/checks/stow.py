"""The STOW-RS depth and bad-input checks: sending, looking, judging (their fixtures: fixtures/stow_fixtures.py).

Sending: every body goes out through `send`, which writes what it carries to the ledger first.
Looking: `lookup` asks the server what it holds for an instance (WADO by path, then QIDO by SOP
Instance UID), so a check can tell "stored", "absent" and "cannot be asked" apart.
Judging: `check_refused_without_trace` is the verdict on bad input: 4xx, never 5xx or a hang, never a
success for what was not kept, and never a corrupt object served as if valid.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

import requests

from dicomweb_conformance.checks.common import ConformanceFailure, data_loss, fail, status_line
from dicomweb_conformance.checks.store import store_response_dataset
from dicomweb_conformance.corpora.stow_inputs import StowBody
from dicomweb_conformance.dicom.dicomjson import first, values
from dicomweb_conformance.dicom.part10 import instance_difference
from dicomweb_conformance.dicom.samples import SampleInstance
from dicomweb_conformance.dicom.uids import is_valid_uid
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.multipart import MultipartError, Part, parse_media_type
from dicomweb_conformance.transport.multipart_decoder import iter_parts
from dicomweb_conformance.transport.store import DICOM_JSON, MULTIPART_DICOM_ANY_TS, Dicomweb, instance_path

# Issue #4: bad input must never hang the server; a finite timeout turns a hang into a verdict.
HANG_TIMEOUT = 20.0
# PS3.18 Annex I.2.2 Table I.2-2: the Failure Reason values and classes the standard defines.
TABLE_I_2_2_CLASSES = ((0xA700, 0xA7FF), (0xA900, 0xA9FF), (0xC000, 0xCFFF))
TABLE_I_2_2_VALUES = frozenset({0xC122, 0x0110, 0x0122})
# Azure conformance statement: 45070 (0xB00E) already exists, 45071 (0xB00F) being created.
AZURE_DOCUMENTED_REASONS = frozenset({45070, 45071})

Json = dict[str, Any]


@dataclass(frozen=True)
class StoreExchange:
    """One store request sent by a shared fixture, its answer, and what it carried."""

    response: requests.Response
    stored: tuple[SampleInstance, ...]
    refused: tuple[SampleInstance, ...]


# --- sending ---------------------------------------------------------------------------------------------------


def send(
    dicomweb: Dicomweb,
    request: StowBody,
    *,
    study: str | None = None,
    accept: str | None = DICOM_JSON,
    data: Any = None,
    timeout: float | None = None,
) -> requests.Response:
    """POST the body as it is (or `data`, e.g. an iterator for a chunked body); accept=None sends no Accept."""
    dicomweb.record(request.instances)
    # requests sends "Accept: */*" unless the header is removed explicitly (a None value removes it).
    headers: dict[str, Any] = {"Accept": accept, "Content-Type": request.content_type}
    return dicomweb.client.request(
        "POST",
        f"studies/{study}" if study is not None else "studies",
        headers=headers,
        data=request.body if data is None else data,
        timeout=timeout,
    )


def send_bad_input(dicomweb: Dicomweb, request: StowBody, what: str) -> requests.Response:
    """Send with a finite timeout; no answer in time is a hang, a dropped connection is no answer: both FAIL."""
    try:
        return send(dicomweb, request, timeout=min(HANG_TIMEOUT, dicomweb.target.request_timeout))
    except requests.Timeout:
        raise _no_answer(dicomweb.client, f"{what}: the server hangs", "an answer within the timeout") from None
    except requests.ConnectionError as error:
        raise _no_answer(dicomweb.client, f"{what}: the server dropped the connection", "a 4xx answer", error) from None


def _no_answer(
    client: DicomwebClient, summary: str, expected: str, error: Exception | None = None
) -> ConformanceFailure:
    exchange = client.exchanges[-1] if client.exchanges else None
    actual = f"no answer ({type(error).__name__}: {error})" if error else "no answer (timeout)"
    return ConformanceFailure(summary, expected=expected, actual=actual, exchange=exchange)


# --- reading a store response ----------------------------------------------------------------------------------


def response_dataset(response: requests.Response) -> Json | None:
    """The Store Instances Response dataset, whatever the Content-Type says; None when the body is not one."""
    try:
        return store_response_dataset(response, "store response")
    except ConformanceFailure:
        return None


def referenced_items(dataset: Json | None) -> list[Json]:
    return [item for item in values(dataset or {}, "ReferencedSOPSequence") if isinstance(item, dict)]


def failed_items(dataset: Json | None) -> list[Json]:
    return [item for item in values(dataset or {}, "FailedSOPSequence") if isinstance(item, dict)]


def sop_uids(items: Iterable[Json]) -> list[str]:
    return sorted(str(first(item, "ReferencedSOPInstanceUID")) for item in items)


def failure_reasons(dataset: Json | None) -> list[Any]:
    return [first(item, "FailureReason") for item in failed_items(dataset)]


def check_lists_exactly(
    response: requests.Response, items: list[Json], instances: Sequence[SampleInstance], sequence: str, what: str
) -> None:
    """`items` of `sequence` name exactly `instances`, one item each."""
    expected = sorted(i.sop_instance_uid for i in instances)
    if sop_uids(items) != expected:
        raise fail(
            f"{what}: {sequence} does not list exactly the expected instances (Annex I.1)",
            expected=expected or f"no {sequence} item",
            actual=sop_uids(items) or f"no {sequence} item",
            response=response,
        )


def check_failed_item(response: requests.Response, item: Json, instance: SampleInstance, what: str) -> None:
    """Annex I.1 Table I.1-1: SOP Instance Reference Macro plus a FailureReason (Type 1, VR US)."""
    found = {
        "ReferencedSOPClassUID": first(item, "ReferencedSOPClassUID"),
        "ReferencedSOPInstanceUID": first(item, "ReferencedSOPInstanceUID"),
    }
    expected = {"ReferencedSOPClassUID": instance.sop_class_uid, "ReferencedSOPInstanceUID": instance.sop_instance_uid}
    if found != expected:
        raise fail(
            f"{what}: the FailedSOPSequence item does not name {instance.name} (SOP Instance Reference Macro)",
            expected=expected,
            actual=found,
            response=response,
        )
    check_failure_reason_present(response, item, what)


def check_failure_reason_present(response: requests.Response, item: Json, what: str) -> int:
    element = item.get("00081197")
    reason = first(item, "FailureReason")
    if not isinstance(element, dict) or element.get("vr") != "US" or not isinstance(reason, int):
        raise fail(
            f"{what}: the FailedSOPSequence item has no FailureReason (0008,1197) US value (Type 1)",
            expected='{"vr": "US", "Value": [<reason>]}',
            actual=element if element is not None else "absent",
            response=response,
        )
    return reason


def in_table_i_2_2(reason: int) -> bool:
    return reason in TABLE_I_2_2_VALUES or any(low <= reason <= high for low, high in TABLE_I_2_2_CLASSES)


# --- what the server holds ---------------------------------------------------------------------------------------


class Held(Enum):
    STORED = "stored"
    ABSENT = "absent"
    UNKNOWN = "cannot be asked"


@dataclass(frozen=True)
class Presence:
    held: Held
    content: bytes | None = None  # the bytes the server serves, when it serves them
    answer: requests.Response | None = None  # the answer that left the question open (Held.UNKNOWN)
    not_at_its_path: bool = False  # WADO-RS answered 404 at the instance's own path before the search


def valid_uids(instance: SampleInstance) -> bool:
    return all(map(is_valid_uid, (instance.study_uid, instance.series_uid, instance.sop_instance_uid)))


def lookup(client: DicomwebClient, instance: SampleInstance) -> Presence:
    """WADO by the instance's own path; when that finds nothing, QIDO by SOP Instance UID (it may sit elsewhere)."""
    asked_path = valid_uids(instance)
    if asked_path:
        found = _retrieve(client, instance_path(instance))
        if found.held is not Held.ABSENT:
            return found
    if not is_valid_uid(instance.sop_instance_uid):
        return Presence(Held.UNKNOWN)
    return replace(_search(client, instance.sop_instance_uid), not_at_its_path=asked_path)


def _retrieve(client: DicomwebClient, path: str) -> Presence:
    with client.streamed(path, accept=MULTIPART_DICOM_ANY_TS) as response:
        if response.status_code == 404:
            return Presence(Held.ABSENT)
        if response.status_code != 200:
            return Presence(Held.UNKNOWN, answer=response)
        return Presence(Held.STORED, _first_part(response))


def _first_part(response: requests.Response) -> bytes | None:
    _, params = parse_media_type(response.headers.get("Content-Type", ""))
    try:
        parts: Iterator[Part] = iter_parts(response.iter_content(256 * 1024), params.get("boundary", ""))
        return next(parts).content
    except (MultipartError, StopIteration):
        return None


def _search(client: DicomwebClient, sop: str) -> Presence:
    response = client.get("instances", accept=DICOM_JSON, params={"SOPInstanceUID": sop})
    if response.status_code == 204:
        return Presence(Held.ABSENT)
    if response.status_code != 200:
        return Presence(Held.UNKNOWN, answer=response)
    try:
        matches = [d for d in response.json() if isinstance(d, dict) and first(d, "SOPInstanceUID") == sop]
    except (ValueError, TypeError):
        return Presence(Held.UNKNOWN, answer=response)
    if not matches:
        return Presence(Held.ABSENT)
    study, series = first(matches[0], "StudyInstanceUID"), first(matches[0], "SeriesInstanceUID")
    if not (isinstance(study, str) and isinstance(series, str) and is_valid_uid(study) and is_valid_uid(series)):
        return Presence(Held.STORED)
    found = _retrieve(client, f"studies/{study}/series/{series}/instances/{sop}")
    return Presence(Held.STORED, found.content)


def expect_absent(
    client: DicomwebClient, instance: SampleInstance, what: str, response: requests.Response | None = None
) -> None:
    """The server must not hold `instance` (it said it refused it), and must show that it does not.

    Only an answer that shows absence counts: 404 from WADO-RS at the instance's own path (PS3.18 10.4.3: the
    origin server did not find a current representation of the Target Resource), or, where that path cannot be
    asked (invalid UIDs), a QIDO-RS search by SOP Instance UID that finds nothing (PS3.18 10.6.3: 200 with no
    match, or 204). Any other answer (500, 503, 406, 400...) shows nothing: the requirement FAILs with that
    exchange, never counted as "not stored". After a 404 the search only looks for the instance stored under
    other UIDs; a search that cannot answer does not undo the 404.
    """
    found = lookup(client, instance)
    if found.held is Held.STORED:
        raise fail(
            f"{what}: {instance.name} was refused but is retrievable",
            expected="not stored (404)",
            actual=f"stored, {len(found.content or b'')} bytes served",
            response=response,
        )
    _require_shown_absent(found, instance, what)


def _require_shown_absent(found: Presence, instance: SampleInstance, what: str) -> None:
    """An answer that neither serves nor denies the instance (500, 503, 406, 400...) shows nothing: FAIL with it."""
    answer = found.answer
    if found.held is Held.UNKNOWN and answer is not None and not found.not_at_its_path:
        raise fail(
            f"{what}: asked whether the refused {instance.name} was stored, the server gave no answer that shows it",
            expected="404 Not Found (WADO-RS, PS3.18 10.4.3), or no match in QIDO-RS",
            actual=f"{answer.request.method} {answer.url} -> {answer.status_code} {answer.reason}",
            response=answer,
        )


def expect_kept(
    client: DicomwebClient, instances: Sequence[SampleInstance], response: requests.Response, what: str
) -> None:
    """After a 2xx each instance must be held as sent; a success that kept nothing (or else) is data loss."""
    if 200 <= response.status_code < 300:
        _judge_kept(response, [(instance, lookup(client, instance)) for instance in instances], what)


def expect_stored_intact(
    client: DicomwebClient, instances: Sequence[SampleInstance], response: requests.Response, what: str
) -> None:
    """Each instance is served byte for byte (WADO-RS, transfer-syntax=*); after a 2xx, anything less is data loss."""
    found = [(instance, lookup(client, instance)) for instance in instances]
    if 200 <= response.status_code < 300 or _listed_as_stored(response, instances):
        _judge_kept(response, found, what)
    for instance, presence in found:
        difference = instance_difference(presence.content or b"", instance.data)
        if presence.held is not Held.STORED or difference:
            raise fail(
                f"{what}: {instance.name} is not served as it was sent",
                expected="the instance as sent (WADO-RS, transfer-syntax=*)",
                actual=f"{presence.held.value}, {len(presence.content or b'')} bytes: {difference}",
                response=response,
            )


def _listed_as_stored(response: requests.Response, instances: Sequence[SampleInstance]) -> bool:
    listed = set(sop_uids(referenced_items(response_dataset(response))))
    return any(instance.sop_instance_uid in listed for instance in instances)


def _judge_kept(response: requests.Response, found: list[tuple[SampleInstance, Presence]], what: str) -> None:
    status = response.status_code
    for instance, presence in found:
        if presence.held is Held.ABSENT:
            raise data_loss(
                f"{what}: answered {status} (success) but {instance.name} was not stored",
                expected=f"{instance.name} retrievable, or no success status",
                actual=f"{status}, then {instance.name} not retrievable (404)",
                response=response,
            )
        difference = instance_difference(presence.content, instance.data) if presence.content is not None else None
        if presence.held is Held.STORED and difference:
            raise data_loss(
                f"{what}: answered {status} but stored something other than {instance.name}",
                expected="the instance as sent (PS3.10 7.1: dataset and identifying File Meta)",
                actual=f"{len(presence.content or b'')} bytes served: {difference}",
                response=response,
            )


def forget_unreachable(dicomweb: Dicomweb, instances: Iterable[SampleInstance], response: requests.Response) -> None:
    """Entries whose UIDs no DELETE path can name leave the ledger once the server refused them and holds none."""
    refused = 400 <= response.status_code < 500
    for instance in instances:
        if valid_uids(instance):
            continue
        held = lookup(dicomweb.client, instance).held
        if held is Held.ABSENT or (held is Held.UNKNOWN and refused):
            dicomweb.forget([instance.sop_instance_uid])


# --- the bad-input verdict ---------------------------------------------------------------------------------------


def check_refused_without_trace(
    client: DicomwebClient, response: requests.Response, request: StowBody, *, intact: bool, what: str
) -> None:
    """4xx, and nothing it carried is served; a 2xx for what was not kept is data loss.

    `intact`: the body carries complete, valid instances (only its framing is wrong), so a server
    that serves them afterwards serves what was sent, not a corrupt object.
    """
    status = response.status_code
    if status >= 500:
        raise fail(
            f"{what}: server error instead of a client error",
            expected="4xx",
            actual=status_line(response),
            response=response,
        )
    found = [(instance, lookup(client, instance)) for instance in request.instances]
    if 200 <= status < 300:
        _judge_success(response, found, intact, what)
    if not 400 <= status < 500:
        raise fail(f"{what}: not refused", expected="4xx", actual=status_line(response), response=response)
    for instance, presence in found:
        if presence.held is Held.STORED:
            raise fail(
                f"{what}: answered {status} but {instance.name} is retrievable"
                + ("" if intact else ", a corrupt object served as if valid"),
                expected="nothing stored",
                actual=f"{len(presence.content or b'')} bytes served",
                response=response,
            )
        _require_shown_absent(presence, instance, what)


def _judge_success(
    response: requests.Response, found: list[tuple[SampleInstance, Presence]], intact: bool, what: str
) -> None:
    status = response.status_code
    if intact:
        _judge_kept(response, found, what)
    else:
        for instance, presence in found:
            if presence.held is Held.ABSENT:
                _judge_kept(response, [(instance, presence)], what)
            if presence.held is Held.STORED:
                raise fail(
                    f"{what}: stored a corrupt or invalid object and serves it as if valid",
                    expected="4xx, nothing stored",
                    actual=f"{status}, {len(presence.content or b'')} bytes served",
                    response=response,
                )
    raise fail(
        f"{what}: answered success to a malformed request",
        expected="4xx",
        actual=status_line(response),
        response=response,
    )
