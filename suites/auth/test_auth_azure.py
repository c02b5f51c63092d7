"""Bearer authentication as the Azure DICOM service answers it (reference section 3).

No token, a token the server never issued, an expired token, or other credentials: 401 with a
Bearer challenge in WWW-Authenticate (RFC 6750 3, RFC 9110 15.5.2), and for a rejected token
error="invalid_token" (RFC 6750 3.1, a SHOULD: its own checks).
"""

from __future__ import annotations

import re

import pytest
import requests
from requests.auth import AuthBase, HTTPBasicAuth

from dicomweb_conformance.checks.azure import request_with_auth
from dicomweb_conformance.checks.common import expect_status, fail, not_applicable
from dicomweb_conformance.dicom.samples import synthetic_instance
from dicomweb_conformance.dicom.uids import new_uid
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.multipart import encode_related
from dicomweb_conformance.transport.store import DICOM_JSON, Dicomweb

# RFC 9110 11.1: the auth-scheme is case-insensitive; challenges are comma-separated (11.6.1).
_BEARER_CHALLENGE = re.compile(r"(?:^|,)\s*bearer(?=\s|,|$)", re.IGNORECASE)
# RFC 9110 11.2: an auth-param value is a token or a quoted-string.
_ERROR_PARAM = re.compile(r'(?:^|[\s,])error\s*=\s*(?:"([^"]*)"|([^\s,]+))', re.IGNORECASE)

# Each needs the capability named, so that the request is one the target serves when authenticated.
ENDPOINTS = {"search": "qido", "metadata": "wado", "store": "stow", "changefeed": "changefeed", "delete": "delete"}


def send(dicomweb: Dicomweb, run_id: str, endpoint: str, auth: AuthBase | None) -> requests.Response:
    """One request to `endpoint` with `auth` (None: no Authorization header at all)."""
    client = dicomweb.client
    capability = ENDPOINTS[endpoint]
    if not client.target.has(capability):
        not_applicable(f"{client.target.name} does not claim capability '{capability}'")
    if endpoint == "store":
        instance = synthetic_instance(run_id, name="auth-refused")
        # Recorded first: a server that lets it in stores it, and the run must remove it.
        dicomweb.record([instance])
        body, content_type = encode_related([instance.data])
        headers = {"Content-Type": content_type, "Accept": DICOM_JSON}
        return request_with_auth(client, "POST", "studies", auth, headers=headers, data=body)
    if endpoint == "delete":
        return request_with_auth(client, "DELETE", f"studies/{new_uid()}", auth)
    path = {"search": "studies", "metadata": f"studies/{new_uid()}/metadata", "changefeed": "changefeed"}[endpoint]
    return request_with_auth(client, "GET", path, auth, headers={"Accept": DICOM_JSON}, params={"limit": "1"})


def challenge_of(response: requests.Response, what: str) -> str:
    """401 with a Bearer challenge (RFC 6750 3; RFC 9110 15.5.2: a 401 MUST carry WWW-Authenticate)."""
    expect_status(response, 401, what)
    header = response.headers.get("WWW-Authenticate", "")
    if not _BEARER_CHALLENGE.search(header):
        raise fail(f"{what}: no Bearer challenge", expected="WWW-Authenticate: Bearer ...", actual=header or None)
    return header


def check_invalid_token_error(response: requests.Response, what: str) -> None:
    header = challenge_of(response, what)
    match = _ERROR_PARAM.search(header)
    found = (match.group(1) or match.group(2)) if match else None
    if found != "invalid_token":
        raise fail(f'{what}: the challenge does not say error="invalid_token"', expected="invalid_token", actual=header)


@pytest.mark.req("AZ-AUTH-001")
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_no_token_is_unauthorized_with_a_bearer_challenge(dicomweb: Dicomweb, run_id: str, endpoint: str) -> None:
    """A search, metadata, store, change-feed or delete request without a token answers 401 with a Bearer challenge."""
    challenge_of(send(dicomweb, run_id, endpoint, None), f"{endpoint} without a token")


@pytest.mark.req("AZ-AUTH-002")
@pytest.mark.parametrize("endpoint", ["search", "store"])
def test_a_foreign_token_is_unauthorized(
    dicomweb: Dicomweb, run_id: str, foreign_token_auth: AuthBase, endpoint: str
) -> None:
    """A search or store with a bearer token the server never issued answers 401 with a Bearer challenge."""
    challenge_of(send(dicomweb, run_id, endpoint, foreign_token_auth), f"{endpoint} with a foreign token")


@pytest.mark.req("AZ-AUTH-003")
def test_a_foreign_token_is_named_an_invalid_token(
    dicomweb: Dicomweb, run_id: str, foreign_token_auth: AuthBase
) -> None:
    """The 401 for a token the server never issued says error="invalid_token" in its Bearer challenge."""
    check_invalid_token_error(send(dicomweb, run_id, "search", foreign_token_auth), "search with a foreign token")


@pytest.mark.req("AZ-AUTH-004")
def test_an_expired_token_is_unauthorized(dicomweb: Dicomweb, run_id: str, expired_token_auth: AuthBase) -> None:
    """A search with an expired token of the target answers 401 with a Bearer challenge."""
    challenge_of(send(dicomweb, run_id, "search", expired_token_auth), "search with an expired token")


@pytest.mark.req("AZ-AUTH-005")
def test_an_expired_token_is_named_an_invalid_token(
    dicomweb: Dicomweb, run_id: str, expired_token_auth: AuthBase
) -> None:
    """The 401 for an expired token says error="invalid_token" in its Bearer challenge."""
    check_invalid_token_error(send(dicomweb, run_id, "search", expired_token_auth), "search with an expired token")


@pytest.mark.req("AZ-AUTH-006")
def test_other_credentials_are_unauthorized_with_a_bearer_challenge(dicomweb: Dicomweb, run_id: str) -> None:
    """A search with Basic credentials instead of a bearer token answers 401 with a Bearer challenge."""
    basic = HTTPBasicAuth("dicomweb-conformance", "not-a-bearer-token")
    challenge_of(send(dicomweb, run_id, "search", basic), "search with Basic credentials")


@pytest.mark.req("AZ-AUTH-007")
def test_the_runs_own_credentials_are_accepted(client: DicomwebClient) -> None:
    """A search with the run's own credentials (for the azure method: a token for the DICOM scope) is answered."""
    response = client.get("studies", accept=DICOM_JSON, params={"limit": "1"})
    # Azure answers 200 with matches and 204 without (reference 1.3); either way the token was accepted.
    if response.status_code not in (200, 204):
        raise fail(
            "a search with the run's credentials", expected="200 or 204", actual=response.status_code, response=response
        )
