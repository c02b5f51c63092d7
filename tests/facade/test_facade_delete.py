"""DELETE through the Azure facade, removing from a real Orthanc (reference 1.4, 2.10)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.doubles.facade.server import AzureFacade, facade_over_fresh_orthanc

from .helpers import DICOM_JSON, make_instance, new_uid, retrieve, store


@pytest.fixture(scope="module")
def facade() -> Iterator[AzureFacade]:
    with facade_over_fresh_orthanc() as running:
        yield running


@pytest.fixture
def base(facade: AzureFacade) -> str:
    return facade.url("v2")


def _study_of_two_series(base: str) -> tuple[str, list[str], list[str]]:
    """A study with series A (two instances) and series B (one instance): (study, series, sops)."""
    study, series_a, series_b = new_uid(), new_uid(), new_uid()
    instances = [
        make_instance(study=study, series=series_a),
        make_instance(study=study, series=series_a),
        make_instance(study=study, series=series_b),
    ]
    assert store(base, *(data for _, data in instances)).status_code == 200
    return study, [series_a, series_b], [dataset.SOPInstanceUID for dataset, _ in instances]


def _delete(url: str) -> requests.Response:
    return requests.delete(url, timeout=30)


def test_deleting_an_instance_answers_204_and_leaves_its_siblings(base: str) -> None:
    study, (series_a, _), (first, second, _) = _study_of_two_series(base)
    url = f"{base}/studies/{study}/series/{series_a}/instances/{first}"
    response = _delete(url)
    assert response.status_code == 204
    assert response.content == b""
    assert retrieve(url).status_code == 404
    assert retrieve(f"{base}/studies/{study}/series/{series_a}/instances/{second}").status_code == 200
    assert _delete(url).status_code == 404, "a second delete finds nothing"


def test_deleting_a_series_answers_204_and_leaves_the_other_series(base: str) -> None:
    study, (series_a, series_b), _ = _study_of_two_series(base)
    url = f"{base}/studies/{study}/series/{series_a}"
    assert _delete(url).status_code == 204
    assert retrieve(url).status_code == 404
    remaining = requests.get(f"{base}/studies/{study}/series", headers={"Accept": DICOM_JSON}, timeout=30)
    assert [item["0020000E"]["Value"][0] for item in remaining.json()] == [series_b]
    assert _delete(url).status_code == 404


def test_deleting_a_study_answers_204_and_removes_every_instance(base: str) -> None:
    study, (series_a, series_b), (first, second, third) = _study_of_two_series(base)
    assert _delete(f"{base}/studies/{study}").status_code == 204
    for series, sop in ((series_a, first), (series_a, second), (series_b, third)):
        assert retrieve(f"{base}/studies/{study}/series/{series}/instances/{sop}").status_code == 404
    assert retrieve(f"{base}/studies/{study}").status_code == 404
    assert _delete(f"{base}/studies/{study}").status_code == 404


def test_deleting_the_last_instance_removes_its_series_and_study(base: str) -> None:
    dataset, data = make_instance()
    assert store(base, data).status_code == 200
    study, series = dataset.StudyInstanceUID, dataset.SeriesInstanceUID
    assert _delete(f"{base}/studies/{study}/series/{series}/instances/{dataset.SOPInstanceUID}").status_code == 204
    assert retrieve(f"{base}/studies/{study}/series/{series}").status_code == 404
    assert retrieve(f"{base}/studies/{study}").status_code == 404


def test_a_resource_under_other_parents_is_not_found(base: str) -> None:
    study, (series_a, series_b), (first, _, _) = _study_of_two_series(base)
    assert _delete(f"{base}/studies/{study}/series/{series_b}/instances/{first}").status_code == 404
    assert _delete(f"{base}/studies/{new_uid()}/series/{series_a}").status_code == 404
    assert retrieve(f"{base}/studies/{study}/series/{series_a}/instances/{first}").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "studies/notAStudyInstanceUid",
        "studies/1.2.3/series/notASeriesUid",
        "studies/1.2.3/series/1.2.3." + "4" * 64,
        "studies/1.2.3/series/1.2.4/instances/notASopUid",
        "studies/1.2.3/series/1.2.4/instances/1.2.5.",
    ],
)
def test_a_malformed_uid_answers_400(base: str, path: str) -> None:
    assert _delete(f"{base}/{path}").status_code == 400
