"""The tutorial's searches (QIDO-RS): each must answer exactly this run's matching entities."""

from __future__ import annotations

import pytest

from dicomweb_conformance.checks.qido import check_search_finds_exactly
from dicomweb_conformance.fixtures.resources import TutorialSet
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import DICOM_JSON


@pytest.mark.req("DW-QIDO-001")
def test_search_studies_by_study_uid(client: DicomwebClient, tutorial_corpus: TutorialSet) -> None:
    """GET /studies?StudyInstanceUID={study} answers exactly the tutorial study."""
    study = tutorial_corpus["red-triangle"].study_uid
    response = client.get("studies", accept=DICOM_JSON, params={"StudyInstanceUID": study})
    check_search_finds_exactly(response, "StudyInstanceUID", [study], "search for the study")


@pytest.mark.req("DW-QIDO-002")
def test_search_series_by_series_uid(client: DicomwebClient, tutorial_corpus: TutorialSet) -> None:
    """GET /series?SeriesInstanceUID={series} answers exactly the red/green series."""
    series = tutorial_corpus["red-triangle"].series_uid
    response = client.get("series", accept=DICOM_JSON, params={"SeriesInstanceUID": series})
    check_search_finds_exactly(response, "SeriesInstanceUID", [series], "search for the series")


@pytest.mark.req("DW-QIDO-003")
def test_search_series_within_study(client: DicomwebClient, tutorial_corpus: TutorialSet) -> None:
    """GET /studies/{study}/series?SeriesInstanceUID={series} answers exactly that series."""
    red = tutorial_corpus["red-triangle"]
    response = client.get(
        f"studies/{red.study_uid}/series", accept=DICOM_JSON, params={"SeriesInstanceUID": red.series_uid}
    )
    check_search_finds_exactly(response, "SeriesInstanceUID", [red.series_uid], "search for series in the study")


@pytest.mark.req("DW-QIDO-004")
def test_search_instances_by_sop_uid(client: DicomwebClient, tutorial_corpus: TutorialSet) -> None:
    """GET /instances?SOPInstanceUID={instance} answers exactly red-triangle."""
    red = tutorial_corpus["red-triangle"]
    response = client.get("instances", accept=DICOM_JSON, params={"SOPInstanceUID": red.sop_instance_uid})
    check_search_finds_exactly(response, "SOPInstanceUID", [red.sop_instance_uid], "search for the instance")


@pytest.mark.req("DW-QIDO-005")
def test_search_instances_within_study(client: DicomwebClient, tutorial_corpus: TutorialSet) -> None:
    """GET /studies/{study}/instances?SOPInstanceUID={instance} answers exactly red-triangle."""
    red = tutorial_corpus["red-triangle"]
    response = client.get(
        f"studies/{red.study_uid}/instances", accept=DICOM_JSON, params={"SOPInstanceUID": red.sop_instance_uid}
    )
    check_search_finds_exactly(
        response, "SOPInstanceUID", [red.sop_instance_uid], "search for the instance in the study"
    )


@pytest.mark.req("DW-QIDO-006")
def test_search_instances_within_series(client: DicomwebClient, tutorial_corpus: TutorialSet) -> None:
    """GET /studies/{study}/series/{series}/instances?SOPInstanceUID={instance} answers exactly red-triangle."""
    red = tutorial_corpus["red-triangle"]
    path = f"studies/{red.study_uid}/series/{red.series_uid}/instances"
    response = client.get(path, accept=DICOM_JSON, params={"SOPInstanceUID": red.sop_instance_uid})
    check_search_finds_exactly(
        response, "SOPInstanceUID", [red.sop_instance_uid], "search for the instance in the series"
    )


@pytest.mark.req("DW-QIDO-007")
def test_search_studies_by_patient(client: DicomwebClient, tutorial_corpus: TutorialSet) -> None:
    """GET /studies?PatientName=Tutorial^Shapes&PatientID={run's id} answers exactly this run's study."""
    red = tutorial_corpus["red-triangle"]
    dataset = red.dataset
    params = {"PatientName": str(dataset.PatientName), "PatientID": str(dataset.PatientID)}
    response = client.get("studies", accept=DICOM_JSON, params=params)
    check_search_finds_exactly(response, "StudyInstanceUID", [red.study_uid], "search for studies by patient")
