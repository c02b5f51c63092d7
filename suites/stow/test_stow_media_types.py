"""STOW-RS request media types, part types, equivalent spellings, and the Accept header of a store."""

from __future__ import annotations

import pytest
import requests

from dicomweb_conformance.checks.common import expect_status, fail, status_line
from dicomweb_conformance.checks.store import check_successful_store
from dicomweb_conformance.checks.stow import (
    expect_absent,
    expect_kept,
    expect_stored_intact,
    send,
)
from dicomweb_conformance.corpora.stow_inputs import (
    BodyBuilder,
    extra_part_headers,
    form_data,
    mixed_case_media_types,
    multipart_mixed,
    part_labelled,
    plain_json,
    plain_text,
    preamble_and_epilogue,
    quoted_boundary,
    related,
    root_part_without_content_type,
    transport_padding,
    unquoted_type,
)
from dicomweb_conformance.dicom.samples import SampleInstance
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import Dicomweb


def check_stored_as_sent(
    client: DicomwebClient, response: requests.Response, instance: SampleInstance, what: str
) -> None:
    """A 2xx that did not keep the instance is data loss; then the answer must be a plain 200 listing it."""
    expect_kept(client, [instance], response, what)
    check_successful_store(response, [instance], what)
    expect_stored_intact(client, [instance], response, what)


UNSUPPORTED_REQUEST_TYPES = [
    pytest.param(form_data, id="multipart-form-data"),
    pytest.param(multipart_mixed, id="multipart-mixed"),
    pytest.param(plain_json, id="application-json"),
    pytest.param(plain_text, id="text-plain"),
]


@pytest.mark.req("DW-STOW-130")
@pytest.mark.parametrize("build", UNSUPPORTED_REQUEST_TYPES)
def test_unsupported_request_media_type_is_415(
    dicomweb: Dicomweb, client: DicomwebClient, stow_instance: SampleInstance, build: BodyBuilder
) -> None:
    """A store whose body is form-data, multipart/mixed, JSON or plain text answers 415, never a success dropping it."""
    request = build(stow_instance)
    response = send(dicomweb, request)
    expect_kept(client, [stow_instance], response, f"store as {request.content_type.split(';')[0]}")
    expect_status(response, 415, f"store as {request.content_type.split(';')[0]}")


UNSUPPORTED_PART_TYPES = [
    pytest.param("application/octet-stream", id="octet-stream"),
    pytest.param("text/plain", id="text-plain"),
]


@pytest.mark.req("DW-STOW-131")
@pytest.mark.parametrize("part_type", UNSUPPORTED_PART_TYPES)
def test_part_of_unsupported_type_is_refused_or_kept(
    dicomweb: Dicomweb, client: DicomwebClient, stow_instance: SampleInstance, part_type: str
) -> None:
    """A valid instance in a part labelled other than application/dicom: refused storing nothing, or kept intact."""
    response = send(dicomweb, part_labelled(part_type)(stow_instance))
    what = f"store of a part labelled {part_type}"
    # PS3.18 10.5.1.4 asks the user agent for representations consistent with the Content-Type; nothing tells the
    # origin server to refuse an inconsistent one. So a success is conformant when it is true (10.5.3 Table
    # 10.5.3-1: 200 = stored all Instances, 202 = stored some), and a refusal uses a failure code of that table:
    # 400 (bad syntax), 409 (formed correctly, unable to store any Instances) or 415 (unsupported media type).
    if 200 <= response.status_code < 300:
        expect_stored_intact(client, [stow_instance], response, what)
        return
    if response.status_code not in (400, 409, 415):
        raise fail(
            f"{what}: neither stored nor refused with a Table 10.5.3-1 failure code",
            expected="2xx with the instance stored intact, or 400, 409 or 415 storing nothing",
            actual=status_line(response),
            response=response,
        )
    expect_absent(client, stow_instance, what, response)


@pytest.mark.req("DW-STOW-132")
def test_root_part_without_content_type_takes_the_type_parameter(
    dicomweb: Dicomweb, client: DicomwebClient, stow_instance: SampleInstance
) -> None:
    """A part without Content-Type in a request with type="application/dicom" is stored as that type."""
    response = send(dicomweb, root_part_without_content_type(stow_instance))
    check_stored_as_sent(client, response, stow_instance, "store of a root part without Content-Type")


@pytest.mark.req("DW-STOW-133")
def test_part_with_a_transfer_syntax_parameter_is_stored(
    dicomweb: Dicomweb, client: DicomwebClient, stow_instance: SampleInstance
) -> None:
    """A part labelled application/dicom; transfer-syntax=1.2.840.10008.1.2.1 is stored."""
    labelled = part_labelled(f"application/dicom; transfer-syntax={stow_instance.transfer_syntax_uid}")
    response = send(dicomweb, labelled(stow_instance))
    check_stored_as_sent(client, response, stow_instance, "store of a part with a transfer-syntax parameter")


@pytest.mark.req("DW-STOW-134")
@pytest.mark.parametrize(
    "build",
    [
        pytest.param(unquoted_type, id="unquoted-type"),
        pytest.param(quoted_boundary, id="quoted-boundary"),
        pytest.param(mixed_case_media_types, id="mixed-case"),
    ],
)
def test_equivalent_content_type_spellings_are_stored(
    dicomweb: Dicomweb, client: DicomwebClient, stow_instance: SampleInstance, build: BodyBuilder
) -> None:
    """An unquoted type, a quoted boundary or mixed-case media types store like the canonical Content-Type."""
    request = build(stow_instance)
    check_stored_as_sent(client, send(dicomweb, request), stow_instance, f"store as {request.content_type!r}")


@pytest.mark.req("DW-STOW-135")
@pytest.mark.parametrize(
    "build",
    [
        pytest.param(preamble_and_epilogue, id="preamble-and-epilogue"),
        pytest.param(transport_padding, id="transport-padding"),
        pytest.param(extra_part_headers, id="extra-part-headers"),
    ],
)
def test_equivalent_multipart_framings_are_stored(
    dicomweb: Dicomweb, client: DicomwebClient, stow_instance: SampleInstance, build: BodyBuilder
) -> None:
    """A preamble and epilogue, whitespace after a boundary, or extra part headers store like the canonical body."""
    check_stored_as_sent(client, send(dicomweb, build(stow_instance)), stow_instance, f"store with {build.__name__}")


@pytest.mark.req("DW-STOW-136")
@pytest.mark.parametrize("accept", ["application/dicom", "application/data"])
def test_store_with_an_unacceptable_accept_is_406(
    dicomweb: Dicomweb, stow_instance: SampleInstance, accept: str
) -> None:
    """A store whose Accept names only application/dicom or application/data answers 406 Not Acceptable."""
    response = send(dicomweb, related([stow_instance]), accept=accept)
    expect_status(response, 406, f"store with Accept {accept}")


@pytest.mark.req("DW-STOW-137")
def test_store_without_accept_is_not_acceptable(dicomweb: Dicomweb, stow_instance: SampleInstance) -> None:
    """A store without Accept answers 406 Not Acceptable."""
    response = send(dicomweb, related([stow_instance]), accept=None)
    expect_status(response, 406, "store without Accept")


@pytest.mark.req("AZ-STOW-104")
def test_store_without_accept_is_406(dicomweb: Dicomweb, client: DicomwebClient, stow_instance: SampleInstance) -> None:
    """A store without Accept answers 406 and stores nothing."""
    response = send(dicomweb, related([stow_instance]), accept=None)
    expect_status(response, 406, "store without Accept")
    expect_absent(client, stow_instance, "an instance POSTed without Accept", response)


@pytest.mark.req("DW-STOW-138")
@pytest.mark.parametrize(
    "accept",
    [
        pytest.param("*/*", id="any"),
        pytest.param("application/*", id="application-range"),
        pytest.param("application/dicom;q=0.5, application/dicom+json;q=0.9", id="q-values"),
    ],
)
def test_store_with_an_accept_range_answers_dicom_json(
    dicomweb: Dicomweb, client: DicomwebClient, stow_instance: SampleInstance, accept: str
) -> None:
    """A store whose Accept includes application/dicom+json by a range or among others answers 200 dicom+json."""
    response = send(dicomweb, related([stow_instance]), accept=accept)
    check_stored_as_sent(client, response, stow_instance, f"store with Accept {accept!r}")
