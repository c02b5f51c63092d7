"""Change-feed order and paging (reference 1.5, 2.11): v1 pages by sequence number, v2 by time window.

The expectations differ by API version, so each check names its version in its requirement
(`api_versions`) and is NOT-APPLICABLE under the other one. Every check judges only this run's
entries: the feed_burst study (51 instances stored in one request, then the study deleted, 102
entries); other writers' entries may sit between them on a shared service.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest

from dicomweb_conformance.checks.changefeed import (
    FeedBurst,
    change_of,
    entries_about,
    get_feed,
    sequence_of,
    timestamp_of,
)
from dicomweb_conformance.checks.common import expect_status, fail, untestable
from dicomweb_conformance.transport.client import DicomwebClient

Entry = dict[str, Any]
NO_METADATA = {"includeMetadata": "false"}
V1_DEFAULT_LIMIT = 10  # reference 1.5: v1 limit 1..100, default 10
V2_DEFAULT_LIMIT = 100  # reference 1.5: v2 limit 1..200, default 100
V2_MAX_LIMIT = 200
PAGE = 7
MAX_PAGES = 200


def burst_entries(burst: FeedBurst) -> list[Entry]:
    return burst.checked_entries()


def changes(entries: list[Entry], burst: FeedBurst) -> list[tuple[str, str]]:
    return [change_of(entry) for entry in entries_about(entries, burst.sops)]


@pytest.mark.req("AZ-VER-001")
def test_answers_report_the_supported_api_versions(client: DicomwebClient, api_version: str) -> None:
    """A versioned endpoint's answer lists the supported API versions, the run's included, in api-supported-versions."""
    response = client.get("changefeed", params={"limit": "1", **NO_METADATA})
    expect_status(response, 200, "change feed")
    header = response.headers.get("api-supported-versions")
    versions = {version.strip() for version in (header or "").split(",")}
    number = api_version.removeprefix("v")
    # ASP.NET API Versioning (ReportApiVersions): "2" and "2.0" name the same version.
    if not versions & {number, f"{number}.0"}:
        raise fail(
            "api-supported-versions does not list the version in use",
            expected=f"a list holding {number}",
            actual=header,
            response=response,
        )


# --- v1: sequence numbers --------------------------------------------------------------------------


@pytest.mark.req("AZ-CF-100")
def test_v1_lists_entries_in_increasing_sequence_order(feed_burst: FeedBurst) -> None:
    """v1: the feed lists this run's entries in strictly increasing sequence-number order."""
    sequences = [sequence_of(entry) for entry in burst_entries(feed_burst)]
    backwards = [(a, b) for a, b in pairwise(sequences) if b <= a]
    if backwards:
        raise fail("v1 feed entries out of sequence order", expected="strictly increasing", actual=backwards[:5])


@pytest.mark.req("AZ-CF-102")
def test_v1_paging_from_the_last_sequence_lists_each_entry_once(client: DicomwebClient, feed_burst: FeedBurst) -> None:
    """v1: paging with offset = the previous page's last sequence lists each of this run's entries once, in order."""
    expected = burst_entries(feed_burst)
    offset, last = sequence_of(expected[0]) - 1, max(sequence_of(entry) for entry in expected)
    collected: list[Entry] = []
    for _ in range(MAX_PAGES):
        if offset >= last:
            break
        response, page = get_feed(client, "v1 page", offset=str(offset), limit=str(PAGE), **NO_METADATA)
        if not page:
            offset += PAGE  # v1's limit spans sequence numbers, which may have gaps (reference 1.5, PR #2712)
            continue
        following = max(sequence_of(entry, response) for entry in page)
        if following <= offset:
            raise fail("v1 paging does not advance", expected=f"sequences above {offset}", actual=following)
        offset = following
        collected += page
    found, wanted = changes(collected, feed_burst), changes(expected, feed_burst)
    if found != wanted:
        raise fail("v1 pages do not list this run's entries once each, in order", expected=wanted[:6], actual=found[:6])


@pytest.mark.req("AZ-CF-103")
def test_v1_offset_is_an_exclusive_sequence_number(client: DicomwebClient, feed_burst: FeedBurst) -> None:
    """v1: offset=N-1&limit=1 answers exactly the entry with sequence N; offset=N answers entries after it."""
    entry = burst_entries(feed_burst)[0]
    sequence = sequence_of(entry)
    response, page = get_feed(client, "v1 offset just before", offset=str(sequence - 1), limit="1", **NO_METADATA)
    if [(sequence_of(e), change_of(e)) for e in page] != [(sequence, change_of(entry))]:
        raise fail(
            "offset=N-1&limit=1 is not the entry numbered N",
            expected=[(sequence, change_of(entry))],
            actual=[(e.get("sequence"), change_of(e)) for e in page],
            response=response,
        )
    response, page = get_feed(client, "v1 offset at", offset=str(sequence), limit="1", **NO_METADATA)
    if any(sequence_of(e, response) <= sequence for e in page):
        raise fail(
            "offset is not exclusive: the entry numbered offset (or earlier) is listed",
            expected=f"sequences above {sequence}",
            actual=[e.get("sequence") for e in page],
            response=response,
        )


def check_v1_page(client: DicomwebClient, burst: FeedBurst, limit: int | None) -> None:
    """At most `limit` entries, all after the offset, and every one of ours within the span offset+1..offset+limit."""
    expected = burst_entries(burst)
    offset = sequence_of(expected[0]) - 1
    span = limit if limit is not None else V1_DEFAULT_LIMIT
    params = {"offset": str(offset), **({"limit": str(limit)} if limit is not None else {}), **NO_METADATA}
    response, page = get_feed(client, f"v1 page of limit {limit}", **params)
    sequences = [sequence_of(entry, response) for entry in page]
    due = {change_of(entry) for entry in expected if sequence_of(entry) <= offset + span}
    missing = due - {change_of(entry) for entry in page}
    if len(page) > span or any(s <= offset for s in sequences) or missing:
        raise fail(
            f"v1 page with limit {span} after sequence {offset}",
            expected=f"at most {span} entries numbered {offset + 1}..{offset + span}, all of this run's among them",
            actual=f"{len(page)} entries numbered {sequences[:12]}; missing {sorted(missing)[:3]}",
            response=response,
        )


@pytest.mark.req("AZ-CF-104")
@pytest.mark.parametrize("limit", [1, PAGE, 100])
def test_v1_limit_caps_the_page(client: DicomwebClient, feed_burst: FeedBurst, limit: int) -> None:
    """v1: limit=L (1..100) answers at most L entries, those numbered offset+1..offset+L."""
    check_v1_page(client, feed_burst, limit)


@pytest.mark.req("AZ-CF-105")
def test_v1_default_limit_is_ten(client: DicomwebClient, feed_burst: FeedBurst) -> None:
    """v1: without limit a page holds at most 10 entries, those numbered offset+1..offset+10."""
    check_v1_page(client, feed_burst, None)


# --- v2: time windows ------------------------------------------------------------------------------


@pytest.mark.req("AZ-CF-101")
def test_v2_lists_entries_in_time_order(feed_burst: FeedBurst) -> None:
    """v2: the feed lists this run's entries with non-decreasing timestamps."""
    moments = [timestamp_of(entry) for entry in burst_entries(feed_burst)]
    backwards = [(a.isoformat(), b.isoformat()) for a, b in pairwise(moments) if b < a]
    if backwards:
        raise fail("v2 feed entries out of time order", expected="non-decreasing timestamps", actual=backwards[:3])


def burst_window(burst: FeedBurst) -> dict[str, str]:
    """From the burst's first timestamp (as the server wrote it) to just after its last one."""
    entries = burst_entries(burst)
    end = max(timestamp_of(entry) for entry in entries) + timedelta(milliseconds=1)
    return {"startTime": str(entries[0]["timestamp"]), "endTime": end.isoformat()}


def window_entries(client: DicomwebClient, window: dict[str, str]) -> list[Entry]:
    """Everything in a window, read in pages of 200 (v2: offset counts entries inside the window)."""
    entries: list[Entry] = []
    for _ in range(MAX_PAGES):
        _, page = get_feed(
            client, "v2 window", offset=str(len(entries)), limit=str(V2_MAX_LIMIT), **window, **NO_METADATA
        )
        entries += page
        if len(page) < V2_MAX_LIMIT:
            return entries
    raise fail("the v2 window never ended", expected=f"fewer than {MAX_PAGES} pages", actual="more")


def split_point(entries: list[Entry]) -> int:
    """An index near the middle whose timestamp is later than every one before it."""
    moments = [timestamp_of(entry) for entry in entries]
    for index in range(len(entries) // 2, len(entries)):
        if moments[index] > max(moments[:index]):
            return index
    untestable("this run's change-feed entries share one timestamp: no window boundary falls between them")


@pytest.mark.req("AZ-CF-110")
def test_v2_start_time_is_inclusive(client: DicomwebClient, feed_burst: FeedBurst) -> None:
    """v2: startTime=T lists this run's entries stamped T and later, and none stamped earlier."""
    entries = burst_entries(feed_burst)
    middle = entries[split_point(entries)]
    start = timestamp_of(middle)
    expected = [change_of(entry) for entry in entries if timestamp_of(entry) >= start]
    response, page = get_feed(
        client, "v2 window from T", startTime=str(middle["timestamp"]), limit=str(V2_MAX_LIMIT), **NO_METADATA
    )
    found = changes(page, feed_burst)
    if found != expected:
        raise fail(
            "startTime does not start the window at that very entry",
            expected=f"{len(expected)} entries of this run from {middle['timestamp']}, first {expected[0]}",
            actual=f"{len(found)}, first {found[:1]}",
            response=response,
        )


@pytest.mark.req("AZ-CF-111")
def test_v2_end_time_is_exclusive(client: DicomwebClient, feed_burst: FeedBurst) -> None:
    """v2: startTime=S&endTime=E lists this run's entries stamped S up to, not including, E."""
    entries = burst_entries(feed_burst)
    middle = entries[split_point(entries)]
    end = timestamp_of(middle)
    expected = [change_of(entry) for entry in entries if timestamp_of(entry) < end]
    response, page = get_feed(
        client,
        "v2 window up to T",
        startTime=str(entries[0]["timestamp"]),
        endTime=str(middle["timestamp"]),
        limit=str(V2_MAX_LIMIT),
        **NO_METADATA,
    )
    found = changes(page, feed_burst)
    if found != expected:
        raise fail(
            "endTime does not end the window just before that entry",
            expected=f"{len(expected)} entries of this run, last {expected[-1:]}",
            actual=f"{len(found)}, last {found[-1:]}",
            response=response,
        )


@pytest.mark.req("AZ-CF-112")
def test_v2_offset_skips_entries_inside_the_window(client: DicomwebClient, feed_burst: FeedBurst) -> None:
    """v2: offset=3 within a window answers the window's entries from the fourth on."""
    window = burst_window(feed_burst)
    everything = window_entries(client, window)
    response, page = get_feed(
        client, "v2 window, offset 3", offset="3", limit=str(V2_MAX_LIMIT), **window, **NO_METADATA
    )
    if changes(page, feed_burst) != changes(everything[3:], feed_burst):
        raise fail(
            "offset does not skip that many entries of the window",
            expected=changes(everything[3:], feed_burst)[:3],
            actual=changes(page, feed_burst)[:3],
            response=response,
        )


def check_v2_page(client: DicomwebClient, burst: FeedBurst, limit: int | None) -> None:
    window = burst_window(burst)
    everything = window_entries(client, window)
    size = limit if limit is not None else V2_DEFAULT_LIMIT
    params = {**window, **({"limit": str(limit)} if limit is not None else {}), **NO_METADATA}
    response, page = get_feed(client, f"v2 window, limit {limit}", **params)
    if len(page) != min(size, len(everything)) or changes(page, burst) != changes(everything[:size], burst):
        raise fail(
            f"a v2 page with limit {size} is not the window's first {size} entries",
            expected=f"{min(size, len(everything))} entries",
            actual=f"{len(page)} entries",
            response=response,
        )


@pytest.mark.req("AZ-CF-113")
@pytest.mark.parametrize("limit", [1, PAGE, V2_MAX_LIMIT])
def test_v2_limit_caps_the_page(client: DicomwebClient, feed_burst: FeedBurst, limit: int) -> None:
    """v2: limit=L (1..200) answers the window's first L entries."""
    check_v2_page(client, feed_burst, limit)


@pytest.mark.req("AZ-CF-114")
def test_v2_default_limit_is_one_hundred(client: DicomwebClient, feed_burst: FeedBurst) -> None:
    """v2: without limit a page holds the window's first 100 entries (the window holds more)."""
    check_v2_page(client, feed_burst, None)


@pytest.mark.req("AZ-CF-115")
def test_v2_paging_by_offset_lists_each_entry_once(client: DicomwebClient, feed_burst: FeedBurst) -> None:
    """v2: paging a window with offset += limit (limit 7) lists each of this run's entries once, in order."""
    window = burst_window(feed_burst)
    collected: list[Entry] = []
    for _ in range(MAX_PAGES):
        _, page = get_feed(client, "v2 page", offset=str(len(collected)), limit=str(PAGE), **window, **NO_METADATA)
        collected += page
        if len(page) < PAGE:
            break
    found, wanted = changes(collected, feed_burst), changes(burst_entries(feed_burst), feed_burst)
    if found != wanted:
        raise fail("v2 pages do not list this run's entries once each, in order", expected=wanted[:6], actual=found[:6])
