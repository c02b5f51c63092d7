"""The Store Instances Response Module (PS3.18 10.5.3, Annex I): items, RetrieveURLs, FailureReasons."""

from __future__ import annotations

import pytest

from dicomweb_conformance.checks.common import expect_status, fail, multipart_parts, status_line, untestable
from dicomweb_conformance.checks.store import (
    check_successful_store,
    retrieve_instance_bytes,
    same_origin,
    store_response_dataset,
)
from dicomweb_conformance.checks.stow import (
    AZURE_DOCUMENTED_REASONS,
    StoreExchange,
    check_failed_item,
    check_failure_reason_present,
    failed_items,
    in_table_i_2_2,
    referenced_items,
    send,
)
from dicomweb_conformance.corpora.stow_inputs import text_part
from dicomweb_conformance.dicom.dicomjson import first, shape_problems, values
from dicomweb_conformance.dicom.part10 import instance_difference
from dicomweb_conformance.dicom.samples import SampleInstance, synthetic_instance
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import MULTIPART_DICOM_ANY_TS, Dicomweb

RETRIEVE_URL = "00081190"
# Annex I.1 Table I.1-1 with the VRs of PS3.6: (0008,1150) UI, (0008,1155) UI, (0008,1190) UR.
REFERENCE_ITEM_VRS = {"00081150": "UI", "00081155": "UI", "00081190": "UR"}


def _instances_of_two_studies(run_id: str) -> list[SampleInstance]:
    """Three instances, two SOP classes, two studies: enough to see items mixed up."""
    first_study = synthetic_instance(run_id, name="study-a-single-frame")
    return [
        first_study,
        synthetic_instance(run_id, name="study-a-multi-frame", study_uid=first_study.study_uid, frames=2),
        synthetic_instance(run_id, name="study-b-colour", samples_per_pixel=3),
    ]


@pytest.mark.req("DW-STOW-100")
def test_reference_items_carry_the_instance_reference_and_retrieve_url(dicomweb: Dicomweb, run_id: str) -> None:
    """Each ReferencedSOPSequence item holds the SOP Class and Instance UIDs (UI) and a RetrieveURL (UR)."""
    instances = _instances_of_two_studies(run_id)
    response = dicomweb.store(instances)
    dataset = check_successful_store(response, instances, "store of three instances of two studies")
    for item in referenced_items(dataset):
        found = {tag: (item.get(tag) or {}).get("vr") for tag in REFERENCE_ITEM_VRS}
        if found != REFERENCE_ITEM_VRS:
            raise fail(
                "a ReferencedSOPSequence item lacks an attribute or has the wrong VR (Table I.1-1)",
                expected=REFERENCE_ITEM_VRS,
                actual=found,
                response=response,
            )


@pytest.mark.req("DW-STOW-101")
def test_every_reference_retrieve_url_retrieves_its_instance(
    dicomweb: Dicomweb, client: DicomwebClient, run_id: str
) -> None:
    """The RetrieveURL of every ReferencedSOPSequence item returns exactly that instance's bytes."""
    instances = _instances_of_two_studies(run_id)
    response = dicomweb.store(instances)
    check_successful_store(response, instances, "store of three instances of two studies")
    by_sop = {i.sop_instance_uid: i for i in instances}
    for item in referenced_items(store_response_dataset(response, "store response")):
        instance = by_sop[str(first(item, "ReferencedSOPInstanceUID"))]
        url = first(item, "RetrieveURL")
        if not url:
            untestable(f"the RetrieveURL of {instance.name} is empty (allowed: Type 2), nothing to dereference")
        if not same_origin(str(url), client.target.base_url):
            untestable(f"the RetrieveURL {url} is on another origin; credentials are not sent there")
        if instance_difference(
            retrieve_instance_bytes(client, str(url), f"GET the RetrieveURL of {instance.name}"), instance.data
        ):
            raise fail(
                f"the RetrieveURL of {instance.name} returns other bytes",
                expected=f"{instance.name}, {len(instance.data)} bytes",
                actual=f"GET {url} returned another instance",
                response=response,
            )


@pytest.mark.req("DW-STOW-102")
def test_store_to_studies_answers_a_top_level_retrieve_url(dicomweb: Dicomweb, stow_instance: SampleInstance) -> None:
    """A successful store to /studies holds the top-level RetrieveURL (0008,1190), Type 2."""
    response = dicomweb.store([stow_instance])
    dataset = check_successful_store(response, [stow_instance], "store to /studies")
    if RETRIEVE_URL not in dataset:
        raise fail(
            "the store response has no top-level RetrieveURL (Annex I.1 Table I.1-1, Type 2)",
            expected="(0008,1190) present, possibly empty",
            actual=sorted(dataset),
            response=response,
        )


@pytest.mark.req("DW-STOW-103")
def test_store_to_a_study_answers_its_retrieve_url(
    dicomweb: Dicomweb, client: DicomwebClient, stow_instance: SampleInstance
) -> None:
    """A store to /studies/{study} answers a top-level RetrieveURL ending in studies/{study} that retrieves it."""
    response = dicomweb.store([stow_instance], study=stow_instance.study_uid)
    dataset = check_successful_store(response, [stow_instance], "store to /studies/{study}")
    url = first(dataset, "RetrieveURL")
    expected_end = f"studies/{stow_instance.study_uid}"
    if not isinstance(url, str) or not url.rstrip("/").endswith(expected_end):
        raise fail(
            "the top-level RetrieveURL does not name the study (Annex I.1 Table I.1-1)",
            expected=f".../{expected_end}",
            actual=url if url is not None else "absent or empty",
            response=response,
        )
    if not same_origin(url, client.target.base_url):
        return  # named correctly; another origin is not fetched with our credentials
    with client.streamed(url, accept=MULTIPART_DICOM_ANY_TS) as study:
        expect_status(study, 200, "GET the study's RetrieveURL")
        contents = [part.content for part in multipart_parts(study, "study retrieve")]
    if len(contents) != 1 or instance_difference(contents[0], stow_instance.data):
        raise fail(
            "the study RetrieveURL does not return the stored instance",
            expected=f"1 part, {len(stow_instance.data)} bytes as stored",
            actual=f"{len(contents)} part(s) of {[len(c) for c in contents]} bytes",
            response=response,
        )


@pytest.mark.req("DW-STOW-104")
def test_refused_store_still_answers_the_top_level_retrieve_url(refused_store: StoreExchange) -> None:
    """A store that refuses every instance (409) still holds the top-level RetrieveURL, Type 2."""
    response = refused_store.response
    expect_status(response, 409, "store of instances of other studies to /studies/{study}")
    dataset = store_response_dataset(response, "409 store response")
    if RETRIEVE_URL not in dataset:
        raise fail(
            "the 409 store response has no top-level RetrieveURL (Annex I.1 Table I.1-1, Type 2)",
            expected="(0008,1190) present",
            actual=sorted(dataset),
            response=response,
        )


@pytest.mark.req("DW-STOW-105")
@pytest.mark.parametrize("outcome", ["all-stored", "partly-stored", "none-stored"])
def test_store_response_is_well_formed_dicom_json(
    dicomweb: Dicomweb,
    stow_instance: SampleInstance,
    partial_store: StoreExchange,
    refused_store: StoreExchange,
    outcome: str,
) -> None:
    """The store response is a DICOM JSON dataset (Annex F): uppercase tag keys in order, a vr each, Value arrays."""
    response = {
        "all-stored": lambda: dicomweb.store([stow_instance]),
        "partly-stored": lambda: partial_store.response,
        "none-stored": lambda: refused_store.response,
    }[outcome]()
    problems = shape_problems(store_response_dataset(response, f"store response ({outcome})"))
    if problems:
        raise fail(
            f"the store response ({outcome}) breaks the DICOM JSON model (Annex F)",
            expected="no problems",
            actual=problems[:5],
            response=response,
        )


@pytest.mark.req("DW-STOW-106")
def test_failed_items_name_the_instance_and_a_failure_reason(refused_store: StoreExchange) -> None:
    """Each FailedSOPSequence item of a refused store names its instance (class, instance UID) and a FailureReason."""
    response = refused_store.response
    items = failed_items(store_response_dataset(response, "store response"))
    by_sop = {str(first(item, "ReferencedSOPInstanceUID")): item for item in items}
    for instance in refused_store.refused:
        item = by_sop.get(instance.sop_instance_uid)
        if item is None:
            raise fail(
                f"{instance.name} is not in FailedSOPSequence (Annex I.1: required when an instance failed)",
                expected=instance.sop_instance_uid,
                actual=sorted(by_sop) or "no FailedSOPSequence item",
                response=response,
            )
        check_failed_item(response, item, instance, "refused store")


@pytest.mark.req("DW-STOW-107")
def test_failure_reasons_come_from_table_i_2_2(refused_store: StoreExchange, partial_store: StoreExchange) -> None:
    """Every FailureReason of a study-mismatch failure is a Table I.2-2 value (A7xx, A9xx, Cxxx, C122, 0110, 0122)."""
    for exchange in (refused_store, partial_store):
        for item in failed_items(store_response_dataset(exchange.response, "store response")):
            reason = check_failure_reason_present(exchange.response, item, "failed item")
            if not in_table_i_2_2(reason):
                raise fail(
                    "a FailureReason outside Table I.2-2 (Annex I.2.2)",
                    expected="A7xx, A9xx, Cxxx, C122, 0110 or 0122",
                    actual=f"{reason} (0x{reason:04X})",
                    response=exchange.response,
                )


@pytest.mark.req("AZ-STOW-105")
def test_failure_reasons_are_documented_azure_codes(refused_store: StoreExchange, partial_store: StoreExchange) -> None:
    """Every FailureReason is a Table I.2-2 value or one of Azure's documented 45070 / 45071."""
    for exchange in (refused_store, partial_store):
        for item in failed_items(store_response_dataset(exchange.response, "store response")):
            reason = check_failure_reason_present(exchange.response, item, "failed item")
            if not (in_table_i_2_2(reason) or reason in AZURE_DOCUMENTED_REASONS):
                raise fail(
                    "a FailureReason Azure does not document",
                    expected="Table I.2-2, 45070 or 45071",
                    actual=reason,
                    response=exchange.response,
                )


@pytest.mark.req("DW-STOW-108")
def test_a_part_that_is_not_dicom_is_refused(dicomweb: Dicomweb, stow_instance: SampleInstance) -> None:
    """A request whose only part holds text instead of DICOM answers 400 or 409: nothing could be stored."""
    response = send(dicomweb, text_part(stow_instance))
    # PS3.18 10.5.3 Table 10.5.3-1: 400 (unable to store any Instances due to bad syntax) or 409 (formed correctly,
    # unable to store any Instances). No FailedSOPSequence item is demanded: its items are SOP Instance Reference
    # Macros (Annex I.1 Table I.1-1, PS3.3 Table 10-11, UIDs Type 1) and a part that is not DICOM has no UIDs.
    if response.status_code not in (400, 409):
        raise fail(
            "a request whose only part is not DICOM was not refused",
            expected="400 or 409 (PS3.18 Table 10.5.3-1: no Instance stored)",
            actual=status_line(response),
            response=response,
        )


@pytest.mark.req("AZ-STOW-109")
def test_validation_failures_carry_an_error_comment(refused_store: StoreExchange) -> None:
    """A FailedSOPSequence item with FailureReason 43264 carries FailedAttributesSequence > ErrorComment."""
    response = refused_store.response
    items = failed_items(store_response_dataset(response, "store response"))
    validation = [item for item in items if first(item, "FailureReason") == 43264]
    if not validation:
        raise fail(
            "no validation failure (43264) to describe",
            expected="43264 items",
            actual=[first(i, "FailureReason") for i in items],
            response=response,
        )
    for item in validation:
        comments = [first(entry, "ErrorComment") for entry in values(item, "FailedAttributesSequence")]
        if not comments or not all(isinstance(comment, str) and comment for comment in comments):
            raise fail(
                "a 43264 failure has no FailedAttributesSequence item with an ErrorComment",
                expected="(0074,1048) > (0000,0902) ErrorComment",
                actual=item.get("00741048", "absent"),
                response=response,
            )
