"""Bearer-token checks, answering as ASP.NET's JwtBearer handler does (reference section 3, "401").

Two verifiers: a fixed set of tokens (bearer auth), or tokens signed by the test credential
(tests/doubles/facade/credential.py) with an audience and an expiry (the suite's azure auth method).
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from tests.doubles.facade.messages import Response
from tests.doubles.facade.tokens import DICOM_AUDIENCE, InvalidToken, verify


class TokenVerifier(Protocol):
    def problem(self, token: str) -> str | None:
        """None when the token is accepted; otherwise why not (an error_description, or "" for none)."""
        ...


@dataclass(frozen=True)
class StaticTokens:
    tokens: frozenset[str]

    def problem(self, token: str) -> str | None:
        accepted = any(hmac.compare_digest(token.encode(), valid.encode()) for valid in self.tokens)
        return None if accepted else ""


class SignedTokens:
    """Tokens minted by the test credential with `secret` for the DICOM audience, not yet expired.

    `accepted` keeps every distinct token let through, so tests can count renewals and look for
    token text in reports.
    """

    def __init__(self, secret: str, *, audience: str = DICOM_AUDIENCE, clock: Callable[[], float] = time.time) -> None:
        if not secret:
            raise ValueError("signed tokens need a secret")
        self._secret = secret
        self._audience = audience
        self._clock = clock
        self._lock = threading.Lock()
        self._accepted: set[str] = set()

    @property
    def accepted(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._accepted)

    def problem(self, token: str) -> str | None:
        try:
            verify(token, self._secret, audience=self._audience, now=self._clock())
        except InvalidToken as error:
            return str(error)
        with self._lock:
            self._accepted.add(token)
        return None


def bearer_token(authorization: str | None) -> str | None:
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def check_bearer(authorization: str | None, verifier: TokenVerifier | None) -> Response | None:
    """None when the request may go on; otherwise the 401 to send (empty body, like JwtBearer)."""
    if verifier is None:
        return None
    token = bearer_token(authorization)
    if token is None:
        return Response(401, headers={"WWW-Authenticate": "Bearer"})
    problem = verifier.problem(token)
    if problem is None:
        return None
    # RFC 6750 3.1: invalid_token for an expired, revoked or malformed token.
    challenge = 'Bearer error="invalid_token"'
    if problem:
        challenge += f', error_description="{problem}"'
    return Response(401, headers={"WWW-Authenticate": challenge})
