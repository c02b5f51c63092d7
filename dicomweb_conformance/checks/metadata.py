"""The metadata checks' shared steps: reading metadata with exact numbers, and the dereferencing of bulk data.

What a metadata answer is compared with, and how, is the Annex F oracle (dicom/annex_f.py).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import urljoin

import requests
from pydicom.charset import convert_encodings
from pydicom.dataelem import RawDataElement, convert_raw_data_element
from pydicom.tag import Tag

from dicomweb_conformance.checks.common import expect_status, fail, multipart_parts, untestable
from dicomweb_conformance.checks.retrieve import OCTET_STREAM, octet_accept
from dicomweb_conformance.checks.store import check_metadata_lists, same_origin
from dicomweb_conformance.corpora.metadata import COVERAGE, MetadataCorpus
from dicomweb_conformance.dicom.annex_f import annex_f_form
from dicomweb_conformance.dicom.dicomjson import BULK_VRS, DatasetJson, attribute_name
from dicomweb_conformance.dicom.samples import SampleInstance
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.multipart import parse_media_type
from dicomweb_conformance.transport.store import DICOM_JSON, instance_path, series_path

# PS3.18 8.7.3.5, Table 8.7.3-3: bulk data in its stored (uncompressed) form, as a multipart/related answer.
BULK_ACCEPT = octet_accept()


def exact_json(response: requests.Response, what: str) -> Any:
    """The body with JSON numbers as Decimal, so a number is compared as written, never through a float."""
    try:
        return json.loads(response.content, parse_float=Decimal, parse_int=Decimal)
    except ValueError as error:
        raise fail(
            f"{what}: body is not JSON", expected="a JSON document", actual=str(error), response=response
        ) from None


def read_metadata(
    client: DicomwebClient, path: str, instances: Sequence[SampleInstance], what: str
) -> tuple[requests.Response, dict[str, DatasetJson]]:
    """GET a metadata resource: 200 application/dicom+json with one dataset per instance, by SOP Instance UID."""
    response = client.get(path, accept=DICOM_JSON)
    check_metadata_lists(response, instances, what)
    datasets = exact_json(response, what)
    return response, {str(dataset["00080018"]["Value"][0]): dataset for dataset in datasets}


def instance_metadata(client: DicomwebClient, instance: SampleInstance) -> tuple[requests.Response, DatasetJson]:
    path = f"{instance_path(instance)}/metadata"
    response, datasets = read_metadata(client, path, [instance], f"instance metadata of {instance.name}")
    return response, datasets[instance.sop_instance_uid]


def study_metadata(client: DicomwebClient, corpus: MetadataCorpus) -> tuple[requests.Response, dict[str, DatasetJson]]:
    return read_metadata(client, f"studies/{corpus.study_uid}/metadata", corpus.all, "study metadata")


def series_metadata(client: DicomwebClient, corpus: MetadataCorpus) -> tuple[requests.Response, dict[str, DatasetJson]]:
    path = f"{series_path(corpus[COVERAGE])}/metadata"
    return read_metadata(client, path, corpus.first_series, "series metadata")


# --- bulk data (F.2.6, F.2.7) ---------------------------------------------------------------------------------------


def bulk_value(
    client: DicomwebClient, element: dict[str, Any], base_url: str, what: str
) -> tuple[bytes, requests.Response | None]:
    """The bytes an attribute's InlineBinary holds or its BulkDataURI answers (same origin only), and that answer."""
    if isinstance(element.get("InlineBinary"), str):
        try:
            return base64.b64decode(element["InlineBinary"], validate=True), None
        except binascii.Error as error:
            raise fail(f"{what}: InlineBinary is not base64 (F.2.7)", expected="base64", actual=str(error)) from None
    uri = element.get("BulkDataURI")
    if not isinstance(uri, str):
        raise fail(f"{what}: neither InlineBinary nor a BulkDataURI string", expected="one of them", actual=element)
    target = urljoin(base_url, uri)
    if not same_origin(target, client.target.base_url):
        untestable(f"{what}: the BulkDataURI {target} is not on the target's origin; credentials go nowhere else")
    with client.streamed(target, accept=BULK_ACCEPT) as response:
        expect_status(response, 200, f"{what}: GET the BulkDataURI")
        parts = list(multipart_parts(response, f"{what}: GET the BulkDataURI"))
    kinds = [parse_media_type(part.content_type)[0] for part in parts if part.content_type]
    if len(parts) != 1 or any(kind != OCTET_STREAM for kind in kinds):
        raise fail(
            f"{what}: the BulkDataURI does not answer one application/octet-stream part (PS3.18 8.7.3.5)",
            expected=f"1 part, {OCTET_STREAM}",
            actual=f"{len(parts)} part(s): {[part.content_type for part in parts]}",
            response=response,
        )
    return parts[0].content, response


def resolve_bulk_values(
    client: DicomwebClient, dataset: DatasetJson, stored: SampleInstance, base_url: str
) -> DatasetJson:
    """A copy in which each BulkDataURI of a VR that F.2.2 lets carry one (DS, IS, LT, UT, ...) becomes its Value."""
    resolved: DatasetJson = {}
    for key, element in dataset.items():
        if isinstance(element, dict) and element.get("vr") not in BULK_VRS and "BulkDataURI" in element:
            raw, _ = bulk_value(client, element, base_url, f"{attribute_name(key)} ({key})")
            element = _decoded(key, str(element["vr"]), raw, stored)
        elif isinstance(element, dict) and element.get("vr") == "SQ" and isinstance(element.get("Value"), list):
            items = [
                resolve_bulk_values(client, i, stored, base_url) if isinstance(i, dict) else i for i in element["Value"]
            ]
            element = {**element, "Value": items}
        resolved[key] = element
    return resolved


def _decoded(key: str, vr: str, raw: bytes, stored: SampleInstance) -> dict[str, Any]:
    charset = stored.dataset.get("SpecificCharacterSet", "ISO_IR 6")
    encodings = convert_encodings([charset] if isinstance(charset, str) else list(charset))
    element = convert_raw_data_element(
        RawDataElement(Tag(int(key, 16)), vr, len(raw), raw, 0, False, True), encoding=encodings
    )
    converted: dict[str, Any] = annex_f_form({key: element.to_json_dict(None, 0)})[key]
    return converted
