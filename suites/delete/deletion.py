"""Deleting through DICOMweb and verifying the result: what both delete suites and the change-feed checks share.

A delete is verified three ways, as the Azure DICOM service documents it ("all levels are removed", reference 1.4,
E2E DeleteTests): metadata and WADO retrieve answer 404 and QIDO no longer finds the entity.
"""

from __future__ import annotations

from collections.abc import Sequence

from dicomweb_conformance.checks.common import dicom_json_array, expect_status, fail
from dicomweb_conformance.checks.store import check_retrievable
from dicomweb_conformance.dicom.dicomjson import first
from dicomweb_conformance.dicom.samples import SampleInstance
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import (
    DICOM_JSON,
    MULTIPART_DICOM_ANY_TS,
    Dicomweb,
    instance_path,
    series_path,
)


def delete(dicomweb: Dicomweb, path: str, what: str) -> None:
    response = dicomweb.client.delete(path)
    expect_status(response, 204, what)
    if response.content:
        raise fail(
            f"{what}: 204 must have no body", expected="empty body", actual=response.content[:100], response=response
        )
    # The ledger keeps them: a 204 proves nothing until the checks see them gone, and the cleanup's own DELETE of
    # an instance already removed costs one 404.


def study_path(instance: SampleInstance) -> str:
    return f"studies/{instance.study_uid}"


def check_search_misses(client: DicomwebClient, path: str, keyword: str, uid: str, what: str) -> None:
    """QIDO no longer lists the UID. Whether an empty search answers 204 (Azure, reference 1.3) or 200 []
    is for the QIDO checks to judge; this check judges only whether the deleted entity is listed."""
    response = client.get(path, accept=DICOM_JSON, params={keyword: uid})
    if response.status_code == 204:
        return
    expect_status(response, 200, what)
    listed = [result for result in dicom_json_array(response, what) if first(result, keyword) == uid]
    if listed:
        raise fail(f"{what}: the deleted entity is still found", expected=f"no {keyword} {uid}", actual=listed[0])


def check_resource_gone(dicomweb: Dicomweb, path: str, what: str) -> None:
    """Metadata and WADO of a deleted study, series or instance answer 404 (reference 1.4, 2.10)."""
    dicomweb.wait_gone(path + "/metadata")
    expect_status(dicomweb.client.get(path + "/metadata", accept=DICOM_JSON), 404, f"{what}: metadata")
    with dicomweb.client.streamed(path, accept=MULTIPART_DICOM_ANY_TS) as response:
        expect_status(response, 404, f"{what}: WADO retrieve")


def check_instance_gone(dicomweb: Dicomweb, instance: SampleInstance, what: str) -> None:
    check_resource_gone(dicomweb, instance_path(instance), f"{what}: instance {instance.name}")
    check_search_misses(dicomweb.client, "instances", "SOPInstanceUID", instance.sop_instance_uid, f"{what}: QIDO")


def check_series_gone(dicomweb: Dicomweb, instance: SampleInstance, what: str) -> None:
    check_resource_gone(dicomweb, series_path(instance), f"{what}: series of {instance.name}")
    check_search_misses(dicomweb.client, "series", "SeriesInstanceUID", instance.series_uid, f"{what}: QIDO")


def check_study_gone(dicomweb: Dicomweb, instance: SampleInstance, what: str) -> None:
    check_resource_gone(dicomweb, study_path(instance), f"{what}: study")
    check_search_misses(dicomweb.client, "studies", "StudyInstanceUID", instance.study_uid, f"{what}: QIDO")


def check_still_there(dicomweb: Dicomweb, instances: Sequence[SampleInstance], what: str) -> None:
    """What the delete did not name is still retrievable byte for byte and searchable; losing it is data loss."""
    check_retrievable(dicomweb.client, instances, what)
    lost = [instance.name for instance in instances if not dicomweb.find_instance(instance)]
    if lost:
        raise fail(f"{what}: instances the delete did not name are no longer found by QIDO", expected=[], actual=lost)
