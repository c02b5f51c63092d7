"""The tutorial's uploads (STOW-RS), each verified: response dataset, then retrieval of what was stored."""

from __future__ import annotations

import pytest

from dicomweb_conformance.checks.common import expect_media_type, expect_status, fail
from dicomweb_conformance.checks.store import (
    check_referenced_sops,
    check_retrievable,
    check_successful_store,
    retrieve_instance_bytes,
    same_origin,
    store_response_dataset,
)
from dicomweb_conformance.dicom.dicomjson import first, values
from dicomweb_conformance.dicom.part10 import instance_difference
from dicomweb_conformance.fixtures.resources import TutorialSet
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import DICOM_JSON, Dicomweb

INSTANCE_ALREADY_EXISTS = 45070  # Azure conformance statement: FailureReason 0xB00E


@pytest.mark.req("DW-STOW-001")
def test_store_one_instance_answers_200_dicom_json(dicomweb: Dicomweb, fresh_tutorial_set: TutorialSet) -> None:
    """Storing blue-circle as multipart/related to /studies answers 200 with application/dicom+json."""
    response = dicomweb.store([fresh_tutorial_set["blue-circle"]])
    expect_status(response, 200, "store of one valid instance")
    expect_media_type(response, DICOM_JSON, "store response")
    store_response_dataset(response, "store response")


@pytest.mark.req("DW-STOW-002")
def test_store_response_references_every_instance(
    dicomweb: Dicomweb, client: DicomwebClient, fresh_tutorial_set: TutorialSet
) -> None:
    """The store response lists blue-circle with its SOP Class UID and a RetrieveURL that retrieves it."""
    blue = fresh_tutorial_set["blue-circle"]
    response = dicomweb.store([blue])
    dataset = check_successful_store(response, [blue], "store of blue-circle")
    url = str(first(values(dataset, "ReferencedSOPSequence")[0], "RetrieveURL"))
    # Credentials go only to the target's own origin; another host is named but not fetched.
    if same_origin(url, client.target.base_url) and instance_difference(
        retrieve_instance_bytes(client, url, "GET the RetrieveURL"), blue.data
    ):
        raise fail("the RetrieveURL returned another instance", expected="blue-circle's bytes", actual="other bytes")


@pytest.mark.req("DW-STOW-003")
def test_stored_instances_are_retrievable_byte_for_byte(
    dicomweb: Dicomweb, client: DicomwebClient, fresh_tutorial_set: TutorialSet
) -> None:
    """After a 200 store of blue-circle, a WADO-RS retrieve with transfer-syntax=* returns the uploaded bytes."""
    blue = fresh_tutorial_set["blue-circle"]
    check_successful_store(dicomweb.store([blue]), [blue], "store of blue-circle")
    check_retrievable(client, [blue], "stored blue-circle")


@pytest.mark.req("DW-STOW-004")
def test_store_two_instances_to_their_study(
    dicomweb: Dicomweb, client: DicomwebClient, fresh_tutorial_set: TutorialSet
) -> None:
    """Storing red-triangle and green-square to /studies/{study} in one request stores both under that study."""
    pair = [fresh_tutorial_set["red-triangle"], fresh_tutorial_set["green-square"]]
    response = dicomweb.store(pair, study=pair[0].study_uid)
    check_successful_store(response, pair, "store of two instances to /studies/{study}")
    check_retrievable(client, pair, "stored red-triangle and green-square")


@pytest.mark.req("DW-STOW-005")
def test_store_in_the_tutorials_request_shape(
    dicomweb: Dicomweb, client: DicomwebClient, fresh_tutorial_set: TutorialSet
) -> None:
    """The tutorial's body (urllib3 form-data parts under 'multipart/related; boundary=...', no type) is stored."""
    blue = fresh_tutorial_set["blue-circle"]
    response = dicomweb.store_tutorial_shape([blue])
    check_successful_store(response, [blue], "tutorial-shaped store of blue-circle")
    check_retrievable(client, [blue], "blue-circle stored in the tutorial's shape")


@pytest.mark.req("AZ-STOW-001")
def test_store_single_part_application_dicom(
    dicomweb: Dicomweb, client: DicomwebClient, fresh_tutorial_set: TutorialSet
) -> None:
    """A single Part 10 file POSTed as application/dicom to /studies is stored and reported."""
    blue = fresh_tutorial_set["blue-circle"]
    response = dicomweb.store_single_part(blue)
    check_successful_store(response, [blue], "single-part store of blue-circle")
    check_retrievable(client, [blue], "blue-circle stored single-part")


@pytest.mark.req("AZ-STOW-002")
def test_storing_an_existing_instance_is_a_conflict(dicomweb: Dicomweb, fresh_tutorial_set: TutorialSet) -> None:
    """Storing blue-circle a second time answers 409 with FailureReason 45070 for that instance."""
    blue = fresh_tutorial_set["blue-circle"]
    check_successful_store(dicomweb.store([blue]), [blue], "first store of blue-circle")
    response = dicomweb.store_single_part(blue) if dicomweb.target.has("stow.single_part") else dicomweb.store([blue])
    expect_status(response, 409, "second store of the same instance")
    expect_media_type(response, DICOM_JSON, "409 store response")
    dataset = store_response_dataset(response, "409 store response")
    failed = {
        str(first(item, "ReferencedSOPInstanceUID")): first(item, "FailureReason")
        for item in values(dataset, "FailedSOPSequence")
    }
    if failed.get(blue.sop_instance_uid) != INSTANCE_ALREADY_EXISTS:
        raise fail(
            "409 response does not report the instance as already existing",
            expected={blue.sop_instance_uid: INSTANCE_ALREADY_EXISTS},
            actual=failed or "no FailedSOPSequence",
            response=response,
        )
    if values(dataset, "ReferencedSOPSequence"):
        check_referenced_sops(response, dataset, [], "409 store response")
