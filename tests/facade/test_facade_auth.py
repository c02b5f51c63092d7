"""Bearer-token authentication in front of every route (reference 3, "401")."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.doubles.facade.server import AzureFacade, facade_over_fresh_orthanc

from .helpers import DICOM_JSON

TOKEN = "facade-test-token"


@pytest.fixture(scope="module")
def facade() -> Iterator[AzureFacade]:
    with facade_over_fresh_orthanc(tokens={TOKEN, "another-token"}) as running:
        yield running


@pytest.mark.parametrize("path", ["studies", "changefeed", "changefeed/latest", "nothing-here"])
def test_a_request_without_a_token_answers_401_bearer(facade: AzureFacade, path: str) -> None:
    response = requests.get(f"{facade.url()}/{path}", headers={"Accept": DICOM_JSON}, timeout=30)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_other_schemes_count_as_no_token(facade: AzureFacade) -> None:
    response = requests.get(f"{facade.url()}/changefeed", auth=("user", TOKEN), timeout=30)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_wrong_token_answers_401_invalid_token(facade: AzureFacade) -> None:
    response = requests.get(f"{facade.url()}/changefeed", headers={"Authorization": f"Bearer {TOKEN}x"}, timeout=30)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_a_valid_token_is_let_through(facade: AzureFacade) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": DICOM_JSON}
    assert requests.get(f"{facade.url()}/studies", headers=headers, timeout=30).status_code == 204
    assert requests.get(f"{facade.url('v1')}/changefeed", headers=headers, timeout=30).status_code == 200
