"""Azure auth: the DICOM scope is asked for, and tokens are renewed before they expire."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests

from dicomweb_conformance.config.target import AZURE_DEFAULT_SCOPE
from dicomweb_conformance.transport.auth import AzureCredentialAuth
from dicomweb_conformance.transport.redaction import Redactor


@dataclass
class Token:
    token: str
    expires_on: int


@dataclass
class ShortLivedCredential:
    """Issues a new token for every call, each valid for `lifetime` seconds of the fake clock."""

    clock: list[float]
    lifetime: int = 600
    scopes_asked: list[tuple[str, ...]] = field(default_factory=list)

    def get_token(self, *scopes: str, **kwargs: Any) -> Token:
        self.scopes_asked.append(scopes)
        return Token(f"token-{len(self.scopes_asked)}", int(self.clock[0]) + self.lifetime)


def authorize(auth: AzureCredentialAuth) -> str:
    request = requests.Request("GET", "https://x/studies").prepare()
    return str(auth(request).headers["Authorization"])


def test_the_dicom_scope_is_requested() -> None:
    clock = [1000.0]
    credential = ShortLivedCredential(clock)
    auth = AzureCredentialAuth(credential, AZURE_DEFAULT_SCOPE, redactor=Redactor(), clock=lambda: clock[0])
    assert authorize(auth) == "Bearer token-1"
    assert credential.scopes_asked == [("https://dicom.healthcareapis.azure.com/.default",)]


def test_a_token_is_reused_until_it_nears_expiry_then_renewed() -> None:
    clock = [1000.0]
    credential = ShortLivedCredential(clock, lifetime=600)
    auth = AzureCredentialAuth(
        credential, AZURE_DEFAULT_SCOPE, redactor=Redactor(), clock=lambda: clock[0], refresh_margin=300
    )
    assert authorize(auth) == "Bearer token-1"
    clock[0] += 299  # 301 s left: still good
    assert authorize(auth) == "Bearer token-1"
    clock[0] += 2  # 299 s left: inside the margin
    assert authorize(auth) == "Bearer token-2"
    assert auth.tokens_fetched == 2


def test_every_issued_token_is_registered_for_redaction() -> None:
    clock = [0.0]
    redactor = Redactor()
    auth = AzureCredentialAuth(
        ShortLivedCredential(clock, lifetime=1), AZURE_DEFAULT_SCOPE, redactor=redactor, clock=lambda: clock[0]
    )
    authorize(auth)
    authorize(auth)
    assert "token-1" not in redactor.text("token-1 token-2")
    assert "token-2" not in redactor.text("token-1 token-2")
