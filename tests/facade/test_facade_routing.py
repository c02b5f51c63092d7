"""Versioned routing and the pass-through to Orthanc's DICOMweb (reference 1.0, 1.2, 1.3)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.doubles.facade.server import AzureFacade, facade_over_fresh_orthanc

from .helpers import DICOM_JSON, make_instance, new_uid, retrieve, retrieved_datasets, store


@pytest.fixture(scope="module")
def facade() -> Iterator[AzureFacade]:
    with facade_over_fresh_orthanc() as running:
        yield running


@pytest.fixture(scope="module")
def stored(facade: AzureFacade) -> tuple[str, str, str]:
    """One instance of about 1 MB stored through the facade: (study, series, sop)."""
    dataset, data = make_instance(side=1024)
    assert store(facade.url(), data).status_code == 200
    return dataset.StudyInstanceUID, dataset.SeriesInstanceUID, dataset.SOPInstanceUID


@pytest.mark.parametrize("path", ["/studies", "/changefeed", "/v3/studies", "/v2.0/studies", "/"])
def test_routes_without_a_supported_version_answer_404(facade: AzureFacade, path: str) -> None:
    response = requests.get(f"{facade.base_url}{path}", headers={"Accept": DICOM_JSON}, timeout=30)
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["nothing", "studies/1.2/bulkdata", "changefeed/earliest", "workitems"])
def test_unknown_versioned_routes_answer_404_in_plain_text(facade: AzureFacade, path: str) -> None:
    response = requests.get(f"{facade.url()}/{path}", headers={"Accept": DICOM_JSON}, timeout=30)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers["api-supported-versions"] == "1.0-prerelease, 1, 2"


def test_a_known_route_with_another_method_answers_405(facade: AzureFacade) -> None:
    response = requests.put(f"{facade.url()}/changefeed", timeout=30)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"


def test_qido_with_no_match_answers_204_with_no_body(facade: AzureFacade) -> None:
    response = requests.get(f"{facade.url()}/studies?PatientID={new_uid()}", headers={"Accept": DICOM_JSON})
    assert response.status_code == 204
    assert response.content == b""


def test_qido_with_a_match_is_orthancs_answer(facade: AzureFacade, stored: tuple[str, str, str]) -> None:
    study, _, _ = stored
    response = requests.get(f"{facade.url()}/studies?StudyInstanceUID={study}", headers={"Accept": DICOM_JSON})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(DICOM_JSON)
    (match,) = response.json()
    assert match["0020000D"]["Value"] == [study]


@pytest.mark.parametrize("path", ["studies", "series", "instances", "studies/{study}/metadata"])
def test_qido_and_metadata_without_accept_answer_406(
    facade: AzureFacade, stored: tuple[str, str, str], path: str
) -> None:
    url = f"{facade.url()}/{path.format(study=stored[0])}"
    response = requests.get(url, headers={"Accept": None}, timeout=30)
    assert response.status_code == 406
    assert response.content == b""


def test_metadata_passes_through(facade: AzureFacade, stored: tuple[str, str, str]) -> None:
    study, series, sop = stored
    url = f"{facade.url('v1')}/studies/{study}/series/{series}/instances/{sop}/metadata"
    response = requests.get(url, headers={"Accept": DICOM_JSON}, timeout=30)
    assert response.status_code == 200
    (dataset,) = response.json()
    assert dataset["00080018"]["Value"] == [sop]


def test_a_large_instance_streams_back_intact(facade: AzureFacade, stored: tuple[str, str, str]) -> None:
    study, series, sop = stored
    response = retrieve(f"{facade.url()}/studies/{study}/series/{series}/instances/{sop}")
    assert response.status_code == 200
    (copy,) = retrieved_datasets(response)
    assert copy.SOPInstanceUID == sop
    assert len(copy.PixelData) == 1024 * 1024


def test_frames_and_rendered_pass_through(facade: AzureFacade, stored: tuple[str, str, str]) -> None:
    study, series, sop = stored
    instance = f"{facade.url()}/studies/{study}/series/{series}/instances/{sop}"
    frames = requests.get(
        f"{instance}/frames/1", headers={"Accept": 'multipart/related; type="application/octet-stream"'}, timeout=30
    )
    assert frames.status_code == 200
    assert frames.headers["Content-Type"].startswith("multipart/related")
    rendered = requests.get(f"{instance}/rendered", headers={"Accept": "image/png"}, timeout=30)
    assert rendered.status_code == 200
    assert rendered.headers["Content-Type"] == "image/png"
    assert rendered.content.startswith(b"\x89PNG")


def test_wado_of_a_missing_study_is_orthancs_404(facade: AzureFacade) -> None:
    assert retrieve(f"{facade.url()}/studies/{new_uid()}").status_code == 404


def test_stored_data_lands_in_orthanc(facade: AzureFacade, stored: tuple[str, str, str]) -> None:
    study, series, sop = stored
    url = f"{facade.orthanc_rest_url}/dicom-web/studies/{study}/series/{series}/instances/{sop}"
    response = retrieve(url)
    assert response.status_code == 200
    (copy,) = retrieved_datasets(response)
    assert copy.SOPInstanceUID == sop
