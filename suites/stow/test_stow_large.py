"""Large STOW-RS bodies, and the two HTTP framings of a request body (PS3.18 10.5.1.3)."""

from __future__ import annotations

import pytest

from dicomweb_conformance.checks.common import untestable
from dicomweb_conformance.checks.store import check_successful_store
from dicomweb_conformance.checks.stow import expect_stored_intact, send
from dicomweb_conformance.corpora.stow_inputs import StowBody, large_instance, related
from dicomweb_conformance.dicom.samples import SampleInstance
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.multipart import choose_boundary, iter_encode_related, related_content_type
from dicomweb_conformance.transport.store import Dicomweb

LARGE_INSTANCE_BYTES = 30_000_000
MEDIUM_INSTANCE_BYTES = 2_000_000
CHUNK_BYTES = 64 * 1024


@pytest.fixture(scope="module")
def medium_instances(run_id: str) -> dict[str, SampleInstance]:
    """Two 2 MB instances, one per framing, built once."""
    return {
        framing: large_instance(run_id, MEDIUM_INSTANCE_BYTES, seed=seed)
        for seed, framing in enumerate(("length", "chunked"))
    }


@pytest.mark.req("DW-STOW-150")
def test_a_30_mb_instance_round_trips_byte_for_byte(dicomweb: Dicomweb, client: DicomwebClient, run_id: str) -> None:
    """A 30 MB instance is stored (200) and retrieved with transfer-syntax=* byte for byte."""
    instance = large_instance(run_id, LARGE_INSTANCE_BYTES)
    response = dicomweb.store([instance])
    check_successful_store(response, [instance], "store of a 30 MB instance")
    expect_stored_intact(client, [instance], response, "the 30 MB instance")


@pytest.mark.req("DW-STOW-151")
def test_a_body_with_content_length_is_stored(
    dicomweb: Dicomweb, client: DicomwebClient, medium_instances: dict[str, SampleInstance]
) -> None:
    """A 2 MB store body framed by an explicit Content-Length is stored byte for byte."""
    instance = medium_instances["length"]
    request = related([instance])
    response = send(dicomweb, request)
    if response.request.headers.get("Content-Length") != str(len(request.body)):
        untestable("the HTTP client did not frame the body with Content-Length")
    check_successful_store(response, [instance], "store framed by Content-Length")
    expect_stored_intact(client, [instance], response, "the instance sent with Content-Length")


@pytest.mark.req("DW-STOW-152")
def test_a_chunked_body_is_stored(
    dicomweb: Dicomweb, client: DicomwebClient, medium_instances: dict[str, SampleInstance]
) -> None:
    """A 2 MB store body sent with Transfer-Encoding: chunked (64 KiB chunks) is stored byte for byte."""
    instance = medium_instances["chunked"]
    boundary = choose_boundary()
    chunks = iter_encode_related([instance.data], boundary=boundary, chunk_size=CHUNK_BYTES)
    response = send(dicomweb, StowBody(b"", related_content_type(boundary), (instance,)), data=chunks)
    if response.request.headers.get("Transfer-Encoding") != "chunked":
        untestable("the HTTP client did not send the body chunked")
    check_successful_store(response, [instance], "chunked store")
    expect_stored_intact(client, [instance], response, "the instance sent chunked")
