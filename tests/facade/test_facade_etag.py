"""Metadata ETags and If-None-Match (reference 1.2 "Metadata caching", 2.8; RFC 9110 13.1.2)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.doubles.facade.etag import entity_tag, none_match_fails
from tests.doubles.facade.server import AzureFacade, facade_over_fresh_orthanc

from .helpers import DICOM_JSON, make_instance, new_uid, store


@pytest.fixture(scope="module")
def facade() -> Iterator[AzureFacade]:
    with facade_over_fresh_orthanc() as running:
        yield running


def _metadata(url: str, if_none_match: str | None = None) -> requests.Response:
    headers = {"Accept": DICOM_JSON}
    if if_none_match is not None:
        headers["If-None-Match"] = if_none_match
    return requests.get(url, headers=headers, timeout=30)


def test_the_same_body_gives_the_same_strong_tag() -> None:
    assert entity_tag(b"[1]") == entity_tag(b"[1]")
    assert entity_tag(b"[1]") != entity_tag(b"[2]")
    assert entity_tag(b"[]")[0] == entity_tag(b"[]")[-1] == '"'


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ('"a"', True),
        ('W/"a"', True),
        ('"b", "a"', True),
        ('"b"', False),
        ("*", True),
        ("", False),
    ],
)
def test_if_none_match_uses_the_weak_comparison(header: str | None, matches: bool) -> None:
    assert none_match_fails(header, '"a"') is matches


@pytest.mark.parametrize("level", ["study", "series", "instance"])
def test_metadata_carries_an_etag_and_a_match_answers_304(facade: AzureFacade, level: str) -> None:
    dataset, data = make_instance()
    assert store(facade.url(), data).status_code == 200
    url = {
        "study": f"{facade.url()}/studies/{dataset.StudyInstanceUID}/metadata",
        "series": f"{facade.url()}/studies/{dataset.StudyInstanceUID}/series/{dataset.SeriesInstanceUID}/metadata",
        "instance": (
            f"{facade.url()}/studies/{dataset.StudyInstanceUID}/series/{dataset.SeriesInstanceUID}"
            f"/instances/{dataset.SOPInstanceUID}/metadata"
        ),
    }[level]
    first = _metadata(url)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag == entity_tag(first.content)
    again = _metadata(url, etag)
    assert (again.status_code, again.content, again.headers["ETag"]) == (304, b"", etag)
    other = _metadata(url, '"something-else"')
    assert (other.status_code, other.content) == (200, first.content)


def test_a_new_instance_in_the_study_changes_the_etag(facade: AzureFacade) -> None:
    study = new_uid()
    _, data = make_instance(study=study)
    assert store(facade.url(), data).status_code == 200
    url = f"{facade.url()}/studies/{study}/metadata"
    etag = _metadata(url).headers["ETag"]
    _, more = make_instance(study=study)
    assert store(facade.url(), more).status_code == 200
    changed = _metadata(url, etag)
    assert changed.status_code == 200
    assert len(changed.json()) == 2
    assert changed.headers["ETag"] != etag


def test_errors_carry_no_etag(facade: AzureFacade) -> None:
    response = _metadata(f"{facade.url()}/studies/{new_uid()}/metadata", "*")
    assert response.status_code == 404
    assert "ETag" not in response.headers


def test_metadata_without_accept_is_still_406(facade: AzureFacade) -> None:
    response = requests.get(f"{facade.url()}/studies/{new_uid()}/metadata", headers={"Accept": None}, timeout=30)
    assert response.status_code == 406
