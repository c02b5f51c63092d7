"""Reading the Azure change feed: v1 pages by sequence number, v2 by time window; its entries, and a burst of this
run's entries (a study stored and deleted) for the paging and ordering checks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from dicomweb_conformance.checks.common import (
    BlockedBy,
    ConformanceFailure,
    expect_media_type,
    expect_status,
    fail,
    json_body,
    poll,
)
from dicomweb_conformance.dicom.samples import SampleInstance, synthetic_instance
from dicomweb_conformance.dicom.uids import new_uid
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import Dicomweb

V1_PAGE = 100  # Azure v1: limit 1..100
V2_PAGE = 200  # Azure v2: limit 1..200
MAX_PAGES = 200
CLOCK_SKEW = timedelta(minutes=5)
# Enough instances for more than one default page in either version once each is created and
# deleted: v1 pages 10 entries by default, v2 100 (reference 1.5).
BURST_INSTANCES = 51


def normalized(entry: Any) -> dict[str, Any]:
    """Azure sends camelCase, its docs show PascalCase, enum values in either case: compare case-insensitively."""
    if not isinstance(entry, dict):
        return {}
    return {
        str(k).lower(): (v.lower() if isinstance(v, str) and k.lower() in ("action", "state") else v)
        for k, v in entry.items()
    }


def uses_time_windows(client: DicomwebClient) -> bool:
    return client.target.api_version != "v1"


@dataclass(frozen=True)
class FeedPosition:
    """Where this run's entries start: a sequence number (v1) or a time (v2)."""

    sequence: int = 0
    start_time: datetime | None = None


def latest_sequence(client: DicomwebClient) -> int:
    """v1: the sequence number of the newest entry, 0 for an empty feed."""
    response = client.get("changefeed/latest", params={"includeMetadata": "false"})
    if response.status_code == 204:
        # Azure's controller returns null for an empty feed; ASP.NET's default formatters send that as 204.
        return 0
    expect_status(response, 200, "change feed latest")
    latest = normalized(json_body(response, "change feed latest"))
    return int(latest.get("sequence") or 0)


def current_position(client: DicomwebClient) -> FeedPosition:
    if uses_time_windows(client):
        return FeedPosition(start_time=_latest_time(client) or datetime.now(UTC) - CLOCK_SKEW)
    return FeedPosition(sequence=latest_sequence(client))


def _latest_time(client: DicomwebClient) -> datetime | None:
    """v2: the newest entry's timestamp, on the server's clock; what is written after it is stamped no earlier, and
    startTime is inclusive (reference 1.5). A window from our own clock must allow for skew (CLOCK_SKEW), and then
    holds every client's changes of those minutes, re-read on every poll. None when `latest` gives no usable time
    (an empty feed, an error, a malformed entry: the checks of `latest` judge those); the caller falls back."""
    try:
        response, latest = get_latest(client, "change feed latest", includeMetadata="false")
        return timestamp_of(latest, response)
    except ConformanceFailure:
        return None


def read_feed(client: DicomwebClient, position: FeedPosition) -> list[dict[str, Any]]:
    """Every entry from `position` to the end of the feed, normalized."""
    if uses_time_windows(client):
        return _read_windows(client, position)
    return _read_sequences(client, position.sequence)


def _read_windows(client: DicomwebClient, position: FeedPosition) -> list[dict[str, Any]]:
    assert position.start_time is not None
    entries: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        # Azure v2: startTime inclusive with a mandatory UTC offset; offset skips entries inside the window.
        page = _page(
            client, {"startTime": position.start_time.isoformat(), "offset": str(len(entries)), "limit": str(V2_PAGE)}
        )
        entries += page
        if len(page) < V2_PAGE:
            return entries
    raise fail("the change feed never ended", expected=f"fewer than {MAX_PAGES} pages", actual="more")


def _read_sequences(client: DicomwebClient, sequence: int) -> list[dict[str, Any]]:
    """Azure v1: offset is the exclusive starting sequence number and limit spans sequence numbers, which have
    gaps (ChangeFeed.Sequence is an IDENTITY column: a rolled-back insert burns its number; PR #2712). So an
    empty page is not the end: like Microsoft's DICOMcast (converter/dicom-cast/.../Worker/
    ChangeFeedProcessor.cs at eeefbe4d7: "there may be more events to read for API version v1 even if the
    Count < limit", the end is an empty page once the latest sequence is reached), read on past empty pages
    up to /changefeed/latest."""
    entries: list[dict[str, Any]] = []
    end = latest_sequence(client)
    for _ in range(MAX_PAGES):
        page = _page(client, {"offset": str(sequence), "limit": str(V1_PAGE)})
        entries += page
        if page:
            sequence = max(sequence, *(int(entry.get("sequence") or 0) for entry in page))
        elif sequence >= end:
            return entries
        else:
            sequence += V1_PAGE  # a gap of at least a page: the feed goes on up to `end`
    raise fail("the change feed never ended", expected=f"fewer than {MAX_PAGES} pages", actual="more")


def _page(client: DicomwebClient, params: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("changefeed", params={**params, "includeMetadata": "false"})
    expect_status(response, 200, "change feed page")
    body = json_body(response, "change feed page")
    if not isinstance(body, list):
        raise fail("the change feed is not a JSON array", expected="[...]", actual=str(body)[:200], response=response)
    return [normalized(entry) for entry in body]


# --- the change feed -------------------------------------------------------------------------------

FEED = "changefeed"
LATEST = "changefeed/latest"


def get_feed(client: DicomwebClient, what: str, **params: str) -> tuple[requests.Response, list[dict[str, Any]]]:
    """GET /changefeed: 200 application/json with an array of entry objects (reference 1.5), normalized."""
    response = client.get(FEED, params=params)
    expect_status(response, 200, what)
    expect_media_type(response, "application/json", what)
    body = json_body(response, what)
    if not isinstance(body, list) or not all(isinstance(entry, dict) for entry in body):
        raise fail(f"{what}: not an array of entries", expected="[{...}]", actual=str(body)[:200], response=response)
    return response, [normalized(entry) for entry in body]


def get_latest(client: DicomwebClient, what: str, **params: str) -> tuple[requests.Response, dict[str, Any]]:
    """GET /changefeed/latest: 200 application/json with one entry object (reference 1.5), normalized."""
    response = client.get(LATEST, params=params)
    expect_status(response, 200, what)
    expect_media_type(response, "application/json", what)
    body = json_body(response, what)
    if not isinstance(body, dict):
        raise fail(f"{what}: not an entry object", expected="{...}", actual=str(body)[:200], response=response)
    return response, normalized(body)


def sequence_of(entry: dict[str, Any], response: requests.Response | None = None) -> int:
    value = entry.get("sequence")
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(
            "a change-feed entry without an integer sequence",
            expected="sequence: <long>",
            actual=value,
            response=response,
        )
    return value


def timestamp_of(entry: dict[str, Any], response: requests.Response | None = None) -> datetime:
    """The entry's timestamp; Azure writes DateTimeOffset values, always with a UTC offset (reference 1.5)."""
    text = entry.get("timestamp")
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise fail(
            "a change-feed entry without an ISO 8601 timestamp with a UTC offset",
            expected="e.g. 2024-01-02T03:04:05.1234567+00:00",
            actual=text,
            response=response,
        )
    return moment


def change_of(entry: dict[str, Any]) -> tuple[str, str]:
    """What an entry records: (SOP instance UID, action)."""
    return str(entry.get("sopinstanceuid")), str(entry.get("action"))


def has_metadata(entry: dict[str, Any]) -> bool:
    # Azure omits null properties on the wire and its clients read a missing one as null (reference 1.0).
    return entry.get("metadata") is not None


def entries_about(entries: Iterable[dict[str, Any]], sops: Iterable[str]) -> list[dict[str, Any]]:
    """The entries about these SOP instances, in feed order: all a check may judge on a shared server."""
    wanted = set(sops)
    return [entry for entry in entries if entry.get("sopinstanceuid") in wanted]


def wait_for_changes(
    client: DicomwebClient, position: FeedPosition, expected: Iterable[tuple[str, str]], *, also: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """The entries about the expected changes' instances (and the `also` SOP instances) from `position` on,
    read until every expected (SOP, action) change is listed, as often as expected (a re-create has two)."""
    wanted = Counter(expected)
    sops = {sop for sop, _ in wanted} | set(also)
    found: list[dict[str, Any]] = []

    def probe() -> bool:
        found[:] = entries_about(read_feed(client, position), sops)
        return not wanted - Counter(change_of(entry) for entry in found)

    poll(probe, timeout=client.target.visibility_timeout, interval=client.target.poll_interval)
    return found


def entry_again(client: DicomwebClient, entry: dict[str, Any], what: str, **params: str) -> dict[str, Any]:
    """The same entry read once more, with other parameters (includeMetadata): by its sequence number in
    v1, by its timestamp in v2 (the feed's own paging, reference 1.5)."""
    if uses_time_windows(client):
        window = {"startTime": str(entry.get("timestamp")), "limit": "200"}
    else:
        window = {"offset": str(sequence_of(entry) - 1), "limit": "1"}
    response, page = get_feed(client, what, **window, **params)
    again = [found for found in page if found.get("sequence") == entry.get("sequence")]
    if len(again) != 1:
        raise fail(
            f"{what}: the entry is not listed again where it was",
            expected=f"entry {entry.get('sequence')} ({change_of(entry)})",
            actual=[found.get("sequence") for found in page][:10],
            response=response,
        )
    return again[0]


def check_changes_listed(entries: Sequence[dict[str, Any]], expected: Iterable[tuple[str, str]], what: str) -> None:
    """Every expected (SOP, action) change is in the feed exactly once."""
    changes = [change_of(entry) for entry in entries]
    missing = sorted(set(expected) - set(changes))
    repeated = sorted({change for change in changes if changes.count(change) > 1})
    if missing or repeated:
        raise fail(
            f"{what}: the change feed does not list each change of this run exactly once",
            expected="one entry per create and per delete",
            actual=f"missing {missing[:5]}, repeated {repeated[:5]}",
        )


# --- a burst of this run's entries -----------------------------------------------------------------


@dataclass(frozen=True)
class FeedBurst:
    """One study of this run, stored in one request and (where the target can) deleted in one request."""

    study_uid: str
    instances: tuple[SampleInstance, ...]
    position: FeedPosition
    deleted: bool
    entries: tuple[dict[str, Any], ...]
    """This run's entries about the burst, in feed order, as read from `position` (no metadata)."""
    failure: ConformanceFailure | None = None
    """What went wrong reading the feed: each check that uses the burst reports it as its own failure."""

    @property
    def sops(self) -> set[str]:
        return {instance.sop_instance_uid for instance in self.instances}

    @property
    def expected_changes(self) -> set[tuple[str, str]]:
        actions = ("create", "delete") if self.deleted else ("create",)
        return {(sop, action) for sop in self.sops for action in actions}

    def checked_entries(self) -> list[dict[str, Any]]:
        """The entries, once the feed is known to list each of the burst's creates and deletes exactly once."""
        if self.failure is not None:
            raise ConformanceFailure(
                f"reading the change feed: {self.failure.summary}",
                expected=self.failure.expected,
                actual=self.failure.actual,
                exchange=self.failure.exchange,
            )
        check_changes_listed(self.entries, self.expected_changes, "the change-feed burst")
        return list(self.entries)


def store_feed_burst(dicomweb: Dicomweb, run_id: str) -> FeedBurst:
    """51 instances of one fresh study stored, then the study deleted: 102 change-feed entries of this run.

    A refused store or delete FAILs its own requirement and blocks the feed checks; what the feed answers is
    judged by the checks, so a failure reading it is kept for them rather than raised here.
    """
    client = dicomweb.client
    study, series = new_uid(), new_uid()
    instances = tuple(
        synthetic_instance(run_id, study_uid=study, series_uid=series, name=f"feed-burst-{k}", rows=4, columns=4)
        for k in range(BURST_INSTANCES)
    )
    try:
        position = current_position(client)
    except ConformanceFailure as failure:
        return FeedBurst(study, instances, FeedPosition(), False, (), failure)
    dicomweb.store_accepted(list(instances), what="the change-feed burst")
    deleted = client.target.has("delete")
    if deleted:
        removal = client.delete(f"studies/{study}")
        if removal.status_code != 204:
            raise BlockedBy(
                "deleting the change-feed burst",
                fail(
                    "deleting the change-feed burst's study was refused",
                    expected=204,
                    actual=f"{removal.status_code} {removal.text[:200]!r}",
                    response=removal,
                    requirement="AZ-DEL-003",
                ),
            )
    actions = ("create", "delete") if deleted else ("create",)
    expected = {(instance.sop_instance_uid, action) for instance in instances for action in actions}
    try:
        entries = wait_for_changes(client, position, expected)
    except ConformanceFailure as failure:
        return FeedBurst(study, instances, position, deleted, (), failure)
    return FeedBurst(study, instances, position, deleted, tuple(entries))
