"""The change feed's documented 400 answers (reference 1.5 "400 cases", E2E in 2.11).

Which limits are out of range, and whether time windows exist at all, depends on the API version:
those checks name their version in their requirement (`api_versions`).
"""

from __future__ import annotations

import pytest

from dicomweb_conformance.checks.common import expect_status
from dicomweb_conformance.transport.client import DicomwebClient

# E2E GivenAnInvalidParameter_WhenRetrievingChangeFeed (9 cases): limit, offset, includeMetadata.
INVALID_PARAMETERS = {
    "limit-zero": {"limit": "0"},
    "limit-negative": {"limit": "-1"},
    "limit-not-a-number": {"limit": "abc"},
    "offset-negative": {"offset": "-1"},
    "offset-not-a-number": {"offset": "abc"},
    "offset-overflows-a-long": {"offset": "9223372036854775808"},
    "include-metadata-zero": {"includeMetadata": "0"},
    "include-metadata-not-a-boolean": {"includeMetadata": "asdf"},
    "include-metadata-true-ish": {"includeMetadata": "true-ish"},
}

# E2E GivenAnInvalidTimestamps_WhenRetrievingChangeFeed (6 cases): v2's startTime and endTime.
INVALID_WINDOWS = {
    "start-not-a-time": {"startTime": "not-a-time"},
    "end-not-a-time": {"endTime": "2024-13-45T99:00:00Z"},
    "start-without-time-zone": {"startTime": "2024-01-01T00:00:00"},
    "end-without-time-zone": {"endTime": "2024-01-02T00:00:00"},
    "end-equals-start": {"startTime": "2024-01-01T00:00:00Z", "endTime": "2024-01-01T00:00:00+00:00"},
    "end-before-start": {"startTime": "2024-01-02T00:00:00Z", "endTime": "2024-01-01T00:00:00Z"},
}


def expect_bad_request(client: DicomwebClient, path: str, params: dict[str, str], what: str) -> None:
    expect_status(client.get(path, params=params), 400, what)


@pytest.mark.req("AZ-CF-150")
@pytest.mark.parametrize("case", sorted(INVALID_PARAMETERS))
def test_an_invalid_parameter_is_a_bad_request(client: DicomwebClient, case: str) -> None:
    """A limit, offset or includeMetadata value that is out of range or not of its type answers 400."""
    expect_bad_request(client, "changefeed", INVALID_PARAMETERS[case], f"change feed with {INVALID_PARAMETERS[case]}")


@pytest.mark.req("AZ-CF-151")
def test_v1_limit_above_one_hundred_is_a_bad_request(client: DicomwebClient) -> None:
    """v1: limit=101 answers 400 (v1 allows 1..100)."""
    expect_bad_request(client, "changefeed", {"limit": "101"}, "v1 change feed with limit=101")


@pytest.mark.req("AZ-CF-152")
def test_v2_limit_above_two_hundred_is_a_bad_request(client: DicomwebClient) -> None:
    """v2: limit=201 answers 400 (v2 allows 1..200)."""
    expect_bad_request(client, "changefeed", {"limit": "201"}, "v2 change feed with limit=201")


@pytest.mark.req("AZ-CF-153")
def test_v2_accepts_limits_above_the_v1_range(client: DicomwebClient) -> None:
    """v2: limit=200 (above v1's 100) is accepted with 200."""
    expect_status(client.get("changefeed", params={"limit": "200", "includeMetadata": "false"}), 200, "limit=200")


@pytest.mark.req("AZ-CF-154")
@pytest.mark.parametrize("case", sorted(INVALID_WINDOWS))
def test_v2_an_invalid_time_window_is_a_bad_request(client: DicomwebClient, case: str) -> None:
    """v2: an unparsable startTime or endTime, one without a time zone, or endTime <= startTime answers 400."""
    expect_bad_request(client, "changefeed", INVALID_WINDOWS[case], f"change feed with {INVALID_WINDOWS[case]}")


@pytest.mark.req("AZ-CF-155")
def test_latest_with_an_invalid_include_metadata_is_a_bad_request(client: DicomwebClient) -> None:
    """/changefeed/latest?includeMetadata=asdf answers 400."""
    expect_bad_request(client, "changefeed/latest", {"includeMetadata": "asdf"}, "latest with includeMetadata=asdf")
