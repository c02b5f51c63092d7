"""Checks on a QIDO-RS answer: status, media type, and exactly which entities came back."""

from __future__ import annotations

from collections.abc import Iterable

import requests

from dicomweb_conformance.checks.common import dicom_json_array, expect_media_type, expect_status, fail
from dicomweb_conformance.dicom.dicomjson import first
from dicomweb_conformance.transport.store import DICOM_JSON


def check_search_finds_exactly(response: requests.Response, keyword: str, expected: Iterable[str], what: str) -> None:
    """200 application/dicom+json whose results carry exactly the expected values of `keyword`."""
    expect_status(response, 200, what)
    expect_media_type(response, DICOM_JSON, what)
    results = dicom_json_array(response, what)
    found = sorted(str(first(result, keyword)) for result in results)
    wanted = sorted(set(expected))
    if found != wanted:
        raise fail(f"{what}: wrong results for {keyword}", expected=wanted, actual=found, response=response)
