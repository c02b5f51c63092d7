"""Metadata caching with ETags (reference 1.2 "Metadata caching", E2E DicomRetrieveMetadataETagTests in 2.8).

Study, series and instance metadata carry an ETag; If-None-Match with it answers 304 and no body;
once an instance is stored into, or deleted from, the study or series, the old tag gets 200 with
the new metadata and a new ETag.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from dicomweb_conformance.checks.azure import new_study, store_victims
from dicomweb_conformance.checks.common import fail
from dicomweb_conformance.checks.store import check_metadata_lists, check_successful_store
from dicomweb_conformance.dicom.samples import SampleInstance, synthetic_instance
from dicomweb_conformance.suites.delete.deletion import delete
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import DICOM_JSON, Dicomweb, instance_path, series_path

Series = list[SampleInstance]
# A tag this suite makes up: no server can have handed it out.
STALE_TAG = '"dicomweb-conformance-stale-tag"'


def study_path(instance: SampleInstance) -> str:
    return f"studies/{instance.study_uid}"


LEVELS: dict[str, Callable[[SampleInstance], str]] = {
    "study": study_path,
    "series": series_path,
    "instance": instance_path,
}


def in_scope(level: str, series: Series) -> Series:
    """The instances a level's metadata lists: the whole series (and study), or the first instance."""
    return series[:1] if level == "instance" else series


def get_metadata(client: DicomwebClient, path: str, if_none_match: str | None = None) -> requests.Response:
    headers = {"If-None-Match": if_none_match} if if_none_match is not None else {}
    return client.get(path + "/metadata", accept=DICOM_JSON, headers=headers)


def etag_of(response: requests.Response, what: str) -> str:
    etag = response.headers.get("ETag", "").strip()
    if not etag:
        raise fail(f"{what}: no ETag", expected="an ETag header", actual=dict(response.headers), response=response)
    return etag


def current_etag(client: DicomwebClient, path: str, instances: Series, what: str) -> str:
    response = get_metadata(client, path)
    check_metadata_lists(response, instances, what)
    return etag_of(response, what)


@pytest.fixture(scope="module")
def etag_series(dicomweb: Dicomweb, run_id: str) -> Series:
    """A study of one series of two instances that the read-only ETag checks share."""
    (series,) = new_study(run_id, [2], name="etag-shared")
    store_victims(dicomweb, series)
    return series


@pytest.mark.req("AZ-META-050")
@pytest.mark.parametrize("level", sorted(LEVELS))
def test_metadata_carries_an_etag(client: DicomwebClient, etag_series: Series, level: str) -> None:
    """Study, series and instance metadata answer 200 with an ETag header."""
    current_etag(client, LEVELS[level](etag_series[0]), in_scope(level, etag_series), f"{level} metadata")


@pytest.mark.req("AZ-META-051")
@pytest.mark.parametrize("level", sorted(LEVELS))
def test_a_matching_if_none_match_is_not_modified(client: DicomwebClient, etag_series: Series, level: str) -> None:
    """If-None-Match with the metadata's ETag answers 304 Not Modified with an empty body."""
    path = LEVELS[level](etag_series[0])
    etag = current_etag(client, path, in_scope(level, etag_series), f"{level} metadata")
    response = get_metadata(client, path, etag)
    if response.status_code != 304 or response.content:
        raise fail(
            f"{level} metadata with If-None-Match: its own ETag",
            expected="304 with no body",
            actual=f"{response.status_code}, {len(response.content)} bytes",
            response=response,
        )


@pytest.mark.req("AZ-META-052")
@pytest.mark.parametrize("level", sorted(LEVELS))
def test_another_if_none_match_gets_the_metadata(client: DicomwebClient, etag_series: Series, level: str) -> None:
    """If-None-Match with a tag the server never gave answers 200 with the full metadata and its ETag."""
    response = get_metadata(client, LEVELS[level](etag_series[0]), STALE_TAG)
    check_metadata_lists(response, in_scope(level, etag_series), f"{level} metadata with a stale If-None-Match")
    etag_of(response, f"{level} metadata with a stale If-None-Match")


def check_changed(client: DicomwebClient, path: str, old_etag: str, now: Series, what: str) -> None:
    """The old ETag no longer matches: 200, the metadata as it now is, and another ETag."""
    response = get_metadata(client, path, old_etag)
    check_metadata_lists(response, now, what)
    new_etag = etag_of(response, what)
    if new_etag == old_etag:
        raise fail(f"{what}: the ETag did not change", expected=f"not {old_etag}", actual=new_etag, response=response)


@pytest.mark.destructive
@pytest.mark.req("AZ-META-053")
@pytest.mark.parametrize("level", ["study", "series"])
def test_a_stored_instance_changes_the_etag(dicomweb: Dicomweb, run_id: str, level: str) -> None:
    """Once an instance is stored into the study or series, its old ETag gets 200, the new metadata and a new ETag."""
    (series,) = new_study(run_id, [2], name=f"etag-store-{level}")
    store_victims(dicomweb, series)
    path = LEVELS[level](series[0])
    old_etag = current_etag(dicomweb.client, path, series, f"{level} metadata before the store")
    added = synthetic_instance(
        run_id, study_uid=series[0].study_uid, series_uid=series[0].series_uid, name=f"etag-added-{level}"
    )
    check_successful_store(dicomweb.store([added]), [added], "store one more instance")
    check_changed(dicomweb.client, path, old_etag, [*series, added], f"{level} metadata after the store")


@pytest.mark.destructive
@pytest.mark.req("AZ-META-054")
@pytest.mark.parametrize("level", ["study", "series"])
def test_a_deleted_instance_changes_the_etag(dicomweb: Dicomweb, run_id: str, level: str) -> None:
    """Once one of the study's or series' instances is deleted, its old ETag gets 200, what remains and a new ETag."""
    (series,) = new_study(run_id, [2], name=f"etag-delete-{level}")
    store_victims(dicomweb, series)
    path = LEVELS[level](series[0])
    old_etag = current_etag(dicomweb.client, path, series, f"{level} metadata before the delete")
    delete(dicomweb, instance_path(series[1]), "delete one instance")
    check_changed(dicomweb.client, path, old_etag, series[:1], f"{level} metadata after the delete")
