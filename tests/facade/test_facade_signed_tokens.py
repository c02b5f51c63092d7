"""The azure auth method end to end: the test credential's signed, expiring tokens (reference section 3)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.doubles.facade.credential import ShortLivedTestCredential, factory
from tests.doubles.facade.server import AzureFacade, facade_over_fresh_orthanc
from tests.doubles.facade.tokens import DICOM_AUDIENCE, InvalidToken, audience_of_scope, mint, verify

SECRET = "signed-token-test-secret"
DICOM_SCOPE = "https://dicom.healthcareapis.azure.com/.default"


@pytest.fixture(scope="module")
def facade() -> Iterator[AzureFacade]:
    with facade_over_fresh_orthanc(token_secret=SECRET) as running:
        yield running


def _changefeed(facade: AzureFacade, token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.get(f"{facade.url()}/changefeed", headers=headers, timeout=30)


def test_the_scope_names_the_audience() -> None:
    assert audience_of_scope(DICOM_SCOPE) == DICOM_AUDIENCE
    assert audience_of_scope(DICOM_AUDIENCE) == DICOM_AUDIENCE


def test_a_minted_token_verifies_until_it_expires() -> None:
    token = mint(SECRET, DICOM_AUDIENCE, 1000)
    assert verify(token, SECRET, audience=DICOM_AUDIENCE, now=999).expires_on == 1000
    with pytest.raises(InvalidToken, match="expired"):
        verify(token, SECRET, audience=DICOM_AUDIENCE, now=1000)
    with pytest.raises(InvalidToken, match="signature"):
        verify(token, "another-secret", audience=DICOM_AUDIENCE, now=0)
    with pytest.raises(InvalidToken, match="audience"):
        verify(token, SECRET, audience="https://other.example", now=0)
    with pytest.raises(InvalidToken, match="signature"):
        verify("no-dot-at-all", SECRET, audience=DICOM_AUDIENCE, now=0)
    assert mint(SECRET, DICOM_AUDIENCE, 1000) != token, "every token is new"


def test_the_credential_issues_tokens_for_the_scope_and_logs_no_token(tmp_path: Path) -> None:
    log = tmp_path / "issued.jsonl"
    credential = ShortLivedTestCredential(SECRET, 302, log=log, clock=lambda: 5000.0)
    access = credential.get_token(DICOM_SCOPE)
    assert access.expires_on == 5302
    assert verify(access.token, SECRET, audience=DICOM_AUDIENCE, now=5301).audience == DICOM_AUDIENCE
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert records == [{"scopes": [DICOM_SCOPE], "issued_at": 5000.0, "expires_on": 5302}]
    assert access.token not in log.read_text()
    assert credential.issued == 1


def test_the_factory_reads_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FACADE_TOKEN_SECRET", SECRET)
    monkeypatch.setenv("FACADE_TOKEN_LIFETIME", "301")
    monkeypatch.setenv("FACADE_TOKEN_LOG", str(tmp_path / "log"))
    credential = factory()
    assert credential.lifetime == 301
    credential.get_token(DICOM_SCOPE)
    assert (tmp_path / "log").exists()
    monkeypatch.delenv("FACADE_TOKEN_SECRET")
    with pytest.raises(ValueError, match="FACADE_TOKEN_SECRET"):
        factory()


def test_a_credential_token_is_accepted_and_remembered(facade: AzureFacade) -> None:
    token = ShortLivedTestCredential(SECRET, 600).get_token(DICOM_SCOPE).token
    response = _changefeed(facade, token)
    assert response.status_code == 200
    assert token in facade.verifier.accepted  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("token", "description"),
    [
        (mint(SECRET, DICOM_AUDIENCE, 1), "The token expired at '1'"),
        (mint(SECRET, "https://management.azure.com", 2**40), "The audience 'https://management.azure.com' is invalid"),
        (mint("wrong-secret", DICOM_AUDIENCE, 2**40), "The signature is invalid"),
    ],
    ids=["expired", "other-audience", "other-secret"],
)
def test_a_bad_token_answers_401_invalid_token(facade: AzureFacade, token: str, description: str) -> None:
    response = _changefeed(facade, token)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == f'Bearer error="invalid_token", error_description="{description}"'
    assert token not in facade.verifier.accepted  # type: ignore[union-attr]


def test_no_token_answers_401_bearer(facade: AzureFacade) -> None:
    response = _changefeed(facade, None)
    assert (response.status_code, response.headers["WWW-Authenticate"]) == (401, "Bearer")


def test_tokens_and_a_secret_exclude_each_other() -> None:
    with pytest.raises(ValueError, match="not both"):
        AzureFacade("http://127.0.0.1:1", tokens={"t"}, token_secret=SECRET)
