"""STOW-RS failures: partial (202) and total (409) failure, unusable parts, invalid UIDs, duplicates, empty requests."""

from __future__ import annotations

import pytest
import requests

from dicomweb_conformance.checks.common import expect_media_type, expect_status, fail, status_line
from dicomweb_conformance.checks.store import check_successful_store, store_response_dataset
from dicomweb_conformance.checks.stow import (
    StoreExchange,
    check_failed_item,
    check_failure_reason_present,
    check_lists_exactly,
    expect_absent,
    expect_kept,
    expect_stored_intact,
    failed_items,
    failure_reasons,
    forget_unreachable,
    referenced_items,
    send,
)
from dicomweb_conformance.corpora.stow_inputs import (
    NOT_DICOM_TEXT,
    StowBody,
    empty_part,
    related,
    with_attributes,
    zero_parts,
)
from dicomweb_conformance.dicom.dicomjson import first
from dicomweb_conformance.dicom.samples import SampleInstance
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import DICOM_JSON, Dicomweb

VALIDATION_FAILED = 43264  # Azure: 0xA900, required attribute invalid (code and E2E)
STUDY_MISMATCH_DOCUMENTED = 43265  # Azure conformance statement (reference 1.12 item 1)
# Azure E2E GivenDatasetWithInvalidUid uses these two StudyInstanceUIDs.
INVALID_DATASET_UIDS = [pytest.param("abc.123", id="letters"), pytest.param("11|", id="bar")]


# --- partial failure: one instance of the path's study, one of another -------------------------------------------


@pytest.mark.req("DW-STOW-110")
def test_partial_failure_answers_202(partial_store: StoreExchange) -> None:
    """One matching and one mismatching instance POSTed to /studies/{study} answer 202 Accepted."""
    expect_status(partial_store.response, 202, "store of one matching and one mismatching instance")
    expect_media_type(partial_store.response, DICOM_JSON, "202 store response")


@pytest.mark.req("DW-STOW-111")
def test_partial_failure_lists_both_sequences(partial_store: StoreExchange) -> None:
    """The partial store lists the matching instance as stored and the mismatching one as failed, with a reason."""
    response = partial_store.response
    dataset = store_response_dataset(response, "partial store response")
    check_lists_exactly(response, referenced_items(dataset), partial_store.stored, "ReferencedSOPSequence", "partial")
    check_lists_exactly(response, failed_items(dataset), partial_store.refused, "FailedSOPSequence", "partial")
    check_failed_item(response, failed_items(dataset)[0], partial_store.refused[0], "partial store")


@pytest.mark.req("DW-STOW-112")
def test_partial_failure_keeps_the_accepted_instance(client: DicomwebClient, partial_store: StoreExchange) -> None:
    """After the partial store the matching instance is retrievable byte for byte."""
    expect_stored_intact(
        client, partial_store.stored, partial_store.response, "the accepted instance of a partial store"
    )


@pytest.mark.req("DW-STOW-113")
def test_partial_failure_does_not_store_the_rejected_instance(
    client: DicomwebClient, partial_store: StoreExchange
) -> None:
    """After the partial store the instance of another study is not retrievable."""
    for instance in partial_store.refused:
        expect_absent(client, instance, "the rejected instance of a partial store", partial_store.response)


@pytest.mark.req("AZ-STOW-100")
def test_study_mismatch_reason_is_43264_or_43265(partial_store: StoreExchange) -> None:
    """The mismatching instance is reported with FailureReason 43264 (code) or 43265 (documentation)."""
    reasons = failure_reasons(store_response_dataset(partial_store.response, "partial store response"))
    if reasons != [VALIDATION_FAILED] and reasons != [STUDY_MISMATCH_DOCUMENTED]:
        raise fail(
            "a study mismatch is not reported as Azure documents it (reference 1.12 item 1)",
            expected=f"[{VALIDATION_FAILED}] or [{STUDY_MISMATCH_DOCUMENTED}]",
            actual=reasons,
            response=partial_store.response,
        )


@pytest.mark.req("AZ-STOW-110")
def test_partial_failure_answers_exactly_three_elements(partial_store: StoreExchange) -> None:
    """The partial store response holds exactly RetrieveURL, FailedSOPSequence and ReferencedSOPSequence."""
    dataset = store_response_dataset(partial_store.response, "partial store response")
    expected = ["00081190", "00081198", "00081199"]
    if sorted(dataset) != expected:
        raise fail(
            "the partial store response does not have Azure's three elements",
            expected=expected,
            actual=sorted(dataset),
            response=partial_store.response,
        )


# --- total failure: every instance belongs to another study -----------------------------------------------------


@pytest.mark.req("DW-STOW-114")
def test_total_failure_answers_409_listing_every_instance(refused_store: StoreExchange) -> None:
    """Two instances of other studies POSTed to /studies/{study} answer 409, both in FailedSOPSequence, none stored."""
    response = refused_store.response
    expect_status(response, 409, "store of instances that all belong to other studies")
    dataset = store_response_dataset(response, "409 store response")
    check_lists_exactly(response, failed_items(dataset), refused_store.refused, "FailedSOPSequence", "409 response")
    check_lists_exactly(response, referenced_items(dataset), [], "ReferencedSOPSequence", "409 response")


@pytest.mark.req("DW-STOW-115")
def test_total_failure_stores_nothing(client: DicomwebClient, refused_store: StoreExchange) -> None:
    """After the 409, neither instance of another study is retrievable."""
    for instance in refused_store.refused:
        expect_absent(client, instance, "an instance of a refused store", refused_store.response)


@pytest.mark.req("DW-STOW-116")
def test_failure_response_is_labelled_dicom_json(refused_store: StoreExchange) -> None:
    """The 409 store response carries Content-Type application/dicom+json."""
    response = refused_store.response
    expect_status(response, 409, "store of instances that all belong to other studies")
    if "Content-Type" not in response.headers:
        raise fail(
            "the 409 store response has no Content-Type", expected=DICOM_JSON, actual="no header", response=response
        )
    expect_media_type(response, DICOM_JSON, "409 store response")


# --- a valid instance beside an unusable part --------------------------------------------------------------------


def _beside(unusable: bytes, instance: SampleInstance) -> StowBody:
    """The unusable part first, then `instance` (Azure E2E GivenAMultipartRequestWithAnInvalidMultipartSection)."""
    return related([instance], [unusable, instance.data])


UNUSABLE_PARTS = [pytest.param(b"", id="empty-part"), pytest.param(NOT_DICOM_TEXT, id="text-part")]


@pytest.mark.req("DW-STOW-117")
@pytest.mark.parametrize("unusable", UNUSABLE_PARTS)
def test_an_unusable_part_beside_a_valid_one_is_never_200(
    dicomweb: Dicomweb, client: DicomwebClient, stow_instance: SampleInstance, unusable: bytes
) -> None:
    """An unusable part and a valid instance answer 202 with the instance stored, or 400/409 with nothing stored."""
    response = send(dicomweb, _beside(unusable, stow_instance))
    status = response.status_code
    if status == 202:
        expect_stored_intact(client, [stow_instance], response, "the valid instance of a 202 store")
        if not failed_items(store_response_dataset(response, "202 store response")):
            raise fail(
                "a 202 without a FailedSOPSequence item",
                expected="the unusable part listed",
                actual="none",
                response=response,
            )
        return
    # Table 10.5.3-1: 400 and 409 mean the origin server was unable to store any Instances.
    if status in (400, 409):
        expect_absent(client, stow_instance, f"the valid instance of a store answered {status}", response)
        return
    expect_kept(client, [stow_instance], response, f"the valid instance of a store answered {status}")
    raise fail(
        "one part failed, yet the status is not 202/400/409",
        expected="202, 400 or 409",
        actual=status_line(response),
        response=response,
    )


@pytest.mark.req("AZ-STOW-106")
def test_only_an_empty_part_answers_409(dicomweb: Dicomweb, stow_instance: SampleInstance) -> None:
    """A multipart store whose only part is empty answers 409 with one FailedSOPSequence item."""
    response = send(dicomweb, empty_part(stow_instance))
    expect_status(response, 409, "store of one empty part")
    items = failed_items(store_response_dataset(response, "409 store response"))
    if len(items) != 1:
        raise fail(
            "the empty part is not reported", expected="1 FailedSOPSequence item", actual=len(items), response=response
        )
    check_failure_reason_present(response, items[0], "the empty part")


@pytest.mark.req("AZ-STOW-107")
def test_an_empty_part_beside_a_valid_one_answers_202(
    dicomweb: Dicomweb, client: DicomwebClient, stow_instance: SampleInstance
) -> None:
    """An empty part followed by a valid instance answers 202 with the instance in ReferencedSOPSequence."""
    response = send(dicomweb, _beside(b"", stow_instance))
    expect_status(response, 202, "store of an empty part and a valid instance")
    expect_media_type(response, DICOM_JSON, "202 store response")
    dataset = store_response_dataset(response, "202 store response")
    check_lists_exactly(response, referenced_items(dataset), [stow_instance], "ReferencedSOPSequence", "202")
    expect_stored_intact(client, [stow_instance], response, "the valid instance beside an empty part")


@pytest.mark.req("AZ-STOW-108")
def test_single_part_empty_body_answers_409(dicomweb: Dicomweb) -> None:
    """A single-part application/dicom store with an empty body answers 409."""
    response = send(dicomweb, StowBody(b"", "application/dicom"))
    expect_status(response, 409, "single-part store of an empty body")


# --- invalid UIDs in the path and in the dataset -----------------------------------------------------------------


def _store_to(dicomweb: Dicomweb, client: DicomwebClient, instance: SampleInstance, path_study: str) -> None:
    response = send(dicomweb, related([instance]), study=path_study)
    expect_status(response, 400, f"store to /studies/{path_study[:20]}...")
    expect_absent(client, instance, "an instance POSTed to an invalid study path", response)


@pytest.mark.req("DW-STOW-118")
@pytest.mark.parametrize(
    "path_study", [pytest.param("1" * 65, id="65-characters"), pytest.param("1.2.abc", id="letters")]
)
def test_invalid_study_uid_in_the_path_is_400(
    dicomweb: Dicomweb, client: DicomwebClient, stow_instance: SampleInstance, path_study: str
) -> None:
    """A store to /studies/{study} whose study is not a UID (65 characters, letters) answers 400 and stores nothing."""
    _store_to(dicomweb, client, stow_instance, path_study)


@pytest.mark.req("DW-STOW-119")
def test_study_uid_with_an_empty_component_in_the_path_is_400(
    dicomweb: Dicomweb, client: DicomwebClient, stow_instance: SampleInstance
) -> None:
    """A store to /studies/1..2 (an empty UID component, PS3.5 9.1) answers 400 and stores nothing."""
    _store_to(dicomweb, client, stow_instance, "1..2")


def _store_with_invalid_study_uid(
    dicomweb: Dicomweb, instance: SampleInstance, study_uid: str
) -> tuple[SampleInstance, requests.Response]:
    invalid = with_attributes(instance, StudyInstanceUID=study_uid)
    response = send(dicomweb, related([invalid]))
    return invalid, response


@pytest.mark.req("DW-STOW-120")
@pytest.mark.parametrize("study_uid", INVALID_DATASET_UIDS)
def test_invalid_study_uid_in_the_dataset_is_refused(
    dicomweb: Dicomweb, client: DicomwebClient, stow_instance: SampleInstance, study_uid: str
) -> None:
    """An instance whose StudyInstanceUID is not a UID answers 409 with the instance in FailedSOPSequence."""
    invalid, response = _store_with_invalid_study_uid(dicomweb, stow_instance, study_uid)
    forget_unreachable(dicomweb, [invalid], response)
    expect_status(response, 409, f"store of an instance with StudyInstanceUID {study_uid!r}")
    dataset = store_response_dataset(response, "409 store response")
    check_lists_exactly(response, failed_items(dataset), [invalid], "FailedSOPSequence", "409 response")
    check_failed_item(response, failed_items(dataset)[0], invalid, "invalid UID")
    expect_absent(client, invalid, "an instance with an invalid StudyInstanceUID", response)


@pytest.mark.req("AZ-STOW-101")
@pytest.mark.parametrize("study_uid", INVALID_DATASET_UIDS)
def test_invalid_study_uid_in_the_dataset_is_43264(
    dicomweb: Dicomweb, stow_instance: SampleInstance, study_uid: str
) -> None:
    """An instance whose StudyInstanceUID is not a UID is refused with FailureReason 43264."""
    invalid, response = _store_with_invalid_study_uid(dicomweb, stow_instance, study_uid)
    forget_unreachable(dicomweb, [invalid], response)
    expect_status(response, 409, f"store of an instance with StudyInstanceUID {study_uid!r}")
    reasons = failure_reasons(store_response_dataset(response, "409 store response"))
    if reasons != [VALIDATION_FAILED]:
        raise fail(
            "an invalid UID is not reported as 43264", expected=[VALIDATION_FAILED], actual=reasons, response=response
        )


# --- duplicates and empty requests --------------------------------------------------------------------------------


@pytest.mark.req("DW-STOW-121")
def test_same_instance_twice_in_one_request(
    dicomweb: Dicomweb, client: DicomwebClient, stow_instance: SampleInstance
) -> None:
    """The same instance twice in one request is stored intact; the response accounts for both parts and agrees."""
    response = dicomweb.store([stow_instance, stow_instance])
    expect_stored_intact(client, [stow_instance], response, "an instance sent twice in one request")
    dataset = store_response_dataset(response, f"{response.status_code} store response")
    stored, failed = referenced_items(dataset), failed_items(dataset)
    if stow_instance.sop_instance_uid not in {first(item, "ReferencedSOPInstanceUID") for item in stored}:
        raise fail(
            "the stored instance is not in ReferencedSOPSequence",
            expected=stow_instance.sop_instance_uid,
            actual=len(stored),
            response=response,
        )
    if len(stored) + len(failed) != 2:
        raise fail(
            "the response does not account for both parts (Annex I.1)",
            expected="2 items across ReferencedSOPSequence and FailedSOPSequence",
            actual=f"{len(stored)} referenced, {len(failed)} failed",
            response=response,
        )
    # Table 10.5.3-1: 200 only when all were stored; 202 when failures exist beside stored instances.
    expected_status = 202 if failed else 200
    expect_status(response, expected_status, f"store with {len(failed)} failed item(s)")


@pytest.mark.req("AZ-STOW-102")
def test_same_instance_twice_in_one_request_answers_202(dicomweb: Dicomweb, stow_instance: SampleInstance) -> None:
    """The same instance twice in one request answers 202."""
    expect_status(dicomweb.store([stow_instance, stow_instance]), 202, "store of the same instance twice")


@pytest.mark.req("DW-STOW-123")
def test_storing_again_keeps_the_instance(
    dicomweb: Dicomweb, client: DicomwebClient, stow_instance: SampleInstance
) -> None:
    """Storing a stored instance again answers 200 (listed stored) or 409 (listed failed); it stays intact."""
    first_store = dicomweb.store([stow_instance])
    check_successful_store(first_store, [stow_instance], "first store")
    response = dicomweb.store([stow_instance])
    dataset = store_response_dataset(response, f"{response.status_code} second store response")
    # Table 10.5.3-1: a repeated instance is either stored again (200) or a conflict (409); PS3.18 allows both.
    if response.status_code == 200:
        check_lists_exactly(response, referenced_items(dataset), [stow_instance], "ReferencedSOPSequence", "200")
        check_lists_exactly(response, failed_items(dataset), [], "FailedSOPSequence", "200")
    elif response.status_code == 409:
        check_lists_exactly(response, failed_items(dataset), [stow_instance], "FailedSOPSequence", "409")
        check_failed_item(response, failed_items(dataset)[0], stow_instance, "second store")
    else:
        raise fail("storing an instance again", expected="200 or 409", actual=status_line(response), response=response)
    expect_stored_intact(client, [stow_instance], first_store, "an instance stored twice")


@pytest.mark.req("DW-STOW-122")
def test_zero_parts_is_bad_request(dicomweb: Dicomweb, stow_instance: SampleInstance) -> None:
    """A multipart/related body with no part at all (only the close delimiter) answers 400."""
    expect_status(send(dicomweb, zero_parts(stow_instance)), 400, "store of zero parts")


@pytest.mark.req("AZ-STOW-103")
def test_zero_parts_answers_204(dicomweb: Dicomweb, stow_instance: SampleInstance) -> None:
    """A multipart/related body with no part at all answers 204 No Content."""
    expect_status(send(dicomweb, zero_parts(stow_instance)), 204, "store of zero parts")
