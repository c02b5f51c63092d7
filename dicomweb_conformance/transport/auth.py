"""How we prove who we are: none, bearer, basic, or azure (azure-identity)."""

from __future__ import annotations

import importlib
import threading
import time
from typing import Any, Protocol, cast

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from dicomweb_conformance.config.target import AuthConfig
from dicomweb_conformance.transport.redaction import REDACTOR, Redactor

# Refresh this long before expiry, so a request never leaves with a token that dies in flight.
REFRESH_MARGIN_SECONDS = 300.0


class AccessTokenLike(Protocol):
    token: str
    expires_on: int


class TokenCredential(Protocol):
    def get_token(self, *scopes: str, **kwargs: Any) -> AccessTokenLike: ...


class BearerAuth(AuthBase):
    def __init__(self, token: str, redactor: Redactor = REDACTOR):
        redactor.add_secret(token)
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


class AzureCredentialAuth(AuthBase):
    """Bearer tokens from an azure-identity credential for one scope, renewed before they expire."""

    def __init__(
        self,
        credential: TokenCredential,
        scope: str,
        *,
        redactor: Redactor = REDACTOR,
        clock: Any = time.time,
        refresh_margin: float = REFRESH_MARGIN_SECONDS,
    ):
        self._credential = credential
        self._scope = scope
        self._redactor = redactor
        self._clock = clock
        self._refresh_margin = refresh_margin
        self._token: AccessTokenLike | None = None
        self._lock = threading.Lock()
        self.tokens_fetched = 0

    def current_token(self) -> str:
        with self._lock:
            if self._token is None or self._token.expires_on - self._clock() <= self._refresh_margin:
                self._token = self._credential.get_token(self._scope)
                self.tokens_fetched += 1
                self._redactor.add_secret(self._token.token)
            return self._token.token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.current_token()}"
        return request


def azure_credential(factory: str | None) -> TokenCredential:
    """DefaultAzureCredential, or the credential a "module:callable" factory builds."""
    if factory:
        module_name, _, attribute = factory.partition(":")
        if not attribute:
            raise ValueError(f"credential factory {factory!r} must look like 'package.module:callable'")
        return cast(TokenCredential, getattr(importlib.import_module(module_name), attribute)())
    from azure.identity import DefaultAzureCredential

    return cast(TokenCredential, DefaultAzureCredential())


def build_auth(config: AuthConfig, *, credential: TokenCredential | None = None) -> AuthBase | None:
    if config.method == "none":
        return None
    if config.method == "bearer":
        assert config.token is not None  # resolve_target refuses bearer without a token
        return BearerAuth(config.token)
    if config.method == "basic":
        assert config.username is not None
        assert config.password is not None
        REDACTOR.add_secret(config.password)
        return HTTPBasicAuth(config.username, config.password)
    if config.method == "azure":
        return AzureCredentialAuth(credential or azure_credential(config.credential_factory), config.scope)
    raise ValueError(f"unknown auth method {config.method!r}")
