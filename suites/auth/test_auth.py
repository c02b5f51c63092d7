"""Authentication: a target that requires credentials refuses requests without them."""

from __future__ import annotations

import pytest

from dicomweb_conformance.checks.common import expect_status
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import DICOM_JSON


@pytest.mark.req("DW-AUTH-001")
def test_request_without_credentials_is_refused(client: DicomwebClient) -> None:
    """GET /studies without an Authorization header answers 401."""
    response = client.get("studies", accept=DICOM_JSON, params={"limit": "1"}, authenticate=False)
    expect_status(response, 401, "search without credentials")
