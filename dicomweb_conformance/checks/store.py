"""Checks on a STOW-RS response and on what it claims to have stored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import requests

from dicomweb_conformance.checks.common import (
    data_loss,
    dicom_json_array,
    expect_media_type,
    expect_status,
    fail,
    json_body,
    multipart_parts,
)
from dicomweb_conformance.dicom.dicomjson import first, values
from dicomweb_conformance.dicom.part10 import instance_difference
from dicomweb_conformance.dicom.samples import SampleInstance
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import DICOM_JSON, MULTIPART_DICOM_ANY_TS, instance_path


def store_response_dataset(response: requests.Response, what: str) -> dict[str, Any]:
    body = json_body(response, what)
    # PS3.18 10.5.3: the response payload is one Store Instances Response Module dataset.
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    if not isinstance(body, dict):
        raise fail(f"{what}: not a DICOM JSON dataset", expected="{...}", actual=str(body)[:200], response=response)
    return body


def check_successful_store(
    response: requests.Response, instances: Sequence[SampleInstance], what: str
) -> dict[str, Any]:
    """200, application/dicom+json, and ReferencedSOPSequence names exactly the stored instances."""
    expect_status(response, 200, what)
    expect_media_type(response, DICOM_JSON, what)
    dataset = store_response_dataset(response, what)
    check_referenced_sops(response, dataset, instances, what)
    failed = values(dataset, "FailedSOPSequence")
    if failed:
        raise fail(
            f"{what}: a 200 response lists failures", expected="no FailedSOPSequence", actual=failed, response=response
        )
    return dataset


def check_referenced_sops(
    response: requests.Response, dataset: dict[str, Any], instances: Sequence[SampleInstance], what: str
) -> list[dict[str, Any]]:
    items = values(dataset, "ReferencedSOPSequence")
    by_uid = {first(item, "ReferencedSOPInstanceUID"): item for item in items if isinstance(item, dict)}
    expected = {i.sop_instance_uid for i in instances}
    if set(by_uid) != expected or len(items) != len(expected):
        raise fail(
            f"{what}: ReferencedSOPSequence does not list exactly the stored instances (Annex I.1)",
            expected=sorted(expected),
            actual=sorted(str(uid) for uid in by_uid) if items else "no ReferencedSOPSequence",
            response=response,
        )
    for instance in instances:
        item = by_uid[instance.sop_instance_uid]
        if first(item, "ReferencedSOPClassUID") != instance.sop_class_uid:
            raise fail(
                f"{what}: wrong ReferencedSOPClassUID for {instance.name}",
                expected=instance.sop_class_uid,
                actual=first(item, "ReferencedSOPClassUID"),
                response=response,
            )
        url = first(item, "RetrieveURL")
        if not isinstance(url, str) or not url.rstrip("/").endswith(instance_path(instance)):
            raise fail(
                f"{what}: RetrieveURL of {instance.name} does not name the instance (Annex I.1 Table I.1-1)",
                expected=f".../{instance_path(instance)}",
                actual=url,
                response=response,
            )
    return items


def retrieve_instance_bytes(client: DicomwebClient, url_or_path: str, what: str) -> bytes:
    """GET one instance as multipart/related application/dicom with transfer-syntax=*; return its only part."""
    with client.streamed(url_or_path, accept=MULTIPART_DICOM_ANY_TS) as response:
        expect_status(response, 200, what)
        parts = list(multipart_parts(response, what))
    if len(parts) != 1:
        raise fail(
            f"{what}: an instance retrieve returned {len(parts)} parts",
            expected=1,
            actual=len(parts),
            response=response,
        )
    return parts[0].content


def check_retrievable(client: DicomwebClient, instances: Sequence[SampleInstance], what: str) -> None:
    """Trust no store response: every instance reported stored must come back unchanged (PS3.10 7.1: the
    dataset byte for byte, the identifying File Meta equal; the writer's own File Meta identity may differ)."""
    for instance in instances:
        path = instance_path(instance)
        with client.streamed(path, accept=MULTIPART_DICOM_ANY_TS) as response:
            if response.status_code == 404:
                raise data_loss(
                    f"{what}: {instance.name} was reported stored but the server does not have it",
                    expected="the instance (200)",
                    actual="404 Not Found",
                    response=response,
                )
        content = retrieve_instance_bytes(client, path, f"{what}: retrieve {instance.name}")
        difference = instance_difference(content, instance.data)
        if difference:
            raise data_loss(
                f"{what}: {instance.name} came back different from what was stored",
                expected="the stored instance (transfer-syntax=*)",
                actual=difference,
            )


def same_origin(url: str, base_url: str) -> bool:
    """Credentials go only to the target's own origin, never to a host a response names."""
    a, b = urlsplit(url), urlsplit(base_url)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


def check_metadata_lists(
    response: requests.Response, instances: Sequence[SampleInstance], what: str
) -> list[dict[str, Any]]:
    expect_status(response, 200, what)
    expect_media_type(response, DICOM_JSON, what)
    datasets = dicom_json_array(response, what)
    found = sorted(_identity(d) for d in datasets)
    expected = sorted((i.study_uid, i.series_uid, i.sop_instance_uid) for i in instances)
    if found != expected:
        raise fail(
            f"{what}: not exactly one dataset per instance, with its study and series",
            expected=expected,
            actual=found,
            response=response,
        )
    return datasets


def _identity(dataset: dict[str, Any]) -> tuple[str, str, str]:
    return (
        str(first(dataset, "StudyInstanceUID")),
        str(first(dataset, "SeriesInstanceUID")),
        str(first(dataset, "SOPInstanceUID")),
    )
