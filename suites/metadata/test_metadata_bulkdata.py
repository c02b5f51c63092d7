"""Bulk data in metadata. PS3.18 (standard profile): every OB, OW or UN attribute, top level, private or inside a
sequence item, is a BulkDataURI that answers the stored bytes or an InlineBinary that decodes to them. The Azure
DICOM service (azure profile) documents the opposite: those attributes are left out of metadata (reference 1.2).
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
import requests

from dicomweb_conformance.checks.common import fail
from dicomweb_conformance.checks.metadata import bulk_value, instance_metadata
from dicomweb_conformance.corpora.metadata import BULK_PATHS, COVERAGE, IMPLICIT_PRIVATE_KEYS, MetadataCorpus
from dicomweb_conformance.dicom.annex_f import stored_json
from dicomweb_conformance.dicom.dicomjson import element_at, show
from dicomweb_conformance.dicom.samples import SampleInstance
from dicomweb_conformance.transport.client import DicomwebClient

REFERENCES = ("BulkDataURI", "InlineBinary")


def stored_bulk(instance: SampleInstance, path: tuple[str | int, ...]) -> tuple[str, bytes]:
    """The VR and bytes of the bulk value at `path` in the stored dataset (pydicom gives it inline)."""
    element = element_at(stored_json(instance), path)
    if not isinstance(element, dict) or "InlineBinary" not in element:
        raise LookupError(f"{instance.name} was built without a bulk value at {path}")
    return str(element["vr"]), base64.b64decode(element["InlineBinary"])


def check_bulk_reference(element: Any, vr: str, what: str, response: requests.Response) -> dict[str, Any]:
    """Present with the stored VR and exactly one of BulkDataURI or InlineBinary, as a string, and no Value."""
    if not isinstance(element, dict):
        raise fail(
            f"{what} is missing from metadata", expected=f"the {vr} attribute", actual="absent", response=response
        )
    references = [name for name in REFERENCES if isinstance(element.get(name), str)]
    if element.get("vr") != vr or "Value" in element or len(references) != 1:
        raise fail(
            f"{what} is not given as bulk data (F.2.2, F.2.6, F.2.7)",
            expected=f'{{"vr": "{vr}", "BulkDataURI": "..."}} or {{"vr": "{vr}", "InlineBinary": "..."}}',
            actual=show(element)[:300],
            response=response,
        )
    return element


def check_same_bytes(found: bytes, expected: bytes, what: str, response: requests.Response) -> None:
    if found != expected:
        differs = next((i for i, (a, b) in enumerate(zip(found, expected, strict=False)) if a != b), None)
        raise fail(
            f"{what} is not the stored bytes (F.2.6, F.2.7)",
            expected=f"{len(expected)} bytes",
            actual=f"{len(found)} bytes" + (f", first difference at byte {differs}" if differs is not None else ""),
            response=response,
        )


@pytest.mark.req("DW-META-050")
@pytest.mark.parametrize("name", list(BULK_PATHS))
def test_bulk_attribute_is_a_reference_or_inline(
    client: DicomwebClient, metadata_corpus: MetadataCorpus, name: str
) -> None:
    """The bulk attribute is present with its stored VR and a BulkDataURI or an InlineBinary, never a Value."""
    instance = metadata_corpus[COVERAGE]
    vr, _ = stored_bulk(instance, BULK_PATHS[name])
    response, dataset = instance_metadata(client, instance)
    check_bulk_reference(element_at(dataset, BULK_PATHS[name]), vr, name, response)


@pytest.mark.req("DW-META-051")
@pytest.mark.parametrize("name", list(BULK_PATHS))
def test_bulk_value_is_the_stored_bytes(client: DicomwebClient, metadata_corpus: MetadataCorpus, name: str) -> None:
    """The bulk attribute's BulkDataURI answers (same origin only), or its InlineBinary holds, the stored bytes."""
    instance = metadata_corpus[COVERAGE]
    vr, expected = stored_bulk(instance, BULK_PATHS[name])
    response, dataset = instance_metadata(client, instance)
    element = check_bulk_reference(element_at(dataset, BULK_PATHS[name]), vr, name, response)
    found, answer = bulk_value(client, element, response.url, name)
    check_same_bytes(found, expected, f"the bulk value of {name}", answer or response)


@pytest.mark.req("DW-META-052")
@pytest.mark.parametrize("tag", list(IMPLICIT_PRIVATE_KEYS))
def test_implicit_private_element_is_un_with_its_bytes(
    client: DicomwebClient, implicit_private_instance: SampleInstance, tag: str
) -> None:
    """A private element stored in Implicit VR (no dictionary knows it) comes as UN holding the stored bytes."""
    _, expected = stored_bulk(implicit_private_instance, (tag,))
    response, dataset = instance_metadata(client, implicit_private_instance)
    what = f"private element ({tag[:4]},{tag[4:]})"
    element = check_bulk_reference(dataset.get(tag), "UN", what, response)
    found, answer = bulk_value(client, element, response.url, what)
    check_same_bytes(found, expected, what, answer or response)


@pytest.mark.req("AZ-META-001")
@pytest.mark.parametrize("name", list(BULK_PATHS))
def test_bulk_attribute_is_omitted(client: DicomwebClient, metadata_corpus: MetadataCorpus, name: str) -> None:
    """The bulk attribute (OB, OW or UN; top level, private, or in a sequence item) is left out of metadata."""
    instance = metadata_corpus[COVERAGE]
    stored_bulk(instance, BULK_PATHS[name])
    response, dataset = instance_metadata(client, instance)
    element = element_at(dataset, BULK_PATHS[name])
    if element is not None:
        raise fail(
            f"{name} is in metadata; the Azure DICOM service omits bulk VRs (reference 1.2)",
            expected="absent",
            actual=show(element)[:300],
            response=response,
        )


@pytest.mark.req("AZ-META-002")
def test_implicit_private_elements_are_omitted(
    client: DicomwebClient, implicit_private_instance: SampleInstance
) -> None:
    """The private elements of an Implicit VR instance, read as UN, are left out of metadata."""
    response, dataset = instance_metadata(client, implicit_private_instance)
    present = {tag: dataset[tag] for tag in IMPLICIT_PRIVATE_KEYS if tag in dataset}
    if present:
        raise fail(
            "implicit VR private elements (UN) are in metadata; the Azure DICOM service omits them (reference 1.2)",
            expected="absent",
            actual=show(present)[:300],
            response=response,
        )
