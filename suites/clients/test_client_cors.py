"""Browser access: OHIF's and cornerstone's requests from the viewer's web origin (`[cors] origin` of the target), the
preflight a browser sends first where one is needed, and the answers, errors included, judged by the Fetch standard's
CORS rules (dicomweb_conformance/checks/cors.py). Without `[cors] origin` every check here is NOT-APPLICABLE.

The requests read the dicomweb-client profile's study (fixtures/client_fixtures.py); the STOW stores an instance of
its own, recorded in the ledger first.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from dicomweb_conformance.checks.clients import ClientStudy, build_client_study
from dicomweb_conformance.checks.common import ConformanceFailure, not_applicable
from dicomweb_conformance.checks.cors import (
    BrowserRequest,
    check_allow_headers,
    check_allow_method,
    check_allow_origin,
    check_ok_status,
    cornerstone_frame,
    multipart_body,
    ohif_missing_metadata,
    ohif_requests,
    preflight,
    send_actual,
)
from dicomweb_conformance.config.target import TargetConfig
from dicomweb_conformance.dicom.uids import new_uid
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import Dicomweb, instance_path, series_path

OHIF_REQUESTS = ("study-search", "series-metadata", "frame", "store")
# dicomweb-client 0.11.3 src/message.js multipartEncode draws a guid; one of that shape.
STOW_BOUNDARY = "a4e2b9c0-5d1f-4e7a-9b3c-2f6d8e0a1b7c"
IMAGE = "sc8_explicit"


def _ohif(client_study: ClientStudy, name: str) -> BrowserRequest:
    instance = client_study[IMAGE]
    return ohif_requests(client_study.study_uid, series_path(instance), instance_path(instance), STOW_BOUNDARY)[name]


def _preflighted(client: DicomwebClient, request: BrowserRequest, origin: str) -> requests.Response:
    assert request.needs_preflight, f"the model of {request.what} needs no preflight: a defect of the suite"
    return preflight(client, request, origin)


def _on_each_ohif_request(
    client_study: ClientStudy, target: TargetConfig, check: Callable[[BrowserRequest], None]
) -> None:
    """`check` on each OHIF request (the STOW where the target claims it); one failure naming every request that
    failed, with the first one's exchange (one check per requirement keeps the conformance page small)."""
    names = [name for name in OHIF_REQUESTS if name != "store" or target.has("stow")]
    failures: list[ConformanceFailure] = []
    for name in names:
        try:
            check(_ohif(client_study, name))
        except ConformanceFailure as failure:
            failures.append(failure)
    if failures:
        first = failures[0]
        raise ConformanceFailure(
            f"{len(failures)} of {len(names)} OHIF requests: {first.summary}",
            expected=first.expected,
            actual=[f"{failure.summary} (actual: {failure.actual})" for failure in failures],
            exchange=first.exchange,
        )


@pytest.mark.req("CL-OHIF-CORS-PREFLIGHT")
def test_ohif_preflight_answers_ok(
    cors_origin: str, client: DicomwebClient, client_study: ClientStudy, target: TargetConfig
) -> None:
    """The preflight of each OHIF request (study search, series metadata, frame, STOW) answers a 2xx and allows
    its method."""

    def check(request: BrowserRequest) -> None:
        response = _preflighted(client, request, cors_origin)
        check_ok_status(response, request, request.client)
        check_allow_method(response, request, request.client)

    _on_each_ohif_request(client_study, target, check)


@pytest.mark.req("CL-OHIF-CORS-ALLOW-ORIGIN")
def test_ohif_answers_are_shared_with_the_viewer(
    cors_origin: str,
    client: DicomwebClient,
    dicomweb: Dicomweb,
    client_study: ClientStudy,
    target: TargetConfig,
    run_id: str,
) -> None:
    """The preflight and the answer of each OHIF request carry Access-Control-Allow-Origin for the viewer's origin."""

    def check(request: BrowserRequest) -> None:
        response = _preflighted(client, request, cors_origin)
        check_allow_origin(response, cors_origin, f"the preflight of {request.what}", request.client)
        body = None
        if request.method == "POST":
            instances = list(build_client_study(run_id, [IMAGE]).instances.values())
            dicomweb.record(instances)
            body = multipart_body([i.data for i in instances], STOW_BOUNDARY)
        answer = send_actual(client, request, cors_origin, body)
        check_allow_origin(answer, cors_origin, f"the answer to {request.what}", request.client)

    _on_each_ohif_request(client_study, target, check)


@pytest.mark.req("CL-OHIF-CORS-ALLOW-AUTHORIZATION")
def test_ohif_authorization_allowed(
    cors_origin: str, client: DicomwebClient, client_study: ClientStudy, target: TargetConfig
) -> None:
    """The preflight of each OHIF request allows authorization in Access-Control-Allow-Headers (or `*`, which
    today's Chromium still accepts for it)."""

    def check(request: BrowserRequest) -> None:
        response = _preflighted(client, request, cors_origin)
        check_allow_headers(response, request, ["authorization"], request.client, wildcard_covers_authorization=True)

    _on_each_ohif_request(client_study, target, check)


@pytest.mark.req("CL-OHIF-CORS-AUTHORIZATION-NAMED")
def test_ohif_authorization_named(
    cors_origin: str, client: DicomwebClient, client_study: ClientStudy, target: TargetConfig
) -> None:
    """The preflight of each OHIF request names authorization in Access-Control-Allow-Headers (`*` never covers it
    under the Fetch standard)."""

    def check(request: BrowserRequest) -> None:
        response = _preflighted(client, request, cors_origin)
        check_allow_headers(response, request, ["authorization"], request.client)

    _on_each_ohif_request(client_study, target, check)


@pytest.mark.req("CL-OHIF-CORS-ALLOW-ACCEPT")
def test_ohif_frame_accept_allowed(
    cors_origin: str, client: DicomwebClient, client_study: ClientStudy, target: TargetConfig
) -> None:
    """The preflight of OHIF's frame request (its quoted Accept is not CORS-safelisted) covers accept."""
    request = _ohif(client_study, "frame")
    assert "accept" in request.unsafe_headers, "the model of OHIF's frame Accept is safelisted: a defect of the suite"
    response = _preflighted(client, request, cors_origin)
    check_allow_headers(response, request, ["accept"], request.client)


@pytest.mark.req("CL-OHIF-CORS-ALLOW-CONTENT-TYPE")
def test_ohif_stow_content_type_allowed(
    cors_origin: str, client: DicomwebClient, client_study: ClientStudy, target: TargetConfig
) -> None:
    """The preflight of OHIF's STOW covers content-type (multipart/related is not a CORS-safelisted type)."""
    if not target.has("stow"):
        not_applicable(f"{target.name} does not claim capability 'stow'")
    request = _ohif(client_study, "store")
    response = _preflighted(client, request, cors_origin)
    check_allow_headers(response, request, ["content-type"], request.client)


@pytest.mark.req("CL-OHIF-CORS-ERRORS")
def test_ohif_error_is_shared_with_the_viewer(cors_origin: str, client: DicomwebClient) -> None:
    """The 404 for the metadata of a study that is not there carries Access-Control-Allow-Origin."""
    request = ohif_missing_metadata(new_uid(), new_uid())
    answer = send_actual(client, request, cors_origin)
    check_allow_origin(answer, cors_origin, f"the answer to {request.what}", request.client)


@pytest.mark.req("CL-CS3D-CORS-FRAMES")
def test_cornerstone_frame_is_shared_with_the_viewer(
    cors_origin: str, client: DicomwebClient, client_study: ClientStudy
) -> None:
    """cornerstone's frame request needs no preflight, and its answer carries Access-Control-Allow-Origin."""
    request = cornerstone_frame(instance_path(client_study[IMAGE]))
    assert not request.needs_preflight, "the model of cornerstone's frame request needs a preflight: a suite defect"
    answer = send_actual(client, request, cors_origin)
    check_allow_origin(answer, cors_origin, f"the answer to {request.what}", request.client)


@pytest.mark.req("CL-CS3D-CORS-ERRORS")
def test_cornerstone_frame_error_is_shared_with_the_viewer(cors_origin: str, client: DicomwebClient) -> None:
    """The 404 for a frame of an instance that is not there carries Access-Control-Allow-Origin."""
    missing = f"studies/{new_uid()}/series/{new_uid()}/instances/{new_uid()}"
    request = cornerstone_frame(missing, "a frame of an instance that is not there")
    answer = send_actual(client, request, cors_origin)
    check_allow_origin(answer, cors_origin, f"the answer to {request.what}", request.client)
