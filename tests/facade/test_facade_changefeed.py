"""The change feed the facade keeps for what it stores and deletes in Orthanc (reference 1.5, 2.11)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from dicomweb_conformance.checks.changefeed import CLOCK_SKEW, FeedPosition, current_position, read_feed
from dicomweb_conformance.config.target import resolve_target
from dicomweb_conformance.transport.client import DicomwebClient
from tests.doubles.facade.changefeed import SequenceGap
from tests.doubles.facade.server import AzureFacade, facade_over_fresh_orthanc

from .helpers import make_instance, new_uid, store

FACADE_TARGET = Path(__file__).resolve().parents[2] / "targets" / "azure-facade.toml"
ENTRY_KEYS = {"sequence", "studyInstanceUid", "seriesInstanceUid", "sopInstanceUid", "action", "timestamp", "state"}


@pytest.fixture(scope="module")
def facade() -> Iterator[AzureFacade]:
    with facade_over_fresh_orthanc() as running:
        yield running


def _get(url: str, **params: str | int) -> requests.Response:
    return requests.get(url, params=params, timeout=30)


def _feed(base: str, **params: str | int) -> list[dict[str, Any]]:
    response = _get(f"{base}/changefeed", **params)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    entries: list[dict[str, Any]] = response.json()
    return entries


def _latest_sequence(base: str) -> int:
    response = _get(f"{base}/changefeed/latest")
    return int(response.json()["sequence"]) if response.status_code == 200 else 0


def _store_series(base: str, count: int) -> list[str]:
    instances = [make_instance(series=new_uid()) for _ in range(count)]
    assert store(base, *(data for _, data in instances)).status_code == 200
    return [dataset.SOPInstanceUID for dataset, _ in instances]


def test_an_empty_feed_answers_an_empty_list_and_latest_204(facade: AzureFacade) -> None:
    with AzureFacade(facade.orthanc_rest_url) as fresh:
        for version in ("v1", "v2"):
            assert _feed(fresh.url(version)) == []
            latest = _get(f"{fresh.url(version)}/changefeed/latest")
            assert latest.status_code == 204
            assert latest.content == b""


def test_entries_have_the_azure_shape(facade: AzureFacade) -> None:
    base = facade.url("v2")
    dataset, data = make_instance()
    assert store(base, data).status_code == 200
    latest = _get(f"{base}/changefeed/latest").json()
    assert set(latest) == ENTRY_KEYS | {"metadata"}
    assert latest["studyInstanceUid"] == dataset.StudyInstanceUID
    assert latest["seriesInstanceUid"] == dataset.SeriesInstanceUID
    assert latest["sopInstanceUid"] == dataset.SOPInstanceUID
    assert (latest["action"], latest["state"]) == ("create", "current")
    assert datetime.fromisoformat(latest["timestamp"]).utcoffset() is not None
    assert latest["metadata"]["00080018"] == {"vr": "UI", "Value": [dataset.SOPInstanceUID]}


def test_v1_pages_by_exclusive_sequence_offset(facade: AzureFacade) -> None:
    base = facade.url("v1")
    before = _latest_sequence(base)
    sops = _store_series(base, 11)
    page = _feed(base, offset=before, limit=2)
    assert [entry["sequence"] for entry in page] == [before + 1, before + 2]
    assert [entry["sopInstanceUid"] for entry in page] == sops[:2]
    assert all("metadata" in entry for entry in page)
    assert [entry["sopInstanceUid"] for entry in _feed(base, offset=before)] == sops[:10], "default limit is 10"
    assert [entry["sopInstanceUid"] for entry in _feed(base, offset=before + 10)] == sops[10:]
    assert _feed(base, offset=before + 11) == []
    assert _get(f"{base}/changefeed/latest").json()["sopInstanceUid"] == sops[-1]


def test_v2_windows_include_the_start_and_exclude_the_end(facade: AzureFacade) -> None:
    base = facade.url("v2")
    before = _latest_sequence(base)
    sops = _store_series(base, 3)
    entries = _feed(facade.url("v1"), offset=before, limit=3)
    start, _, end = (entry["timestamp"] for entry in entries)
    window = _feed(base, startTime=start, endTime=end)
    assert [entry["sopInstanceUid"] for entry in window] == sops[:2]
    assert [entry["sopInstanceUid"] for entry in _feed(base, startTime=start, endTime=end, offset=1)] == sops[1:2]
    assert [entry["sopInstanceUid"] for entry in _feed(base, startTime=start, limit=1)] == sops[:1]
    assert [entry["sopInstanceUid"] for entry in _feed(base, startTime=start)] == sops


def test_include_metadata_false_leaves_metadata_out(facade: AzureFacade) -> None:
    base = facade.url("v2")
    before = _latest_sequence(base)
    _store_series(base, 1)
    latest = _get(f"{base}/changefeed/latest", includeMetadata="false").json()
    assert set(latest) == ENTRY_KEYS
    assert all("metadata" not in entry for entry in _feed(facade.url("v1"), offset=before, includeMetadata="False"))


def test_create_delete_recreate_gives_replaced_replaced_current(facade: AzureFacade) -> None:
    base = facade.url("v2")
    before = _latest_sequence(base)
    dataset, data = make_instance()
    assert store(base, data).status_code == 200
    instance = (
        f"{base}/studies/{dataset.StudyInstanceUID}/series/{dataset.SeriesInstanceUID}"
        f"/instances/{dataset.SOPInstanceUID}"
    )
    assert requests.delete(instance, timeout=30).status_code == 204
    latest = _get(f"{base}/changefeed/latest").json()
    assert (latest["action"], latest["state"]) == ("delete", "deleted")
    assert "metadata" not in latest
    assert [entry["state"] for entry in _feed(facade.url("v1"), offset=before)] == ["deleted", "deleted"]
    assert store(base, data).status_code == 200
    entries = _feed(facade.url("v1"), offset=before)
    assert [entry["action"] for entry in entries] == ["create", "delete", "create"]
    assert [entry["state"] for entry in entries] == ["replaced", "replaced", "current"]


def test_deleting_a_study_logs_a_delete_for_every_instance(facade: AzureFacade) -> None:
    base = facade.url("v2")
    study = new_uid()
    instances = [make_instance(study=study, series=new_uid()) for _ in range(3)]
    assert store(base, *(data for _, data in instances)).status_code == 200
    before = _latest_sequence(base)
    assert requests.delete(f"{base}/studies/{study}", timeout=30).status_code == 204
    deletes = _feed(facade.url("v1"), offset=before)
    assert {entry["sopInstanceUid"] for entry in deletes} == {dataset.SOPInstanceUID for dataset, _ in instances}
    assert {(entry["action"], entry["state"]) for entry in deletes} == {("delete", "deleted")}


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 101},
        {"limit": 0},
        {"limit": -1},
        {"limit": "ten"},
        {"limit": ""},
        {"offset": -1},
        {"offset": "abc"},
        {"offset": "9223372036854775808"},
        {"includeMetadata": "0"},
        {"includeMetadata": "true-ish"},
    ],
)
def test_v1_rejects_invalid_parameters_with_400(facade: AzureFacade, params: dict[str, str | int]) -> None:
    response = _get(f"{facade.url('v1')}/changefeed", **params)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 201},
        {"limit": 0},
        {"offset": -1},
        {"includeMetadata": "yes"},
        {"startTime": "not-a-date"},
        {"startTime": "2024-01-01T00:00:00"},
        {"endTime": "2024-01-01T00:00:00"},
        {"startTime": "2024-01-01T00:00:00+00:00", "endTime": "2024-01-01T00:00:00+00:00"},
        {"startTime": "2024-01-02T00:00:00Z", "endTime": "2024-01-01T00:00:00Z"},
    ],
)
def test_v2_rejects_invalid_parameters_with_400(facade: AzureFacade, params: dict[str, str | int]) -> None:
    assert _get(f"{facade.url('v2')}/changefeed", **params).status_code == 400


def test_v2_accepts_its_wider_limit(facade: AzureFacade) -> None:
    assert _get(f"{facade.url('v2')}/changefeed", limit=200).status_code == 200


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_latest_rejects_an_invalid_include_metadata(facade: AzureFacade, version: str) -> None:
    assert _get(f"{facade.url(version)}/changefeed/latest", includeMetadata="asdf").status_code == 400


# --- sequence gaps (Azure's ChangeFeed.Sequence is an identity column: rolled-back inserts burn numbers) ---------


def test_v1_sequence_gaps_and_the_suites_reader(facade: AzureFacade) -> None:
    """With a gap of 150 numbers after every 4 entries, v1 pages span sequence numbers, an empty page lies inside
    the feed, and the suite's own reader (checks/changefeed.py) still reads every entry up to latest."""
    with AzureFacade(facade.orthanc_rest_url, sequence_gap=SequenceGap(every=4, size=150)) as gapped:
        base = gapped.url("v1")
        sops = _store_series(base, 10)
        sequences = [entry["sequence"] for entry in _feed(base, offset=0, limit=100)]
        assert sequences == [1, 2, 3, 4], "limit spans sequence numbers: the gap ends the first page"
        assert _feed(base, offset=4, limit=100) == [], "an empty page that is not the end of the feed"
        latest = _latest_sequence(base)
        assert latest == 10 + 2 * 150
        client = DicomwebClient(resolve_target({"url": base, "target": str(FACADE_TARGET), "auth": "none"}), None)
        entries = read_feed(client, FeedPosition(sequence=0))
        assert [entry["sopinstanceuid"] for entry in entries] == sops
        assert [entry["sequence"] for entry in entries] == [1, 2, 3, 4, 155, 156, 157, 158, 309, 310]
        assert current_position(client).sequence == latest
        for instance_sop in sops:  # leave Orthanc as the module found it
            entry = next(e for e in entries if e["sopinstanceuid"] == instance_sop)
            path = f"studies/{entry['studyinstanceuid']}/series/{entry['seriesinstanceuid']}/instances/{instance_sop}"
            assert requests.delete(f"{base}/{path}", timeout=30).status_code == 204


def test_the_suites_v2_reader_starts_at_the_newest_entry_not_minutes_back(facade: AzureFacade) -> None:
    """A v2 position is the newest entry's time on the server's clock (startTime is inclusive): a read from it holds
    that entry and what came after, not every change of the last CLOCK_SKEW minutes; an empty feed falls back to
    our own clock."""
    base = facade.url("v2")
    client = DicomwebClient(resolve_target({"url": base, "target": str(FACADE_TARGET), "auth": "none"}), None)
    _store_series(base, 1)
    (newest,) = _store_series(base, 1)
    position = current_position(client)
    (after,) = _store_series(base, 1)
    assert [entry["sopinstanceuid"] for entry in read_feed(client, position)] == [newest, after]
    with AzureFacade(facade.orthanc_rest_url) as empty:
        url = empty.url("v2")
        empty_client = DicomwebClient(resolve_target({"url": url, "target": str(FACADE_TARGET), "auth": "none"}), None)
        start_time = current_position(empty_client).start_time
        assert start_time is not None
        assert start_time <= datetime.now(UTC) - CLOCK_SKEW
