"""Reading the Azure change feed: v1 pages by sequence number, v2 by time window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dicomweb_conformance.checks.common import expect_status, fail, json_body
from dicomweb_conformance.transport.client import DicomwebClient

V1_PAGE = 100  # Azure v1: limit 1..100
V2_PAGE = 200  # Azure v2: limit 1..200
MAX_PAGES = 200
CLOCK_SKEW = timedelta(minutes=5)


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
        return FeedPosition(start_time=datetime.now(UTC) - CLOCK_SKEW)
    return FeedPosition(sequence=latest_sequence(client))


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
