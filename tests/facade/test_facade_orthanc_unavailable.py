"""The facade's own Orthanc calls: what reaches Orthanc, and a 503 when Orthanc fails under it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from dicomweb_conformance.launchers.orthanc_server import OrthancServer
from tests.doubles.facade.server import AzureFacade
from tests.faults.proxy import FaultProxy, Forward, ProxyRequest, ProxyResponse
from tests.faults.rules import ProxyRule, answer

from .helpers import DICOM_JSON, PATIENT_ID, make_instance, store


@pytest.fixture(scope="module")
def orthanc() -> Iterator[OrthancServer]:
    with OrthancServer() as running:
        yield running


@pytest.fixture
def proxy(orthanc: OrthancServer) -> Iterator[FaultProxy]:
    """Between the facade and its Orthanc."""
    with FaultProxy(orthanc.rest_url) as running:
        yield running


@pytest.fixture
def facade(proxy: FaultProxy) -> Iterator[AzureFacade]:
    with AzureFacade(proxy.url) as running:
        yield running


def test_a_failing_orthanc_call_answers_503(facade: AzureFacade, proxy: FaultProxy) -> None:
    proxy.switch([ProxyRule("lookup-fails", "Orthanc's lookup", "POST", "^/tools/lookup$", answer(500))])
    _, data = make_instance()
    response = store(facade.url(), data)
    assert response.status_code == 503, response.text
    assert proxy.hits["lookup-fails"] == 1


def test_an_orthanc_that_does_not_answer_gives_503(facade: AzureFacade, proxy: FaultProxy) -> None:
    proxy.stop()
    response = requests.get(f"{facade.url()}/studies", headers={"Accept": DICOM_JSON}, timeout=30)
    assert response.status_code == 503, response.text


def test_a_query_reaches_orthanc_as_the_client_sent_it_with_the_clients_accept(
    facade: AzureFacade, proxy: FaultProxy
) -> None:
    seen: list[ProxyRequest] = []

    def record(request: ProxyRequest, forward: Forward) -> ProxyResponse:
        seen.append(request)
        return forward(request)

    proxy.switch([ProxyRule("record", "nothing", "GET", "^/dicom-web/series$", record)])
    _, data = make_instance()
    assert store(facade.url(), data).status_code == 200
    # "^" and " " are not left bare in a URL (RFC 3986 2.1): the client's escapes go through as they are.
    url = f"{facade.url()}/series?PatientID={PATIENT_ID}&PatientName=Facade%5ETest&SeriesDescription=a%20b"
    response = requests.get(url, headers={"Accept": DICOM_JSON}, timeout=30)
    assert response.status_code == 204, response.text  # no series is described "a b"
    (request,) = seen
    assert request.query.startswith(f"PatientID={PATIENT_ID}&PatientName=Facade%5ETest&SeriesDescription=a%20b")
    assert request.headers["Accept"] == DICOM_JSON
    assert request.headers["Accept-Encoding"] == "identity"
